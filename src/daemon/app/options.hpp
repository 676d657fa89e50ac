#pragma once

#include <optional>
#include <string>

namespace hermes::daemon {

// Command-line options of hermes-gateway.
struct Options {
  std::optional<std::string> home;         // --home DIR
  std::optional<std::string> config;       // --config FILE
  bool check_config = false;               // --check-config: validate and exit 0 or 78
  bool verbose = false;                    // -v: debug logging
  std::optional<std::string> probe_mcp;    // --test-mcp NAME: start that MCP server alone
  bool usage = false;                      // --usage: print token and cost totals from state.db
  std::optional<std::string> usage_since;  // --since T
  std::optional<std::string> usage_by;     // --by provider|model|session|day
  bool usage_json = false;                 // --json
};

}  // namespace hermes::daemon
