#pragma once

#include <span>

#include "daemon/state/sql_connection.hpp"

namespace hermes::daemon::state {

// One step of the schema's history. Versions count up from 1 without gaps; a step, once
// released, never changes (a later one alters what it made).
struct Migration {
  int version;
  const char* what;  // for the log: what this step adds
  const char* sql;
};

// Steps whose SQL both backends take as it is, written once.
// 13: Telegram's chat keys ("<chat>", "<chat>:<user>") become session keys
// (telegram:dm:<chat>, telegram:group:<chat>:<user>), in sessions, the inbox and usage rows.
inline constexpr const char* kChatSessionKeysSql = R"sql(
UPDATE sessions SET chat_key =
  CASE WHEN chat_key LIKE '%:%' THEN 'telegram:group:' ELSE 'telegram:dm:' END || chat_key
  WHERE platform = 'telegram' AND chat_key IS NOT NULL AND chat_key <> ''
    AND chat_key NOT LIKE 'telegram:%';
UPDATE inbound_messages SET chat_key =
  CASE WHEN chat_key LIKE '%:%' THEN 'telegram:group:' ELSE 'telegram:dm:' END || chat_key
  WHERE platform = 'telegram' AND chat_key NOT LIKE 'telegram:%';
UPDATE usage SET chat = 'telegram:' ||
  CASE WHEN substr(chat, 10) LIKE '%:%' THEN 'group:' ELSE 'dm:' END || substr(chat, 10)
  WHERE platform = 'telegram' AND chat LIKE 'telegram:%' AND chat NOT LIKE 'telegram:dm:%'
    AND chat NOT LIKE 'telegram:group:%' AND chat NOT LIKE 'telegram:thread:%';
)sql";

// The schema of state.db, oldest step first (schema.cpp).
std::span<const Migration> state_schema();
// The same tables in PostgreSQL's terms (postgres_schema.cpp). Its versions follow SQLite's:
// version N of either holds the same tables, so a step added to one is added to both.
std::span<const Migration> postgres_schema();
// The schema of `db`'s backend.
std::span<const Migration> schema_for(const SqlConnection& db);

// Brings the database to the newest version in `steps`, each step in its own transaction,
// recording progress where the backend keeps it (SQLite: `PRAGMA user_version`; PostgreSQL:
// the hermes_schema table). Gateways starting together on one database migrate one at a
// time. Returns the version it found. Throws std::runtime_error (naming the store) when the
// database is newer than this build knows or a step fails; a failed step leaves the database
// at the version before it.
int migrate(SqlConnection& db, std::span<const Migration> steps);

}  // namespace hermes::daemon::state
