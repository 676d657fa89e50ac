#pragma once

#include <boost/asio/awaitable.hpp>
#include <optional>
#include <string>
#include <vector>

#include "daemon/platforms/chat/inbound.hpp"
#include "daemon/state/transaction.hpp"

namespace hermes::daemon {

namespace state {
class SqlConnection;
class StoreWorker;
}  // namespace state

namespace chat {

// A reply not yet delivered; removed once the platform accepted it.
struct Delivery {
  long long id = 0;
  long long chat_id = 0;
  long long reply_to = 0;  // 0: not a reply
  std::string text;
  int attempts = 0;
  long long edit_message_id = 0;  // set: edit that message to `text` instead of sending
  long long cron_run_id = 0;      // set: the job or webhook run whose result this delivers
  long long thread_id = 0;        // a job's target thread (Telegram's forum topic)
};

// The inbox, outbox and poll offset as one backend stores them; store worker thread only.
class ChatTables {
 public:
  virtual ~ChatTables() = default;
  virtual void record_inbound(const std::string& platform, const Inbound& message) = 0;
  virtual std::optional<Inbound> next_inbound(const std::string& platform,
                                              const std::string& chat_key) = 0;
  virtual std::vector<std::string> chats_with_inbound(const std::string& platform) = 0;
  virtual void mark_inbound_done(const std::string& platform, long long update_id) = 0;
  // The session key of the newest message recorded from `chat_id` (a platform whose chat ids
  // stand for text finds the conversation again after a restart).
  virtual std::optional<std::string> chat_key_of(const std::string& platform,
                                                 long long chat_id) = 0;
  virtual void queue_delivery(const std::string& platform, const Delivery& delivery) = 0;
  virtual std::optional<Delivery> next_delivery(const std::string& platform) = 0;
  // A run's delivery follows its parts: `delivered` with the first part's message id once the
  // last is sent; the last failure's reason meanwhile; `abandoned` when one is given up on.
  // `cron_run_id`: the delivery's (0: a chat reply, no run to update).
  virtual void delivery_done(long long id, long long message_id, long long cron_run_id) = 0;
  virtual void delivery_failed(long long id, const std::string& why, long long cron_run_id) = 0;
  // Kept, skipped by next_delivery, until revived (its attempts start over).
  virtual void delivery_abandoned(long long id) = 0;
  virtual long long revive_abandoned(const std::string& platform) = 0;
  virtual std::optional<long long> platform_offset(const std::string& platform) = 0;
  virtual void set_platform_offset(const std::string& platform, long long value) = 0;
  virtual std::vector<long long> refused_users(const std::string& platform) = 0;
  // The messages a reply to `update_id` is streamed into, in order.
  virtual void add_stream_message(const std::string& platform, long long update_id,
                                  long long position, long long message_id) = 0;
  virtual std::vector<long long> stream_messages(const std::string& platform,
                                                 long long update_id) = 0;
  virtual void add_refused_user(const std::string& platform, long long user_id, double now) = 0;
  // What a platform keeps to resume its connection after a restart (opaque text); "" clears.
  virtual std::optional<std::string> platform_session(const std::string& platform) = 0;
  virtual void set_platform_session(const std::string& platform, const std::string& value) = 0;
};

class SqlChatTables final : public ChatTables {
 public:
  explicit SqlChatTables(state::SqlConnection& db) : db_(db) {}
  void record_inbound(const std::string& platform, const Inbound& message) override;
  std::optional<Inbound> next_inbound(const std::string& platform,
                                      const std::string& chat_key) override;
  std::vector<std::string> chats_with_inbound(const std::string& platform) override;
  void mark_inbound_done(const std::string& platform, long long update_id) override;
  std::optional<std::string> chat_key_of(const std::string& platform, long long chat_id) override;
  void queue_delivery(const std::string& platform, const Delivery& delivery) override;
  std::optional<Delivery> next_delivery(const std::string& platform) override;
  void delivery_done(long long id, long long message_id, long long cron_run_id) override;
  void delivery_failed(long long id, const std::string& why, long long cron_run_id) override;
  void delivery_abandoned(long long id) override;
  long long revive_abandoned(const std::string& platform) override;
  std::optional<long long> platform_offset(const std::string& platform) override;
  void set_platform_offset(const std::string& platform, long long value) override;
  std::vector<long long> refused_users(const std::string& platform) override;
  void add_stream_message(const std::string& platform, long long update_id, long long position,
                          long long message_id) override;
  std::vector<long long> stream_messages(const std::string& platform, long long update_id) override;
  void add_refused_user(const std::string& platform, long long user_id, double now) override;
  std::optional<std::string> platform_session(const std::string& platform) override;
  void set_platform_session(const std::string& platform, const std::string& value) override;

 private:
  state::SqlConnection& db_;
};

// The platform's view: every access runs on the store worker and is awaited.
class ChatStore {
 public:
  ChatStore(state::StoreWorker& worker, ChatTables& tables, std::string platform)
      : worker_(worker), tables_(tables), platform_(std::move(platform)) {}

  // Records a poll's messages and moves the offset past them, in one transaction.
  boost::asio::awaitable<void> record_poll(std::vector<Inbound> messages, long long offset);
  boost::asio::awaitable<std::optional<long long>> offset();
  boost::asio::awaitable<std::optional<Inbound>> next_inbound(std::string chat_key);
  boost::asio::awaitable<std::vector<std::string>> chats_with_inbound();
  boost::asio::awaitable<std::optional<std::string>> chat_key_of(long long chat_id);
  boost::asio::awaitable<std::optional<Delivery>> next_delivery();
  boost::asio::awaitable<void> delivery_done(const Delivery& delivery, long long message_id);
  boost::asio::awaitable<void> delivery_failed(const Delivery& delivery, std::string why);
  boost::asio::awaitable<void> delivery_abandoned(long long id);
  // Abandoned replies become pending again; how many.
  boost::asio::awaitable<long long> revive_abandoned();

  // A message a reply is streamed into, stored at once (a restart edits it, never re-sends).
  boost::asio::awaitable<void> add_stream_message(long long update_id, long long position,
                                                  long long message_id);
  boost::asio::awaitable<std::vector<long long>> stream_messages(long long update_id);
  // Users told once that they are not allowed (kept across restarts).
  boost::asio::awaitable<std::vector<long long>> refused_users();
  // The connection to resume (Discord's session) and the offset (its sequence), read together.
  boost::asio::awaitable<std::pair<std::optional<std::string>, std::optional<long long>>>
  platform_session();
  boost::asio::awaitable<void> set_platform_session(std::string value, long long offset);

  // Rows for a transaction that also holds session rows.
  void mark_done(state::Transaction& tx, long long update_id);
  void add_refused_user(state::Transaction& tx, long long user_id);
  void queue_delivery(state::Transaction& tx, Delivery delivery);

 private:
  state::StoreWorker& worker_;
  ChatTables& tables_;
  std::string platform_;
};

}  // namespace chat
}  // namespace hermes::daemon
