#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

// Fields of JSON from outside (Bot API updates, provider answers, client requests) read as the
// type they must have, or nothing: a member of another type must not throw (nlohmann's value()
// and get() do) out of a poll loop or a request parser. A value that is not an object has no
// fields (nlohmann's find answers end() for it).
namespace hermes {

inline std::optional<long long> integer_field(const nlohmann::json& object, const char* key) {
  const auto it = object.find(key);
  if (it != object.end() && it->is_number_integer()) return it->get<long long>();
  return std::nullopt;
}

inline std::string string_field(const nlohmann::json& object, const char* key) {
  const auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// True only for the boolean true: a flag sent as "yes" or 1 is not set.
inline bool true_field(const nlohmann::json& object, const char* key) {
  const auto it = object.find(key);
  return it != object.end() && it->is_boolean() && it->get<bool>();
}

inline const nlohmann::json* object_field(const nlohmann::json& object, const char* key) {
  const auto it = object.find(key);
  return it != object.end() && it->is_object() ? &*it : nullptr;
}

}  // namespace hermes
