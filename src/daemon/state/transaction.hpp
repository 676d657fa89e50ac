#pragma once

#include <functional>
#include <vector>

namespace hermes::daemon::state {

// What a backend gives the store worker: transactions on its one connection.
class TransactionScope {
 public:
  virtual ~TransactionScope() = default;
  virtual void begin() = 0;
  virtual void commit() = 0;
  virtual void rollback() noexcept = 0;
};

// Rows to write together, built on the event loop and run on the store worker: all of them
// are stored, or none. `rows` run in order on the worker thread and must touch nothing but
// the database (they may run twice: a group commit that fails is retried one transaction at
// a time). `on_success` and `on_failure` run on the event loop once the rows are stored or
// could not be, so caches filled ahead of the commit can settle or forget them.
struct Transaction {
  std::vector<std::function<void()>> rows;
  std::vector<std::function<void()>> on_success;
  std::vector<std::function<void()>> on_failure;

  void add(std::function<void()> row) { rows.push_back(std::move(row)); }
  bool empty() const { return rows.empty(); }
};

}  // namespace hermes::daemon::state
