#pragma once

#include <boost/asio/awaitable.hpp>
#include <functional>
#include <string>
#include <string_view>
#include <variant>

#include "common/config.hpp"
#include "daemon/cron/job_actions.hpp"

namespace hermes::daemon {
namespace state {
class StoreWorker;
}

namespace cron {

// "/cron add every 1h Check the news" after the command word, read: the verb, and for add the
// schedule (two words for `every 1h`, five for a cron expression, or "quoted") and the prompt.
struct CronRequest {
  std::string verb;  // list, add, pause, resume, run, remove
  NewJob job;        // add
  std::string id;    // pause, resume, run, remove
};
std::variant<CronRequest, std::string> parse_cron_request(std::string_view args);

// Jobs as a chat manages them: the /cron command and the cronjob tool the model calls. A chat
// (its origin, `telegram:<chat id>`) sees and changes only the jobs it made; what it adds is
// delivered to it unless it says otherwise. Store work runs on the store worker.
class ChatJobs {
 public:
  ChatJobs(state::StoreWorker& worker, JobTables& jobs, std::function<void()> wake,
           const Config& config);

  // The reply to `/cron <args>` from `origin`.
  boost::asio::awaitable<std::string> command(std::string origin, std::string args);
  // The cronjob tool's result for `arguments` (its JSON), called in a chat of `origin`.
  boost::asio::awaitable<std::string> tool(std::string origin, std::string arguments);
  void reconfigure(const Config& config);

  static constexpr const char* kToolName = "cronjob";
  // The tool as offered to the model (an OpenAI function tool, JSON).
  static const std::string& tool_schema();

 private:
  boost::asio::awaitable<std::string> act(const std::string& origin, CronRequest request);

  state::StoreWorker& worker_;
  JobTables& jobs_;
  std::function<void()> wake_;
  Zone zone_;
};

}  // namespace cron
}  // namespace hermes::daemon
