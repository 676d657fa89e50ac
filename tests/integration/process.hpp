#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace hermes::testing {

struct ProcessResult {
  int exit_code = -1;  // 128+N when killed by signal N
  std::string out;
  std::string err;
};

// Runs a program to completion (no shell), with extra environment variables, and captures
// its output. Fails the calling test if the program cannot be started.
ProcessResult run_process(const std::string& program, const std::vector<std::string>& args,
                          const std::map<std::string, std::string>& env = {});

// A program running in the background (no shell). Its stderr goes to a file the test can read.
// Killed with SIGKILL if still running when the object goes away.
class ChildProcess {
 public:
  struct Options {
    std::map<std::string, std::string> env;  // added to (or replacing) the test's environment
    std::vector<std::string> unset_env;
    int pass_fd = -1;            // if set: becomes fd 3 in the child, with LISTEN_FDS=1
    std::string listen_fdnames;  // LISTEN_FDNAMES for pass_fd
  };

  ChildProcess(const std::string& program, const std::vector<std::string>& args,
               const Options& options);
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  int pid() const { return pid_; }
  void signal(int sig) const;
  // Waits for exit; returns the exit code (128+N for signal N), or -1 on timeout.
  int wait(std::chrono::milliseconds timeout);
  bool running();
  std::string stderr_text() const;

 private:
  int pid_ = -1;
  int exit_code_ = -1;
  std::filesystem::path err_file_;
};

// Sends `request` on a new connection to a unix socket and reads until the server closes
// (10 s at most); "" when nothing listens there.
std::string unix_socket_request(const std::filesystem::path& socket, const std::string& request);

// Polls `condition` every 10 ms until it is true or `timeout` passes.
bool wait_until(const std::function<bool()>& condition, std::chrono::milliseconds timeout);

// One HTTP/1.1 GET on 127.0.0.1:port with Connection: close; returns the status line's code,
// 0 when nothing came back, or -errno when connecting failed (e.g. -ECONNREFUSED).
int http_get_status(int port, const std::string& path, std::string* body = nullptr);

struct HttpExchange {
  int status = 0;                              // 0: no answer; -errno: could not connect
  std::map<std::string, std::string> headers;  // names lowercased
  std::string body;
};
// One HTTP/1.1 request to 127.0.0.1:port with Connection: close; reads until the server closes
// (so streamed bodies come back whole). `timeout` bounds the whole exchange.
HttpExchange http_request(int port, const std::string& method, const std::string& path,
                          const std::string& body = "",
                          const std::map<std::string, std::string>& headers = {},
                          std::chrono::milliseconds timeout = std::chrono::seconds(30));

// A listening TCP socket on 127.0.0.1:port (as systemd would hold it), or -1.
int listen_loopback(int port);

// A TCP connection to 127.0.0.1:port, or -1.
int connect_loopback(int port);

// The value of one series (e.g. `hermes_turns_total{outcome="ok"}`) in a /metrics text, or in
// the daemon's /metrics on `port`; nothing when the series is absent.
std::optional<double> metric_value(const std::string& metrics_text, const std::string& series);
std::optional<double> read_metric(int port, const std::string& series);

// The processes whose parent is `parent` (a daemon's MCP servers), from /proc.
std::vector<int> child_pids(int parent);

// A free TCP port on 127.0.0.1 (bound then released).
int free_port();

// A fresh directory under the system temp dir, removed when the object goes away.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  void write(const std::string& name, const std::string& content) const;

 private:
  std::filesystem::path path_;
};

}  // namespace hermes::testing
