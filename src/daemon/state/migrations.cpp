#include "daemon/state/migrations.hpp"

#include <spdlog/spdlog.h>

#include <stdexcept>
#include <string>

namespace hermes::daemon::state {

std::span<const Migration> schema_for(const SqlConnection& db) {
  return db.dialect() == Dialect::postgres ? postgres_schema() : state_schema();
}

int migrate(SqlConnection& db, std::span<const Migration> steps) {
  const int found = db.schema_version();
  const int newest = steps.empty() ? 0 : steps.back().version;
  if (found > newest) {
    throw std::runtime_error(
        "state store " + db.name() + " has schema version " + std::to_string(found) +
        ", newer than this hermes-gateway knows (" + std::to_string(newest) +
        "); run the newer hermes-gateway that wrote it, or move the file away");
  }
  for (const auto& step : steps) {
    if (step.version <= found) continue;
    db.begin();
    try {
      db.lock_schema();
      // Another gateway may have taken this step while we waited for the lock.
      if (db.schema_version() >= step.version) {
        db.commit();
        continue;
      }
      db.exec(step.sql);
      db.set_schema_version(step.version);
      db.commit();
    } catch (const std::exception& e) {
      db.rollback();
      throw std::runtime_error("state store " + db.name() + ": schema step " +
                               std::to_string(step.version) + " (" + step.what +
                               ") failed: " + e.what());
    }
    if (found > 0) {
      spdlog::info("state store: schema {} -> {} ({})", step.version - 1, step.version, step.what);
    }
  }
  return found;
}

}  // namespace hermes::daemon::state
