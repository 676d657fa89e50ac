// What the agent loop costs the gateway, side by side in one run:
//   - per tool round, the gateway's own time: a turn with one round (model asks for the
//     server-everything `echo` tool, then answers) minus its two provider calls (the same
//     requests sent straight to the fake provider, alternating) minus the tool call itself
//     (hermes_tool_call_duration_seconds); median and p99;
//   - exec → READY=1 with two stdio MCP servers configured (server-everything and
//     server-filesystem), against none;
//   - RSS of the gateway with them running, and of the servers.
// Usage: hermes_tool_loop_bench [turns]
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "../tests/integration/daemon_fixture.hpp"
#include "../tests/integration/fake_provider.hpp"
#include "../tests/integration/notify_socket.hpp"
#include "bench_util.hpp"

using namespace hermes::testing;
using namespace hermes::bench;
using namespace std::chrono;
using nlohmann::json;

namespace {

const std::string kModules =
    std::string(HERMES_NODE_TESTS) + "/node_modules/@modelcontextprotocol/";

std::string servers_yaml(const std::string& folder) {
  return "mcp_servers:\n  everything:\n    command: " + std::string(HERMES_NODE) +
         "\n    args: ['" + kModules +
         "server-everything/dist/index.js']\n  files:\n    command: " + HERMES_NODE +
         "\n    args: ['" + kModules + "server-filesystem/dist/index.js', '" + folder + "']\n";
}

double metric(int port, const std::string& series) {
  return read_metric(port, series).value_or(0);
}

// exec → READY=1, milliseconds (median of `starts`), each start on a fresh home and port: the
// notify socket is handed the listener (FDSTORE=1), as systemd would keep it.
double ready_ms(const std::string& config, int starts) {
  std::vector<double> samples;
  for (int i = 0; i < starts; ++i) {
    GatewayHome home;
    home.dir.write("config.yaml", config + "gateway: {api_server: {host: 127.0.0.1, port: " +
                                      std::to_string(home.port) + "}}\n");
    NotifySocket notify(home.dir.path() / "notify.sock");
    const auto t0 = steady_clock::now();
    auto daemon = home.start(home.env(notify.path().string()));
    if (!notify.receive_containing("READY=1", 60s)) {
      std::cerr << "no READY: " << daemon->stderr_text();
      return -1;
    }
    samples.push_back(duration<double, std::milli>(steady_clock::now() - t0).count());
    daemon->signal(SIGTERM);
    if (daemon->wait(20s) != 0) {
      std::cerr << "the gateway did not stop cleanly: " << daemon->stderr_text();
      return -1;
    }
  }
  return median(samples);
}

}  // namespace

int main(int argc, char** argv) {
  const int turns = argc > 1 ? std::atoi(argv[1]) : 200;
  FakeProvider fake;
  TempDir folder;
  GatewayHome home;
  const std::string base =
      "model: {provider: primary, default: demo-model}\n"
      "providers: {primary: {base_url: '" +
      fake.base_url() + "', api_keys: [k1]}}\n";
  const double ready_none = ready_ms(base, 5);
  const double ready_two = ready_ms(base + servers_yaml(folder.path().string()), 5);
  home.dir.write("config.yaml", base + servers_yaml(folder.path().string()) +
                                    "gateway: {api_server: {host: 127.0.0.1, port: " +
                                    std::to_string(home.port) + "}}\n");
  auto daemon = home.start(home.env());
  if (!wait_until([&] { return home.healthy(); }, 60s)) {
    std::cerr << daemon->stderr_text();
    return 1;
  }
  const std::string question =
      R"({"model":"demo-model","messages":[{"role":"user","content":"echo it"}]})";
  const json ask = {
      {"tool_calls",
       {{{"id", "c1"}, {"name", "mcp_everything_echo"}, {"arguments", R"({"message":"hi"})"}}}}};
  const json answer = {{"content", "done"}};
  // The provider's side of one round, sent straight to it: the same two requests' shapes.
  const std::string direct_ask = question;
  std::vector<double> overhead_ms, turn_ms, direct_ms, tool_ms;
  for (int i = 0; i < turns; ++i) {
    fake.script("k1", json::array({ask, answer}));
    auto t0 = steady_clock::now();
    const auto d1 = http_request(fake.port(), "POST", "/v1/chat/completions", direct_ask,
                                 {{"Authorization", "Bearer k1"}});
    const auto d2 = http_request(fake.port(), "POST", "/v1/chat/completions", direct_ask,
                                 {{"Authorization", "Bearer k1"}});
    const double direct = duration<double, std::milli>(steady_clock::now() - t0).count();
    fake.script("k1", json::array({ask, answer}));
    const double tool_before =
        metric(home.port, "hermes_tool_call_duration_seconds_sum{server=\"everything\"}");
    t0 = steady_clock::now();
    const auto r = http_request(home.port, "POST", "/v1/chat/completions", question);
    const double turn = duration<double, std::milli>(steady_clock::now() - t0).count();
    const double tool =
        (metric(home.port, "hermes_tool_call_duration_seconds_sum{server=\"everything\"}") -
         tool_before) *
        1000;
    if (r.status != 200 || d1.status != 200 || d2.status != 200) {
      std::cerr << "turn " << i << " failed: " << r.status << " " << r.body << '\n';
      return 1;
    }
    direct_ms.push_back(direct);
    turn_ms.push_back(turn);
    tool_ms.push_back(tool);
    overhead_ms.push_back(turn - direct - tool);
  }
  long servers_rss = 0;
  for (const int pid : child_pids(daemon->pid())) servers_rss += rss_kib(pid);
  std::printf("turns with one tool round: %d, one client, alternating with direct calls\n", turns);
  std::printf("turn through the gateway     p50 %.2f ms   p99 %.2f ms\n", percentile(turn_ms, 0.5),
              percentile(turn_ms, 0.99));
  std::printf("two provider calls direct    p50 %.2f ms   p99 %.2f ms\n",
              percentile(direct_ms, 0.5), percentile(direct_ms, 0.99));
  std::printf("the tool call (echo, stdio)  p50 %.2f ms   p99 %.2f ms\n", percentile(tool_ms, 0.5),
              percentile(tool_ms, 0.99));
  std::printf("gateway per tool round       p50 %.2f ms   p99 %.2f ms\n",
              percentile(overhead_ms, 0.5), percentile(overhead_ms, 0.99));
  std::printf("exec -> READY=1              %.1f ms without MCP servers, %.1f ms with two\n",
              ready_none, ready_two);
  std::printf("RSS                          gateway %ld KiB, its two servers %ld KiB\n",
              rss_kib(daemon->pid()), servers_rss);
  daemon->signal(SIGTERM);
  daemon->wait(20s);
  return 0;
}
