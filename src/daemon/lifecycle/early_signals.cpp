#include "daemon/lifecycle/early_signals.hpp"

#include <signal.h>

#include <algorithm>
#include <atomic>

namespace hermes::daemon {

namespace {

constexpr int kHeld[] = {SIGTERM, SIGINT, SIGUSR1, SIGHUP};
// Arrival order, one slot per kind: only async-signal-safe atomics in the handler.
std::atomic<int> arrivals[4];
std::atomic<int> next_arrival{0};

void remember(int signal) {
  for (auto& slot : arrivals) {
    if (slot.load() == signal) return;  // already held
  }
  const int at = next_arrival.fetch_add(1);
  if (at < 4) arrivals[at].store(signal);
}

}  // namespace

void hold_early_signals() {
  ::signal(SIGPIPE, SIG_IGN);
  struct sigaction action {};
  action.sa_handler = remember;
  ::sigemptyset(&action.sa_mask);
  for (const int signal : kHeld) ::sigaction(signal, &action, nullptr);
}

std::vector<int> take_early_signals() {
  std::vector<int> held;
  const int count = std::min(next_arrival.load(), 4);
  for (int i = 0; i < count; ++i) {
    if (const int signal = arrivals[i].exchange(0); signal != 0) held.push_back(signal);
  }
  return held;
}

}  // namespace hermes::daemon
