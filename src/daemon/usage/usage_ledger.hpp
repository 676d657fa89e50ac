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
  // Prices `record` (pricing:), counts it and queues its row.
  void record(UsageRecord record);
  // Prices and counts `record` (budgets, metrics) now; its row is the caller's to store, with
  // rows_into in the turn's own transaction.
  UsageRecord count(UsageRecord record);
  void rows_into(state::Transaction& tx, std::vector<UsageRecord> rows);
  // The worst verdict of the chat, key-less budgets a turn of `chat` falls under.
  BudgetCheck check(const std::string& chat, std::int64_t now) const;
  // A key budget of `provider`'s key `index` that is used up, if any.
  BudgetCheck check_key(const std::string& provider, int index, std::int64_t now) const;
  // The 80 % warning for `chat`, once per budget and period: the sentence, or "".
  std::string take_warning(const std::string& chat, std::int64_t now);
  boost::asio::awaitable<std::vector<UsageTotal>> totals(double since, UsageGrouping by,
                                                         std::string chat = {});
  void reconfigure(const Config& config) { config_ = config; }
  // For /metrics: each budget's spend in its period (chat budgets: the top chat) and limit.
  std::map<std::string, std::pair<double, double>> budget_spend(std::int64_t now) const;
  std::optional<CallPrice> price(const UsageRecord& record) const;

 private:
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
  std::set<std::tuple<std::string, std::string, std::int64_t>> warned_;  // budget, chat, period
};

// The subjects a record is counted under.
std::string chat_subject(const std::string& chat);
std::string key_subject(const std::string& provider, int index);

}  // namespace usage
}  // namespace hermes::daemon
