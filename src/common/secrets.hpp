#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace hermes {

// The configured secrets (provider keys, the bot token, the API server key), known by value:
// a key without a recognisable prefix, echoed back in a provider's error, is still masked.
// Added at start and on every reload (never forgotten: a turn still running may use an old
// key); read from any thread.
void add_known_secrets(std::vector<std::string> secrets);

// `text` with every occurrence of a known secret (8 characters or more; shorter ones would
// mask ordinary words) replaced by [REDACTED].
std::string mask_known_secrets(std::string_view text);

}  // namespace hermes
