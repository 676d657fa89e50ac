#include "user_manager.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <thread>

namespace hermes::testing {

namespace {

constexpr const char* kCgroupRoots[] = {"/sys/fs/cgroup/systemd", "/sys/fs/cgroup/unified"};

void kill_cgroup_tree(const std::filesystem::path& dir) {
  std::error_code ec;
  if (!std::filesystem::exists(dir, ec)) return;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir, ec)) {
    if (entry.path().filename() != "cgroup.procs") continue;
    std::ifstream procs(entry.path());
    int pid = 0;
    while (procs >> pid) ::kill(pid, SIGKILL);
  }
}

void remove_cgroup_tree(const std::filesystem::path& dir) {
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) return;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    if (entry.is_directory(ec)) remove_cgroup_tree(entry.path());
  }
  ::rmdir(dir.c_str());  // cgroup dirs go with rmdir only, and only once empty
}

}  // namespace

UserManager::UserManager()
    : runtime_dir_(root_.path() / "run"),
      home_dir_(root_.path() / "home"),
      cgroup_("hermes-test-" + std::to_string(::getpid()) + "/user@0.service") {}

UserManager::~UserManager() {
  stop();
}

std::map<std::string, std::string> UserManager::client_env() const {
  return {{"XDG_RUNTIME_DIR", runtime_dir_.string()},
          {"HOME", home_dir_.string()},
          {"DBUS_SESSION_BUS_ADDRESS", ""},
          {"SYSTEMD_PAGER", ""},
          {"SYSTEMD_COLORS", "0"}};
}

std::string UserManager::start() {
  std::filesystem::create_directories(runtime_dir_);
  std::filesystem::permissions(runtime_dir_, std::filesystem::perms::owner_all);
  std::filesystem::create_directories(home_dir_ / ".config/systemd/user");
  // systemd only runs as a manager where /run/systemd/system exists.
  std::filesystem::create_directories("/run/systemd/system");
  std::vector<std::string> procs_files;
  for (const char* root : kCgroupRoots) {
    const auto dir = std::filesystem::path(root) / cgroup_;
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) return "cannot create cgroup " + dir.string() + ": " + ec.message();
    procs_files.push_back((dir / "cgroup.procs").string());
  }
  const std::string log_file = (root_.path() / "manager.log").string();
  std::vector<std::string> env_storage = {
      "XDG_RUNTIME_DIR=" + runtime_dir_.string(), "HOME=" + home_dir_.string(),
      "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "USER=root",
      "LANG=C.UTF-8"};
  std::vector<char*> envp;
  for (auto& e : env_storage) envp.push_back(e.data());
  envp.push_back(nullptr);
  char program[] = "/lib/systemd/systemd";
  char user_flag[] = "--user";
  char* argv[] = {program, user_flag, nullptr};

  pid_ = ::fork();
  if (pid_ < 0) return "fork failed";
  if (pid_ == 0) {
    ::setsid();
    for (const auto& file : procs_files) {
      const int fd = ::open(file.c_str(), O_WRONLY);
      if (fd >= 0) {
        [[maybe_unused]] auto n = ::write(fd, "0", 1);
        ::close(fd);
      }
    }
    const int out = ::open(log_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ::dup2(out, 1);
    ::dup2(out, 2);
    ::execve(program, argv, envp.data());
    ::_exit(127);
  }
  const bool up = wait_until(
      [&] {
        const auto state = systemctl({"is-system-running"}).out;
        return state.starts_with("running") || state.starts_with("degraded");
      },
      std::chrono::seconds(20));
  if (!up) {
    std::ifstream in(log_file);
    std::stringstream log;
    log << in.rdbuf();
    return "the systemd user manager did not come up: " + log.str();
  }
  return {};
}

void UserManager::stop() {
  if (pid_ <= 0) return;
  systemctl({"stop", "hermes-gateway.service"});
  ::kill(pid_, SIGTERM);
  const bool exited = wait_until([&] { return ::waitpid(pid_, nullptr, WNOHANG) == pid_; },
                                 std::chrono::seconds(10));
  if (!exited) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
  const auto top = cgroup_.substr(0, cgroup_.find('/'));
  for (const char* root : kCgroupRoots) {
    kill_cgroup_tree(std::filesystem::path(root) / top);
  }
  for (const char* root : kCgroupRoots) {
    wait_until(
        [&] {
          remove_cgroup_tree(std::filesystem::path(root) / top);
          return !std::filesystem::exists(std::filesystem::path(root) / top);
        },
        std::chrono::seconds(5));
  }
  pid_ = -1;
}

ProcessResult UserManager::systemctl(const std::vector<std::string>& args) const {
  std::vector<std::string> full{"--user"};
  full.insert(full.end(), args.begin(), args.end());
  return run_process("/bin/systemctl", full, client_env());
}

std::string UserManager::show(const std::string& unit, const std::string& property) const {
  auto out = systemctl({"show", "-p", property, "--value", unit}).out;
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

std::string UserManager::is_active(const std::string& unit) const {
  auto out = systemctl({"is-active", unit}).out;
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

void UserManager::install_unit(const std::string& name, const std::string& content,
                               const std::string& drop_in) const {
  const auto dir = home_dir_ / ".config/systemd/user";
  std::ofstream(dir / name) << content;
  if (!drop_in.empty()) {
    std::filesystem::create_directories(dir / (name + ".d"));
    std::ofstream(dir / (name + ".d") / "test.conf") << drop_in;
  }
  systemctl({"daemon-reload"});
}

std::string render_unit_template(const std::string& home) {
  std::ifstream in(HERMES_UNIT_TEMPLATE);
  std::stringstream buffer;
  buffer << in.rdbuf();
  std::string unit = buffer.str();
  auto replace = [&](const std::string& from, const std::string& to) {
    for (auto at = unit.find(from); at != std::string::npos; at = unit.find(from, at + to.size())) {
      unit.replace(at, from.size(), to);
    }
  };
  replace("@HERMES_GATEWAY@", HERMES_GATEWAY_BIN);
  replace("@HERMES_HOME@", home);
  replace("@WANTED_BY@", "default.target");
  return unit;
}

}  // namespace hermes::testing
