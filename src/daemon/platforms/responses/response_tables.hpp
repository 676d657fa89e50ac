#pragma once

#include <optional>
#include <string>
#include <vector>

namespace hermes::daemon {
namespace state {
class SqlConnection;
}

namespace responses {

// One stored response: what GET returns, what input_items lists, and the chat messages it
// adds to its chain (its input, its tool rounds, its answer).
struct StoredResponse {
  std::string id;
  std::string previous_id;  // "" for the first of a chain
  double created_at = 0;
  std::string object_json;
  std::string input_items_json;
  std::string conversation_json;
  // Cut by a drain after complete tool rounds: in_progress, to be finished at the next start.
  bool resumable = false;
};

// A chain read back from its newest response: each response's conversation, oldest first.
struct StoredChain {
  enum class State { found, unknown, broken, too_long } state = State::unknown;
  std::string missing_id;  // broken: the deleted response the chain continued from
  std::vector<std::string> conversations;
};

// The responses table as one backend stores it. Called only on the store worker's thread,
// inside its transactions; a PostgreSQL backend implements the same.
class ResponseTables {
 public:
  virtual ~ResponseTables() = default;
  virtual void insert(const StoredResponse& response) = 0;
  virtual std::optional<std::string> object_json(const std::string& id) = 0;
  virtual std::optional<std::string> input_items_json(const std::string& id) = 0;
  virtual bool remove(const std::string& id) = 0;  // false: there was none
  // Follows previous ids back from `id`, at most `max_length` responses.
  virtual StoredChain chain(const std::string& id, int max_length) = 0;
  // The responses stored as resumable, oldest first.
  virtual std::vector<StoredResponse> resumable() = 0;
  // A resumed response's final object and conversation; it is resumable no more.
  virtual void finish(const std::string& id, const std::string& object_json,
                      const std::string& conversation_json) = 0;
};

class SqlResponseTables final : public ResponseTables {
 public:
  explicit SqlResponseTables(state::SqlConnection& db) : db_(db) {}
  void insert(const StoredResponse& response) override;
  std::optional<std::string> object_json(const std::string& id) override;
  std::optional<std::string> input_items_json(const std::string& id) override;
  bool remove(const std::string& id) override;
  StoredChain chain(const std::string& id, int max_length) override;
  std::vector<StoredResponse> resumable() override;
  void finish(const std::string& id, const std::string& object_json,
              const std::string& conversation_json) override;

 private:
  state::SqlConnection& db_;
};

}  // namespace responses
}  // namespace hermes::daemon
