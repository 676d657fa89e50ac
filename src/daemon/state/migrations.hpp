#pragma once

#include <span>

#include "daemon/state/sqlite_connection.hpp"

namespace hermes::daemon::state {

// One step of the schema's history. Versions count up from 1 without gaps; a step, once
// released, never changes (a later one alters what it made).
struct Migration {
  int version;
  const char* what;  // for the log: what this step adds
  const char* sql;
};

// The schema of state.db, oldest step first (schema.cpp).
std::span<const Migration> state_schema();

// Brings the database to the newest version in `steps`, each step in its own transaction,
// recording progress in `PRAGMA user_version`. Returns the version it found. Throws
// std::runtime_error (naming the file) when the database is newer than this build knows or a
// step fails; a failed step leaves the database at the version before it.
int migrate(SqliteConnection& db, std::span<const Migration> steps);

}  // namespace hermes::daemon::state
