#pragma once

#include <chrono>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

// The Discord Gateway's protocol as pure functions: frames in, payloads out, and what a
// close code or an opcode means for the connection.
namespace hermes::daemon::discord {

enum class Op {
  dispatch = 0,
  heartbeat = 1,
  identify = 2,
  resume = 6,
  reconnect = 7,
  invalid_session = 9,
  hello = 10,
  heartbeat_ack = 11,
};

// GUILDS, GUILD_MESSAGES, DIRECT_MESSAGES and MESSAGE_CONTENT (privileged).
constexpr int kIntents = (1 << 0) | (1 << 9) | (1 << 12) | (1 << 15);

// Our own close code for a drain, a stop or a dead connection: anything but 1000 and 1001
// (which end the session at Discord) keeps the session resumable for the next connection.
constexpr int kResumableClose = 4900;

struct Frame {
  int op = -1;
  nlohmann::json d;
  std::optional<long long> s;  // a dispatch's sequence
  std::string t;               // a dispatch's event name
};

// A Gateway payload; none for text that is not one (not JSON, or no integer op).
std::optional<Frame> parse_frame(std::string_view text);

std::string identify_payload(const std::string& token);
std::string resume_payload(const std::string& token, const std::string& session_id, long long seq);
std::string heartbeat_payload(std::optional<long long> seq);

// The Gateway URL with the version and encoding the gateway speaks.
std::string connect_url(const std::string& base);

// What follows a closed connection.
enum class AfterClose {
  resume,    // connect to the resume URL and RESUME
  identify,  // the session is gone: connect afresh and IDENTIFY
  fatal,     // a setting must change: no reconnecting, the platform is in error
};
struct CloseVerdict {
  AfterClose next = AfterClose::resume;
  std::string sentence;  // with `fatal`: what is wrong and what to fix
};
// `code`: the close frame's code; 0 when the connection dropped without one.
CloseVerdict after_close(int code);

// When to IDENTIFY under GET /gateway/bot's session_start_limit: at once while sessions
// remain, else after reset_after (milliseconds).
std::chrono::milliseconds identify_wait(const nlohmann::json& gateway_bot);

// The first heartbeat after `interval` × jitter (jitter in [0, 1)).
std::chrono::milliseconds first_heartbeat(std::chrono::milliseconds interval, double jitter);

}  // namespace hermes::daemon::discord
