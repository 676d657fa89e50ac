#include "daemon/platforms/telegram/bot_api.hpp"

#include <gtest/gtest.h>

#include <limits>

namespace hermes::daemon::telegram {
namespace {

using nlohmann::json;

TEST(BotApiReply, AnyBodyGivesAReplyNeverAnException) {
  struct Case {
    const char* name;
    int status;
    const char* body;
    bool ok;
    const char* description;
    std::optional<int> retry_after;
  };
  const Case cases[] = {
      {"ok", 200, R"({"ok":true,"result":[]})", true, "", std::nullopt},
      {"ok but not 200", 500, R"({"ok":true,"result":[]})", false, "", std::nullopt},
      {"ok as a string", 200, R"({"ok":"true"})", false, "", std::nullopt},
      {"not json", 502, "<html>bad gateway</html>", false, "HTTP 502 with a body that is not JSON",
       std::nullopt},
      {"an array", 200, "[1,2]", false, "HTTP 200 with a body that is not JSON", std::nullopt},
      {"flood wait", 429,
       R"({"ok":false,"error_code":429,"description":"Too Many Requests: retry after 7","parameters":{"retry_after":7}})",
       false, "Too Many Requests: retry after 7", 7},
      {"retry_after as a string", 429, R"({"ok":false,"parameters":{"retry_after":"7"}})", false,
       "", std::nullopt},
      {"a week of retry_after is clamped", 429,
       R"({"ok":false,"parameters":{"retry_after":604800}})", false, "", 3600},
      {"description of the wrong type", 400, R"({"ok":false,"description":{"x":1}})", false, "",
       std::nullopt},
      {"parameters of the wrong type", 429, R"({"ok":false,"parameters":[7]})", false, "",
       std::nullopt},
  };
  for (const auto& c : cases) {
    const auto reply = parse_api_reply(c.status, c.body);
    EXPECT_EQ(reply.ok, c.ok) << c.name;
    EXPECT_EQ(reply.description, c.description) << c.name;
    EXPECT_EQ(reply.retry_after, c.retry_after) << c.name;
    EXPECT_EQ(reply.http_status, c.status) << c.name;
  }
}

}  // namespace
}  // namespace hermes::daemon::telegram
