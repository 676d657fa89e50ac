#include "daemon/providers/retry_after.hpp"

#include <gtest/gtest.h>

#include "daemon/providers/error_body.hpp"

namespace hermes::providers {
namespace {

using std::chrono::milliseconds;

TEST(ParseDurationText, AcceptsTheFormsProvidersSend) {
  EXPECT_EQ(parse_duration_text("20"), milliseconds(20000));
  EXPECT_EQ(parse_duration_text("1.5"), milliseconds(1500));
  EXPECT_EQ(parse_duration_text("20ms"), milliseconds(20));
  EXPECT_EQ(parse_duration_text("6m0s"), milliseconds(360000));
  EXPECT_EQ(parse_duration_text("1h2m3s"), milliseconds(3723000));
  EXPECT_EQ(parse_duration_text("32s"), milliseconds(32000));
  EXPECT_EQ(parse_duration_text("2 minutes"), milliseconds(120000));
  EXPECT_EQ(parse_duration_text(" 3 seconds "), milliseconds(3000));
}

TEST(ParseDurationText, RejectsGarbage) {
  EXPECT_FALSE(parse_duration_text(""));
  EXPECT_FALSE(parse_duration_text("soon"));
  EXPECT_FALSE(parse_duration_text("5 parsecs"));
  EXPECT_FALSE(parse_duration_text("12s and more"));
  EXPECT_FALSE(parse_duration_text("99999999999"));  // longer than any real reset
}

TEST(ParseDates, HttpDateAndIso8601) {
  EXPECT_EQ(parse_http_date("Wed, 21 Oct 2015 07:28:00 GMT"), 1445412480);
  EXPECT_FALSE(parse_http_date("yesterday"));
  EXPECT_EQ(parse_iso8601_utc("2015-10-21T07:28:00Z"), 1445412480);
  EXPECT_EQ(parse_iso8601_utc("2015-10-21T07:28:00.123Z"), 1445412480);
  EXPECT_EQ(parse_iso8601_utc("2015-10-21T09:28:00+02:00"), 1445412480);
  EXPECT_FALSE(parse_iso8601_utc("21/10/2015"));
}

TEST(FindRetryAfter, HeaderOrderAndPastResetsClampToZero) {
  const auto now = std::chrono::system_clock::from_time_t(1445412480);
  ErrorBody body;
  EXPECT_EQ(find_retry_after({{"Retry-After", "7"}, {"retry-after-ms", "250"}}, body, now),
            milliseconds(250));
  EXPECT_EQ(find_retry_after({{"Retry-After", "Wed, 21 Oct 2015 07:27:00 GMT"}}, body, now),
            milliseconds(0));
  EXPECT_EQ(
      find_retry_after({{"x-ratelimit-reset-requests", "1s"}, {"x-ratelimit-reset-tokens", "6m0s"}},
                       body, now),
      milliseconds(360000));
  EXPECT_EQ(find_retry_after({{"x-ratelimit-reset", "1445412490"}}, body, now),
            milliseconds(10000));
  EXPECT_FALSE(find_retry_after({{"Retry-After", "whenever"}}, body, now));
}

TEST(FindRetryAfter, BodyResetFields) {
  const auto now = std::chrono::system_clock::from_time_t(1445412480);
  auto body = parse_error_body(R"({"error":{"resets_at":1445412540}})");
  EXPECT_EQ(find_retry_after({}, body, now), milliseconds(60000));
  body = parse_error_body(R"({"error":{"reset_at":"2015-10-21T07:29:00Z"}})");
  EXPECT_EQ(find_retry_after({}, body, now), milliseconds(60000));
  body = parse_error_body(R"({"error":{"message":"Please try again in 1.5s."}})");
  EXPECT_EQ(find_retry_after({}, body, now), milliseconds(1500));
}

}  // namespace
}  // namespace hermes::providers
