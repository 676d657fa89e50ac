#pragma once

#include <chrono>
#include <ctime>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace hermes::providers {

struct ErrorBody;

// "20", "1.5s", "20ms", "6m0s", "1h2m3s", "30 seconds", "2 minutes" → a duration.
std::optional<std::chrono::milliseconds> parse_duration_text(std::string_view text);

// "2026-11-27T20:00:00Z" (fraction and zone offset honoured) → Unix seconds.
std::optional<std::time_t> parse_iso8601_utc(std::string_view text);

// "Wed, 21 Oct 2015 07:28:00 GMT" → Unix seconds.
std::optional<std::time_t> parse_http_date(std::string_view text);

// How long the provider asked us to wait, from (in order): `retry-after-ms`, `Retry-After`
// (seconds or HTTP-date), reset fields in the body, `x-ratelimit-reset*` headers, and
// "try again in 20s" in the message. Never negative.
std::optional<std::chrono::milliseconds> find_retry_after(
    const std::vector<std::pair<std::string, std::string>>& headers, const ErrorBody& body,
    std::chrono::system_clock::time_point now);

}  // namespace hermes::providers
