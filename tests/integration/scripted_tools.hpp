#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

namespace hermes::testing {

// Steps for FakeProvider::script: a tool call as the model writes it, an answer asking for
// `calls`, and one that answers in text.
inline nlohmann::json tool_call(const std::string& id, const std::string& name,
                                const nlohmann::json& arguments) {
  return {{"id", id}, {"name", name}, {"arguments", arguments.dump()}};
}
inline nlohmann::json asks_for(std::vector<nlohmann::json> calls) {
  nlohmann::json step = nlohmann::json::object();
  step["tool_calls"] = nlohmann::json(std::move(calls));
  return step;
}
inline nlohmann::json says(const std::string& text) {
  nlohmann::json step = nlohmann::json::object();
  step["content"] = text;
  return step;
}

}  // namespace hermes::testing
