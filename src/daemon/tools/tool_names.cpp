#include "daemon/tools/tool_names.hpp"

#include <cstdint>
#include <cstdio>

#include "common/stable_hash.hpp"

namespace hermes::daemon::tools {

namespace {

bool word_character(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

}  // namespace

std::string exposed_tool_name(std::string_view server, std::string_view tool) {
  std::string name = "mcp_";
  name.append(server);
  name += '_';
  name.append(tool);
  const std::string full = name;
  for (char& c : name) {
    if (!word_character(c)) c = '_';
  }
  constexpr std::size_t kMax = 64;
  if (name.size() <= kMax) return name;
  char suffix[16];
  std::snprintf(suffix, sizeof(suffix), "_%08x", fnv1a_32(full));
  name.resize(kMax - 9);
  return name + suffix;
}

bool valid_server_name(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  for (const char c : name) {
    if (!word_character(c) && c != '-') return false;
  }
  return true;
}

std::string display_tool_name(std::string_view exposed) {
  if (!exposed.starts_with("mcp_")) return std::string(exposed);
  const auto server_end = exposed.find('_', 4);
  if (server_end == std::string_view::npos) return std::string(exposed);
  return std::string(exposed.substr(server_end + 1));
}

}  // namespace hermes::daemon::tools
