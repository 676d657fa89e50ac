#include "daemon/providers/failover_reason.hpp"

namespace hermes::providers {

std::string_view to_string(FailoverReason reason) {
  switch (reason) {
    case FailoverReason::auth:
      return "auth";
    case FailoverReason::auth_permanent:
      return "auth_permanent";
    case FailoverReason::billing:
      return "billing";
    case FailoverReason::rate_limit:
      return "rate_limit";
    case FailoverReason::upstream_rate_limit:
      return "upstream_rate_limit";
    case FailoverReason::overloaded:
      return "overloaded";
    case FailoverReason::server_error:
      return "server_error";
    case FailoverReason::timeout:
      return "timeout";
    case FailoverReason::context_overflow:
      return "context_overflow";
    case FailoverReason::payload_too_large:
      return "payload_too_large";
    case FailoverReason::model_not_found:
      return "model_not_found";
    case FailoverReason::content_policy_blocked:
      return "content_policy_blocked";
    case FailoverReason::provider_policy_blocked:
      return "provider_policy_blocked";
    case FailoverReason::ssl_cert_verification:
      return "ssl_cert_verification";
    case FailoverReason::format_error:
      return "format_error";
    case FailoverReason::unknown:
      return "unknown";
    case FailoverReason::budget_exceeded:
      return "budget_exceeded";
  }
  return "unknown";
}

std::optional<FailoverReason> parse_failover_reason(std::string_view name) {
  for (auto reason : kAllFailoverReasons) {
    if (to_string(reason) == name) return reason;
  }
  return std::nullopt;
}

}  // namespace hermes::providers
