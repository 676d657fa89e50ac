// The state store under a kill -9: every turn the gateway answered (it replies only once the
// turn's transaction committed) is in state.db afterwards, and the next process opens it and
// continues those sessions.
#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>

#include <atomic>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "daemon_fixture.hpp"
#include "fake_provider.hpp"

namespace hermes::testing {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

struct Acknowledged {
  std::string session;
  std::string text;
};

// role/content pairs of a session, read straight from the file.
std::vector<std::pair<std::string, std::string>> stored_messages(
    const std::filesystem::path& db_file, const std::string& session) {
  std::vector<std::pair<std::string, std::string>> rows;
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(db_file.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    sqlite3_close(db);
    return rows;
  }
  sqlite3_stmt* query = nullptr;
  sqlite3_prepare_v2(db, "SELECT role, content FROM messages WHERE session_id = ? ORDER BY id", -1,
                     &query, nullptr);
  sqlite3_bind_text(query, 1, session.c_str(), -1, SQLITE_TRANSIENT);
  while (sqlite3_step(query) == SQLITE_ROW) {
    rows.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(query, 0)),
                      reinterpret_cast<const char*>(sqlite3_column_text(query, 1)));
  }
  sqlite3_finalize(query);
  sqlite3_close(db);
  return rows;
}

TEST(StateStoreCrash, KillNineUnderLoadLosesNoAcknowledgedTurn) {
  FakeProvider fake;
  GatewayHome home;
  home.write_provider_config(fake.base_url());
  auto daemon = home.start(home.env());
  ASSERT_TRUE(wait_until([&] { return home.healthy(); }, 10s)) << daemon->stderr_text();

  std::mutex mutex;
  std::vector<Acknowledged> acknowledged;
  std::atomic<bool> stop{false};
  std::vector<std::thread> clients;
  for (int c = 0; c < 4; ++c) {
    clients.emplace_back([&, c] {
      for (int i = 0; i < 2000 && !stop; ++i) {
        const std::string text = "turn " + std::to_string(c) + "." + std::to_string(i);
        const json body = {{"model", "demo-model"},
                           {"messages", json::array({{{"role", "user"}, {"content", text}}})}};
        const auto r = http_request(home.port, "POST", "/v1/chat/completions", body.dump(), {}, 5s);
        if (r.status != 200) continue;  // cut by the kill: not acknowledged
        std::lock_guard lock(mutex);
        acknowledged.push_back({r.headers.at("x-hermes-session-id"), text});
      }
    });
  }
  const bool enough = wait_until(
      [&] {
        std::lock_guard lock(mutex);
        return acknowledged.size() >= 150;
      },
      60s);
  daemon->signal(SIGKILL);  // mid-load: turns are queued, committing and in flight
  daemon->wait(10s);
  stop = true;
  for (auto& t : clients) t.join();
  ASSERT_TRUE(enough) << "the gateway answered too few turns before the kill";

  const auto db_file = home.dir.path() / "state.db";
  std::size_t intact = 0;
  for (const auto& a : acknowledged) {
    const auto rows = stored_messages(db_file, a.session);
    ASSERT_EQ(rows.size(), 2u) << "acknowledged turn '" << a.text << "' of " << a.session
                               << " is not stored whole";
    EXPECT_EQ(rows[0], std::make_pair(std::string("user"), a.text));
    EXPECT_EQ(rows[1], std::make_pair(std::string("assistant"), "echo: " + a.text));
    ++intact;
  }
  EXPECT_EQ(intact, acknowledged.size());

  // The next process opens the file the kill left and continues an acknowledged session.
  daemon = home.start(home.env());
  ASSERT_TRUE(wait_until([&] { return home.healthy(); }, 10s)) << daemon->stderr_text();
  const auto& last = acknowledged.back();
  const json body = {{"model", "demo-model"},
                     {"messages", json::array({{{"role", "user"}, {"content", "and then?"}}})}};
  const auto r = http_request(home.port, "POST", "/v1/chat/completions", body.dump(),
                              {{"X-Hermes-Session-Id", last.session}});
  ASSERT_EQ(r.status, 200) << r.body;
  const auto calls = fake.calls();
  ASSERT_FALSE(calls.empty());
  const auto& sent = calls.back()["messages"];
  ASSERT_EQ(sent.size(), 4u) << sent.dump();  // system prompt, the stored turn, the new one
  EXPECT_EQ(sent[1]["content"], last.text);
  daemon->signal(SIGTERM);
  EXPECT_EQ(daemon->wait(15s), 0) << daemon->stderr_text();
}

TEST(StateStoreFaults, ADamagedStateDbRefusesTheStartWithTheFileAndTheFix) {
  GatewayHome home;
  home.write_config();
  home.dir.write("state.db", std::string(8192, 'x'));  // not a database at all
  auto daemon = home.start(home.env());
  EXPECT_EQ(daemon->wait(10s), 78) << daemon->stderr_text();
  const auto log = daemon->stderr_text();
  EXPECT_NE(log.find("not starting: "), std::string::npos) << log;
  EXPECT_NE(log.find((home.dir.path() / "state.db").string()), std::string::npos) << log;
  EXPECT_NE(log.find("move it away to start with an empty store"), std::string::npos) << log;
}

TEST(StateStoreFaults, StateDbRemovedWhileRunningMakesTheGatewayDegraded) {
  GatewayHome home;
  home.write_config();
  auto daemon = home.start(home.env());
  ASSERT_TRUE(wait_until([&] { return home.healthy(); }, 10s)) << daemon->stderr_text();
  std::filesystem::remove(home.dir.path() / "state.db");
  std::string body;
  EXPECT_TRUE(wait_until([&] { return http_get_status(home.port, "/health", &body) == 503; }, 5s))
      << body;
  EXPECT_NE(body.find("\"status\":\"degraded\""), std::string::npos) << body;
  EXPECT_NE(body.find("was removed while the gateway runs"), std::string::npos) << body;
  daemon->signal(SIGTERM);
  EXPECT_EQ(daemon->wait(10s), 0);
  EXPECT_NE(daemon->stderr_text().find("<3>degraded: "), std::string::npos);
}

}  // namespace
}  // namespace hermes::testing
