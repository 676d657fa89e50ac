#pragma once

#include <boost/asio/awaitable.hpp>
#include <memory>
#include <string>

#include "common/config.hpp"
#include "daemon/platforms/http_types.hpp"

namespace hermes::daemon {

class Conversation;

namespace responses {

class ResponseStore;

// /v1/responses: the same agent loop as chat completions (MCP tools, failover, client
// function tools), with the conversation kept as a chain of stored responses, so
// previous_response_id continues one across restarts.
class ResponsesApi {
 public:
  ResponsesApi(const Config& config, ResponseStore& store, Conversation& conversation);
  ~ResponsesApi();

  boost::asio::awaitable<HttpResponse> create(HttpRequest request);
  boost::asio::awaitable<HttpResponse> retrieve(std::string id);
  boost::asio::awaitable<HttpResponse> remove(std::string id);
  boost::asio::awaitable<HttpResponse> input_items(std::string id, std::string query);
  void reconfigure(const Config& config);
  // Finishes the responses a previous process's drain cut after complete tool rounds (stored
  // in_progress): each gets its answer. Run once after READY.
  boost::asio::awaitable<void> resume_cut_responses();

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace responses
}  // namespace hermes::daemon
