// Lifecycle figures for the closing notes, measured in one run on this machine:
//   exec → READY=1 (fake NOTIFY_SOCKET), idle RSS, and under a private systemd user manager:
//   SIGUSR1 → new process serving, and connections refused across 20 restarts under load.
// Usage: hermes_lifecycle_bench [restarts]
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <thread>

#include "../tests/integration/daemon_fixture.hpp"
#include "../tests/integration/user_manager.hpp"
#include "bench_util.hpp"

using namespace hermes::testing;
using namespace hermes::bench;
using namespace std::chrono;

namespace {

int served_pid(int port) {
  std::string body;
  if (http_get_status(port, "/health", &body) != 200) return 0;
  return nlohmann::json::parse(body, nullptr, false).value("pid", 0);
}

}  // namespace

int main(int argc, char** argv) {
  const int restarts = argc > 1 ? std::atoi(argv[1]) : 20;

  // 1. exec → READY=1 and idle RSS, without systemd.
  std::vector<double> ready_ms;
  long rss = 0;
  for (int i = 0; i < 10; ++i) {
    GatewayHome home;
    home.write_config();
    NotifySocket notify(home.dir.path() / "notify.sock");
    const auto t0 = steady_clock::now();
    auto daemon = home.start(home.env(notify.path().string()));
    if (!notify.receive_containing("READY=1", 10s)) {
      std::cerr << "no READY: " << daemon->stderr_text();
      return 1;
    }
    ready_ms.push_back(duration<double, std::milli>(steady_clock::now() - t0).count());
    if (i == 0) {
      std::this_thread::sleep_for(500ms);  // idle, after start-up settles
      rss = rss_kib(daemon->pid());
    }
    daemon->signal(SIGTERM);
    daemon->wait(10s);
  }

  // 2. Restarts under a real systemd user manager, with a client hammering /health.
  UserManager manager;
  if (auto error = manager.start(); !error.empty()) {
    std::cerr << error << '\n';
    return 1;
  }
  GatewayHome home;
  home.write_config();
  manager.install_unit("hermes-gateway.service", render_unit_template(home.home()));
  if (manager.systemctl({"start", "hermes-gateway.service"}).exit_code != 0) return 1;

  std::atomic<bool> done{false};
  std::atomic<long> answered{0}, refused{0}, failed{0};
  std::vector<double> latency_ms;
  std::thread client([&] {
    while (!done) {
      const auto t = steady_clock::now();
      const int status = http_get_status(home.port, "/health");
      const double ms = duration<double, std::milli>(steady_clock::now() - t).count();
      if (status == 200) {
        ++answered;
        latency_ms.push_back(ms);
      } else if (status == -ECONNREFUSED) {
        ++refused;
      } else {
        ++failed;
      }
    }
  });
  std::vector<double> restart_ms;
  for (int i = 0; i < restarts; ++i) {
    const int old_pid = std::atoi(manager.show("hermes-gateway.service", "MainPID").c_str());
    const auto t0 = steady_clock::now();
    ::kill(old_pid, SIGUSR1);
    if (!wait_until(
            [&] {
              const int p = served_pid(home.port);
              return p != 0 && p != old_pid;
            },
            10s)) {
      std::cerr << "restart " << i << " did not complete\n";
      break;
    }
    restart_ms.push_back(duration<double, std::milli>(steady_clock::now() - t0).count());
  }
  done = true;
  client.join();

  std::printf("exec -> READY=1 (10 starts)          median %.1f ms\n", median(ready_ms));
  std::printf("idle RSS                              %ld KiB\n", rss);
  std::printf("SIGUSR1 -> new process serving (%d)   median %.1f ms, max %.1f ms\n",
              static_cast<int>(restart_ms.size()), median(restart_ms),
              restart_ms.empty() ? 0 : *std::max_element(restart_ms.begin(), restart_ms.end()));
  std::printf("requests during restarts              %ld answered, %ld refused, %ld failed\n",
              answered.load(), refused.load(), failed.load());
  std::printf("GET /health latency during restarts   p50 %.2f ms, p99 %.2f ms, max %.1f ms\n",
              percentile(latency_ms, 0.5), percentile(latency_ms, 0.99),
              percentile(latency_ms, 1.0));
  return refused == 0 && failed == 0 ? 0 : 1;
}
