#include "daemon/builtin/memory_store.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <variant>
#include <vector>

namespace hermes::daemon::builtin {

namespace {

constexpr std::string_view kSeparator = "\n§\n";
constexpr std::size_t kMaxFileBytes = 64 * 1024;  // a file the user grew by hand is cut here

std::vector<std::string> entries_of(std::string_view store) {
  std::vector<std::string> entries;
  while (!store.empty()) {
    const auto end = store.find(kSeparator);
    auto entry = store.substr(0, end);
    while (!entry.empty() && (entry.back() == '\n' || entry.back() == ' ')) entry.remove_suffix(1);
    while (!entry.empty() && (entry.front() == '\n' || entry.front() == ' ')) {
      entry.remove_prefix(1);
    }
    if (!entry.empty()) entries.emplace_back(entry);
    if (end == std::string_view::npos) break;
    store.remove_prefix(end + kSeparator.size());
  }
  return entries;
}

std::string joined(const std::vector<std::string>& entries) {
  std::string text;
  for (const auto& entry : entries) {
    if (!text.empty()) text += kSeparator;
    text += entry;
  }
  return text;
}

std::string usage_of(std::size_t used, std::size_t limit) {
  return std::to_string(used) + " of " + std::to_string(limit) + " characters";
}

// The one entry holding `old_text`; its index, or an error message.
std::variant<std::size_t, std::string> entry_with(const std::vector<std::string>& entries,
                                                  std::string_view old_text,
                                                  std::string_view store_name) {
  if (old_text.empty()) {
    return "old_text is required: a part of the entry to change, as it is written";
  }
  std::vector<std::size_t> found;
  for (std::size_t i = 0; i < entries.size(); ++i) {
    if (entries[i].find(old_text) != std::string::npos) found.push_back(i);
  }
  if (found.empty()) return "no entry of " + std::string(store_name) + " contains that old_text";
  if (found.size() > 1) {
    return std::to_string(found.size()) + " entries of " + std::string(store_name) +
           " contain that old_text; give more of the entry so it names one";
  }
  return found.front();
}

// Read at every new session's start (mostly a file that does not exist): a plain open, no
// stream and its locale.
std::string read_file(const std::filesystem::path& file) {
  const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return {};
  std::string text;
  char buffer[4096];
  for (ssize_t n; text.size() < kMaxFileBytes && (n = ::read(fd, buffer, sizeof buffer)) > 0;) {
    text.append(buffer, static_cast<std::size_t>(n));
  }
  ::close(fd);
  if (text.size() > kMaxFileBytes) text.resize(kMaxFileBytes);
  return text;
}

// Written whole to a temporary file and renamed over the old one: a crash leaves either.
bool write_file(const std::filesystem::path& file, const std::string& text) {
  std::error_code ec;
  std::filesystem::create_directories(file.parent_path(), ec);
  const auto temporary = file.string() + ".tmp";
  const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return false;
  std::size_t written = 0;
  while (written < text.size()) {
    const auto n = ::write(fd, text.data() + written, text.size() - written);
    if (n <= 0) break;
    written += static_cast<std::size_t>(n);
  }
  const bool ok = written == text.size() && ::fsync(fd) == 0;
  ::close(fd);
  return ok && ::rename(temporary.c_str(), file.c_str()) == 0;
}

}  // namespace

std::size_t code_points(std::string_view text) {
  std::size_t count = 0;
  for (const char c : text) count += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return count;
}

MemoryEdit edit_memory(std::string_view store, MemoryAction action, std::string_view content,
                       std::string_view old_text, std::size_t limit, std::string_view store_name) {
  auto entries = entries_of(store);
  MemoryEdit edit;
  if (action != MemoryAction::remove && entries_of(content).size() != 1) {
    edit.message = content.find(kSeparator) == std::string_view::npos
                       ? "content is required: the text of the entry"
                       : "content is one entry; it may not contain a line with § alone";
    return edit;
  }
  if (action == MemoryAction::add) {
    entries.emplace_back(entries_of(content).front());
  } else {
    auto which = entry_with(entries, old_text, store_name);
    if (auto* why = std::get_if<std::string>(&which)) {
      edit.message = std::move(*why);
      return edit;
    }
    const auto index = std::get<std::size_t>(which);
    if (action == MemoryAction::replace) {
      entries[index] = entries_of(content).front();
    } else {
      entries.erase(entries.begin() + static_cast<std::ptrdiff_t>(index));
    }
  }
  auto text = joined(entries);
  const auto used = code_points(text);
  if (used > limit) {
    edit.message = std::string(store_name) + " would hold " + usage_of(used, limit) +
                   ", over its limit; nothing was saved. Replace or remove an entry first, or "
                   "say it shorter";
    return edit;
  }
  edit.ok = true;
  edit.message = "Saved to " + std::string(store_name) + " (" + usage_of(used, limit) +
                 " used). It is in the system prompt of the next session.";
  edit.text = std::move(text);
  return edit;
}

std::string user_key(std::string_view platform, std::string_view user_id) {
  std::string key = std::string(platform) + "-" + std::string(user_id);
  for (char& c : key) {
    const bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                       c == '-' || c == '_';
    if (!plain) c = '_';
  }
  return key;
}

MemoryFiles::MemoryFiles(std::filesystem::path home) : dir_(std::move(home) / "memories") {}

std::filesystem::path MemoryFiles::notes_file() const {
  return dir_ / "MEMORY.md";
}

std::filesystem::path MemoryFiles::user_file(const std::string& key) const {
  return dir_ / "users" / (key + ".md");
}

std::string MemoryFiles::prompt_block(const std::string& key) const {
  const auto notes = joined(entries_of(read_file(notes_file())));
  std::string user;
  if (!key.empty()) user = joined(entries_of(read_file(user_file(key))));
  if (notes.empty() && user.empty()) return {};
  std::string block =
      "# Memory (saved by the memory tool in earlier sessions; fixed for this session)";
  if (!notes.empty()) block += "\n\n## Your notes\n" + notes;
  if (!user.empty()) block += "\n\n## About this user\n" + user;
  return block;
}

std::string MemoryFiles::apply(std::string_view arguments, const std::string& key) const {
  const auto args = nlohmann::json::parse(arguments, nullptr, false);
  if (!args.is_object()) return "Error: the arguments are not a JSON object";
  const auto text_of = [&args](const char* field) {
    const auto it = args.find(field);
    return it != args.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  const auto action_name = text_of("action");
  const auto target = text_of("target");
  MemoryAction action = MemoryAction::add;
  if (action_name == "replace") {
    action = MemoryAction::replace;
  } else if (action_name == "remove") {
    action = MemoryAction::remove;
  } else if (action_name != "add") {
    return "Error: action is add, replace or remove";
  }
  if (target != "notes" && target != "user") return "Error: target is notes or user";
  if (target == "user" && key.empty()) {
    return "Error: this conversation has no platform user, so there is no user memory here; "
           "use target notes";
  }
  const bool notes = target == "notes";
  const auto file = notes ? notes_file() : user_file(key);
  const auto edit =
      edit_memory(read_file(file), action, text_of("content"), text_of("old_text"),
                  notes ? kNotesLimit : kUserLimit, notes ? "your notes" : "the user's memory");
  if (!edit.ok) return "Error: " + edit.message;
  if (!write_file(file, edit.text)) return "Error: the memory file could not be written";
  return edit.message;
}

}  // namespace hermes::daemon::builtin
