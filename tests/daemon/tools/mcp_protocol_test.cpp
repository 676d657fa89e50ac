#include "daemon/tools/mcp_protocol.hpp"

#include <gtest/gtest.h>

#include "daemon/tools/line_splitter.hpp"
#include "daemon/tools/tool_names.hpp"

namespace hermes::daemon::tools {
namespace {

using nlohmann::json;

TEST(LineSplitter, PartialLinesSeveralPerReadCrLfAndEmptyLines) {
  LineSplitter lines;
  lines.feed(R"({"a":1})");
  EXPECT_FALSE(lines.next());
  lines.feed("\n{\"b\":2}\r\n\n{\"c\"");
  EXPECT_EQ(lines.next(), R"({"a":1})");
  EXPECT_EQ(lines.next(), R"({"b":2})");
  EXPECT_FALSE(lines.next());
  lines.feed(":3}\n");
  EXPECT_EQ(lines.next(), R"({"c":3})");
  EXPECT_FALSE(lines.next());
  EXPECT_EQ(lines.dropped(), 0u);
}

TEST(LineSplitter, ALineOfTenMegabytesArrivesWholeAndOneOverTheCapIsDropped) {
  LineSplitter lines(16 * 1024 * 1024);
  const std::string big = "\"" + std::string(10 * 1024 * 1024, 'x') + "\"";
  for (std::size_t at = 0; at < big.size(); at += 65536) lines.feed(big.substr(at, 65536));
  lines.feed("\n");
  EXPECT_EQ(lines.next(), big);

  LineSplitter small(100);
  small.feed(std::string(150, 'y'));
  EXPECT_FALSE(small.next());
  small.feed(std::string(150, 'y') + "\n{\"after\":1}\n");
  EXPECT_EQ(small.next(), R"({"after":1})") << "the line after a dropped one is kept";
  EXPECT_EQ(small.dropped(), 1u);
}

TEST(LineSplitter, ThousandsOfLinesInOneReadAreLinear) {
  LineSplitter lines;
  std::string read;
  for (int i = 0; i < 100000; ++i) read += "{\"n\":" + std::to_string(i) + "}\n";
  lines.feed(read);
  int count = 0;
  while (lines.next()) ++count;
  EXPECT_EQ(count, 100000);
}

TEST(ToolNames, ServerAndToolBecomeOneProviderSafeName) {
  struct Case {
    const char* server;
    const char* tool;
    const char* exposed;
  };
  const Case cases[] = {
      {"files", "read_text_file", "mcp_files_read_text_file"},
      {"everything", "get-sum", "mcp_everything_get_sum"},
      {"my-server", "a.b/c d", "mcp_my_server_a_b_c_d"},
  };
  for (const auto& c : cases) EXPECT_EQ(exposed_tool_name(c.server, c.tool), c.exposed);
  const std::string long_tool(80, 't');
  const auto a = exposed_tool_name("s", long_tool + "a");
  const auto b = exposed_tool_name("s", long_tool + "b");
  EXPECT_EQ(a.size(), 64u);
  EXPECT_NE(a, b) << "two long names sharing their start must stay apart";
  EXPECT_EQ(a, exposed_tool_name("s", long_tool + "a")) << "the same name every time";
  EXPECT_TRUE(valid_server_name("files-2_x"));
  EXPECT_FALSE(valid_server_name("has space"));
  EXPECT_FALSE(valid_server_name(""));
}

TEST(McpMessages, InitializeAsksForTheNewestRevisionAndRefusesAnUnknownOne) {
  EXPECT_EQ(mcp::initialize_params()["protocolVersion"], "2025-11-25");
  for (const char* version : {"2025-11-25", "2025-06-18", "2025-03-26"}) {
    const auto ok =
        mcp::read_initialize_result({{"protocolVersion", version},
                                     {"capabilities", {{"tools", {{"listChanged", true}}}}},
                                     {"serverInfo", {{"name", "example"}}}});
    EXPECT_EQ(ok.error, "") << version;
    EXPECT_TRUE(ok.tools_list_changed);
    EXPECT_EQ(ok.server_name, "example");
  }
  const auto old = mcp::read_initialize_result({{"protocolVersion", "2024-11-05"}});
  EXPECT_NE(old.error.find("'2024-11-05'"), std::string::npos) << old.error;
  EXPECT_NE(old.error.find("2025-03-26"), std::string::npos) << old.error;
  EXPECT_NE(mcp::read_initialize_result(json::array()).error, "");
}

TEST(McpMessages, ToolsListKeepsSchemasAsGivenAndSkipsUnusableTools) {
  const json schema = {
      {"type", "object"}, {"properties", {{"a", {{"type", "number"}}}}}, {"required", {"a"}}};
  const auto page = mcp::read_tools_list(
      {{"tools",
        {{{"name", "get-sum"}, {"description", "adds"}, {"inputSchema", schema}},
         {{"name", ""}, {"inputSchema", schema}},
         {{"name", "no-schema"}},
         7}},
       {"nextCursor", "page2"}});
  ASSERT_EQ(page.tools.size(), 1u);
  EXPECT_EQ(page.tools[0].input_schema, schema);
  EXPECT_EQ(page.next_cursor, "page2");
  EXPECT_EQ(page.error, "");
  EXPECT_NE(mcp::read_tools_list({{"tools", {{{"name", "x"}}}}}).error, "");
  EXPECT_NE(mcp::read_tools_list({{"nope", 1}}).error, "");
}

TEST(McpMessages, ToolResultsBecomeTextForTheModel) {
  const auto sum = mcp::read_tool_result(
      {{"content", {{{"type", "text"}, {"text", "The sum of 2 and 3 is 5."}}}}});
  EXPECT_EQ(sum.text, "The sum of 2 and 3 is 5.");
  EXPECT_FALSE(sum.is_error);
  const auto image = mcp::read_tool_result(
      {{"content",
        {{{"type", "image"}, {"data", std::string(400, 'A')}, {"mimeType", "image/png"}},
         {{"type", "resource_link"}, {"uri", "file:///x"}}}}});
  EXPECT_NE(image.text.find("image (image/png, 300 bytes) not shown"), std::string::npos)
      << image.text;
  EXPECT_NE(image.text.find("resource link: file:///x"), std::string::npos);
  const auto failed =
      mcp::read_tool_result({{"isError", true}, {"content", {{{"type", "text"}, {"text", "no"}}}}});
  EXPECT_TRUE(failed.is_error);
  const auto big = mcp::read_tool_result(
      {{"content", {{{"type", "text"}, {"text", std::string(200 * 1024, 'z')}}}}}, 100 * 1024);
  EXPECT_LT(big.text.size(), 101u * 1024);
  EXPECT_NE(big.text.find("[cut: the result was 204800 bytes"), std::string::npos);
  const std::string accents = std::string(99, 'a') + "é";  // the cut never splits a character
  EXPECT_EQ(mcp::cut_with_note(accents, 100).substr(0, 100), std::string(99, 'a') + "\n");
  EXPECT_TRUE(mcp::read_tool_result("x").is_error);
}

TEST(McpMessages, IncomingMessagesAreSortedWhateverTheBytes) {
  using K = mcp::MessageKind;
  struct Case {
    const char* text;
    K kind;
  };
  const Case cases[] = {
      {R"({"jsonrpc":"2.0","id":1,"result":{}})", K::response},
      {R"({"jsonrpc":"2.0","id":"a","error":{"code":-32602,"message":"bad"}})", K::response},
      {R"({"jsonrpc":"2.0","id":5,"method":"ping"})", K::request},
      {R"({"jsonrpc":"2.0","method":"notifications/tools/list_changed"})", K::notification},
      {R"({"jsonrpc":"2.0","id":null,"method":"x"})", K::notification},
      {R"({"jsonrpc":"2.0","id":1})", K::invalid},
      {R"({"jsonrpc":"2.0","method":7})", K::invalid},
      {R"([1,2])", K::invalid},
      {"not json", K::invalid},
      {R"({"id":{"x":1},"result":1})", K::invalid},
  };
  for (const auto& c : cases) EXPECT_EQ(mcp::read_message(c.text).kind, c.kind) << c.text;
  const auto error = mcp::read_message(R"({"id":"a","error":{"code":-32602,"message":"bad"}})");
  ASSERT_TRUE(error.error);
  EXPECT_EQ(mcp::describe_error(*error.error), "-32602: bad");
  const auto reply = mcp::method_not_found(5, "sampling/createMessage");
  EXPECT_EQ(reply["error"]["code"], -32601);
  EXPECT_EQ(reply["id"], 5);
}

TEST(McpMessages, AServersLogLevelMapsOntoOursAndItsTextIsBounded) {
  using L = mcp::ServerLogLine::Level;
  struct Case {
    const char* level;
    L expected;
  };
  const Case cases[] = {{"debug", L::debug},     {"info", L::info},       {"notice", L::info},
                        {"warning", L::warning}, {"error", L::error},     {"critical", L::error},
                        {"alert", L::error},     {"emergency", L::error}, {"made-up", L::info}};
  for (const auto& c : cases) {
    EXPECT_EQ(mcp::read_server_log({{"level", c.level}, {"data", "x"}}).level, c.expected)
        << c.level;
  }
  const auto line =
      mcp::read_server_log({{"level", "info"}, {"logger", "db"}, {"data", {{"rows", 3}}}});
  EXPECT_EQ(line.text, R"(db: {"rows":3})");
  EXPECT_LT(mcp::read_server_log({{"data", std::string(5000, 'x')}}).text.size(), 1100u);
  EXPECT_EQ(mcp::read_server_log(7).level, L::info);
}

}  // namespace
}  // namespace hermes::daemon::tools
