#include "daemon/providers/error_body.hpp"

#include <charconv>
#include <ctime>
#include <nlohmann/json.hpp>

#include "daemon/providers/retry_after.hpp"
#include "daemon/providers/text_util.hpp"

namespace hermes::providers {

namespace {

using nlohmann::json;

// Enough of a body to classify it; a 60 KB HTML page does not need to be scanned whole.
constexpr std::size_t kMaxScannedBytes = 8192;
constexpr int kMaxDepth = 6;

std::string text_of(const json& value) {
  if (value.is_string()) return value.get<std::string>();
  if (value.is_null()) return {};
  return value.dump(-1, ' ', false, json::error_handler_t::replace);
}

void add_code(ErrorBody& out, const json& value) {
  std::string code;
  if (value.is_string()) {
    code = ascii_lower(value.get<std::string>());
  } else if (value.is_number_integer()) {
    code = std::to_string(value.get<long long>());
  }
  // A bare HTTP status ("400") says nothing the status line did not.
  if (code.empty() || code == "error" || (code.size() == 3 && std::isdigit(code[0]))) return;
  for (const auto& existing : out.codes) {
    if (existing == code) return;
  }
  out.codes.push_back(std::move(code));
}

std::optional<double> number_of(const json& value) {
  if (value.is_number()) return value.get<double>();
  if (value.is_string()) {
    const auto& s = value.get_ref<const std::string&>();
    if (auto d = parse_duration_text(s)) return static_cast<double>(d->count()) / 1000.0;
  }
  return std::nullopt;
}

// Reset hints may sit anywhere (error.details[].retryDelay for Gemini, error.resets_at, …).
void find_reset_hints(const json& node, ErrorBody& out, int depth) {
  if (depth > kMaxDepth) return;
  if (node.is_object()) {
    for (const auto& [key, value] : node.items()) {
      const auto k = ascii_lower(key);
      if (k == "resets_in_seconds" || k == "retry_after" || k == "retrydelay" ||
          k == "retry_after_seconds") {
        if (auto n = number_of(value); n && !out.resets_in_seconds) out.resets_in_seconds = n;
      } else if (k == "resets_at" || k == "reset_at" || k == "resetat") {
        if (value.is_number()) {
          double epoch = value.get<double>();
          if (epoch > 1e12) epoch /= 1000.0;  // milliseconds
          if (!out.reset_at_epoch) out.reset_at_epoch = epoch;
        } else if (value.is_string()) {
          if (auto t = parse_iso8601_utc(value.get<std::string>()); t && !out.reset_at_epoch) {
            out.reset_at_epoch = static_cast<double>(*t);
          }
        }
      } else if (value.is_structured()) {
        find_reset_hints(value, out, depth + 1);
      }
    }
  } else if (node.is_array()) {
    for (const auto& item : node) find_reset_hints(item, out, depth + 1);
  }
}

void read_json(const json& parsed, ErrorBody& out) {
  const json* root = &parsed;
  // Some APIs (Gemini through proxies) wrap the error object in a one-element list.
  if (root->is_array() && !root->empty()) root = &(*root)[0];
  if (!root->is_object()) {
    out.message = text_of(*root);
    return;
  }
  const json* err = root;
  if (auto it = root->find("error"); it != root->end()) {
    if (it->is_object()) {
      err = &*it;
    } else if (it->is_string()) {
      out.message = it->get<std::string>();  // {"error": "model 'x' not found"} (ollama et al.)
    }
  }
  for (const char* key : {"code", "type", "status"}) {
    if (auto it = err->find(key); it != err->end()) add_code(out, *it);
  }
  for (const char* key : {"code", "error_code", "errorCode"}) {
    if (auto it = root->find(key); it != root->end()) add_code(out, *it);
  }
  if (out.message.empty()) {
    for (const json* holder : {err, root}) {
      for (const char* key : {"message", "detail", "errorMessage", "error_message"}) {
        if (auto it = holder->find(key); it != holder->end() && !it->is_null()) {
          out.message = text_of(*it);
          break;
        }
      }
      if (!out.message.empty()) break;
    }
  }
  // OpenRouter: the upstream's own error, as a JSON string, in error.metadata.raw.
  if (auto meta = err->find("metadata"); meta != err->end() && meta->is_object()) {
    if (auto raw = meta->find("raw"); raw != meta->end() && !raw->is_null()) {
      out.has_upstream_raw = true;
      const std::string raw_text = text_of(*raw);
      std::string upstream_message;
      json inner = json::parse(raw_text, nullptr, false);
      if (!inner.is_discarded()) {
        ErrorBody nested;
        read_json(inner, nested);
        upstream_message = nested.message;
        for (auto& code : nested.codes) out.codes.push_back(std::move(code));
      }
      out.haystack += ascii_lower(upstream_message.empty() ? raw_text : upstream_message);
      out.haystack += ' ';
      if (!upstream_message.empty()) out.message += " (upstream: " + upstream_message + ")";
    }
  }
  find_reset_hints(*root, out, 0);
}

// nlohmann::json has no depth limit: a hostile 1 MB of "[[[[" would build a million nested
// arrays before failing. Real error bodies are a few levels deep.
bool nesting_within(std::string_view body, int max_depth) {
  int depth = 0;
  bool in_string = false;
  for (std::size_t i = 0; i < body.size(); ++i) {
    const char c = body[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      if (++depth > max_depth) return false;
    } else if (c == '}' || c == ']') {
      --depth;
    }
  }
  return true;
}

bool looks_like_html(std::string_view body) {
  const auto start = body.find_first_not_of(" \t\r\n");
  if (start == std::string_view::npos || body[start] != '<') return false;
  const auto head = ascii_lower(body.substr(start, 512));
  return head.find("<html") != std::string::npos || head.find("<!doctype") != std::string::npos ||
         head.find("<head") != std::string::npos || head.find("<body") != std::string::npos;
}

std::string html_title(std::string_view body) {
  const auto lower = ascii_lower(body);
  const auto open = lower.find("<title");
  if (open == std::string::npos) return {};
  const auto start = lower.find('>', open);
  const auto close = lower.find("</title>", open);
  if (start == std::string::npos || close == std::string::npos || close <= start) return {};
  std::string title(body.substr(start + 1, close - start - 1));
  for (auto& c : title) {
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  }
  const auto first = title.find_first_not_of(' ');
  const auto last = title.find_last_not_of(' ');
  return first == std::string::npos ? std::string{} : title.substr(first, last - first + 1);
}

}  // namespace

ErrorBody parse_error_body(std::string_view body) {
  ErrorBody out;
  const std::string_view scanned = body.substr(0, kMaxScannedBytes);
  constexpr int kMaxJsonNesting = 32;
  json parsed = nesting_within(body, kMaxJsonNesting) ? json::parse(body, nullptr, false)
                                                      : json(json::value_t::discarded);
  if (!parsed.is_discarded()) {
    out.is_json = true;
    read_json(parsed, out);
  } else if (looks_like_html(body)) {
    out.is_html = true;
    const auto title = html_title(scanned);
    out.message = title.empty() ? "HTML error page" : "HTML error page: " + title;
  } else {
    out.message = std::string(scanned);
  }
  out.haystack += ascii_lower(out.message);
  for (const auto& code : out.codes) out.haystack += ' ' + code;
  if (out.is_html) out.haystack += ' ' + ascii_lower(scanned);
  return out;
}

}  // namespace hermes::providers
