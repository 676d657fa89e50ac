#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

// Fields of Bot API JSON as the type Telegram documents, or nothing: a server (or an emulator,
// or a proxy) that sends another type must not throw out of the poll loop.
namespace hermes::daemon::telegram {

inline std::optional<long long> integer_field(const nlohmann::json& object, const char* key) {
  const auto it = object.find(key);
  if (it != object.end() && it->is_number_integer()) return it->get<long long>();
  return std::nullopt;
}

inline std::string string_field(const nlohmann::json& object, const char* key) {
  const auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

inline const nlohmann::json* object_field(const nlohmann::json& object, const char* key) {
  const auto it = object.find(key);
  return it != object.end() && it->is_object() ? &*it : nullptr;
}

}  // namespace hermes::daemon::telegram
