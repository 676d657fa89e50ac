#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "common/config.hpp"
#include "daemon/cron/job_tables.hpp"

namespace boost::asio {
class io_context;
}

namespace hermes::daemon {

class Conversation;
class Metrics;
namespace state {
class StoreWorker;
class SharedLocks;
}  // namespace state
namespace chat {
class ChatStore;
}

namespace cron {

// Where a run's result goes on one platform: its outbox, and what makes the gateway holding
// the platform send it now.
struct RunOutbox {
  chat::ChatStore* store = nullptr;
  std::function<void()> send_now;
  std::size_t max_units = 4096;  // one message's length (UTF-16 units): Discord's is 2000
};

// Runs scheduled jobs and queued runs (webhooks, `hermes cron run`): every second it claims the
// firings that are due (one run row per job and scheduled time, in the store, before anything
// runs), starts queued runs up to cron.max_parallel, each a fresh session through the
// conversation core (kind cron), and puts the result in the target's outbox in the turn's own
// transaction. Runs a restart cut are finished by the next start.
class Scheduler {
 public:
  struct Context {
    state::StoreWorker& worker;
    JobTables& jobs;  // touched on the store worker only
    Conversation& conversation;
    Metrics& metrics;
    state::SharedLocks* shared;  // postgres: a cut run another gateway still runs is left alone
    // The outbox of an enabled platform; none when the platform is not enabled.
    std::function<std::optional<RunOutbox>(const std::string& platform)> outbox;
  };
  struct Summary {
    std::optional<Job> next;     // the job that fires next
    long long failed_today = 0;  // runs that failed or whose delivery was given up on, 24 h
  };

  Scheduler(boost::asio::io_context& io, Context context, const Config& config);
  ~Scheduler();
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  void start();          // after READY
  void stop();           // the drain: nothing new starts; runs going on finish
  long running() const;  // runs going on (the drain waits for 0)
  void wake();           // a run was queued: look now, not at the next second
  void reconfigure(const Config& config);
  Summary summary() const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

// The session a run's turn is stored in.
std::string run_session_id(long long run_id);

}  // namespace cron
}  // namespace hermes::daemon
