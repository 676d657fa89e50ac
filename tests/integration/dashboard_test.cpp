// The dashboard (/ui) in a real browser: tests/node/dashboard.test.mjs drives Debian's Chromium
// with puppeteer-core against the real daemon and the fake provider.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "daemon_fixture.hpp"
#include "fake_provider.hpp"

namespace hermes::testing {
namespace {

using namespace std::chrono_literals;

TEST(Dashboard, AsksForTheKeyChartsSpendClearsCooldownsAndStopsARunInChromium) {
  ASSERT_TRUE(
      std::filesystem::exists(std::string(HERMES_NODE_TESTS) + "/node_modules/puppeteer-core"))
      << "run scripts/setup.sh (it installs the npm test peers)";
  ASSERT_TRUE(std::filesystem::exists(HERMES_CHROMIUM))
      << HERMES_CHROMIUM << " is missing: run scripts/setup.sh (it installs Debian's chromium)";
  FakeProvider fake;
  GatewayHome home;
  const std::string key = "dashboard-test-key";
  home.dir.write("config.yaml",
                 "model: {provider: primary, default: demo-model}\n"
                 "providers: {primary: {base_url: '" +
                     fake.base_url() +
                     "', api_keys: [k1, k2]}}\n"
                     "pricing: {demo-model: {input: 2.0, output: 10.0}}\n"
                     "tools: {builtin: []}\n"
                     "gateway:\n  api_server: {host: 127.0.0.1, port: " +
                     std::to_string(home.port) + ", key: " + key + "}\n");
  auto daemon = home.start(home.env());
  ASSERT_TRUE(wait_until([&] { return home.healthy(); }, 10s)) << daemon->stderr_text();

  // The test's output folder: the screenshot and the measurements stay there.
  const auto out = std::filesystem::path(HERMES_BINARY_DIR) / "test-output" / "dashboard";
  std::filesystem::create_directories(out);
  std::filesystem::remove(out / "dashboard.png");
  const auto r = run_process(
      HERMES_NODE,
      {"--test", "--test-reporter=spec", std::string(HERMES_NODE_TESTS) + "/dashboard.test.mjs"},
      {{"GATEWAY_URL", "http://127.0.0.1:" + std::to_string(home.port)},
       {"GATEWAY_KEY", key},
       {"FAKE_PROVIDER_URL", "http://127.0.0.1:" + std::to_string(fake.port())},
       {"CHROMIUM_PATH", HERMES_CHROMIUM},
       {"OUT_DIR", out.string()}});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err << "\ndaemon:\n" << daemon->stderr_text();
  EXPECT_THAT(r.out, ::testing::HasSubstr("pass 6"));
  EXPECT_GT(std::filesystem::file_size(out / "dashboard.png"), 10000u);

  std::ifstream results(out / "dashboard-results.json");
  const auto measured = nlohmann::json::parse(results, nullptr, false);
  ASSERT_TRUE(measured.is_object()) << r.out;
  for (const char* name : {"first_render_ms", "reload_render_ms", "page_bytes", "stop_ms"}) {
    ASSERT_TRUE(measured.contains(name)) << name;
    ::testing::Test::RecordProperty(name, std::to_string(measured[name].get<double>()));
  }
  EXPECT_THAT(daemon->stderr_text(), ::testing::Not(::testing::HasSubstr(key)))
      << "the key never reaches the log";
  EXPECT_TRUE(home.healthy());
  daemon->signal(SIGTERM);
  EXPECT_EQ(daemon->wait(10s), 0);
}

}  // namespace
}  // namespace hermes::testing
