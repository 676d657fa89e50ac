#include "daemon/state/migrations.hpp"

namespace hermes::daemon::state {

namespace {

// Version 1 is the schema main shipped without a version number (user_version 0); its
// IF NOT EXISTS makes it a no-op on such a database, which then keeps all its rows.
constexpr Migration kSteps[] = {
    {1, "sessions, messages, Telegram inbox, outbox and offsets", R"sql(
CREATE TABLE IF NOT EXISTS sessions (
  id TEXT PRIMARY KEY,
  platform TEXT NOT NULL,
  chat_key TEXT,
  created_at REAL NOT NULL,
  updated_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS messages (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
  role TEXT NOT NULL,
  content TEXT NOT NULL,
  created_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS messages_by_session ON messages(session_id, id);
CREATE INDEX IF NOT EXISTS sessions_by_chat ON sessions(platform, chat_key, created_at);
CREATE TABLE IF NOT EXISTS inbound_messages (
  platform TEXT NOT NULL,
  update_id INTEGER NOT NULL,
  chat_id INTEGER NOT NULL,
  chat_key TEXT NOT NULL,
  user_id INTEGER NOT NULL,
  username TEXT,
  message_id INTEGER NOT NULL,
  text TEXT NOT NULL,
  done INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (platform, update_id)
);
CREATE TABLE IF NOT EXISTS pending_deliveries (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  platform TEXT NOT NULL,
  chat_id INTEGER NOT NULL,
  reply_to INTEGER NOT NULL,
  text TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS platform_offsets (
  platform TEXT PRIMARY KEY,
  value INTEGER NOT NULL
);
)sql"},
    // Keeps the per-chat "next unanswered message" lookup off the answered ones.
    {2, "index of unanswered inbound messages", R"sql(
CREATE INDEX IF NOT EXISTS inbound_pending ON inbound_messages(platform, chat_key, update_id)
  WHERE done = 0;
)sql"},
    // How a message ended when not complete: 'interrupted' (the client hung up mid-answer).
    {3, "message status", R"sql(
ALTER TABLE messages ADD COLUMN status TEXT;
)sql"},
    // Agent tools: an assistant message's tool calls (the JSON array sent upstream) and the
    // call a tool result answers.
    {4, "tool calls and tool results", R"sql(
ALTER TABLE messages ADD COLUMN tool_calls TEXT;
ALTER TABLE messages ADD COLUMN tool_call_id TEXT;
)sql"},
    // API turns the drain cut after complete tool rounds: the next process finishes them.
    {5, "turns to resume after a restart", R"sql(
CREATE TABLE IF NOT EXISTS resumable_turns (
  session_id TEXT PRIMARY KEY REFERENCES sessions(id) ON DELETE CASCADE,
  platform TEXT NOT NULL,
  created_at REAL NOT NULL
);
)sql"},
    // The Responses API: each stored response, its input items and the chat messages it adds
    // to its chain (previous_id links them; it is kept when that one is deleted).
    {6, "responses", R"sql(
CREATE TABLE IF NOT EXISTS responses (
  id TEXT PRIMARY KEY,
  previous_id TEXT,
  created_at REAL NOT NULL,
  object TEXT NOT NULL,
  input_items TEXT NOT NULL,
  conversation TEXT NOT NULL
);
)sql"},
    // Every provider call's tokens and cost, for usage reports and budgets (no key, only its
    // index; cost NULL for models without a price).
    {7, "usage", R"sql(
CREATE TABLE IF NOT EXISTS usage (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  at REAL NOT NULL,
  provider TEXT NOT NULL,
  model TEXT NOT NULL,
  key_index INTEGER NOT NULL,
  prompt_tokens INTEGER NOT NULL,
  completion_tokens INTEGER NOT NULL,
  total_tokens INTEGER NOT NULL,
  cost_usd REAL,
  session_id TEXT,
  platform TEXT NOT NULL,
  chat TEXT NOT NULL,
  kind TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS usage_by_time ON usage(at);
)sql"},
    // Context compaction: a summary stands for a session's first `covers` messages in what is
    // sent upstream (its leading system messages excepted); those rows stay. Empty content: they
    // were dropped, not summarised.
    {8, "conversation summaries", R"sql(
CREATE TABLE IF NOT EXISTS session_summaries (
  session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
  covers INTEGER NOT NULL,
  content TEXT NOT NULL,
  created_at REAL NOT NULL,
  PRIMARY KEY (session_id, covers)
);
)sql"},
    // Telegram messages without text (photo, voice, …): recorded and answered with a note.
    {9, "media kind of inbound messages", R"sql(
ALTER TABLE inbound_messages ADD COLUMN media TEXT;
)sql"},
    // Users refused by allowed_users: told once, not again after every restart.
    {10, "refused users", R"sql(
CREATE TABLE IF NOT EXISTS refused_users (
  platform TEXT NOT NULL,
  user_id INTEGER NOT NULL,
  refused_at REAL NOT NULL,
  PRIMARY KEY (platform, user_id)
);
)sql"},
    // Replies that failed all their attempts are kept (not deleted) and sent again later.
    {11, "abandoned replies", R"sql(
ALTER TABLE pending_deliveries ADD COLUMN abandoned INTEGER NOT NULL DEFAULT 0;
)sql"},
    // Streamed replies: the outbox edits messages too, and the messages a reply is being
    // streamed into are kept, so a restart completes them instead of sending a second copy.
    {12, "streamed replies", R"sql(
ALTER TABLE pending_deliveries ADD COLUMN edit_message_id INTEGER;
CREATE TABLE IF NOT EXISTS stream_messages (
  platform TEXT NOT NULL,
  update_id INTEGER NOT NULL,
  position INTEGER NOT NULL,
  message_id INTEGER NOT NULL,
  PRIMARY KEY (platform, update_id, position)
);
)sql"},
    // Chat session keys name the platform and the kind of chat
    // (<platform>:<dm|group|channel|thread>:<chat>[:<thread>][:<user>]): Telegram's keys
    // ("<chat>" in private, "<chat>:<user>" in groups) and the usage rows' chats that carry
    // them take the new form, so existing conversations and today's chat budgets go on.
    {13, "chat session keys", kChatSessionKeysSql},
    // Responses the drain cut after complete tool rounds: stored in_progress with their
    // rounds, finished by the next process.
    {14, "responses to resume after a restart", R"sql(
ALTER TABLE responses ADD COLUMN resumable INTEGER NOT NULL DEFAULT 0;
)sql"},
    // Prompt caching (Anthropic): the cached part of each call's input, and what it saved.
    {15, "prompt cache usage", R"sql(
ALTER TABLE usage ADD COLUMN cache_write_tokens INTEGER NOT NULL DEFAULT 0;
ALTER TABLE usage ADD COLUMN cache_read_tokens INTEGER NOT NULL DEFAULT 0;
ALTER TABLE usage ADD COLUMN cache_saved_usd REAL NOT NULL DEFAULT 0;
)sql"},
    // A platform's connection to resume across restarts (Discord's session id and resume
    // URL); its sequence is the platform's offset.
    {16, "platform sessions", R"sql(
CREATE TABLE platform_sessions (
  platform TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
)sql"},
    // With several gateways: each taking of a shared lock (by its advisory key: a name may hold
    // a secret) counts a generation here, and what a holder commits checks it is still the
    // newest (a fence against a lock lost with its connection while the holder went on).
    // Unused with SQLite; made so the steps stay aligned.
    {17, "lock fences", R"sql(
CREATE TABLE IF NOT EXISTS lock_fences (
  lock_key BIGINT PRIMARY KEY,
  generation BIGINT NOT NULL
);
)sql"},
    // Scheduled jobs and their runs (webhook runs too): one run row per job and scheduled time,
    // claimed before it runs, so neither a restart nor a second gateway runs a firing twice; a
    // webhook's delivery id once per route. The outbox names the run a reply delivers, so the
    // run says delivered only once the platform returned a message id.
    {18, "scheduled jobs and webhook runs", R"sql(
CREATE TABLE IF NOT EXISTS cron_jobs (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  prompt TEXT NOT NULL,
  schedule TEXT NOT NULL,
  deliver TEXT NOT NULL,
  origin TEXT NOT NULL,
  model TEXT NOT NULL,
  enabled INTEGER NOT NULL,
  repeat_count INTEGER NOT NULL,
  runs INTEGER NOT NULL,
  created_at REAL NOT NULL,
  next_run REAL,
  last_run REAL,
  last_status TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS cron_runs (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  job_id TEXT NOT NULL,
  source TEXT NOT NULL,
  scheduled_for REAL NOT NULL,
  started_at REAL,
  finished_at REAL,
  status TEXT NOT NULL,
  delivery TEXT NOT NULL,
  deliver TEXT NOT NULL,
  prompt TEXT NOT NULL,
  model TEXT NOT NULL,
  message_id TEXT NOT NULL DEFAULT '',
  error TEXT NOT NULL DEFAULT '',
  result TEXT NOT NULL DEFAULT '',
  webhook_route TEXT NOT NULL DEFAULT '',
  delivery_id TEXT
);
CREATE UNIQUE INDEX IF NOT EXISTS cron_runs_once ON cron_runs(job_id, scheduled_for)
  WHERE source = 'schedule';
CREATE UNIQUE INDEX IF NOT EXISTS webhook_deliveries_once ON cron_runs(webhook_route, delivery_id)
  WHERE delivery_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS cron_runs_by_status ON cron_runs(status, id);
CREATE INDEX IF NOT EXISTS cron_runs_by_job ON cron_runs(job_id, scheduled_for);
ALTER TABLE pending_deliveries ADD COLUMN cron_run_id INTEGER;
ALTER TABLE pending_deliveries ADD COLUMN thread_id INTEGER;
)sql"},
    // session_search: who a session belongs to (a platform user, "telegram-42") and a full-text
    // index of what was said (user and assistant text; tool output is not the user's words).
    // The index is brought up to date by the search itself (search_progress: the last message
    // indexed), not by a trigger: a turn's commit does not pay for it.
    {19, "session owners and the full-text index of messages", R"sql(
ALTER TABLE sessions ADD COLUMN user_key TEXT;
CREATE INDEX IF NOT EXISTS sessions_by_user ON sessions(user_key);
CREATE VIRTUAL TABLE IF NOT EXISTS messages_fts USING fts5(
  content, content='messages', content_rowid='id');
CREATE TABLE IF NOT EXISTS search_progress (
  name TEXT PRIMARY KEY,
  last_id INTEGER NOT NULL
);
INSERT OR IGNORE INTO search_progress(name, last_id) VALUES ('messages', 0);
)sql"},
};

}  // namespace

std::span<const Migration> state_schema() {
  return kSteps;
}

}  // namespace hermes::daemon::state
