#include "daemon/providers/redact.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace hermes::providers {
namespace {

struct RedactCase {
  std::string input;
  std::string expected;
};

void PrintTo(const RedactCase& c, std::ostream* os) {
  *os << c.input;
}

class RedactTable : public ::testing::TestWithParam<RedactCase> {};

TEST_P(RedactTable, MasksSecretsKeepsTheRest) {
  EXPECT_EQ(redact(GetParam().input), GetParam().expected);
}

INSTANTIATE_TEST_SUITE_P(
    Secrets, RedactTable,
    ::testing::Values(
        RedactCase{"key sk-abcdefghijklmnopqrstuvwx rejected", "key sk-[REDACTED] rejected"},
        RedactCase{"sk-proj-AbCdEfGhIjKlMnOp_1234-xyz", "sk-proj-[REDACTED]"},
        RedactCase{"x-api-key sk-ant-api03-abcdefghijklmnop", "x-api-key sk-ant-[REDACTED]"},
        RedactCase{"using sk-or-v1-0123456789abcdef0123", "using sk-or-[REDACTED]"},
        RedactCase{"token ghp_0123456789abcdefABCDEF0123456789abcd", "token ghp_[REDACTED]"},
        RedactCase{"slack xoxb-123456789012-abcdefghijkl", "slack xoxb-[REDACTED]"},
        RedactCase{"gemini AIzaSyA-1234567890abcdefghijklmnopqrstu", "gemini AIza[REDACTED]"},
        RedactCase{"hf_abcdefghijklmnopqrstuvwxyz and gsk_abcdefghijklmnopqrstu",
                   "hf_[REDACTED] and gsk_[REDACTED]"},
        RedactCase{"Authorization: Bearer abc.def-ghi_jkl123456",
                   "Authorization: Bearer [REDACTED]"},
        RedactCase{"authorization: basic dXNlcjpwYXNzd29yZA==", "authorization: basic [REDACTED]"},
        RedactCase{"OPENAI_API_KEY=abc123def456 next", "OPENAI_API_KEY=[REDACTED] next"},
        RedactCase{R"({"api_key": "plainsecretvalue", "model": "gpt-4o"})",
                   R"({"api_key": "[REDACTED]", "model": "gpt-4o"})"},
        RedactCase{"https://x.example/v1?key=AIzaSecretSecret123&alt=json",
                   "https://x.example/v1?key=[REDACTED]&alt=json"},
        RedactCase{"access_token: eyJhbGciOiJIUzI1NiJ9.payload.sig", "access_token: [REDACTED]"},
        RedactCase{"https://api.telegram.org/bot123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw/getMe",
                   "https://api.telegram.org/bot[REDACTED]/getMe"},
        RedactCase{"apiKey=camelCaseSecret1", "apiKey=[REDACTED]"},
        // Not secrets: left exactly as they were.
        RedactCase{"max_tokens: 4096, input_tokens=12", "max_tokens: 4096, input_tokens=12"},
        RedactCase{"the task-runner is risky", "the task-runner is risky"},
        RedactCase{"sk-short", "sk-short"},
        RedactCase{R"({"token": null, "key": 42})", R"({"token": null, "key": 42})"},
        RedactCase{"", ""}, RedactCase{"Das ist gut — 余额不足", "Das ist gut — 余额不足"}));

TEST(Redact, NeverLeavesTheSecretPart) {
  const std::string secret = "ZYXWVUTSRQPONMLKJIHG";
  for (const std::string& wrapper : {"sk-" + secret, "Bearer " + secret, "api_key=" + secret,
                                     "\"secret\": \"" + secret + "\"", "password:" + secret}) {
    EXPECT_EQ(redact(wrapper).find(secret), std::string::npos) << wrapper;
  }
}

TEST(Redact, HandlesLargeInputInOnePass) {
  std::string big;
  for (int i = 0; i < 20000; ++i) big += "word sk-abcdefghijklmnop ";
  const auto out = redact(big);
  EXPECT_EQ(out.find("abcdefghijklmnop"), std::string::npos);
}

}  // namespace
}  // namespace hermes::providers
