#pragma once

#include <CLI/CLI.hpp>

namespace hermes::cli {

// `hermes gateway run`: replaces this process with hermes-gateway in the foreground.
void setup_run(CLI::App& gateway);

}  // namespace hermes::cli
