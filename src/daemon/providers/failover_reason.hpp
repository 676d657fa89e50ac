#pragma once

#include <optional>
#include <string_view>

namespace hermes::providers {

// Why a provider call failed, in the words of the contract (error.type, logs, metrics, status).
enum class FailoverReason {
  auth,                     // key rejected (401/403): rotate, then fall back
  auth_permanent,           // rejected again after rotation: stop
  billing,                  // balance/quota exhausted: never retry the same key
  rate_limit,               // throttled: wait for the reset, then rotate
  upstream_rate_limit,      // an aggregator's upstream is throttled: fall back, our key is fine
  overloaded,               // provider at capacity (503/529): back off
  server_error,             // 500/502 and broken replies: retry
  timeout,                  // no answer in time, or the connection failed: retry
  context_overflow,         // the conversation no longer fits: compress or start fresh
  payload_too_large,        // 413: compress
  model_not_found,          // fall back to another model
  content_policy_blocked,   // a safety filter refused: retrying unchanged is pointless
  provider_policy_blocked,  // the account's data policy excludes every endpoint
  ssl_cert_verification,    // the provider's certificate did not verify: fail fast
  format_error,             // the request itself was rejected
  unknown,                  // anything else: retry with backoff
  budget_exceeded,          // the gateway's own: a spending budget is used up (no call made)
};

std::string_view to_string(FailoverReason reason);
std::optional<FailoverReason> parse_failover_reason(std::string_view name);

// Every reason, in declaration order (for metrics and tests).
inline constexpr FailoverReason kAllFailoverReasons[] = {
    FailoverReason::auth,
    FailoverReason::auth_permanent,
    FailoverReason::billing,
    FailoverReason::rate_limit,
    FailoverReason::upstream_rate_limit,
    FailoverReason::overloaded,
    FailoverReason::server_error,
    FailoverReason::timeout,
    FailoverReason::context_overflow,
    FailoverReason::payload_too_large,
    FailoverReason::model_not_found,
    FailoverReason::content_policy_blocked,
    FailoverReason::provider_policy_blocked,
    FailoverReason::ssl_cert_verification,
    FailoverReason::format_error,
    FailoverReason::unknown,
    FailoverReason::budget_exceeded,
};

}  // namespace hermes::providers
