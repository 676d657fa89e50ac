#include "daemon/webhooks/payload_template.hpp"

#include <algorithm>
#include <charconv>

namespace hermes::daemon::webhooks {

namespace {

bool path_character(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-' || c == '.';
}

bool valid_path(std::string_view path) {
  if (path.empty() || path.front() == '.' || path.back() == '.') return false;
  if (path.find("..") != std::string_view::npos) return false;
  return std::all_of(path.begin(), path.end(), path_character);
}

// The value at `path` (dot-separated keys and array indexes), or null when there is none.
const nlohmann::json* value_at(const nlohmann::json& payload, std::string_view path) {
  const nlohmann::json* at = &payload;
  while (!path.empty()) {
    const auto dot = path.find('.');
    const auto segment = path.substr(0, dot);
    path = dot == std::string_view::npos ? std::string_view() : path.substr(dot + 1);
    if (at->is_object()) {
      const auto found = at->find(std::string(segment));
      if (found == at->end()) return nullptr;
      at = &*found;
    } else if (at->is_array()) {
      std::size_t index = 0;
      const auto [end, ec] =
          std::from_chars(segment.data(), segment.data() + segment.size(), index);
      if (ec != std::errc() || end != segment.data() + segment.size() || index >= at->size()) {
        return nullptr;
      }
      at = &(*at)[index];
    } else {
      return nullptr;
    }
  }
  return at;
}

std::string as_data(const nlohmann::json* value) {
  if (!value) return "null";
  return value->dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// Appends `piece`, keeping the whole within kMaxPromptBytes; false once it is full.
bool append(FilledPrompt& out, std::string_view piece) {
  if (out.text.size() + piece.size() <= kMaxPromptBytes) {
    out.text.append(piece);
    return true;
  }
  out.text.append(piece.substr(0, kMaxPromptBytes - out.text.size()));
  out.truncated = true;
  return false;
}

}  // namespace

FilledPrompt fill_prompt(std::string_view prompt, const nlohmann::json& payload) {
  FilledPrompt out;
  std::size_t i = 0;
  while (i < prompt.size()) {
    const char c = prompt[i];
    if ((c == '{' || c == '}') && i + 1 < prompt.size() && prompt[i + 1] == c) {
      if (!append(out, prompt.substr(i, 1))) return out;
      i += 2;
      continue;
    }
    const auto close = c == '{' ? prompt.find('}', i + 1) : std::string_view::npos;
    const auto path =
        close == std::string_view::npos ? std::string_view() : prompt.substr(i + 1, close - i - 1);
    if (c != '{' || !valid_path(path)) {  // not a placeholder: the text as it is
      if (!append(out, prompt.substr(i, 1))) return out;
      ++i;
      continue;
    }
    const auto* value = value_at(payload, path);
    if (!value) out.missing.emplace_back(path);
    if (!append(out, as_data(value))) return out;
    i = close + 1;
  }
  return out;
}

std::optional<std::string> prompt_template_error(std::string_view prompt) {
  for (std::size_t i = 0; i < prompt.size(); ++i) {
    const char c = prompt[i];
    if ((c == '{' || c == '}') && i + 1 < prompt.size() && prompt[i + 1] == c) {
      ++i;
      continue;
    }
    if (c == '}') {
      return "a '}' at character " + std::to_string(i + 1) +
             " closes nothing (write }} for a brace)";
    }
    if (c != '{') continue;
    const auto close = prompt.find('}', i + 1);
    if (close == std::string_view::npos) {
      return "the '{' at character " + std::to_string(i + 1) +
             " is not closed (write {{ for a brace)";
    }
    const auto path = prompt.substr(i + 1, close - i - 1);
    if (!valid_path(path)) {
      return "'{" + std::string(path) +
             "}' is not a payload path (keys and array indexes joined by dots, like "
             "{pull_request.title} or {commits.0.id})";
    }
    i = close;
  }
  return std::nullopt;
}

}  // namespace hermes::daemon::webhooks
