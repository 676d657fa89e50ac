#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "daemon/providers/failover_reason.hpp"
#include "daemon/providers/provider_error.hpp"

namespace hermes::providers {

// The classifier's verdict and the decisions it implies for the failover loop.
struct Classification {
  FailoverReason reason = FailoverReason::unknown;
  int status = 0;
  TransportFailure transport = TransportFailure::none;
  std::string provider;
  std::string model;
  std::string error_code;  // structured code from the body, lowercased ("insufficient_quota")
  std::string message;     // the provider's own message, redacted, at most 500 bytes
  // The gateway's own sentence, never provider text: for budget_exceeded the budget, what was
  // spent, the limit and when it resets; for context_overflow the message left out.
  std::string gateway_detail;

  bool retryable = true;           // the same request may succeed later
  bool rotate_credential = false;  // try the next key in the pool
  bool fallback = false;           // try the next provider in fallback_providers
  bool compress = false;           // the conversation must shrink before a retry

  // How long the provider asked us to wait (Retry-After, retry-after-ms, a reset time).
  std::optional<std::chrono::milliseconds> retry_after;
};

}  // namespace hermes::providers
