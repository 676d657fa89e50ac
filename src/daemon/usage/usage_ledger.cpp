#include "daemon/usage/usage_ledger.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <functional>
#include <optional>
#include <utility>

#include "common/logging.hpp"
#include "daemon/metrics/metrics.hpp"
#include "daemon/state/store_worker.hpp"

namespace hermes::daemon::usage {

namespace asio = boost::asio;

namespace {

constexpr std::int64_t kDay = 86400;
constexpr const char* kGateway = "gateway";

}  // namespace

std::string chat_subject(const std::string& chat) {
  return "chat:" + chat;
}

std::string key_subject(const std::string& provider, int index) {
  return "key:" + provider + "#" + std::to_string(index);
}

UsageLedger::UsageLedger(asio::io_context& io, state::StoreWorker& worker, UsageTables& tables,
                         Metrics& metrics, const Config& config)
    : io_(io), worker_(worker), tables_(tables), metrics_(metrics), config_(config) {}

asio::awaitable<void> UsageLedger::load(std::int64_t now) {
  const auto month = period_window(BudgetPeriod::month, now);
  std::vector<DailySpend> spends;
  std::optional<std::vector<DayUsage>> days;
  const bool read_days = usage_days_read_at_ == 0 || now - usage_days_read_at_ >= kUsageDaysReload;
  const double days_since = static_cast<double>((now / kDay - (kUsageDays - 1)) * kDay);
  std::function<void()> job = [this, &spends, &month, &days, read_days, days_since] {
    spends = tables_.daily_spend(static_cast<double>(month.start));
    if (read_days) days = tables_.usage_by_day(days_since);
  };
  co_await worker_.run(std::move(job));
  if (days) {
    UsageDays fresh_days;
    for (const auto& d : *days)
      fresh_days[{d.day, d.provider, d.model}] = {d.calls, d.tokens, d.cost_usd};
    usage_days_ = std::move(fresh_days);
    for (const auto& row : unwritten_) count_day(row);  // used, though not stored yet
    usage_days_read_at_ = now;
  }
  // Replaced, not added to: loaded again, it holds what other gateways spent meanwhile.
  std::map<std::string, std::map<std::int64_t, double>> fresh;
  for (const auto& s : spends) {
    fresh[kGateway][s.day] += s.cost_usd;
    fresh[chat_subject(s.chat)][s.day] += s.cost_usd;
    fresh[key_subject(s.provider, s.key_index)][s.day] += s.cost_usd;
  }
  for (const auto& row : unwritten_) {  // spent, though not stored yet
    if (!row.cost_usd) continue;
    const auto day = static_cast<std::int64_t>(row.at) / kDay;
    fresh[kGateway][day] += *row.cost_usd;
    fresh[chat_subject(row.chat)][day] += *row.cost_usd;
    fresh[key_subject(row.provider, row.key_index)][day] += *row.cost_usd;
  }
  spend_ = std::move(fresh);
}

std::optional<CallPrice> UsageLedger::price(const UsageRecord& record) const {
  const auto it = config_.pricing.find(record.model);
  if (it == config_.pricing.end()) return std::nullopt;
  return price_call(it->second, record.prompt_tokens, record.completion_tokens,
                    record.cache_write_tokens, record.cache_read_tokens);
}

double UsageLedger::record(UsageRecord record) {
  // Behind the turn: the worker commits it with whatever else is queued, and with the rows an
  // earlier commit could not store (a full disk): they are tried again with each new one.
  state::Transaction tx;
  std::vector<UsageRecord> rows = std::move(unwritten_);
  unwritten_.clear();
  rows.push_back(count(std::move(record)));
  const double cost = rows.back().cost_usd.value_or(0);
  rows_into(tx, std::move(rows));
  asio::co_spawn(io_, worker_.commit(std::move(tx)),
                 [](std::exception_ptr e) { log_exception(e, "storing usage"); });
  return cost;
}

void UsageLedger::rows_into(state::Transaction& tx, std::vector<UsageRecord> rows) {
  if (rows.empty()) return;
  // Not stored: kept in memory, still counted by the budgets (a reload of the shared spend
  // adds them to what the database holds), and written with the next row.
  tx.on_failure.push_back([this, rows] {
    if (unwritten_.empty()) {
      spdlog::warn("usage: {} row(s) could not be stored; kept in memory and tried again",
                   rows.size());
    }
    unwritten_.insert(unwritten_.end(), rows.begin(), rows.end());
  });
  tx.add([this, rows = std::move(rows)] {
    for (const auto& row : rows) tables_.insert(row);
  });
}

void UsageLedger::count_day(const UsageRecord& record) {
  const auto day = static_cast<std::int64_t>(record.at) / kDay;
  auto& use = usage_days_[{day, record.provider, record.model}];
  ++use.calls;
  use.tokens += record.total_tokens;
  use.cost_usd += record.cost_usd.value_or(0);
  // Days older than the window leave it (the map is ordered by day first).
  while (!usage_days_.empty() && std::get<0>(usage_days_.begin()->first) <= day - kUsageDays) {
    usage_days_.erase(usage_days_.begin());
  }
}

UsageRecord UsageLedger::count(UsageRecord record) {
  if (const auto priced = price(record)) {
    record.cost_usd = priced->cost_usd;
    record.cache_saved_usd = priced->cache_saved_usd;
  }
  count_day(record);
  metrics_.count_tokens(record.provider, record.model, record.prompt_tokens,
                        record.completion_tokens, record.cache_write_tokens,
                        record.cache_read_tokens);
  if (record.cost_usd) {
    metrics_.count_cost(record.provider, record.model, *record.cost_usd);
    const auto day = static_cast<std::int64_t>(record.at) / kDay;
    spend_[kGateway][day] += *record.cost_usd;
    spend_[chat_subject(record.chat)][day] += *record.cost_usd;
    spend_[key_subject(record.provider, record.key_index)][day] += *record.cost_usd;
  }
  return record;
}

double UsageLedger::spent(const std::string& subject, PeriodWindow window) const {
  const auto it = spend_.find(subject);
  if (it == spend_.end()) return 0;
  double total = 0;
  for (auto day = it->second.lower_bound(window.start / kDay);
       day != it->second.end() && day->first < window.end / kDay; ++day) {
    total += day->second;
  }
  return total;
}

double UsageLedger::spent_for(const BudgetConfig& budget, const std::string& chat,
                              const std::string& key, PeriodWindow window) const {
  switch (budget.scope) {
    case BudgetScope::chat:
      return spent(chat_subject(chat), window);
    case BudgetScope::key:
      return spent(key, window);
    case BudgetScope::gateway:
      return spent(kGateway, window);
  }
  return 0;
}

BudgetCheck UsageLedger::check(const std::string& chat, std::int64_t now) const {
  std::vector<BudgetConfig> turn_budgets;
  for (const auto& b : config_.budgets) {
    if (b.scope != BudgetScope::key) turn_budgets.push_back(b);
  }
  // What turns in flight hold counts as spent: they are spending it now.
  return check_budgets(
      turn_budgets,
      [this, &chat](const BudgetConfig& b, PeriodWindow w) {
        return spent_for(b, chat, "", w) + held_for(b, chat);
      },
      now);
}

BudgetHold UsageLedger::hold(const std::string& chat, double estimate_usd) {
  const auto id = next_hold_++;
  holds_[id] = {chat, std::max(0.0, estimate_usd)};
  return BudgetHold(this, id);
}

double UsageLedger::turn_estimate(const std::string& model, long prompt_tokens) const {
  UsageRecord input;
  input.model = model;
  input.prompt_tokens = prompt_tokens;
  const auto priced = price(input);
  return std::max(last_turn_usd_, priced ? priced->cost_usd : 0.0);
}

double UsageLedger::held() const {
  double total = 0;
  for (const auto& [id, h] : holds_) total += h.usd;
  return total;
}

double UsageLedger::held_for(const BudgetConfig& budget, const std::string& chat) const {
  double total = 0;
  for (const auto& [id, h] : holds_) {
    if (budget.scope == BudgetScope::gateway || h.chat == chat) total += h.usd;
  }
  return total;
}

void UsageLedger::release(std::uint64_t id, double actual_usd) {
  holds_.erase(id);
  if (actual_usd > 0) last_turn_usd_ = actual_usd;
}

BudgetHold::BudgetHold(BudgetHold&& other) noexcept
    : ledger_(std::exchange(other.ledger_, nullptr)), id_(other.id_), cost_usd_(other.cost_usd_) {}

BudgetHold& BudgetHold::operator=(BudgetHold&& other) noexcept {
  if (this != &other) {
    if (ledger_) ledger_->release(id_, cost_usd_);
    ledger_ = std::exchange(other.ledger_, nullptr);
    id_ = other.id_;
    cost_usd_ = other.cost_usd_;
  }
  return *this;
}

BudgetHold::~BudgetHold() {
  if (ledger_) ledger_->release(id_, cost_usd_);
}

BudgetCheck UsageLedger::check_key(const std::string& provider, int index, std::int64_t now) const {
  std::vector<BudgetConfig> key_budgets;
  for (const auto& b : config_.budgets) {
    if (b.scope == BudgetScope::key) key_budgets.push_back(b);
  }
  const auto key = key_subject(provider, index);
  return check_budgets(
      key_budgets,
      [this, &key](const BudgetConfig& b, PeriodWindow w) { return spent_for(b, "", key, w); },
      now);
}

std::string UsageLedger::take_warning(const std::string& chat, std::int64_t now) {
  const auto verdict = check(chat, now);
  if (verdict.verdict != BudgetVerdict::warn) return "";
  const auto window = period_window(verdict.period, now);
  if (!warned_.insert({verdict.budget, chat, window.start}).second) return "";
  return warning_sentence(verdict);
}

asio::awaitable<std::vector<UsageTotal>> UsageLedger::totals(double since, UsageGrouping by,
                                                             std::string chat) {
  std::vector<UsageTotal> totals;
  std::function<void()> job = [this, &totals, since, by, &chat] {
    totals = tables_.totals(since, by, chat);
  };
  co_await worker_.run(std::move(job));
  co_return totals;
}

std::vector<UsageLedger::BudgetUse> UsageLedger::budget_uses(std::int64_t now) const {
  std::vector<BudgetUse> out;
  for (const auto& b : config_.budgets) {
    const auto window = period_window(b.period, now);
    double top = 0;
    const std::string prefix = b.scope == BudgetScope::chat ? "chat:" : "key:";
    if (b.scope == BudgetScope::gateway) {
      top = spent(kGateway, window);
    } else {
      for (const auto& [subject, days] : spend_) {
        if (subject.starts_with(prefix)) top = std::max(top, spent(subject, window));
      }
    }
    out.push_back({b.name, top, b.limit_usd, window.end});
  }
  return out;
}

std::map<std::string, std::pair<double, double>> UsageLedger::budget_spend(std::int64_t now) const {
  std::map<std::string, std::pair<double, double>> out;
  for (const auto& use : budget_uses(now)) out[use.name] = {use.spent_usd, use.limit_usd};
  return out;
}

}  // namespace hermes::daemon::usage
