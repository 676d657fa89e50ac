#include "slack_fake.hpp"

#include <stdexcept>

namespace hermes::testing {

FakeSlack::FakeSlack(int ack_window_ms, const std::string& cert, const std::string& key) {
  port_ = free_port();
  std::vector<std::string> args{std::string(HERMES_NODE_TESTS) + "/slack_fake.mjs", "--port",
                                std::to_string(port_), "--ack-window",
                                std::to_string(ack_window_ms)};
  if (!cert.empty()) {
    tls_port_ = free_port();
    for (const auto& more : {"--cert", cert.c_str(), "--key", key.c_str(), "--tls-port"}) {
      args.emplace_back(more);
    }
    args.push_back(std::to_string(tls_port_));
  }
  process_ = std::make_unique<ChildProcess>(HERMES_NODE, args, ChildProcess::Options{});
  if (!wait_until([&] { return process_->stderr_text().find("listening") != std::string::npos; },
                  std::chrono::seconds(15))) {
    throw std::runtime_error("fake slack did not start: " + process_->stderr_text());
  }
}

nlohmann::json FakeSlack::control(const std::string& what, const nlohmann::json& body) {
  const auto r = http_request(port_, "POST", "/__control/" + what, body.dump());
  if (r.status != 200) {
    throw std::runtime_error("fake slack /__control/" + what + ": " + std::to_string(r.status) +
                             " " + r.body);
  }
  return nlohmann::json::parse(r.body);
}

nlohmann::json FakeSlack::state() {
  return control("state");
}

std::string FakeSlack::say(const std::string& channel, const std::string& text,
                           const nlohmann::json& extra) {
  nlohmann::json body = extra;
  body["channel"] = channel;
  body["text"] = text;
  if (!body.contains("user")) body["user"] = kUser;
  return control("message", body)["ts"];
}

std::vector<nlohmann::json> FakeSlack::bot_messages(const std::string& channel) {
  std::vector<nlohmann::json> out;
  const auto now = state();  // named: a temporary would die before the loop reads it
  for (const auto& m : now["messages"]) {
    if (m["channel"] == channel) out.push_back(m);
  }
  return out;
}

bool FakeSlack::wait_connected(std::chrono::milliseconds timeout) {
  return wait_until([&] { return state()["live"].get<int>() > 0; }, timeout);
}

}  // namespace hermes::testing
