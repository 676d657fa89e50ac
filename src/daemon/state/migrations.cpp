#include "daemon/state/migrations.hpp"

#include <spdlog/spdlog.h>

#include <stdexcept>
#include <string>

namespace hermes::daemon::state {

int migrate(SqliteConnection& db, std::span<const Migration> steps) {
  int found = 0;
  {
    auto query = db.prepare("PRAGMA user_version");
    if (query.step()) found = static_cast<int>(query.integer(0));
  }
  const int newest = steps.empty() ? 0 : steps.back().version;
  if (found > newest) {
    throw std::runtime_error(
        "state store " + db.file().string() + " has schema version " + std::to_string(found) +
        ", newer than this hermes-gateway knows (" + std::to_string(newest) +
        "); run the newer hermes-gateway that wrote it, or move the file away");
  }
  for (const auto& step : steps) {
    if (step.version <= found) continue;
    db.begin();
    try {
      db.exec(step.sql);
      // PRAGMA takes no bound parameters; the version is ours, not input.
      db.exec(("PRAGMA user_version=" + std::to_string(step.version)).c_str());
      db.commit();
    } catch (const std::exception& e) {
      db.rollback();
      throw std::runtime_error("state store " + db.file().string() + ": schema step " +
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
