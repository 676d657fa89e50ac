#include "daemon/platforms/responses/response_tables.hpp"
#include "daemon/state/sql_connection.hpp"

namespace hermes::daemon::responses {

void SqlResponseTables::insert(const StoredResponse& r) {
  auto insert = db_.prepare(
      "INSERT INTO responses(id, previous_id, created_at, object, input_items, conversation, "
      "resumable) VALUES(?,?,?,?,?,?,?)");
  insert.bind(1, r.id).bind(3, r.created_at).bind(4, r.object_json);
  if (!r.previous_id.empty()) insert.bind(2, r.previous_id);  // unbound: NULL
  insert.bind(5, r.input_items_json).bind(6, r.conversation_json);
  insert.bind(7, r.resumable ? 1LL : 0LL).step();
}

std::optional<std::string> SqlResponseTables::object_json(const std::string& id) {
  auto query = db_.prepare("SELECT object FROM responses WHERE id = ?");
  if (query.bind(1, id).step()) return query.text(0);
  return std::nullopt;
}

std::optional<std::string> SqlResponseTables::input_items_json(const std::string& id) {
  auto query = db_.prepare("SELECT input_items FROM responses WHERE id = ?");
  if (query.bind(1, id).step()) return query.text(0);
  return std::nullopt;
}

bool SqlResponseTables::remove(const std::string& id) {
  return db_.prepare("DELETE FROM responses WHERE id = ? RETURNING 1").bind(1, id).step();
}

StoredChain SqlResponseTables::chain(const std::string& id, int max_length) {
  // One statement walks the chain (primary-key lookups), oldest first.
  auto query = db_.prepare(
      "WITH RECURSIVE chain(id, previous_id, conversation, depth) AS ("
      "  SELECT id, previous_id, conversation, 0 FROM responses WHERE id = ?1"
      "  UNION ALL"
      "  SELECT r.id, r.previous_id, r.conversation, chain.depth + 1"
      "  FROM responses r JOIN chain ON r.id = chain.previous_id WHERE chain.depth + 1 < ?2"
      ") SELECT previous_id, conversation FROM chain ORDER BY depth DESC");
  query.bind(1, id).bind(2, static_cast<long long>(max_length));
  StoredChain chain;
  bool first = true;
  while (query.step()) {
    if (first) {
      // The oldest found still names a previous one: deleted (or past max_length).
      chain.missing_id = query.text(0);
      first = false;
    }
    chain.conversations.push_back(query.text(1));
  }
  if (chain.conversations.empty()) return chain;
  if (chain.missing_id.empty()) {
    chain.state = StoredChain::State::found;
  } else {
    chain.state = static_cast<int>(chain.conversations.size()) >= max_length
                      ? StoredChain::State::too_long
                      : StoredChain::State::broken;
  }
  return chain;
}

std::vector<StoredResponse> SqlResponseTables::resumable() {
  auto query = db_.prepare(
      "SELECT id, previous_id, created_at, object, input_items, conversation FROM responses "
      "WHERE resumable = 1 ORDER BY created_at");
  std::vector<StoredResponse> out;
  while (query.step()) {
    StoredResponse r;
    r.id = query.text(0);
    r.previous_id = query.is_null(1) ? std::string() : query.text(1);
    r.created_at = query.real(2);
    r.object_json = query.text(3);
    r.input_items_json = query.text(4);
    r.conversation_json = query.text(5);
    r.resumable = true;
    out.push_back(std::move(r));
  }
  return out;
}

void SqlResponseTables::finish(const std::string& id, const std::string& object_json,
                               const std::string& conversation_json) {
  db_.prepare("UPDATE responses SET object = ?, conversation = ?, resumable = 0 WHERE id = ?")
      .bind(1, object_json)
      .bind(2, conversation_json)
      .bind(3, id)
      .step();
}

}  // namespace hermes::daemon::responses
