#include "daemon/providers/hint.hpp"

namespace hermes::providers {

namespace {

std::string plural(long long n, const char* unit) {
  return std::to_string(n) + " " + unit + (n == 1 ? "" : "s");
}

bool has_retry_after(const Classification& c) {
  return c.retry_after && c.retry_after->count() > 0;
}

std::string billing_hint(const Classification& c) {
  if (has_retry_after(c)) {
    // When the gateway probes again (a top-up is noticed then, no restart needed).
    return "Your API balance or quota is exhausted. Check your provider dashboard. The "
           "gateway tries the provider again in " +
           describe_wait(*c.retry_after) + ".";
  }
  return "Your API balance or quota is exhausted. Check your provider dashboard.";
}

std::string rate_limit_hint(const Classification& c) {
  if (has_retry_after(c)) {
    return "The provider is rate-limiting requests; the limit resets in " +
           describe_wait(*c.retry_after) + ", so please try again then.";
  }
  return "The provider is rate-limiting requests. Please wait a moment and try again.";
}

// A refused connection or an unknown host is a setup problem, not a slow provider.
std::string timeout_hint(const Classification& c) {
  if (c.transport == TransportFailure::connection_refused ||
      c.transport == TransportFailure::dns_failure) {
    return "The gateway could not reach the provider. Check its base_url and the network, "
           "then try again.";
  }
  return "The provider did not answer in time. Please try again in a moment.";
}

std::string budget_hint(const Classification& c) {
  if (!c.gateway_detail.empty()) return c.gateway_detail;
  return "A spending budget of this gateway is used up; it resets at the start of its "
         "period.";
}

}  // namespace

std::string describe_wait(std::chrono::milliseconds wait) {
  using namespace std::chrono;
  const long long seconds = std::max<long long>(1, (wait.count() + 999) / 1000);
  if (seconds < 90) return "about " + plural(seconds, "second");
  const long long minutes = (seconds + 59) / 60;
  if (minutes < 90) return "about " + plural(minutes, "minute");
  const long long hours = (minutes + 59) / 60;
  if (hours < 48) return "about " + plural(hours, "hour");
  return "about " + plural((hours + 23) / 24, "day");
}

std::string hint(const Classification& c) {
  switch (c.reason) {
    case FailoverReason::auth:
    case FailoverReason::auth_permanent:
      return "The provider rejected the API key. Check the key in config.yaml or .env and "
             "restart the gateway.";
    case FailoverReason::billing:
      return billing_hint(c);
    case FailoverReason::rate_limit:
      return rate_limit_hint(c);
    case FailoverReason::upstream_rate_limit:
      return "The model's upstream provider is rate-limiting requests. Please wait a moment and "
             "try again.";
    case FailoverReason::overloaded:
      return "The provider is temporarily overloaded. Please try again shortly.";
    case FailoverReason::server_error:
      return "The provider had an internal error. Please try again in a moment.";
    case FailoverReason::timeout:
      return timeout_hint(c);
    case FailoverReason::context_overflow:
      if (!c.gateway_detail.empty()) return c.gateway_detail;
      return "This conversation is too long for the model's context window. Send /new to start "
             "a fresh session.";
    case FailoverReason::payload_too_large:
      return "The request was too large for the provider. Send /new to start a fresh session or "
             "send a shorter message.";
    case FailoverReason::model_not_found:
      return "The provider does not offer the configured model. Check model.default in "
             "config.yaml.";
    case FailoverReason::content_policy_blocked:
      return "The provider's safety filter refused this request. Try rephrasing it.";
    case FailoverReason::provider_policy_blocked:
      return "Your provider account's data policy allows no endpoint for this model. Change the "
             "privacy settings in your provider account or choose another model.";
    case FailoverReason::ssl_cert_verification:
      return "The provider's TLS certificate could not be verified. Check its base_url and the "
             "system's CA certificates.";
    case FailoverReason::format_error:
      return "The provider rejected the request as invalid. Check the model and provider "
             "settings in config.yaml.";
    case FailoverReason::budget_exceeded:
      return budget_hint(c);
    case FailoverReason::unknown:
      break;
  }
  return "The provider returned an unexpected error. Please try again; if it keeps happening, "
         "check the gateway logs.";
}

}  // namespace hermes::providers
