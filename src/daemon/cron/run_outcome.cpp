#include "daemon/cron/run_outcome.hpp"

namespace hermes::daemon::cron {

std::optional<RunOutcome> decide_run_outcome(const RunFacts& facts) {
  if (facts.interrupted) return std::nullopt;
  RunOutcome out;
  if (facts.ok) {
    out.status = "ok";
    out.result = facts.answer;
    if (facts.answer == kSilentResult) {
      out.delivery = "silent";  // stored, not delivered: the job had nothing to say
      return out;
    }
  } else {
    out.status = "failed";
    out.error = facts.too_big ? "the job's prompt alone is larger than the model's context "
                                "window; shorten it or choose a model with a larger one"
                              : facts.failure_reply;
    out.result = out.error;  // a failure's hint is delivered like a chat reply
  }
  if (facts.local) {
    out.delivery = "local";
    return out;
  }
  out.delivery = "pending";
  out.send = out.result;
  return out;
}

}  // namespace hermes::daemon::cron
