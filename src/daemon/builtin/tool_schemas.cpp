#include "daemon/builtin/tool_schemas.hpp"

#include <string_view>
#include <utility>
#include <vector>

namespace hermes::daemon::builtin {

namespace {

struct Schema {
  std::string_view name;
  std::string_view json;  // the whole entry
};

constexpr Schema kTerminal{
    "terminal",
    R"json({"type":"function","function":{"name":"terminal","description":"Runs a bash command line in the workspace (the current directory and HOME) inside a sandbox: it can read the system and read and write only the workspace and a private temporary directory ($TMPDIR). Output (stdout and stderr) is returned up to 100 KB with the exit status. Long commands end at the timeout; nothing keeps running after the command ends. Commands that delete outside the workspace, use sudo, force-push or the like wait for the user's approval.","parameters":{"type":"object","properties":{"command":{"type":"string","description":"The command line, as bash -c runs it"}},"required":["command"]}}})json"};

constexpr Schema
    kFiles[] =
        {
            {"read_file",
             R"json({"type":"function","function":{"name":"read_file","description":"Reads a text file of the workspace, its lines numbered (N|text). Paths are relative to the workspace.","parameters":{"type":"object","properties":{"path":{"type":"string"},"offset":{"type":"integer","description":"First line to read, from 1"},"limit":{"type":"integer","description":"How many lines (default 2000)"}},"required":["path"]}}})json"},
            {"write_file",
             R"json({"type":"function","function":{"name":"write_file","description":"Writes a whole file in the workspace (made with its directories, or replaced).","parameters":{"type":"object","properties":{"path":{"type":"string"},"content":{"type":"string"}},"required":["path","content"]}}})json"},
            {"patch",
             R"json({"type":"function","function":{"name":"patch","description":"Replaces exact text in a file of the workspace: old_string must occur exactly once (or set replace_all).","parameters":{"type":"object","properties":{"path":{"type":"string"},"old_string":{"type":"string"},"new_string":{"type":"string"},"replace_all":{"type":"boolean"}},"required":["path","old_string","new_string"]}}})json"},
            {"list_files",
             R"json({"type":"function","function":{"name":"list_files","description":"Lists a directory of the workspace (directories end in /).","parameters":{"type":"object","properties":{"path":{"type":"string","description":"Default: the workspace itself"},"recursive":{"type":"boolean"}}}}})json"},
            {"search_files",
             R"json({"type":"function","function":{"name":"search_files","description":"Searches the contents of the workspace's files with a regular expression; answers path:line: text.","parameters":{"type":"object","properties":{"pattern":{"type":"string"},"path":{"type":"string"},"glob":{"type":"string","description":"Only files whose name matches, e.g. *.py"},"fixed":{"type":"boolean","description":"pattern is plain text, not a regular expression"}},"required":["pattern"]}}})json"},
};

constexpr Schema kWebFetch{
    "web_fetch",
    R"json({"type":"function","function":{"name":"web_fetch","description":"Fetches an http(s) URL (GET, up to 5 redirects) and returns its status, final URL and readable text (HTML reduced to text), up to 100 KB. Addresses on private networks and this machine are refused.","parameters":{"type":"object","properties":{"url":{"type":"string"}},"required":["url"]}}})json"};

constexpr Schema kMemory{
    "memory",
    R"json({"type":"function","function":{"name":"memory","description":"Saves what should be remembered across sessions: target notes (your own notes, at most 2200 characters in all) or user (facts about the person you talk with, at most 1375). Both are in the system prompt of every new session. Entries are added, replaced or removed (old_text: a unique part of the entry).","parameters":{"type":"object","properties":{"action":{"type":"string","enum":["add","replace","remove"]},"target":{"type":"string","enum":["notes","user"]},"content":{"type":"string"},"old_text":{"type":"string"}},"required":["action","target"]}}})json"};

constexpr Schema kSessionSearch{
    "session_search",
    R"json({"type":"function","function":{"name":"session_search","description":"Searches the earlier conversations with this user for words; answers up to ten snippets with their session and date.","parameters":{"type":"object","properties":{"query":{"type":"string","description":"Words that must all occur"}},"required":["query"]}}})json"};

std::vector<Schema> offered(const BuiltinToolsConfig& tools, bool with_sessions) {
  std::vector<Schema> out;
  if (tools.terminal) out.push_back(kTerminal);
  if (tools.files) out.insert(out.end(), std::begin(kFiles), std::end(kFiles));
  if (tools.web_fetch) out.push_back(kWebFetch);
  if (tools.memory) out.push_back(kMemory);
  if (tools.session_search && with_sessions) out.push_back(kSessionSearch);
  return out;
}

}  // namespace

std::string offered_tool_entries(const BuiltinToolsConfig& tools, bool with_sessions) {
  std::string entries;
  for (const auto& schema : offered(tools, with_sessions)) {
    if (!entries.empty()) entries += ',';
    entries += schema.json;
  }
  return entries;
}

std::set<std::string> offered_tool_names(const BuiltinToolsConfig& tools, bool with_sessions) {
  std::set<std::string> names;
  for (const auto& schema : offered(tools, with_sessions)) names.emplace(schema.name);
  return names;
}

}  // namespace hermes::daemon::builtin
