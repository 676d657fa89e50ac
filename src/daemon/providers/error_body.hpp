#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace hermes::providers {

// What can be read out of an error response body of any shape: JSON (OpenAI, Anthropic,
// Gemini, OpenRouter's nested metadata.raw, bare {"error": "..."}), HTML pages, plain text.
struct ErrorBody {
  std::vector<std::string> codes;  // structured codes, lowercased, most specific first
  std::string message;             // the provider's message (original case)
  std::string haystack;            // lowercased text for phrase matching
  bool is_json = false;
  bool is_html = false;
  bool has_upstream_raw = false;  // an aggregator wrapped its upstream's error (metadata.raw)

  // Reset hints found in the body.
  std::optional<double> resets_in_seconds;  // resets_in_seconds, retry_after, retryDelay
  std::optional<double> reset_at_epoch;     // resets_at / reset_at, as Unix seconds
};

// Never throws, whatever the bytes.
ErrorBody parse_error_body(std::string_view body);

}  // namespace hermes::providers
