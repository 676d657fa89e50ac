#pragma once

#include <string>
#include <string_view>

namespace hermes::providers {

// Masks API keys and tokens in text that may reach a log line or a chat reply:
// vendor-prefixed keys (sk-, sk-ant-, sk-or-, ghp_, xoxb-, AIza, hf_, gsk_, …) keep their
// prefix and lose the rest; `Bearer <token>`, `api_key=…`/`"token": "…"` values and Telegram
// bot tokens are replaced by [REDACTED].
std::string redact(std::string_view text);

// The marker that replaces a secret.
inline constexpr std::string_view kRedacted = "[REDACTED]";

}  // namespace hermes::providers
