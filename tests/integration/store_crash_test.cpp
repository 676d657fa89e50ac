// The state store under a kill -9: every turn the gateway answered (it replies only once the
// turn's transaction committed) is in state.db afterwards, and the next process opens it and
// continues those sessions.
#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/mount.h>

#include <atomic>
#include <fstream>
#include <map>
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

json chat_body(const std::string& text) {
  return {{"model", "demo-model"},
          {"messages", json::array({{{"role", "user"}, {"content", text}}})}};
}

// SQLite goes on committing to an unlinked file: before the fix, 10 of 10 turns were answered
// 200 after the removal and were gone at the next start. Now none is acknowledged.
TEST(StateStoreFaults, StateDbRemovedWhileRunningRefusesTurnsInsteadOfAcknowledgingThem) {
  FakeProvider fake;
  GatewayHome home;
  home.write_provider_config(fake.base_url());
  auto daemon = home.start(home.env());
  ASSERT_TRUE(wait_until([&] { return home.healthy(); }, 10s)) << daemon->stderr_text();
  auto kept = http_request(home.port, "POST", "/v1/chat/completions", chat_body("kept").dump());
  ASSERT_EQ(kept.status, 200) << kept.body;
  const std::string session = kept.headers["x-hermes-session-id"];

  std::filesystem::remove(home.dir.path() / "state.db");
  int acknowledged = 0;
  for (int i = 0; i < 10; ++i) {
    // Half continue the stored session, half start new ones.
    std::map<std::string, std::string> headers;
    if (i % 2 == 0) headers["X-Hermes-Session-Id"] = session;
    auto refused = http_request(home.port, "POST", "/v1/chat/completions",
                                chat_body("after removal " + std::to_string(i)).dump(), headers);
    if (refused.status == 200) ++acknowledged;
    EXPECT_EQ(refused.status, 503) << refused.body;
    EXPECT_NE(refused.body.find("state_store_unavailable"), std::string::npos) << refused.body;
  }
  EXPECT_EQ(acknowledged, 0);
  std::string body;
  EXPECT_TRUE(wait_until([&] { return http_get_status(home.port, "/health", &body) == 503; }, 5s))
      << body;
  EXPECT_NE(body.find("\"status\":\"degraded\""), std::string::npos) << body;
  EXPECT_NE(body.find("was removed while the gateway runs"), std::string::npos) << body;
  // The status tick (each second) logs the state once.
  EXPECT_TRUE(wait_until(
      [&] { return daemon->stderr_text().find("<3>degraded: ") != std::string::npos; }, 5s));
  daemon->signal(SIGTERM);
  EXPECT_EQ(daemon->wait(10s), 0);
  const auto log = daemon->stderr_text();
  EXPECT_NE(log.find("turns are refused, not acknowledged and lost"), std::string::npos);
}

// chattr +i/-i on `file`; false when the file system or our privileges do not allow it.
bool set_immutable(const std::filesystem::path& file, bool on) {
  const std::string command =
      std::string("chattr ") + (on ? "+i " : "-i ") + "'" + file.string() + "' 2>/dev/null";
  return std::system(command.c_str()) == 0;
}

// Takes the attribute off again whatever the test's outcome: TempDir must be able to remove it.
struct ImmutableFile {
  std::filesystem::path file;
  bool set = set_immutable(file, true);
  ~ImmutableFile() {
    if (set) set_immutable(file, false);
  }
};

TEST(StateStoreFaults, AnImmutableSharedMemoryFileEndsWithAClearLineNotASilentSigbus) {
  FakeProvider fake;
  GatewayHome home;
  home.write_provider_config(fake.base_url());
  auto daemon = home.start(home.env());
  ASSERT_TRUE(wait_until([&] { return home.healthy(); }, 10s)) << daemon->stderr_text();
  ImmutableFile shm{home.dir.path() / "state.db-shm"};
  if (!shm.set) GTEST_SKIP() << "chattr +i needs root and a file system with attributes";
  // The write through SQLite's mapping of the immutable file faults (SIGBUS) at once or once
  // the kernel has written the mapped pages back; chat until it does.
  int chats = 0;
  while (daemon->running() && chats < 200) {
    http_request(home.port, "POST", "/v1/chat/completions", chat_body("hi").dump(), {}, 5s);
    ++chats;
  }
  EXPECT_EQ(daemon->wait(10s), 1) << daemon->stderr_text();
  const auto log = daemon->stderr_text();
  EXPECT_NE(log.find((home.dir.path() / "state.db-shm").string()), std::string::npos) << log;
  EXPECT_NE(log.find("SIGBUS"), std::string::npos) << log;
  EXPECT_NE(log.find("chattr -i"), std::string::npos) << log;

  // And the next start is refused before SQLite maps the file, naming it and the fix.
  auto again = home.start(home.env());
  EXPECT_EQ(again->wait(10s), 78) << again->stderr_text();
  EXPECT_NE(again->stderr_text().find("is immutable or append-only"), std::string::npos)
      << again->stderr_text();
}

TEST(StateStoreFaults, AStateDbThatCannotBeWrittenRefusesTheStartWithTheFileAndTheFix) {
  GatewayHome home;
  home.write_config();
  auto first = home.start(home.env());
  ASSERT_TRUE(wait_until([&] { return home.healthy(); }, 10s)) << first->stderr_text();
  first->signal(SIGTERM);
  ASSERT_EQ(first->wait(10s), 0);
  const auto db_file = home.dir.path() / "state.db";
  ImmutableFile locked{db_file};
  if (!locked.set) {  // not root: the mode bits are enough
    std::filesystem::permissions(db_file, std::filesystem::perms::owner_read);
  }
  auto daemon = home.start(home.env());
  EXPECT_EQ(daemon->wait(10s), 78) << daemon->stderr_text();
  const auto log = daemon->stderr_text();
  EXPECT_NE(log.find("not starting: "), std::string::npos) << log;
  EXPECT_NE(log.find(db_file.string()), std::string::npos) << log;
  EXPECT_EQ(log.find("serving"), std::string::npos) << "a store it cannot write reported serving";
}

TEST(StateStoreFaults, CorruptPagesRefuseTheStartInsteadOfFailingEveryChat) {
  FakeProvider fake;
  GatewayHome home;
  home.write_provider_config(fake.base_url());
  auto first = home.start(home.env());
  ASSERT_TRUE(wait_until([&] { return home.healthy(); }, 10s)) << first->stderr_text();
  for (int i = 0; i < 20; ++i) {
    ASSERT_EQ(http_request(home.port, "POST", "/v1/chat/completions",
                           chat_body(std::string(2000, static_cast<char>('a' + i % 26))).dump())
                  .status,
              200);
  }
  first->signal(SIGTERM);
  ASSERT_EQ(first->wait(10s), 0);
  // Keep the header page (SQLite still opens the file) and scribble over the pages after it.
  const auto db_file = home.dir.path() / "state.db";
  ASSERT_GT(std::filesystem::file_size(db_file), 4u * 4096);
  {
    std::fstream file(db_file, std::ios::in | std::ios::out | std::ios::binary);
    file.seekp(4096);
    const std::string garbage(3 * 4096, '\x5a');
    file.write(garbage.data(), static_cast<std::streamsize>(garbage.size()));
  }
  auto daemon = home.start(home.env());
  EXPECT_EQ(daemon->wait(10s), 78) << daemon->stderr_text();
  const auto log = daemon->stderr_text();
  EXPECT_NE(log.find("has damaged pages"), std::string::npos) << log;
  EXPECT_NE(log.find("move it away to start with an empty store"), std::string::npos) << log;
}

// Mounts a tmpfs of `size` on `dir` for the test's life (root only; false otherwise).
struct SmallDisk {
  std::filesystem::path dir;
  bool mounted = false;
  SmallDisk(std::filesystem::path d, const char* size) : dir(std::move(d)) {
    const std::string options = std::string("size=") + size + ",mode=0700";
    mounted = ::mount("tmpfs", dir.c_str(), "tmpfs", 0, options.c_str()) == 0;
  }
  ~SmallDisk() {
    if (mounted) ::umount2(dir.c_str(), MNT_DETACH);
  }
};

// Writes `file` until the disk refuses more.
void fill_disk(const std::filesystem::path& file) {
  std::ofstream out(file, std::ios::binary);
  const std::string block(64 * 1024, '\0');
  while (out.write(block.data(), static_cast<std::streamsize>(block.size())) && out.flush()) {
  }
}

TEST(StateStoreFaults, AFullDiskFailsTurnsClearlyReportsDegradedAndRecoversWhenFreed) {
  FakeProvider fake;
  GatewayHome home;
  SmallDisk disk(home.dir.path(), "2m");
  if (!disk.mounted) GTEST_SKIP() << "mounting a tmpfs needs root";
  home.write_provider_config(fake.base_url());
  std::filesystem::create_directories(home.runtime());
  auto daemon = home.start(home.env());
  ASSERT_TRUE(wait_until([&] { return home.healthy(); }, 10s)) << daemon->stderr_text();
  auto kept = http_request(home.port, "POST", "/v1/chat/completions", chat_body("kept").dump());
  ASSERT_EQ(kept.status, 200) << kept.body;
  const std::string session = kept.headers["x-hermes-session-id"];

  fill_disk(home.dir.path() / "filler");
  auto refused =
      http_request(home.port, "POST", "/v1/chat/completions", chat_body("no room").dump());
  EXPECT_EQ(refused.status, 500) << refused.body;
  EXPECT_NE(refused.body.find("state_store_failed"), std::string::npos) << refused.body;
  EXPECT_NE(refused.body.find("send it again"), std::string::npos) << refused.body;
  std::string health;
  EXPECT_TRUE(wait_until([&] { return http_get_status(home.port, "/health", &health) == 503; }, 5s))
      << health;
  EXPECT_NE(health.find("\"status\":\"degraded\""), std::string::npos) << health;

  std::filesystem::remove(home.dir.path() / "filler");
  auto after = http_request(home.port, "POST", "/v1/chat/completions", chat_body("room").dump(),
                            {{"X-Hermes-Session-Id", session}});
  EXPECT_EQ(after.status, 200) << after.body;
  EXPECT_TRUE(wait_until([&] { return home.healthy(); }, 5s)) << "still degraded once freed";
  // The session holds its stored turn and the new one, nothing of the refused turn.
  const auto calls = fake.calls();
  const auto& sent = calls.back()["messages"];
  ASSERT_EQ(sent.size(), 4u) << sent.dump();
  EXPECT_EQ(sent[1]["content"], "kept");
  EXPECT_EQ(sent[3]["content"], "room");
  daemon->signal(SIGTERM);
  EXPECT_EQ(daemon->wait(10s), 0) << daemon->stderr_text();
}

}  // namespace
}  // namespace hermes::testing
