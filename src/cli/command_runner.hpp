#pragma once

#include <string>
#include <vector>

namespace hermes::cli {

struct CommandResult {
  int exit_code = -1;  // 127 when the program could not be started
  std::string out;
  std::string err;
};

// Runs argv[0] (looked up on PATH) with the rest as arguments, no shell, capturing output.
CommandResult run_command(const std::vector<std::string>& argv);

}  // namespace hermes::cli
