#include "discord_fake.hpp"

#include <stdexcept>

namespace hermes::testing {

FakeDiscord::FakeDiscord(int heartbeat_ms) {
  port_ = free_port();
  process_ = std::make_unique<ChildProcess>(
      HERMES_NODE,
      std::vector<std::string>{std::string(HERMES_NODE_TESTS) + "/discord_fake.mjs", "--port",
                               std::to_string(port_), "--heartbeat", std::to_string(heartbeat_ms)},
      ChildProcess::Options{});
  if (!wait_until([&] { return process_->stderr_text().find("listening") != std::string::npos; },
                  std::chrono::seconds(15))) {
    throw std::runtime_error("fake discord did not start: " + process_->stderr_text());
  }
}

nlohmann::json FakeDiscord::control(const std::string& what, const nlohmann::json& body) {
  const auto r = http_request(port_, "POST", "/__control/" + what, body.dump());
  if (r.status != 200) {
    throw std::runtime_error("fake discord /__control/" + what + ": " + std::to_string(r.status) +
                             " " + r.body);
  }
  return nlohmann::json::parse(r.body);
}

nlohmann::json FakeDiscord::state() {
  return control("state");
}

std::string FakeDiscord::say(const std::string& channel, const std::string& content,
                             const nlohmann::json& extra) {
  nlohmann::json body = extra;
  body["channel_id"] = channel;
  body["content"] = content;
  if (!body.contains("author_id")) body["author_id"] = kUser;
  return control("message", body)["id"];
}

std::vector<nlohmann::json> FakeDiscord::bot_messages(const std::string& channel) {
  std::vector<nlohmann::json> out;
  const auto now = state();  // named: a temporary would die before the loop reads it
  for (const auto& m : now["messages"]) {
    if (m["channel_id"] == channel) out.push_back(m);
  }
  return out;
}

bool FakeDiscord::wait_connected(std::chrono::milliseconds timeout) {
  return wait_until([&] { return state()["live"] == true; }, timeout);
}

}  // namespace hermes::testing
