#include "daemon/state/checkpointer.hpp"

#include <spdlog/spdlog.h>

namespace hermes::daemon::state {

Checkpointer::Checkpointer(SqliteConnection& writer, Durability durability, int threshold_pages)
    : db_(writer.file(), durability), threshold_pages_(threshold_pages) {
  db_.exec("PRAGMA cache_size=-256");  // it reads the WAL, not the tables
  thread_ = std::thread([this] { thread_main(); });
  writer.on_wal_commit([this](int pages) { wal_grew(pages); });
}

Checkpointer::~Checkpointer() {
  stop();
}

void Checkpointer::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  if (thread_.joinable()) thread_.join();
}

std::uint64_t Checkpointer::checkpoints() const {
  std::lock_guard lock(mutex_);
  return checkpoints_;
}

void Checkpointer::wal_grew(int pages) {
  if (pages < threshold_pages_) return;
  {
    std::lock_guard lock(mutex_);
    if (wanted_) return;
    wanted_ = true;
  }
  wake_.notify_one();
}

void Checkpointer::thread_main() {
  while (true) {
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || wanted_; });
      if (stopping_) return;
      wanted_ = false;
    }
    bool done = true;
    try {
      done = db_.checkpoint_passive();
    } catch (const std::exception& e) {
      spdlog::warn("{}; the WAL grows until a checkpoint succeeds", e.what());
    }
    std::unique_lock lock(mutex_);
    if (done) {
      ++checkpoints_;
      // Until the WAL restarts, every commit finds it over the threshold: without a pause a
      // busy gateway checkpointed (and fsynced) a few frames at a time, ~100 times a second.
      // Paused, a hot page rewritten by many commits is copied once; briefly, so no single
      // checkpoint (and its fsync) grows long enough to stall the writer's WAL appends.
      wake_.wait_for(lock, kMinInterval, [this] { return stopping_; });
    } else {
      // Busy (the writer was restarting the WAL): routine, try again shortly.
      wanted_ = true;
      wake_.wait_for(lock, std::chrono::milliseconds(10), [this] { return stopping_; });
    }
  }
}

}  // namespace hermes::daemon::state
