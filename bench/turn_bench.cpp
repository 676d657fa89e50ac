// Added latency of the gateway over a direct call to the fake provider, measured side by side
// (alternating, same client code, one run), and the daemon's RSS with 1,000 stored sessions.
// Usage: hermes_turn_bench [requests]
#include <signal.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

#include "../tests/integration/daemon_fixture.hpp"
#include "../tests/integration/fake_provider.hpp"
#include "bench_util.hpp"

using namespace hermes::testing;
using namespace hermes::bench;
using namespace std::chrono;

int main(int argc, char** argv) {
  const int requests = argc > 1 ? std::atoi(argv[1]) : 1000;
  FakeProvider fake;
  GatewayHome home;
  home.write_provider_config(fake.base_url());
  auto daemon = home.start(home.env());
  if (!wait_until([&] { return home.healthy(); }, 10s)) {
    std::cerr << daemon->stderr_text();
    return 1;
  }
  const std::string body =
      R"({"model":"demo-model","messages":[{"role":"user","content":"hello"}]})";
  std::vector<double> direct_ms, gateway_ms;
  for (int i = 0; i < requests; ++i) {
    auto t0 = steady_clock::now();
    const auto d = http_request(fake.port(), "POST", "/v1/chat/completions", body,
                                {{"Authorization", "Bearer k1"}});
    direct_ms.push_back(duration<double, std::milli>(steady_clock::now() - t0).count());
    t0 = steady_clock::now();
    const auto g = http_request(home.port, "POST", "/v1/chat/completions", body);
    gateway_ms.push_back(duration<double, std::milli>(steady_clock::now() - t0).count());
    if (d.status != 200 || g.status != 200) {
      std::cerr << "request " << i << " failed: " << d.status << " " << g.status << g.body << '\n';
      return 1;
    }
  }
  // Every gateway request above stored a session; top up to 1,000 and measure.
  const long rss_before = rss_kib(daemon->pid());
  for (int i = requests; i < 1000; ++i)
    http_request(home.port, "POST", "/v1/chat/completions", body);
  const long rss_1000 = rss_kib(daemon->pid());

  std::printf("requests: %d each, alternating, one client, keep-alive off on both sides\n",
              requests);
  std::printf("direct to fake provider   p50 %.2f ms   p99 %.2f ms\n", percentile(direct_ms, 0.5),
              percentile(direct_ms, 0.99));
  std::printf("through the gateway       p50 %.2f ms   p99 %.2f ms\n", percentile(gateway_ms, 0.5),
              percentile(gateway_ms, 0.99));
  std::printf("added by the gateway      p50 %.2f ms   p99 %.2f ms\n",
              percentile(gateway_ms, 0.5) - percentile(direct_ms, 0.5),
              percentile(gateway_ms, 0.99) - percentile(direct_ms, 0.99));
  std::printf("daemon RSS                %ld KiB after %d sessions, %ld KiB with 1000 sessions\n",
              rss_before, requests, rss_1000);
  daemon->signal(SIGTERM);
  daemon->wait(10s);
  return 0;
}
