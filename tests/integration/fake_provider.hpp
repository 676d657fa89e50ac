#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "process.hpp"

namespace hermes::testing {

// tests/fake_provider/fake_provider.mjs, run with Node: the one stand-in the tests own.
class FakeProvider {
 public:
  // `tls`: cert and key files to serve HTTPS with.
  explicit FakeProvider(const std::string& cert = "", const std::string& key = "");
  int port() const { return port_; }
  std::string base_url(const std::string& host = "127.0.0.1") const;
  // Queues replies for calls made with `key` ("*" for any key).
  void script(const std::string& key, const nlohmann::json& steps);
  nlohmann::json calls() const;
  std::vector<std::string> call_keys() const;  // the key used by each call, in order
  void reset();
  // Requests whose messages pass `chars` characters get OpenAI's context_length_exceeded;
  // echoed replies are cut to `echo_max` characters (0: whole).
  void limit_context(int chars, int echo_max = 0);

 private:
  std::unique_ptr<ChildProcess> process_;
  int port_ = 0;
  bool tls_ = false;
};

}  // namespace hermes::testing
