#pragma once

#include <boost/asio/awaitable.hpp>
#include <optional>
#include <string>

#include "daemon/platforms/responses/response_tables.hpp"
#include "daemon/state/transaction.hpp"

namespace hermes::daemon {
namespace state {
class StoreWorker;
}

namespace responses {

// Stored responses as the event loop sees them: every access runs on the store worker.
class ResponseStore {
 public:
  // The longest chain followed back (a 400 beyond: start a new chain).
  static constexpr int kMaxChainLength = 10000;

  ResponseStore(state::StoreWorker& worker, ResponseTables& tables)
      : worker_(worker), tables_(tables) {}

  // A row of `tx` (a turn's transaction): stored with the turn, or not at all.
  void add(state::Transaction& tx, StoredResponse response);
  boost::asio::awaitable<std::vector<StoredResponse>> resumable();
  // Durable when this returns; throws when it could not be stored.
  boost::asio::awaitable<void> finish(std::string id, std::string object_json,
                                      std::string conversation_json);
  boost::asio::awaitable<std::optional<std::string>> object_json(std::string id);
  boost::asio::awaitable<std::optional<std::string>> input_items_json(std::string id);
  boost::asio::awaitable<bool> remove(std::string id);
  boost::asio::awaitable<StoredChain> chain(std::string id);

 private:
  state::StoreWorker& worker_;
  ResponseTables& tables_;
};

}  // namespace responses
}  // namespace hermes::daemon
