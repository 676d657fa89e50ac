#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <mutex>
#include <thread>

#include "daemon/state/sqlite_connection.hpp"

namespace hermes::daemon::state {

// Copies the WAL back into state.db on a thread and connection of its own. A checkpoint
// writes thousands of pages and fsyncs; done inside a commit (SQLite's default) it stalls the
// turns waiting on that commit for milliseconds. Here commits only append to the WAL, and the
// WAL is checkpointed (PASSIVE: never blocking the writer) once it holds `threshold_pages`.
class Checkpointer {
 public:
  // Opens a second connection to `writer`'s file and hooks into the writer's commits (before
  // the writer's thread starts).
  Checkpointer(SqliteConnection& writer, Durability durability, int threshold_pages);
  ~Checkpointer();  // stop()s
  Checkpointer(const Checkpointer&) = delete;
  Checkpointer& operator=(const Checkpointer&) = delete;

  // At most one checkpoint per interval: the WAL grows by what a busy gateway commits in it.
  static constexpr std::chrono::milliseconds kMinInterval{50};

  void stop();
  std::uint64_t checkpoints() const;

 private:
  void wal_grew(int pages);
  void thread_main();

  SqliteConnection db_;
  const int threshold_pages_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  bool wanted_ = false;
  bool stopping_ = false;
  std::uint64_t checkpoints_ = 0;
  std::thread thread_;
};

}  // namespace hermes::daemon::state
