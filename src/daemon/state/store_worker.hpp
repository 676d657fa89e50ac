#pragma once

#include <boost/asio/awaitable.hpp>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "daemon/state/transaction.hpp"

namespace boost::asio {
class io_context;
}

namespace hermes::daemon::state {

struct StoreWorkerStats {
  std::uint64_t jobs = 0;
  std::uint64_t commits = 0;  // group commits: jobs / commits is the batching factor
};

// The one thread that touches the database once the gateway serves: the event loop hands it
// jobs and awaits them; it never blocks on disk itself. Jobs waiting when the worker wakes are
// run in one transaction (group commit, up to kMaxBatch), so a busy gateway pays one commit
// (and, with `synchronous: full`, one fsync) for many turns. A job's awaitable completes, on
// the event loop, only after the transaction holding it committed.
class StoreWorker {
 public:
  static constexpr std::size_t kMaxBatch = 256;

  StoreWorker(boost::asio::io_context& io, TransactionScope& transactions);
  ~StoreWorker();  // stop()s
  StoreWorker(const StoreWorker&) = delete;
  StoreWorker& operator=(const StoreWorker&) = delete;

  // Runs `work` on the worker inside a transaction; rethrows what it threw. Reads and writes
  // alike: the queue is FIFO, so a read sees every write queued before it.
  boost::asio::awaitable<void> run(std::function<void()> work);
  // Queues `work` without waiting for it (what it throws is logged): FIFO with run(), so it
  // runs before anything queued after this call.
  void post(std::function<void()> work, const char* what);
  // Stores `transaction`'s rows; on failure runs its on_failure hooks, then rethrows.
  boost::asio::awaitable<void> commit(Transaction transaction);

  // Runs what is queued, then ends the thread. Later jobs fail. Idempotent.
  void stop();
  StoreWorkerStats stats() const;
  // The error of the last batch when it failed; empty once a later batch committed.
  std::string failing() const;

 private:
  struct Job {
    std::function<void()> work;
    std::function<void(std::exception_ptr)> done;  // called on the worker thread, if set
    // Called on the event loop: a batch's resumptions go in one post, not one post (and a
    // wake of the loop) per job.
    std::function<void(std::exception_ptr)> resume;
  };
  void submit(Job job);
  void thread_main();
  void run_batch(std::deque<Job>& batch);

  boost::asio::io_context& io_;
  TransactionScope& transactions_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Job> queue_;
  bool stopping_ = false;
  StoreWorkerStats stats_;
  std::string failing_;
  std::thread thread_;
};

}  // namespace hermes::daemon::state
