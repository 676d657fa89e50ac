#include "daemon/platforms/telegram/bot_api.hpp"

#include <algorithm>
#include <limits>

#include "common/json_fields.hpp"
#include "daemon/providers/redact.hpp"

namespace hermes::daemon::telegram {

using nlohmann::json;

ApiReply parse_api_reply(int http_status, std::string_view body) {
  ApiReply out;
  out.http_status = http_status;
  const json parsed = json::parse(body, nullptr, false);
  if (!parsed.is_object()) {
    out.description = "HTTP " + std::to_string(http_status) + " with a body that is not JSON";
    return out;
  }
  const auto ok = parsed.find("ok");
  out.ok = ok != parsed.end() && ok->is_boolean() && ok->get<bool>() && http_status == 200;
  if (const auto it = parsed.find("result"); it != parsed.end()) out.result = *it;
  std::string description = string_field(parsed, "description");
  if (description.empty()) description = string_field(parsed, "message");
  out.description = providers::redact(description);
  if (const json* parameters = object_field(parsed, "parameters")) {
    if (const auto seconds = integer_field(*parameters, "retry_after")) {
      // Telegram asks for seconds to minutes; an absurd value is clamped, not obeyed.
      out.retry_after = static_cast<int>(std::clamp<long long>(*seconds, 1, 3600));
    }
  }
  return out;
}

}  // namespace hermes::daemon::telegram
