#include "common/environment.hpp"

#include <cctype>
#include <fstream>
#include <sstream>

#include "common/ascii_case.hpp"

extern char** environ;

namespace hermes {

namespace {

bool is_name_char(char c, bool first) {
  const auto u = static_cast<unsigned char>(c);
  return c == '_' || std::isalpha(u) || (!first && std::isdigit(u));
}

bool is_valid_name(std::string_view name) {
  if (name.empty()) return false;
  for (std::size_t i = 0; i < name.size(); ++i) {
    if (!is_name_char(name[i], i == 0)) return false;
  }
  return true;
}

}  // namespace

std::optional<std::string> Environment::get(std::string_view name) const {
  if (auto it = vars_.find(name); it != vars_.end()) return it->second;
  return std::nullopt;
}

Environment Environment::from_process(const std::filesystem::path& env_file,
                                      std::vector<std::string>& warnings) {
  Environment env;
  for (char** entry = environ; entry && *entry; ++entry) {
    std::string_view kv(*entry);
    if (auto eq = kv.find('='); eq != std::string_view::npos) {
      env.set(std::string(kv.substr(0, eq)), std::string(kv.substr(eq + 1)));
    }
  }
  std::error_code ec;
  if (std::filesystem::exists(env_file, ec)) {
    std::ifstream in(env_file);
    if (!in) {
      warnings.push_back(env_file.string() + ": cannot be read; its variables are not available");
      return env;
    }
    std::stringstream buffer;
    buffer << in.rdbuf();
    for (auto& [name, value] : parse_dotenv(buffer.str(), env_file.string(), warnings)) {
      env.set_default(std::move(name), std::move(value));
    }
  }
  return env;
}

std::vector<std::pair<std::string, std::string>> parse_dotenv(std::string_view text,
                                                              std::string_view file_name,
                                                              std::vector<std::string>& warnings) {
  std::vector<std::pair<std::string, std::string>> result;
  std::size_t line_number = 0;
  while (!text.empty()) {
    ++line_number;
    const auto newline = text.find('\n');
    std::string_view line = trim_space(text.substr(0, newline));
    text = newline == std::string_view::npos ? std::string_view{} : text.substr(newline + 1);
    if (line.empty() || line.front() == '#') continue;
    if (line.starts_with("export ")) line = trim_space(line.substr(7));

    const auto eq = line.find('=');
    const auto name = eq == std::string_view::npos ? line : trim_space(line.substr(0, eq));
    if (eq == std::string_view::npos || !is_valid_name(name)) {
      // The line may hold a secret: report where it is, never what it says.
      warnings.push_back(std::string(file_name) + ":" + std::to_string(line_number) +
                         ": expected NAME=value; line skipped");
      continue;
    }
    std::string_view value = trim_space(line.substr(eq + 1));
    if (value.size() >= 2 && (value.front() == '"' || value.front() == '\'') &&
        value.back() == value.front()) {
      value = value.substr(1, value.size() - 2);
    } else if (auto hash = value.find(" #"); hash != std::string_view::npos) {
      value = trim_space(value.substr(0, hash));  // inline comment after an unquoted value
    }
    result.emplace_back(std::string(name), std::string(value));
  }
  return result;
}

ExpansionResult expand_variables(std::string_view text, const Environment& env) {
  ExpansionResult out;
  out.value.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c != '$' || i + 1 >= text.size()) {
      out.value += c;
      continue;
    }
    if (text[i + 1] == '$') {
      out.value += '$';
      ++i;
      continue;
    }
    if (text[i + 1] != '{') {
      out.value += c;
      continue;
    }
    const auto close = text.find('}', i + 2);
    if (close == std::string_view::npos) {
      out.error = "unclosed \"${\" (write $$ for a literal $)";
      return out;
    }
    const auto name = text.substr(i + 2, close - i - 2);
    if (!is_valid_name(name)) {
      out.error = "\"${" + std::string(name) + "}\" is not a valid variable name";
      return out;
    }
    if (auto value = env.get(name)) {
      out.value += *value;
    } else {
      out.unset.emplace_back(name);
    }
    i = close;
  }
  return out;
}

}  // namespace hermes
