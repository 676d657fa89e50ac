#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "process.hpp"

namespace hermes::testing {

// tests/node/discord_fake.mjs (a strict fake of Discord's Gateway and REST API, checked
// against @discordjs/ws in discord_fake.test.mjs), driven over its /__control routes.
class FakeDiscord {
 public:
  static constexpr const char* kToken =
      "MTEwMDAwMDAwMDAwMDAwMDAwMQ.fake.discord-token-for-tests-only";
  static constexpr const char* kBotId = "1100000000000000001";
  static constexpr const char* kUser = "1234567890123456789";      // on allowed_users
  static constexpr const char* kStranger = "1999999999999999999";  // not
  explicit FakeDiscord(int heartbeat_ms = 1000);
  int port() const { return port_; }
  std::string api_base() const { return "http://127.0.0.1:" + std::to_string(port_) + "/api/v10"; }

  // POST /__control/<what>; the parsed answer (throws when the fake refuses).
  nlohmann::json control(const std::string& what,
                         const nlohmann::json& body = nlohmann::json::object());
  nlohmann::json state();
  // A user writes in `channel` (a DM unless `guild` is set); the message's id.
  std::string say(const std::string& channel, const std::string& content,
                  const nlohmann::json& extra = nlohmann::json::object());
  // The bot's messages in `channel` (edits applied), oldest first.
  std::vector<nlohmann::json> bot_messages(const std::string& channel);
  // Waits until the Gateway session is up (READY or RESUMED sent to a live connection).
  bool wait_connected(std::chrono::milliseconds timeout);

 private:
  std::unique_ptr<ChildProcess> process_;
  int port_ = 0;
};

}  // namespace hermes::testing
