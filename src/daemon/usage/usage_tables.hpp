#pragma once

#include <optional>
#include <string>
#include <vector>

namespace hermes::daemon {
namespace state {
class SqlConnection;
}

namespace usage {

// One provider call's tokens (never the key itself: its index in the provider's pool).
struct UsageRecord {
  double at = 0;  // unix seconds
  std::string provider;
  std::string model;
  int key_index = 0;
  long prompt_tokens = 0;
  long completion_tokens = 0;
  long total_tokens = 0;
  std::optional<double> cost_usd;  // none: the model has no price in pricing:
  std::string session_id;          // "" when the call belongs to no stored session
  std::string platform;            // api_server | telegram
  std::string chat;                // the budget's chat: "<platform>:<chat key or session>"
  std::string kind = "turn";       // turn | summary
  long cache_write_tokens = 0;     // of prompt_tokens: written to the provider's prompt cache
  long cache_read_tokens = 0;      // of prompt_tokens: read from it
  double cache_saved_usd = 0;      // what caching saved against the input price (priced calls)
};

enum class UsageGrouping { none, provider, model, session, day };

struct UsageTotal {
  std::string group;  // provider, model, session id or YYYY-MM-DD; "" for none
  long long calls = 0;
  long long prompt_tokens = 0;
  long long completion_tokens = 0;
  long long total_tokens = 0;
  double cost_usd = 0;     // of the priced calls
  long long unpriced = 0;  // calls of models without a price
  long long cache_write_tokens = 0;
  long long cache_read_tokens = 0;
  double cache_saved_usd = 0;
};

// What one subject spent on one UTC day (warm-up of the budgets at start).
struct DailySpend {
  std::string chat;
  std::string provider;
  int key_index = 0;
  long long day = 0;  // unix seconds / 86400
  double cost_usd = 0;
};

// One UTC day's calls of one provider's model: how many, their tokens and cost (priced calls).
struct DayUsage {
  std::int64_t day = 0;  // unix seconds / 86400
  std::string provider;
  std::string model;
  long long calls = 0;
  long long tokens = 0;
  double cost_usd = 0;
};

// The usage table as one backend stores it. Called on the store worker's thread only.
class UsageTables {
 public:
  virtual ~UsageTables() = default;
  virtual void insert(const UsageRecord& record) = 0;
  // Totals of calls at or after `since`, per group, biggest cost first (day: in order);
  // `chat` set: that chat's only.
  virtual std::vector<UsageTotal> totals(double since, UsageGrouping by,
                                         const std::string& chat) = 0;
  virtual std::vector<DailySpend> daily_spend(double since) = 0;
  virtual std::vector<DayUsage> usage_by_day(double since) = 0;
};

class SqlUsageTables final : public UsageTables {
 public:
  explicit SqlUsageTables(state::SqlConnection& db) : db_(db) {}
  void insert(const UsageRecord& record) override;
  std::vector<UsageTotal> totals(double since, UsageGrouping by, const std::string& chat) override;
  std::vector<DailySpend> daily_spend(double since) override;
  std::vector<DayUsage> usage_by_day(double since) override;

 private:
  state::SqlConnection& db_;
};

}  // namespace usage
}  // namespace hermes::daemon
