#include "daemon/state/store_worker.hpp"

#include <boost/asio/async_result.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <memory>
#include <stdexcept>

#include "common/logging.hpp"
#include "daemon/state/sql_connection.hpp"

namespace hermes::daemon::state {

namespace asio = boost::asio;

StoreWorker::StoreWorker(asio::io_context& io, TransactionScope& transactions)
    : io_(io), transactions_(transactions), thread_([this] { thread_main(); }) {}

StoreWorker::~StoreWorker() {
  stop();
}

void StoreWorker::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  if (thread_.joinable()) thread_.join();
}

std::string StoreWorker::failing() const {
  std::lock_guard lock(mutex_);
  return failing_;
}

StoreWorkerStats StoreWorker::stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

void StoreWorker::submit(Job job) {
  {
    std::unique_lock lock(mutex_);
    if (!stopping_) {
      queue_.push_back(std::move(job));
      lock.unlock();
      wake_.notify_one();
      return;
    }
  }
  const auto closed = std::make_exception_ptr(
      std::runtime_error("state store is closed (the gateway is shutting down)"));
  if (job.done) job.done(closed);
  if (job.resume) asio::post(io_, [resume = std::move(job.resume), closed] { resume(closed); });
}

void StoreWorker::thread_main() {
  std::deque<Job> batch;
  while (true) {
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, and nothing left to run
      const auto take = std::min(queue_.size(), kMaxBatch);
      for (std::size_t i = 0; i < take; ++i) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    run_batch(batch);
    batch.clear();
  }
}

namespace {

// A connection lost before the commit stored nothing: the work runs once more on a new one
// (a database restart then costs a wait, not an error). Lost at the commit, it may be stored.
std::exception_ptr run_in_transaction(TransactionScope& tx, const std::function<void()>& work) {
  for (int attempt = 0;; ++attempt) {
    try {
      tx.begin();
      work();
      tx.commit();
      return nullptr;
    } catch (const StoreUnavailable& e) {
      tx.rollback();
      if (attempt > 0 || e.lost_at_commit) return std::current_exception();
    } catch (...) {
      tx.rollback();
      return std::current_exception();
    }
  }
}

}  // namespace

void StoreWorker::run_batch(std::deque<Job>& batch) {
  std::vector<std::exception_ptr> errors(batch.size());
  std::uint64_t commits = 0;
  const auto all = [&batch] {
    for (auto& job : batch) job.work();
  };
  if (batch.size() == 1 || run_in_transaction(transactions_, all)) {
    // One of them failed and took the others down with it: find which, one per transaction,
    // so a bad job fails alone.
    for (std::size_t i = 0; i < batch.size(); ++i) {
      errors[i] = run_in_transaction(transactions_, batch[i].work);
      ++commits;
    }
  } else {
    commits = 1;
  }
  std::size_t failed = 0;
  std::string last_error;
  std::vector<std::pair<std::function<void(std::exception_ptr)>, std::exception_ptr>> resumes;
  for (std::size_t i = 0; i < batch.size(); ++i) {
    if (errors[i]) {
      ++failed;
      last_error = describe_exception(errors[i]);
    }
    if (batch[i].done) batch[i].done(errors[i]);
    if (batch[i].resume) resumes.emplace_back(std::move(batch[i].resume), errors[i]);
  }
  {
    // Counted before anyone resumes: what a resumed job reads (stats, failing) includes its batch.
    std::lock_guard lock(mutex_);
    stats_.jobs += batch.size();
    stats_.commits += commits;
    failing_ = failed == batch.size() ? last_error : std::string();
  }
  if (!resumes.empty()) {
    asio::post(io_, [resumes = std::move(resumes)]() mutable {
      for (auto& [resume, error] : resumes) resume(error);
    });
  }
}

asio::awaitable<void> StoreWorker::run(std::function<void()> work) {
  co_await asio::async_initiate<const asio::use_awaitable_t<>, void(std::exception_ptr)>(
      [this, &work](auto handler) {
        // The handler resumes the coroutine: it must run on the event loop, not here.
        auto resume = std::make_shared<decltype(handler)>(std::move(handler));
        submit(Job{std::move(work), nullptr,
                   [resume](std::exception_ptr error) { (*resume)(error); }});
      },
      asio::use_awaitable);
}

void StoreWorker::post(std::function<void()> work, const char* what) {
  submit(Job{std::move(work),
             [what](std::exception_ptr error) {
               if (error) log_exception(error, what);
             },
             nullptr});
}

asio::awaitable<void> StoreWorker::commit(Transaction transaction) {
  if (transaction.empty()) co_return;
  // Named, never a temporary inside the co_await: GCC 12 destroys such temporaries twice.
  std::function<void()> work = [rows = std::move(transaction.rows)] {
    for (const auto& row : rows) row();
  };
  std::exception_ptr error;
  try {
    co_await run(std::move(work));
  } catch (...) {
    error = std::current_exception();
  }
  if (error) {
    for (auto& hook : transaction.on_failure) hook();
    std::rethrow_exception(error);
  }
  for (auto& hook : transaction.on_success) hook();
}

}  // namespace hermes::daemon::state
