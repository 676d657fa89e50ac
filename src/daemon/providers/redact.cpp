#include "daemon/providers/redact.hpp"

#include <array>
#include <cctype>

#include "common/secrets.hpp"
#include "daemon/providers/text_util.hpp"

namespace hermes::providers {

namespace {

using namespace std::string_view_literals;

// Longest prefixes first, so "sk-ant-" wins over "sk-".
constexpr std::array kKeyPrefixes = {
    "sk-ant-"sv,  "sk-proj-"sv, "sk-or-"sv, "github_pat_"sv, "glpat-"sv, "xapp-"sv,    "xoxb-"sv,
    "xoxp-"sv,    "xoxa-"sv,    "xoxr-"sv,  "xoxs-"sv,       "ghp_"sv,   "gho_"sv,     "ghu_"sv,
    "ghs_"sv,     "ghr_"sv,     "xai-"sv,   "gsk_"sv,        "hf_"sv,    "sk_live_"sv, "sk_test_"sv,
    "rk_live_"sv, "AKIA"sv,     "AIza"sv,   "sk-"sv};

// Words that, as part of a field name, mark its value as secret.
constexpr std::array kSecretNameParts = {
    "key"sv,           "apikey"sv,    "token"sv,      "secret"sv,      "password"sv,
    "passwd"sv,        "pwd"sv,       "credential"sv, "credentials"sv, "auth"sv,
    "authorization"sv, "signature"sv, "sig"sv};

constexpr std::size_t kMinSecretChars = 8;  // after the prefix; shorter is not a key

bool is_token_char(char c) {
  const auto u = static_cast<unsigned char>(c);
  return std::isalnum(u) || c == '-' || c == '_' || c == '.' || c == '~' || c == '+' || c == '/' ||
         c == '=';
}

bool is_key_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
}

bool is_word_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
}

std::size_t key_body_length(std::string_view text, std::size_t from) {
  std::size_t end = from;
  while (end < text.size() && is_key_char(text[end])) ++end;
  return end - from;
}

// A field name is secret when one of its parts (split on _ and -) is a secret word, or a
// camelCase name ends in one ("apiKey", "accessToken").
bool is_secret_name(std::string_view name) {
  const auto lower = ascii_lower(name);
  std::size_t start = 0;
  while (start <= lower.size()) {
    auto end = lower.find_first_of("_-", start);
    if (end == std::string::npos) end = lower.size();
    const std::string_view part(lower.data() + start, end - start);
    for (auto word : kSecretNameParts) {
      if (part == word) return true;
    }
    start = end + 1;
  }
  for (auto suffix : {"key"sv, "token"sv, "secret"sv, "password"sv}) {
    if (lower.size() > suffix.size() && lower.ends_with(suffix)) return true;
  }
  return false;
}

// Telegram bot tokens: <digits>:<35 url-safe chars>, often inside /bot<token>/ URLs.
std::size_t telegram_token_length(std::string_view text, std::size_t at) {
  std::size_t p = at;
  while (p < text.size() && std::isdigit(static_cast<unsigned char>(text[p]))) ++p;
  if (p - at < 6 || p >= text.size() || text[p] != ':') return 0;
  const std::size_t tail = key_body_length(text, p + 1);
  return tail >= 30 ? p + 1 + tail - at : 0;
}

class Redactor {
 public:
  explicit Redactor(std::string_view text) : text_(text) { out_.reserve(text.size()); }

  std::string run() {
    while (pos_ < text_.size()) {
      if (at_number_start() && telegram_token()) continue;
      if (at_word_start() && (vendor_key() || bearer() || named_secret())) continue;
      out_ += text_[pos_++];
    }
    return std::move(out_);
  }

 private:
  // Telegram tokens often follow "bot" in URLs (/bot123:ABC…), so letters may precede them.
  bool at_number_start() const {
    return pos_ == 0 || !std::isdigit(static_cast<unsigned char>(text_[pos_ - 1]));
  }
  bool at_word_start() const { return pos_ == 0 || !is_word_char(text_[pos_ - 1]); }

  bool vendor_key() {
    for (auto prefix : kKeyPrefixes) {
      if (text_.substr(pos_, prefix.size()) != prefix) continue;
      const auto body = key_body_length(text_, pos_ + prefix.size());
      if (body < kMinSecretChars) return false;
      out_ += prefix;
      out_ += kRedacted;
      pos_ += prefix.size() + body;
      return true;
    }
    return false;
  }

  // `Bearer <token>` and `Basic <credentials>`, as in Authorization headers.
  bool bearer() {
    std::size_t scheme_length = 0;
    for (auto scheme : {"bearer"sv, "basic"sv}) {
      if (text_.size() - pos_ > scheme.size() &&
          ascii_lower(text_.substr(pos_, scheme.size())) == scheme) {
        scheme_length = scheme.size();
      }
    }
    if (scheme_length == 0) return false;
    std::size_t p = pos_ + scheme_length;
    if (text_[p] != ' ' && text_[p] != '\t') return false;
    while (p < text_.size() && (text_[p] == ' ' || text_[p] == '\t')) ++p;
    std::size_t end = p;
    while (end < text_.size() && is_token_char(text_[end])) ++end;
    if (end - p < kMinSecretChars) return false;
    out_.append(text_.substr(pos_, p - pos_));
    out_ += kRedacted;
    pos_ = end;
    return true;
  }

  bool telegram_token() {
    const auto length = telegram_token_length(text_, pos_);
    if (length == 0) return false;
    out_ += kRedacted;
    pos_ += length;
    return true;
  }

  // name=value, name: value, "name": "value" (JSON), with the name a secret one.
  bool named_secret() {
    std::size_t p = pos_;
    while (p < text_.size() && (is_word_char(text_[p]) || text_[p] == '-')) ++p;
    const auto name = text_.substr(pos_, p - pos_);
    if (name.empty() || !is_secret_name(name)) return false;
    std::size_t q = p;
    if (q < text_.size() && (text_[q] == '"' || text_[q] == '\'')) ++q;
    while (q < text_.size() && text_[q] == ' ') ++q;
    if (q >= text_.size() || (text_[q] != '=' && text_[q] != ':')) return false;
    ++q;
    while (q < text_.size() && text_[q] == ' ') ++q;
    char quote = 0;
    if (q < text_.size() && (text_[q] == '"' || text_[q] == '\'')) quote = text_[q++];
    std::size_t end = q;
    if (quote) {
      while (end < text_.size() && text_[end] != quote && text_[end] != '\n') ++end;
    } else {
      while (end < text_.size() && !std::isspace(static_cast<unsigned char>(text_[end])) &&
             text_[end] != '&' && text_[end] != ',' && text_[end] != ';' && text_[end] != '}' &&
             text_[end] != ')') {
        ++end;
      }
    }
    const auto value = text_.substr(q, end - q);
    // Leave non-secrets alone: empty values, numbers, booleans and nulls.
    const auto lower_value = ascii_lower(value);
    if (lower_value == "bearer" || lower_value == "basic") return false;  // bearer() masks it
    if (value.empty() || value == kRedacted || value == "null" || value == "true" ||
        value == "false" || value.find_first_not_of("0123456789") == std::string_view::npos) {
      return false;
    }
    out_.append(text_.substr(pos_, q - pos_));
    out_ += kRedacted;
    pos_ = end;
    return true;
  }

  std::string_view text_;
  std::string out_;
  std::size_t pos_ = 0;
};

}  // namespace

std::string redact(std::string_view text) {
  // The configured secrets by value, then the shapes of secrets nobody configured here.
  const std::string masked = mask_known_secrets(text);
  return Redactor(masked).run();
}

}  // namespace hermes::providers
