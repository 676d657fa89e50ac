#pragma once

#include <optional>
#include <string>
#include <vector>

#include "daemon/providers/openai_chat.hpp"

namespace hermes::daemon::state {
class SqlConnection;
}

namespace hermes::daemon::dashboard {

// A stored session as the dashboard lists it.
struct SessionRow {
  std::string id;
  std::string platform;
  double created_at = 0;
  double updated_at = 0;
  long long messages = 0;
  std::string title;  // the first user message, cut short
};

struct SessionTranscript {
  SessionRow session;
  std::vector<providers::ChatMessage> messages;  // every stored one, in order
};

// Reads sessions for the dashboard, read-only, in either backend's SQL. Called on the store
// worker's thread only.
class SessionBrowser {
 public:
  explicit SessionBrowser(state::SqlConnection& db) : db_(db) {}
  // The most recently used sessions with a message containing `query` (case-insensitive for
  // ASCII letters): a search, run when someone types one.
  std::vector<SessionRow> matching(const std::string& query, long long limit);
  std::optional<SessionTranscript> transcript(const std::string& id);
  // The sessions `ids` names, in that order (those no longer stored left out): the recent ones
  // TurnRunner::recent_sessions knows, by their keys.
  std::vector<SessionRow> rows(const std::vector<std::string>& ids);
  // The ids of the `limit` most recently used sessions: a sort of the table, asked once.
  std::vector<std::string> newest_ids(long long limit);

  static constexpr std::size_t kTitleBytes = 80;
  static constexpr long long kTranscriptMessages = 1000;  // the newest ones

 private:
  state::SqlConnection& db_;
};

// `text` for a LIKE pattern with ESCAPE '!': %, _ and ! match themselves.
std::string like_escaped(std::string_view text);

}  // namespace hermes::daemon::dashboard
