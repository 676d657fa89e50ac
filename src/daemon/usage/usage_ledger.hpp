#pragma once

#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "common/config.hpp"
#include "daemon/usage/budget_rules.hpp"
#include "daemon/usage/call_price.hpp"
#include "daemon/usage/usage_tables.hpp"

namespace boost::asio {
class io_context;
}

namespace hermes::daemon {
class Metrics;
namespace state {
class StoreWorker;
struct Transaction;
}  // namespace state

namespace usage {

class UsageLedger;

// What a turn in flight holds back of the budgets: its expected cost, counted as spent while it
// runs, so concurrent turns cannot all pass a budget that has room for one. Released when the
// turn ends (the hold is dropped); the turn's actual cost (add_cost) becomes the next estimate.
class BudgetHold {
 public:
  BudgetHold() = default;
  BudgetHold(UsageLedger* ledger, std::uint64_t id) : ledger_(ledger), id_(id) {}
  BudgetHold(BudgetHold&& other) noexcept;
  BudgetHold& operator=(BudgetHold&& other) noexcept;
  BudgetHold(const BudgetHold&) = delete;
  BudgetHold& operator=(const BudgetHold&) = delete;
  ~BudgetHold();
  // A provider call of the turn was priced.
  void add_cost(double usd) { cost_usd_ += usd; }

 private:
  UsageLedger* ledger_ = nullptr;
  std::uint64_t id_ = 0;
  double cost_usd_ = 0;
};

// Tokens and money, as the event loop sees them: every provider call is priced and counted
// at once (metrics, budgets) and written to state.db behind the turn (the store worker's group
// commit); budgets are checked from memory, warmed from state.db at start, so they survive
// restarts and cost no query per turn.
class UsageLedger {
 public:
  UsageLedger(boost::asio::io_context& io, state::StoreWorker& worker, UsageTables& tables,
              Metrics& metrics, const Config& config);

  // What this month spent so far (day and month budgets alike), from the store: before READY,
  // and again every second when several gateways share the store.
  boost::asio::awaitable<void> load(std::int64_t now);
  // Calls, tokens and cost per UTC day, provider and model over the last kUsageDays days (the
  // dashboard's spend, answered from memory): read at the start, again at most every
  // kUsageDaysReload by load() when several gateways share the store, and counted as calls
  // are made.
  struct DayUse {
    long long calls = 0;
    long long tokens = 0;
    double cost_usd = 0;
  };
  using UsageDays = std::map<std::tuple<std::int64_t, std::string, std::string>, DayUse>;
  const UsageDays& usage_days() const { return usage_days_; }
  static constexpr std::int64_t kUsageDays = 31;
  static constexpr std::int64_t kUsageDaysReload = 60;  // seconds

  // Prices `record` (pricing:), counts it and queues its row; what it cost (0: unpriced).
  double record(UsageRecord record);
  // Prices and counts `record` (budgets, metrics) now; its row is the caller's to store, with
  // rows_into in the turn's own transaction.
  UsageRecord count(UsageRecord record);
  void rows_into(state::Transaction& tx, std::vector<UsageRecord> rows);
  // The worst verdict of the chat, key-less budgets a turn of `chat` falls under.
  BudgetCheck check(const std::string& chat, std::int64_t now) const;
  // Whether any budget is configured (without one, turns hold nothing).
  bool has_budgets() const { return !config_.budgets.empty(); }
  // Holds `estimate_usd` of `chat`'s (and the gateway's) budgets for a turn about to run.
  BudgetHold hold(const std::string& chat, double estimate_usd);
  // What a turn is expected to cost: the last finished turn's cost in this gateway, and at
  // least what `prompt_tokens` of `model` cost as input.
  double turn_estimate(const std::string& model, long prompt_tokens) const;
  // The USD held by turns in flight (for tests and status).
  double held() const;
  // A key budget of `provider`'s key `index` that is used up, if any.
  BudgetCheck check_key(const std::string& provider, int index, std::int64_t now) const;
  // The 80 % warning for `chat`, once per budget and period: the sentence, or "".
  std::string take_warning(const std::string& chat, std::int64_t now);
  boost::asio::awaitable<std::vector<UsageTotal>> totals(double since, UsageGrouping by,
                                                         std::string chat = {});
  void reconfigure(const Config& config) { config_ = config; }
  // For /metrics: each budget's spend in its period (chat budgets: the top chat) and limit.
  std::map<std::string, std::pair<double, double>> budget_spend(std::int64_t now) const;
  // The same with each period's end, for the dashboard.
  struct BudgetUse {
    std::string name;
    double spent_usd = 0;
    double limit_usd = 0;
    std::int64_t resets_at = 0;  // unix seconds
  };
  std::vector<BudgetUse> budget_uses(std::int64_t now) const;
  std::optional<CallPrice> price(const UsageRecord& record) const;

 private:
  friend class BudgetHold;
  void release(std::uint64_t id, double actual_usd);
  double held_for(const BudgetConfig& budget, const std::string& chat) const;
  double spent(const std::string& subject, PeriodWindow window) const;
  double spent_for(const BudgetConfig& budget, const std::string& chat, const std::string& key,
                   PeriodWindow window) const;

  boost::asio::io_context& io_;
  state::StoreWorker& worker_;
  UsageTables& tables_;
  Metrics& metrics_;
  Config config_;
  // subject ("gateway", "chat:<chat>", "key:<provider>#<index>") → UTC day → USD.
  std::map<std::string, std::map<std::int64_t, double>> spend_;
  // Rows a commit could not store (a full disk), written with the next one; counted meanwhile.
  std::vector<UsageRecord> unwritten_;
  UsageDays usage_days_;  // (day, provider, model) → use
  std::int64_t usage_days_read_at_ = 0;
  void count_day(const UsageRecord& record);
  std::set<std::tuple<std::string, std::string, std::int64_t>> warned_;  // budget, chat, period
  struct Held {
    std::string chat;
    double usd = 0;
  };
  std::map<std::uint64_t, Held> holds_;  // turns in flight
  std::uint64_t next_hold_ = 1;
  double last_turn_usd_ = 0;  // the cost of the last turn that ended having spent something
};

// The subjects a record is counted under.
std::string chat_subject(const std::string& chat);
std::string key_subject(const std::string& provider, int index);

}  // namespace usage
}  // namespace hermes::daemon
