#include "daemon/dashboard/session_browser.hpp"

#include <algorithm>
#include <cctype>

#include "daemon/providers/text_util.hpp"
#include "daemon/state/sql_connection.hpp"

namespace hermes::daemon::dashboard {

namespace {

// Statements are cached by their text, so each is one literal. The sessions are chosen first
// (newest, or matching), and only those few are counted and titled. No index on updated_at:
// its upkeep would cost every turn 2.6 % more instructions; the recent ones are known in
// memory instead (TurnRunner::recent_sessions) and read by their keys.
#define HERMES_SESSION_COLUMNS                                                                 \
  "SELECT s.id, s.platform, s.created_at, s.updated_at, "                                      \
  "(SELECT COUNT(*) FROM messages m WHERE m.session_id = s.id), "                              \
  "COALESCE((SELECT m.content FROM messages m WHERE m.session_id = s.id AND m.role = "         \
  "'user' ORDER BY m.id LIMIT 1), '') FROM (SELECT id, platform, created_at, updated_at FROM " \
  "sessions "
// ESCAPE '!': the same in both dialects (a backslash depends on PostgreSQL's settings).
constexpr const char* kRecentMatching = HERMES_SESSION_COLUMNS
    "WHERE EXISTS (SELECT 1 FROM messages m WHERE m.session_id = sessions.id AND "
    "LOWER(m.content) LIKE ? ESCAPE '!') ORDER BY updated_at DESC LIMIT ?) s "
    "ORDER BY s.updated_at DESC";
constexpr const char* kOne = HERMES_SESSION_COLUMNS "WHERE id = ?) s";
#undef HERMES_SESSION_COLUMNS
// The newest kTranscriptMessages, oldest first.
constexpr const char* kMessages =
    "SELECT role, content, tool_calls, tool_call_id FROM (SELECT id, role, content, "
    "tool_calls, tool_call_id FROM messages WHERE session_id = ? ORDER BY id DESC LIMIT ?) "
    "newest ORDER BY id";

SessionRow row_at(state::Statement& row) {
  std::string title = row.text(5);
  std::replace(title.begin(), title.end(), '\n', ' ');
  if (title.size() > SessionBrowser::kTitleBytes) {
    title = providers::truncate_utf8(title, SessionBrowser::kTitleBytes) + "…";
  }
  return {row.text(0), row.text(1), row.real(2), row.real(3), row.integer(4), std::move(title)};
}

std::string ascii_lower(std::string text) {
  for (auto& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

}  // namespace

std::string like_escaped(std::string_view text) {
  std::string out;
  for (const char c : text) {
    if (c == '%' || c == '_' || c == '!') out += '!';
    out += c;
  }
  return out;
}

std::vector<SessionRow> SessionBrowser::matching(const std::string& query, long long limit) {
  std::vector<SessionRow> rows;
  const std::string pattern = "%" + like_escaped(ascii_lower(query)) + "%";  // outlives step
  auto statement = db_.prepare(kRecentMatching);
  statement.bind(1, pattern).bind(2, limit);
  while (statement.step()) rows.push_back(row_at(statement));
  return rows;
}

std::vector<SessionRow> SessionBrowser::rows(const std::vector<std::string>& ids) {
  std::vector<SessionRow> rows;
  for (const auto& id : ids) {
    auto one = db_.prepare(kOne);
    one.bind(1, id);
    if (one.step()) rows.push_back(row_at(one));
  }
  return rows;
}

std::vector<std::string> SessionBrowser::newest_ids(long long limit) {
  auto query = db_.prepare("SELECT id FROM sessions ORDER BY updated_at DESC LIMIT ?");
  query.bind(1, limit);
  std::vector<std::string> ids;
  while (query.step()) ids.push_back(query.text(0));
  return ids;
}

std::optional<SessionTranscript> SessionBrowser::transcript(const std::string& id) {
  auto one = db_.prepare(kOne);
  one.bind(1, id);
  if (!one.step()) return std::nullopt;
  SessionTranscript out{row_at(one), {}};
  auto messages = db_.prepare(kMessages);
  messages.bind(1, id).bind(2, kTranscriptMessages);
  while (messages.step()) {
    out.messages.push_back(
        {messages.text(0), messages.text(1), messages.text(2), messages.text(3)});
  }
  return out;
}

}  // namespace hermes::daemon::dashboard
