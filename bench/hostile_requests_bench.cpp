// How long one hostile request can hold the event loop: for each kind of request, a fresh
// daemon takes it (repeated) while another client polls /health; reported are the loop's
// longest lag (hermes_event_loop_lag_max_seconds), how many 25 ms probes were late by more than
// 5 ms, and the slowest /health answer. Build with the release preset for numbers.
// Usage: hermes_hostile_requests_bench [repeats]
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>
#include <thread>

#include "../tests/integration/daemon_fixture.hpp"
#include "../tests/integration/fake_provider.hpp"
#include "bench_util.hpp"

using namespace hermes::testing;
using namespace hermes::bench;
using namespace std::chrono;
using nlohmann::json;

namespace {

std::string messages_body(int count, const std::string& text) {
  std::string body = R"({"model":"demo-model","messages":[)";
  for (int i = 0; i < count; ++i) {
    if (i) body += ',';
    body += R"({"role":"user","content":")" + text + R"("})";
  }
  return body + "]}";
}

struct Phase {
  const char* name;
  std::function<int(int port)> request;  // one hostile request; returns its HTTP status
};

}  // namespace

int main(int argc, char** argv) {
  const int repeats = argc > 1 ? std::atoi(argv[1]) : 20;
  FakeProvider fake;
  const std::string tiny_34k = messages_body(34000, "x");  // ~1 MB, over the message cap
  const std::string max_1000 = messages_body(1000, std::string(900, 'y'));  // ~1 MB, allowed
  const std::string nested = std::string(500000, '[') + std::string(500000, ']');
  const std::string long_string =
      R"({"model":"demo-model","messages":[{"role":"user","content":")" +
      std::string(1000000, 'z') + R"("}]})";
  const std::vector<Phase> phases = {
      {"idle (baseline)", [](int) { return 200; }},
      {"34,000 tiny messages in 1 MB (refused: 400)",
       [&](int port) {
         return http_request(port, "POST", "/v1/chat/completions", tiny_34k).status;
       }},
      {"1,000 messages of 900 bytes (a stored turn)",
       [&](int port) {
         return http_request(port, "POST", "/v1/chat/completions", max_1000).status;
       }},
      {"1 MB of nested brackets (JSON bomb)",
       [&](int port) { return http_request(port, "POST", "/v1/chat/completions", nested).status; }},
      {"one 1 MB message",
       [&](int port) {
         return http_request(port, "POST", "/v1/chat/completions", long_string).status;
       }},
      {"1 MB body over the limit (413)",
       [&](int port) {
         return http_request(port, "POST", "/v1/chat/completions",
                             long_string + std::string(60000, ' '))
             .status;
       }},
  };

  std::printf("each request %d times, on a fresh daemon per row\n", repeats);
  std::printf("%-46s %8s %14s %12s %14s\n", "request", "status", "max loop lag", "lags >5 ms",
              "slowest /health");
  for (const auto& phase : phases) {
    GatewayHome home;
    home.write_provider_config(fake.base_url());
    auto daemon = home.start(home.env());
    if (!wait_until([&] { return home.healthy(); }, 10s)) {
      std::cerr << daemon->stderr_text();
      return 1;
    }
    std::atomic<bool> done{false};
    double slowest_health_ms = 0;
    std::thread prober([&] {
      while (!done) {
        const auto t0 = steady_clock::now();
        http_get_status(home.port, "/health");
        slowest_health_ms = std::max(
            slowest_health_ms, duration<double, std::milli>(steady_clock::now() - t0).count());
        std::this_thread::sleep_for(5ms);
      }
    });
    int status = 0;
    for (int i = 0; i < repeats; ++i) status = phase.request(home.port);
    if (phase.name[0] == 'i') std::this_thread::sleep_for(1s);
    done = true;
    prober.join();
    const auto metrics = http_request(home.port, "GET", "/metrics").body;
    const double max_lag = metric_value(metrics, "hermes_event_loop_lag_max_seconds").value_or(-1);
    const double count = metric_value(metrics, "hermes_event_loop_lag_seconds_count").value_or(-1);
    const double under_5ms =
        metric_value(metrics, "hermes_event_loop_lag_seconds_bucket{le=\"0.005\"}").value_or(-1);
    std::printf("%-46s %8d %11.2f ms %12.0f %11.2f ms\n", phase.name, status, max_lag * 1000,
                count - under_5ms, slowest_health_ms);
    daemon->signal(SIGTERM);
    daemon->wait(10s);
  }
  return 0;
}
