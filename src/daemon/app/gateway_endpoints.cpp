#include "daemon/app/gateway_endpoints.hpp"

#include "daemon/dashboard/dashboard.hpp"
#include "daemon/platforms/api_server.hpp"
#include "daemon/platforms/responses/responses_api.hpp"

namespace hermes::daemon {

namespace asio = boost::asio;

asio::awaitable<HttpResponse> GatewayEndpoints::health(HttpRequest, RouteParams) {
  co_return health_response(view_());
}

asio::awaitable<HttpResponse> GatewayEndpoints::metrics(HttpRequest, RouteParams) {
  co_return metrics_response(metrics_text_());
}

asio::awaitable<HttpResponse> GatewayEndpoints::models(HttpRequest, RouteParams) {
  co_return co_await api_.models();
}

asio::awaitable<HttpResponse> GatewayEndpoints::chat_completions(HttpRequest request, RouteParams) {
  co_return co_await api_.chat_completions(std::move(request));
}

asio::awaitable<HttpResponse> GatewayEndpoints::create_response(HttpRequest request, RouteParams) {
  co_return co_await responses_.create(std::move(request));
}

asio::awaitable<HttpResponse> GatewayEndpoints::get_response(HttpRequest, RouteParams params) {
  co_return co_await responses_.retrieve(std::move(params.id));
}

asio::awaitable<HttpResponse> GatewayEndpoints::delete_response(HttpRequest, RouteParams params) {
  co_return co_await responses_.remove(std::move(params.id));
}

asio::awaitable<HttpResponse> GatewayEndpoints::response_input_items(HttpRequest request,
                                                                     RouteParams params) {
  std::string query(request.query());
  co_return co_await responses_.input_items(std::move(params.id), std::move(query));
}

asio::awaitable<HttpResponse> GatewayEndpoints::usage(HttpRequest request, RouteParams) {
  co_return co_await api_.usage(std::move(request));
}

asio::awaitable<HttpResponse> GatewayEndpoints::messages(HttpRequest request, RouteParams) {
  co_return co_await api_.messages(std::move(request));
}

asio::awaitable<HttpResponse> GatewayEndpoints::count_tokens(HttpRequest request, RouteParams) {
  co_return co_await api_.count_tokens(std::move(request));
}

asio::awaitable<HttpResponse> GatewayEndpoints::webhook(HttpRequest request, RouteParams params) {
  co_return co_await webhook_(std::move(request), std::move(params.id));
}

asio::awaitable<HttpResponse> GatewayEndpoints::ui_page(HttpRequest request, RouteParams) {
  co_return dashboard_.serve_page(request.path());
}

asio::awaitable<HttpResponse> GatewayEndpoints::ui_api(HttpRequest request, RouteParams params) {
  co_return co_await dashboard_.serve_api(std::move(request), std::move(params.id));
}

}  // namespace hermes::daemon
