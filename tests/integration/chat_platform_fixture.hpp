#pragma once

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "daemon_fixture.hpp"
#include "fake_provider.hpp"

namespace hermes::testing {

// A real daemon answering a chat platform's fake through the fake provider, started, restarted
// and stopped as a test needs: what the Discord and Slack suites share.
class ChatPlatformTest : public ::testing::Test {
 protected:
  // config.yaml: the fake provider, the API server, `platform_yaml` (the platform's lines under
  // gateway:) and `top` (more top-level YAML).
  void write_config(const std::string& platform_yaml, const std::string& top) {
    home_.dir.write("config.yaml",
                    "model: {provider: primary, default: demo-model}\n"
                    "providers: {primary: {base_url: '" +
                        fake_.base_url() +
                        "', api_keys: [sk-secret-k1]}}\n"
                        "agent: {api_max_retries: 1}\n"
                        "gateway:\n"
                        "  api_server: {host: 127.0.0.1, port: " +
                        std::to_string(home_.port) + "}\n" + platform_yaml + top);
  }
  void restart_daemon() {
    auto options = home_.env();
    for (const auto& [key, value] : hooks_) options.env[key] = value;
    daemon_ = home_.start(options);
    ASSERT_TRUE(wait_until([&] { return home_.healthy(); }, std::chrono::seconds(10)))
        << daemon_->stderr_text();
  }
  void stop() {
    daemon_->signal(SIGTERM);
    ASSERT_EQ(daemon_->wait(std::chrono::seconds(15)), 0) << daemon_->stderr_text();
  }
  // The platform's entry in `hermes gateway status --json`'s platforms.
  nlohmann::json platform_status(const std::string& name) {
    const auto status = nlohmann::json::parse(home_.runtime_status());
    for (const auto& p : status["platforms"]) {
      if (p["name"] == name) return p;
    }
    return nlohmann::json();
  }
  // For TearDown: no secret reached the log (a provider key, or `platform_secret`), then the
  // daemon stops cleanly.
  void check_log_and_stop(const std::string& platform_secret) {
    if (!daemon_ || !daemon_->running()) return;
    const auto log = daemon_->stderr_text();
    EXPECT_THAT(log, ::testing::Not(::testing::HasSubstr(platform_secret)))
        << "the platform's token reached the log";
    EXPECT_THAT(log, ::testing::Not(::testing::HasSubstr("sk-secret")))
        << "a provider key reached the log";
    stop();
  }

  FakeProvider fake_;
  GatewayHome home_;
  std::unique_ptr<ChildProcess> daemon_;
  std::map<std::string, std::string> hooks_;
};

}  // namespace hermes::testing
