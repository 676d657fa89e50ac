#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "cli/scope.hpp"

namespace hermes::cli {

// systemd/hermes-gateway.service, embedded at build time.
std::string_view unit_template();

// The unit with absolute paths filled in; pure.
std::string render_unit(const std::filesystem::path& daemon, const std::filesystem::path& home,
                        Scope scope);

}  // namespace hermes::cli
