// The two state-store backends side by side, in one run on one machine: what one turn's commit
// costs in process (alone, then 32 at once, where the worker's group commit batches them), then
// whole turns through real gateways (SQLite; PostgreSQL; two gateways on one PostgreSQL
// database), with every client continuing its own session, so each turn reads its history and
// takes its session's lock as in production. A single client alone shows what the store adds
// to one turn's latency. Backends alternate where they can, so machine noise hits both.
// On PostgreSQL a gateway caches no history (another gateway may have added to it) and locks
// sessions in the database: part 2 includes that, part 1 only the commit.
// PostgreSQL is a private server of scripts/pg-test-server.sh (fsync and synchronous_commit
// off) and SQLite runs with synchronous: normal (no fsync per commit either): this compares
// round trips and the servers' work, not disks.
// Usage: hermes_store_bench [turns_per_client=100] [store_rounds=2000]
#include <signal.h>

#include <algorithm>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <iostream>
#include <latch>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <numeric>
#include <string>
#include <thread>
#include <vector>

#include "../tests/integration/daemon_fixture.hpp"
#include "../tests/integration/fake_provider.hpp"
#include "bench_util.hpp"
#include "daemon/agent/session_tables.hpp"
#include "daemon/state/migrations.hpp"
#include "daemon/state/pg_connection.hpp"
#include "daemon/state/sqlite_connection.hpp"
#include "daemon/state/store_worker.hpp"
#include "daemon/usage/usage_tables.hpp"
#include "support/test_postgres.hpp"

using namespace hermes::testing;
using namespace hermes::bench;
using namespace std::chrono;
namespace asio = boost::asio;
namespace state = hermes::daemon::state;

namespace {

constexpr int kClients = 32;           // concurrent coroutines in process, client threads outside
constexpr int kBlock = 200;            // sequential rounds of one backend before the other's
constexpr int kTurnsPerSession = 8;    // in process: a new session every 8 turns
constexpr int kSequentialTurns = 200;  // per backend, one client through the gateways

double ms_since(steady_clock::time_point t0) {
  return duration<double, std::milli>(steady_clock::now() - t0).count();
}

double seconds_since(steady_clock::time_point t0) {
  return duration<double>(steady_clock::now() - t0).count();
}

double unix_now() {
  return duration<double>(system_clock::now().time_since_epoch()).count();
}

double mean(const std::vector<double>& values) {
  if (values.empty()) return 0;
  return std::accumulate(values.begin(), values.end(), 0.0) / static_cast<double>(values.size());
}

// A user message of ~200 characters, the size both parts write per turn.
std::string user_text(int client, int turn) {
  return "client " + std::to_string(client) + " turn " + std::to_string(turn) + ": " +
         std::string(180, 'q');
}

void rethrow(std::exception_ptr error) {
  if (error) std::rethrow_exception(error);
}

// ---- 1. The store in process: the commit a turn awaits, without HTTP or the provider.

struct CommitRun {
  std::vector<double> ms;  // each commit, queued to committed
  double seconds = 0;      // wall time of the blocks
  std::uint64_t jobs = 0;
  std::uint64_t commits = 0;
};

// One backend's store as a gateway holds it: connection, tables, a worker on an event loop.
struct Store {
  Store(std::string backend, std::unique_ptr<state::SqlConnection> connection)
      : name(std::move(backend)),
        db(migrated(std::move(connection))),
        session_tables(*db),
        usage_tables(*db),
        worker(io, *db) {}

  static std::unique_ptr<state::SqlConnection> migrated(std::unique_ptr<state::SqlConnection> db) {
    state::migrate(*db, state::schema_for(*db));
    return db;
  }

  // A session's turns so far: its first inserts the session row, later ones touch it.
  struct Conversation {
    std::string id;
    int turns = 0;
  };

  // What one turn writes, in one transaction.
  state::Transaction turn(Conversation& c) {
    state::Transaction tx;
    const double now = unix_now();
    if (c.turns % kTurnsPerSession == 0) {
      char buffer[40];
      std::snprintf(buffer, sizeof buffer, "hs_%032llx", ++sessions);
      c.id = buffer;
      tx.add([this, id = c.id, now] { session_tables.insert_session(id, "api_server", "", now); });
    } else {
      tx.add([this, id = c.id, now] { session_tables.touch_session(id, now); });
    }
    const std::string text = user_text(0, c.turns++);
    tx.add([this, id = c.id, now, user = hermes::providers::ChatMessage("user", text),
            answer = hermes::providers::ChatMessage("assistant", "echo: " + text)] {
      session_tables.insert_message(id, user, now, "");
      session_tables.insert_message(id, answer, now, "");
    });
    hermes::daemon::usage::UsageRecord record;
    record.at = now;
    record.provider = "primary";
    record.model = "demo-model";
    record.prompt_tokens = 900;
    record.completion_tokens = 120;
    record.total_tokens = 1020;
    record.cost_usd = 0.0002;
    record.session_id = c.id;
    record.platform = "api_server";
    record.chat = "api_server:" + c.id;
    tx.add([this, record] { usage_tables.insert(record); });
    return tx;
  }

  std::string name;
  std::unique_ptr<state::SqlConnection> db;
  hermes::daemon::SqlSessionTables session_tables;
  hermes::daemon::usage::SqlUsageTables usage_tables;
  unsigned long long sessions = 0;
  Conversation sequential;
  CommitRun alone;
  CommitRun together;
  asio::io_context io;
  state::StoreWorker worker;  // last: its thread stops before what its jobs touch goes
};

// `turns` turns of `c`, each commit awaited before the next turn is built, as a session's
// turns follow one another.
asio::awaitable<void> commit_turns(Store& store, Store::Conversation& c, int turns,
                                   std::vector<double>& ms) {
  for (int i = 0; i < turns; ++i) {
    state::Transaction tx = store.turn(c);
    const auto t0 = steady_clock::now();
    co_await store.worker.commit(std::move(tx));
    ms.push_back(ms_since(t0));
  }
}

// Runs the event loop until the coroutines spawned on it are done, adding to `run`.
void run_loop(Store& store, CommitRun& run, steady_clock::time_point t0,
              const state::StoreWorkerStats& before) {
  store.io.run();
  store.io.restart();
  run.seconds += seconds_since(t0);
  const auto after = store.worker.stats();
  run.jobs += after.jobs - before.jobs;
  run.commits += after.commits - before.commits;
}

void sequential_block(Store& store, int rounds) {
  const auto before = store.worker.stats();
  const auto t0 = steady_clock::now();
  asio::co_spawn(store.io, commit_turns(store, store.sequential, rounds, store.alone.ms), rethrow);
  run_loop(store, store.alone, t0, before);
}

// kClients sessions of kTurnsPerSession turns each, committing at once: the worker takes
// what is queued when it wakes into one transaction.
void concurrent_block(Store& store) {
  std::vector<Store::Conversation> conversations(kClients);
  const auto before = store.worker.stats();
  const auto t0 = steady_clock::now();
  for (auto& c : conversations) {
    asio::co_spawn(store.io, commit_turns(store, c, kTurnsPerSession, store.together.ms), rethrow);
  }
  run_loop(store, store.together, t0, before);
}

void print_commits(const Store& store, const char* mode, const CommitRun& run) {
  std::printf("  %-9s %-14s %6zu %10.0f %9.3f %9.3f %9.3f %8.1f\n", store.name.c_str(), mode,
              run.ms.size(), static_cast<double>(run.ms.size()) / run.seconds,
              percentile(run.ms, 0.5), percentile(run.ms, 0.99), mean(run.ms),
              run.commits ? static_cast<double>(run.jobs) / static_cast<double>(run.commits) : 0);
}

void store_latency(const std::string& postgres_url, int rounds) {
  TempDir dir;
  TestDatabase database(postgres_url);
  Store sqlite("sqlite", std::make_unique<state::SqliteConnection>(dir.path() / "state.db",
                                                                   hermes::Durability::normal));
  Store postgres("postgres", std::make_unique<state::PgConnection>(database.url()));
  Store* const stores[] = {&sqlite, &postgres};
  // Each backend goes first every other block: neither always runs on a warmer machine.
  int block = 0;
  for (int done = 0; done < rounds; done += kBlock, ++block) {
    for (int k = 0; k < 2; ++k) {
      sequential_block(*stores[(block + k) % 2], std::min(kBlock, rounds - done));
    }
  }
  const int per_block = kClients * kTurnsPerSession;
  const int blocks = std::max(1, (rounds + per_block - 1) / per_block);
  for (block = 0; block < blocks; ++block) {
    for (int k = 0; k < 2; ++k) concurrent_block(*stores[(block + k) % 2]);
  }

  std::printf(
      "1. store latency per turn, in process: one transaction per turn (session row, user and "
      "assistant\n   messages of ~200 chars, one usage row), awaited from a coroutine; "
      "sequential in alternating\n   blocks of %d, then %d coroutines at once (%d turns each per "
      "block, alternating blocks)\n",
      kBlock, kClients, kTurnsPerSession);
  std::printf("  %-9s %-14s %6s %10s %9s %9s %9s %8s\n", "backend", "commits", "turns", "turns/s",
              "p50 ms", "p99 ms", "mean ms", "per tx");
  for (const Store* store : stores) print_commits(*store, "one at a time", store->alone);
  for (const Store* store : stores) print_commits(*store, "32 at once", store->together);
  std::printf("  postgres - sqlite, one at a time: p50 %+.3f ms, mean %+.3f ms\n",
              percentile(postgres.alone.ms, 0.5) - percentile(sqlite.alone.ms, 0.5),
              mean(postgres.alone.ms) - mean(sqlite.alone.ms));
  std::fflush(stdout);
}

// ---- 2. Whole turns through real gateways and the fake provider.

// One gateway: its home (config, SQLite file) and its process.
struct Gateway {
  GatewayHome home;
  std::unique_ptr<ChildProcess> process;

  // `database_url` empty: SQLite in the home.
  void start(const std::string& provider_url, const std::string& database_url) {
    home.dir.write(
        "config.yaml",
        "model: {provider: primary, default: demo-model}\n"
        "providers: {primary: {base_url: '" +
            provider_url + "', api_keys: [k1]}}\n" +
            (database_url.empty()
                 ? std::string()
                 : "database: {backend: postgres, url: '" + database_url + "'}\n") +
            "gateway:\n  api_server: {host: 127.0.0.1, port: " + std::to_string(home.port) + "}\n");
    process = home.start(home.env());
  }
  int port() const { return home.port; }
  void stop() {
    if (!process) return;
    process->signal(SIGTERM);
    const int code = process->wait(30s);
    if (code != 0) {
      std::cerr << "gateway on port " << home.port << " exited with " << code << ":\n"
                << process->stderr_text();
    }
    process.reset();
  }
};

bool all_healthy(const std::vector<Gateway*>& gateways) {
  const bool healthy = wait_until(
      [&] {
        return std::all_of(gateways.begin(), gateways.end(),
                           [](const Gateway* g) { return g->home.healthy(); });
      },
      30s);
  if (!healthy) {
    for (const Gateway* g : gateways) std::cerr << g->process->stderr_text() << "\n---\n";
  }
  return healthy;
}

struct TurnRun {
  std::vector<double> ms;  // every request, whatever its status
  int errors = 0;          // non-200 answers
  double seconds = 0;      // wall time, first request sent to last answer
  std::string first_error;
};

// One turn on `port`: a new session when `session` is empty (then set from the answer), else
// that session continued.
void chat_turn(int port, std::string& session, const std::string& text, TurnRun& run) {
  const std::string body =
      nlohmann::json{{"model", "demo-model"},
                     {"messages", nlohmann::json::array({{{"role", "user"}, {"content", text}}})}}
          .dump();
  std::map<std::string, std::string> headers;
  if (!session.empty()) headers["X-Hermes-Session-Id"] = session;
  const auto t0 = steady_clock::now();
  const auto r = http_request(port, "POST", "/v1/chat/completions", body, headers);
  run.ms.push_back(ms_since(t0));
  if (r.status != 200) {
    ++run.errors;
    if (run.first_error.empty()) {
      run.first_error = std::to_string(r.status) + " " + r.body.substr(0, 300);
    }
    return;
  }
  if (session.empty()) {
    if (const auto it = r.headers.find("x-hermes-session-id"); it != r.headers.end()) {
      session = it->second;
    }
  }
}

// kClients threads, client i on ports[i % ports.size()], each doing `turns` turns of its own
// session back to back.
TurnRun run_clients(const std::vector<int>& ports, int turns) {
  std::vector<TurnRun> runs(kClients);
  std::latch ready(kClients + 1);
  std::vector<std::thread> clients;
  for (std::size_t i = 0; i < runs.size(); ++i) {
    clients.emplace_back([&, i] {
      const int port = ports[i % ports.size()];
      std::string session;
      ready.arrive_and_wait();
      for (int t = 0; t < turns; ++t) {
        chat_turn(port, session, user_text(static_cast<int>(i), t), runs[i]);
      }
    });
  }
  ready.arrive_and_wait();
  const auto t0 = steady_clock::now();
  for (auto& client : clients) client.join();
  TurnRun all;
  all.seconds = seconds_since(t0);
  for (auto& run : runs) {
    all.ms.insert(all.ms.end(), run.ms.begin(), run.ms.end());
    all.errors += run.errors;
    if (all.first_error.empty()) all.first_error = run.first_error;
  }
  return all;
}

void print_turns(const char* configuration, const TurnRun& run, bool throughput) {
  char rate[32] = "-";
  if (throughput) {
    std::snprintf(rate, sizeof rate, "%.0f", static_cast<double>(run.ms.size()) / run.seconds);
  }
  std::printf("  %-32s %6zu %9s %9.2f %9.2f %7d\n", configuration, run.ms.size(), rate,
              percentile(run.ms, 0.5), percentile(run.ms, 0.99), run.errors);
  if (!run.first_error.empty()) std::printf("    first error: %s\n", run.first_error.c_str());
}

int gateway_turns(const std::string& postgres_url, int turns) {
  FakeProvider fake;
  TestDatabase one_gateway(postgres_url);
  TestDatabase two_gateways(postgres_url);
  TurnRun alone_sqlite, alone_postgres, sqlite, postgres, shared;
  {
    Gateway sqlite_gateway, postgres_gateway;
    sqlite_gateway.start(fake.base_url(), "");
    postgres_gateway.start(fake.base_url(), one_gateway.url());
    if (!all_healthy({&sqlite_gateway, &postgres_gateway})) return 1;
    // One client, turn by turn between the two (each backend first every other turn).
    std::string sqlite_session, postgres_session;
    for (int t = 0; t < kSequentialTurns; ++t) {
      for (int k = 0; k < 2; ++k) {
        if ((t + k) % 2 == 0) {
          chat_turn(sqlite_gateway.port(), sqlite_session, user_text(0, t), alone_sqlite);
        } else {
          chat_turn(postgres_gateway.port(), postgres_session, user_text(0, t), alone_postgres);
        }
      }
    }
    // The fake keeps every call it served: emptied between runs so its memory stays flat.
    fake.reset();
    sqlite = run_clients({sqlite_gateway.port()}, turns);
    fake.reset();
    postgres = run_clients({postgres_gateway.port()}, turns);
    fake.reset();
    sqlite_gateway.stop();
    postgres_gateway.stop();
  }
  {
    Gateway a, b;
    a.start(fake.base_url(), two_gateways.url());
    b.start(fake.base_url(), two_gateways.url());
    if (!all_healthy({&a, &b})) return 1;
    shared = run_clients({a.port(), b.port()}, turns);
    a.stop();
    b.stop();
  }

  std::printf(
      "\n2. whole turns through real gateways and the fake provider (echo): %d clients x %d "
      "turns,\n   each client continuing its own session\n",
      kClients, turns);
  std::printf("  %-32s %6s %9s %9s %9s %7s\n", "configuration", "turns", "turns/s", "p50 ms",
              "p99 ms", "errors");
  print_turns("sqlite, 1 gateway", sqlite, true);
  print_turns("postgres, 1 gateway", postgres, true);
  print_turns("postgres, 2 gateways, 1 database", shared, true);
  std::printf(
      "   one client alone, %d turns of one session per backend, alternating turn by turn\n",
      kSequentialTurns);
  print_turns("sqlite, 1 client", alone_sqlite, false);
  print_turns("postgres, 1 client", alone_postgres, false);
  std::printf("  postgres - sqlite, 1 client: p50 %+.2f ms per turn\n",
              percentile(alone_postgres.ms, 0.5) - percentile(alone_sqlite.ms, 0.5));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const int turns = argc > 1 ? std::atoi(argv[1]) : 100;
  const int rounds = argc > 2 ? std::atoi(argv[2]) : 2000;
  if (turns < 1 || rounds < 1) {
    std::cerr << "usage: hermes_store_bench [turns_per_client=100] [store_rounds=2000]\n";
    return 2;
  }
  try {
    const PrivatePostgres server;  // initdb and start: a few seconds
    store_latency(server.url(), rounds);
    return gateway_turns(server.url(), turns);
  } catch (const std::exception& e) {
    std::cerr << "hermes_store_bench: " << e.what() << '\n';
    return 1;
  }
}
