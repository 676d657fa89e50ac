#include "daemon/tools/mcp_protocol.hpp"

#include <array>

#include "common/version.hpp"

namespace hermes::daemon::tools::mcp {

using nlohmann::json;

namespace {

constexpr std::array<std::string_view, 3> kVersions = {"2025-11-25", "2025-06-18", "2025-03-26"};

std::string string_at(const json& object, const char* key) {
  const auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// Cuts at a UTF-8 character boundary at or below `size`.
std::size_t utf8_boundary(const std::string& text, std::size_t size) {
  while (size > 0 && (static_cast<unsigned char>(text[size]) & 0xC0) == 0x80) --size;
  return size;
}

std::string describe_content(const json& part) {
  if (!part.is_object()) return "[a content part that is not an object]";
  const std::string type = string_at(part, "type");
  if (type == "text") return string_at(part, "text");
  if (type == "image" || type == "audio") {
    const auto data = part.find("data");
    const std::size_t bytes =
        data != part.end() && data->is_string() ? data->get_ref<const std::string&>().size() : 0;
    return "[" + type + " (" + string_at(part, "mimeType") + ", " + std::to_string(bytes * 3 / 4) +
           " bytes) not shown: this gateway passes text only]";
  }
  if (type == "resource") {
    const auto resource = part.find("resource");
    if (resource != part.end() && resource->is_object()) {
      const std::string text = string_at(*resource, "text");
      const std::string uri = string_at(*resource, "uri");
      if (!text.empty()) return "[resource " + uri + "]\n" + text;
      return "[resource " + uri + " (" + string_at(*resource, "mimeType") + ") not shown]";
    }
    return "[a resource]";
  }
  if (type == "resource_link") return "[resource link: " + string_at(part, "uri") + "]";
  return "[" + (type.empty() ? std::string("untyped") : type) + " content not shown]";
}

}  // namespace

std::span<const std::string_view> supported_versions() {
  return kVersions;
}

bool supports_version(std::string_view version) {
  for (const auto v : kVersions) {
    if (v == version) return true;
  }
  return false;
}

json request(long long id, std::string_view method, json params) {
  json message = {{"jsonrpc", "2.0"}, {"id", id}, {"method", method}};
  if (!params.is_null()) message["params"] = std::move(params);
  return message;
}

json notification(std::string_view method, json params) {
  json message = {{"jsonrpc", "2.0"}, {"method", method}};
  if (!params.is_null()) message["params"] = std::move(params);
  return message;
}

json method_not_found(const json& id, std::string_view method) {
  return {{"jsonrpc", "2.0"},
          {"id", id},
          {"error",
           {{"code", -32601},
            {"message", "Method not found: this client does not serve " + std::string(method)}}}};
}

json empty_result(const json& id) {
  return {{"jsonrpc", "2.0"}, {"id", id}, {"result", json::object()}};
}

json initialize_params() {
  return {{"protocolVersion", kVersions.front()},
          {"capabilities", json::object()},
          {"clientInfo", {{"name", "hermes-gateway"}, {"version", kVersion}}}};
}

Initialized read_initialize_result(const json& result) {
  Initialized out;
  if (!result.is_object()) {
    out.error = "the initialize answer is not an object";
    return out;
  }
  out.version = string_at(result, "protocolVersion");
  if (!supports_version(out.version)) {
    std::string known;
    for (const auto v : kVersions) known += (known.empty() ? "" : ", ") + std::string(v);
    out.error = "the server speaks MCP revision '" + out.version.substr(0, 40) +
                "', which this gateway does not (it speaks " + known + ")";
    return out;
  }
  if (const auto info = result.find("serverInfo"); info != result.end() && info->is_object()) {
    out.server_name = string_at(*info, "name");
  }
  if (const auto caps = result.find("capabilities"); caps != result.end() && caps->is_object()) {
    if (const auto tools = caps->find("tools"); tools != caps->end() && tools->is_object()) {
      const auto changed = tools->find("listChanged");
      out.tools_list_changed =
          changed != tools->end() && changed->is_boolean() && changed->get<bool>();
    }
  }
  return out;
}

ToolPage read_tools_list(const json& result) {
  ToolPage page;
  if (!result.is_object()) {
    page.error = "the tools/list answer is not an object";
    return page;
  }
  const auto tools = result.find("tools");
  if (tools == result.end() || !tools->is_array()) {
    page.error = "the tools/list answer has no tools array";
    return page;
  }
  std::size_t skipped = 0;
  for (const auto& tool : *tools) {
    if (!tool.is_object()) {
      ++skipped;
      continue;
    }
    ToolSpec spec;
    spec.name = string_at(tool, "name");
    spec.description = string_at(tool, "description");
    const auto schema = tool.find("inputSchema");
    if (spec.name.empty() || schema == tool.end() || !schema->is_object()) {
      ++skipped;
      continue;
    }
    spec.input_schema = *schema;
    page.tools.push_back(std::move(spec));
  }
  if (page.tools.empty() && skipped > 0) {
    page.error = std::to_string(skipped) + " tool(s) without a name or an input schema object";
  }
  page.next_cursor = string_at(result, "nextCursor");
  return page;
}

std::string cut_with_note(std::string text, std::size_t max_bytes) {
  if (text.size() <= max_bytes) return text;
  const std::size_t total = text.size();
  text.resize(utf8_boundary(text, max_bytes));
  text += "\n[cut: the result was " + std::to_string(total) + " bytes; only the first " +
          std::to_string(text.size()) + " are shown]";
  return text;
}

ToolOutcome read_tool_result(const json& result, std::size_t max_bytes) {
  ToolOutcome out;
  if (!result.is_object()) {
    out.is_error = true;
    out.text = "The tool's answer was not an object.";
    return out;
  }
  const auto is_error = result.find("isError");
  out.is_error = is_error != result.end() && is_error->is_boolean() && is_error->get<bool>();
  std::string text;
  if (const auto content = result.find("content"); content != result.end() && content->is_array()) {
    for (const auto& part : *content) {
      if (!text.empty()) text += '\n';
      text += describe_content(part);
      if (text.size() > max_bytes) break;  // no need to build more than is shown
    }
  }
  if (text.empty()) {
    if (const auto structured = result.find("structuredContent"); structured != result.end()) {
      text = structured->dump(-1, ' ', false, json::error_handler_t::replace);
    }
  }
  out.text = cut_with_note(std::move(text), max_bytes);
  return out;
}

Incoming read_message(std::string_view text) {
  Incoming in;
  json message = json::parse(text, nullptr, false);
  if (!message.is_object()) {
    in.problem = message.is_discarded() ? "not JSON" : "not a JSON object";
    return in;
  }
  const auto id = message.find("id");
  const auto method = message.find("method");
  if (method != message.end()) {
    if (!method->is_string()) {
      in.problem = "a method that is not a string";
      return in;
    }
    in.method = method->get<std::string>();
    if (const auto params = message.find("params"); params != message.end()) in.params = *params;
    if (id != message.end() && !id->is_null()) {
      in.kind = MessageKind::request;
      in.id = *id;
    } else {
      in.kind = MessageKind::notification;
    }
    return in;
  }
  if (id == message.end() || !(id->is_number_integer() || id->is_string())) {
    in.problem = "neither a request, a notification nor a response";
    return in;
  }
  in.kind = MessageKind::response;
  in.id = *id;
  if (const auto error = message.find("error"); error != message.end()) {
    in.error = *error;
  } else if (const auto result = message.find("result"); result != message.end()) {
    in.result = *result;
  } else {
    in.kind = MessageKind::invalid;
    in.problem = "a response with neither result nor error";
  }
  return in;
}

ServerLogLine read_server_log(const json& params) {
  ServerLogLine line;
  if (!params.is_object()) {
    line.text = "a log message that is not an object";
    return line;
  }
  const std::string level = string_at(params, "level");
  using L = ServerLogLine::Level;
  if (level == "debug") {
    line.level = L::debug;
  } else if (level == "warning" || level == "notice") {
    line.level = level == "notice" ? L::info : L::warning;
  } else if (level == "error" || level == "critical" || level == "alert" || level == "emergency") {
    line.level = L::error;
  }
  const auto data = params.find("data");
  std::string text = data == params.end() ? std::string()
                     : data->is_string()
                         ? data->get<std::string>()
                         : data->dump(-1, ' ', false, json::error_handler_t::replace);
  if (const std::string logger = string_at(params, "logger"); !logger.empty()) {
    text = logger + ": " + text;
  }
  line.text = cut_with_note(std::move(text), 1000);
  return line;
}

std::string describe_error(const json& error) {
  if (!error.is_object()) return "a malformed error";
  std::string text;
  if (const auto code = error.find("code"); code != error.end() && code->is_number_integer()) {
    text = std::to_string(code->get<long long>()) + ": ";
  }
  text += string_at(error, "message");
  return text.substr(0, 500);
}

}  // namespace hermes::daemon::tools::mcp
