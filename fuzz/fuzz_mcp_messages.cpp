// What an MCP server writes on stdout, in any pieces: cut into lines, each read as a JSON-RPC
// message, and answers read as an initialize result, a tools/list page or a tool result.
// Never a crash; a tool result's text never exceeds its cap (and the note saying so).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "daemon/tools/line_splitter.hpp"
#include "daemon/tools/mcp_protocol.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace hermes::daemon::tools;
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  LineSplitter lines(4096);
  // Fed in pieces of a size taken from the input, as reads from a pipe arrive.
  const std::size_t piece = size > 0 ? 1 + data[0] % 64 : 1;
  for (std::size_t at = 0; at < bytes.size(); at += piece) {
    lines.feed(bytes.substr(at, piece));
    while (auto line = lines.next()) {
      if (line->size() > 4096) __builtin_trap();
      const auto message = mcp::read_message(*line);
      (void)mcp::read_initialize_result(message.result);
      (void)mcp::read_tools_list(message.result);
      const auto outcome = mcp::read_tool_result(message.result, 256);
      if (outcome.text.size() > 256 + 128) __builtin_trap();
      if (message.error) (void)mcp::describe_error(*message.error);
    }
  }
  return 0;
}
