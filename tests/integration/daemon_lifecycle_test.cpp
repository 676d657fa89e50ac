// The real hermes-gateway process under a fake service manager: the exact sd_notify sequence,
// signals, drain, socket adoption, bad input. No systemd needed (see systemd_test.cpp for that).
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "common/paths.hpp"
#include "common/runtime_status.hpp"
#include "daemon_fixture.hpp"

namespace hermes::testing {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;
using ::testing::StartsWith;

std::string send_and_read(int fd, const std::string& data) {
  if (!data.empty()) ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
  timeval timeout{10, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  std::string response;
  char buffer[4096];
  ssize_t n = 0;
  while ((n = ::recv(fd, buffer, sizeof(buffer), 0)) > 0)
    response.append(buffer, static_cast<std::size_t>(n));
  return response;
}

// The daemon run by /bin/sh after `shell_prefix` (e.g. "ulimit -n 512 && exec"), on `home`.
std::unique_ptr<ChildProcess> start_through_shell(const GatewayHome& home,
                                                  const std::string& shell_prefix) {
  auto options = home.env();
  options.env["GW"] = kGatewayBin;
  return std::make_unique<ChildProcess>(
      "/bin/sh", std::vector<std::string>{"-c", shell_prefix + " \"$GW\""}, options);
}

TEST(DaemonNotify, StartReloadDrainSequence) {
  GatewayHome home;
  home.write_config();
  NotifySocket notify(home.dir.path() / "notify.sock");
  auto daemon = home.start(home.env(notify.path().string()));

  // The restart counter (a memfd holding 1: the next start is the first restart) and the
  // listening socket go to the fd store before READY, and READY comes only once serving.
  auto counter = notify.receive(10s);
  ASSERT_TRUE(counter) << daemon->stderr_text();
  EXPECT_EQ(counter->text, "FDSTORE=1\nFDNAME=restarts");
  ASSERT_EQ(counter->fds.size(), 1u);
  std::int64_t starts = 0;
  EXPECT_EQ(::pread(counter->fds[0], &starts, sizeof starts, 0), 8);
  EXPECT_EQ(starts, 1);
  ::close(counter->fds[0]);
  auto store = notify.receive(10s);
  ASSERT_TRUE(store) << daemon->stderr_text();
  EXPECT_EQ(store->text, "FDSTORE=1\nFDNAME=api");
  ASSERT_EQ(store->fds.size(), 1u);
  for (int fd : store->fds) ::close(fd);
  auto ready = notify.receive(10s);
  ASSERT_TRUE(ready);
  EXPECT_EQ(ready->text, "READY=1\nSTATUS=Serving: 0 sessions, 0 active runs");
  EXPECT_TRUE(home.healthy()) << "READY=1 was sent before /health answered";

  // SIGHUP with a valid config: RELOADING=1 + MONOTONIC_USEC, then READY=1.
  daemon->signal(SIGHUP);
  auto reloading = notify.receive_containing("RELOADING=1", 5s);
  ASSERT_TRUE(reloading);
  EXPECT_THAT(reloading->text, StartsWith("RELOADING=1\nMONOTONIC_USEC="));
  auto reloaded = notify.receive_containing("READY=1", 5s);
  ASSERT_TRUE(reloaded);
  EXPECT_EQ(reloaded->text, "READY=1\nSTATUS=Serving: 0 sessions, 0 active runs");

  // SIGHUP with a broken config: rejected, shown in STATUS, the old config keeps serving.
  home.dir.write("config.yaml", home.config("  api_max_retries: many\n"));
  daemon->signal(SIGHUP);
  auto rejected = notify.receive_containing("READY=1", 5s);
  ASSERT_TRUE(rejected);
  EXPECT_THAT(rejected->text, HasSubstr("STATUS=Config reload failed: "));
  EXPECT_THAT(rejected->text, HasSubstr("agent.api_max_retries: expected an integer 1-20"));
  EXPECT_THAT(rejected->text, HasSubstr("(kept previous)"));
  EXPECT_TRUE(home.healthy());

  // SIGUSR1: STOPPING=1 with the drain status, then exit 75.
  daemon->signal(SIGUSR1);
  auto stopping = notify.receive_containing("STOPPING=1", 5s);
  ASSERT_TRUE(stopping);
  EXPECT_EQ(stopping->text, "STOPPING=1\nSTATUS=Draining: 0 active runs, 60s left");
  EXPECT_EQ(daemon->wait(10s), 75) << daemon->stderr_text();
  EXPECT_THAT(daemon->stderr_text(), HasSubstr("<6>SIGUSR1: planned restart"));
}

TEST(DaemonNotify, WatchdogPingsFromTheLoop) {
  GatewayHome home;
  home.write_config();
  NotifySocket notify(home.dir.path() / "notify.sock");
  auto options = home.env(notify.path().string());
  options.env["WATCHDOG_USEC"] = "200000";
  auto daemon = home.start(options);
  ASSERT_TRUE(notify.receive_containing("READY=1", 10s));
  int pings = 0;
  const auto until = std::chrono::steady_clock::now() + 1s;
  while (std::chrono::steady_clock::now() < until) {
    auto message = notify.receive(200ms);
    if (message && message->text == "WATCHDOG=1") ++pings;
  }
  // Pings every 100 ms (half of WATCHDOG_USEC): about 10 in a second; allow a slow machine.
  EXPECT_GE(pings, 5);
  daemon->signal(SIGTERM);
  EXPECT_EQ(daemon->wait(10s), 0);
}

TEST(DaemonSignals, SigtermStopsWithExitZeroAndIsSilentWithoutNotifySocket) {
  GatewayHome home;
  home.write_config();
  auto daemon = home.start(home.env());
  ASSERT_TRUE(wait_until([&] { return home.healthy(); }, 10s)) << daemon->stderr_text();
  daemon->signal(SIGTERM);
  EXPECT_EQ(daemon->wait(10s), 0);
  EXPECT_THAT(daemon->stderr_text(), HasSubstr("SIGTERM: stopping"));
  EXPECT_EQ(daemon->stderr_text().find("sd_notify failed"), std::string::npos);
}

TEST(DaemonSignals, InFlightRequestIsAnsweredWithConnectionCloseThenExit75) {
  GatewayHome home;
  home.write_config();
  auto daemon = home.start(home.env());
  ASSERT_TRUE(wait_until([&] { return home.healthy(); }, 10s)) << daemon->stderr_text();

  // A request whose headers are still arriving when the drain begins.
  const int fd = connect_loopback(home.port);
  ASSERT_GE(fd, 0);
  ::send(fd, "GET /health HTTP/1.1\r\nHost: x\r\n", 31, MSG_NOSIGNAL);
  ASSERT_TRUE(
      wait_until([&] { return daemon->stderr_text().find("serving") != std::string::npos; }, 5s));
  daemon->signal(SIGUSR1);
  ASSERT_TRUE(wait_until(
      [&] { return daemon->stderr_text().find("planned restart") != std::string::npos; }, 5s));
  EXPECT_TRUE(daemon->running()) << "exited with a request still in flight";

  const std::string response = send_and_read(fd, "\r\n");
  ::close(fd);
  EXPECT_THAT(response, StartsWith("HTTP/1.1 200"));
  EXPECT_THAT(response, HasSubstr("Connection: close"));
  EXPECT_THAT(response, HasSubstr("\"state\":\"draining\""));
  EXPECT_EQ(daemon->wait(10s), 75) << daemon->stderr_text();
}

TEST(DaemonSignals, DrainBudgetInterruptsWhatIsLeftAndSecondSignalDoesNotRestartIt) {
  GatewayHome home;
  home.dir.write("config.yaml",
                 home.config("").replace(home.config("").find("restart_drain_timeout: 60"), 25,
                                         "restart_drain_timeout: 1"));
  auto daemon = home.start(home.env());
  ASSERT_TRUE(wait_until([&] { return home.healthy(); }, 10s)) << daemon->stderr_text();
  const int fd = connect_loopback(home.port);
  ASSERT_GE(fd, 0);
  ::send(fd, "GET /health HTTP/1.1\r\n", 22, MSG_NOSIGNAL);  // never completed
  ASSERT_TRUE(
      wait_until([&] { return daemon->stderr_text().find("serving") != std::string::npos; }, 5s));

  const auto started = std::chrono::steady_clock::now();
  daemon->signal(SIGUSR1);
  std::this_thread::sleep_for(300ms);  // let the drain begin; the second signal must not reset it
  daemon->signal(SIGUSR1);
  const int code = daemon->wait(10s);
  const auto took = std::chrono::steady_clock::now() - started;
  ::close(fd);
  EXPECT_EQ(code, 75) << daemon->stderr_text();
  EXPECT_GE(took, 900ms);
  EXPECT_LT(took, 1900ms) << "the second SIGUSR1 restarted the drain";
  EXPECT_THAT(daemon->stderr_text(), HasSubstr("already draining"));
  EXPECT_THAT(daemon->stderr_text(), HasSubstr("interrupting 1 unfinished request"));
}

TEST(DaemonSockets, AdoptsTheSocketSystemdPassesAndAnswersWhatQueuedBeforeStart) {
  GatewayHome home;
  home.write_config();
  // Bind and listen like systemd's fd store would hold it, then queue a connection before the
  // daemon exists: it must be answered, not refused.
  const int listener = listen_loopback(home.port);
  ASSERT_GE(listener, 0);
  const int early = connect_loopback(home.port);
  ASSERT_GE(early, 0);
  ::send(early, "GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 53, MSG_NOSIGNAL);

  auto options = home.env();
  options.pass_fd = listener;
  options.listen_fdnames = "api";
  auto daemon = home.start(options);
  const std::string response = send_and_read(early, "");
  ::close(early);
  ::close(listener);
  EXPECT_THAT(response, StartsWith("HTTP/1.1 200")) << daemon->stderr_text();
  EXPECT_THAT(daemon->stderr_text(), HasSubstr("took over the listening socket 'api'"));
  daemon->signal(SIGTERM);
  EXPECT_EQ(daemon->wait(10s), 0);
}

TEST(DaemonSockets, InheritedSocketForAnotherPortIsDroppedAndTheConfiguredOneBound) {
  GatewayHome home;
  home.write_config();
  const int other_port = free_port();
  const int listener = listen_loopback(other_port);
  ASSERT_GE(listener, 0);
  auto options = home.env();
  options.pass_fd = listener;
  options.listen_fdnames = "api";
  auto daemon = home.start(options);
  ::close(listener);
  ASSERT_TRUE(wait_until([&] { return home.healthy(); }, 10s)) << daemon->stderr_text();
  EXPECT_THAT(daemon->stderr_text(), HasSubstr("dropping inherited socket 'api'"));
  daemon->signal(SIGTERM);
  EXPECT_EQ(daemon->wait(10s), 0);
}

TEST(DaemonStart, BadConfigExits78WithTheKey) {
  GatewayHome home;
  home.dir.write("config.yaml", home.config("  request_timeout: soon\n"));
  auto daemon = home.start(home.env());
  EXPECT_EQ(daemon->wait(10s), 78);
  EXPECT_THAT(daemon->stderr_text(), HasSubstr("<3>config: "));
  EXPECT_THAT(daemon->stderr_text(), HasSubstr("agent.request_timeout"));
}

TEST(DaemonStart, APortInUseExits78NamingTheKeyAndThePort) {
  GatewayHome home;
  home.write_config();
  const int taken = listen_loopback(home.port);  // someone else holds the port
  ASSERT_GE(taken, 0);
  auto daemon = home.start(home.env());
  EXPECT_EQ(daemon->wait(10s), 78) << daemon->stderr_text();
  EXPECT_THAT(daemon->stderr_text(),
              HasSubstr("gateway.api_server.port " + std::to_string(home.port)));
  EXPECT_THAT(daemon->stderr_text(), HasSubstr("another program listens there"));
  ::close(taken);
}

TEST(DaemonStart, AtATerminalLogLinesSayTheLevelInWordsNotJournalPrefixes) {
  GatewayHome home;
  home.dir.write("config.yaml", home.config("  request_timeout: soon\n"));
  // script(1) gives the daemon a pseudo-terminal as stderr, as a person running it would.
  const auto r = run_process(
      "/usr/bin/script", {"-qec", std::string(kGatewayBin) + " --home " + home.home(), "/dev/null"},
      {{"XDG_RUNTIME_DIR", home.runtime()}});
  EXPECT_EQ(r.exit_code, 78) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("error: config: "));
  EXPECT_THAT(r.out, ::testing::Not(HasSubstr("<3>")));
}

TEST(DaemonStart, ASigtermWhileStartingStillDrainsAndExitsZero) {
  GatewayHome home;
  home.write_config();
  NotifySocket notify(home.dir.path() / "notify.sock");
  auto options = home.env(notify.path().string());
  options.env["HERMES_TEST_HOOKS"] = "1";
  options.env["HERMES_TEST_READY_DELAY_MS"] = "400";  // a slow start: the window to hit
  auto daemon = home.start(options);
  // The store is open and the listener bound once the lock file names the pid; the event
  // loop listens for signals only after the delay.
  ASSERT_TRUE(
      wait_until([&] { return std::filesystem::exists(home.dir.path() / "state.db"); }, 10s));
  daemon->signal(SIGTERM);
  EXPECT_EQ(daemon->wait(10s), 0) << "killed by the default action instead of draining\n"
                                  << daemon->stderr_text();
  EXPECT_THAT(daemon->stderr_text(), HasSubstr("arrived while starting"));
}

TEST(DaemonStart, AClosedStderrPipeDoesNotKillTheDaemon) {
  GatewayHome home;
  home.write_config();
  // stderr into a pipe whose reader is gone after one byte (as `hermes-gateway | head -c 1`).
  auto options = home.env();
  options.env["GW"] = kGatewayBin;
  ChildProcess shell("/bin/sh", {"-c", "\"$GW\" 2>&1 | head -c 1 >/dev/null"}, options);
  ASSERT_TRUE(wait_until([&] { return home.healthy(); }, 10s));
  std::ifstream lock(home.dir.path() / "gateway.lock");
  int pid = 0;
  lock >> pid;
  ASSERT_GT(pid, 0);
  // A reload that fails logs several lines into the broken pipe, then records the error.
  home.dir.write("config.yaml", "model: [broken\n");
  ASSERT_EQ(::kill(pid, SIGHUP), 0);
  std::string body;
  EXPECT_TRUE(wait_until(
      [&] {
        body = unix_socket_request(home.status_socket(), "status\n");
        return body.find("not valid YAML") != std::string::npos;
      },
      10s))
      << body;
  EXPECT_EQ(::kill(pid, 0), 0) << "the daemon died writing to the closed pipe";
  EXPECT_TRUE(home.healthy());
  ::kill(pid, SIGTERM);
  EXPECT_EQ(shell.wait(10s), 0);
}

// The soft limit of the daemon's parent (systemd's default 1,024 here).
long soft_open_files(int pid) {
  std::ifstream limits("/proc/" + std::to_string(pid) + "/limits");
  for (std::string line; std::getline(limits, line);) {
    if (line.starts_with("Max open files")) {
      std::istringstream fields(line.substr(std::string("Max open files").size()));
      long soft = 0;
      fields >> soft;
      return soft;
    }
  }
  return -1;
}

std::vector<int> open_idle_connections(int port, int count) {
  std::vector<int> fds;
  for (int i = 0; i < count; ++i) {
    const int fd = connect_loopback(port);
    if (fd < 0) break;
    fds.push_back(fd);
  }
  return fds;
}

TEST(DaemonFiles, ASoftLimitOf1024DoesNotStopHealthWith1100IdleClients) {
  GatewayHome home;
  home.write_config();
  // As under systemd's default: soft 1,024, a higher hard limit.
  auto daemon = start_through_shell(home, "ulimit -Sn 1024 && exec");
  ASSERT_TRUE(wait_until([&] { return home.healthy(); }, 10s)) << daemon->stderr_text();
  EXPECT_GT(soft_open_files(daemon->pid()), 1024) << "the daemon kept the soft limit of 1,024";
  auto fds = open_idle_connections(home.port, 1100);
  ASSERT_EQ(fds.size(), 1100u);
  EXPECT_TRUE(wait_until([&] { return home.healthy(); }, 5s)) << "/health stopped answering";
  for (const int fd : fds) ::close(fd);
  daemon->signal(SIGTERM);
  EXPECT_EQ(daemon->wait(10s), 0);
}

TEST(DaemonFiles, PastTheConnectionCapTheOldestIdleGoesAndHealthStillAnswers) {
  GatewayHome home;
  home.write_config();
  // A hard limit of 512: the cap is 384 client connections.
  auto daemon = start_through_shell(home, "ulimit -n 512 && exec");
  ASSERT_TRUE(wait_until([&] { return home.healthy(); }, 10s)) << daemon->stderr_text();
  auto fds = open_idle_connections(home.port, 600);
  EXPECT_TRUE(wait_until([&] { return home.healthy(); }, 5s)) << "/health stopped answering";
  // The daemon holds no more than its cap (plus its own few descriptors).
  std::size_t open = 0;
  for ([[maybe_unused]] const auto& entry :
       std::filesystem::directory_iterator("/proc/" + std::to_string(daemon->pid()) + "/fd")) {
    ++open;
  }
  EXPECT_LT(open, 512u);
  for (const int fd : fds) ::close(fd);
  daemon->signal(SIGTERM);
  EXPECT_EQ(daemon->wait(10s), 0);
}

TEST(DaemonStart, SecondInstanceForTheSameHomeIsRefused) {
  GatewayHome home;
  home.write_config();
  auto first = home.start(home.env());
  ASSERT_TRUE(wait_until([&] { return home.healthy(); }, 10s)) << first->stderr_text();
  auto second = home.start(home.env());
  EXPECT_EQ(second->wait(10s), 78);
  EXPECT_THAT(second->stderr_text(),
              HasSubstr("another hermes-gateway (pid " + std::to_string(first->pid()) + ")"));
  first->signal(SIGTERM);
  EXPECT_EQ(first->wait(10s), 0);
}

TEST(DaemonHttp, BadInputGetsA4xxAndTheDaemonStaysUp) {
  GatewayHome home;
  home.write_config();
  auto daemon = home.start(home.env());
  ASSERT_TRUE(wait_until([&] { return home.healthy(); }, 10s)) << daemon->stderr_text();

  auto exchange = [&](const std::string& raw) {
    const int fd = connect_loopback(home.port);
    std::string r = send_and_read(fd, raw);
    ::close(fd);
    return r;
  };
  EXPECT_THAT(exchange("NONSENSE\r\n\r\n"), StartsWith("HTTP/1.1 400"));
  const auto too_big =
      exchange("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 5000000\r\n\r\n");
  EXPECT_THAT(too_big, StartsWith("HTTP/1.1 413"));
  EXPECT_THAT(too_big, HasSubstr("the limit is 1 MiB"));
  EXPECT_THAT(exchange("GET /health HTTP/1.1\r\nX-Big: " + std::string(20000, 'a') + "\r\n\r\n"),
              StartsWith("HTTP/1.1 431"));
  std::string body;
  EXPECT_EQ(http_get_status(home.port, "/nowhere", &body), 404);
  EXPECT_THAT(body, HasSubstr("\"type\":\"invalid_request_error\""));
  EXPECT_THAT(exchange("DELETE /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"),
              HasSubstr("Allow: GET"));
  EXPECT_EQ(http_get_status(home.port, "/metrics", &body), 200);
  EXPECT_THAT(body, HasSubstr("hermes_http_requests_total{route=\"invalid\",status=\"400\"} 1"));
  EXPECT_THAT(body, HasSubstr("hermes_build_info{version=\"0.1.0\"} 1"));
  EXPECT_TRUE(home.healthy());
  daemon->signal(SIGTERM);
  EXPECT_EQ(daemon->wait(10s), 0);
}

TEST(DaemonStatus, TwoHomesKeepTwoSocketsAndStatusFindsTheForegroundDaemonOfEach) {
  TempDir runtime;  // one XDG_RUNTIME_DIR, as for two gateways of one user
  GatewayHome a, b;
  a.write_config();
  b.write_config();
  const auto env_for = [&](const GatewayHome& home) {
    auto options = home.env();
    options.env["XDG_RUNTIME_DIR"] = runtime.path().string();
    return options;
  };
  auto first = a.start(env_for(a));
  auto second = b.start(env_for(b));
  ASSERT_TRUE(wait_until([&] { return a.healthy() && b.healthy(); }, 10s))
      << first->stderr_text() << second->stderr_text();
  const auto status_of = [&](const GatewayHome& home) {
    const auto r = run_process(kCliBin, {"gateway", "status", "--json"},
                               {{"HERMES_HOME", home.home()},
                                {"XDG_RUNTIME_DIR", runtime.path().string()},
                                {"DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent"}});
    auto parsed = nlohmann::json::parse(r.out, nullptr, false);
    EXPECT_TRUE(parsed.is_object()) << r.exit_code << r.out << r.err;
    return parsed;
  };
  auto seen_a = status_of(a);
  auto seen_b = status_of(b);
  ASSERT_TRUE(seen_a.is_object() && seen_b.is_object());
  EXPECT_EQ(seen_a["foreground"]["pid"], first->pid());
  EXPECT_EQ(seen_b["foreground"]["pid"], second->pid());

  // The first one going away leaves the second one's socket alone.
  first->signal(SIGTERM);
  EXPECT_EQ(first->wait(10s), 0);
  EXPECT_EQ(status_of(b)["foreground"]["pid"], second->pid());
  EXPECT_TRUE(status_of(a)["foreground"].is_null());
  second->signal(SIGTERM);
  EXPECT_EQ(second->wait(10s), 0);
}

TEST(DaemonStatus, RuntimeViewOnAPrivateUnixSocket) {
  GatewayHome home;
  home.write_config();
  auto daemon = home.start(home.env());
  ASSERT_TRUE(wait_until([&] { return home.healthy(); }, 10s)) << daemon->stderr_text();
  const auto socket_path = home.status_socket();
  struct stat info {};
  ASSERT_EQ(::stat(socket_path.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600u);
  ASSERT_EQ(::stat(socket_path.parent_path().c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0700u);

  const auto view = nlohmann::json::parse(home.runtime_status()).get<RuntimeStatus>();
  EXPECT_EQ(view.state, "serving");
  EXPECT_EQ(view.pid, daemon->pid());
  EXPECT_EQ(view.active_runs, 0);
  ASSERT_FALSE(view.platforms.empty());
  EXPECT_EQ(view.platforms[0].name, "api_server");
  EXPECT_EQ(view.platforms[0].detail, "127.0.0.1:" + std::to_string(home.port));
  daemon->signal(SIGTERM);
  EXPECT_EQ(daemon->wait(10s), 0);
  EXPECT_FALSE(std::filesystem::exists(socket_path)) << "socket file left behind";
}

}  // namespace
}  // namespace hermes::testing
