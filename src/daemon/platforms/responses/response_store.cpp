#include "daemon/platforms/responses/response_store.hpp"

#include <functional>

#include "daemon/state/store_worker.hpp"

namespace hermes::daemon::responses {

namespace asio = boost::asio;

// Jobs are named std::function variables: GCC 12 mishandles temporaries inside co_await.

void ResponseStore::add(state::Transaction& tx, StoredResponse response) {
  tx.add([this, response = std::move(response)] { tables_.insert(response); });
}

asio::awaitable<std::vector<StoredResponse>> ResponseStore::resumable() {
  std::vector<StoredResponse> found;
  std::function<void()> job = [this, &found] { found = tables_.resumable(); };
  co_await worker_.run(std::move(job));
  co_return found;
}

asio::awaitable<void> ResponseStore::finish(std::string id, std::string object_json,
                                            std::string conversation_json) {
  std::function<void()> job = [this, &id, &object_json, &conversation_json] {
    tables_.finish(id, object_json, conversation_json);
  };
  co_await worker_.run(std::move(job));
}

asio::awaitable<std::optional<std::string>> ResponseStore::object_json(std::string id) {
  std::optional<std::string> found;
  std::function<void()> job = [this, &id, &found] { found = tables_.object_json(id); };
  co_await worker_.run(std::move(job));
  co_return found;
}

asio::awaitable<std::optional<std::string>> ResponseStore::input_items_json(std::string id) {
  std::optional<std::string> found;
  std::function<void()> job = [this, &id, &found] { found = tables_.input_items_json(id); };
  co_await worker_.run(std::move(job));
  co_return found;
}

asio::awaitable<bool> ResponseStore::remove(std::string id) {
  bool removed = false;
  std::function<void()> job = [this, &id, &removed] { removed = tables_.remove(id); };
  co_await worker_.run(std::move(job));
  co_return removed;
}

asio::awaitable<StoredChain> ResponseStore::chain(std::string id) {
  StoredChain chain;
  std::function<void()> job = [this, &id, &chain] { chain = tables_.chain(id, kMaxChainLength); };
  co_await worker_.run(std::move(job));
  co_return chain;
}

}  // namespace hermes::daemon::responses
