#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace hermes::cli {

// The hermes-gateway binary to run or to put in a unit: the one beside this `hermes`
// executable first (a build tree or an install prefix), else the first one on PATH.
std::optional<std::filesystem::path> locate_daemon();

// Runs the located hermes-gateway with `args` in place of this process; when it cannot, says
// why and throws CLI::RuntimeError(kExitFailure).
[[noreturn]] void exec_daemon(const std::vector<std::string>& args);

}  // namespace hermes::cli
