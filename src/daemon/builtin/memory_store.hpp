#pragma once

#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>

namespace hermes::daemon::builtin {

// The memory tool's two stores: the agent's own notes (one file) and what it knows about each
// platform user (a file per user, so one person's facts never reach another's chat). Entries
// are paragraphs separated by a line with "§" alone; files are plain text the user may edit.
inline constexpr std::size_t kNotesLimit = 2200;  // characters (code points)
inline constexpr std::size_t kUserLimit = 1375;

enum class MemoryAction { add, replace, remove };

struct MemoryEdit {
  bool ok = false;
  std::string text;     // the store after the edit (when ok)
  std::string message;  // for the model: what changed, or why nothing did
};

// The edit itself, pure: `old_text` picks the entry to replace or remove (a unique substring
// of one entry); the result over `limit` characters is refused, saying how much is used.
MemoryEdit edit_memory(std::string_view store, MemoryAction action, std::string_view content,
                       std::string_view old_text, std::size_t limit, std::string_view store_name);

// Characters as the limits count them: UTF-8 code points.
std::size_t code_points(std::string_view text);

// "telegram-42" from a platform and its user id; characters other than letters, digits, '-'
// and '_' become '_' (the key is a file name).
std::string user_key(std::string_view platform, std::string_view user_id);

// The files under <home>/memories: MEMORY.md, users/<user key>.md.
class MemoryFiles {
 public:
  explicit MemoryFiles(std::filesystem::path home);
  std::filesystem::path notes_file() const;
  std::filesystem::path user_file(const std::string& user_key) const;
  // The block for a session's system prompt ("" when both stores are empty).
  std::string prompt_block(const std::string& user_key) const;
  // The memory tool's call (its arguments as JSON text): the sentence for the model, starting
  // "Error: " when nothing was changed.
  std::string apply(std::string_view arguments, const std::string& user_key) const;

 private:
  std::filesystem::path dir_;
};

}  // namespace hermes::daemon::builtin
