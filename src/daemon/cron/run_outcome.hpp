#pragma once

#include <optional>
#include <string>

// How a job's (or a webhook's) run ends, decided from what its turn returned: a pure function,
// table-tested; the scheduler only stores and sends what it says.
namespace hermes::daemon::cron {

struct RunFacts {
  bool ok = false;
  bool interrupted = false;   // a drain cut it: the next process finishes it
  bool too_big = false;       // the prompt alone is over the model's context window
  std::string answer;         // with ok
  std::string failure_reply;  // without ok: the hint a chat would be told
  bool local = false;         // delivered nowhere: kept in the history only
};

struct RunOutcome {
  std::string status;               // ok, failed
  std::string delivery;             // pending (being sent), local, silent
  std::string error;                // failed: the sentence that says why
  std::string result;               // what is kept in the history
  std::optional<std::string> send;  // what goes to the target's outbox
};

// The exact reply that asks for nothing to be delivered.
inline constexpr const char* kSilentResult = "[SILENT]";

// None: the run is not over (cut by a drain; it stays `running` and is finished next start).
std::optional<RunOutcome> decide_run_outcome(const RunFacts& facts);

}  // namespace hermes::daemon::cron
