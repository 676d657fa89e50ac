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
    // Busy (the writer was restarting the WAL) is routine: the next commit over the
    // threshold asks again.
    try {
      if (!db_.checkpoint_passive()) spdlog::debug("state store: WAL checkpoint deferred (busy)");
    } catch (const std::exception& e) {
      spdlog::warn("{}; the WAL grows until a checkpoint succeeds", e.what());
    }
    std::lock_guard lock(mutex_);
    ++checkpoints_;
  }
}

}  // namespace hermes::daemon::state
