#include "fake_provider.hpp"

#include <stdexcept>

namespace hermes::testing {

FakeProvider::FakeProvider(const std::string& cert, const std::string& key) : tls_(!cert.empty()) {
  std::vector<std::string> args{HERMES_FAKE_PROVIDER};
  if (tls_) args.insert(args.end(), {"--tls", cert, key});
  process_ = std::make_unique<ChildProcess>(HERMES_NODE, args, ChildProcess::Options{});
  const bool up =
      wait_until([&] { return process_->stderr_text().find("listening ") != std::string::npos; },
                 std::chrono::seconds(15));
  if (!up) throw std::runtime_error("fake provider did not start: " + process_->stderr_text());
  const auto text = process_->stderr_text();
  port_ = std::atoi(text.c_str() + text.find("listening ") + 10);
}

std::string FakeProvider::base_url(const std::string& host) const {
  return std::string(tls_ ? "https://" : "http://") + host + ":" + std::to_string(port_) + "/v1";
}

// The control endpoints are plain HTTP unless the provider serves TLS; TLS fakes are only
// scripted through their default behaviour.
void FakeProvider::script(const std::string& key, const nlohmann::json& steps) {
  const auto r = http_request(port_, "POST", "/__script",
                              nlohmann::json{{"key", key}, {"steps", steps}}.dump());
  if (r.status != 200) throw std::runtime_error("scripting the fake provider failed");
}

void FakeProvider::limit_context(int chars, int echo_max) {
  const auto r = http_request(port_, "POST", "/__limits",
                              nlohmann::json{{"max_chars", chars}, {"echo_max", echo_max}}.dump());
  if (r.status != 200) throw std::runtime_error("limiting the fake provider failed");
}

nlohmann::json FakeProvider::calls() const {
  const auto r = http_request(port_, "GET", "/__calls");
  return nlohmann::json::parse(r.body, nullptr, false);
}

std::vector<std::string> FakeProvider::call_keys() const {
  std::vector<std::string> keys;
  for (const auto& call : calls()) keys.push_back(call.value("key", ""));
  return keys;
}

void FakeProvider::reset() {
  http_request(port_, "POST", "/__reset", "{}");
}

}  // namespace hermes::testing
