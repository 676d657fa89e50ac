#pragma once

namespace hermes {

// Routes spdlog to stderr, one line per event, each prefixed with its journald priority
// (<3> error … <7> debug) so `journalctl -p` filters work. Call once, early in main().
void init_logging(bool verbose);

}  // namespace hermes
