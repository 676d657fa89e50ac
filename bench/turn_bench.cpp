// Added latency of the gateway over a direct call to the fake provider, measured side by side
// (alternating, same client code, one run), the daemon's RSS with 1,000 stored sessions, what
// the token estimate and the usage write cost per turn (in process), and a 200-turn
// conversation's request sizes over time on a small context window.
// Usage: hermes_turn_bench [requests]
#include <signal.h>

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

#include "../tests/integration/daemon_fixture.hpp"
#include "../tests/integration/fake_provider.hpp"
#include "bench_util.hpp"
#include "daemon/agent/context_window.hpp"
#include "daemon/metrics/metrics.hpp"
#include "daemon/state/migrations.hpp"
#include "daemon/state/sqlite_connection.hpp"
#include "daemon/state/store_worker.hpp"
#include "daemon/usage/usage_ledger.hpp"

using namespace hermes::testing;
using namespace hermes::bench;
using namespace std::chrono;

namespace {

// The per-turn cost of the token estimate (a 40-message history) and of recording one call's
// usage: the loop's part (pricing, counters, queueing) and the whole, to its commit.
void measure_turn_bookkeeping() {
  using hermes::providers::ChatMessage;
  std::vector<ChatMessage> history;
  for (int i = 0; i < 40; ++i) {
    history.emplace_back(i % 2 ? "assistant" : "user", std::string(400, 'x'));
  }
  constexpr int kRounds = 20000;
  long sink = 0;
  auto t0 = steady_clock::now();
  for (int i = 0; i < kRounds; ++i) sink += hermes::daemon::context::estimate_tokens(history, 1.1);
  const double estimate_us =
      duration<double, std::micro>(steady_clock::now() - t0).count() / kRounds;

  TempDir dir;
  boost::asio::io_context io;
  hermes::daemon::state::SqliteConnection db(dir.path() / "state.db", hermes::Durability::normal);
  hermes::daemon::state::migrate(db, hermes::daemon::state::state_schema());
  hermes::daemon::usage::SqlUsageTables tables(db);
  hermes::daemon::Metrics metrics;
  hermes::Config config;
  config.pricing["demo-model"] = {0.15, 0.6, {}, {}};
  hermes::daemon::state::StoreWorker worker(io, db);
  hermes::daemon::usage::UsageLedger ledger(io, worker, tables, metrics, config);
  constexpr int kRecords = 5000;
  double loop_us = 0;
  t0 = steady_clock::now();
  for (int i = 0; i < kRecords; ++i) {
    hermes::daemon::usage::UsageRecord r;
    r.at = 1796212800.0 + i;
    r.provider = "primary";
    r.model = "demo-model";
    r.prompt_tokens = 900;
    r.completion_tokens = 120;
    r.total_tokens = 1020;
    r.session_id = "hs_0123456789abcdef0123456789abcdef";
    r.platform = "api_server";
    r.chat = "api_server:hs_0123456789abcdef0123456789abcdef";
    const auto before = steady_clock::now();
    ledger.record(std::move(r));
    loop_us += duration<double, std::micro>(steady_clock::now() - before).count();
    io.poll();  // as the loop would between turns
  }
  io.run();
  const double whole_us = duration<double, std::micro>(steady_clock::now() - t0).count() / kRecords;
  std::printf("token estimate, 40 messages (16 KB)   %.2f us per turn (checksum %ld)\n",
              estimate_us, sink % 10);
  std::printf("usage record, on the event loop        %.2f us per call\n", loop_us / kRecords);
  std::printf("usage record, to its commit (worker)   %.2f us per call, %d calls, %llu commits\n",
              whole_us, kRecords, static_cast<unsigned long long>(worker.stats().commits));
}

// 200 turns on one session with a 2,000-token window: what each request sends over time.
int conversation_sizes() {
  FakeProvider fake;
  fake.limit_context(0, 60);  // replies (and summaries) of ~70 characters
  GatewayHome home;
  home.dir.write("config.yaml",
                 "model: {provider: primary, default: demo-model, context_length: 2000}\n"
                 "providers: {primary: {base_url: '" +
                     fake.base_url() +
                     "', api_keys: [k1]}}\n"
                     "gateway: {api_server: {host: 127.0.0.1, port: " +
                     std::to_string(home.port) + "}}\n");
  auto daemon = home.start(home.env());
  if (!wait_until([&] { return home.healthy(); }, 10s)) return 1;
  std::string session;
  for (int i = 1; i <= 200; ++i) {
    const auto body =
        nlohmann::json{
            {"messages", nlohmann::json::array({{{"role", "user"},
                                                 {"content", "turn " + std::to_string(i) + ": " +
                                                                 std::string(200, 'q')}}})}}
            .dump();
    std::map<std::string, std::string> headers;
    if (!session.empty()) headers["X-Hermes-Session-Id"] = session;
    const auto r = http_request(home.port, "POST", "/v1/chat/completions", body, headers);
    if (r.status != 200) {
      std::cerr << "turn " << i << " failed: " << r.status << " " << r.body << '\n';
      return 1;
    }
    if (session.empty()) session = r.headers.at("x-hermes-session-id");
  }
  std::vector<std::size_t> sizes;  // characters of each turn's request (summary calls aside)
  int summaries = 0;
  for (const auto& call : fake.calls()) {
    std::size_t chars = 0;
    for (const auto& m : call["messages"]) {
      if (m["content"].is_string()) chars += m["content"].get<std::string>().size();
    }
    if (call["messages"][0]["content"].get<std::string>().find("condense") != std::string::npos) {
      ++summaries;
      continue;
    }
    sizes.push_back(chars);
  }
  std::printf("200-turn conversation, 2,000-token window (threshold 0.85, protect_last_n 20):\n ");
  for (std::size_t turn : {1u, 10u, 20u, 40u, 60u, 80u, 100u, 125u, 150u, 175u, 200u}) {
    if (turn <= sizes.size()) std::printf(" turn %zu: %zu chars;", turn, sizes[turn - 1]);
  }
  std::printf("\n  largest request %zu chars (~%zu tokens), %d summary calls\n",
              *std::max_element(sizes.begin(), sizes.end()),
              *std::max_element(sizes.begin(), sizes.end()) / 4, summaries);
  daemon->signal(SIGTERM);
  daemon->wait(10s);
  return 0;
}

}  // namespace

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
  measure_turn_bookkeeping();
  return conversation_sizes();
}
