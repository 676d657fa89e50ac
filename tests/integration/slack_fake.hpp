#pragma once

#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "process.hpp"

namespace hermes::testing {

// tests/node/slack_fake.mjs (a strict fake of Slack's Web API and Socket Mode, checked against
// @slack/socket-mode and @slack/web-api in slack_fake.test.mjs), driven over /__control.
class FakeSlack {
 public:
  static constexpr const char* kBotToken = "xoxb-1111-2222-faketokenfortestsonly";
  static constexpr const char* kAppToken = "xapp-1-A111-2222-faketokenfortestsonly";
  static constexpr const char* kBotUser = "UBOT0001";
  static constexpr const char* kUser = "UUSER001";       // on allowed_users
  static constexpr const char* kStranger = "USTRANGER";  // not
  // With `cert` and `key` (PEM files) the gateway's side (Web API, Socket Mode, response URLs)
  // is https and wss on a second port, as https://localhost:N; the controls stay plain.
  explicit FakeSlack(int ack_window_ms = 3000, const std::string& cert = "",
                     const std::string& key = "");
  int port() const { return port_; }
  std::string api_base() const {
    return tls_port_ ? "https://localhost:" + std::to_string(tls_port_) + "/api"
                     : "http://127.0.0.1:" + std::to_string(port_) + "/api";
  }

  // POST /__control/<what>; the parsed answer (throws when the fake refuses).
  nlohmann::json control(const std::string& what,
                         const nlohmann::json& body = nlohmann::json::object());
  nlohmann::json state();
  // A user writes in `channel` (D…: a DM); the message's ts.
  std::string say(const std::string& channel, const std::string& text,
                  const nlohmann::json& extra = nlohmann::json::object());
  // The bot's messages in `channel` (updates applied), oldest first.
  std::vector<nlohmann::json> bot_messages(const std::string& channel);
  // Waits until a Socket Mode connection has said hello.
  bool wait_connected(std::chrono::milliseconds timeout);

 private:
  std::unique_ptr<ChildProcess> process_;
  int port_ = 0;
  int tls_port_ = 0;
};

}  // namespace hermes::testing
