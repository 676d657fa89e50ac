#pragma once

#include <string>

namespace hermes::daemon::chat {

// A chat message, recorded before the platform's offset or acknowledgement moves past it, so
// a crash or restart neither loses nor repeats one.
struct Inbound {
  long long update_id = 0;  // the platform's id of the event: one reply per id
  long long chat_id = 0;
  std::string chat_key;  // the session key (chat::session_key)
  long long user_id = 0;
  std::string username;
  long long message_id = 0;
  std::string text;   // the text, or a media message's caption
  std::string media;  // photo | voice | video | sticker | document | …: a message without text
};

// A press of an inline button (an approval's Approve or Deny).
struct ButtonPress {
  std::string id;  // the platform's, to answer the press
  long long user_id = 0;
  std::string username;
  long long chat_id = 0;
  std::string data;
};

}  // namespace hermes::daemon::chat
