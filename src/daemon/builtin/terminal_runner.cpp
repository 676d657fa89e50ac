#include "daemon/builtin/terminal_runner.hpp"

#include <fcntl.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <csignal>
#include <cstring>

#include "daemon/tools/child_spawn.hpp"

namespace hermes::daemon::builtin {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

namespace {

// What the command's reader, its watcher and the timers share; it outlives whichever of them
// ends last.
struct Run {
  explicit Run(asio::io_context& io) : output(io), reaped(io, Clock::time_point::max()) {}
  pid_t pid = -1;
  asio::posix::stream_descriptor output;
  asio::steady_timer reaped;  // cancelled once the leader is reaped
  bool done = false;
  TerminalOutcome outcome;

  // The whole group: a zombie leader keeps its id from being reused, so this never reaches
  // anyone else's group.
  void end_group() {
    if (!done) ::kill(-pid, SIGKILL);
  }
};

std::vector<std::string> argv_of(const TerminalLaunch& launch, const std::string& command) {
  std::vector<std::string> argv;
  if (!launch.sandbox.empty()) {
    argv.push_back(launch.sandbox);
    argv.insert(argv.end(), launch.sandbox_options.begin(), launch.sandbox_options.end());
    argv.emplace_back("--");
  }
  argv.insert(argv.end(), {"/bin/bash", "-c", command});
  return argv;
}

// Starts the command with stdout and stderr on one pipe (they interleave as written) and
// stdin on /dev/null; returns the pipe's read end, or -1 with `error` set.
int spawn_command(const TerminalLaunch& launch, const std::string& command, pid_t& pid,
                  std::string& error) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    error = std::string("cannot create a pipe: ") + std::strerror(errno);
    return -1;
  }
  posix_spawn_file_actions_t files;
  posix_spawn_file_actions_init(&files);
  posix_spawn_file_actions_addopen(&files, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&files, fds[1], 1);
  posix_spawn_file_actions_adddup2(&files, fds[1], 2);
  posix_spawn_file_actions_addclosefrom_np(&files, 3);
  // The launcher enters the workspace itself, after confining itself.
  if (launch.sandbox.empty())
    posix_spawn_file_actions_addchdir_np(&files, launch.workspace.c_str());
  posix_spawnattr_t attributes;
  tools::isolate_signals_and_group(attributes);
  auto arg_strings = argv_of(launch, command);
  auto env_strings = launch.environment;
  const auto argv = tools::exec_array(arg_strings);
  const auto envp = tools::exec_array(env_strings);
  const int rc = ::posix_spawn(&pid, argv[0], &files, &attributes, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&files);
  posix_spawnattr_destroy(&attributes);
  ::close(fds[1]);
  if (rc != 0) {
    ::close(fds[0]);
    error = "cannot start " + arg_strings.front() + ": " + std::strerror(rc);
    return -1;
  }
  return fds[0];
}

// Waits for the leader to exit, ends what is left of its group, reaps it. A holder of the
// output pipe outside the group (only unsandboxed: it left with setsid) gets two seconds.
asio::awaitable<void> watch_exit(std::shared_ptr<Run> run, int pidfd) {
  asio::posix::stream_descriptor exited(run->output.get_executor(), pidfd);
  co_await exited.async_wait(asio::posix::descriptor_base::wait_read,
                             asio::as_tuple(asio::use_awaitable));
  siginfo_t info{};
  ::waitid(P_PID, static_cast<id_t>(run->pid), &info, WEXITED | WNOWAIT);
  run->end_group();
  int status = 0;
  ::waitpid(run->pid, &status, 0);
  run->done = true;
  if (WIFEXITED(status)) run->outcome.exit_status = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) run->outcome.signal = WTERMSIG(status);
  run->reaped.cancel();
  asio::steady_timer grace(run->output.get_executor(), std::chrono::seconds(2));
  co_await grace.async_wait(asio::as_tuple(asio::use_awaitable));
  boost::system::error_code ignored;
  run->output.cancel(ignored);
}

asio::awaitable<void> read_output(std::shared_ptr<Run> run) {
  char buffer[16384];
  auto& out = run->outcome;
  for (;;) {
    auto [ec, n] = co_await run->output.async_read_some(asio::buffer(buffer),
                                                        asio::as_tuple(asio::use_awaitable));
    if (ec) break;
    const auto room = kTerminalOutputCap - std::min(kTerminalOutputCap, out.output.size());
    out.output.append(buffer, std::min(room, n));
    if (n > room) out.truncated = true;  // read on and drop: a full pipe would stall it
  }
}

}  // namespace

asio::awaitable<TerminalOutcome> run_terminal(asio::io_context& io, TerminalLaunch launch,
                                              std::string command,
                                              std::shared_ptr<providers::AbortSignal> abort) {
  const auto started = Clock::now();
  auto run = std::make_shared<Run>(io);
  const int out_fd = spawn_command(launch, command, run->pid, run->outcome.start_error);
  if (out_fd < 0) co_return run->outcome;
  run->outcome.started = true;
  run->output.assign(out_fd);
  const int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, run->pid, 0));
  if (pidfd < 0) {  // cannot happen on a kernel with Landlock; never leave it running
    run->end_group();
    ::waitpid(run->pid, nullptr, 0);
    run->done = true;
    run->outcome.start_error = std::string("cannot watch the command: ") + std::strerror(errno);
    co_return run->outcome;
  }
  asio::co_spawn(io, watch_exit(run, pidfd), asio::detached);
  asio::steady_timer deadline(io, launch.timeout);
  deadline.async_wait([run](boost::system::error_code ec) {
    if (ec || run->done) return;
    run->outcome.timed_out = true;
    run->end_group();
  });
  providers::AbortSignal::Subscription stop;
  if (abort) {
    stop = abort->subscribe([run] {
      if (run->done) return;
      run->outcome.cancelled = true;
      run->end_group();
    });
  }
  co_await read_output(run);
  if (!run->done) co_await run->reaped.async_wait(asio::as_tuple(asio::use_awaitable));
  deadline.cancel();
  run->outcome.took = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started);
  co_return run->outcome;
}

std::string terminal_result_text(const TerminalOutcome& outcome,
                                 std::chrono::milliseconds timeout) {
  if (!outcome.started) return "The command could not be started: " + outcome.start_error;
  std::string text = outcome.output;
  if (outcome.truncated) {
    text += "\n[output cut at " + std::to_string(kTerminalOutputCap / 1024) +
            " KB; redirect it to a file in the workspace and read that in parts]";
  }
  if (!text.empty() && text.back() != '\n') text += '\n';
  if (outcome.cancelled) return text + "[stopped: the turn was cancelled]";
  if (outcome.timed_out) {
    return text + "[ended by the timeout after " + std::to_string(timeout.count() / 1000) +
           " s (tools.terminal.timeout), with every process it started]";
  }
  if (outcome.signal != 0) {
    const char* name = ::sigabbrev_np(outcome.signal);
    std::string why;
    if (outcome.signal == SIGXCPU) why = ": it used up its CPU time limit";
    if (outcome.signal == SIGXFSZ) why = ": it wrote past the file size limit";
    if (outcome.signal == SIGSYS) why = ": it made a system call the sandbox forbids";
    return text + "[killed by signal " + std::to_string(outcome.signal) + " (SIG" +
           (name ? name : "?") + ")" + why + "]";
  }
  return text + "[exit status " + std::to_string(outcome.exit_status) + "]";
}

}  // namespace hermes::daemon::builtin
