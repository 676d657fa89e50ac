#include "daemon/providers/phrases.hpp"

#include <array>

namespace hermes::providers::phrases {

namespace {
using namespace std::string_view_literals;

constexpr std::array kContentPolicyData = {"flagged for possible cybersecurity risk"sv,
                                           "trusted access for cyber"sv,
                                           "violates our usage policies"sv,
                                           "violates openai's usage policies"sv,
                                           "your request was flagged by"sv,
                                           "prompt was flagged by our safety"sv,
                                           "responses cannot be generated due to safety"sv,
                                           "content_filter"sv,
                                           "responsibleaipolicyviolation"sv,
                                           "content management policy"sv,
                                           "content_policy_violation"sv,
                                           "rejected as a result of our safety system"sv};

constexpr std::array kValidationData = {
    "unknown parameter"sv, "unsupported parameter"sv, "unrecognized request argument"sv,
    "unknown_parameter"sv, "unsupported_parameter"sv, "unsupported value"sv};

constexpr std::array kMalformedTranscriptData = {"must have non-empty content"sv,
                                                 "invalid_request_body"sv, "no user query found"sv,
                                                 "roles must alternate"sv};

constexpr std::array kOverflowData = {"context length"sv,
                                      "context size"sv,
                                      "maximum context"sv,
                                      "token limit"sv,
                                      "too many tokens"sv,
                                      "reduce the length"sv,
                                      "exceeds the limit"sv,
                                      "context window"sv,
                                      "prompt is too long"sv,
                                      "prompt exceeds max length"sv,
                                      "max_tokens"sv,
                                      "maximum number of tokens"sv,
                                      "exceeds the max_model_len"sv,
                                      "max_model_len"sv,
                                      "prompt length"sv,
                                      "input is too long"sv,
                                      "maximum model length"sv,
                                      "context length exceeded"sv,
                                      "truncating input"sv,
                                      "slot context"sv,
                                      "n_ctx_slot"sv,
                                      "超过最大长度"sv,
                                      "上下文长度"sv,
                                      "max input token"sv,
                                      "input token"sv,
                                      "exceeds the maximum number of input tokens"sv,
                                      "tokens in request more than max tokens allowed"sv,
                                      "maximum allowed input length"sv,
                                      "context_length_exceeded"sv};

constexpr std::array kBillingData = {"insufficient credits"sv,
                                     "insufficient_quota"sv,
                                     "insufficient balance"sv,
                                     "credit balance"sv,
                                     "credits exhausted"sv,
                                     "credits have been exhausted"sv,
                                     "no usable credits"sv,
                                     "top up your credits"sv,
                                     "payment required"sv,
                                     "billing hard limit"sv,
                                     "exceeded your current quota"sv,
                                     "account is deactivated"sv,
                                     "plan does not include"sv,
                                     "out of funds"sv,
                                     "run out of funds"sv,
                                     "balance_depleted"sv,
                                     "model_not_supported_on_free_tier"sv,
                                     "not available on the free tier"sv,
                                     "requires available credits"sv,
                                     "account balance is too low"sv,
                                     "out of extra usage"sv,
                                     "budget limit exceeded"sv,
                                     "hard billing limit"sv,
                                     "requires more credits"sv,
                                     "余额不足"sv,
                                     "spending limit"sv,
                                     "key limit exceeded"sv};

constexpr std::array kUsageLimitData = {"usage limit"sv, "quota"sv, "limit exceeded"sv,
                                        "key limit exceeded"sv, "usage_limit_reached"sv};

constexpr std::array kTransientSignalData = {
    "try again"sv,    "retry"sv,      "resets at"sv,          "reset in"sv,          "resets in"sv,
    "reset after"sv,  "wait"sv,       "requests remaining"sv, "periodic"sv,          "window"sv,
    "available in"sv, "per minute"sv, "per second"sv,         "resets_in_seconds"sv, "resets_at"sv,
    "reset_at"sv};

constexpr std::array kRateLimitData = {"rate limit"sv,
                                       "rate_limit"sv,
                                       "rate-limit"sv,
                                       "too many requests"sv,
                                       "throttled"sv,
                                       "throttling"sv,
                                       "requests per minute"sv,
                                       "tokens per minute"sv,
                                       "requests per day"sv,
                                       "try again in"sv,
                                       "please retry after"sv,
                                       "resource_exhausted"sv,
                                       "resource exhausted"sv,
                                       "rate increased too quickly"sv,
                                       "throttlingexception"sv,
                                       "too many concurrent requests"sv,
                                       "servicequotaexceededexception"sv};

constexpr std::array kOverloadedData = {"overloaded"sv,      "at capacity"sv,
                                        "over capacity"sv,   "capacity exceeded"sv,
                                        "server is busy"sv,  "engine is currently overloaded"sv,
                                        "overloaded_error"sv};

constexpr std::array kAuthData = {
    "invalid api key"sv,    "invalid_api_key"sv, "incorrect api key"sv, "authentication"sv,
    "unauthorized"sv,       "forbidden"sv,       "invalid token"sv,     "token expired"sv,
    "token revoked"sv,      "access denied"sv,   "invalid x-api-key"sv, "api key not valid"sv,
    "no auth credentials"sv};

constexpr std::array kInvalidKeyData = {"api key not valid"sv, "api_key_invalid"sv,
                                        "invalid api key"sv,   "invalid_api_key"sv,
                                        "incorrect api key"sv, "invalid x-api-key"sv};

constexpr std::array kPayloadTooLargeData = {"request entity too large"sv, "payload too large"sv,
                                             "error code: 413"sv, "request_too_large"sv,
                                             "request exceeds the maximum size"sv};

constexpr std::array kProviderPolicyData = {"no endpoints found matching your data policy"sv,
                                            "data policy"sv};

constexpr std::array kModelNotFoundData = {"model_not_found"sv,      "model not found"sv,
                                           "invalid model"sv,        "unknown model"sv,
                                           "no such model"sv,        "is not a valid model"sv,
                                           "model does not exist"sv, "not a valid model id"sv};

constexpr std::array kTimeoutData = {"timed out"sv, "timeout"sv, "deadline exceeded"sv,
                                     "operation timed out"sv, "upstream timed out"sv};

constexpr std::array kConnectData = {"connection refused"sv,
                                     "econnrefused"sv,
                                     "getaddrinfo failed"sv,
                                     "name or service not known"sv,
                                     "temporary failure in name resolution"sv,
                                     "network is unreachable"sv,
                                     "fetch failed"sv,
                                     "upstream connect error"sv,
                                     "host not found"sv,
                                     "no route to host"sv};

constexpr std::array kCertificateData = {
    "certificate verify failed"sv, "unable to get local issuer certificate"sv,
    "self-signed certificate"sv,   "self signed certificate"sv,
    "certificate has expired"sv,   "hostname mismatch"sv,
    "certificate verification"sv};

constexpr std::array kTlsTransientData = {
    "bad record mac"sv, "ssl alert"sv,   "tls alert"sv,      "ssl handshake failure"sv,
    "tlsv1 alert"sv,    "sslv3 alert"sv, "bad_record_mac"sv, "ssl_alert"sv,
    "tls_alert"sv,      "[ssl:"sv};

constexpr std::array kDisconnectData = {
    "server disconnected"sv,     "peer closed connection"sv,  "connection reset by peer"sv,
    "connection was closed"sv,   "network connection lost"sv, "unexpected eof"sv,
    "incomplete chunked read"sv, "end of stream"sv,           "stream truncated"sv};

constexpr std::array kBillingCodesData = {"insufficient_quota"sv,
                                          "billing_not_active"sv,
                                          "payment_required"sv,
                                          "insufficient_credits"sv,
                                          "no_usable_credits"sv,
                                          "balance_depleted"sv,
                                          "model_not_supported_on_free_tier"sv,
                                          "credit_balance_exhausted"sv,
                                          "terminal_quota_exhausted"sv,
                                          "member_spend_cap_exceeded"sv,
                                          "organization_spend_limit_exceeded"sv,
                                          "project_spend_limit_exceeded"sv,
                                          "billing_hard_limit_reached"sv};

constexpr std::array kRateLimitCodesData = {"resource_exhausted"sv, "throttled"sv,
                                            "rate_limit_exceeded"sv, "rate_limit_error"sv,
                                            "too_many_requests"sv};

constexpr std::array kModelNotFoundCodesData = {"model_not_found"sv, "model_not_available"sv,
                                                "invalid_model"sv, "not_found_error"sv};

constexpr std::array kOverflowCodesData = {"context_length_exceeded"sv, "max_tokens_exceeded"sv,
                                           "string_above_max_length"sv};

constexpr std::array kValidationCodesData = {"unknown_parameter"sv, "unsupported_parameter"sv,
                                             "unsupported_value"sv};

}  // namespace

const List kContentPolicy{kContentPolicyData};
const List kValidation{kValidationData};
const List kMalformedTranscript{kMalformedTranscriptData};
const List kOverflow{kOverflowData};
const List kBilling{kBillingData};
const List kUsageLimit{kUsageLimitData};
const List kTransientSignal{kTransientSignalData};
const List kRateLimit{kRateLimitData};
const List kOverloaded{kOverloadedData};
const List kAuth{kAuthData};
const List kInvalidKey{kInvalidKeyData};
const List kPayloadTooLarge{kPayloadTooLargeData};
const List kProviderPolicy{kProviderPolicyData};
const List kModelNotFound{kModelNotFoundData};
const List kTimeout{kTimeoutData};
const List kConnect{kConnectData};
const List kCertificate{kCertificateData};
const List kTlsTransient{kTlsTransientData};
const List kDisconnect{kDisconnectData};
const List kBillingCodes{kBillingCodesData};
const List kRateLimitCodes{kRateLimitCodesData};
const List kModelNotFoundCodes{kModelNotFoundCodesData};
const List kOverflowCodes{kOverflowCodesData};
const List kValidationCodes{kValidationCodesData};

bool contains_any(std::string_view haystack, List phrases) {
  for (auto phrase : phrases) {
    if (haystack.find(phrase) != std::string_view::npos) return true;
  }
  return false;
}

}  // namespace hermes::providers::phrases
