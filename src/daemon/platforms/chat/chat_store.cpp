#include "daemon/platforms/chat/chat_store.hpp"

#include <chrono>

#include "daemon/state/sql_connection.hpp"
#include "daemon/state/store_worker.hpp"

namespace hermes::daemon::chat {

namespace asio = boost::asio;

void SqlChatTables::record_inbound(const std::string& platform, const Inbound& m) {
  auto insert = db_.prepare(
      "INSERT INTO inbound_messages(platform, update_id, chat_id, chat_key, user_id, username, "
      "message_id, text, media) VALUES(?,?,?,?,?,?,?,?,?) ON CONFLICT DO NOTHING");
  insert.bind(1, platform)
      .bind(2, m.update_id)
      .bind(3, m.chat_id)
      .bind(4, m.chat_key)
      .bind(5, m.user_id)
      .bind(6, m.username)
      .bind(7, m.message_id)
      .bind(8, m.text);
  if (!m.media.empty()) insert.bind(9, m.media);  // unbound: NULL, a text message
  insert.step();
}

std::optional<Inbound> SqlChatTables::next_inbound(const std::string& platform,
                                                   const std::string& chat_key) {
  auto query = db_.prepare(
      "SELECT update_id, chat_id, chat_key, user_id, username, message_id, text, media "
      "FROM inbound_messages WHERE platform = ? AND chat_key = ? AND done = 0 "
      "ORDER BY update_id LIMIT 1");
  query.bind(1, platform).bind(2, chat_key);
  if (!query.step()) return std::nullopt;
  return Inbound{query.integer(0), query.integer(1), query.text(2), query.integer(3),
                 query.text(4),    query.integer(5), query.text(6), query.text(7)};
}

std::vector<std::string> SqlChatTables::chats_with_inbound(const std::string& platform) {
  std::vector<std::string> chats;
  auto query =
      db_.prepare("SELECT DISTINCT chat_key FROM inbound_messages WHERE platform = ? AND done = 0");
  query.bind(1, platform);
  while (query.step()) chats.push_back(query.text(0));
  return chats;
}

std::optional<std::string> SqlChatTables::chat_key_of(const std::string& platform,
                                                      long long chat_id) {
  auto query = db_.prepare(
      "SELECT chat_key FROM inbound_messages WHERE platform = ? AND chat_id = ? "
      "ORDER BY update_id DESC LIMIT 1");
  query.bind(1, platform).bind(2, chat_id);
  if (!query.step()) return std::nullopt;
  return query.text(0);
}

void SqlChatTables::mark_inbound_done(const std::string& platform, long long update_id) {
  db_.prepare("UPDATE inbound_messages SET done = 1 WHERE platform = ? AND update_id = ?")
      .bind(1, platform)
      .bind(2, update_id)
      .step();
}

void SqlChatTables::queue_delivery(const std::string& platform, const Delivery& d) {
  auto insert = db_.prepare(
      "INSERT INTO pending_deliveries(platform, chat_id, reply_to, text, edit_message_id, "
      "cron_run_id, thread_id) VALUES(?,?,?,?,?,?,?)");
  insert.bind(1, platform).bind(2, d.chat_id).bind(3, d.reply_to).bind(4, d.text);
  if (d.edit_message_id != 0) insert.bind(5, d.edit_message_id);  // unbound: a new message
  if (d.cron_run_id != 0) insert.bind(6, d.cron_run_id);
  if (d.thread_id != 0) insert.bind(7, d.thread_id);
  insert.step();
}

void SqlChatTables::add_stream_message(const std::string& platform, long long update_id,
                                       long long position, long long message_id) {
  db_.prepare(
         "INSERT INTO stream_messages(platform, update_id, position, message_id) "
         "VALUES(?,?,?,?) ON CONFLICT(platform, update_id, position) "
         "DO UPDATE SET message_id = excluded.message_id")
      .bind(1, platform)
      .bind(2, update_id)
      .bind(3, position)
      .bind(4, message_id)
      .step();
}

std::vector<long long> SqlChatTables::stream_messages(const std::string& platform,
                                                      long long update_id) {
  auto query = db_.prepare(
      "SELECT message_id FROM stream_messages WHERE platform = ? AND update_id = ? "
      "ORDER BY position");
  query.bind(1, platform).bind(2, update_id);
  std::vector<long long> ids;
  while (query.step()) ids.push_back(query.integer(0));
  return ids;
}

std::optional<Delivery> SqlChatTables::next_delivery(const std::string& platform) {
  auto query = db_.prepare(
      "SELECT id, chat_id, reply_to, text, attempts, edit_message_id, cron_run_id, thread_id "
      "FROM "
      "pending_deliveries "
      "WHERE platform = ? AND abandoned = 0 ORDER BY id LIMIT 1");
  query.bind(1, platform);
  if (!query.step()) return std::nullopt;
  return Delivery{query.integer(0),
                  query.integer(1),
                  query.integer(2),
                  query.text(3),
                  static_cast<int>(query.integer(4)),
                  query.integer(5),
                  query.integer(6),
                  query.integer(7)};
}

void SqlChatTables::delivery_done(long long id, long long message_id, long long cron_run_id) {
  if (cron_run_id != 0)
    db_.prepare(
           "UPDATE cron_runs SET message_id = CASE WHEN message_id = '' THEN ? ELSE message_id "
           "END, "
           "delivery = CASE WHEN EXISTS (SELECT 1 FROM pending_deliveries p WHERE "
           "p.cron_run_id = cron_runs.id AND p.id <> ?) THEN 'pending' ELSE 'delivered' END "
           "WHERE id = (SELECT cron_run_id FROM pending_deliveries WHERE id = ?)")
        .bind(1, std::to_string(message_id))
        .bind(2, id)
        .bind(3, id)
        .step();
  db_.prepare("DELETE FROM pending_deliveries WHERE id = ?").bind(1, id).step();
}

void SqlChatTables::delivery_failed(long long id, const std::string& why, long long cron_run_id) {
  db_.prepare("UPDATE pending_deliveries SET attempts = attempts + 1 WHERE id = ?")
      .bind(1, id)
      .step();
  if (cron_run_id != 0)
    db_.prepare(
           "UPDATE cron_runs SET error = ? WHERE id = "
           "(SELECT cron_run_id FROM pending_deliveries WHERE id = ?)")
        .bind(1, "delivery failed: " + why)
        .bind(2, id)
        .step();
}

void SqlChatTables::delivery_abandoned(long long id) {
  db_.prepare("UPDATE pending_deliveries SET abandoned = 1 WHERE id = ?").bind(1, id).step();
  db_.prepare(
         "UPDATE cron_runs SET delivery = 'abandoned' WHERE id = "
         "(SELECT cron_run_id FROM pending_deliveries WHERE id = ?)")
      .bind(1, id)
      .step();
}

long long SqlChatTables::revive_abandoned(const std::string& platform) {
  db_.prepare(
         "UPDATE cron_runs SET delivery = 'pending' WHERE id IN (SELECT cron_run_id FROM "
         "pending_deliveries WHERE platform = ? AND abandoned = 1)")
      .bind(1, platform)
      .step();
  auto update = db_.prepare(
      "UPDATE pending_deliveries SET abandoned = 0, attempts = 0 "
      "WHERE platform = ? AND abandoned = 1 RETURNING 1");
  update.bind(1, platform);
  long long revived = 0;
  while (update.step()) ++revived;
  return revived;
}

std::optional<long long> SqlChatTables::platform_offset(const std::string& platform) {
  auto query = db_.prepare("SELECT value FROM platform_offsets WHERE platform = ?");
  query.bind(1, platform);
  if (!query.step()) return std::nullopt;
  return query.integer(0);
}

void SqlChatTables::set_platform_offset(const std::string& platform, long long value) {
  db_.prepare(
         "INSERT INTO platform_offsets(platform, value) VALUES(?, ?) "
         "ON CONFLICT(platform) DO UPDATE SET value = excluded.value")
      .bind(1, platform)
      .bind(2, value)
      .step();
}

asio::awaitable<void> ChatStore::record_poll(std::vector<Inbound> messages, long long offset) {
  std::function<void()> job = [this, &messages, offset] {
    for (const auto& m : messages) tables_.record_inbound(platform_, m);
    tables_.set_platform_offset(platform_, offset);
  };
  co_await worker_.run(std::move(job));
}

std::vector<long long> SqlChatTables::refused_users(const std::string& platform) {
  auto query = db_.prepare("SELECT user_id FROM refused_users WHERE platform = ?");
  query.bind(1, platform);
  std::vector<long long> users;
  while (query.step()) users.push_back(query.integer(0));
  return users;
}

void SqlChatTables::add_refused_user(const std::string& platform, long long user_id, double now) {
  db_.prepare(
         "INSERT INTO refused_users(platform, user_id, refused_at) VALUES(?,?,?) "
         "ON CONFLICT DO NOTHING")
      .bind(1, platform)
      .bind(2, user_id)
      .bind(3, now)
      .step();
}

asio::awaitable<std::optional<long long>> ChatStore::offset() {
  std::optional<long long> value;
  std::function<void()> job = [this, &value] { value = tables_.platform_offset(platform_); };
  co_await worker_.run(std::move(job));
  co_return value;
}

asio::awaitable<std::optional<std::string>> ChatStore::chat_key_of(long long chat_id) {
  std::optional<std::string> key;
  std::function<void()> job = [this, &key, chat_id] {
    key = tables_.chat_key_of(platform_, chat_id);
  };
  co_await worker_.run(std::move(job));
  co_return key;
}

asio::awaitable<std::optional<Inbound>> ChatStore::next_inbound(std::string chat_key) {
  std::optional<Inbound> next;
  std::function<void()> job = [this, &chat_key, &next] {
    next = tables_.next_inbound(platform_, chat_key);
  };
  co_await worker_.run(std::move(job));
  co_return next;
}

asio::awaitable<std::vector<std::string>> ChatStore::chats_with_inbound() {
  std::vector<std::string> chats;
  std::function<void()> job = [this, &chats] { chats = tables_.chats_with_inbound(platform_); };
  co_await worker_.run(std::move(job));
  co_return chats;
}

asio::awaitable<std::optional<Delivery>> ChatStore::next_delivery() {
  std::optional<Delivery> next;
  std::function<void()> job = [this, &next] { next = tables_.next_delivery(platform_); };
  co_await worker_.run(std::move(job));
  co_return next;
}

asio::awaitable<void> ChatStore::delivery_done(const Delivery& delivery, long long message_id) {
  std::function<void()> job = [this, id = delivery.id, run = delivery.cron_run_id, message_id] {
    tables_.delivery_done(id, message_id, run);
  };
  co_await worker_.run(std::move(job));
}

asio::awaitable<void> ChatStore::delivery_failed(const Delivery& delivery, std::string why) {
  std::function<void()> job = [this, id = delivery.id, run = delivery.cron_run_id, &why] {
    tables_.delivery_failed(id, why, run);
  };
  co_await worker_.run(std::move(job));
}

asio::awaitable<void> ChatStore::delivery_abandoned(long long id) {
  std::function<void()> job = [this, id] { tables_.delivery_abandoned(id); };
  co_await worker_.run(std::move(job));
}

asio::awaitable<long long> ChatStore::revive_abandoned() {
  long long revived = 0;
  std::function<void()> job = [this, &revived] { revived = tables_.revive_abandoned(platform_); };
  co_await worker_.run(std::move(job));
  co_return revived;
}

asio::awaitable<void> ChatStore::add_stream_message(long long update_id, long long position,
                                                    long long message_id) {
  std::function<void()> job = [this, update_id, position, message_id] {
    tables_.add_stream_message(platform_, update_id, position, message_id);
  };
  co_await worker_.run(std::move(job));
}

asio::awaitable<std::vector<long long>> ChatStore::stream_messages(long long update_id) {
  std::vector<long long> ids;
  std::function<void()> job = [this, &ids, update_id] {
    ids = tables_.stream_messages(platform_, update_id);
  };
  co_await worker_.run(std::move(job));
  co_return ids;
}

asio::awaitable<std::vector<long long>> ChatStore::refused_users() {
  std::vector<long long> users;
  std::function<void()> job = [this, &users] { users = tables_.refused_users(platform_); };
  co_await worker_.run(std::move(job));
  co_return users;
}

std::optional<std::string> SqlChatTables::platform_session(const std::string& platform) {
  auto query = db_.prepare("SELECT value FROM platform_sessions WHERE platform = ?");
  query.bind(1, platform);
  if (!query.step()) return std::nullopt;
  return query.text(0);
}

void SqlChatTables::set_platform_session(const std::string& platform, const std::string& value) {
  if (value.empty()) {
    db_.prepare("DELETE FROM platform_sessions WHERE platform = ?").bind(1, platform).step();
    return;
  }
  db_.prepare(
         "INSERT INTO platform_sessions(platform, value) VALUES(?, ?) "
         "ON CONFLICT(platform) DO UPDATE SET value = excluded.value")
      .bind(1, platform)
      .bind(2, value)
      .step();
}

asio::awaitable<std::pair<std::optional<std::string>, std::optional<long long>>>
ChatStore::platform_session() {
  std::pair<std::optional<std::string>, std::optional<long long>> out;
  std::function<void()> job = [this, &out] {
    out.first = tables_.platform_session(platform_);
    out.second = tables_.platform_offset(platform_);
  };
  co_await worker_.run(std::move(job));
  co_return out;
}

asio::awaitable<void> ChatStore::set_platform_session(std::string value, long long offset) {
  std::function<void()> job = [this, &value, offset] {
    tables_.set_platform_session(platform_, value);
    tables_.set_platform_offset(platform_, offset);
  };
  co_await worker_.run(std::move(job));
}

void ChatStore::add_refused_user(state::Transaction& tx, long long user_id) {
  const double now =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  tx.add([this, user_id, now] { tables_.add_refused_user(platform_, user_id, now); });
}

void ChatStore::mark_done(state::Transaction& tx, long long update_id) {
  tx.add([this, update_id] { tables_.mark_inbound_done(platform_, update_id); });
}

void ChatStore::queue_delivery(state::Transaction& tx, Delivery delivery) {
  tx.add([this, delivery = std::move(delivery)] { tables_.queue_delivery(platform_, delivery); });
}

}  // namespace hermes::daemon::chat
