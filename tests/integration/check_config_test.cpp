// Runs the real hermes-gateway and hermes binaries the way a user does.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "process.hpp"

namespace hermes::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr const char* kGateway = HERMES_GATEWAY_BIN;
constexpr const char* kCli = HERMES_CLI_BIN;

constexpr const char* kValidConfig = R"(model:
  provider: local
  default: demo-model
providers:
  local:
    base_url: http://127.0.0.1:9
    api_keys: ["${DEMO_KEY}"]
gateway:
  api_server: { host: 127.0.0.1, port: 8642 }
)";

TEST(CheckConfig, ValidConfigExitsZeroAndSummarises) {
  TempDir home;
  home.write("config.yaml", kValidConfig);
  home.write(".env", "DEMO_KEY=sk-demo-secret-123456789\n");
  const auto r = run_process(kGateway, {"--check-config", "--home", home.path().string()});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("config OK"));
  EXPECT_THAT(r.out, HasSubstr("demo-model via local (1 key(s))"));
  EXPECT_THAT(r.out + r.err, Not(HasSubstr("sk-demo-secret")));
}

TEST(CheckConfig, CronAndWebhooksAreCheckedAndTheGatewayRefusesToStartWithThem) {
  TempDir home;
  home.write("config.yaml", std::string(kValidConfig) + R"(cron: {timezone: Mars/Olympus_Mons}
webhooks:
  routes:
    gh: {secret: s, prompt: "New issue {issue.title", deliver: "telegram:1"}
)");
  home.write(".env", "DEMO_KEY=sk-demo\n");
  const auto r = run_process(kGateway, {"--check-config", "--home", home.path().string()});
  EXPECT_EQ(r.exit_code, 78) << r.out << r.err;
  EXPECT_THAT(r.err, HasSubstr("cron.timezone 'Mars/Olympus_Mons' is not a known time zone"));
  EXPECT_THAT(r.err, HasSubstr("webhooks.routes.gh.prompt: "));
  EXPECT_THAT(r.err, HasSubstr("webhooks.routes.gh.deliver: telegram is not enabled"));
  const auto start = run_process(kGateway, {"--home", home.path().string()});
  EXPECT_EQ(start.exit_code, 78) << "a start is refused the same way";
  EXPECT_THAT(start.err, HasSubstr("Mars/Olympus_Mons"));
}

TEST(CheckConfig, McpServersAreCheckedForAMissingCommandABadUrlAndABadName) {
  TempDir home;
  home.write("config.yaml", std::string(kValidConfig) + R"(mcp_servers:
  files: {command: /nonexistent/bin/mcp-files, args: [/srv]}
  notes: {command: no-such-mcp-server-on-path}
)");
  home.write(".env", "DEMO_KEY=sk-demo\n");
  auto r = run_process(kGateway, {"--check-config", "--home", home.path().string()});
  EXPECT_EQ(r.exit_code, 78) << r.out << r.err;
  EXPECT_THAT(r.err, HasSubstr("mcp_servers.files.command: '/nonexistent/bin/mcp-files' is not an "
                               "executable file"));
  EXPECT_THAT(r.err, HasSubstr("'no-such-mcp-server-on-path' is not an executable file on PATH"));

  home.write("config.yaml", std::string(kValidConfig) + R"(mcp_servers:
  remote: {url: "ftp://example.com/mcp"}
  both: {command: /bin/true, url: "http://127.0.0.1:1/mcp"}
  "bad name": {command: /bin/true}
  ok: {command: /bin/true, timeout: 5, tools: {include: [a], exclude: [b], require_approval: [c]}}
approvals: {unattended: maybe}
agent: {max_tool_iterations: 0}
)");
  r = run_process(kGateway, {"--check-config", "--home", home.path().string()});
  EXPECT_EQ(r.exit_code, 78) << r.out << r.err;
  EXPECT_THAT(r.err, HasSubstr("mcp_servers.remote.url: expected an http:// or https:// URL"));
  EXPECT_THAT(r.err, HasSubstr("mcp_servers.both: has both command and url; keep one"));
  EXPECT_THAT(r.err, HasSubstr("mcp_servers.bad name: a server name may hold only"));
  EXPECT_THAT(r.err, HasSubstr("approvals.unattended: expected deny or allow, got 'maybe'"));
  EXPECT_THAT(r.err, HasSubstr("agent.max_tool_iterations: expected an integer 1-1000"));
  EXPECT_THAT(r.err, Not(HasSubstr("mcp_servers.ok")));

  home.write("config.yaml", std::string(kValidConfig) + R"(mcp_servers:
  shell: {command: sh, args: [-c, "exit 0"]}
)");
  r = run_process(kGateway, {"--check-config", "--home", home.path().string()});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("mcp_servers: 1"));
}

TEST(CheckConfig, HermesHomeFromEnvironment) {
  TempDir home;
  home.write("config.yaml", kValidConfig);
  home.write(".env", "DEMO_KEY=sk-demo-secret-123456789\n");
  const auto r = run_process(kGateway, {"--check-config"}, {{"HERMES_HOME", home.path().string()}});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("config OK"));
}

TEST(CheckConfig, AProviderWhoseKeysAreAllUnsetIsRefused) {
  TempDir home;
  home.write("config.yaml", kValidConfig);
  const auto r = run_process(kGateway, {"--check-config", "--home", home.path().string()});
  EXPECT_EQ(r.exit_code, 78);
  EXPECT_THAT(r.err, HasSubstr("${DEMO_KEY} is not set"));
  EXPECT_THAT(r.err, HasSubstr("providers.local.api_keys: no usable key"));
}

TEST(CheckConfig, InvalidConfigExits78NamingTheKey) {
  TempDir home;
  home.write("config.yaml", std::string(kValidConfig) + "agent:\n  api_max_retries: lots\n");
  home.write(".env", "DEMO_KEY=sk-demo-secret-123456789\n");
  const auto r = run_process(kGateway, {"--check-config", "--home", home.path().string()});
  EXPECT_EQ(r.exit_code, 78);
  EXPECT_THAT(r.err, HasSubstr("agent.api_max_retries: expected an integer 1-20, got 'lots'"));
  EXPECT_THAT(r.err, HasSubstr("1 error; the gateway will not start"));
}

TEST(CheckConfig, PublicBindWithoutKeyExits78) {
  TempDir home;
  std::string config = kValidConfig;
  config.replace(config.find("host: 127.0.0.1"), 15, "host: 0.0.0.0");
  home.write("config.yaml", config);
  const auto r = run_process(kGateway, {"--check-config", "--home", home.path().string()});
  EXPECT_EQ(r.exit_code, 78);
  EXPECT_THAT(r.err, HasSubstr("gateway.api_server.host: '0.0.0.0' is reachable"));
}

TEST(CheckConfig, MissingConfigExits78) {
  TempDir home;
  const auto r = run_process(kGateway, {"--check-config", "--home", home.path().string()});
  EXPECT_EQ(r.exit_code, 78);
  EXPECT_THAT(r.err, HasSubstr("config.yaml: no such file"));
}

TEST(CheckConfig, ExplicitConfigFileWins) {
  TempDir home;
  home.write("other.yaml", kValidConfig);
  home.write(".env", "DEMO_KEY=sk-demo-secret-123456789\n");
  const auto r = run_process(kGateway, {"--check-config", "--home", home.path().string(),
                                        "--config", (home.path() / "other.yaml").string()});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("other.yaml"));
}

// The YAML blocks of a Markdown file that are whole configs (they start with `model:`).
std::vector<std::string> config_blocks(const std::filesystem::path& markdown) {
  std::ifstream in(markdown);
  std::stringstream text;
  text << in.rdbuf();
  std::vector<std::string> blocks;
  const std::string doc = text.str();
  for (std::size_t at = doc.find("```yaml\n"); at != std::string::npos;
       at = doc.find("```yaml\n", at + 1)) {
    const auto start = at + 8;
    const auto end = doc.find("```", start);
    const auto block = doc.substr(start, end - start);
    if (block.starts_with("model:")) blocks.push_back(block);
  }
  return blocks;
}

TEST(CheckConfig, TheExampleConfigAndEveryReadmeConfigPassTheCheck) {
  const std::filesystem::path source = HERMES_SOURCE_DIR;
  auto configs = config_blocks(source / "README.md");
  ASSERT_FALSE(configs.empty()) << "README.md shows no config";
  for (const char* file : {"config.example.yaml", "scripts/demo-config.yaml"}) {
    std::ifstream example(source / file);
    std::stringstream text;
    text << example.rdbuf();
    configs.push_back(text.str());
  }
  for (const auto& config : configs) {
    TempDir home;
    home.write("config.yaml", config);
    home.write(".env",
               "OPENAI_API_KEY=sk-a\nOPENAI_API_KEY_2=sk-b\nOPENROUTER_API_KEY=sk-c\n"
               "API_SERVER_KEY=local\nTELEGRAM_BOT_TOKEN=1:x\nANTHROPIC_API_KEY=sk-ant-d\n");
    const auto r = run_process(kGateway, {"--check-config", "--home", home.path().string()});
    EXPECT_EQ(r.exit_code, 0) << r.err << "\n--- config:\n" << config;
    EXPECT_THAT(r.err, Not(HasSubstr("unknown key"))) << config;
  }
}

TEST(Cli, VersionAndHelp) {
  auto r = run_process(kCli, {"--version"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_THAT(r.out, HasSubstr("0.1.0"));
  r = run_process(kCli, {"gateway", "run", "--help"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_THAT(r.out, HasSubstr("Example: hermes gateway run"));
}

TEST(Cli, EveryVerbExplainsItselfWithAnExample) {
  for (const char* verb :
       {"install", "uninstall", "start", "stop", "restart", "status", "logs", "run", "cooldowns"}) {
    const auto r = run_process(kCli, {"gateway", verb, "--help"});
    EXPECT_EQ(r.exit_code, 0) << verb;
    EXPECT_THAT(r.out, HasSubstr(std::string("Example: hermes gateway ") + verb)) << verb;
  }
  const auto r = run_process(kCli, {"gateway", "restart", "--help"});
  EXPECT_THAT(r.out, HasSubstr("--drain-timeout"));
  EXPECT_THAT(r.out, HasSubstr("--start-timeout"));
  EXPECT_THAT(r.out, HasSubstr("--system"));
}

TEST(Cli, UsageErrorsExit2AndNameWhatWasWrong) {
  auto r = run_process(kCli, {"gateway", "bogus"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("unknown verb 'bogus'"));
  r = run_process(kCli, {"gatewy", "status"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("unknown command 'gatewy'"));
  r = run_process(kCli, {"gateway", "status", "--bogus"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("--bogus"));
  r = run_process(kCli, {"gateway"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("needs a verb: install, uninstall, start"));
}

TEST(Cli, RunExecsTheDaemonBesideIt) {
  TempDir home;
  home.write("config.yaml", std::string(kValidConfig) + "bogus: 1\n");
  home.write(".env", "DEMO_KEY=sk-demo-secret-123456789\n");
  const auto r =
      run_process(kCli, {"gateway", "run", "--", "--check-config", "--home", home.path().string()});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.err, HasSubstr("bogus: unknown key"));
}

}  // namespace
}  // namespace hermes::testing
