#include "daemon/platforms/chat/chat_text.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "daemon/providers/hint.hpp"
#include "daemon/providers/redact.hpp"

namespace hermes::daemon::chat {

namespace {

bool is_continuation(unsigned char c) {
  return (c & 0xC0) == 0x80;
}

// The longest byte prefix of `text` holding at most `limit` UTF-16 units.
std::size_t prefix_within(std::string_view text, std::size_t limit) {
  std::size_t units = 0;
  std::size_t i = 0;
  while (i < text.size()) {
    const auto c = static_cast<unsigned char>(text[i]);
    std::size_t length = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
    const std::size_t cost = length == 4 ? 2 : 1;  // astral characters are surrogate pairs
    if (units + cost > limit) break;
    units += cost;
    i += length;
    while (i < text.size() && is_continuation(static_cast<unsigned char>(text[i]))) ++i;
  }
  return std::min(i, text.size());
}

// Where to cut inside `window`: the best boundary in its second half, else the window's end.
std::size_t cut_point(std::string_view window) {
  const std::size_t floor = window.size() / 2;
  for (std::string_view separator : {"\n\n", "\n"}) {
    const auto at = window.rfind(separator);
    if (at != std::string_view::npos && at >= floor) return at + separator.size();
  }
  std::size_t best = std::string_view::npos;
  for (std::string_view end : {". ", "! ", "? ", "。"}) {
    const auto at = window.rfind(end);
    if (at != std::string_view::npos && at >= floor &&
        (best == std::string_view::npos || at + end.size() > best)) {
      best = at + end.size();
    }
  }
  if (best != std::string_view::npos) return best;
  const auto space = window.rfind(' ');
  if (space != std::string_view::npos && space >= floor) return space + 1;
  return window.size();
}

std::string trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\n')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\n')) s.remove_suffix(1);
  return std::string(s);
}

}  // namespace

std::size_t utf16_units(std::string_view text) {
  std::size_t units = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (is_continuation(c)) continue;
    units += c >= 0xF0 ? 2 : 1;
  }
  return units;
}

std::vector<std::string> split_message(std::string_view text, std::size_t limit) {
  std::vector<std::string> parts;
  while (!text.empty()) {
    if (utf16_units(text) <= limit) {
      if (auto part = trim(text); !part.empty()) parts.push_back(std::move(part));
      break;
    }
    const auto window = text.substr(0, prefix_within(text, limit));
    const auto cut = std::max<std::size_t>(1, cut_point(window));
    if (auto part = trim(text.substr(0, cut)); !part.empty()) parts.push_back(std::move(part));
    text.remove_prefix(cut);
  }
  return parts;
}

Command parse_command(std::string_view text) {
  if (!text.starts_with('/')) return Command::none;
  auto word = text.substr(0, text.find_first_of(" \n"));
  word = word.substr(0, word.find('@'));  // /new@my_bot in groups
  if (word == "/new" || word == "/reset") return Command::new_session;
  if (word == "/status") return Command::status;
  if (word == "/help" || word == "/start") return Command::help;
  if (word == "/compress") return Command::compress;
  if (word == "/usage") return Command::usage;
  if (word == "/stop") return Command::stop;
  if (word == "/approve") return Command::approve;
  if (word == "/deny") return Command::deny;
  if (word == "/cron") return Command::cron;
  return Command::none;
}

std::string failed_turn_reply(const providers::Classification& failure) {
  if (failure.reason == providers::FailoverReason::budget_exceeded) {
    // Nothing was sent to the model; retrying before the reset is refused the same way.
    return "Sorry, I can't answer now. " + providers::hint(failure);
  }
  if (failure.reason == providers::FailoverReason::context_overflow &&
      !failure.gateway_detail.empty()) {
    // The message was left out: sending it again would fail the same way.
    return "Sorry, I can't send that message to the model. " + providers::hint(failure);
  }
  return "Sorry, I couldn't get a reply from the model. " + providers::hint(failure) +
         " Your message is saved: send it again to retry, or /new to start a fresh session.";
}

std::string interrupted_turn_reply() {
  return "Sorry, I couldn't get a reply from the model: the gateway restarted while I was "
         "answering. Your message is saved; send it again to continue.";
}

std::string new_session_reply() {
  return "Started a fresh session. Earlier messages will not be sent to the model.";
}

std::string help_reply() {
  return "I pass your messages to the model and reply with its answer.\n"
         "/new or /reset: start a fresh session (forget this conversation)\n"
         "/status: model, provider, session length, how full the context is, gateway state\n"
         "/stop: stop the answer being written (what was said so far is kept)\n"
         "/compress: summarise the oldest messages now, to make room\n"
         "/usage: tokens and cost of this chat and of the gateway today\n"
         "/cron: this chat's scheduled jobs (list, add <schedule> <prompt>, pause, resume, run, "
         "remove)\n"
         "/help: this message";
}

std::string refusal_reply() {
  return "Sorry, this bot only answers its allowed users. Ask its owner to add you to "
         "gateway.telegram.allowed_users.";
}

std::string tool_progress_line(const std::string& tool, const std::string& arguments_json) {
  std::string line = "🔧 " + tool;
  const auto args = nlohmann::json::parse(arguments_json, nullptr, false);
  if (args.is_object()) {
    for (const auto& [key, value] : args.items()) {
      if (!value.is_string()) continue;
      std::string shown = providers::redact(value.get<std::string>());
      std::replace(shown.begin(), shown.end(), '\n', ' ');
      if (utf16_units(shown) > 40) shown = split_message(shown, 40).front() + "…";
      line += " " + shown;
      break;
    }
  }
  return line;
}

std::string approval_prompt(const std::string& tool, const std::string& arguments) {
  std::string shown = providers::redact(arguments);
  if (utf16_units(shown) > 300) shown = split_message(shown, 300).front() + "…";
  return "🔐 May I run " + tool + "?\n" + shown + "\n(Approve or Deny, or send /approve or /deny.)";
}

std::string stopped_elsewhere_reply() {
  return "⏹ Stopped from the gateway's dashboard.";
}

std::string stopped_reply() {
  return "Stopped. What I had said so far is kept in this session.";
}

std::string nothing_to_stop_reply() {
  return "Nothing to stop: no answer is being written.";
}

std::string media_reply(const std::string& media) {
  std::string what = media == "voice"        ? "voice messages"
                     : media == "video_note" ? "video messages"
                     : media == "photo"      ? "photos"
                     : media == "sticker"    ? "stickers"
                                             : media + "s";
  return "Sorry, I read text only for now, so I can't open " + what +
         ". Please write it as a message (a photo's caption is read as text).";
}

std::string status_reply(const std::string& model, const std::string& provider,
                         std::size_t session_messages, const std::string& gateway_state) {
  return "Model: " + model + " (provider " + provider +
         ")\nSession: " + std::to_string(session_messages) + " messages\nGateway: " + gateway_state;
}

namespace {

std::string thousands(long n) {
  std::string digits = std::to_string(n);
  std::string out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

long percent(long tokens, long window) {
  return window > 0 ? (tokens * 100 + window / 2) / window : 0;
}

}  // namespace

std::string context_line(long tokens, long window) {
  return "Context: " + std::to_string(percent(tokens, window)) + "% full (about " +
         thousands(tokens) + " of " + thousands(window) + " tokens)";
}

std::string compress_reply(std::size_t replaced, bool dropped, long tokens_after, long window) {
  if (replaced == 0) {
    return "Nothing to compress yet: the conversation is short enough. " +
           context_line(tokens_after, window) + ".";
  }
  return (dropped ? "Summarising failed, so I dropped the " + std::to_string(replaced) +
                        " oldest messages from what the model sees (they are still stored). "
                  : "Summarised the " + std::to_string(replaced) +
                        " oldest messages; the model now sees the summary instead. ") +
         context_line(tokens_after, window) + ".";
}

std::string usage_reply(const std::string& chat_today, const std::string& gateway_today) {
  return "Today (UTC)\nThis chat: " + chat_today + "\nThe whole gateway: " + gateway_today;
}

}  // namespace hermes::daemon::chat
