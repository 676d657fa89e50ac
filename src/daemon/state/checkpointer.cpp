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
    if (!db_.checkpoint_passive()) {
      spdlog::warn(
          "state store: checkpointing the WAL of {} failed; retried after the next "
          "commits",
          db_.file().string());
    }
    std::lock_guard lock(mutex_);
    ++checkpoints_;
  }
}

}  // namespace hermes::daemon::state
