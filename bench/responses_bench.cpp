// What a stored response costs per turn: the same one-message turn as chat completions, as a
// response kept nowhere (store: false), as a stored response, and as a stored response that
// continues a chain (its history read back from state.db each turn), measured side by side in
// one run, rounds interleaved. Usage: hermes_responses_bench [rounds] [chain length]
#include <signal.h>

#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>

#include "../tests/integration/daemon_fixture.hpp"
#include "../tests/integration/fake_provider.hpp"
#include "bench_util.hpp"

using namespace hermes::testing;
using namespace hermes::bench;
using namespace std::chrono;

namespace {

struct Timed {
  double ms;
  std::string id;
};

Timed post(int port, const std::string& path, const std::string& body) {
  const auto t0 = steady_clock::now();
  const auto reply = http_request(port, "POST", path, body);
  const double ms = duration<double, std::milli>(steady_clock::now() - t0).count();
  if (reply.status != 200) {
    std::cerr << path << " failed: " << reply.status << " " << reply.body << '\n';
    std::exit(1);
  }
  const auto parsed = nlohmann::json::parse(reply.body, nullptr, false);
  return {ms, parsed.is_object() ? parsed.value("id", std::string()) : std::string()};
}

void report(const char* what, std::vector<double> ms, double base_p50, double base_p99) {
  const double p50 = percentile(ms, 0.5), p99 = percentile(ms, 0.99);
  std::printf("%-40s p50 %6.3f ms  p99 %6.3f ms  (%+.3f / %+.3f vs store:false)\n", what, p50, p99,
              p50 - base_p50, p99 - base_p99);
}

}  // namespace

int main(int argc, char** argv) {
  const int rounds = argc > 1 ? std::atoi(argv[1]) : 500;
  const int chain_length = argc > 2 ? std::atoi(argv[2]) : 200;
  FakeProvider fake;
  GatewayHome home;
  home.write_provider_config(fake.base_url());
  auto daemon = home.start(home.env());
  if (!wait_until([&] { return home.healthy(); }, 10s)) {
    std::cerr << daemon->stderr_text();
    return 1;
  }
  const std::string chat = R"({"messages":[{"role":"user","content":"hello"}]})";
  const std::string unstored = R"({"input":"hello","store":false})";
  const std::string stored = R"({"input":"hello"})";
  std::vector<double> chat_ms, unstored_ms, stored_ms, chained_ms, deep_ms;
  std::string previous;
  // A chain grown to `chain_length` first, to measure continuing a long one.
  std::string deep;
  for (int i = 0; i < chain_length; ++i) {
    deep =
        post(home.port, "/v1/responses",
             deep.empty() ? stored : R"({"input":"hello","previous_response_id":")" + deep + "\"}")
            .id;
  }
  for (int i = 0; i < rounds; ++i) {
    chat_ms.push_back(post(home.port, "/v1/chat/completions", chat).ms);
    unstored_ms.push_back(post(home.port, "/v1/responses", unstored).ms);
    stored_ms.push_back(post(home.port, "/v1/responses", stored).ms);
    // A short chain, restarted every 10 turns: history of 0–9 responses.
    const auto next = post(home.port, "/v1/responses",
                           previous.empty() || i % 10 == 0
                               ? stored
                               : R"({"input":"hello","previous_response_id":")" + previous + "\"}");
    chained_ms.push_back(next.ms);
    previous = next.id;
    // Branches off the long chain's end, so its length stays `chain_length`.
    deep_ms.push_back(
        post(home.port, "/v1/responses",
             R"({"input":"hello","store":false,"previous_response_id":")" + deep + "\"}")
            .ms);
  }
  const double base50 = percentile(unstored_ms, 0.5), base99 = percentile(unstored_ms, 0.99);
  std::printf("rounds: %d, one client, keep-alive off; the fake provider answers at once\n",
              rounds);
  report("chat completion (stores a session)", chat_ms, base50, base99);
  report("response, store: false", unstored_ms, base50, base99);
  report("response, stored", stored_ms, base50, base99);
  report("response, stored, chain of 0-9 before", chained_ms, base50, base99);
  const std::string deep_label = "response continuing a chain of " + std::to_string(chain_length);
  report(deep_label.c_str(), deep_ms, base50, base99);
  std::printf("daemon RSS %ld KiB after %d stored responses\n", rss_kib(daemon->pid()),
              chain_length + 2 * rounds);
  daemon->signal(SIGTERM);
  return daemon->wait(10s) == 0 ? 0 : 1;
}
