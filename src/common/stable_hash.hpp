#pragma once

#include <cstdint>
#include <string_view>

namespace hermes {

// FNV-1a: stable across builds, runs and platforms (std::hash is not), for ids and names that
// are stored or shown.
inline std::uint32_t fnv1a_32(std::string_view text) {
  std::uint32_t hash = 2166136261u;
  for (const char c : text) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 16777619u;
  }
  return hash;
}

inline std::uint64_t fnv1a_64(std::string_view text) {
  std::uint64_t hash = 1469598103934665603ULL;
  for (const char c : text) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 1099511628211ULL;
  }
  return hash;
}

}  // namespace hermes
