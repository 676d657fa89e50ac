#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace hermes {

// The variables `${VAR}` in config.yaml may name: the process environment first, then
// $HERMES_HOME/.env (a value exported in the shell or by systemd wins over the file).
class Environment {
 public:
  Environment() = default;

  // Reads the process environment and, when present, the dotenv file.
  // Malformed dotenv lines are reported in `warnings` and skipped.
  static Environment from_process(const std::filesystem::path& env_file,
                                  std::vector<std::string>& warnings);

  void set(std::string name, std::string value) { vars_[std::move(name)] = std::move(value); }
  // Sets only when not already set: how dotenv values yield to the process environment.
  void set_default(std::string name, std::string value) {
    vars_.try_emplace(std::move(name), std::move(value));
  }
  std::optional<std::string> get(std::string_view name) const;

 private:
  std::map<std::string, std::string, std::less<>> vars_;
};

// Parses dotenv text: `KEY=value`, optional `export `, '…' or "…" quotes, `#` comments.
// Returns the pairs in order; each malformed line adds a warning naming its line number.
std::vector<std::pair<std::string, std::string>> parse_dotenv(std::string_view text,
                                                              std::string_view file_name,
                                                              std::vector<std::string>& warnings);

struct ExpansionResult {
  std::string value;
  std::vector<std::string> unset;  // names that were referenced but not set (expanded to "")
  std::string error;               // non-empty when the text is malformed (e.g. unclosed "${")
};

// Expands `${NAME}` references; `$$` is a literal `$`. Any other `$` is kept as is.
ExpansionResult expand_variables(std::string_view text, const Environment& env);

}  // namespace hermes
