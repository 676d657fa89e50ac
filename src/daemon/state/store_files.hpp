#pragma once

#include <filesystem>

namespace hermes::daemon::state {

// Throws StoreUnusable when state.db, its -wal or -shm file or their directory carries the
// immutable or append-only attribute (chattr +i / +a): SQLite would open them, and the first
// write through the shared-memory mapping would kill the process with SIGBUS.
void check_store_files_writable(const std::filesystem::path& state_db);

// From now on a SIGBUS (a write through SQLite's mapping of state.db-shm that the file system
// refused) ends the process with exit 1 and one line naming the file and the fix, instead of
// a silent crash. The message is built here, so the handler only writes it.
void exit_clearly_on_bus_error(const std::filesystem::path& state_db);

}  // namespace hermes::daemon::state
