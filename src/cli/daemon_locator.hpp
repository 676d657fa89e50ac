#pragma once

#include <filesystem>
#include <optional>

namespace hermes::cli {

// The hermes-gateway binary to run or to put in a unit: the one beside this `hermes`
// executable first (a build tree or an install prefix), else the first one on PATH.
std::optional<std::filesystem::path> locate_daemon();

}  // namespace hermes::cli
