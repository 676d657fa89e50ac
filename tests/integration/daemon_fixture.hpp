#pragma once

#include <cstdlib>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "common/paths.hpp"
#include "notify_socket.hpp"
#include "process.hpp"

namespace hermes::testing {

// The binaries under test: this build's, or another build's named by HERMES_TEST_GATEWAY_BIN
// and HERMES_TEST_CLI_BIN, so the same suites drive the ASan+UBSan daemon too (the test
// preset asan-daemon) without building the harness and suites a second time.
inline const char* binary_under_test(const char* variable, const char* built) {
  const char* chosen = std::getenv(variable);
  return chosen != nullptr && *chosen != '\0' ? chosen : built;
}
inline const char* const kGatewayBin =
    binary_under_test("HERMES_TEST_GATEWAY_BIN", HERMES_GATEWAY_BIN);
inline const char* const kCliBin = binary_under_test("HERMES_TEST_CLI_BIN", HERMES_CLI_BIN);

// The MCP server from npm the tool suites run (@modelcontextprotocol/server-everything).
inline const std::string kEverythingServer =
    std::string(HERMES_NODE_TESTS) +
    "/node_modules/@modelcontextprotocol/server-everything/dist/index.js";

// A home with a valid config on a free loopback port, and a private runtime dir.
// "w0 w1 … w<n-1>": an answer of n words, and the same text as stream tokens (" w1", …),
// for the fake provider's streamed replies.
inline std::string words(int n) {
  std::string text;
  for (int i = 0; i < n; ++i) text += (i ? " w" : "w") + std::to_string(i);
  return text;
}

inline nlohmann::json tokens_of(const std::string& text) {
  nlohmann::json tokens = nlohmann::json::array();
  std::size_t at = 0;
  while (at < text.size()) {
    const auto space = text.find(' ', at + 1);
    const auto end = space == std::string::npos ? text.size() : space;
    tokens.push_back(text.substr(at, end - at));
    at = end;
  }
  return tokens;
}

// Fake provider steps: a call of the everything server's echo tool ({"message": "plan"}),
// then `answer` once the tool's result (or its refusal) came back.
inline nlohmann::json echo_call_then(const std::string& answer) {
  nlohmann::json call = nlohmann::json::object();
  call["tool_calls"] = nlohmann::json::array(
      {{{"id", "a1"}, {"name", "mcp_everything_echo"}, {"arguments", R"({"message":"plan"})"}}});
  nlohmann::json reply = nlohmann::json::object();
  reply["content"] = answer;
  return nlohmann::json::array({call, reply});
}

struct GatewayHome {
  TempDir dir;
  int port = free_port();

  std::string config(const std::string& agent_extra = "") const {
    return "model: {provider: local, default: demo-model}\n"
           "providers: {local: {base_url: 'http://127.0.0.1:9/v1'}}\n"
           "agent:\n  restart_drain_timeout: 60\n  stop_drain_timeout: 10\n" +
           agent_extra + "gateway: {api_server: {host: 127.0.0.1, port: " + std::to_string(port) +
           "}}\n";
  }
  void write_config(const std::string& agent_extra = "") const {
    dir.write("config.yaml", config(agent_extra));
  }
  // config.yaml with one provider `primary` (model demo-model) at `base_url`, the API server on
  // this home's port, and `gateway_extra` (more YAML under `gateway:`).
  void write_provider_config(const std::string& base_url, const std::string& keys = "[k1]",
                             const std::string& gateway_extra = "") const {
    dir.write("config.yaml",
              "model: {provider: primary, default: demo-model}\n"
              "providers: {primary: {base_url: '" +
                  base_url + "', api_keys: " + keys +
                  "}}\n"
                  "gateway:\n  api_server: {host: 127.0.0.1, port: " +
                  std::to_string(port) + "}\n" + gateway_extra);
  }

  std::string home() const { return dir.path().string(); }
  std::string runtime() const { return (dir.path() / "run").string(); }

  ChildProcess::Options env(const std::string& notify_socket = "") const {
    ChildProcess::Options options;
    options.env = {{"HERMES_HOME", home()}, {"XDG_RUNTIME_DIR", runtime()}};
    if (!notify_socket.empty()) options.env["NOTIFY_SOCKET"] = notify_socket;
    options.unset_env = {"NOTIFY_SOCKET",  "LISTEN_FDS",    "LISTEN_PID",
                         "LISTEN_FDNAMES", "WATCHDOG_USEC", "WATCHDOG_PID"};
    if (!notify_socket.empty()) options.unset_env.erase(options.unset_env.begin());
    return options;
  }

  std::unique_ptr<ChildProcess> start(const ChildProcess::Options& options) const {
    return std::make_unique<ChildProcess>(kGatewayBin, std::vector<std::string>{}, options);
  }

  bool healthy() const { return http_get_status(port, "/health") == 200; }
  // The status socket of the daemon serving this home (run with XDG_RUNTIME_DIR=runtime()).
  std::filesystem::path status_socket() const {
    return std::filesystem::path(runtime()) / "hermes" /
           hermes::status_socket_path(dir.path()).filename();
  }
  // The daemon's runtime view (JSON), "" while nothing answers.
  std::string runtime_status() const { return unix_socket_request(status_socket(), ""); }
};

}  // namespace hermes::testing
