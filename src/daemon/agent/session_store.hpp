#pragma once

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "daemon/providers/openai_chat.hpp"

struct sqlite3;

namespace hermes::daemon {

// $HERMES_HOME/state.db (SQLite, WAL): sessions, messages, platform offsets. Opened before
// READY; closed (with a WAL checkpoint) as the last step of a drain.
class SessionStore {
 public:
  // Opens or creates the database and its schema. Throws std::runtime_error with the path
  // and SQLite's message when that fails.
  explicit SessionStore(const std::filesystem::path& file);
  ~SessionStore();
  SessionStore(const SessionStore&) = delete;
  SessionStore& operator=(const SessionStore&) = delete;

  long count_sessions() const;

  // A new session; returns its id ("hs_" + 32 hex digits).
  std::string create_session(const std::string& platform, const std::string& chat_key = "");
  bool session_exists(const std::string& id) const;
  // Durable when this returns (WAL, synchronous=NORMAL): written before any reply is sent.
  void append_message(const std::string& session_id, const std::string& role,
                      const std::string& content);
  std::vector<providers::ChatMessage> load_messages(const std::string& session_id) const;

  // The newest session of a chat, created when it has none.
  std::string chat_session(const std::string& platform, const std::string& chat_key);

  // Chat-platform messages, recorded before the poll offset moves past them, so a crash or
  // restart neither loses nor repeats one.
  struct Inbound {
    long long update_id = 0;
    long long chat_id = 0;
    std::string chat_key;  // chat, or chat:user in groups
    long long user_id = 0;
    std::string username;
    long long message_id = 0;
    std::string text;
  };
  bool record_inbound(const std::string& platform, const Inbound& message);  // false: seen before
  std::optional<Inbound> next_inbound(const std::string& platform,
                                      const std::string& chat_key) const;
  std::vector<std::string> chats_with_inbound(const std::string& platform) const;
  void mark_inbound_done(const std::string& platform, long long update_id);

  // Replies not yet delivered; removed once the platform accepted them.
  struct Delivery {
    long long id = 0;
    long long chat_id = 0;
    long long reply_to = 0;  // 0: not a reply
    std::string text;
    int attempts = 0;
  };
  void queue_delivery(const std::string& platform, const Delivery& delivery);
  std::optional<Delivery> next_delivery(const std::string& platform) const;
  void delivery_done(long long id);
  void delivery_failed(long long id);

  // Runs `work` in one transaction: all of it is stored, or none.
  void in_transaction(const std::function<void()>& work);

  std::optional<long long> platform_offset(const std::string& platform) const;
  void set_platform_offset(const std::string& platform, long long value);
  // Checkpoints the WAL and closes; later calls are no-ops.
  void close();
  bool is_open() const { return db_ != nullptr; }

 private:
  void exec(const char* sql) const;
  std::filesystem::path file_;
  sqlite3* db_ = nullptr;
};

}  // namespace hermes::daemon
