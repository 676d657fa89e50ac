// Table-driven tests of the provider-error classifier: each row is a real-looking provider
// response (OpenAI, Anthropic, OpenRouter, Gemini via its OpenAI endpoint, DeepSeek, Z.AI,
// llama.cpp / Ollama) or a transport failure, with the verdict and the decisions expected.
#include "daemon/providers/classifier.hpp"

#include <gtest/gtest.h>

#include <ctime>
#include <optional>
#include <string>
#include <vector>

namespace hermes::providers {
namespace {

using R = FailoverReason;
using T = TransportFailure;
using Headers = std::vector<std::pair<std::string, std::string>>;

// Flags as a compact string: R retryable, O rotate credential, F fallback, C compress.
struct Case {
  const char* name;
  int status;
  std::string body;
  R reason;
  const char* flags;
  Headers headers{};
  T transport = T::none;
  std::string detail{};
  SessionSize session{};
  std::optional<long long> retry_after_ms{};
};

void PrintTo(const Case& c, std::ostream* os) {
  *os << c.name;
}

std::chrono::system_clock::time_point fixed_now() {
  std::tm tm{};
  tm.tm_year = 2026 - 1900;
  tm.tm_mon = 10;  // November
  tm.tm_mday = 27;
  tm.tm_hour = 20;
  return std::chrono::system_clock::from_time_t(timegm(&tm));
}

const SessionSize kLarge{150000, 200000, 120};
const SessionSize kSmall{2000, 200000, 4};

std::vector<Case> cases() {
  return {
      // ---- OpenAI ----
      {"openai_401_invalid_key", 401,
       R"({"error":{"message":"Incorrect API key provided: sk-proj-abcdefghijklmnop1234. You can find your API key at https://platform.openai.com/account/api-keys.","type":"invalid_request_error","param":null,"code":"invalid_api_key"}})",
       R::auth, "OF"},
      {"openai_429_tokens_per_minute",
       429,
       R"({"error":{"message":"Rate limit reached for gpt-4o-mini in organization org-abc on tokens per min (TPM): Limit 200000, Used 199000, Requested 3000. Please try again in 300ms.","type":"tokens","param":null,"code":"rate_limit_exceeded"}})",
       R::rate_limit,
       "ROF",
       {{"x-ratelimit-reset-tokens", "300ms"}},
       T::none,
       "",
       {},
       300},
      {"openai_429_insufficient_quota_is_billing", 429,
       R"({"error":{"message":"You exceeded your current quota, please check your plan and billing details.","type":"insufficient_quota","param":null,"code":"insufficient_quota"}})",
       R::billing, "OF"},
      {"openai_400_context_length_exceeded", 400,
       R"({"error":{"message":"This model's maximum context length is 128000 tokens. However, your messages resulted in 130000 tokens. Please reduce the length of the messages.","type":"invalid_request_error","param":"messages","code":"context_length_exceeded"}})",
       R::context_overflow, "RC"},
      {"gpt5_unsupported_parameter_max_tokens_is_format_not_overflow", 400,
       R"({"error":{"message":"Unsupported parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens' instead.","type":"invalid_request_error","param":"max_tokens","code":"unsupported_parameter"}})",
       R::format_error, "F"},
      {"openai_404_model_not_found", 404,
       R"({"error":{"message":"The model `gpt-5-turbo` does not exist or you do not have access to it.","type":"invalid_request_error","param":null,"code":"model_not_found"}})",
       R::model_not_found, "F"},
      {"openai_500_server_error", 500,
       R"({"error":{"message":"The server had an error while processing your request. Sorry about that!","type":"server_error","param":null,"code":null}})",
       R::server_error, "RF"},
      {"openai_503_engine_overloaded", 503,
       R"({"error":{"message":"The engine is currently overloaded, please try again later","type":"server_error"}})",
       R::overloaded, "RF"},
      {"openai_400_safety_system", 400,
       R"({"error":{"message":"Your request was rejected as a result of our safety system.","type":"invalid_request_error","code":"content_policy_violation"}})",
       R::content_policy_blocked, "F"},
      {"azure_400_content_filter", 400,
       R"({"error":{"message":"The response was filtered due to the prompt triggering Azure OpenAI's content management policy.","type":null,"param":"prompt","code":"content_filter","status":400}})",
       R::content_policy_blocked, "F"},
      {"openai_400_descriptive_format_error", 400,
       R"({"error":{"message":"'messages' must contain the word 'json' in some form, to use 'response_format' of type 'json_object'.","type":"invalid_request_error","param":"messages","code":null}})",
       R::format_error, "F"},
      {"openai_413_plain_text", 413, "Request Entity Too Large", R::payload_too_large, "RC"},
      {"fastapi_422_validation", 422,
       R"({"detail":[{"loc":["body","messages"],"msg":"field required","type":"value_error.missing"}]})",
       R::format_error, "F"},
      {"openai_408_request_timeout_never_compresses",
       408,
       R"({"error":{"message":"Request timed out."}})",
       R::timeout,
       "RF",
       {},
       T::none,
       "",
       kLarge},
      {"openai_429_retry_after_seconds",
       429,
       R"({"error":{"message":"Rate limit reached for requests","type":"requests","code":"rate_limit_exceeded"}})",
       R::rate_limit,
       "ROF",
       {{"Retry-After", "20"}},
       T::none,
       "",
       {},
       20000},
      {"openai_429_retry_after_ms",
       429,
       R"({"error":{"message":"Too Many Requests"}})",
       R::rate_limit,
       "ROF",
       {{"retry-after-ms", "1500"}},
       T::none,
       "",
       {},
       1500},
      {"openai_429_retry_after_http_date",
       429,
       "",
       R::rate_limit,
       "ROF",
       {{"Retry-After", "Fri, 27 Nov 2026 20:01:00 GMT"}},
       T::none,
       "",
       {},
       60000},

      // ---- Anthropic ----
      {"anthropic_529_overloaded_error", 529,
       R"({"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}})",
       R::overloaded, "RF"},
      {"anthropic_401_invalid_x_api_key", 401,
       R"({"type":"error","error":{"type":"authentication_error","message":"invalid x-api-key"}})",
       R::auth, "OF"},
      {"anthropic_429_rate_limit_error_retry_after",
       429,
       R"({"type":"error","error":{"type":"rate_limit_error","message":"This request would exceed the rate limit for your organization of 50 output tokens per minute. Please reduce the prompt length or the maximum tokens requested, or try again later."}})",
       R::rate_limit,
       "ROF",
       {{"retry-after", "171"}},
       T::none,
       "",
       {},
       171000},
      {"anthropic_400_prompt_too_long", 400,
       R"({"type":"error","error":{"type":"invalid_request_error","message":"prompt is too long: 210000 tokens > 200000 maximum"}})",
       R::context_overflow, "RC"},
      {"anthropic_400_credit_balance_too_low", 400,
       R"({"type":"error","error":{"type":"invalid_request_error","message":"Your credit balance is too low to access the Anthropic API. Please go to Plans & Billing to upgrade or purchase credits."}})",
       R::billing, "OF"},
      {"anthropic_500_api_error", 500,
       R"({"type":"error","error":{"type":"api_error","message":"Internal server error"}})",
       R::server_error, "RF"},
      {"anthropic_404_not_found_error_model", 404,
       R"({"type":"error","error":{"type":"not_found_error","message":"model: claude-nope"}})",
       R::model_not_found, "F"},
      {"anthropic_413_request_too_large", 413,
       R"({"type":"error","error":{"type":"request_too_large","message":"Request exceeds the maximum allowed number of bytes."}})",
       R::payload_too_large, "RC"},
      {"anthropic_403_permission_error", 403,
       R"({"type":"error","error":{"type":"permission_error","message":"Your API key does not have permission to use the specified resource."}})",
       R::auth, "F"},
      {"anthropic_overloaded_error_event_mid_stream", 0,
       R"({"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}})",
       R::overloaded, "RF"},
      {"gateway_refused_field_for_anthropic_is_format_error", 400,
       R"({"type":"error","error":{"type":"invalid_request_error","message":"Unsupported parameter for an Anthropic provider: 'seed' (the Messages API has no equivalent)."}})",
       R::format_error, "F"},
      {"anthropic_overloaded_inside_streamed_200", 200,
       R"({"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}})",
       R::overloaded, "RF"},
      {"anthropic_400_bare_error_on_large_session_is_overflow",
       400,
       R"({"type":"error","error":{"type":"invalid_request_error","message":"Error"}})",
       R::context_overflow,
       "RC",
       {},
       T::none,
       "",
       kLarge},
      {"anthropic_400_bare_error_on_small_session_is_format",
       400,
       R"({"type":"error","error":{"type":"invalid_request_error","message":"Error"}})",
       R::format_error,
       "F",
       {},
       T::none,
       "",
       kSmall},
      {"anthropic_403_permission_error_does_not_rotate", 403,
       R"({"type":"error","error":{"type":"permission_error","message":"Your API key does not have permission to use the specified resource."}})",
       R::auth, "F"},
      {"anthropic_429_usage_limit_without_reset_is_billing", 429,
       R"({"type":"error","error":{"type":"invalid_request_error","message":"You have reached your specified API usage limits. You will regain access on 2026-12-01 at 00:00 UTC."}})",
       R::billing, "OF"},
      {"anthropic_429_usage_limit_with_reset_header_stays_rate_limit",
       429,
       R"({"type":"error","error":{"type":"invalid_request_error","message":"You have reached your specified API usage limits."}})",
       R::rate_limit,
       "ROF",
       {{"anthropic-ratelimit-requests-reset", "2026-11-27T20:05:00Z"}},
       T::none,
       "",
       {},
       300000},

      // ---- OpenRouter ----
      {"openrouter_402_requires_more_credits", 402,
       R"({"error":{"message":"This request requires more credits, or fewer max_tokens. You requested up to 16384 tokens, but can only afford 3072.","code":402}})",
       R::billing, "OF"},
      {"openrouter_metadata_raw_context_overflow", 400,
       R"({"error":{"message":"Provider returned error","code":400,"metadata":{"raw":"{\"error\":{\"message\":\"This endpoint's maximum context length is 32768 tokens. However, you requested about 40000 tokens.\",\"code\":400}}","provider_name":"DeepInfra"}}})",
       R::context_overflow, "RC"},
      {"openrouter_upstream_429_is_upstream_rate_limit", 429,
       R"({"error":{"message":"Provider returned error","code":429,"metadata":{"raw":"meta-llama/llama-3.3-70b-instruct:free is temporarily rate-limited upstream. Please retry shortly.","provider_name":"Chutes"}}})",
       R::upstream_rate_limit, "RF"},
      {"openrouter_404_data_policy", 404,
       R"({"error":{"message":"No endpoints found matching your data policy (Free model publication).","code":404}})",
       R::provider_policy_blocked, ""},
      {"openrouter_401_no_auth_credentials", 401,
       R"({"error":{"message":"No auth credentials found","code":401}})", R::auth, "OF"},
      {"openrouter_403_key_limit_exceeded_is_billing", 403,
       R"({"error":{"message":"Key limit exceeded (monthly limit).","code":403}})", R::billing,
       "OF"},
      {"openrouter_402_daily_usage_limit_transient_is_rate_limit", 402,
       R"({"error":{"message":"Daily usage limit reached for free models. Resets at midnight UTC; try again later.","code":402}})",
       R::rate_limit, "ROF"},

      // ---- Gemini (OpenAI-compatible endpoint) ----
      {"gemini_429_resource_exhausted_retry_delay",
       429,
       R"([{"error":{"code":429,"message":"Resource has been exhausted (e.g. check quota).","status":"RESOURCE_EXHAUSTED","details":[{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"32s"}]}}])",
       R::rate_limit,
       "ROF",
       {},
       T::none,
       "",
       {},
       32000},
      {"gemini_400_api_key_not_valid_is_auth", 400,
       R"([{"error":{"code":400,"message":"API key not valid. Please pass a valid API key.","status":"INVALID_ARGUMENT","details":[{"reason":"API_KEY_INVALID"}]}}])",
       R::auth, "OF"},
      {"gemini_503_unavailable", 503,
       R"({"error":{"code":503,"message":"The model is overloaded. Please try again later.","status":"UNAVAILABLE"}})",
       R::overloaded, "RF"},
      {"gemini_404_model_not_found", 404,
       R"({"error":{"code":404,"message":"models/gemini-9-pro is not found for API version v1beta, or is not supported for generateContent.","status":"NOT_FOUND"}})",
       R::model_not_found, "F"},

      // ---- DeepSeek ----
      {"deepseek_402_insufficient_balance", 402,
       R"({"error":{"message":"Insufficient Balance","type":"unknown_error","param":null,"code":"invalid_request_error"}})",
       R::billing, "OF"},
      {"deepseek_400_chinese_balance", 400,
       R"({"error":{"message":"账户余额不足","type":"invalid_request_error"}})", R::billing, "OF"},
      {"deepseek_400_context_length", 400,
       R"({"error":{"message":"This model's maximum context length is 65536 tokens. However, you requested 70000 tokens. Please reduce the length of the messages or completion.","type":"invalid_request_error","param":null,"code":"invalid_request_error"}})",
       R::context_overflow, "RC"},
      {"deepseek_503_server_busy", 503,
       R"({"error":{"message":"Server is busy, please try again later."}})", R::overloaded, "RF"},

      // ---- Z.AI ----
      {"zai_429_overload_backs_off_not_rotate", 429,
       R"({"error":{"code":"1305","message":"The service may be temporarily overloaded, please try again later"}})",
       R::overloaded, "RF"},
      {"zai_400_tokens_more_than_allowed", 400,
       R"({"error":{"code":"1210","message":"Tokens in request more than max tokens allowed"}})",
       R::context_overflow, "RC"},

      // ---- llama.cpp / Ollama ----
      {"llamacpp_400_exceeds_context_size", 400,
       R"({"error":{"code":400,"message":"the request exceeds the available context size, try increasing it","type":"exceed_context_size_error","n_prompt_tokens":9000,"n_ctx":8192}})",
       R::context_overflow, "RC"},
      {"llamacpp_503_loading_model", 503,
       R"({"error":{"code":503,"message":"Loading model","type":"unavailable_error"}})",
       R::overloaded, "RF"},
      {"llamacpp_connection_refused",
       0,
       "",
       R::timeout,
       "RF",
       {},
       T::connection_refused,
       "Connection refused"},
      {"ollama_404_model_not_pulled", 404,
       R"({"error":"model \"llama9\" not found, try pulling it first"})", R::model_not_found, "F"},

      // ---- Wrong base URLs, HTML pages, odd bodies ----
      {"bare_404_from_wrong_base_url", 404, "404 page not found", R::unknown, "RF"},
      {"nginx_404_html_page", 404,
       "<html>\r\n<head><title>404 Not Found</title></head>\r\n<body><center><h1>404 Not "
       "Found</h1></center><hr><center>nginx</center></body></html>",
       R::unknown, "RF"},
      {"cloudflare_502_html_page", 502,
       "<!DOCTYPE html><html lang=\"en-US\"><head><title>api.example.com | 502: Bad "
       "gateway</title></head><body>Cloudflare Ray ID: 8f1c2d3e4a5b6c7d</body></html>",
       R::server_error, "RF"},
      {"cloudflare_524_origin_timeout_html", 524,
       "<!DOCTYPE html><html><head><title>api.example.com | 524: A timeout "
       "occurred</title></head><body></body></html>",
       R::timeout, "RF"},
      {"gateway_504_html", 504, "<html><body><h1>504 Gateway Time-out</h1></body></html>",
       R::timeout, "RF"},
      {"empty_body_500", 500, "", R::server_error, "RF"},
      {"empty_body_429", 429, "", R::rate_limit, "ROF"},
      {"empty_body_401", 401, "", R::auth, "OF"},
      {"empty_body_402_billing_is_never_retried", 402, "", R::billing, "OF"},
      {"plain_text_503_envoy", 503,
       "upstream connect error or disconnect/reset before headers. reset reason: connection "
       "failure",
       R::overloaded, "RF"},
      {"json_string_body_500", 500, "\"oops\"", R::server_error, "RF"},
      {"json_array_of_numbers_400", 400, "[1,2,3]", R::format_error, "F"},
      {"nested_message_object_400", 400, R"({"error":{"message":{"text":"nested","code":5}}})",
       R::format_error, "F"},
      {"invalid_utf8_body_500", 500, "\xff\xfe\xfd broken", R::server_error, "RF"},
      {"truncated_json_body_502", 502, R"({"error":{"message":"Bad gat)", R::server_error, "RF"},
      {"unsupported_parameter_in_500", 500,
       R"({"error":{"message":"Unrecognized request argument supplied: reasoning_effort"}})",
       R::format_error, "F"},
      {"dashscope_400_rate_limit_text", 400,
       R"({"error":{"message":"Requests rate limit exceeded, please try again later.","type":"limit_requests","code":"Throttling.RateQuota"}})",
       R::rate_limit, "ROF"},
      {"cyber_risk_refusal_is_not_retried", 400,
       R"({"error":{"message":"This request has been flagged for possible cybersecurity risk."}})",
       R::content_policy_blocked, "F"},
      {"codex_usage_limit_with_resets_in_seconds",
       429,
       R"({"error":{"type":"usage_limit_reached","message":"The usage limit has been reached","resets_in_seconds":5400}})",
       R::rate_limit,
       "ROF",
       {},
       T::none,
       "",
       {},
       5400000},
      {"usage_limit_402_resets_in_message",
       402,
       R"({"error":{"message":"You have reached your usage limit for this period. It resets in 2 hours; please try again then."}})",
       R::rate_limit,
       "ROF",
       {},
       T::none,
       "",
       {},
       7200000},
      {"other_4xx_409_is_format_error", 409, R"({"error":{"message":"Conflict"}})", R::format_error,
       "F"},

      // ---- No status: a 200 carrying an error, and message-only errors ----
      {"ok_status_with_generic_error_body_is_unknown", 200,
       R"({"error":{"message":"Something odd happened"}})", R::unknown, "RF"},
      {"bedrock_throttling_too_many_tokens_is_rate_limit_not_overflow", 0,
       R"({"message":"Throttling error: Too many tokens, please wait before trying again."})",
       R::rate_limit, "ROF"},
      {"message_only_request_timed_out", 0, R"({"error":{"message":"Request timed out."}})",
       R::timeout, "RF"},
      {"message_only_resource_exhausted_code", 0,
       R"({"error":{"code":"RESOURCE_EXHAUSTED","message":"Quota exceeded for requests"}})",
       R::rate_limit, "RO"},

      // ---- Transport failures ----
      {"transport_read_timeout", 0, "", R::timeout, "RF", {}, T::timeout, "operation timed out"},
      {"transport_dns_failure",
       0,
       "",
       R::timeout,
       "RF",
       {},
       T::dns_failure,
       "Host not found (authoritative)"},
      {"transport_tls_certificate_verify_failed",
       0,
       "",
       R::ssl_cert_verification,
       "F",
       {},
       T::tls_verification,
       "certificate verify failed (SSL routines): self-signed certificate"},
      {"transport_tls_bad_record_mac_retries",
       0,
       "",
       R::timeout,
       "RF",
       {},
       T::tls_other,
       "sslv3 alert bad record mac"},
      {"transport_reset_small_session",
       0,
       "",
       R::timeout,
       "RF",
       {},
       T::connection_reset,
       "Connection reset by peer",
       kSmall},
      {"transport_reset_large_session_compresses",
       0,
       "",
       R::context_overflow,
       "RC",
       {},
       T::connection_reset,
       "Connection reset by peer",
       {150000, 128000, 90}},
      {"transport_truncated_body",
       0,
       "",
       R::timeout,
       "RF",
       {},
       T::truncated_body,
       "stream truncated"},
      {"transport_malformed_200_body",
       200,
       "data: {not json",
       R::server_error,
       "RF",
       {},
       T::malformed_body,
       "unexpected token in response"},
  };
}

class ClassifierTable : public ::testing::TestWithParam<Case> {};

TEST_P(ClassifierTable, ReasonAndDecisions) {
  const Case& c = GetParam();
  ProviderError error;
  error.status = c.status;
  error.body = c.body;
  error.headers = c.headers;
  error.transport = c.transport;
  error.transport_detail = c.detail;
  error.session = c.session;
  error.provider = "test";
  error.model = "test-model";

  const Classification result = classify(error, fixed_now());
  const std::string flags = c.flags;
  EXPECT_EQ(to_string(result.reason), to_string(c.reason));
  EXPECT_EQ(result.retryable, flags.find('R') != std::string::npos) << "retryable";
  EXPECT_EQ(result.rotate_credential, flags.find('O') != std::string::npos) << "rotate";
  EXPECT_EQ(result.fallback, flags.find('F') != std::string::npos) << "fallback";
  EXPECT_EQ(result.compress, flags.find('C') != std::string::npos) << "compress";
  if (c.retry_after_ms) {
    ASSERT_TRUE(result.retry_after.has_value()) << "expected a retry-after";
    EXPECT_EQ(result.retry_after->count(), *c.retry_after_ms);
  }
  EXPECT_EQ(result.status, c.status);
  EXPECT_EQ(result.provider, "test");
  EXPECT_LE(result.message.size(), 500u);
}

INSTANTIATE_TEST_SUITE_P(ProviderResponses, ClassifierTable, ::testing::ValuesIn(cases()),
                         [](const ::testing::TestParamInfo<Case>& param_info) {
                           return std::string(param_info.param.name);
                         });

TEST(Classifier, TableHasAtLeastSixtyCases) {
  EXPECT_GE(cases().size(), 60u);
}

TEST(Classifier, MessageIsRedactedAndBounded) {
  ProviderError error;
  error.status = 401;
  error.body =
      R"({"error":{"message":"Incorrect API key provided: sk-proj-ABCDEFGHIJKLMNOPQRSTUV123456. )" +
      std::string(2000, 'x') + R"("}})";
  const auto result = classify(error);
  EXPECT_EQ(result.message.find("ABCDEFGHIJKLMNOP"), std::string::npos);
  EXPECT_NE(result.message.find("sk-proj-[REDACTED]"), std::string::npos);
  EXPECT_LE(result.message.size(), 500u);
}

TEST(Classifier, HtmlPageBecomesItsTitleNotTheWholePage) {
  ProviderError error;
  error.status = 502;
  error.body =
      "<!DOCTYPE html><html><head><title>api.example.com | 502: Bad gateway</title>"
      "</head><body>" +
      std::string(60000, 'y') + "</body></html>";
  const auto result = classify(error);
  EXPECT_EQ(result.message, "HTML error page: api.example.com | 502: Bad gateway");
}

TEST(Classifier, StructuredCodeIsReported) {
  ProviderError error;
  error.status = 429;
  error.body =
      R"({"error":{"message":"quota","type":"insufficient_quota","code":"insufficient_quota"}})";
  EXPECT_EQ(classify(error).error_code, "insufficient_quota");
}

TEST(Classifier, MessageCutsOnUtf8Boundary) {
  ProviderError error;
  error.status = 400;
  std::string message;
  for (int i = 0; i < 300; ++i) message += "é";  // two bytes each
  error.body = R"({"error":{"message":")" + message + R"("}})";
  const auto result = classify(error);
  ASSERT_LE(result.message.size(), 500u);
  EXPECT_EQ(result.message.size() % 2, 0u) << "a multi-byte character was split";
}

TEST(Classifier, HugeAndHostileBodiesNeverThrow) {
  const std::vector<std::string> bodies = {
      std::string(1 << 20, '{'),
      std::string(1 << 20, '['),
      std::string("\0\0\0", 3),
      R"({"error":null})",
      R"({"error":[]})",
      R"({"error":{"metadata":{"raw":42}}})",
      R"({"error":{"metadata":{"raw":"{\"error\":{\"metadata\":{\"raw\":\"x\"}}}"}}})",
      R"({"error":{"message":123,"code":[1,2]}})",
  };
  for (int status : {0, 200, 400, 429, 500}) {
    for (const auto& body : bodies) {
      ProviderError error;
      error.status = status;
      error.body = body;
      EXPECT_NO_THROW((void)classify(error)) << status;
    }
  }
}

TEST(FailoverReasonNames, RoundTripAndMatchContract) {
  for (auto reason : kAllFailoverReasons) {
    auto parsed = parse_failover_reason(to_string(reason));
    ASSERT_TRUE(parsed.has_value());
    EXPECT_EQ(*parsed, reason);
  }
  for (const char* name :
       {"auth", "auth_permanent", "billing", "rate_limit", "overloaded", "server_error", "timeout",
        "context_overflow", "payload_too_large", "model_not_found", "content_policy_blocked",
        "format_error", "unknown"}) {
    EXPECT_TRUE(parse_failover_reason(name).has_value()) << name;
  }
  EXPECT_FALSE(parse_failover_reason("nonsense").has_value());
}

}  // namespace
}  // namespace hermes::providers
