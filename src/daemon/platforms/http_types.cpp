#include "daemon/platforms/http_types.hpp"

#include <nlohmann/json.hpp>

#include "common/ascii_case.hpp"

namespace hermes::daemon {

std::string_view HttpRequest::path() const {
  std::string_view t = target;
  return t.substr(0, t.find('?'));
}

std::string_view HttpRequest::query() const {
  std::string_view t = target;
  const auto question = t.find('?');
  return question == std::string_view::npos ? std::string_view() : t.substr(question + 1);
}

std::vector<std::pair<std::string_view, std::string_view>> query_params(std::string_view query) {
  std::vector<std::pair<std::string_view, std::string_view>> params;
  while (!query.empty()) {
    const auto end = query.find('&');
    const auto pair = query.substr(0, end);
    query = end == std::string_view::npos ? std::string_view() : query.substr(end + 1);
    const auto eq = pair.find('=');
    params.emplace_back(pair.substr(0, eq),
                        eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1));
  }
  return params;
}

std::string_view HttpRequest::header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (equals_ignoring_case(key, name)) return value;
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
