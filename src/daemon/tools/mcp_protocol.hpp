#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace hermes::daemon::tools::mcp {

// The protocol revisions this client speaks, newest first; initialize asks for the first.
std::span<const std::string_view> supported_versions();
bool supports_version(std::string_view version);

nlohmann::json request(long long id, std::string_view method, nlohmann::json params);
nlohmann::json notification(std::string_view method, nlohmann::json params = nullptr);
// The answer to a server request we do not serve (sampling, roots, elicitation, …): -32601.
nlohmann::json method_not_found(const nlohmann::json& id, std::string_view method);
// An empty result: what `ping` gets.
nlohmann::json empty_result(const nlohmann::json& id);

nlohmann::json initialize_params();

struct Initialized {
  std::string version;      // the revision the server picked
  std::string server_name;  // serverInfo.name, for the log
  bool tools_list_changed = false;
  std::string error;  // set: the server cannot be used (unknown revision, malformed answer)
};
Initialized read_initialize_result(const nlohmann::json& result);

struct ToolSpec {
  std::string name;  // as the server gives it
  std::string description;
  nlohmann::json input_schema;  // passed to the provider as given
};

struct ToolPage {
  std::vector<ToolSpec> tools;
  std::string next_cursor;  // empty: the last page
  std::string error;
};
// One page of tools/list; tools without a name or with a schema that is not an object are
// left out (reported in `error` when nothing usable is left of a non-empty page).
ToolPage read_tools_list(const nlohmann::json& result);

struct ToolOutcome {
  std::string text;  // what the model reads as the tool's result
  bool is_error = false;
};
// A tools/call result as text: text parts as they are, images and resources as a short note,
// cut past `max_bytes` with a note saying so.
ToolOutcome read_tool_result(const nlohmann::json& result, std::size_t max_bytes = 100 * 1024);
// A text cut to at most `max_bytes` on a UTF-8 boundary, with a note on what was left out.
std::string cut_with_note(std::string text, std::size_t max_bytes);

enum class MessageKind { response, request, notification, invalid };

struct Incoming {
  MessageKind kind = MessageKind::invalid;
  nlohmann::json id;  // requests and responses
  std::string method;
  nlohmann::json params;
  nlohmann::json result;
  std::optional<nlohmann::json> error;  // a response with {code, message, data}
  std::string problem;                  // why it is invalid
};
// One JSON-RPC message from a server, whatever the bytes.
Incoming read_message(std::string_view text);

// A server's log notification (notifications/message) as a line for the gateway's log: its
// level mapped onto ours (a server cannot pick a priority outside debug..error), the data as
// text, cut to 1000 bytes.
struct ServerLogLine {
  enum class Level { debug, info, warning, error } level = Level::info;
  std::string text;
};
ServerLogLine read_server_log(const nlohmann::json& params);

// "code: message" of a JSON-RPC error object, for logs and tool results.
std::string describe_error(const nlohmann::json& error);

}  // namespace hermes::daemon::tools::mcp
