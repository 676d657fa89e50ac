// Time from a user's Telegram message to the bot's reply, through the Bot API emulator
// (telegram-test-api) with a fake provider that answers at once. Usage: hermes_telegram_bench [n]
#include <signal.h>

#include <algorithm>
#include <cstdio>
#include <iostream>

#include "../tests/integration/daemon_fixture.hpp"
#include "../tests/integration/fake_provider.hpp"
#include "../tests/integration/telegram_emulator.hpp"
#include "bench_util.hpp"

using namespace hermes::testing;
using namespace hermes::bench;
using namespace std::chrono;

int main(int argc, char** argv) {
  const int n = argc > 1 ? std::atoi(argv[1]) : 30;
  FakeProvider fake;
  TelegramEmulator emulator;
  GatewayHome home;
  home.write_provider_config(fake.base_url(), "[k1]",
                             "  telegram: {enabled: true, api_base: '" + emulator.api_base() +
                                 "', bot_token: '" + TelegramEmulator::kToken +
                                 "', allow_all_users: true}\n");
  auto daemon = home.start(home.env());
  if (!wait_until([&] { return home.healthy(); }, 10s)) return 1;
  std::vector<double> ms;
  for (int i = 0; i < n; ++i) {
    const auto t0 = steady_clock::now();
    emulator.send(4242, "ping " + std::to_string(i));
    if (!wait_until([&] { return !emulator.bot_messages(4242).empty(); }, 10s)) {
      std::cerr << "no reply to message " << i << '\n';
      return 1;
    }
    ms.push_back(duration<double, std::milli>(steady_clock::now() - t0).count());
  }
  std::sort(ms.begin(), ms.end());
  std::printf(
      "telegram message -> reply (%d messages, 0 ms provider): median %.0f ms, min %.0f ms, max "
      "%.0f ms\n",
      n, ms[ms.size() / 2], ms.front(), ms.back());
  daemon->signal(SIGTERM);
  daemon->wait(10s);
  return 0;
}
