#include "daemon/state/store_files.hpp"

#include <fcntl.h>
#include <linux/fs.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <string>

#include "daemon/state/sqlite_connection.hpp"

namespace hermes::daemon::state {

namespace {

// The attributes that make writes fail even for root; false when the file is absent or the
// file system has no such attributes.
bool write_protected(const std::filesystem::path& file) {
  const int fd = ::open(file.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return false;
  int flags = 0;
  const bool known = ::ioctl(fd, FS_IOC_GETFLAGS, &flags) == 0;
  ::close(fd);
  return known && (flags & (FS_IMMUTABLE_FL | FS_APPEND_FL)) != 0;
}

std::string bus_error_message;  // written by the handler, never changed after it is installed

void on_bus_error(int) {
  const auto written = ::write(STDERR_FILENO, bus_error_message.data(), bus_error_message.size());
  (void)written;
  ::_exit(1);
}

}  // namespace

void check_store_files_writable(const std::filesystem::path& state_db) {
  const std::filesystem::path files[] = {state_db.parent_path(), state_db,
                                         state_db.string() + "-wal", state_db.string() + "-shm"};
  for (const auto& file : files) {
    if (write_protected(file)) {
      throw StoreUnusable("state store file " + file.string() +
                          " is immutable or append-only (chattr +i/+a), so the gateway cannot "
                          "write it; remove the attribute (chattr -i -a " +
                          file.string() + ")");
    }
  }
}

void exit_clearly_on_bus_error(const std::filesystem::path& state_db) {
  const bool terminal = ::isatty(STDERR_FILENO) == 1;
  bus_error_message = std::string(terminal ? "fatal: " : "<2>") + "state store: a write to " +
                      state_db.string() +
                      "-shm (SQLite's shared memory) was refused by the file system (SIGBUS); "
                      "the file was made immutable or its disk failed. Fix the file (chattr -i), "
                      "then start the gateway again\n";
  struct sigaction action {};
  action.sa_handler = on_bus_error;
  sigemptyset(&action.sa_mask);
  action.sa_flags =
      static_cast<int>(SA_RESETHAND);  // a second fault inside the handler gets the default death
  ::sigaction(SIGBUS, &action, nullptr);
}

}  // namespace hermes::daemon::state
