#include "daemon/builtin/workspace_files.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <linux/openat2.h>
#include <pthread.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <filesystem>
#include <memory>
#include <optional>
#include <regex>
#include <stdexcept>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "daemon/providers/text_util.hpp"

namespace hermes::daemon::builtin {
namespace {

using nlohmann::json;

constexpr std::size_t kReadMaxBytes = 100 * 1024;
constexpr std::int64_t kDefaultReadLines = 2000;
constexpr std::size_t kBinaryProbeBytes = 8 * 1024;
constexpr std::size_t kWriteMaxBytes = 1024 * 1024;
constexpr std::size_t kPatchMaxBytes = 8 * 1024 * 1024;
constexpr std::size_t kSearchFileMaxBytes = 2 * 1024 * 1024;
constexpr std::size_t kSearchLineCut = 300;
constexpr std::size_t kRegexLineMax = 10'000;
constexpr std::int64_t kDefaultListMax = 500;
constexpr std::int64_t kDefaultSearchMax = 100;
constexpr std::int64_t kCountCap = std::int64_t{1} << 40;
constexpr int kMaxDepth = 64;        // keeps one open descriptor per level bounded
constexpr int kMaxSymlinkHops = 40;  // what the kernel allows too
constexpr int kMaxTempAttempts = 100;
constexpr std::size_t kSearchStackBytes = 256 * 1024 * 1024;  // see on_big_stack
constexpr auto kSearchTimeBudget = std::chrono::seconds(20);

constexpr std::uint64_t kBeneath = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
constexpr std::uint64_t kBeneathNoLinks = kBeneath | RESOLVE_NO_SYMLINKS;

// A failure whose message is the sentence for the model; the public entry points catch it.
class ToolError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(Fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  Fd& operator=(Fd&& other) noexcept {
    if (this != &other) {
      reset();
      fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() { reset(); }

  int get() const { return fd_; }
  // Closes now and reports the result: a failed close can mean lost written data.
  int close() { return ::close(std::exchange(fd_, -1)); }
  void reset() {
    if (fd_ >= 0) ::close(std::exchange(fd_, -1));
  }

 private:
  int fd_ = -1;
};

std::string os_error(int err) {
  return std::generic_category().message(err);
}
std::string in_quotes(std::string_view text) {
  return "'" + std::string(text) + "'";
}

// openat2 beneath `dirfd`; -1 with errno set on failure.
int openat2_fd(int dirfd, const std::string& path, std::uint64_t flags, std::uint64_t mode,
               std::uint64_t resolve) {
  open_how how{};
  how.flags = flags | O_CLOEXEC;
  how.mode = mode;
  how.resolve = resolve;
  for (int attempt = 0;; ++attempt) {
    const long fd = ::syscall(SYS_openat2, dirfd, path.c_str(), &how, sizeof how);
    if (fd >= 0) return static_cast<int>(fd);
    // EAGAIN: a concurrent rename raced the kernel's `..` check; it asks for a retry.
    if (errno != EAGAIN || attempt == 8) return -1;
  }
}

// ---------------------------------------------------------------------------------------------
// Text helpers

std::string_view without_cr(std::string_view line) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  return line;
}

bool has_nul(std::string_view data) {
  return data.substr(0, kBinaryProbeBytes).find('\0') != std::string_view::npos;
}

// Whitespace runs as one space, trimmed: for the "differs only in whitespace" hint.
std::string squeeze_whitespace(std::string_view s) {
  std::string out;
  bool space = false;
  for (const char c : s) {
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') {
      space = !out.empty();
    } else {
      if (space) out += ' ';
      space = false;
      out += c;
    }
  }
  return out;
}

std::vector<std::string> split_components(std::string_view path) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (start <= path.size()) {
    std::size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    if (end > start) parts.emplace_back(path.substr(start, end - start));
    start = end + 1;
  }
  return parts;
}

// Whether `..` components climb above the start when read as plain text.
bool climbs_out(std::string_view path) {
  int depth = 0;
  for (const std::string& part : split_components(path)) {
    if (part == "..") {
      if (--depth < 0) return true;
    } else if (part != ".") {
      ++depth;
    }
  }
  return false;
}

std::string collapse_slashes(std::string_view path) {
  std::string out;
  for (const char c : path) {
    if (c != '/' || out.empty() || out.back() != '/') out += c;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Arguments

void require_object(const json& args, std::string_view tool) {
  if (!args.is_object()) throw ToolError(std::string(tool) + ": the arguments must be an object");
}

std::optional<std::string> opt_string(const json& args, std::string_view tool, const char* key) {
  const auto it = args.find(key);
  if (it == args.end() || it->is_null()) return std::nullopt;
  if (!it->is_string()) {
    throw ToolError(std::string(tool) + ": '" + key + "' must be a string");
  }
  return it->get<std::string>();
}

std::string need_string(const json& args, std::string_view tool, const char* key) {
  auto value = opt_string(args, tool, key);
  if (!value) throw ToolError(std::string(tool) + ": '" + key + "' is required (a string)");
  return std::move(*value);
}

// A path argument: required when `fallback` is null.
std::string path_arg(const json& args, std::string_view tool, const char* fallback = nullptr) {
  std::string path = fallback != nullptr ? opt_string(args, tool, "path").value_or(fallback)
                                         : need_string(args, tool, "path");
  if (path.empty()) {
    throw ToolError(std::string(tool) + ": 'path' is empty; give a path in the workspace");
  }
  if (path.find('\0') != std::string::npos) {
    throw ToolError(std::string(tool) + ": 'path' contains a NUL character");
  }
  return path;
}

std::int64_t count_arg(const json& args, std::string_view tool, const char* key,
                       std::int64_t fallback) {
  const auto it = args.find(key);
  if (it == args.end() || it->is_null()) return fallback;
  const ToolError bad(std::string(tool) + ": '" + key + "' must be a whole number of at least 1");
  if (it->is_number_unsigned()) {
    const auto value = it->get<std::uint64_t>();
    if (value < 1) throw bad;
    return static_cast<std::int64_t>(std::min<std::uint64_t>(value, kCountCap));
  }
  if (it->is_number_integer()) {
    const auto value = it->get<std::int64_t>();
    if (value < 1) throw bad;
    return std::min(value, kCountCap);
  }
  if (it->is_number_float()) {  // models sometimes send 10.0
    const double value = it->get<double>();
    if (!(value >= 1) || value != std::floor(value)) throw bad;
    return value >= static_cast<double>(kCountCap) ? kCountCap : static_cast<std::int64_t>(value);
  }
  throw bad;
}

bool bool_arg(const json& args, std::string_view tool, const char* key) {
  const auto it = args.find(key);
  if (it == args.end() || it->is_null()) return false;
  if (!it->is_boolean())
    throw ToolError(std::string(tool) + ": '" + key + "' must be true or false");
  return it->get<bool>();
}

// ---------------------------------------------------------------------------------------------
// Resolution beneath the workspace root

Fd open_root(const std::string& root) {
  const int fd = ::open(root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0) return Fd(fd);
  if (errno == ENOENT) throw ToolError("the workspace (" + root + ") does not exist");
  throw ToolError("the workspace (" + root + ") cannot be opened: " + os_error(errno));
}

// The part of absolute `path` below `root`, if it lies there.
std::optional<std::string> below(std::string_view path, std::string_view root) {
  if (root == "/") return path.size() > 1 ? std::string(path.substr(1)) : ".";
  if (path == root) return ".";
  if (path.size() > root.size() && path.starts_with(root) && path[root.size()] == '/') {
    const std::string_view rest = path.substr(root.size() + 1);
    return rest.empty() ? "." : std::string(rest);
  }
  return std::nullopt;
}

// One tool call's view of the workspace: the root descriptor and the error sentences.
class Session {
 public:
  explicit Session(const std::string& root) : root_(root), fd_(open_root(root)) {}

  int fd() const { return fd_.get(); }

  ToolError outside(const std::string& shown) const {
    return ToolError(in_quotes(shown) + " is outside the workspace (" + root_ +
                     "); the file tools reach only the workspace");
  }

  [[noreturn]] void fail(int err, const std::string& shown) const {
    switch (err) {
      case EXDEV:
        throw outside(shown);
      case ENOENT:
        throw ToolError(in_quotes(shown) + " does not exist in the workspace");
      case ENOTDIR:
        throw ToolError("a part of " + in_quotes(shown) + " is not a directory");
      case ELOOP:
        throw ToolError(in_quotes(shown) + " goes through too many symbolic links");
      case EACCES:
      case EPERM:
        throw ToolError("permission denied for " + in_quotes(shown));
      default:
        throw ToolError("cannot open " + in_quotes(shown) + ": " + os_error(err));
    }
  }

  // The path to hand to openat2: relative paths as they are, absolute ones only when they
  // lie in the workspace (as written, or under the root's real path).
  std::string relative(const std::string& path) const {
    if (path.front() != '/') return path;
    const std::string clean = collapse_slashes(path);
    if (auto rest = below(clean, root_)) return *rest;
    if (char* real = ::realpath(root_.c_str(), nullptr)) {
      const std::string canonical(real);
      std::free(real);
      if (auto rest = below(clean, canonical)) return *rest;
    }
    throw outside(path);
  }

  Fd open(const std::string& rel, std::uint64_t flags, const std::string& shown) const {
    const int fd = openat2_fd(fd_.get(), rel, flags, 0, kBeneath);
    if (fd < 0) fail(errno, shown);
    return Fd(fd);
  }

 private:
  const std::string& root_;
  Fd fd_;
};

struct stat stat_fd(int fd, const std::string& shown) {
  struct stat st {};
  if (::fstat(fd, &st) != 0)
    throw ToolError("cannot inspect " + in_quotes(shown) + ": " + os_error(errno));
  return st;
}

std::string read_link(int dirfd, const std::string& name) {
  std::string target(256, '\0');
  for (;;) {
    const ssize_t n = ::readlinkat(dirfd, name.c_str(), target.data(), target.size());
    if (n < 0) return {};
    if (static_cast<std::size_t>(n) < target.size()) {
      target.resize(static_cast<std::size_t>(n));
      return target;
    }
    target.resize(target.size() * 2);
  }
}

// The whole file, or nothing when it is larger than `cap`.
std::optional<std::string> read_all(int fd, std::size_t cap, const std::string& shown) {
  std::string data;
  char chunk[64 * 1024];
  for (;;) {
    const ssize_t n = ::read(fd, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw ToolError("cannot read " + in_quotes(shown) + ": " + os_error(errno));
    if (n == 0) return data;
    if (data.size() + static_cast<std::size_t>(n) > cap) return std::nullopt;
    data.append(chunk, static_cast<std::size_t>(n));
  }
}

// ---------------------------------------------------------------------------------------------
// Directory entries

enum class Kind { file, dir, link, other };

struct Entry {
  std::string name;
  Kind kind = Kind::other;
};

Kind kind_of(int dirfd, const std::string& name) {
  struct stat st {};
  if (::fstatat(dirfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) return Kind::other;
  if (S_ISDIR(st.st_mode)) return Kind::dir;
  if (S_ISLNK(st.st_mode)) return Kind::link;
  return S_ISREG(st.st_mode) ? Kind::file : Kind::other;
}

// The entries of an open directory, sorted by name, without "." and "..".
std::vector<Entry> read_entries(int dirfd, const std::string& shown) {
  const int copy = ::fcntl(dirfd, F_DUPFD_CLOEXEC, 0);
  DIR* dir = copy >= 0 ? ::fdopendir(copy) : nullptr;
  if (dir == nullptr) {
    const int err = errno;
    if (copy >= 0) ::close(copy);
    throw ToolError("cannot list " + in_quotes(shown) + ": " + os_error(err));
  }
  const std::unique_ptr<DIR, int (*)(DIR*)> closer(dir, &::closedir);
  ::rewinddir(dir);  // the copy shares its position with `dirfd`
  std::vector<std::string> names;
  for (;;) {
    errno = 0;
    const dirent* ent = ::readdir(dir);
    if (ent == nullptr) break;
    const std::string_view name = ent->d_name;
    if (name != "." && name != "..") names.emplace_back(name);
  }
  if (errno != 0) throw ToolError("cannot list " + in_quotes(shown) + ": " + os_error(errno));
  std::sort(names.begin(), names.end());
  std::vector<Entry> entries;
  entries.reserve(names.size());
  for (std::string& name : names) {
    const Kind kind = kind_of(dirfd, name);
    entries.push_back(Entry{std::move(name), kind});
  }
  return entries;
}

// A subdirectory by name, never through a symlink.
Fd open_subdir(int dirfd, const std::string& name) {
  return Fd(openat2_fd(dirfd, name, O_RDONLY | O_DIRECTORY, 0, kBeneathNoLinks));
}

template <typename Fn>
FileToolResult guarded(std::string_view tool, Fn&& fn) {
  try {
    return FileToolResult{true, fn()};
  } catch (const ToolError& e) {
    return FileToolResult{false, e.what()};
  } catch (const std::exception& e) {
    return FileToolResult{false, std::string(tool) + " failed: " + e.what()};
  } catch (...) {
    return FileToolResult{false, std::string(tool) + " failed unexpectedly"};
  }
}

// ---------------------------------------------------------------------------------------------
// read_file

// The lines of an open file one at a time, keeping at most a given number of bytes of each,
// so a huge file or a huge line never has to fit in memory.
class LineReader {
 public:
  LineReader(int fd, const std::string& shown) : fd_(fd), shown_(shown) {}

  // The next line without its '\n'; false at the end of the file.
  bool next(std::string& line, std::size_t keep) {
    line.clear();
    bool any = false;
    for (;;) {
      if (pos_ == buf_.size() && !fill()) return any;
      any = true;
      const std::size_t newline = buf_.find('\n', pos_);
      const std::size_t end = newline == std::string::npos ? buf_.size() : newline;
      if (line.size() < keep) line.append(buf_, pos_, std::min(end - pos_, keep - line.size()));
      pos_ = newline == std::string::npos ? end : newline + 1;
      if (newline != std::string::npos) return true;
    }
  }

 private:
  bool fill() {
    buf_.resize(64 * 1024);
    for (;;) {
      const ssize_t n = ::read(fd_, buf_.data(), buf_.size());
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) throw ToolError("cannot read " + in_quotes(shown_) + ": " + os_error(errno));
      buf_.resize(static_cast<std::size_t>(n));
      pos_ = 0;
      return n > 0;
    }
  }

  int fd_;
  const std::string& shown_;
  std::string buf_;
  std::size_t pos_ = 0;
};

// Whether the first 8 KB hold a NUL byte; pread leaves the file position at the start.
bool starts_binary(int fd, const std::string& shown) {
  std::string probe(kBinaryProbeBytes, '\0');
  std::size_t got = 0;
  while (got < probe.size()) {
    const ssize_t n = ::pread(fd, probe.data() + got, probe.size() - got, static_cast<off_t>(got));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw ToolError("cannot read " + in_quotes(shown) + ": " + os_error(errno));
    if (n == 0) break;
    got += static_cast<std::size_t>(n);
  }
  return has_nul(std::string_view(probe.data(), got));
}

std::string numbered_lines(int fd, const std::string& shown, std::uint64_t offset,
                           std::uint64_t limit) {
  constexpr std::size_t kBudget = kReadMaxBytes - 256;  // room for the note, 100 KB in all
  LineReader reader(fd, shown);
  std::string line, out, note;
  std::uint64_t number = 0, count = 0;
  while (reader.next(line, number + 1 < offset ? 0 : kBudget)) {
    ++number;
    if (number < offset) continue;
    const std::string label = std::to_string(number);
    if (count == limit) {
      note =
          "... stopped after " + std::to_string(limit) + " lines; call again with offset=" + label;
      break;
    }
    std::string entry = label + "|" + providers::valid_utf8(without_cr(line)) + "\n";
    if (out.size() + entry.size() > kBudget) {
      if (count == 0) {  // one line larger than the whole budget: show its start
        out = providers::truncate_utf8(entry, kBudget) + "\n";
        note = "... line " + label + " is longer than 100 KB and was cut; call again with offset=" +
               std::to_string(number + 1);
      } else {
        note = "... truncated at line " + std::to_string(number - 1) +
               "; call again with offset=" + label;
      }
      break;
    }
    out += entry;
    ++count;
  }
  if (!out.empty()) return out + note;
  if (number == 0) return in_quotes(shown) + " is empty";
  throw ToolError(in_quotes(shown) + " has " + std::to_string(number) + " line(s); offset " +
                  std::to_string(offset) + " is past the end");
}

std::string read_file_impl(const std::string& root, const json& args) {
  require_object(args, "read_file");
  const std::string path = path_arg(args, "read_file");
  const auto offset = static_cast<std::uint64_t>(count_arg(args, "read_file", "offset", 1));
  const auto limit =
      static_cast<std::uint64_t>(count_arg(args, "read_file", "limit", kDefaultReadLines));
  const Session session(root);
  const Fd fd = session.open(session.relative(path), O_RDONLY | O_NONBLOCK | O_NOCTTY, path);
  const struct stat st = stat_fd(fd.get(), path);
  if (S_ISDIR(st.st_mode)) {
    throw ToolError(in_quotes(path) + " is a directory; use list_files to see what is in it");
  }
  if (!S_ISREG(st.st_mode)) throw ToolError(in_quotes(path) + " is not a regular file");
  if (starts_binary(fd.get(), path)) {
    throw ToolError(in_quotes(path) +
                    " looks like a binary file (it has NUL bytes); read_file shows text only");
  }
  return numbered_lines(fd.get(), path, offset, limit);
}

// ---------------------------------------------------------------------------------------------
// write_file and patch

struct Place {
  Fd dir;                               // the directory that holds (or will hold) the file
  std::string name;                     // the file's name in it
  std::optional<struct stat> existing;  // set when the file is there already
};

// Opens `dir_rel`, creating what is missing one component at a time: each new directory is
// made with mkdirat in a parent that was itself resolved beneath the root.
Fd make_dirs(const Session& session, const std::string& dir_rel, const std::string& shown) {
  // Refuse before creating anything, so a path that climbs out leaves no stray directories.
  if (climbs_out(dir_rel)) throw session.outside(shown);
  Fd current = session.open(".", O_PATH | O_DIRECTORY, shown);
  std::string prefix;
  for (const std::string& part : split_components(dir_rel)) {
    prefix += (prefix.empty() ? "" : "/") + part;
    int fd = openat2_fd(session.fd(), prefix, O_PATH | O_DIRECTORY, 0, kBeneath);
    if (fd < 0 && errno == ENOENT && part != "." && part != "..") {
      if (::mkdirat(current.get(), part.c_str(), 0777) != 0 && errno != EEXIST) {
        throw ToolError("cannot create the directory " + in_quotes(prefix) + ": " +
                        os_error(errno));
      }
      fd = openat2_fd(current.get(), part, O_PATH | O_DIRECTORY, 0, kBeneath);
    }
    if (fd < 0) session.fail(errno, shown);
    current = Fd(fd);
  }
  return current;
}

Fd open_parent(const Session& session, const std::string& dir_rel, const std::string& shown,
               bool create) {
  const std::string where = dir_rel.empty() ? "." : dir_rel;
  const int fd = openat2_fd(session.fd(), where, O_PATH | O_DIRECTORY, 0, kBeneath);
  if (fd >= 0) return Fd(fd);
  if (errno != ENOENT || !create) session.fail(errno, shown);
  return make_dirs(session, dir_rel, shown);
}

// Where `rel` lives. A symlink in the last component is followed here (relative targets only,
// as RESOLVE_BENEATH allows) so the rename replaces the file it names, not the link.
Place locate(const Session& session, std::string rel, const std::string& shown, bool create) {
  for (int hop = 0; hop <= kMaxSymlinkHops; ++hop) {
    const std::size_t slash = rel.rfind('/');
    const std::string dir_rel = slash == std::string::npos ? "" : rel.substr(0, slash);
    Place place{Fd(), slash == std::string::npos ? rel : rel.substr(slash + 1), std::nullopt};
    if (place.name.empty() || place.name == "." || place.name == "..") {
      throw ToolError(in_quotes(shown) + " does not name a file; give the path of a file");
    }
    place.dir = open_parent(session, dir_rel, shown, create);
    struct stat st {};
    if (::fstatat(place.dir.get(), place.name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
      if (errno != ENOENT) session.fail(errno, shown);
      return place;
    }
    if (S_ISLNK(st.st_mode)) {
      const std::string target = read_link(place.dir.get(), place.name);
      if (target.empty()) throw ToolError("cannot read the symbolic link " + in_quotes(shown));
      if (target.front() == '/') throw session.outside(shown);
      rel = dir_rel.empty() ? target : dir_rel + "/" + target;
      continue;
    }
    if (S_ISDIR(st.st_mode)) throw ToolError(in_quotes(shown) + " is a directory, not a file");
    if (!S_ISREG(st.st_mode)) throw ToolError(in_quotes(shown) + " is not a regular file");
    place.existing = st;
    return place;
  }
  session.fail(ELOOP, shown);
}

std::atomic<unsigned> temp_counter{0};

// A new, empty temp file next to the target; O_EXCL so nothing already there is reused.
std::pair<Fd, std::string> create_temp(const Place& place, const std::string& shown) {
  const std::string base = place.name.size() <= 200 ? place.name : "hermes";
  for (int attempt = 0; attempt < kMaxTempAttempts; ++attempt) {
    const std::string tmp = "." + base + ".tmp-" + std::to_string(::getpid()) + "-" +
                            std::to_string(temp_counter.fetch_add(1));
    const int fd =
        openat2_fd(place.dir.get(), tmp, O_WRONLY | O_CREAT | O_EXCL, 0666, kBeneathNoLinks);
    if (fd >= 0) return {Fd(fd), tmp};
    if (errno != EEXIST)
      throw ToolError("cannot write " + in_quotes(shown) + ": " + os_error(errno));
  }
  throw ToolError("cannot write " + in_quotes(shown) + ": no free temporary file name");
}

void write_all(int fd, std::string_view data, const std::string& shown) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw ToolError("cannot write " + in_quotes(shown) + ": " + os_error(errno));
    data.remove_prefix(static_cast<std::size_t>(n));
  }
}

// A temp file in the target's directory renamed over the target: readers see the old or the
// new contents, never a mix, and a failure leaves the old file as it was.
void replace_atomically(const Place& place, std::string_view data, const std::string& shown) {
  auto [fd, tmp] = create_temp(place, shown);
  struct Cleanup {
    int dir;
    const std::string& name;
    bool keep = false;
    ~Cleanup() {
      if (!keep) ::unlinkat(dir, name.c_str(), 0);
    }
  } cleanup{place.dir.get(), tmp};
  write_all(fd.get(), data, shown);
  // Keep an existing file's permissions (not set-id bits; a rename cannot keep its owner).
  if (place.existing && ::fchmod(fd.get(), place.existing->st_mode & 0777) != 0) {
    throw ToolError("cannot write " + in_quotes(shown) + ": " + os_error(errno));
  }
  if (::fsync(fd.get()) != 0 || fd.close() != 0) {
    throw ToolError("cannot write " + in_quotes(shown) + ": " + os_error(errno));
  }
  if (::renameat(place.dir.get(), tmp.c_str(), place.dir.get(), place.name.c_str()) != 0) {
    throw ToolError("cannot replace " + in_quotes(shown) + ": " + os_error(errno));
  }
  cleanup.keep = true;
}

std::string write_file_impl(const std::string& root, const json& args) {
  require_object(args, "write_file");
  const std::string path = path_arg(args, "write_file");
  const std::string content = need_string(args, "write_file", "content");
  if (content.size() > kWriteMaxBytes) {
    throw ToolError("write_file: 'content' is " + std::to_string(content.size()) +
                    " bytes; the limit is 1 MB (" + std::to_string(kWriteMaxBytes) + " bytes)");
  }
  const Session session(root);
  const Place place = locate(session, session.relative(path), path, true);
  replace_atomically(place, content, path);
  return "wrote " + std::to_string(content.size()) + " bytes to " + path;
}

std::size_t count_occurrences(std::string_view text, std::string_view needle) {
  std::size_t count = 0;
  for (std::size_t pos = text.find(needle); pos != std::string_view::npos;
       pos = text.find(needle, pos + needle.size())) {
    ++count;
  }
  return count;
}

std::string replace_every(std::string_view text, std::string_view from, std::string_view to) {
  std::string out;
  std::size_t start = 0;
  for (std::size_t pos = text.find(from); pos != std::string_view::npos;
       pos = text.find(from, start)) {
    out.append(text.substr(start, pos - start));
    out.append(to);
    start = pos + from.size();
  }
  out.append(text.substr(start));
  return out;
}

std::string with_crlf(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\n' && (i == 0 || text[i - 1] != '\r')) out += '\r';
    out += text[i];
  }
  return out;
}

struct Edit {
  std::string from, to;
  std::size_t count = 0;
};

Edit plan_edit(const std::string& content, const std::string& from, const std::string& to) {
  Edit edit{from, to, count_occurrences(content, from)};
  // read_file shows lines without their '\r', so text copied from a CRLF file has bare '\n'.
  if (edit.count == 0 && from.find('\n') != std::string::npos &&
      from.find('\r') == std::string::npos && content.find("\r\n") != std::string::npos) {
    Edit crlf{with_crlf(from), with_crlf(to), 0};
    crlf.count = count_occurrences(content, crlf.from);
    if (crlf.count > 0) return crlf;
  }
  return edit;
}

ToolError not_found(const std::string& shown, const std::string& content, const std::string& from) {
  const std::string message = "the text in 'old_string' was not found in " + in_quotes(shown);
  const std::string squeezed = squeeze_whitespace(from);
  if (!squeezed.empty() && squeeze_whitespace(content).find(squeezed) != std::string::npos) {
    return ToolError(message +
                     "; it differs only in whitespace (indentation, spaces or line breaks) from "
                     "text that is there: read the file again and copy that text exactly");
  }
  return ToolError(message + "; read the file again and copy the exact text to replace");
}

std::string read_for_patch(const Session& session, const Place& place, const std::string& shown) {
  const int raw =
      openat2_fd(place.dir.get(), place.name, O_RDONLY | O_NONBLOCK | O_NOCTTY, 0, kBeneathNoLinks);
  if (raw < 0) session.fail(errno, shown);
  const Fd fd(raw);
  if (!S_ISREG(stat_fd(fd.get(), shown).st_mode)) {
    throw ToolError(in_quotes(shown) + " is not a regular file");
  }
  auto content = read_all(fd.get(), kPatchMaxBytes, shown);
  if (!content)
    throw ToolError(in_quotes(shown) + " is larger than 8 MB; patch edits smaller files");
  if (has_nul(*content)) {
    throw ToolError(in_quotes(shown) +
                    " looks like a binary file (it has NUL bytes); patch edits "
                    "text files only");
  }
  return std::move(*content);
}

std::string patch_impl(const std::string& root, const json& args) {
  require_object(args, "patch");
  const std::string path = path_arg(args, "patch");
  const std::string from = need_string(args, "patch", "old_string");
  const std::string to = need_string(args, "patch", "new_string");
  const bool replace_all = bool_arg(args, "patch", "replace_all");
  if (from.empty()) {
    throw ToolError(
        "patch: 'old_string' is empty; give the exact text to replace (write_file "
        "creates or overwrites a whole file)");
  }
  if (from == to) throw ToolError("patch: 'old_string' and 'new_string' are the same");
  const Session session(root);
  const Place place = locate(session, session.relative(path), path, false);
  if (!place.existing) {
    throw ToolError(in_quotes(path) +
                    " does not exist in the workspace; use write_file to create it");
  }
  const std::string content = read_for_patch(session, place, path);
  const Edit edit = plan_edit(content, from, to);
  if (edit.count == 0) throw not_found(path, content, from);
  if (edit.count > 1 && !replace_all) {
    throw ToolError("'old_string' occurs " + std::to_string(edit.count) + " times in " +
                    in_quotes(path) +
                    "; include more of the surrounding text so it matches exactly once, or set "
                    "replace_all=true to replace every occurrence");
  }
  replace_atomically(place, replace_every(content, edit.from, edit.to), path);
  return "replaced " + std::to_string(edit.count) + " occurrence(s) in " + path;
}

// ---------------------------------------------------------------------------------------------
// list_files

struct Listing {
  std::int64_t max = 0;
  bool recursive = false;
  std::vector<std::string> lines;
  bool capped = false;
};

void list_dir(Listing& listing, int dirfd, const std::string& prefix, const std::string& shown,
              int depth) {
  for (const Entry& entry : read_entries(dirfd, shown)) {
    if (static_cast<std::int64_t>(listing.lines.size()) >= listing.max) {
      listing.capped = true;
      return;
    }
    const std::string rel = prefix + entry.name;
    if (entry.kind != Kind::dir) {
      listing.lines.push_back(entry.kind == Kind::link ? rel + " -> " + read_link(dirfd, entry.name)
                                                       : rel);
      continue;
    }
    listing.lines.push_back(rel + "/");
    // .git holds thousands of objects nobody asked for; the depth cap bounds open descriptors.
    if (!listing.recursive || entry.name == ".git" || depth >= kMaxDepth) continue;
    const Fd sub = open_subdir(dirfd, entry.name);
    if (sub.get() >= 0) list_dir(listing, sub.get(), rel + "/", shown, depth + 1);
    if (listing.capped) return;
  }
}

std::string list_files_impl(const std::string& root, const json& args) {
  require_object(args, "list_files");
  const std::string path = path_arg(args, "list_files", ".");
  Listing listing;
  listing.max = count_arg(args, "list_files", "max", kDefaultListMax);
  listing.recursive = bool_arg(args, "list_files", "recursive");
  const Session session(root);
  const Fd fd = session.open(session.relative(path), O_RDONLY | O_NONBLOCK | O_NOCTTY, path);
  if (!S_ISDIR(stat_fd(fd.get(), path).st_mode)) {
    throw ToolError(in_quotes(path) + " is not a directory; use read_file to read a file");
  }
  list_dir(listing, fd.get(), "", path, 0);
  if (listing.lines.empty()) return in_quotes(path) + " is an empty directory";
  std::string out;
  for (const std::string& line : listing.lines) out += line + "\n";
  if (listing.capped) {
    out += "... listing stopped at " + std::to_string(listing.max) +
           " entries; list a subdirectory or pass a larger max";
  } else {
    out.pop_back();
  }
  return providers::valid_utf8(out);
}

// ---------------------------------------------------------------------------------------------
// search_files

struct Search {
  std::string pattern;
  std::optional<std::regex> regex;  // unset: plain-text search for `pattern`
  std::string glob;
  std::int64_t max = 0;
  std::string base;  // what goes before paths below the searched directory
  std::vector<std::string> hits;
  bool capped = false;
  bool timed_out = false;
  std::size_t binary = 0, big = 0, long_lines = 0;
  std::chrono::steady_clock::time_point deadline =
      std::chrono::steady_clock::now() + kSearchTimeBudget;
};

Search make_search(const json& args) {
  Search search;
  search.pattern = need_string(args, "search_files", "pattern");
  if (search.pattern.empty()) throw ToolError("search_files: 'pattern' is empty");
  if (!bool_arg(args, "search_files", "fixed")) {
    try {
      search.regex.emplace(search.pattern, std::regex::ECMAScript);
    } catch (const std::regex_error& e) {
      throw ToolError("search_files: 'pattern' " + in_quotes(search.pattern) +
                      " is not a valid regular expression (" + e.what() +
                      "); fix it, or pass fixed=true to search for the plain text");
    }
  }
  search.glob = opt_string(args, "search_files", "glob").value_or("");
  search.max = count_arg(args, "search_files", "max_results", kDefaultSearchMax);
  return search;
}

bool line_matches(Search& search, std::string_view line) {
  if (!search.regex) return line.find(search.pattern) != std::string_view::npos;
  // libstdc++'s regex backtracks recursively: a very long line can take forever or overflow
  // the stack, so such lines are left out (and counted in the report).
  if (line.size() > kRegexLineMax) {
    ++search.long_lines;
    return false;
  }
  try {
    return std::regex_search(line.begin(), line.end(), *search.regex);
  } catch (const std::regex_error&) {
    return false;  // the matcher's own complexity limit
  }
}

void search_text(Search& search, std::string_view text, const std::string& shown) {
  std::size_t number = 0;
  for (std::size_t start = 0; start < text.size();) {
    std::size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view line = without_cr(text.substr(start, end - start));
    ++number;
    start = end + 1;
    // A line can cost the regex seconds; the budget keeps a whole search bounded.
    if (std::chrono::steady_clock::now() > search.deadline) {
      search.timed_out = true;
      return;
    }
    if (!line_matches(search, line)) continue;
    if (static_cast<std::int64_t>(search.hits.size()) >= search.max) {
      search.capped = true;
      return;
    }
    std::string cut = providers::truncate_utf8(line, kSearchLineCut);
    if (cut.size() < line.size()) cut += " [...]";
    search.hits.push_back(shown + ":" + std::to_string(number) + ": " + cut);
  }
}

void search_file(Search& search, int fd, const std::string& shown) {
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) return;
  std::optional<std::string> content;
  try {
    if (static_cast<std::uint64_t>(st.st_size) <= kSearchFileMaxBytes) {
      content = read_all(fd, kSearchFileMaxBytes, shown);
    }
  } catch (const ToolError&) {
    return;  // unreadable: search the rest
  }
  if (!content) {
    ++search.big;
  } else if (has_nul(*content)) {
    ++search.binary;
  } else {
    search_text(search, *content, shown);
  }
}

bool glob_matches(const Search& search, const std::string& name, const std::string& below) {
  if (search.glob.empty()) return true;
  if (search.glob.find('/') != std::string::npos) {
    return ::fnmatch(search.glob.c_str(), below.c_str(), FNM_PATHNAME) == 0;
  }
  return ::fnmatch(search.glob.c_str(), name.c_str(), 0) == 0;
}

void search_dir(Search& search, int dirfd, const std::string& below, int depth) {
  const std::string here = search.base + below;
  for (const Entry& entry : read_entries(dirfd, here.empty() ? "." : here)) {
    if (search.capped || search.timed_out) return;
    const std::string rel = below + entry.name;
    if (entry.kind == Kind::dir && entry.name != ".git" && depth < kMaxDepth) {
      const Fd sub = open_subdir(dirfd, entry.name);
      if (sub.get() >= 0) search_dir(search, sub.get(), rel + "/", depth + 1);
    } else if (entry.kind == Kind::file && glob_matches(search, entry.name, rel)) {
      const Fd file(
          openat2_fd(dirfd, entry.name, O_RDONLY | O_NONBLOCK | O_NOCTTY, 0, kBeneathNoLinks));
      if (file.get() >= 0) search_file(search, file.get(), search.base + rel);
    }
  }
}

std::string search_report(const Search& search, const std::string& shown) {
  std::string out;
  for (const std::string& hit : search.hits) out += hit + "\n";
  if (out.empty())
    out = "no matches for " + in_quotes(search.pattern) + " in " + in_quotes(shown) + "\n";
  if (search.timed_out) {
    out += "... search stopped after " + std::to_string(kSearchTimeBudget.count()) +
           " s; narrow the path, glob or pattern\n";
  }
  if (search.capped) {
    out += "... stopped at " + std::to_string(search.max) +
           " matches; narrow the pattern, path or glob, or raise max_results\n";
  }
  std::vector<std::string> skipped;
  if (search.binary > 0) skipped.push_back(std::to_string(search.binary) + " binary file(s)");
  if (search.big > 0) skipped.push_back(std::to_string(search.big) + " file(s) over 2 MB");
  if (!skipped.empty()) {
    out += "(skipped " + skipped.front() + (skipped.size() > 1 ? " and " + skipped.back() : "") +
           ")\n";
  }
  if (search.long_lines > 0) {
    out += "(" + std::to_string(search.long_lines) + " line(s) longer than " +
           std::to_string(kRegexLineMax) + " characters were not searched)\n";
  }
  out.pop_back();
  return providers::valid_utf8(out);
}

// Where the results' paths start: the searched directory relative to the workspace.
std::string dir_prefix(std::string rel) {
  while (rel.size() > 1 && rel.back() == '/') rel.pop_back();
  return rel == "." ? "" : rel + "/";
}

// libstdc++'s regex matcher recurses at least once per character, so a 10 000-character line
// can need more stack than a thread usually has (8 MB): the search runs on a thread of its own
// with a large stack, of which only the touched pages take memory.
template <typename Fn>
std::string on_big_stack(Fn&& fn) {
  struct Job {
    Fn* fn;
    std::string out;
    std::exception_ptr error;
  } job{&fn, {}, nullptr};
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setstacksize(&attr, kSearchStackBytes);
  pthread_t thread;
  const int err = pthread_create(
      &thread, &attr,
      [](void* arg) -> void* {
        auto* running = static_cast<Job*>(arg);
        try {
          running->out = (*running->fn)();
        } catch (...) {
          running->error = std::current_exception();
        }
        return nullptr;
      },
      &job);
  pthread_attr_destroy(&attr);
  if (err != 0) throw ToolError("search_files cannot start its search thread: " + os_error(err));
  pthread_join(thread, nullptr);
  if (job.error) std::rethrow_exception(job.error);
  return std::move(job.out);
}

std::string search_files_impl(const std::string& root, const json& args) {
  require_object(args, "search_files");
  Search search = make_search(args);
  const std::string path = path_arg(args, "search_files", ".");
  const Session session(root);
  const std::string rel = session.relative(path);
  const Fd fd = session.open(rel, O_RDONLY | O_NONBLOCK | O_NOCTTY, path);
  const struct stat st = stat_fd(fd.get(), path);
  if (S_ISDIR(st.st_mode)) {
    search.base = dir_prefix(rel);
    search_dir(search, fd.get(), "", 0);
  } else if (S_ISREG(st.st_mode)) {
    search_file(search, fd.get(), rel);
  } else {
    throw ToolError(in_quotes(path) + " is neither a file nor a directory");
  }
  return search_report(search, path);
}

}  // namespace

Workspace::Workspace(std::string root) : root_(std::move(root)) {
  if (root_.empty()) return;
  try {
    root_ = std::filesystem::absolute(root_).lexically_normal().string();
  } catch (...) {
    // No working directory to anchor a relative root to: keep it as given.
  }
  while (root_.size() > 1 && root_.back() == '/') root_.pop_back();
}

FileToolResult Workspace::read_file(const json& args) const {
  return guarded("read_file", [&] { return read_file_impl(root_, args); });
}

FileToolResult Workspace::write_file(const json& args) const {
  return guarded("write_file", [&] { return write_file_impl(root_, args); });
}

FileToolResult Workspace::patch(const json& args) const {
  return guarded("patch", [&] { return patch_impl(root_, args); });
}

FileToolResult Workspace::list_files(const json& args) const {
  return guarded("list_files", [&] { return list_files_impl(root_, args); });
}

FileToolResult Workspace::search_files(const json& args) const {
  return guarded("search_files",
                 [&] { return on_big_stack([&] { return search_files_impl(root_, args); }); });
}

}  // namespace hermes::daemon::builtin
