#include "confine.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <linux/landlock.h>
#include <net/if.h>
#include <sched.h>
#include <seccomp.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string_view>
#include <vector>

namespace hermes::sandbox {

namespace {

std::string failed(std::string_view what) {
  return std::string(what) + ": " + std::strerror(errno);
}

// ---- step 1: resource limits ----

constexpr rlim_t kMiB = 1024 * 1024;

std::string lower_limit(int resource, const char* name, rlim_t soft, rlim_t hard) {
  rlimit now{};
  if (getrlimit(resource, &now) != 0) return failed(std::string("could not read ") + name);
  // Only ever lower: the gateway may have set tighter limits, and raising needs privilege.
  rlimit want{std::min(soft, now.rlim_max), std::min(hard, now.rlim_max)};
  want.rlim_cur = std::min(want.rlim_cur, want.rlim_max);
  if (setrlimit(resource, &want) != 0) return failed(std::string("could not set ") + name);
  return "";
}

// ---- step 2: network namespace ----

std::string write_file(const char* path, const std::string& text) {
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return failed(std::string("could not open ") + path);
  ssize_t written = write(fd, text.data(), text.size());
  int err = errno;
  close(fd);
  errno = err;
  if (written != static_cast<ssize_t>(text.size())) {
    return failed(std::string("could not write ") + path);
  }
  return "";
}

// Without root, a user namespace owned by us grants the right to make the network namespace.
// Only our own ids are mapped, so files keep their real owners and nothing gains root outside.
std::string unshare_as_user() {
  uid_t uid = getuid();
  gid_t gid = getgid();
  if (unshare(CLONE_NEWUSER | CLONE_NEWNET) != 0) {
    return std::string("could not make a private network namespace: ") + std::strerror(errno) +
           " (unprivileged user namespaces may be off: user.max_user_namespaces or "
           "kernel.apparmor_restrict_unprivileged_userns); run the gateway as root or use "
           "--network all";
  }
  auto own = [](unsigned id) { return std::to_string(id) + " " + std::to_string(id) + " 1"; };
  std::string error = write_file("/proc/self/setgroups", "deny");
  if (error.empty()) error = write_file("/proc/self/uid_map", own(uid));
  if (error.empty()) error = write_file("/proc/self/gid_map", own(gid));
  return error;
}

std::string bring_up_loopback() {
  int sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (sock < 0) return failed("could not open a socket to configure loopback");
  ifreq request{};
  std::strcpy(request.ifr_name, "lo");
  std::string error;
  if (ioctl(sock, SIOCGIFFLAGS, &request) != 0) {
    error = failed("could not read the flags of lo");
  } else {
    request.ifr_flags = static_cast<short>(request.ifr_flags | IFF_UP);
    if (ioctl(sock, SIOCSIFFLAGS, &request) != 0) error = failed("could not bring lo up");
  }
  close(sock);
  return error;
}

// ---- step 5: Landlock ----

// Debian 12's 6.1 uapi headers predate these; the values are fixed kernel ABI.
constexpr std::uint64_t kFsTruncate = 1ULL << 14;              // ABI 3
constexpr std::uint64_t kFsIoctlDev = 1ULL << 15;              // ABI 5
constexpr std::uint64_t kScopeAbstractUnixSocket = 1ULL << 0;  // ABI 6
constexpr std::uint64_t kScopeSignal = 1ULL << 1;              // ABI 6

// struct landlock_ruleset_attr as of ABI 6; older kernels are given a prefix of it.
struct RulesetAttr {
  std::uint64_t handled_access_fs = 0;
  std::uint64_t handled_access_net = 0;  // left 0: the network namespace decides networking
  std::uint64_t scoped = 0;
};

constexpr std::uint64_t kFsAbi1 = (LANDLOCK_ACCESS_FS_MAKE_SYM << 1) - 1;  // bits 0..12
constexpr std::uint64_t kReadExec =
    LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR;
constexpr std::uint64_t kDevice =
    LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_WRITE_FILE | kFsTruncate;
// Everything but MAKE_CHAR/MAKE_BLOCK: a device node made in the workspace would be openable.
constexpr std::uint64_t kReadWrite =
    kReadExec | LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_REMOVE_DIR |
    LANDLOCK_ACCESS_FS_REMOVE_FILE | LANDLOCK_ACCESS_FS_MAKE_DIR | LANDLOCK_ACCESS_FS_MAKE_REG |
    LANDLOCK_ACCESS_FS_MAKE_SOCK | LANDLOCK_ACCESS_FS_MAKE_FIFO | LANDLOCK_ACCESS_FS_MAKE_SYM |
    LANDLOCK_ACCESS_FS_REFER | kFsTruncate;
// The only rights a rule on a non-directory may carry.
constexpr std::uint64_t kFileRights = LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_WRITE_FILE |
                                      LANDLOCK_ACCESS_FS_READ_FILE | kFsTruncate | kFsIoctlDev;

constexpr const char* kNoLandlock =
    "the kernel has no Landlock (needs Linux 5.13+ with CONFIG_SECURITY_LANDLOCK=y and "
    "'landlock' in the lsm= boot parameter); set tools.terminal.sandbox: off to run commands "
    "unconfined";

struct Grant {
  const char* path;
  std::uint64_t access;
  bool required;
};

// /bin and friends may be symlinks into /usr; O_PATH follows them, so the rule lands on the
// target, which is what path resolution will reach anyway.
constexpr Grant kFixedGrants[] = {
    {"/usr", kReadExec, true},
    {"/bin", kReadExec, false},
    {"/sbin", kReadExec, false},
    {"/lib", kReadExec, false},
    {"/lib32", kReadExec, false},
    {"/lib64", kReadExec, false},
    {"/libx32", kReadExec, false},
    {"/opt", kReadExec, false},
    // Listing only; the entries get their own rules below. The rule reaches down, so the names
    // (not contents) inside secret directories stay listable.
    {"/etc", LANDLOCK_ACCESS_FS_READ_DIR, true},
    {"/dev/null", kDevice, false},
    {"/dev/zero", kDevice, false},
    {"/dev/full", kDevice, false},
    {"/dev/random", kDevice, false},
    {"/dev/urandom", kDevice, false},
    {"/dev/tty", kDevice, false},
    // Landlock's ptrace scoping keeps other domains' /proc/PID/environ, maps, mem and fd
    // unreadable (given no CAP_SYS_ADMIN/CAP_PERFMON, see drop_capabilities). /dev/fd and
    // /dev/std* resolve here too. No WRITE_FILE: /proc/sys stays read-only.
    {"/proc", LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR, true},
};

// Paths under /etc holding host secrets; never granted. A directory with a secret beneath it
// is granted entry by entry instead of whole.
constexpr std::string_view kEtcSecrets[] = {"shadow",
                                            "shadow-",
                                            "gshadow",
                                            "gshadow-",
                                            "sudoers",
                                            "sudoers.d",
                                            "ssh",
                                            "krb5.keytab",
                                            "wireguard",
                                            "ppp",
                                            "openvpn",
                                            "ipsec.secrets",
                                            "ipsec.d",
                                            "letsencrypt",
                                            "credstore",
                                            "credstore.encrypted",
                                            "wpa_supplicant",
                                            "ssl/private",
                                            "pki/tls/private",
                                            "pki/CA/private",
                                            "security/opasswd",
                                            "NetworkManager/system-connections"};

struct Ruleset {
  int fd = -1;
  std::uint64_t handled = 0;
};

std::string make_ruleset(Ruleset& ruleset) {
  long abi = syscall(SYS_landlock_create_ruleset, nullptr, 0, LANDLOCK_CREATE_RULESET_VERSION);
  if (abi < 1) {
    if (abi < 0 && errno != ENOSYS && errno != EOPNOTSUPP) {
      return failed("could not query the Landlock ABI");
    }
    return kNoLandlock;
  }
  RulesetAttr attr;
  attr.handled_access_fs = kFsAbi1 | (abi >= 2 ? LANDLOCK_ACCESS_FS_REFER : 0) |
                           (abi >= 3 ? kFsTruncate : 0) | (abi >= 5 ? kFsIoctlDev : 0);
  size_t size = sizeof(attr.handled_access_fs);
  if (abi >= 6) {
    // Keeps the command from signalling the gateway or reaching its abstract sockets.
    attr.scoped = kScopeAbstractUnixSocket | kScopeSignal;
    size = sizeof(attr);
  }
  ruleset.handled = attr.handled_access_fs;
  ruleset.fd = static_cast<int>(syscall(SYS_landlock_create_ruleset, &attr, size, 0));
  if (ruleset.fd < 0) return failed("could not create a Landlock ruleset");
  return "";
}

// `type` is a DT_* value from readdir when known, saving a stat per /etc entry.
std::string allow_fd(const Ruleset& ruleset, int fd, std::uint64_t access, const std::string& path,
                     unsigned char type = DT_UNKNOWN) {
  if (type == DT_UNKNOWN || type == DT_LNK) {
    struct stat st {};
    if (fstat(fd, &st) != 0) return failed("could not stat " + path);
    type = S_ISDIR(st.st_mode) ? DT_DIR : DT_REG;
  }
  // Landlock refuses directory rights on a rule for a file.
  if (type != DT_DIR) access &= kFileRights;
  landlock_path_beneath_attr rule{.allowed_access = access & ruleset.handled, .parent_fd = fd};
  if (rule.allowed_access == 0) return "";
  if (syscall(SYS_landlock_add_rule, ruleset.fd, LANDLOCK_RULE_PATH_BENEATH, &rule, 0) != 0) {
    return failed("could not add a Landlock rule for " + path);
  }
  return "";
}

std::string allow_path(const Ruleset& ruleset, const std::string& path, std::uint64_t access,
                       bool required) {
  int fd = open(path.c_str(), O_PATH | O_CLOEXEC);
  if (fd < 0) return (errno == ENOENT && !required) ? "" : failed("could not open " + path);
  std::string error = allow_fd(ruleset, fd, access, path);
  close(fd);
  return error;
}

bool is_etc_secret(std::string_view relative) {
  return std::find(std::begin(kEtcSecrets), std::end(kEtcSecrets), relative) !=
         std::end(kEtcSecrets);
}

bool has_secret_beneath(const std::string& relative) {
  std::string prefix = relative + "/";
  return std::any_of(std::begin(kEtcSecrets), std::end(kEtcSecrets),
                     [&](std::string_view secret) { return secret.starts_with(prefix); });
}

// A symlink that resolves inside /etc needs no rule (its target has one or is a secret), and
// following it could grant a secret. Dangling ones are skipped too.
bool skip_symlink(const std::string& path, unsigned char type) {
  if (type != DT_LNK && type != DT_UNKNOWN) return false;
  struct stat st {};
  if (lstat(path.c_str(), &st) != 0 || !S_ISLNK(st.st_mode)) return false;
  std::unique_ptr<char, decltype(&std::free)> target(realpath(path.c_str(), nullptr), std::free);
  if (!target) return true;
  std::string_view resolved = target.get();
  return resolved == "/etc" || resolved.starts_with("/etc/");
}

std::string allow_etc_entries(const Ruleset& ruleset, int dir_fd, const std::string& relative);

std::string allow_etc_entry(const Ruleset& ruleset, int dir_fd, const std::string& relative,
                            const dirent& entry) {
  std::string path = "/etc/" + relative;
  if (is_etc_secret(relative) || skip_symlink(path, entry.d_type)) return "";
  const char* name = entry.d_name;
  if (has_secret_beneath(relative)) {
    int sub = openat(dir_fd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (sub < 0) return "";  // unreadable to us, so nothing to grant
    return allow_etc_entries(ruleset, sub, relative);
  }
  int fd = openat(dir_fd, name, O_PATH | O_CLOEXEC);
  if (fd < 0) return "";  // vanished since the listing
  std::string error = allow_fd(ruleset, fd, kReadExec, path, entry.d_type);
  close(fd);
  return error;
}

// Takes ownership of dir_fd.
std::string allow_etc_entries(const Ruleset& ruleset, int dir_fd, const std::string& relative) {
  DIR* dir = fdopendir(dir_fd);
  if (dir == nullptr) {
    close(dir_fd);
    return failed("could not list /etc/" + relative);
  }
  std::string error;
  while (error.empty()) {
    errno = 0;
    dirent* entry = readdir(dir);
    if (entry == nullptr) {
      if (errno != 0) error = failed("could not list /etc/" + relative);
      break;
    }
    std::string_view name = entry->d_name;
    if (name == "." || name == "..") continue;
    std::string child = relative.empty() ? std::string(name) : relative + "/" + std::string(name);
    error = allow_etc_entry(ruleset, dirfd(dir), child, *entry);
  }
  closedir(dir);
  return error;
}

std::string allow_everything_needed(const Ruleset& ruleset, const Options& options) {
  for (const Grant& grant : kFixedGrants) {
    auto error = allow_path(ruleset, grant.path, grant.access, grant.required);
    if (!error.empty()) {
      return error;
    }
  }
  int etc = open("/etc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (etc < 0) return failed("could not open /etc");
  if (auto error = allow_etc_entries(ruleset, etc, ""); !error.empty()) return error;
  if (auto error = allow_path(ruleset, options.workspace, kReadWrite, true); !error.empty()) {
    return error;
  }
  return allow_path(ruleset, options.tmp, kReadWrite, true);
}

// ---- step 6: seccomp ----

// Syscalls that fail with EPERM. An ordinary command needs none of them.
constexpr int kDeniedSyscalls[] = {
    SCMP_SYS(ptrace),             // inspect or steer other processes
    SCMP_SYS(process_vm_readv),   // read another process's memory
    SCMP_SYS(process_vm_writev),  // write another process's memory
    SCMP_SYS(mount),              // reshape the filesystem view (also the next nine)
    SCMP_SYS(umount2),            //
    SCMP_SYS(pivot_root),         //
    SCMP_SYS(move_mount),         //
    SCMP_SYS(open_tree),          //
    SCMP_SYS(fsopen),             //
    SCMP_SYS(fsconfig),           //
    SCMP_SYS(fsmount),            //
    SCMP_SYS(fspick),             //
    SCMP_SYS(mount_setattr),      //
    SCMP_SYS(bpf),                // load programs into the kernel
    SCMP_SYS(perf_event_open),    // kernel profiling: side channels and a long CVE record
    SCMP_SYS(kexec_load),         // replace the running kernel
    SCMP_SYS(kexec_file_load),    // replace the running kernel
    SCMP_SYS(init_module),        // load kernel code
    SCMP_SYS(finit_module),       // load kernel code
    SCMP_SYS(delete_module),      // unload kernel code
    SCMP_SYS(keyctl),             // keyrings are per user, shared with the host
    SCMP_SYS(add_key),            // keyrings are per user, shared with the host
    SCMP_SYS(request_key),        // keyrings are per user, shared with the host
    SCMP_SYS(unshare),            // new namespaces would undo the network and user setup
    SCMP_SYS(setns),              // joining another namespace leaves ours
    SCMP_SYS(setsid),             // a new session leaves the group the gateway kills
    SCMP_SYS(reboot),             // host-wide
    SCMP_SYS(swapon),             // host-wide
    SCMP_SYS(swapoff),            // host-wide
    SCMP_SYS(syslog),             // the kernel log leaks addresses and host activity
    SCMP_SYS(acct),               // host-wide process accounting
    SCMP_SYS(settimeofday),       // host clock
    SCMP_SYS(clock_settime),      // host clock
    SCMP_SYS(clock_adjtime),      // host clock
    SCMP_SYS(adjtimex),           // host clock
    SCMP_SYS(iopl),               // raw port I/O
    SCMP_SYS(ioperm),             // raw port I/O
    SCMP_SYS(userfaultfd),        // stalls kernel page faults: an exploit staple
    SCMP_SYS(open_by_handle_at),  // opens files by handle, skipping path checks
    SCMP_SYS(name_to_handle_at),  // only useful with open_by_handle_at
    SCMP_SYS(lookup_dcookie),     // profiling interface, leaks paths
    SCMP_SYS(quotactl),           // filesystem administration
    SCMP_SYS(quotactl_fd),        // filesystem administration
    SCMP_SYS(nfsservctl),         // NFS server administration
    SCMP_SYS(vhangup),            // hangs up the terminal of others
    SCMP_SYS(chroot),             // filesystem view games
    SCMP_SYS(io_uring_setup),     // ring operations bypass this filter
    SCMP_SYS(io_uring_enter),     // ring operations bypass this filter
    SCMP_SYS(io_uring_register),  // ring operations bypass this filter
    SCMP_SYS(fanotify_init),      // watches whole filesystems
    SCMP_SYS(kcmp),               // compares kernel objects of other processes
};

// clone() reads its flags from argument 0 on x86_64. CLONE_NEWTIME is absent: for clone() its
// bit is part of the exit-signal byte, so it only works through clone3 or unshare (denied).
constexpr std::uint64_t kNamespaceFlags[] = {CLONE_NEWNS,    CLONE_NEWUTS, CLONE_NEWIPC,
                                             CLONE_NEWUSER,  CLONE_NEWPID, CLONE_NEWNET,
                                             CLONE_NEWCGROUP};

// libseccomp's SCMP_A* macros are C compound literals, which -Wpedantic rejects in C++.
// For SCMP_CMP_MASKED_EQ, a is the mask and b the value.
scmp_arg_cmp compare_arg(unsigned index, scmp_compare op, std::uint64_t a, std::uint64_t b = 0) {
  return scmp_arg_cmp{index, op, a, b};
}

std::string rule_error(int rc, const char* what) {
  return rc == 0 ? ""
                 : std::string("could not add the seccomp rule for ") + what + ": " +
                       std::strerror(-rc);
}

std::string deny_listed(scmp_filter_ctx filter) {
  for (int syscall_nr : kDeniedSyscalls) {
    int rc = seccomp_rule_add(filter, SCMP_ACT_ERRNO(EPERM), syscall_nr, 0);
    if (rc != 0) {
      std::unique_ptr<char, decltype(&std::free)> name(
          seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, syscall_nr), std::free);
      return rule_error(rc, name ? name.get() : "a denied syscall");
    }
  }
  return "";
}

std::string deny_new_namespaces(scmp_filter_ctx filter) {
  for (std::uint64_t flag : kNamespaceFlags) {
    int rc = seccomp_rule_add(filter, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(clone), 1,
                              compare_arg(0, SCMP_CMP_MASKED_EQ, flag, flag));
    if (rc != 0) return rule_error(rc, "clone");
  }
  // clone3 passes its flags in memory, which seccomp cannot read. ENOSYS makes glibc fall
  // back to clone, which the rules above can check.
  return rule_error(seccomp_rule_add(filter, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0),
                    "clone3");
}

// A process that leaves the gateway's process group survives its timeout kill; non-interactive
// bash (no job control) never calls setpgid. All of it: inside a PID namespace the group's id
// reads 0, so "only into our own group" could not be told from "a new group of my own".
std::string keep_process_group(scmp_filter_ctx filter) {
  return rule_error(seccomp_rule_add(filter, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(setpgid), 0),
                    "setpgid");
}

// personality() may only query (0xffffffff) or set PER_LINUX (0); other values switch off
// ASLR or change the ABI. The kernel reads 32 bits, and v is neither 0 nor 0xffffffff exactly
// when some bit k is 1 and bit k+1 (cyclically) is 0, which one masked compare can test.
std::string limit_personality(scmp_filter_ctx filter) {
  for (unsigned bit = 0; bit < 32; ++bit) {
    std::uint64_t one = 1ULL << bit;
    std::uint64_t next = 1ULL << ((bit + 1) % 32);
    int rc = seccomp_rule_add(filter, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(personality), 1,
                              compare_arg(0, SCMP_CMP_MASKED_EQ, one | next, one));
    if (rc != 0) return rule_error(rc, "personality");
  }
  return "";
}

// Pushing input into a terminal the command inherited would type into the user's shell.
// Landlock's IOCTL_DEV only covers devices opened after it took effect. The kernel reads 32
// bits of the request, so compare only those.
std::string deny_terminal_injection(scmp_filter_ctx filter) {
  constexpr std::uint64_t kInjecting[] = {TIOCSTI, TIOCLINUX};
  for (std::uint64_t request : kInjecting) {
    int rc = seccomp_rule_add(filter, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(ioctl), 1,
                              compare_arg(1, SCMP_CMP_MASKED_EQ, 0xffffffffULL, request));
    if (rc != 0) return rule_error(rc, "ioctl");
  }
  return "";
}

// Landlock (up to ABI 7) does not check connect() on a path-named unix socket, and a network
// namespace does not cover them: the command could reach the user's D-Bus (systemd-run
// outside the sandbox) or docker.sock. socketpair() stays: it connects to nothing outside.
std::string deny_unix_sockets(scmp_filter_ctx filter) {
  return rule_error(seccomp_rule_add(filter, SCMP_ACT_ERRNO(EACCES), SCMP_SYS(socket), 1,
                                     compare_arg(0, SCMP_CMP_EQ, AF_UNIX)),
                    "socket(AF_UNIX)");
}

std::string add_seccomp_rules(scmp_filter_ctx filter) {
  // Foreign syscall ABIs (i386 int 0x80, x32) would skip the native rules: kill instead.
  int rc = seccomp_attr_set(filter, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
  if (rc != 0) return std::string("could not set the seccomp arch action: ") + std::strerror(-rc);
  // A binary tree keeps every syscall's path through the filter short.
  rc = seccomp_attr_set(filter, SCMP_FLTATR_CTL_OPTIMIZE, 2);
  if (rc != 0) return std::string("could not set the seccomp optimisation: ") + std::strerror(-rc);
  std::string error = deny_listed(filter);
  if (error.empty()) error = deny_new_namespaces(filter);
  if (error.empty()) error = keep_process_group(filter);
  if (error.empty()) error = limit_personality(filter);
  if (error.empty()) error = deny_terminal_injection(filter);
  if (error.empty()) error = deny_unix_sockets(filter);
  return error;
}

// The gateway's stdio pipes belong to root with mode 0600, so after the switch the command could
// write to fd 2 but not reopen it as /dev/stderr. Only pipes and sockets: a terminal's owner is
// the user at it, and must stay so.
std::string hand_over_stdio(const RunAs& who) {
  for (int fd = 0; fd <= 2; ++fd) {
    struct stat st {};
    if (fstat(fd, &st) != 0 || !(S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode))) continue;
    if (fchown(fd, who.uid, who.gid) != 0) return failed("could not hand stdio to --run-as");
  }
  return "";
}

}  // namespace

namespace {

// In the new namespace, before anything else: its pid_max, past the 300 pids the kernel keeps
// for the first ones.
// Before Linux 6.14 pid_max is one for the whole machine: writing it from here would cap the
// host. Only a kernel that keeps it per namespace is asked.
bool pid_max_is_per_namespace() {
  utsname system{};
  if (uname(&system) != 0) return false;
  unsigned major = 0, minor = 0;
  if (std::sscanf(system.release, "%u.%u", &major, &minor) != 2) return false;
  return major > 6 || (major == 6 && minor >= 14);
}

std::string limit_namespace_pids(std::uint64_t processes) {
  if (!pid_max_is_per_namespace()) {
    return "this kernel keeps pid_max for the whole machine, so a command run as root cannot be "
           "held to a number of processes";
  }
  constexpr std::uint64_t kReservedPids = 300;
  return write_file("/proc/sys/kernel/pid_max", std::to_string(kReservedPids + processes + 1));
}

// This process's exit as `status` says: the code, or the same signal.
int relay(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  const int sig = WTERMSIG(status);
  std::signal(sig, SIG_DFL);
  std::raise(sig);
  return 128 + sig;  // a signal whose default is to go on (SIGCHLD, ...)
}

}  // namespace

int run_in_pid_namespace(const Options& options, int (*body)(void*), void* context,
                         std::string& error) {
  if (geteuid() != 0) return body(context);
  if (unshare(CLONE_NEWPID) != 0) {
    error = failed("could not make a PID namespace");
    return 126;
  }
  const pid_t child = fork();
  if (child < 0) {
    error = failed("could not start the namespace's first process");
    return 126;
  }
  if (child == 0) {
    // Should the launcher be killed (the gateway's timeout kills the group), so is the
    // namespace's first process, and with it everything in the namespace.
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) _exit(126);
    if (auto why = limit_namespace_pids(options.processes); !why.empty()) {
      std::fprintf(stderr,
                   "hermes-sandbox: %s (Linux 6.14 or later keeps pid_max per PID "
                   "namespace; or run the gateway as a user other than root)\n",
                   why.c_str());
      _exit(126);
    }
    _exit(body(context));
  }
  int status = 0;
  while (waitpid(child, &status, 0) < 0) {
    if (errno != EINTR) {
      error = failed("lost the namespace's first process");
      return 126;
    }
  }
  return relay(status);
}

std::string set_limits(const Options& options) {
  struct Limit {
    int resource;
    const char* name;
    rlim_t soft;
    rlim_t hard;
  };
  std::vector<Limit> limits = {
      {RLIMIT_AS, "RLIMIT_AS", options.memory_mb * kMiB, options.memory_mb * kMiB},
      {RLIMIT_NPROC, "RLIMIT_NPROC", options.processes, options.processes},
      {RLIMIT_FSIZE, "RLIMIT_FSIZE", options.file_size_mb * kMiB, options.file_size_mb * kMiB},
      {RLIMIT_CORE, "RLIMIT_CORE", 0, 0},
      {RLIMIT_NOFILE, "RLIMIT_NOFILE", 1024, 1024},
  };
  // The hard limit sits a little above the soft one so SIGXCPU arrives before SIGKILL.
  if (options.cpu_seconds) {
    limits.push_back({RLIMIT_CPU, "RLIMIT_CPU", *options.cpu_seconds, *options.cpu_seconds + 5});
  }
  for (const Limit& limit : limits) {
    auto error = lower_limit(limit.resource, limit.name, limit.soft, limit.hard);
    if (!error.empty()) return error;
  }
  return "";
}

std::string isolate_network() {
  if (unshare(CLONE_NEWNET) != 0) {
    if (errno != EPERM) return failed("could not make a private network namespace");
    if (auto error = unshare_as_user(); !error.empty()) return error;
  }
  // Loopback starts down in a new namespace; local servers the command starts need it.
  return bring_up_loopback();
}

std::string switch_user(const RunAs& who) {
  uid_t ruid = 0, euid = 0, suid = 0;
  gid_t rgid = 0, egid = 0, sgid = 0;
  if (geteuid() == 0) {
    if (auto error = hand_over_stdio(who); !error.empty()) return error;
    if (setgroups(0, nullptr) != 0) return failed("could not drop supplementary groups");
    if (setresgid(who.gid, who.gid, who.gid) != 0) return failed("could not switch group");
    if (setresuid(who.uid, who.uid, who.uid) != 0) return failed("could not switch user");
  }
  // Not root: only the ids we already have can be asked for, and the checks below say so.
  if (getresuid(&ruid, &euid, &suid) != 0 || getresgid(&rgid, &egid, &sgid) != 0) {
    return failed("could not read back the user and group ids");
  }
  bool switched = ruid == who.uid && euid == who.uid && suid == who.uid && rgid == who.gid &&
                  egid == who.gid && sgid == who.gid;
  if (!switched) {
    return "could not run as " + std::to_string(who.uid) + ":" + std::to_string(who.gid) +
           " (--run-as needs root unless it names the current ids)";
  }
  if (who.uid != 0 && setuid(0) == 0) return "switched user but could still regain root";
  return "";
}

std::string drop_capabilities() {
  // Emptying the bounding set too means execve cannot hand root its capabilities back.
  for (int cap = 0; prctl(PR_CAPBSET_READ, cap, 0, 0, 0) >= 0; ++cap) {
    if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0) return failed("could not drop capabilities");
  }
  if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0) {
    return failed("could not clear ambient capabilities");
  }
  __user_cap_header_struct header{.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
  __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = {};
  if (syscall(SYS_capset, &header, data) != 0) return failed("could not clear capabilities");
  return "";
}

std::string forbid_new_privileges() {
  // Required by Landlock and unprivileged seccomp; also makes setuid binaries inert.
  // Dumpable stays as it is: execve resets it for the command anyway, core files are off
  // (RLIMIT_CORE 0), and Landlock already keeps the command from ptracing anything outside.
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return failed("could not set no_new_privs");
  return "";
}

std::string restrict_filesystem(const Options& options) {
  Ruleset ruleset;
  if (auto error = make_ruleset(ruleset); !error.empty()) return error;
  std::string error = allow_everything_needed(ruleset, options);
  if (error.empty() && syscall(SYS_landlock_restrict_self, ruleset.fd, 0) != 0) {
    error = failed("could not enforce the Landlock ruleset");
  }
  close(ruleset.fd);
  return error;
}

std::string filter_syscalls() {
  scmp_filter_ctx filter = seccomp_init(SCMP_ACT_ALLOW);
  if (filter == nullptr) return "could not start a seccomp filter";
  std::string error = add_seccomp_rules(filter);
  if (error.empty()) {
    int rc = seccomp_load(filter);
    if (rc != 0) error = std::string("could not load the seccomp filter: ") + std::strerror(-rc);
  }
  seccomp_release(filter);
  return error;
}

std::string confine(const Options& options) {
  for (const std::string* dir : {&options.workspace, &options.tmp}) {
    struct stat st {};
    if (stat(dir->c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
      return "'" + *dir + "' is not a directory";
    }
  }
  std::string error = set_limits(options);
  if (error.empty() && !options.network) error = isolate_network();
  // After the network step, so the namespace is still made with root's rights.
  if (error.empty() && options.run_as) error = switch_user(*options.run_as);
  // Still root: CAP_SYS_ADMIN or CAP_PERFMON would read any process's /proc/PID/environ past
  // Landlock's ptrace scoping, and other capabilities reach further still.
  if (error.empty() && geteuid() == 0) error = drop_capabilities();
  if (error.empty()) error = forbid_new_privileges();
  if (error.empty()) error = restrict_filesystem(options);
  if (error.empty()) error = filter_syscalls();
  return error;
}

std::string verify_confined() {
  // "/" has no rule, so Landlock must refuse to list it, even to root.
  int fd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0) {
    close(fd);
    return "Landlock did not take effect ('/' is still listable)";
  }
  if (unshare(0) == 0) return "the seccomp filter did not take effect (unshare still works)";
  return "";
}

std::string close_inherited_fds() {
  // close_range (Linux 5.9) always exists here: Landlock already required 5.13.
  if (close_range(3, UINT_MAX, 0) != 0) return failed("could not close inherited descriptors");
  return "";
}

}  // namespace hermes::sandbox
