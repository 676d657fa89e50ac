// Runs tests/node/openai_client.test.mjs (the official `openai` npm client) against the real
// daemon and the fake provider.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>

#include "daemon_fixture.hpp"
#include "fake_provider.hpp"

namespace hermes::testing {
namespace {

using namespace std::chrono_literals;

TEST(OpenAiNodeClient, PlainStreamedSessionModelsClientToolsAndTypedErrors) {
  ASSERT_TRUE(std::filesystem::exists(std::string(HERMES_NODE_TESTS) + "/node_modules/openai"))
      << "run scripts/setup.sh (it installs the npm test peers)";
  FakeProvider fake;
  GatewayHome home;
  home.write_provider_config(fake.base_url(), "[k1, k2]");
  auto daemon = home.start(home.env());
  ASSERT_TRUE(wait_until([&] { return home.healthy(); }, 10s)) << daemon->stderr_text();

  const auto r =
      run_process(HERMES_NODE,
                  {"--test", "--test-reporter=spec",
                   std::string(HERMES_NODE_TESTS) + "/openai_client.test.mjs"},
                  {{"GATEWAY_BASE_URL", "http://127.0.0.1:" + std::to_string(home.port) + "/v1"},
                   {"FAKE_PROVIDER_URL", "http://127.0.0.1:" + std::to_string(fake.port())}});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err << "\ndaemon:\n" << daemon->stderr_text();
  EXPECT_THAT(r.out, ::testing::HasSubstr("pass 9"));
  EXPECT_TRUE(home.healthy());
  daemon->signal(SIGTERM);
  EXPECT_EQ(daemon->wait(10s), 0);
}

// The Responses API through the same client; a chain started before a restart of the daemon
// goes on after it.
TEST(OpenAiNodeClient, ResponsesPlainStreamedChainedAcrossARestartToolsAndFailures) {
  ASSERT_TRUE(std::filesystem::exists(std::string(HERMES_NODE_TESTS) + "/node_modules/openai"))
      << "run scripts/setup.sh (it installs the npm test peers)";
  FakeProvider fake;
  GatewayHome home;
  home.write_provider_config(fake.base_url(), "[k1, k2]");
  const std::string chain_file = home.home() + "/chain-id";
  auto run_phase = [&](const char* phase) {
    return run_process(
        HERMES_NODE,
        {"--test", "--test-reporter=spec", std::string(HERMES_NODE_TESTS) + "/responses.test.mjs"},
        {{"GATEWAY_BASE_URL", "http://127.0.0.1:" + std::to_string(home.port) + "/v1"},
         {"FAKE_PROVIDER_URL", "http://127.0.0.1:" + std::to_string(fake.port())},
         {"PHASE", phase},
         {"CHAIN_FILE", chain_file}});
  };

  auto daemon = home.start(home.env());
  ASSERT_TRUE(wait_until([&] { return home.healthy(); }, 10s)) << daemon->stderr_text();
  auto r = run_phase("before");
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err << "\ndaemon:\n" << daemon->stderr_text();
  EXPECT_THAT(r.out, ::testing::HasSubstr("pass 6"));
  daemon->signal(SIGTERM);
  ASSERT_EQ(daemon->wait(10s), 0);

  daemon = home.start(home.env());
  ASSERT_TRUE(wait_until([&] { return home.healthy(); }, 10s)) << daemon->stderr_text();
  r = run_phase("after");
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err << "\ndaemon:\n" << daemon->stderr_text();
  EXPECT_THAT(r.out, ::testing::HasSubstr("pass 2"));
  daemon->signal(SIGTERM);
  EXPECT_EQ(daemon->wait(10s), 0);
}

}  // namespace
}  // namespace hermes::testing
