// The coroutine half of the route table (the matching stays free of Asio, for the fuzzers).
#include "daemon/platforms/route_table.hpp"

namespace hermes::daemon {

boost::asio::awaitable<HttpResponse> dispatch(std::span<const Route> routes, Endpoints& endpoints,
                                              HttpRequest request, bool authorized) {
  auto matched = match_route(routes, request.method, request.path(), authorized);
  if (auto* refusal = std::get_if<HttpResponse>(&matched)) co_return std::move(*refusal);
  auto& match = std::get<RouteMatch>(matched);
  const Route& route = *match.route;
  HttpResponse response =
      co_await (endpoints.*route.handler)(std::move(request), std::move(match.params));
  response.route_label = route.pattern;
  co_return response;
}

}  // namespace hermes::daemon
