#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "process.hpp"

namespace hermes::testing {

// A private `systemd --user` manager owned by the test: its own cgroup under
// /sys/fs/cgroup/{systemd,unified}/, XDG_RUNTIME_DIR and HOME in a temp dir. Needs root
// (as on these machines and in CI). `systemctl --user` calls go through systemctl().
class UserManager {
 public:
  UserManager();
  ~UserManager();
  UserManager(const UserManager&) = delete;
  UserManager& operator=(const UserManager&) = delete;

  // Starts the manager and waits until it runs; returns an explanation on failure.
  std::string start();

  ProcessResult systemctl(const std::vector<std::string>& args) const;
  std::string show(const std::string& unit, const std::string& property) const;
  std::string is_active(const std::string& unit) const;

  // Writes ~/.config/systemd/user/<name> (and an optional drop-in), then daemon-reload.
  void install_unit(const std::string& name, const std::string& content,
                    const std::string& drop_in = "") const;

  const std::filesystem::path& runtime_dir() const { return runtime_dir_; }
  const std::filesystem::path& home_dir() const { return home_dir_; }
  std::map<std::string, std::string> client_env() const;

 private:
  void stop();
  TempDir root_;
  std::filesystem::path runtime_dir_;
  std::filesystem::path home_dir_;
  std::string cgroup_;
  int pid_ = -1;
};

// The repo's unit template with the daemon under test and `home` filled in.
std::string render_unit_template(const std::string& home);

}  // namespace hermes::testing
