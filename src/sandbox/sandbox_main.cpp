// hermes-sandbox: confines itself with the kernel (rlimits, network namespace, Landlock,
// seccomp), then execs the command the gateway's terminal tool asked for.
//
// Exit codes, so the gateway can tell the sandbox from the command:
//   126  could not confine (the message starts with "hermes-sandbox:"), or PROGRAM exists but
//        could not be executed (as in shells)
//   127  PROGRAM not found
//   2    bad usage
//   anything else is PROGRAM's own status. --check exits 0 when confinement works here.

#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "confine.hpp"

namespace {

using hermes::sandbox::Options;
using hermes::sandbox::RunAs;

constexpr const char* kUsage =
    "usage: hermes-sandbox --workspace DIR --tmp DIR [--network all|none] [--cpu-seconds N] "
    "[--memory-mb N] [--processes N] [--file-size-mb N] [--run-as UID:GID] "
    "(--check | -- PROGRAM [ARGS...])\n";

constexpr int kCouldNotConfine = 126;

struct Command {
  Options options;
  bool check = false;
  std::vector<char*> program;  // null-terminated for execvp
};

// A whole number in [1, 2^30]: big enough for any limit, small enough that MiB * it fits.
std::optional<std::uint64_t> parse_number(std::string_view text) {
  std::uint64_t value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  if (value < 1 || value > (1ULL << 30)) return std::nullopt;
  return value;
}

std::optional<RunAs> parse_run_as(std::string_view text) {
  auto colon = text.find(':');
  if (colon == std::string_view::npos) return std::nullopt;
  std::uint32_t ids[2] = {0, 0};
  std::string_view parts[2] = {text.substr(0, colon), text.substr(colon + 1)};
  for (int i = 0; i < 2; ++i) {
    const char* last = parts[i].data() + parts[i].size();
    auto [end, error] = std::from_chars(parts[i].data(), last, ids[i]);
    if (parts[i].empty() || error != std::errc() || end != last) return std::nullopt;
  }
  return RunAs{ids[0], ids[1]};
}

bool set_number(std::uint64_t& field, std::string_view value) {
  auto number = parse_number(value);
  if (number) field = *number;
  return number.has_value();
}

bool apply_option(Options& options, std::string_view name, std::string_view value) {
  if (name == "--workspace") {
    options.workspace = value;
  } else if (name == "--tmp") {
    options.tmp = value;
  } else if (name == "--network") {
    if (value != "all" && value != "none") return false;
    options.network = value == "all";
  } else if (name == "--cpu-seconds") {
    options.cpu_seconds = parse_number(value);
    return options.cpu_seconds.has_value();
  } else if (name == "--memory-mb") {
    return set_number(options.memory_mb, value);
  } else if (name == "--processes") {
    return set_number(options.processes, value);
  } else if (name == "--file-size-mb") {
    return set_number(options.file_size_mb, value);
  } else if (name == "--run-as") {
    options.run_as = parse_run_as(value);
    return options.run_as.has_value();
  } else {
    return false;
  }
  return !value.empty();
}

std::optional<Command> parse(int argc, char** argv) {
  Command command;
  int i = 1;
  for (; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--") {
      ++i;
      break;
    }
    if (arg == "--check") {
      command.check = true;
    } else if (i + 1 >= argc || !apply_option(command.options, arg, argv[++i])) {
      return std::nullopt;
    }
  }
  command.program.assign(argv + i, argv + argc);
  if (command.options.workspace.empty() || command.options.tmp.empty()) return std::nullopt;
  // Exactly one of --check and a PROGRAM.
  if (command.check == !command.program.empty()) return std::nullopt;
  command.program.push_back(nullptr);
  return command;
}

int report(const std::string& sentence, int code) {
  std::fprintf(stderr, "hermes-sandbox: %s\n", sentence.c_str());
  return code;
}

int check_confined(void* context) {
  std::string error = hermes::sandbox::confine(*static_cast<Options*>(context));
  if (error.empty()) error = hermes::sandbox::verify_confined();
  if (!error.empty()) report(error, kCouldNotConfine);
  std::fflush(stderr);
  return error.empty() ? 0 : kCouldNotConfine;
}

// The steps are irreversible, so they run in a child; its status is the answer.
int run_check(const Options& options) {
  pid_t child = fork();
  if (child < 0)
    return report(std::string("could not fork: ") + std::strerror(errno), kCouldNotConfine);
  if (child == 0) {
    std::string error;
    Options copy = options;
    const int status = hermes::sandbox::run_in_pid_namespace(copy, check_confined, &copy, error);
    if (!error.empty()) report(error, kCouldNotConfine);
    std::fflush(stderr);
    _exit(error.empty() ? status : kCouldNotConfine);
  }
  int status = 0;
  while (waitpid(child, &status, 0) < 0) {
    if (errno != EINTR) return report("lost the --check child", kCouldNotConfine);
  }
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  return report("the --check child died from signal " + std::to_string(WTERMSIG(status)),
                kCouldNotConfine);
}

int confine_and_exec(void* context) {
  auto& command = *static_cast<Command*>(context);
  std::string error = hermes::sandbox::confine(command.options);
  if (error.empty()) error = hermes::sandbox::close_inherited_fds();
  if (error.empty() && chdir(command.options.workspace.c_str()) != 0) {
    error = "could not enter the workspace: " + std::string(std::strerror(errno));
  }
  if (!error.empty()) return report(error, kCouldNotConfine);
  // The environment is the clean one the gateway built; it passes through untouched.
  execvp(command.program[0], command.program.data());
  int err = errno;
  std::string sentence = std::string(command.program[0]) + ": " + std::strerror(err);
  return report(sentence, err == ENOENT ? 127 : 126);
}

int run(Command& command) {
  std::string error;
  const int status =
      hermes::sandbox::run_in_pid_namespace(command.options, confine_and_exec, &command, error);
  if (!error.empty()) return report(error, kCouldNotConfine);
  return status;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 2 && std::string_view(argv[1]) == "--help") {
    std::fputs(kUsage, stdout);
    return 0;
  }
  auto command = parse(argc, argv);
  if (!command) {
    std::fputs(kUsage, stderr);
    return 2;
  }
  return command->check ? run_check(command->options) : run(*command);
}
