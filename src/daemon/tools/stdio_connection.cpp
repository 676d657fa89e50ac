#include "daemon/tools/stdio_connection.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <spdlog/spdlog.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <cerrno>
#include <cstring>
#include <deque>

#include "common/logging.hpp"
#include "daemon/tools/child_spawn.hpp"
#include "daemon/tools/line_splitter.hpp"
#include "daemon/tools/mcp_protocol.hpp"
#include "daemon/tools/server_log.hpp"

extern char** environ;

namespace hermes::daemon::tools {

namespace asio = boost::asio;
using nlohmann::json;
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

namespace {

std::string dump(const json& value) {
  return value.dump(-1, ' ', false, json::error_handler_t::replace);
}

// "exited with status 1", "killed by signal 9".
std::string describe_wait_status(int status) {
  if (WIFEXITED(status)) return "exited with status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return "killed by signal " + std::to_string(WTERMSIG(status));
  return "ended";
}

struct Pending {
  explicit Pending(asio::io_context& io) : timer(io) {}
  asio::steady_timer timer;  // expires at the call's timeout; cancelled by the answer
  RpcReply reply;
  bool answered = false;
  bool cancelled = false;
};

// Three pipes for the server's stdin, stdout and stderr; false (and `error`) when they cannot
// be had.
bool open_pipes(int in[2], int out[2], int err[2], std::string& error) {
  if (::pipe2(in, O_CLOEXEC) != 0) {
    error = std::string("cannot create a pipe: ") + std::strerror(errno);
    return false;
  }
  if (::pipe2(out, O_CLOEXEC) != 0) {
    error = std::string("cannot create a pipe: ") + std::strerror(errno);
    ::close(in[0]);
    ::close(in[1]);
    return false;
  }
  if (::pipe2(err, O_CLOEXEC) != 0) {
    error = std::string("cannot create a pipe: ") + std::strerror(errno);
    for (const int fd : {in[0], in[1], out[0], out[1]}) ::close(fd);  // none leaks
    return false;
  }
  return true;
}

void connect_std_streams(posix_spawn_file_actions_t& files, int in, int out, int err) {
  posix_spawn_file_actions_init(&files);
  posix_spawn_file_actions_adddup2(&files, in, 0);
  posix_spawn_file_actions_adddup2(&files, out, 1);
  posix_spawn_file_actions_adddup2(&files, err, 2);
  // Nothing else of ours (listening sockets handed over by systemd, the store) reaches it.
  posix_spawn_file_actions_addclosefrom_np(&files, 3);
}

// PATH, HOME and LANG of the gateway unless configured, then the configured variables.
std::vector<std::string> server_environment(const std::map<std::string, std::string>& env) {
  std::vector<std::string> env_strings;
  for (const char* name : {"PATH", "HOME", "LANG"}) {
    if (const char* value = std::getenv(name); value && !env.contains(name)) {
      env_strings.push_back(std::string(name) + "=" + value);
    }
  }
  for (const auto& [name, value] : env) env_strings.push_back(name + "=" + value);
  return env_strings;
}

// Starts the server on the child ends of the pipes; 0, or the error posix_spawnp reports.
int start_server(const StdioLaunch& launch, int in, int out, int err, pid_t& pid) {
  posix_spawn_file_actions_t files;
  connect_std_streams(files, in, out, err);
  posix_spawnattr_t attributes;
  isolate_signals_and_group(attributes);
  std::vector<std::string> env_strings = server_environment(launch.env);
  const std::vector<char*> envp = exec_array(env_strings);
  std::vector<std::string> arg_strings{launch.command};
  arg_strings.insert(arg_strings.end(), launch.args.begin(), launch.args.end());
  const std::vector<char*> argv = exec_array(arg_strings);
  const int rc =
      ::posix_spawnp(&pid, launch.command.c_str(), &files, &attributes, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&files);
  posix_spawnattr_destroy(&attributes);
  return rc;
}

std::string describe_spawn_failure(const std::string& command, int rc) {
  const bool path_given = command.find('/') != std::string::npos;
  return rc == ENOENT ? "command '" + command + "' not found" +
                            (path_given ? std::string() : std::string(" (looked in PATH)"))
                      : "cannot start '" + command + "': " + std::strerror(rc);
}

}  // namespace

struct StdioConnection::Impl : std::enable_shared_from_this<StdioConnection::Impl> {
  explicit Impl(asio::io_context& io_context)
      : io(io_context), to_server(io_context), from_server(io_context), server_log(io_context) {}

  ~Impl() {
    if (!reaped && pid > 0) {
      ::kill(-pid, SIGKILL);
      int status = 0;
      ::waitpid(pid, &status, 0);
    }
  }

  void send(const json& message) {
    if (closed_stdin) return;
    queue.push_back(dump(message) + "\n");
    if (!writing) {
      writing = true;
      asio::co_spawn(io, write_loop(shared_from_this()),
                     [](std::exception_ptr e) { log_exception(e, "MCP write"); });
    }
  }

  static asio::awaitable<void> write_loop(std::shared_ptr<Impl> self) {
    while (!self->queue.empty() && !self->closed_stdin) {
      const std::string line = std::move(self->queue.front());
      self->queue.pop_front();
      auto [ec, n] = co_await asio::async_write(self->to_server, asio::buffer(line), kTuple);
      if (ec) {
        self->queue.clear();  // the server is gone; the reader sees it and fails the calls
        break;
      }
    }
    self->writing = false;
  }

  void dispatch(const std::string& line) {
    const auto message = mcp::read_message(line);
    switch (message.kind) {
      case mcp::MessageKind::response: {
        if (!message.id.is_number_integer()) return;
        const auto it = pending.find(message.id.get<long long>());
        if (it == pending.end()) return;  // answered late, after a timeout or a cancel
        auto& call = *it->second;
        call.answered = true;
        if (message.error) {
          call.reply.error = mcp::describe_error(*message.error);
        } else {
          call.reply.ok = true;
          call.reply.result = message.result;
        }
        call.timer.cancel();
        return;
      }
      case mcp::MessageKind::request:
        if (message.method == "ping") {
          send(mcp::empty_result(message.id));
        } else {
          spdlog::debug("mcp {}: refused the server's request {}", server, message.method);
          send(mcp::method_not_found(message.id, message.method));
        }
        return;
      case mcp::MessageKind::notification:
        if (message.method == "notifications/progress") {
          spdlog::debug("mcp {}: progress {}", server, dump(message.params).substr(0, 300));
        } else if (message.method == "notifications/message") {
          log_server_message(server, message.params, log_limiter);
        }
        if (notified) notified(message.method, message.params);
        return;
      case mcp::MessageKind::invalid:
        spdlog::warn("mcp {}: ignored a message on stdout ({}): {}", server, message.problem,
                     line.substr(0, 200));
        return;
    }
  }

  static asio::awaitable<void> read_stdout(std::shared_ptr<Impl> self) {
    char buffer[65536];
    while (true) {
      auto [ec, n] = co_await self->from_server.async_read_some(asio::buffer(buffer), kTuple);
      if (ec) break;
      self->lines.feed(std::string_view(buffer, n));
      while (auto line = self->lines.next()) self->dispatch(*line);
      if (self->lines.dropped() > self->reported_drops) {
        self->reported_drops = self->lines.dropped();
        spdlog::warn("mcp {}: dropped a message over 16 MiB", self->server);
      }
    }
    co_await self->reap(std::chrono::seconds(5));
    self->fail_pending("the server " + self->end_reason);
    if (self->exited) self->exited(self->end_reason);
  }

  static asio::awaitable<void> read_stderr(std::shared_ptr<Impl> self) {
    char buffer[8192];
    LineSplitter log_lines(64 * 1024);
    while (true) {
      auto [ec, n] = co_await self->server_log.async_read_some(asio::buffer(buffer), kTuple);
      if (ec) break;
      log_lines.feed(std::string_view(buffer, n));
      while (auto line = log_lines.next()) log_server_line(self->server, *line, self->log_limiter);
    }
  }

  // Waits (polling; a child ends within moments of closing its pipes) until the server has
  // exited, at most `limit`.
  asio::awaitable<bool> reap(std::chrono::milliseconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    asio::steady_timer pause(io);
    while (!reaped) {
      int status = 0;
      const pid_t done = ::waitpid(pid, &status, WNOHANG);
      if (done == pid || (done < 0 && errno == ECHILD)) {
        reaped = true;
        end_reason = done == pid ? describe_wait_status(status) : "ended";
        break;
      }
      if (std::chrono::steady_clock::now() >= deadline) break;
      pause.expires_after(std::chrono::milliseconds(20));
      co_await pause.async_wait(kTuple);
    }
    co_return reaped;
  }

  void fail_pending(const std::string& why) {
    for (auto& [id, call] : pending) {
      if (call->answered) continue;
      call->answered = true;
      call->reply.error = why;
      call->timer.cancel();
    }
  }

  asio::io_context& io;
  std::string server;
  LogLimiter log_limiter;  // stderr and log notifications together
  pid_t pid = -1;
  asio::posix::stream_descriptor to_server;
  asio::posix::stream_descriptor from_server;
  asio::posix::stream_descriptor server_log;
  LineSplitter lines;
  std::size_t reported_drops = 0;
  long long next_id = 1;
  std::map<long long, std::shared_ptr<Pending>> pending;
  std::deque<std::string> queue;
  bool writing = false;
  bool closed_stdin = false;
  bool reaped = false;
  std::string end_reason = "closed its output";
  NotificationHandler notified;
  ExitHandler exited;
};

std::shared_ptr<StdioConnection> StdioConnection::spawn(asio::io_context& io,
                                                        const StdioLaunch& launch,
                                                        std::string& error) {
  int in[2], out[2], err[2];
  if (!open_pipes(in, out, err, error)) return nullptr;
  pid_t pid = -1;
  const int rc = start_server(launch, in[0], out[1], err[1], pid);
  ::close(in[0]);
  ::close(out[1]);
  ::close(err[1]);
  if (rc != 0) {
    ::close(in[1]);
    ::close(out[0]);
    ::close(err[0]);
    error = describe_spawn_failure(launch.command, rc);
    return nullptr;
  }
  auto impl = std::make_shared<Impl>(io);
  impl->server = launch.server;
  impl->pid = pid;
  impl->to_server.assign(in[1]);
  impl->from_server.assign(out[0]);
  impl->server_log.assign(err[0]);
  asio::co_spawn(io, Impl::read_stdout(impl),
                 [](std::exception_ptr e) { log_exception(e, "MCP stdout"); });
  asio::co_spawn(io, Impl::read_stderr(impl),
                 [](std::exception_ptr e) { log_exception(e, "MCP stderr"); });
  return std::shared_ptr<StdioConnection>(new StdioConnection(impl));
}

StdioConnection::~StdioConnection() {
  impl_->notified = nullptr;
  impl_->exited = nullptr;
  if (!impl_->reaped && impl_->pid > 0) ::kill(-impl_->pid, SIGKILL);
  boost::system::error_code ignored;
  impl_->to_server.close(ignored);
}

void StdioConnection::set_handlers(NotificationHandler notified, ExitHandler exited) {
  impl_->notified = std::move(notified);
  impl_->exited = std::move(exited);
}

bool StdioConnection::alive() const {
  return !impl_->reaped && !impl_->closed_stdin;
}

int StdioConnection::pid() const {
  return impl_->pid;
}

void StdioConnection::notify(std::string method, json params) {
  impl_->send(mcp::notification(method, std::move(params)));
}

asio::awaitable<RpcReply> StdioConnection::call(std::string method, json params,
                                                std::chrono::milliseconds timeout,
                                                std::shared_ptr<providers::AbortSignal> abort) {
  auto impl = impl_;
  RpcReply reply;
  if (impl->reaped || impl->closed_stdin) {
    reply.error = "the server is not running";
    co_return reply;
  }
  const long long id = impl->next_id++;
  auto pending = std::make_shared<Pending>(impl->io);
  pending->timer.expires_after(timeout);
  impl->pending.emplace(id, pending);
  impl->send(mcp::request(id, method, std::move(params)));
  providers::AbortSignal::Subscription on_abort;
  if (abort) {
    on_abort = abort->subscribe([raw = pending.get()] {
      raw->cancelled = true;
      raw->timer.cancel();
    });
  }
  co_await pending->timer.async_wait(kTuple);
  impl->pending.erase(id);
  if (pending->answered) co_return pending->reply;
  reply.cancelled = pending->cancelled;
  reply.timed_out = !pending->cancelled;
  reply.error = reply.cancelled
                    ? "cancelled"
                    : "no answer within " + std::to_string(timeout.count() / 1000) + " s";
  // The server may stop working on it; a late answer is ignored.
  impl->send(
      mcp::notification("notifications/cancelled", {{"requestId", id}, {"reason", reply.error}}));
  co_return reply;
}

asio::awaitable<void> StdioConnection::stop() {
  auto impl = impl_;
  if (!impl->closed_stdin) {
    impl->closed_stdin = true;
    boost::system::error_code ignored;
    impl->to_server.close(ignored);
  }
  if (!co_await impl->reap(std::chrono::seconds(1))) {
    ::kill(-impl->pid, SIGTERM);
    if (!co_await impl->reap(std::chrono::seconds(2))) {
      ::kill(-impl->pid, SIGKILL);
      co_await impl->reap(std::chrono::seconds(2));
    }
  }
  ::kill(-impl->pid, SIGKILL);  // whatever of its group outlived the leader (npx → node)
}

}  // namespace hermes::daemon::tools
