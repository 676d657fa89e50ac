// Wall time of `hermes gateway restart` under a private systemd user manager, 10 runs each:
// an idle gateway, and one with a request in flight that completes 500 ms after the restart
// begins (the drain must wait for it). Usage: hermes_cli_restart_bench [runs]
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <iostream>
#include <thread>

#include "../tests/integration/daemon_fixture.hpp"
#include "../tests/integration/user_manager.hpp"
#include "bench_util.hpp"

using namespace hermes::testing;
using namespace hermes::bench;
using namespace std::chrono;

namespace {

int open_partial_request(int port) {
  const int fd = connect_loopback(port);
  ::send(fd, "GET /health HTTP/1.1\r\nHost: x\r\n", 31, MSG_NOSIGNAL);
  return fd;
}

}  // namespace

int main(int argc, char** argv) {
  const int runs = argc > 1 ? std::atoi(argv[1]) : 10;
  UserManager manager;
  if (auto error = manager.start(); !error.empty()) {
    std::cerr << error << '\n';
    return 1;
  }
  GatewayHome home;
  home.write_config();
  auto env = manager.client_env();
  env["HERMES_HOME"] = home.home();
  if (run_process(kCliBin, {"gateway", "install", "--from-build-tree"}, env).exit_code != 0)
    return 1;

  std::vector<double> idle_ms, inflight_ms;
  for (int i = 0; i < runs; ++i) {
    const auto t0 = steady_clock::now();
    const auto r = run_process(kCliBin, {"gateway", "restart"}, env);
    idle_ms.push_back(duration<double, std::milli>(steady_clock::now() - t0).count());
    if (r.exit_code != 0) {
      std::cerr << "idle restart failed: " << r.out << r.err;
      return 1;
    }
  }
  for (int i = 0; i < runs; ++i) {
    const int fd = open_partial_request(home.port);
    std::this_thread::sleep_for(50ms);  // the request is accepted and in flight
    std::thread finisher([fd] {
      std::this_thread::sleep_for(500ms);
      ::send(fd, "\r\n", 2, MSG_NOSIGNAL);
      char buffer[1024];
      while (::recv(fd, buffer, sizeof(buffer), 0) > 0) {
      }
      ::close(fd);
    });
    const auto t0 = steady_clock::now();
    const auto r = run_process(kCliBin, {"gateway", "restart"}, env);
    inflight_ms.push_back(duration<double, std::milli>(steady_clock::now() - t0).count());
    finisher.join();
    if (r.exit_code != 0) {
      std::cerr << "in-flight restart failed: " << r.out << r.err;
      return 1;
    }
  }
  std::printf("hermes gateway restart, idle gateway (%d runs)                 median %.0f ms\n",
              runs, median(idle_ms));
  std::printf("hermes gateway restart, request in flight for 500 ms (%d runs) median %.0f ms\n",
              runs, median(inflight_ms));
  return 0;
}
