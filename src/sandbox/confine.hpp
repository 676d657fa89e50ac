#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>

namespace hermes::sandbox {

struct RunAs {
  uid_t uid = 0;
  gid_t gid = 0;
};

// What one confined command gets. Defaults are the documented ones.
struct Options {
  std::string workspace;                     // read, write and execute
  std::string tmp;                           // the command's private scratch directory, same rights
  bool network = true;                       // false: an empty network namespace with only loopback
  std::optional<std::uint64_t> cpu_seconds;  // unset: no CPU limit (the gateway has a timeout)
  std::uint64_t memory_mb = 4096;
  std::uint64_t processes = 256;
  std::uint64_t file_size_mb = 1024;
  std::optional<RunAs> run_as;
};

// Root is exempt from RLIMIT_NPROC, so a root gateway's commands get a PID namespace of their
// own whose pid_max holds them to about `processes` (Linux 6.14+ keeps pid_max per namespace).
// Runs `body` as the namespace's first process in a child and returns its status for this
// process to exit with (a signal that ended it is raised again here). Without root, `body` runs
// here, in place: RLIMIT_NPROC holds. "" on success, else the sentence in `error`.
int run_in_pid_namespace(const Options& options, int (*body)(void*), void* context,
                         std::string& error);

// Each step returns "" on success, else a sentence saying what failed. They are meant to run
// in this order, as confine() does.
std::string set_limits(const Options& options);
std::string isolate_network();
std::string switch_user(const RunAs& who);
// For a command left running as uid 0: no capabilities, now or after execve.
std::string drop_capabilities();
std::string forbid_new_privileges();
std::string restrict_filesystem(const Options& options);
std::string filter_syscalls();

// All of the above in order, stopping at the first failure.
std::string confine(const Options& options);
// Probes that the filesystem and syscall rules really hold in this process (for --check).
std::string verify_confined();
// Closes every descriptor above stderr so nothing the gateway opened leaks to the command.
std::string close_inherited_fds();

}  // namespace hermes::sandbox
