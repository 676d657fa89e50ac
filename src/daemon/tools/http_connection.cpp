#include "daemon/tools/http_connection.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <deque>
#include <optional>

#include "common/ascii_case.hpp"
#include "common/logging.hpp"
#include "daemon/providers/http_client.hpp"
#include "daemon/tools/mcp_protocol.hpp"
#include "daemon/tools/server_log.hpp"

namespace hermes::daemon::tools {

namespace asio = boost::asio;
using nlohmann::json;

namespace {

std::string dump(const json& value) {
  return value.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string version_of(const json& result) {
  const auto it = result.is_object() ? result.find("protocolVersion") : result.end();
  return it != result.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::string header_of(const providers::HttpReply& reply, std::string_view name) {
  for (const auto& [key, value] : reply.headers) {
    if (equals_ignoring_case(key, name)) return value;
  }
  return {};
}

}  // namespace

struct HttpConnection::Impl : std::enable_shared_from_this<HttpConnection::Impl> {
  Impl(asio::io_context& io_context, std::string s, std::string u,
       std::map<std::string, std::string> h)
      : io(io_context),
        client(io_context),
        server(std::move(s)),
        url(std::move(u)),
        headers(std::move(h)) {}

  providers::HttpCall http_call(const json& message, std::chrono::milliseconds timeout) const {
    providers::HttpCall call;
    call.url = url;
    call.body = dump(message);
    call.timeout = timeout;
    call.headers.emplace_back("Accept", "application/json, text/event-stream");
    for (const auto& [name, value] : headers) call.headers.emplace_back(name, value);
    if (!session_id.empty()) call.headers.emplace_back("Mcp-Session-Id", session_id);
    if (!version.empty()) call.headers.emplace_back("MCP-Protocol-Version", version);
    return call;
  }

  // What arrives before the response on an SSE answer: notifications, or server requests
  // (answered in a POST of their own).
  void dispatch(const mcp::Incoming& message) {
    if (message.kind == mcp::MessageKind::request) {
      notify_message(message.method == "ping" ? mcp::empty_result(message.id)
                                              : mcp::method_not_found(message.id, message.method));
    } else if (message.kind == mcp::MessageKind::notification) {
      if (message.method == "notifications/message")
        log_server_message(server, message.params, log_limiter);
      if (notified) notified(message.method, message.params);
    }
  }

  // Gathers the response to `id` from an SSE answer; everything else is dispatched.
  struct Collector {
    Impl* impl;
    long long id;
    std::optional<mcp::Incoming> response;
    asio::awaitable<bool> on_event(std::string data) {
      auto message = mcp::read_message(data);
      if (message.kind == mcp::MessageKind::response && message.id.is_number_integer() &&
          message.id.get<long long>() == id) {
        response = std::move(message);
        co_return false;  // the response ends what this request waits for
      }
      impl->dispatch(message);
      co_return true;
    }
  };

  asio::awaitable<RpcReply> send(long long id, const json& message,
                                 std::chrono::milliseconds timeout,
                                 std::shared_ptr<providers::AbortSignal> abort, int& http_status) {
    RpcReply out;
    auto collector = std::make_shared<Collector>(Collector{this, id, std::nullopt});
    providers::EventSink sink = [collector](std::string data) {
      return collector->on_event(std::move(data));
    };
    auto call = http_call(message, timeout);
    call.abort = std::move(abort);
    auto reply = co_await client.post(std::move(call), std::move(sink));
    http_status = reply.status;
    if (const auto id_header = header_of(reply, "Mcp-Session-Id"); !id_header.empty()) {
      session_id = id_header;
    }
    if (collector->response) {
      // An SSE stream cut after the response is no failure of the call.
    } else if (reply.failure == providers::TransportFailure::aborted) {
      out.cancelled = true;
      out.error = "cancelled";
      co_return out;
    } else if (reply.failure == providers::TransportFailure::timeout) {
      out.timed_out = true;
      out.error = "no answer within " + std::to_string(timeout.count() / 1000) + " s";
      co_return out;
    } else if (reply.failure != providers::TransportFailure::none) {
      out.error = reply.failure_detail;
      out.unreachable = true;
      co_return out;
    } else if (reply.status != 200) {
      out.error = "HTTP " + std::to_string(reply.status) + " from " + url;
      co_return out;
    } else {
      collector->response = mcp::read_message(reply.body);
    }
    const auto& response = *collector->response;
    if (response.kind != mcp::MessageKind::response) {
      out.error = "the answer is not a JSON-RPC response (" + response.problem + ")";
    } else if (response.error) {
      out.error = mcp::describe_error(*response.error);
    } else {
      out.ok = true;
      out.result = response.result;
    }
    co_return out;
  }

  // What the gateway posts to the server (notifications, answers to its requests) goes out a
  // few at a time from a bounded queue: a server that streams thousands of requests gets its
  // answers queued, and past the bound dropped with a log line, not a connection each.
  void notify_message(json message) {
    if (outgoing.size() >= kMaxQueuedPosts) {
      if (dropped_posts++ % 1000 == 0) {
        spdlog::warn("mcp {}: more than {} messages wait to be posted; dropping ({} so far)",
                     server, kMaxQueuedPosts, dropped_posts);
      }
      return;
    }
    outgoing.push_back(std::move(message));
    while (posting < kPostsAtOnce && posting < static_cast<int>(outgoing.size())) {
      ++posting;
      asio::co_spawn(io, post_queued(shared_from_this()),
                     [](std::exception_ptr e) { log_exception(e, "MCP notification"); });
    }
  }

  static asio::awaitable<void> post_queued(std::shared_ptr<Impl> self) {
    while (!self->outgoing.empty()) {
      json message = std::move(self->outgoing.front());
      self->outgoing.pop_front();
      co_await post_notification(self, std::move(message));
    }
    --self->posting;
  }

  static asio::awaitable<void> post_notification(std::shared_ptr<Impl> self, json message) {
    auto call = self->http_call(message, std::chrono::seconds(10));
    auto reply = co_await self->client.post(std::move(call));
    if (reply.failure != providers::TransportFailure::none ||
        (reply.status != 202 && reply.status != 200)) {
      spdlog::debug("mcp {}: a notification was not accepted (HTTP {})", self->server,
                    reply.status);
    }
  }

  static constexpr int kPostsAtOnce = 4;
  static constexpr std::size_t kMaxQueuedPosts = 1024;
  std::deque<json> outgoing;
  int posting = 0;  // post_queued loops running
  std::size_t dropped_posts = 0;

  asio::io_context& io;
  providers::HttpClient client;
  std::string server;
  LogLimiter log_limiter;
  std::string url;
  std::map<std::string, std::string> headers;
  std::string session_id;
  std::string version;     // negotiated: sent as MCP-Protocol-Version from then on
  json initialize_params;  // kept to initialize again when the session ends
  long long next_id = 1;
  NotificationHandler notified;
};

HttpConnection::HttpConnection(asio::io_context& io, std::string server, std::string url,
                               std::map<std::string, std::string> headers)
    : impl_(std::make_shared<Impl>(io, std::move(server), std::move(url), std::move(headers))) {}

HttpConnection::~HttpConnection() {
  impl_->notified = nullptr;
  impl_->client.abort_all();
}

asio::awaitable<RpcReply> HttpConnection::call(std::string method, json params,
                                               std::chrono::milliseconds timeout,
                                               std::shared_ptr<providers::AbortSignal> abort) {
  auto impl = impl_;
  if (method == "initialize") {
    impl->initialize_params = params;
    impl->session_id.clear();
    impl->version.clear();
  }
  const long long id = impl->next_id++;
  const json message = mcp::request(id, method, params);
  int status = 0;
  auto reply = co_await impl->send(id, message, timeout, abort, status);
  if (method == "initialize" && reply.ok) {
    impl->version = version_of(reply.result);
  }
  // 404 on a session we had: it ended on the server. Initialize again, then resend once.
  if (status == 404 && method != "initialize" && !impl->session_id.empty()) {
    spdlog::info("mcp {}: the session ended on the server; initializing again", impl->server);
    impl->session_id.clear();
    impl->version.clear();
    const long long init_id = impl->next_id++;
    const json hello = mcp::request(init_id, "initialize", impl->initialize_params);
    auto again = co_await impl->send(init_id, hello, timeout, abort, status);
    if (!again.ok) co_return again;
    impl->version = version_of(again.result);
    impl->notify_message(mcp::notification("notifications/initialized"));
    const long long retry_id = impl->next_id++;
    const json retry = mcp::request(retry_id, method, params);
    reply = co_await impl->send(retry_id, retry, timeout, abort, status);
  }
  if (reply.cancelled || reply.timed_out) {
    impl->notify_message(
        mcp::notification("notifications/cancelled", {{"requestId", id}, {"reason", reply.error}}));
  }
  co_return reply;
}

void HttpConnection::notify(std::string method, json params) {
  impl_->notify_message(mcp::notification(method, std::move(params)));
}

void HttpConnection::set_handlers(NotificationHandler notified, ExitHandler) {
  impl_->notified = std::move(notified);
}

asio::awaitable<void> HttpConnection::stop() {
  impl_->client.abort_all();
  co_return;
}

}  // namespace hermes::daemon::tools
