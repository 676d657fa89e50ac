#include "cli/daemon_locator.hpp"

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <string_view>

#include "common/exit_codes.hpp"

namespace hermes::cli {

namespace {

constexpr std::string_view kDaemonName = "hermes-gateway";

bool is_executable(const std::filesystem::path& path) {
  std::error_code ec;
  return std::filesystem::is_regular_file(path, ec) && ::access(path.c_str(), X_OK) == 0;
}

}  // namespace

std::optional<std::filesystem::path> locate_daemon() {
  std::error_code ec;
  const auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    for (const auto& candidate : {self.parent_path() / kDaemonName,
                                  self.parent_path().parent_path() / "daemon" / kDaemonName}) {
      if (is_executable(candidate)) return std::filesystem::canonical(candidate, ec);
    }
  }
  const char* path_env = std::getenv("PATH");
  std::string_view dirs = path_env ? path_env : "/usr/local/bin:/usr/bin:/bin";
  while (!dirs.empty()) {
    const auto colon = dirs.find(':');
    const auto dir = dirs.substr(0, colon);
    if (!dir.empty()) {
      const auto candidate = std::filesystem::path(dir) / kDaemonName;
      if (is_executable(candidate)) return candidate;
    }
    if (colon == std::string_view::npos) break;
    dirs.remove_prefix(colon + 1);
  }
  return std::nullopt;
}

void exec_daemon(const std::vector<std::string>& args) {
  const auto daemon = locate_daemon();
  if (!daemon) {
    std::cerr << "hermes-gateway not found beside hermes or on PATH; build it or install it\n";
    throw CLI::RuntimeError(kExitFailure);
  }
  std::vector<std::string> argv_strings{daemon->string()};
  argv_strings.insert(argv_strings.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& arg : argv_strings) argv.push_back(arg.data());
  argv.push_back(nullptr);
  ::execv(daemon->c_str(), argv.data());
  std::cerr << "cannot run " << daemon->string() << ": " << std::strerror(errno) << '\n';
  throw CLI::RuntimeError(kExitFailure);
}

}  // namespace hermes::cli
