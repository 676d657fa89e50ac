#include "daemon/platforms/route_table.hpp"

#include <algorithm>

#include "daemon/platforms/anthropic_protocol.hpp"
#include "daemon/platforms/api_protocol.hpp"

namespace hermes::daemon {

namespace {

const std::vector<Route> kRoutes = {
    {{"GET", "HEAD"}, "/health", false, &Endpoints::health},
    {{"GET"}, "/metrics", true, &Endpoints::metrics},
    {{"GET"}, "/v1/models", true, &Endpoints::models},
    {{"POST"}, "/v1/chat/completions", true, &Endpoints::chat_completions},
    {{"POST"}, "/v1/responses", true, &Endpoints::create_response},
    {{"GET"}, "/v1/responses/{id}", true, &Endpoints::get_response},
    {{"DELETE"}, "/v1/responses/{id}", true, &Endpoints::delete_response},
    {{"GET"}, "/v1/responses/{id}/input_items", true, &Endpoints::response_input_items},
    {{"GET"}, "/v1/usage", true, &Endpoints::usage},
    // No bearer: a webhook's signature is its authentication.
    {{"POST"}, "/webhooks/{id}", false, &Endpoints::webhook},
    {{"POST"}, "/v1/messages", true, &Endpoints::messages, true},
    {{"POST"}, "/v1/messages/count_tokens", true, &Endpoints::count_tokens, true},
    {{"GET"}, "/ui", false, &Endpoints::ui_page},
    {{"GET"}, "/ui/auth", false, &Endpoints::ui_page},
    {{"GET"}, "/ui/assets/{id}", false, &Endpoints::ui_page},
    {{"GET"}, "/ui/api/overview", true, &Endpoints::ui_api},
    {{"GET"}, "/ui/api/spend", true, &Endpoints::ui_api},
    {{"GET"}, "/ui/api/sessions", true, &Endpoints::ui_api},
    {{"GET"}, "/ui/api/sessions/{id}", true, &Endpoints::ui_api},
    {{"POST"}, "/ui/api/runs/{id}/stop", true, &Endpoints::ui_api},
    {{"POST"}, "/ui/api/cooldowns/clear", true, &Endpoints::ui_api},
    {{"POST"}, "/ui/api/cron/{id}/run", true, &Endpoints::ui_api},
    {{"POST"}, "/ui/api/cron/{id}/pause", true, &Endpoints::ui_api},
    {{"POST"}, "/ui/api/cron/{id}/resume", true, &Endpoints::ui_api},
};

// Splits off the next '/'-led segment of `rest` ("/v1/x" → "v1", rest "/x").
bool next_segment(std::string_view& rest, std::string_view& segment) {
  if (rest.empty() || rest.front() != '/') return false;
  rest.remove_prefix(1);
  const auto end = rest.find('/');
  segment = rest.substr(0, end);
  rest = end == std::string_view::npos ? std::string_view() : rest.substr(end);
  return true;
}

bool path_matches(std::string_view pattern, std::string_view path, RouteParams& params) {
  std::string_view want, got;
  while (next_segment(pattern, want)) {
    if (!next_segment(path, got)) return false;
    if (want == "{id}") {
      if (got.empty()) return false;
      params.id = std::string(got);
    } else if (want != got) {
      return false;
    }
  }
  return path.empty();
}

std::string joined(const std::vector<std::string_view>& methods) {
  std::string out;
  for (const auto m : methods) {
    if (!out.empty()) out += ", ";
    out += m;
  }
  return out;
}

}  // namespace

std::span<const Route> gateway_routes() {
  return kRoutes;
}

std::variant<RouteMatch, HttpResponse> match_route(std::span<const Route> routes,
                                                   std::string_view method, std::string_view path,
                                                   bool authorized) {
  std::vector<std::string_view> allowed;
  std::string_view label;
  bool needs_key = false;
  bool anthropic_errors = false;
  for (const auto& route : routes) {
    RouteParams params;
    if (!path_matches(route.pattern, path, params)) continue;
    label = route.pattern;
    needs_key = needs_key || route.needs_key;
    anthropic_errors = anthropic_errors || route.anthropic_errors;
    if (std::find(route.methods.begin(), route.methods.end(), method) != route.methods.end()) {
      if (route.needs_key && !authorized) break;
      return RouteMatch{&route, std::move(params)};
    }
    allowed.insert(allowed.end(), route.methods.begin(), route.methods.end());
  }
  HttpResponse refusal;
  if (label.empty()) {
    refusal = json_error(404, "Unknown route: " + std::string(method) + " " + std::string(path),
                         "invalid_request_error");
  } else if (needs_key && !authorized) {
    // Before the method check: without the key, nothing is said about the route.
    refusal = unauthorized_response();
  } else {
    const std::string allow = joined(allowed);
    refusal = json_error(405,
                         "Method " + std::string(method) + " is not allowed on " +
                             std::string(path) + "; use " + allow + ".",
                         "invalid_request_error");
    refusal.headers.emplace_back("Allow", allow);
  }
  if (anthropic_errors) refusal = anthropic_error(std::move(refusal));
  refusal.route_label = label.empty() ? kUnroutedLabel : label;
  return refusal;
}

}  // namespace hermes::daemon
