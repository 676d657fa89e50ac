#include "daemon/builtin/session_search.hpp"

#include <ctime>

namespace hermes::daemon::builtin {

namespace {

constexpr std::size_t kMaxWords = 12;
constexpr std::size_t kMaxWordBytes = 64;

bool word_byte(unsigned char c) {
  return c >= 0x80 || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

std::string utc_date(double unix_seconds) {
  const auto t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%d %H:%M UTC", &tm);
  return text;
}

}  // namespace

std::vector<std::string> search_words(std::string_view query) {
  std::vector<std::string> words;
  std::string word;
  const auto flush = [&] {
    if (!word.empty() && words.size() < kMaxWords) words.push_back(word.substr(0, kMaxWordBytes));
    word.clear();
  };
  for (const char c : query) {
    if (word_byte(static_cast<unsigned char>(c))) {
      word += c;
    } else {
      flush();
    }
  }
  flush();
  return words;
}

std::string search_result_text(std::string_view query, const std::vector<MessageHit>& hits) {
  if (hits.empty()) {
    return "No earlier session with this user mentions \"" + std::string(query.substr(0, 200)) +
           "\".";
  }
  std::string text = std::to_string(hits.size()) + " match(es), best first:";
  for (const auto& hit : hits) {
    std::string snippet = hit.snippet;
    for (char& c : snippet) {
      if (c == '\n' || c == '\r') c = ' ';
    }
    text += "\n- session " + hit.session_id + ", " + utc_date(hit.created_at) + ", " + hit.role +
            ": " + snippet;
  }
  return text;
}

}  // namespace hermes::daemon::builtin
