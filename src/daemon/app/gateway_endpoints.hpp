#pragma once

#include <functional>
#include <string>

#include "daemon/platforms/basic_routes.hpp"
#include "daemon/platforms/route_table.hpp"

namespace hermes::daemon {

class ApiServer;
namespace dashboard {
class Dashboard;
}
namespace responses {
class ResponsesApi;
}

// The route table's handlers: /health and /metrics from what the app reports, the /v1 ones
// from the API server and the Responses API.
class GatewayEndpoints final : public Endpoints {
 public:
  using WebhookHandler =
      std::function<boost::asio::awaitable<HttpResponse>(HttpRequest, std::string)>;
  GatewayEndpoints(ApiServer& api, responses::ResponsesApi& responses,
                   std::function<ServerView()> view, std::function<std::string()> metrics_text,
                   WebhookHandler webhook, dashboard::Dashboard& dashboard)
      : api_(api),
        responses_(responses),
        view_(std::move(view)),
        metrics_text_(std::move(metrics_text)),
        webhook_(std::move(webhook)),
        dashboard_(dashboard) {}

  boost::asio::awaitable<HttpResponse> health(HttpRequest request, RouteParams params) override;
  boost::asio::awaitable<HttpResponse> metrics(HttpRequest request, RouteParams params) override;
  boost::asio::awaitable<HttpResponse> models(HttpRequest request, RouteParams params) override;
  boost::asio::awaitable<HttpResponse> chat_completions(HttpRequest request,
                                                        RouteParams params) override;
  boost::asio::awaitable<HttpResponse> create_response(HttpRequest request,
                                                       RouteParams params) override;
  boost::asio::awaitable<HttpResponse> get_response(HttpRequest request,
                                                    RouteParams params) override;
  boost::asio::awaitable<HttpResponse> delete_response(HttpRequest request,
                                                       RouteParams params) override;
  boost::asio::awaitable<HttpResponse> response_input_items(HttpRequest request,
                                                            RouteParams params) override;
  boost::asio::awaitable<HttpResponse> usage(HttpRequest request, RouteParams params) override;
  boost::asio::awaitable<HttpResponse> messages(HttpRequest request, RouteParams params) override;
  boost::asio::awaitable<HttpResponse> count_tokens(HttpRequest request,
                                                    RouteParams params) override;
  boost::asio::awaitable<HttpResponse> webhook(HttpRequest request, RouteParams params) override;
  boost::asio::awaitable<HttpResponse> ui_page(HttpRequest request, RouteParams params) override;
  boost::asio::awaitable<HttpResponse> ui_api(HttpRequest request, RouteParams params) override;

 private:
  ApiServer& api_;
  responses::ResponsesApi& responses_;
  std::function<ServerView()> view_;
  std::function<std::string()> metrics_text_;
  WebhookHandler webhook_;
  dashboard::Dashboard& dashboard_;
};

}  // namespace hermes::daemon
