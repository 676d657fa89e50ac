#include "daemon/providers/classifier.hpp"

#include <algorithm>

#include "daemon/providers/error_body.hpp"
#include "daemon/providers/phrases.hpp"
#include "daemon/providers/redact.hpp"
#include "daemon/providers/retry_after.hpp"
#include "daemon/providers/text_util.hpp"

namespace hermes::providers {

namespace {

using phrases::contains_any;
using R = FailoverReason;

constexpr std::size_t kMaxMessageBytes = 500;

struct Verdict {
  R reason;
  // Overrides of the reason's usual decisions, where a rule knows better.
  std::optional<bool> fallback{};
};

// The usual decisions per reason: `retryable` = the same request may succeed later on this
// provider; `fallback` = another provider may succeed where this one failed.
void apply_defaults(Classification& c) {
  c.retryable = false;
  c.rotate_credential = false;
  c.fallback = false;
  c.compress = false;
  switch (c.reason) {
    case R::auth:
      c.rotate_credential = c.fallback = true;
      break;
    case R::auth_permanent:
      c.fallback = true;
      break;
    case R::billing:
      c.rotate_credential = c.fallback = true;
      break;
    case R::rate_limit:
      c.retryable = c.rotate_credential = c.fallback = true;
      break;
    case R::upstream_rate_limit:
      c.retryable = c.fallback = true;
      break;
    case R::overloaded:
    case R::server_error:
    case R::timeout:
    case R::unknown:
      c.retryable = c.fallback = true;
      break;
    case R::context_overflow:
    case R::payload_too_large:
      c.retryable = c.compress = true;
      break;
    case R::model_not_found:
    case R::content_policy_blocked:
    case R::ssl_cert_verification:
    case R::format_error:
      c.fallback = true;
      break;
    case R::provider_policy_blocked:
    case R::budget_exceeded:  // decided before any call: nothing to retry
      break;
  }
}

struct Facts {
  const ProviderError& error;
  const ErrorBody& body;
  std::string haystack;  // lowercased body text + transport detail

  bool has(phrases::List list) const { return contains_any(haystack, list); }
  bool has_code(phrases::List list) const {
    return std::any_of(body.codes.begin(), body.codes.end(),
                       [&](const std::string& code) { return contains_any(code, list); });
  }
  bool has_code(std::string_view code) const {
    return std::find(body.codes.begin(), body.codes.end(), code) != body.codes.end();
  }
  bool mentions_missing_model() const {
    if (has(phrases::kModelNotFound) || has_code(phrases::kModelNotFoundCodes)) return true;
    return haystack.find("model") != std::string::npos &&
           (haystack.find("not found") != std::string::npos ||
            haystack.find("does not exist") != std::string::npos);
  }
  bool has_reset_signal() const {
    if (body.resets_in_seconds || body.reset_at_epoch) return true;
    for (const auto& [key, value] : error.headers) {
      const auto name = ascii_lower(key);
      if (name == "retry-after" || name == "retry-after-ms" ||
          (name.find("ratelimit") != std::string::npos &&
           name.find("reset") != std::string::npos)) {
        return true;
      }
    }
    return false;
  }
  // "Large session" heuristics of the reference: a disconnect or a bare error on a big
  // conversation is most likely the context limit.
  bool large_session(double share, long tokens, long messages) const {
    const auto& s = error.session;
    if (s.context_length > 0 &&
        s.approx_tokens > static_cast<long>(share * static_cast<double>(s.context_length))) {
      return true;
    }
    const bool modest_window = s.context_length == 0 || s.context_length <= 256000;
    return modest_window && (s.approx_tokens > tokens || s.messages > messages);
  }
};

Verdict usage_limit_verdict(const Facts& f) {
  return f.has(phrases::kTransientSignal) || f.has_reset_signal() ? Verdict{R::rate_limit}
                                                                  : Verdict{R::billing};
}

Verdict classify_transport(const Facts& f) {
  switch (f.error.transport) {
    case TransportFailure::tls_verification:
      return {R::ssl_cert_verification};
    case TransportFailure::connection_reset:
    case TransportFailure::truncated_body:
      if (f.large_session(0.6, 120000, 200)) return {R::context_overflow};
      return {R::timeout};
    case TransportFailure::malformed_body:
      return {R::server_error};
    case TransportFailure::timeout:
    case TransportFailure::connection_refused:
    case TransportFailure::dns_failure:
    case TransportFailure::tls_other:
    case TransportFailure::aborted:
    case TransportFailure::none:
      break;
  }
  return {R::timeout};
}

Verdict classify_400(const Facts& f) {
  // Validation before overflow: "Unsupported parameter: 'max_tokens'" names an overflow phrase.
  if (f.has(phrases::kValidation) || f.has_code(phrases::kValidationCodes)) {
    return {R::format_error};
  }
  if (f.has(phrases::kMalformedTranscript)) return {R::format_error};
  if (f.has(phrases::kInvalidKey)) return {R::auth};  // Gemini rejects bad keys with a 400
  if (f.has(phrases::kOverflow) || f.has_code(phrases::kOverflowCodes)) {
    return {R::context_overflow};
  }
  if (f.has(phrases::kProviderPolicy)) return {R::provider_policy_blocked};
  if (f.mentions_missing_model()) return {R::model_not_found};
  if (f.has(phrases::kRateLimit)) return {R::rate_limit};
  if (f.has(phrases::kBilling) || f.has_code(phrases::kBillingCodes)) return {R::billing};
  // Anthropic sometimes answers a too-large conversation with a bare "Error".
  const bool generic = f.body.message.size() < 30 || ascii_lower(f.body.message) == "error";
  if (generic && f.large_session(0.4, 80000, 80)) return {R::context_overflow};
  return {R::format_error};
}

Verdict classify_429(const Facts& f) {
  if (f.has(phrases::kOverloaded)) return {R::overloaded};  // Z.AI reuses 429 for overload
  // An aggregator relaying its upstream's 429: our key is fine, another route may not be.
  if (f.body.has_upstream_raw && f.haystack.find("provider returned error") != std::string::npos) {
    return {R::upstream_rate_limit};
  }
  if (f.has_code(phrases::kBillingCodes)) return {R::billing};
  // A quota wall (no rate-limit wording, no reset in sight) will not lift by waiting.
  const bool quota_wording = f.has(phrases::kUsageLimit) || f.has(phrases::kBilling);
  if (quota_wording && !f.has(phrases::kRateLimit) && !f.has(phrases::kTransientSignal) &&
      !f.has_reset_signal()) {
    return {R::billing};
  }
  return {R::rate_limit};
}

Verdict classify_5xx(const Facts& f, int status) {
  if (f.has_code("overloaded_error") || f.has(phrases::kOverloaded)) return {R::overloaded};
  if (status == 500 || status == 502) {
    if (f.has(phrases::kValidation) || f.has_code(phrases::kValidationCodes)) {
      return {R::format_error};
    }
    if (f.has(phrases::kOverflow) || f.has_code(phrases::kOverflowCodes)) {
      return {R::context_overflow};
    }
    return {R::server_error};
  }
  if (status == 503 || status == 529) {
    if (f.has(phrases::kOverflow)) return {R::context_overflow};
    return {R::overloaded};
  }
  if (status == 504 || status == 524) return {R::timeout};  // gateway / Cloudflare origin timeout
  return {R::server_error};
}

Verdict classify_status(const Facts& f, int status) {
  switch (status) {
    case 400:
      return classify_400(f);
    case 401:
      return {R::auth};
    case 402:
      if (f.has(phrases::kUsageLimit)) return usage_limit_verdict(f);
      return {R::billing};
    case 403:
      if (f.has(phrases::kBilling) || f.has_code(phrases::kBillingCodes)) return {R::billing};
      return {R::auth};  // see classify(): a 403 does not rotate keys
    case 404:
      if (f.has(phrases::kBilling)) return {R::billing};
      if (f.has(phrases::kProviderPolicy)) return {R::provider_policy_blocked};
      if (f.mentions_missing_model()) return {R::model_not_found};
      return {R::unknown};  // a bare 404 is most often a wrong base_url
    case 408:
      return {R::timeout};
    case 413:
      return {R::payload_too_large};
    case 422:
      return {R::format_error};
    case 429:
      return classify_429(f);
    default:
      break;
  }
  if (status >= 500) return classify_5xx(f, status);
  return {R::format_error};  // any other 4xx: the request itself is at fault
}

// No HTTP status (or a 200 carrying an error): structured codes, then message wording.
Verdict classify_without_status(const Facts& f) {
  if (f.has_code(phrases::kRateLimitCodes)) return {R::rate_limit, false};
  if (f.has_code(phrases::kBillingCodes)) return {R::billing};
  if (f.has_code(phrases::kModelNotFoundCodes)) return {R::model_not_found};
  if (f.has_code(phrases::kOverflowCodes)) return {R::context_overflow};
  if (f.has_code("overloaded_error") || f.has_code("unavailable")) return {R::overloaded};
  if (f.has_code("api_error") || f.has_code("internal") || f.has_code("server_error")) {
    return {R::server_error};
  }
  if (f.has_code("deadline_exceeded")) return {R::timeout};
  if (f.has_code("authentication_error") || f.has_code("unauthenticated") ||
      f.has_code("permission_error") || f.has_code("permission_denied")) {
    return {R::auth};
  }
  if (f.has_code("request_too_large")) return {R::payload_too_large};

  if (f.has(phrases::kPayloadTooLarge)) return {R::payload_too_large};
  if (f.has(phrases::kUsageLimit)) return usage_limit_verdict(f);
  // Overload before rate limit, so an overloaded provider is waited out, not rotated away from.
  if (f.has(phrases::kOverloaded)) return {R::overloaded};
  if (f.has(phrases::kBilling)) return {R::billing};
  // Throttling before overflow: "Throttling error: Too many tokens" must not compress.
  if (f.has(phrases::kRateLimit)) return {R::rate_limit};
  if (f.has(phrases::kOverflow)) return {R::context_overflow};
  if (f.has(phrases::kAuth)) return {R::auth};
  if (f.has(phrases::kProviderPolicy)) return {R::provider_policy_blocked};
  if (f.mentions_missing_model()) return {R::model_not_found};
  if (f.has(phrases::kCertificate)) return {R::ssl_cert_verification};
  if (f.has(phrases::kTimeout) || f.has(phrases::kConnect) || f.has(phrases::kTlsTransient)) {
    return {R::timeout};
  }
  if (f.has(phrases::kDisconnect)) {
    return f.large_session(0.6, 120000, 200) ? Verdict{R::context_overflow} : Verdict{R::timeout};
  }
  return {R::unknown};
}

Verdict decide(const Facts& f) {
  const auto& e = f.error;
  if (e.transport != TransportFailure::none &&
      (e.status == 0 || e.status == 200 || e.transport == TransportFailure::malformed_body)) {
    return classify_transport(f);
  }
  // A safety refusal is deterministic whatever the status: retrying it unchanged burns money.
  if (f.has(phrases::kContentPolicy)) return {R::content_policy_blocked};
  if (e.status >= 400 && e.status <= 599) return classify_status(f, e.status);
  return classify_without_status(f);
}

}  // namespace

Classification classify(const ProviderError& error, std::chrono::system_clock::time_point now) {
  const ErrorBody body = parse_error_body(error.body);
  Facts facts{error, body, body.haystack};
  if (!error.transport_detail.empty()) facts.haystack += ' ' + ascii_lower(error.transport_detail);

  const Verdict verdict = decide(facts);
  Classification c;
  c.reason = verdict.reason;
  apply_defaults(c);
  if (verdict.fallback) c.fallback = *verdict.fallback;
  // A 403 means this account lacks access; another key of the same account will not help.
  if (c.reason == R::auth && error.status == 403) c.rotate_credential = false;

  c.status = error.status;
  c.transport = error.transport;
  c.provider = error.provider;
  c.model = error.model;
  if (!body.codes.empty()) c.error_code = body.codes.front();
  std::string message = body.message.empty() ? error.transport_detail : body.message;
  c.message = truncate_utf8(redact(message), kMaxMessageBytes);
  c.retry_after = find_retry_after(error.headers, body, now);
  return c;
}

}  // namespace hermes::providers
