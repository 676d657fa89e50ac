#pragma once

#include <boost/asio/awaitable.hpp>
#include <memory>
#include <optional>

#include "common/config.hpp"
#include "daemon/platforms/http_types.hpp"

namespace hermes::daemon {

class SessionStore;
class Conversation;
namespace usage {
class UsageLedger;
}

// The OpenAI-compatible API server platform: /v1/chat/completions (plain and streamed),
// Anthropic's /v1/messages,
// /v1/models, bearer-key auth, X-Hermes-Session-Id continuity. Every turn is stored before
// its reply is sent; turns on one session run one at a time, in order.
class ApiServer {
 public:
  ApiServer(const Config& config, SessionStore& store, Conversation& conversation,
            usage::UsageLedger& ledger);
  ~ApiServer();

  // GET /v1/models and POST /v1/chat/completions (the route table sends them here).
  boost::asio::awaitable<HttpResponse> models();
  boost::asio::awaitable<HttpResponse> chat_completions(HttpRequest request);
  // POST /v1/messages (Anthropic's shapes, the same turn) and /v1/messages/count_tokens.
  boost::asio::awaitable<HttpResponse> messages(HttpRequest request);
  boost::asio::awaitable<HttpResponse> count_tokens(HttpRequest request);
  // GET /v1/usage?since=…&by=…: token and cost totals.
  boost::asio::awaitable<HttpResponse> usage(HttpRequest request);
  // True when `request` carries the configured key (or no key is configured).
  bool authorized(const HttpRequest& request) const;
  void reconfigure(const Config& config);
  // Finishes the turns a previous process's drain cut after complete tool rounds (their rounds
  // are stored; no tool runs again): the session gets the answer. Run once after READY.
  boost::asio::awaitable<void> resume_interrupted_turns();

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace hermes::daemon
