#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/providers/classification.hpp"

namespace hermes::daemon::chat {

// Telegram's limit on one message, in UTF-16 code units.
inline constexpr std::size_t kMaxMessageUnits = 4096;

// Splits a long answer into messages of at most `limit` UTF-16 units, cutting at a paragraph
// break, else a line break, else a sentence end, else a space; never inside a UTF-8 sequence.
std::vector<std::string> split_message(std::string_view text, std::size_t limit = kMaxMessageUnits);
std::size_t utf16_units(std::string_view text);

enum class Command { none, new_session, status, help, compress, usage, stop, approve, deny, cron };
// "/new", "/reset", "/status@my_bot", "/help", "/compress", "/usage" → the command;
// anything else → none.
Command parse_command(std::string_view text);

std::string failed_turn_reply(const providers::Classification& failure);
std::string interrupted_turn_reply();
std::string new_session_reply();
std::string help_reply();
std::string refusal_reply();
std::string stopped_reply();
// A turn stopped from outside the chat (the gateway's dashboard).
std::string stopped_elsewhere_reply();
// The question for a tool in require_approval: the tool and its arguments (cut to 300
// characters, secrets masked).
std::string approval_prompt(const std::string& tool, const std::string& arguments);
// "🔧 read_text_file notes.txt": the tool and its first argument, short and redacted.
std::string tool_progress_line(const std::string& tool, const std::string& arguments_json);
std::string nothing_to_stop_reply();
// The answer to a message without text (`media`: photo, voice, sticker, …).
std::string media_reply(const std::string& media);
std::string status_reply(const std::string& model, const std::string& provider,
                         std::size_t session_messages, const std::string& gateway_state);
// "Context: 12% full (about 15,360 of 128,000 tokens)"
std::string context_line(long tokens, long window);
// What /compress did.
std::string compress_reply(std::size_t replaced, bool dropped, long tokens_after, long window);
// /usage: this chat's and the whole gateway's totals today.
std::string usage_reply(const std::string& chat_today, const std::string& gateway_today);

}  // namespace hermes::daemon::chat
