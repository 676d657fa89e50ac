#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "daemon/agent/session_tables.hpp"

namespace hermes::daemon::builtin {

// The words of a session_search query, as both backends' full-text indexes split text:
// letters and digits (any non-ASCII byte counts as a letter), at most 12 words of 64 bytes.
std::vector<std::string> search_words(std::string_view query);

// What the model reads: one line per hit (session, UTC date, who said it, the snippet), or a
// sentence saying nothing matched.
std::string search_result_text(std::string_view query, const std::vector<MessageHit>& hits);

}  // namespace hermes::daemon::builtin
