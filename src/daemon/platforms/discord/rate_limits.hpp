#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

// Discord's REST rate limits as a pure bookkeeper: what each route's bucket and the global
// limit allow, from the headers and 429 bodies Discord sends. The caller waits and sends.
namespace hermes::daemon::discord {

using Headers = std::vector<std::pair<std::string, std::string>>;

// The bucket a request counts against: its method and path with the message id taken out
// (Discord's buckets go by route and major parameter, the channel).
std::string route_of(std::string_view method, std::string_view path);

class RateLimits {
 public:
  using Clock = std::chrono::steady_clock;

  // How long to wait before a request on `route` (0: now).
  std::chrono::milliseconds wait_before(const std::string& route, Clock::time_point now) const;

  // Reads one answer. With a 429, the wait it asks for (retry_after, seconds as a float, from
  // the body or the Retry-After header); none for any other answer.
  std::optional<std::chrono::milliseconds> on_reply(const std::string& route, int status,
                                                    const Headers& headers, std::string_view body,
                                                    Clock::time_point now);

 private:
  std::map<std::string, Clock::time_point> blocked_until_;  // per route
  Clock::time_point global_until_{};
};

}  // namespace hermes::daemon::discord
