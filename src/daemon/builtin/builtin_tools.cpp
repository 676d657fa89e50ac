#include "daemon/builtin/builtin_tools.hpp"

#include <fcntl.h>
#include <spawn.h>
#include <spdlog/spdlog.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <nlohmann/json.hpp>

#include "daemon/agent/session_store.hpp"
#include "daemon/builtin/command_danger.hpp"
#include "daemon/builtin/memory_store.hpp"
#include "daemon/builtin/session_search.hpp"
#include "daemon/builtin/terminal_runner.hpp"
#include "daemon/builtin/tool_schemas.hpp"
#include "daemon/builtin/web_fetch.hpp"
#include "daemon/builtin/workspace_files.hpp"
#include "daemon/providers/offload.hpp"
#include "daemon/tools/child_spawn.hpp"

namespace hermes::daemon::builtin {

namespace asio = boost::asio;
using nlohmann::json;
using tools::mcp::ToolOutcome;

namespace {

constexpr const char* kCommandPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

ToolOutcome failed(std::string text) {
  return {std::move(text), true};
}

std::string text_field(const json& args, const char* name) {
  const auto it = args.find(name);
  return it != args.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// Runs `argv` to its end, blocking (only the start's one short probe): its exit status and
// what it wrote to stderr.
int run_probe(std::vector<std::string> argv, std::string& said) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return -1;
  posix_spawn_file_actions_t files;
  posix_spawn_file_actions_init(&files);
  posix_spawn_file_actions_addopen(&files, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&files, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_adddup2(&files, fds[1], 2);
  posix_spawnattr_t attributes;
  tools::isolate_signals_and_group(attributes);
  const auto args = tools::exec_array(argv);
  char* no_environment[] = {nullptr};
  pid_t pid = -1;
  const int rc = ::posix_spawn(&pid, args[0], &files, &attributes, args.data(), no_environment);
  posix_spawn_file_actions_destroy(&files);
  posix_spawnattr_destroy(&attributes);
  ::close(fds[1]);
  if (rc != 0) {
    ::close(fds[0]);
    said = std::string("cannot start ") + argv.front() + ": " + std::strerror(rc);
    return -1;
  }
  char buffer[4096];
  for (ssize_t n; (n = ::read(fds[0], buffer, sizeof buffer)) > 0;) {
    said.append(buffer, static_cast<std::size_t>(n));
  }
  ::close(fds[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  while (!said.empty() && said.back() == '\n') said.pop_back();
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::filesystem::path workspace_of(const Config& config, const std::filesystem::path& home) {
  if (config.tools.workspace.empty()) return home / "workspace";
  std::filesystem::path configured(config.tools.workspace);
  return configured.is_absolute() ? configured : home / configured;
}

bool contains(const std::filesystem::path& outer, const std::filesystem::path& inner) {
  const auto rel = inner.lexically_normal().lexically_relative(outer.lexically_normal());
  return !rel.empty() && *rel.begin() != "..";
}

}  // namespace

std::filesystem::path sandbox_program() {
  std::error_code ec;
  const auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
  return self.parent_path() / "hermes-sandbox";
}

struct BuiltinTools::Impl {
  Impl(asio::io_context& io_context, std::filesystem::path home_dir, SessionStore* store)
      : io(io_context), home(std::move(home_dir)), memory(home), sessions(store) {}

  void configure(const Config& config) {
    settings = config.tools;
    unattended_allow = config.approvals.unattended_allow;
    workspace = workspace_of(config, home);
    offered = offered_tool_entries(settings, sessions != nullptr);
    names = offered_tool_names(settings, sessions != nullptr);
  }

  // Why the workspace tools cannot run ("" when they can).
  std::string workspace_problem() const {
    if (contains(workspace, home) || workspace.lexically_normal() == home.lexically_normal()) {
      return "tools.workspace (" + workspace.string() + ") contains the gateway's home (" +
             home.string() + "), which the tools must never reach; choose a directory inside " +
             "or beside it";
    }
    return workspace_error;
  }

  void prepare_workspace() {
    std::error_code ec;
    std::filesystem::create_directories(workspace, ec);
    workspace_error = ec ? "cannot create the workspace " + workspace.string() + ": " + ec.message()
                         : std::string();
    std::filesystem::create_directories(home / "sandbox", ec);
  }

  void warn_if_unconfined() const {
    if (!settings.terminal || settings.sandbox) return;
    spdlog::warn(
        "tools.terminal.sandbox is off: the terminal's commands run unconfined, with the "
        "gateway's user and rights (the gateway's home, its keys and its database included)");
  }

  // Asks the kernel, through hermes-sandbox --check off the event loop (a fork and a few
  // milliseconds), whether commands can be confined here; kept until the settings change.
  asio::awaitable<void> probe_sandbox() {
    const auto generation = ++probes;
    sandbox_checked = false;
    sandbox_error.clear();
    if (!settings.terminal || !settings.sandbox) {
      sandbox_checked = true;
      co_return;
    }
    std::vector<std::string> argv{sandbox_program().string(),
                                  "--check",
                                  "--workspace",
                                  workspace.string(),
                                  "--tmp",
                                  (home / "sandbox").string(),
                                  "--network",
                                  settings.terminal_network ? "all" : "none"};
    std::string said;
    int status = -1;
    std::function<void()> work = [&] { status = run_probe(argv, said); };
    co_await providers::offload(std::move(work));
    if (generation != probes) co_return;  // the settings changed meanwhile: a newer probe runs
    sandbox_checked = true;
    if (status == 0) co_return;
    const std::string prefix = "hermes-sandbox: ";
    if (said.starts_with(prefix)) said.erase(0, prefix.size());
    sandbox_error = said.empty() ? "the sandbox check failed" : said;
    spdlog::error("terminal: unavailable: {}", sandbox_error);
  }

  asio::awaitable<ToolOutcome> terminal(json args, BuiltinCall whose);
  asio::awaitable<bool> approved(const std::string& command, const CommandVerdict& verdict,
                                 const BuiltinCall& whose);
  TerminalLaunch launch_for(const std::filesystem::path& private_tmp) const;
  asio::awaitable<ToolOutcome> workspace_tool(std::string name, json args);
  asio::awaitable<ToolOutcome> search_sessions(json args, BuiltinCall whose);

  asio::io_context& io;
  std::filesystem::path home;
  MemoryFiles memory;
  SessionStore* sessions;
  BuiltinToolsConfig settings;
  bool unattended_allow = false;
  std::filesystem::path workspace;
  std::string workspace_error;
  std::string sandbox_error;
  bool sandbox_checked = false;
  std::uint64_t probes = 0;
  std::string offered;
  std::set<std::string> names;
};

BuiltinTools::BuiltinTools(asio::io_context& io, const Config& config, std::filesystem::path home,
                           SessionStore* sessions)
    : impl_(std::make_shared<Impl>(io, std::move(home), sessions)) {
  impl_->configure(config);
}

BuiltinTools::~BuiltinTools() = default;

namespace {

// A second after the start, so the probe (a fork and a few milliseconds of namespace set-up)
// never delays READY; a terminal call before then probes first.
asio::awaitable<void> probe_in_background(std::shared_ptr<BuiltinTools::Impl> impl,
                                          std::chrono::milliseconds delay) {
  asio::steady_timer wait(impl->io, delay);
  co_await wait.async_wait(asio::as_tuple(asio::use_awaitable));
  if (!impl->sandbox_checked) co_await impl->probe_sandbox();
}

}  // namespace

void BuiltinTools::start() {
  impl_->prepare_workspace();
  impl_->warn_if_unconfined();
  asio::co_spawn(impl_->io, probe_in_background(impl_, std::chrono::seconds(1)), asio::detached);
  if (!impl_->names.empty()) {
    spdlog::info("built-in tools: {} offered; workspace {}", impl_->names.size(),
                 impl_->workspace.string());
  }
}

void BuiltinTools::reconfigure(const Config& config) {
  const auto before = impl_->settings;
  const auto old_workspace = impl_->workspace;
  impl_->configure(config);
  if (impl_->workspace != old_workspace) impl_->prepare_workspace();
  if (before.sandbox != impl_->settings.sandbox || before.terminal != impl_->settings.terminal ||
      before.terminal_network != impl_->settings.terminal_network ||
      impl_->workspace != old_workspace) {
    impl_->warn_if_unconfined();
    impl_->sandbox_checked = false;
    asio::co_spawn(impl_->io, probe_in_background(impl_, std::chrono::milliseconds(0)),
                   asio::detached);
  }
}

const std::string& BuiltinTools::offered_entries() const {
  return impl_->offered;
}

bool BuiltinTools::offers(const std::string& name) const {
  return impl_->names.contains(name);
}

std::string BuiltinTools::memory_block(const std::string& user_key) const {
  if (!impl_->settings.memory) return {};
  return impl_->memory.prompt_block(user_key);
}

tools::ServerStatus BuiltinTools::status() const {
  tools::ServerStatus status{"builtin", "ready", impl_->names.size(), {}};
  if (auto problem = impl_->workspace_problem(); !problem.empty()) {
    status.state = "error";
    status.last_error = std::move(problem);
  } else if (!impl_->sandbox_error.empty()) {
    status.state = "error";
    status.last_error = "terminal unavailable: " + impl_->sandbox_error;
  }
  return status;
}

asio::awaitable<ToolOutcome> BuiltinTools::call(std::string name, std::string arguments,
                                                BuiltinCall whose) {
  auto impl = impl_;  // alive across the awaits, whatever reconfigures meanwhile
  if (!impl->names.contains(name)) {
    co_return failed("There is no tool named '" + name.substr(0, 100) + "'.");
  }
  json args = arguments.empty() ? json::object() : json::parse(arguments, nullptr, false);
  if (!args.is_object()) {
    co_return failed(
        "The arguments are not a JSON object; call the tool again with its arguments as a "
        "JSON object matching its schema.");
  }
  if (name == "memory") {
    std::string said;
    std::function<void()> work = [&] { said = impl->memory.apply(arguments, whose.user_key); };
    co_await providers::offload(std::move(work));  // it writes and fsyncs a file
    const bool refused = said.starts_with("Error: ");
    if (refused) said.erase(0, 7);  // the turn runner says "Error: " itself
    co_return ToolOutcome{std::move(said), refused};
  }
  if (name == "session_search") co_return co_await impl->search_sessions(std::move(args), whose);
  if (name == "web_fetch") {
    std::string url = text_field(args, "url");
    co_return co_await fetch_page(impl->io, std::move(url), impl->settings.web_allow_private,
                                  whose.abort);
  }
  if (const auto problem = impl->workspace_problem(); !problem.empty()) {
    co_return failed("The tool cannot run: " + problem + ".");
  }
  if (name == "terminal") co_return co_await impl->terminal(std::move(args), whose);
  co_return co_await impl->workspace_tool(std::move(name), std::move(args));
}

asio::awaitable<ToolOutcome> BuiltinTools::Impl::workspace_tool(std::string name, json args) {
  FileToolResult result;
  const Workspace files(workspace.string());
  std::function<void()> work = [&] {
    if (name == "read_file") result = files.read_file(args);
    if (name == "write_file") result = files.write_file(args);
    if (name == "patch") result = files.patch(args);
    if (name == "list_files") result = files.list_files(args);
    if (name == "search_files") result = files.search_files(args);
  };
  co_await providers::offload(std::move(work));  // file I/O never on the event loop
  co_return ToolOutcome{std::move(result.text), !result.ok};
}

asio::awaitable<ToolOutcome> BuiltinTools::Impl::search_sessions(json args, BuiltinCall whose) {
  const auto query = text_field(args, "query");
  const auto words = search_words(query);
  if (words.empty()) co_return failed("query is required: the words to look for");
  if (whose.user_key.empty()) {
    co_return failed(
        "This conversation has no platform user, so there are no earlier sessions of theirs "
        "to search.");
  }
  std::string user = whose.user_key;  // named: GCC 12
  std::string except = whose.session_id;
  auto hits = co_await sessions->search(std::move(user), words, std::move(except), 10);
  co_return ToolOutcome{search_result_text(query, hits), false};
}

TerminalLaunch BuiltinTools::Impl::launch_for(const std::filesystem::path& private_tmp) const {
  TerminalLaunch launch;
  launch.workspace = workspace.string();
  launch.timeout = settings.terminal_timeout;
  launch.environment = {std::string("PATH=") + kCommandPath, "HOME=" + workspace.string(),
                        "LANG=C.UTF-8", "TERM=dumb", "TMPDIR=" + private_tmp.string()};
  if (!settings.sandbox) return launch;
  const auto seconds = std::chrono::ceil<std::chrono::seconds>(settings.terminal_timeout).count();
  launch.sandbox = sandbox_program().string();
  launch.sandbox_options = {"--workspace",   workspace.string(),
                            "--tmp",         private_tmp.string(),
                            "--network",     settings.terminal_network ? "all" : "none",
                            "--cpu-seconds", std::to_string(seconds)};
  return launch;
}

asio::awaitable<bool> BuiltinTools::Impl::approved(const std::string& command,
                                                   const CommandVerdict& verdict,
                                                   const BuiltinCall& whose) {
  spdlog::info("terminal: a command needs approval: {}", verdict.why);
  if (!whose.approver || !*whose.approver) co_return unattended_allow;
  std::string tool = "terminal (" + verdict.why + ")";  // named: GCC 12
  std::string shown = command;
  co_return co_await (*whose.approver)(std::move(tool), std::move(shown));
}

asio::awaitable<ToolOutcome> BuiltinTools::Impl::terminal(json args, BuiltinCall whose) {
  const auto command = text_field(args, "command");
  if (command.empty()) co_return failed("command is required: the bash command line to run");
  if (!sandbox_checked) co_await probe_sandbox();
  if (settings.sandbox && !sandbox_error.empty()) {
    co_return failed("The terminal is unavailable: " + sandbox_error + ".");
  }
  const auto verdict = classify_command(command, workspace.string());
  if (verdict.danger != DangerClass::none) {
    const bool yes = co_await approved(command, verdict, whose);
    if (!yes) {
      co_return failed("The user did not approve this command (" + verdict.why +
                       "), so it was not run.");
    }
  }
  // A private temporary directory per command, gone with it.
  auto private_tmp = home / "sandbox" / "tmp-XXXXXX";
  std::string tmp_template = private_tmp.string();
  if (!::mkdtemp(tmp_template.data())) {
    co_return failed("The terminal cannot make its temporary directory under " +
                     (home / "sandbox").string() + ": " + std::strerror(errno));
  }
  private_tmp = tmp_template;
  auto launch = launch_for(private_tmp);
  const auto timeout = launch.timeout;
  std::string line = command;  // named: GCC 12
  auto outcome = co_await run_terminal(io, std::move(launch), std::move(line), whose.abort);
  std::function<void()> clean = [&private_tmp] {
    std::error_code ignored;
    std::filesystem::remove_all(private_tmp, ignored);
  };
  co_await providers::offload(std::move(clean));
  const bool refused = settings.sandbox && outcome.exit_status == kSandboxRefused &&
                       outcome.output.starts_with("hermes-sandbox: ");
  if (refused) co_return failed("The sandbox refused to run it: " + outcome.output);
  const bool is_error = !outcome.started || outcome.timed_out || outcome.cancelled;
  co_return ToolOutcome{terminal_result_text(outcome, timeout), is_error};
}

}  // namespace hermes::daemon::builtin
