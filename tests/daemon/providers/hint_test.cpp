#include "daemon/providers/hint.hpp"

#include <gtest/gtest.h>

namespace hermes::providers {
namespace {

Classification of(FailoverReason reason) {
  Classification c;
  c.reason = reason;
  return c;
}

TEST(Hint, BillingIsTheContractSentence) {
  EXPECT_EQ(hint(of(FailoverReason::billing)),
            "Your API balance or quota is exhausted. Check your provider dashboard.");
}

TEST(Hint, RateLimitSaysWhenItResetsWhenKnown) {
  auto c = of(FailoverReason::rate_limit);
  c.retry_after = std::chrono::seconds(150);
  EXPECT_EQ(hint(c),
            "The provider is rate-limiting requests; the limit resets in about 3 minutes, so "
            "please try again then.");
  c.retry_after.reset();
  EXPECT_EQ(hint(c), "The provider is rate-limiting requests. Please wait a moment and try again.");
}

TEST(Hint, ContextOverflowPointsToNew) {
  EXPECT_NE(hint(of(FailoverReason::context_overflow)).find("/new"), std::string::npos);
}

TEST(Hint, UnreachableProviderIsNotCalledSlow) {
  auto c = of(FailoverReason::timeout);
  c.transport = TransportFailure::connection_refused;
  EXPECT_NE(hint(c).find("could not reach"), std::string::npos);
  c.transport = TransportFailure::timeout;
  EXPECT_NE(hint(c).find("did not answer in time"), std::string::npos);
}

TEST(Hint, EveryReasonHasOnePlainLineThatLeaksNothing) {
  for (auto reason : kAllFailoverReasons) {
    auto c = of(reason);
    c.message = "sk-secret-provider-text";  // provider text never reaches the hint
    const auto text = hint(c);
    EXPECT_FALSE(text.empty()) << to_string(reason);
    EXPECT_EQ(text.find('\n'), std::string::npos) << to_string(reason);
    EXPECT_EQ(text.back(), '.') << to_string(reason);
    EXPECT_EQ(text.find("sk-secret"), std::string::npos) << to_string(reason);
  }
}

TEST(DescribeWait, RoundsUpToAReadableUnit) {
  using namespace std::chrono;
  EXPECT_EQ(describe_wait(milliseconds(300)), "about 1 second");
  EXPECT_EQ(describe_wait(seconds(45)), "about 45 seconds");
  EXPECT_EQ(describe_wait(seconds(90)), "about 2 minutes");
  EXPECT_EQ(describe_wait(minutes(59)), "about 59 minutes");
  EXPECT_EQ(describe_wait(minutes(90)), "about 2 hours");
  EXPECT_EQ(describe_wait(hours(72)), "about 3 days");
}

}  // namespace
}  // namespace hermes::providers
