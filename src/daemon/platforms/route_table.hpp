#pragma once

#include <boost/asio/awaitable.hpp>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "daemon/platforms/http_types.hpp"

namespace hermes::daemon {

// What one route's handler gets besides the request: the path's `{id}` segment, if any.
struct RouteParams {
  std::string id;
};

// Every endpoint the gateway serves over HTTP. The app implements them (the API ones by
// delegating to the API server), so the table below names handlers without owning state.
class Endpoints {
 public:
  virtual ~Endpoints() = default;
  virtual boost::asio::awaitable<HttpResponse> health(HttpRequest request, RouteParams params) = 0;
  virtual boost::asio::awaitable<HttpResponse> metrics(HttpRequest request, RouteParams params) = 0;
  virtual boost::asio::awaitable<HttpResponse> models(HttpRequest request, RouteParams params) = 0;
  virtual boost::asio::awaitable<HttpResponse> chat_completions(HttpRequest request,
                                                                RouteParams params) = 0;
  virtual boost::asio::awaitable<HttpResponse> create_response(HttpRequest request,
                                                               RouteParams params) = 0;
  virtual boost::asio::awaitable<HttpResponse> get_response(HttpRequest request,
                                                            RouteParams params) = 0;
  virtual boost::asio::awaitable<HttpResponse> delete_response(HttpRequest request,
                                                               RouteParams params) = 0;
  virtual boost::asio::awaitable<HttpResponse> response_input_items(HttpRequest request,
                                                                    RouteParams params) = 0;
  virtual boost::asio::awaitable<HttpResponse> usage(HttpRequest request, RouteParams params) = 0;
  virtual boost::asio::awaitable<HttpResponse> messages(HttpRequest request,
                                                        RouteParams params) = 0;
  virtual boost::asio::awaitable<HttpResponse> count_tokens(HttpRequest request,
                                                            RouteParams params) = 0;
  virtual boost::asio::awaitable<HttpResponse> webhook(HttpRequest request, RouteParams params) = 0;
  // The dashboard: its page and assets (no key), its JSON and actions (the API key).
  virtual boost::asio::awaitable<HttpResponse> ui_page(HttpRequest request, RouteParams params) = 0;
  virtual boost::asio::awaitable<HttpResponse> ui_api(HttpRequest request, RouteParams params) = 0;
};

using EndpointHandler = boost::asio::awaitable<HttpResponse> (Endpoints::*)(HttpRequest,
                                                                            RouteParams);

// One row of the route table. `pattern` is literal segments and `{id}` (one non-empty
// segment); it is also the route's metrics label, so labels stay bounded.
struct Route {
  std::vector<std::string_view> methods;
  std::string_view pattern;
  bool needs_key;
  EndpointHandler handler;
  bool anthropic_errors = false;  // refusals in Anthropic's error shape (/v1/messages…)
};

// The one table: every endpoint, old and new.
std::span<const Route> gateway_routes();

// Where a request goes: a route (with its params), or the refusal to send instead (404 for an
// unknown path, 401 without the key on a route that needs it, 405 with `Allow` for a method
// the path does not take). `authorized`: the request carries the key (or none is set).
struct RouteMatch {
  const Route* route = nullptr;
  RouteParams params;
};
std::variant<RouteMatch, HttpResponse> match_route(std::span<const Route> routes,
                                                   std::string_view method, std::string_view path,
                                                   bool authorized);

// Runs the request through the table: the refusal, or the route's handler. Every answer
// carries the route's label (`other` for no route) for the request metrics.
boost::asio::awaitable<HttpResponse> dispatch(std::span<const Route> routes, Endpoints& endpoints,
                                              HttpRequest request, bool authorized);

inline constexpr std::string_view kUnroutedLabel = "other";

}  // namespace hermes::daemon
