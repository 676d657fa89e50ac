#include "daemon/platforms/http_types.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>

namespace hermes::daemon {

std::string_view HttpRequest::path() const {
  std::string_view t = target;
  return t.substr(0, t.find('?'));
}

std::string_view HttpRequest::header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (key.size() == name.size() &&
        std::equal(key.begin(), key.end(), name.begin(), [](char a, char b) {
          return std::tolower(static_cast<unsigned char>(a)) ==
                 std::tolower(static_cast<unsigned char>(b));
        })) {
      return value;
    }
  }
  return {};
}

HttpResponse json_error(int status, std::string_view message, std::string_view type,
                        std::string_view code) {
  nlohmann::json error = {{"message", message}, {"type", type}, {"code", nullptr}};
  if (!code.empty()) error["code"] = code;
  HttpResponse response;
  response.status = status;
  response.body = nlohmann::json{{"error", error}}.dump(-1, ' ', false,
                                                        nlohmann::json::error_handler_t::replace);
  return response;
}

}  // namespace hermes::daemon
