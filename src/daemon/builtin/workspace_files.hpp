#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace hermes::daemon::builtin {

struct FileToolResult {
  bool ok = false;
  std::string text;  // the result for the model, or the error sentence when !ok
};

// The agent's built-in file tools, confined to one workspace directory. Every path is resolved
// by the kernel with openat2(RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS) from a descriptor of the
// root, and everything after that works on descriptors, so neither `..`, absolute paths nor
// symlinks (even ones swapped in while a tool runs) reach outside the workspace.
// Blocking: call these on a helper thread, never on the event loop. None of them throws; a
// failure is a sentence for the model in `text` with ok == false.
class Workspace {
 public:
  // Creates nothing; every operation fails with a sentence while the root does not exist.
  explicit Workspace(std::string root);

  // The root as an absolute, normalised path (no trailing '/').
  const std::string& root() const { return root_; }

  // {path, offset? (1-based first line, default 1), limit? (lines, default 2000)}: the lines
  // prefixed "N|", at most 100 KB, saying where it stopped and how to read on. Binary files
  // (a NUL in the first 8 KB) and directories are refused.
  FileToolResult read_file(const nlohmann::json& args) const;

  // {path, content (at most 1 MB)}: creates missing parent directories, writes a temp file in
  // the same directory and renames it over the target (atomic; keeps an existing file's mode).
  FileToolResult write_file(const nlohmann::json& args) const;

  // {path, old_string, new_string, replace_all? = false}: exact-text replacement, written
  // atomically like write_file. Text not found, or found more than once without replace_all,
  // is an error saying what to do instead.
  FileToolResult patch(const nlohmann::json& args) const;

  // {path? = ".", recursive? = false, max? = 500}: sorted entries, directories with a
  // trailing '/', symlinks as "name -> target"; recursion never follows symlinks and does not
  // descend into .git.
  FileToolResult list_files(const nlohmann::json& args) const;

  // {pattern, fixed? = false, path? = ".", glob?, max_results? = 100}: "path:line: text" for
  // each matching line (ECMAScript regex, or plain text when fixed). Skips binary files, files
  // over 2 MB, symlinks and .git; `glob` is matched against the file name (or, when it has a
  // '/', against the path below `path`).
  FileToolResult search_files(const nlohmann::json& args) const;

 private:
  std::string root_;
};

}  // namespace hermes::daemon::builtin
