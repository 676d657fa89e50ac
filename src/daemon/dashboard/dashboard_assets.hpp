#pragma once

#include <span>
#include <string_view>

namespace hermes::daemon::dashboard {

// One file of the dashboard page, built into the binary (cmake/EmbedFiles.cmake).
struct Asset {
  std::string_view path;  // "/ui", "/ui/assets/app.js"
  std::string_view content_type;
  std::string_view body;
};

std::span<const Asset> assets();

}  // namespace hermes::daemon::dashboard
