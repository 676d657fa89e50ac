#include "daemon/builtin/workspace_files.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>

namespace hermes::daemon::builtin {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// Each test gets base/ws (the workspace) next to base/outside (what must stay unreachable).
class WorkspaceFilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/hermes-workspace-test-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    base_ = tmpl;
    root_ = base_ + "/ws";
    outside_ = base_ + "/outside";
    ASSERT_EQ(::mkdir(root_.c_str(), 0755), 0);
    ASSERT_EQ(::mkdir(outside_.c_str(), 0755), 0);
    put(outside_ + "/secret.txt", "top secret\n");
  }
  void TearDown() override {
    std::error_code ignored;
    fs::remove_all(base_, ignored);  // never follows the symlinks the tests made
  }

  std::string at(const std::string& rel) const { return root_ + "/" + rel; }
  static void put(const std::string& path, const std::string& content) {
    fs::create_directories(fs::path(path).parent_path());
    std::ofstream(path, std::ios::binary) << content;
  }
  static std::string get(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  }
  void link(const std::string& target, const std::string& rel) const {
    fs::create_directories(fs::path(at(rel)).parent_path());
    ASSERT_EQ(::symlink(target.c_str(), at(rel).c_str()), 0) << rel;
  }
  bool is_symlink(const std::string& rel) const { return fs::is_symlink(at(rel)); }
  std::string outside_sentence(const std::string& path) const {
    return "'" + path + "' is outside the workspace (" + root_ +
           "); the file tools reach only the workspace";
  }

  Workspace ws() const { return Workspace(root_); }

  std::string base_, root_, outside_;
};

TEST_F(WorkspaceFilesTest, DotDotEscapesAreRefusedWithASentence) {
  fs::create_directories(at("a"));
  for (const std::string path : {"../outside/secret.txt", "a/../../outside/secret.txt"}) {
    const auto read = ws().read_file({{"path", path}});
    EXPECT_FALSE(read.ok);
    EXPECT_EQ(read.text, outside_sentence(path));
  }
  EXPECT_EQ(ws().write_file({{"path", "../outside/new.txt"}, {"content", "x"}}).text,
            outside_sentence("../outside/new.txt"));
  EXPECT_FALSE(fs::exists(outside_ + "/new.txt"));
  // A path that climbs out through directories it would create leaves nothing behind.
  EXPECT_FALSE(ws().write_file({{"path", "new/../../outside/x.txt"}, {"content", "x"}}).ok);
  EXPECT_FALSE(fs::exists(at("new")));
  EXPECT_FALSE(fs::exists(outside_ + "/x.txt"));
  EXPECT_EQ(ws().list_files({{"path", ".."}}).text, outside_sentence(".."));
  EXPECT_EQ(ws().search_files({{"pattern", "secret"}, {"path", ".."}}).text,
            outside_sentence(".."));
  const auto patched =
      ws().patch({{"path", "../outside/secret.txt"}, {"old_string", "top"}, {"new_string", "no"}});
  EXPECT_EQ(patched.text, outside_sentence("../outside/secret.txt"));
  EXPECT_EQ(get(outside_ + "/secret.txt"), "top secret\n");
}

TEST_F(WorkspaceFilesTest, AbsolutePathsOutsideAreRefused) {
  EXPECT_EQ(ws().read_file({{"path", "/etc/passwd"}}).text, outside_sentence("/etc/passwd"));
  const std::string target = outside_ + "/new.txt";
  EXPECT_EQ(ws().write_file({{"path", target}, {"content", "x"}}).text, outside_sentence(target));
  EXPECT_FALSE(fs::exists(target));
  EXPECT_FALSE(ws().list_files({{"path", "/"}}).ok);
  EXPECT_FALSE(ws().search_files({{"pattern", "root"}, {"path", "/etc"}}).ok);
  // A sibling whose name merely starts with the workspace's is outside too.
  put(root_ + "-evil/f.txt", "evil\n");
  EXPECT_EQ(ws().read_file({{"path", root_ + "-evil/f.txt"}}).text,
            outside_sentence(root_ + "-evil/f.txt"));
}

TEST_F(WorkspaceFilesTest, AbsolutePathsInsideAreAccepted) {
  EXPECT_EQ(Workspace(root_ + "/").root(), root_);
  const auto wrote = ws().write_file({{"path", at("a/b.txt")}, {"content", "hi!\n"}});
  ASSERT_TRUE(wrote.ok) << wrote.text;
  EXPECT_EQ(wrote.text, "wrote 4 bytes to " + at("a/b.txt"));
  EXPECT_EQ(get(at("a/b.txt")), "hi!\n");
  EXPECT_EQ(ws().read_file({{"path", root_ + "//a/./b.txt"}}).text, "1|hi!\n");
  EXPECT_EQ(ws().list_files({{"path", root_}}).text, "a/");
  EXPECT_EQ(ws().list_files({{"path", root_ + "/"}}).text, "a/");
  EXPECT_EQ(ws().search_files({{"pattern", "hi"}, {"path", root_}}).text, "a/b.txt:1: hi!");
}

TEST_F(WorkspaceFilesTest, SymlinkToEtcPasswdIsRefused) {
  link("/etc/passwd", "pw");
  EXPECT_EQ(ws().read_file({{"path", "pw"}}).text, outside_sentence("pw"));
  EXPECT_EQ(ws().search_files({{"pattern", "root"}, {"path", "pw"}}).text, outside_sentence("pw"));
  EXPECT_EQ(
      ws().patch({{"path", "pw"}, {"old_string", "no-such-text-9f3"}, {"new_string", "x"}}).text,
      outside_sentence("pw"));
  // Writing through links out (absolute or relative) is refused; the target is untouched.
  link(outside_ + "/secret.txt", "abs");
  link("../outside/secret.txt", "rel");
  for (const std::string path : {"abs", "rel"}) {
    EXPECT_EQ(ws().write_file({{"path", path}, {"content", "pwned"}}).text, outside_sentence(path));
    EXPECT_TRUE(is_symlink(path));
  }
  EXPECT_EQ(get(outside_ + "/secret.txt"), "top secret\n");
}

TEST_F(WorkspaceFilesTest, SymlinkedDirectoryOutOfTheWorkspaceIsRefused) {
  link(outside_, "out");
  link("../outside", "rel_out");
  for (const std::string dir : {"out", "rel_out"}) {
    EXPECT_EQ(ws().read_file({{"path", dir + "/secret.txt"}}).text,
              outside_sentence(dir + "/secret.txt"));
    EXPECT_EQ(ws().write_file({{"path", dir + "/new.txt"}, {"content", "x"}}).text,
              outside_sentence(dir + "/new.txt"));
    EXPECT_EQ(ws().write_file({{"path", dir + "/deeper/new.txt"}, {"content", "x"}}).text,
              outside_sentence(dir + "/deeper/new.txt"));
    EXPECT_EQ(ws().list_files({{"path", dir}}).text, outside_sentence(dir));
    EXPECT_EQ(ws().search_files({{"pattern", "secret"}, {"path", dir}}).text,
              outside_sentence(dir));
  }
  EXPECT_FALSE(fs::exists(outside_ + "/new.txt"));
  EXPECT_FALSE(fs::exists(outside_ + "/deeper"));
  const auto listed = ws().list_files({{"path", "."}, {"recursive", true}});
  EXPECT_EQ(listed.text, "out -> " + outside_ + "\nrel_out -> ../outside");
  const auto found = ws().search_files({{"pattern", "secret"}});
  EXPECT_TRUE(found.ok);
  EXPECT_EQ(found.text, "no matches for 'secret' in '.'");
}

TEST_F(WorkspaceFilesTest, SymlinksWithinTheWorkspaceAreFollowed) {
  put(at("real/f.txt"), "one\ntwo\n");
  link("real", "dirlink");
  link("real/f.txt", "flink");
  link("../real/f.txt", "sub/up");
  EXPECT_EQ(ws().read_file({{"path", "dirlink/f.txt"}}).text, "1|one\n2|two\n");
  EXPECT_EQ(ws().read_file({{"path", "flink"}}).text, "1|one\n2|two\n");
  EXPECT_EQ(ws().read_file({{"path", "sub/up"}}).text, "1|one\n2|two\n");
  // Writes go to the file the link names; the link stays a link.
  EXPECT_TRUE(ws().write_file({{"path", "flink"}, {"content", "new\n"}}).ok);
  EXPECT_EQ(get(at("real/f.txt")), "new\n");
  EXPECT_TRUE(is_symlink("flink"));
  const auto patched =
      ws().patch({{"path", "sub/up"}, {"old_string", "new"}, {"new_string", "newer"}});
  EXPECT_EQ(patched.text, "replaced 1 occurrence(s) in sub/up");
  EXPECT_EQ(get(at("real/f.txt")), "newer\n");
  EXPECT_TRUE(is_symlink("sub/up"));
  EXPECT_TRUE(ws().write_file({{"path", "dirlink/g.txt"}, {"content", "g"}}).ok);
  EXPECT_EQ(get(at("real/g.txt")), "g");
  link("real/h.txt", "dangling");  // a link to a file not there yet creates that file
  EXPECT_TRUE(ws().write_file({{"path", "dangling"}, {"content", "h"}}).ok);
  EXPECT_EQ(get(at("real/h.txt")), "h");
  EXPECT_EQ(ws().list_files({{"path", "dirlink"}}).text, "f.txt\ng.txt\nh.txt");
  link("loop2", "loop1");
  link("loop1", "loop2");
  EXPECT_FALSE(ws().read_file({{"path", "loop1"}}).ok);
  EXPECT_FALSE(ws().write_file({{"path", "loop1"}, {"content", "x"}}).ok);
}

TEST_F(WorkspaceFilesTest, ReadsLineRanges) {
  std::string text;
  for (int i = 1; i <= 10; ++i) text += "line" + std::to_string(i) + "\n";
  put(at("f.txt"), text);
  const auto all = ws().read_file({{"path", "f.txt"}});
  ASSERT_TRUE(all.ok);
  EXPECT_EQ(all.text.substr(0, 16), "1|line1\n2|line2\n");
  EXPECT_EQ(all.text.substr(all.text.size() - 10), "10|line10\n");
  EXPECT_EQ(ws().read_file({{"path", "f.txt"}, {"offset", 3}, {"limit", 2}}).text,
            "3|line3\n4|line4\n... stopped after 2 lines; call again with offset=5");
  EXPECT_EQ(ws().read_file({{"path", "f.txt"}, {"offset", 10}}).text, "10|line10\n");
  const auto past = ws().read_file({{"path", "f.txt"}, {"offset", 11}});
  EXPECT_FALSE(past.ok);
  EXPECT_EQ(past.text, "'f.txt' has 10 line(s); offset 11 is past the end");
  put(at("crlf.txt"), "a\r\nb");  // '\r' dropped, a last line without '\n' still counts
  EXPECT_EQ(ws().read_file({{"path", "crlf.txt"}}).text, "1|a\n2|b\n");
  put(at("empty.txt"), "");
  EXPECT_EQ(ws().read_file({{"path", "empty.txt"}}).text, "'empty.txt' is empty");
  put(at("bad.txt"), "caf\xe9\n");  // Latin-1: shown with U+FFFD so the JSON stays valid
  EXPECT_EQ(ws().read_file({{"path", "bad.txt"}}).text, "1|caf\xEF\xBF\xBD\n");
}

TEST_F(WorkspaceFilesTest, ReadStopsAt100KBAndSaysHowToGoOn) {
  std::string text;
  for (int i = 1; i <= 3000; ++i) text += std::string(99, static_cast<char>('a' + i % 26)) + "\n";
  put(at("big.txt"), text);
  const auto first = ws().read_file({{"path", "big.txt"}});
  ASSERT_TRUE(first.ok);
  EXPECT_LE(first.text.size(), 100u * 1024);
  std::smatch match;
  ASSERT_TRUE(std::regex_search(
      first.text, match,
      std::regex(R"(\.\.\. truncated at line (\d+); call again with offset=(\d+)$)")))
      << first.text.substr(first.text.size() - 200);
  const int last = std::stoi(match[1]);
  EXPECT_EQ(std::stoi(match[2]), last + 1);
  EXPECT_NE(first.text.find("\n" + std::to_string(last) + "|"), std::string::npos);
  EXPECT_EQ(first.text.find("\n" + std::to_string(last + 1) + "|"), std::string::npos);
  const auto next = ws().read_file({{"path", "big.txt"}, {"offset", last + 1}});
  EXPECT_EQ(next.text.substr(0, std::to_string(last + 1).size() + 1),
            std::to_string(last + 1) + "|");
  // Short lines: the default limit of 2000 lines is what stops it.
  std::string many;
  for (int i = 0; i < 2500; ++i) many += "x\n";
  put(at("many.txt"), many);
  const auto limited = ws().read_file({{"path", "many.txt"}});
  EXPECT_NE(limited.text.find("2000|x\n... stopped after 2000 lines; call again with offset=2001"),
            std::string::npos);
}

TEST_F(WorkspaceFilesTest, ALineLargerThanTheBudgetIsCut) {
  put(at("one.txt"), std::string(300 * 1024, 'z') + "\nafter\n");
  const auto read = ws().read_file({{"path", "one.txt"}});
  ASSERT_TRUE(read.ok);
  EXPECT_LE(read.text.size(), 100u * 1024);
  EXPECT_EQ(read.text.substr(0, 4), "1|zz");
  EXPECT_NE(read.text.find("line 1 is longer than 100 KB and was cut; call again with offset=2"),
            std::string::npos);
  EXPECT_EQ(ws().read_file({{"path", "one.txt"}, {"offset", 2}}).text, "2|after\n");
}

TEST_F(WorkspaceFilesTest, RefusesBinaryFilesDirectoriesAndMissingFiles) {
  put(at("bin.dat"), std::string("abc\0def\n", 8));
  const auto binary = ws().read_file({{"path", "bin.dat"}});
  EXPECT_FALSE(binary.ok);
  EXPECT_NE(binary.text.find("binary"), std::string::npos);
  put(at("late.txt"), std::string(9000, 'a') + std::string(1, '\0'));  // past the probe
  EXPECT_TRUE(ws().read_file({{"path", "late.txt"}}).ok);
  fs::create_directories(at("dir"));
  const auto dir = ws().read_file({{"path", "dir"}});
  EXPECT_FALSE(dir.ok);
  EXPECT_EQ(dir.text, "'dir' is a directory; use list_files to see what is in it");
  EXPECT_EQ(ws().read_file({{"path", "nope.txt"}}).text,
            "'nope.txt' does not exist in the workspace");
  put(at("file"), "x");
  EXPECT_EQ(ws().read_file({{"path", "file/x"}}).text, "a part of 'file/x' is not a directory");
}

TEST_F(WorkspaceFilesTest, WriteCreatesParentsAndReplacesAtomically) {
  const auto wrote = ws().write_file({{"path", "a/b/c.txt"}, {"content", "hello"}});
  ASSERT_TRUE(wrote.ok) << wrote.text;
  EXPECT_EQ(wrote.text, "wrote 5 bytes to a/b/c.txt");
  EXPECT_EQ(get(at("a/b/c.txt")), "hello");
  ASSERT_EQ(::chmod(at("a/b/c.txt").c_str(), 0640), 0);
  EXPECT_TRUE(ws().write_file({{"path", "a/b/c.txt"}, {"content", "again"}}).ok);
  EXPECT_EQ(get(at("a/b/c.txt")), "again");
  EXPECT_EQ(fs::status(at("a/b/c.txt")).permissions() & fs::perms::all,
            fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read);
  int entries = 0;  // no temp file left behind
  for ([[maybe_unused]] const auto& entry : fs::directory_iterator(at("a/b"))) ++entries;
  EXPECT_EQ(entries, 1);
  EXPECT_TRUE(ws().write_file({{"path", "./x/../y.txt"}, {"content", ""}}).ok);
  EXPECT_TRUE(fs::exists(at("y.txt")));
  EXPECT_EQ(ws().write_file({{"path", "a/b"}, {"content", "x"}}).text,
            "'a/b' is a directory, not a file");
  EXPECT_EQ(ws().write_file({{"path", "a/b/c.txt/d"}, {"content", "x"}}).text,
            "a part of 'a/b/c.txt/d' is not a directory");
  EXPECT_FALSE(ws().write_file({{"path", "a/"}, {"content", "x"}}).ok);
  const auto big = ws().write_file({{"path", "a/b/c.txt"}, {"content", std::string(1048577, 'x')}});
  EXPECT_FALSE(big.ok);
  EXPECT_NE(big.text.find("1 MB"), std::string::npos);
  EXPECT_EQ(get(at("a/b/c.txt")), "again");
}

TEST_F(WorkspaceFilesTest, PatchReplacesOneExactMatch) {
  put(at("f.txt"), "alpha\nbeta\ngamma\n");
  const auto patched =
      ws().patch({{"path", "f.txt"}, {"old_string", "beta"}, {"new_string", "BETA"}});
  EXPECT_TRUE(patched.ok);
  EXPECT_EQ(patched.text, "replaced 1 occurrence(s) in f.txt");
  EXPECT_EQ(get(at("f.txt")), "alpha\nBETA\ngamma\n");
}

TEST_F(WorkspaceFilesTest, PatchTextNotFoundNamesTheFile) {
  put(at("f.txt"), "alpha\nbeta\n");
  const auto missing =
      ws().patch({{"path", "f.txt"}, {"old_string", "delta"}, {"new_string", "x"}});
  EXPECT_FALSE(missing.ok);
  EXPECT_NE(missing.text.find("was not found in 'f.txt'"), std::string::npos);
  EXPECT_EQ(missing.text.find("whitespace"), std::string::npos);
  const auto absent = ws().patch({{"path", "g.txt"}, {"old_string", "a"}, {"new_string", "b"}});
  EXPECT_EQ(absent.text, "'g.txt' does not exist in the workspace; use write_file to create it");
}

TEST_F(WorkspaceFilesTest, PatchHintsWhenOnlyWhitespaceDiffers) {
  put(at("f.cpp"), "if (x) {\n    return 1;\n}\n");
  const auto hinted = ws().patch(
      {{"path", "f.cpp"}, {"old_string", "if (x) {\n  return 1;\n}"}, {"new_string", "y"}});
  EXPECT_FALSE(hinted.ok);
  EXPECT_NE(hinted.text.find("was not found in 'f.cpp'"), std::string::npos);
  EXPECT_NE(hinted.text.find("it differs only in whitespace"), std::string::npos);
  EXPECT_EQ(get(at("f.cpp")), "if (x) {\n    return 1;\n}\n");
}

TEST_F(WorkspaceFilesTest, PatchFoundTwiceNeedsContextOrReplaceAll) {
  put(at("f.txt"), "x = 1\ny = 2\nx = 1\n");
  const auto twice =
      ws().patch({{"path", "f.txt"}, {"old_string", "x = 1"}, {"new_string", "x = 3"}});
  EXPECT_FALSE(twice.ok);
  EXPECT_NE(twice.text.find("occurs 2 times in 'f.txt'"), std::string::npos);
  EXPECT_NE(twice.text.find("replace_all"), std::string::npos);
  EXPECT_EQ(get(at("f.txt")), "x = 1\ny = 2\nx = 1\n");
  const auto all = ws().patch(
      {{"path", "f.txt"}, {"old_string", "x = 1"}, {"new_string", "x = 3"}, {"replace_all", true}});
  EXPECT_EQ(all.text, "replaced 2 occurrence(s) in f.txt");
  EXPECT_EQ(get(at("f.txt")), "x = 3\ny = 2\nx = 3\n");
}

TEST_F(WorkspaceFilesTest, PatchMatchesCrlfFilesWithPlainNewlines) {
  put(at("w.txt"), "a\r\nb\r\nc\r\n");
  const auto patched =
      ws().patch({{"path", "w.txt"}, {"old_string", "a\nb"}, {"new_string", "A\nB"}});
  EXPECT_TRUE(patched.ok) << patched.text;
  EXPECT_EQ(get(at("w.txt")), "A\r\nB\r\nc\r\n");
}

TEST_F(WorkspaceFilesTest, ArgumentErrorsNameTheField) {
  EXPECT_EQ(ws().read_file(json::object()).text, "read_file: 'path' is required (a string)");
  EXPECT_EQ(ws().read_file({{"path", 5}}).text, "read_file: 'path' must be a string");
  EXPECT_EQ(ws().read_file({{"path", ""}}).text,
            "read_file: 'path' is empty; give a path in the workspace");
  EXPECT_EQ(ws().read_file({{"path", "f"}, {"offset", "x"}}).text,
            "read_file: 'offset' must be a whole number of at least 1");
  EXPECT_NE(ws().read_file({{"path", "f"}, {"limit", 0}}).text.find("'limit'"), std::string::npos);
  EXPECT_NE(ws().read_file({{"path", "f"}, {"limit", 2.5}}).text.find("'limit'"),
            std::string::npos);
  EXPECT_EQ(ws().write_file({{"path", "f"}}).text, "write_file: 'content' is required (a string)");
  EXPECT_NE(ws().patch({{"path", "f"}, {"new_string", "x"}}).text.find("'old_string'"),
            std::string::npos);
  EXPECT_NE(
      ws().patch({{"path", "f"}, {"old_string", "a"}, {"new_string", "b"}, {"replace_all", 1}})
          .text.find("'replace_all'"),
      std::string::npos);
  EXPECT_EQ(ws().list_files({{"recursive", "yes"}}).text,
            "list_files: 'recursive' must be true or false");
  EXPECT_EQ(ws().search_files(json::object()).text,
            "search_files: 'pattern' is required (a string)");
  EXPECT_NE(ws().search_files({{"pattern", "x"}, {"max_results", -1}}).text.find("'max_results'"),
            std::string::npos);
  EXPECT_EQ(ws().list_files(json::array()).text, "list_files: the arguments must be an object");
  EXPECT_FALSE(ws().read_file({{"path", std::string("a\0b", 3)}}).ok);
}

TEST_F(WorkspaceFilesTest, AMissingWorkspaceIsASentenceAndIsNotCreated) {
  const Workspace missing(base_ + "/nope");
  const auto read = missing.read_file({{"path", "f.txt"}});
  EXPECT_FALSE(read.ok);
  EXPECT_EQ(read.text, "the workspace (" + base_ + "/nope) does not exist");
  EXPECT_FALSE(missing.write_file({{"path", "f.txt"}, {"content", "x"}}).ok);
  EXPECT_FALSE(fs::exists(base_ + "/nope"));
}

TEST_F(WorkspaceFilesTest, ListsSortedWithMarkers) {
  put(at("b.txt"), "b");
  put(at("a.txt"), "a");
  fs::create_directories(at("d"));
  link("a.txt", "l");
  EXPECT_EQ(ws().list_files(json::object()).text, "a.txt\nb.txt\nd/\nl -> a.txt");
  EXPECT_EQ(ws().list_files({{"path", "d"}}).text, "'d' is an empty directory");
  EXPECT_EQ(ws().list_files({{"path", "a.txt"}}).text,
            "'a.txt' is not a directory; use read_file to read a file");
}

TEST_F(WorkspaceFilesTest, RecursiveListingDoesNotFollowSymlinkedDirsOrEnterGit) {
  put(at("d/x.txt"), "x");
  put(at("d/e/y.txt"), "y");
  put(at(".git/config"), "c");
  link("d", "l");
  const auto listed = ws().list_files({{"recursive", true}});
  EXPECT_EQ(listed.text, ".git/\nd/\nd/e/\nd/e/y.txt\nd/x.txt\nl -> d");
  EXPECT_EQ(ws().list_files({{"path", "l"}, {"recursive", true}}).text, "e/\ne/y.txt\nx.txt");
}

TEST_F(WorkspaceFilesTest, ListingIsCapped) {
  for (int i = 0; i < 10; ++i) put(at("f" + std::to_string(i)), "");
  EXPECT_EQ(
      ws().list_files({{"max", 3}}).text,
      "f0\nf1\nf2\n... listing stopped at 3 entries; list a subdirectory or pass a larger max");
  EXPECT_EQ(ws().list_files({{"max", 10}}).text, "f0\nf1\nf2\nf3\nf4\nf5\nf6\nf7\nf8\nf9");
}

int open_descriptors() {
  int count = 0;
  for ([[maybe_unused]] const auto& entry : fs::directory_iterator("/proc/self/fd")) ++count;
  return count;
}

TEST_F(WorkspaceFilesTest, NoDescriptorIsLeftOpen) {
  put(at("d/f.txt"), "one\n");
  link("../outside", "out");
  const int before = open_descriptors();
  for (int i = 0; i < 3; ++i) {
    ws().read_file({{"path", "d/f.txt"}});
    ws().read_file({{"path", "out/secret.txt"}});
    ws().write_file({{"path", "n/e/w.txt"}, {"content", "one\n"}});
    ws().write_file({{"path", "out/x"}, {"content", "x"}});
    ws().patch({{"path", "d/f.txt"}, {"old_string", "zzz"}, {"new_string", "y"}});
    ws().list_files({{"recursive", true}});
    ws().search_files({{"pattern", "one"}});
  }
  EXPECT_EQ(open_descriptors(), before);
}

class SearchTest : public WorkspaceFilesTest {
 protected:
  void SetUp() override {
    WorkspaceFilesTest::SetUp();
    put(at("src/a.cpp"), "int main() {\n  return 0;\n}\n");
    put(at("src/b.h"), "int helper();\n");
    put(at("notes.txt"), "main idea\n");
  }
};

TEST_F(SearchTest, FindsRegexMatchesAsPathLineText) {
  const auto found = ws().search_files({{"pattern", R"(int \w+\()"}});
  EXPECT_TRUE(found.ok);
  EXPECT_EQ(found.text, "src/a.cpp:1: int main() {\nsrc/b.h:1: int helper();");
  EXPECT_EQ(ws().search_files({{"pattern", "main"}, {"path", "src"}}).text,
            "src/a.cpp:1: int main() {");
  EXPECT_EQ(ws().search_files({{"pattern", "^main"}, {"path", "notes.txt"}}).text,
            "notes.txt:1: main idea");
  EXPECT_EQ(ws().search_files({{"pattern", "zzz"}}).text, "no matches for 'zzz' in '.'");
}

TEST_F(SearchTest, GlobFiltersByFileNameOrPath) {
  EXPECT_EQ(ws().search_files({{"pattern", "main|helper"}, {"glob", "*.cpp"}}).text,
            "src/a.cpp:1: int main() {");
  EXPECT_EQ(ws().search_files({{"pattern", "int"}, {"glob", "src/*.h"}}).text,
            "src/b.h:1: int helper();");
}

TEST_F(SearchTest, ABadRegexIsNamed) {
  const auto bad = ws().search_files({{"pattern", "([a-"}});
  EXPECT_FALSE(bad.ok);
  EXPECT_NE(bad.text.find("'([a-' is not a valid regular expression"), std::string::npos);
  const auto fixed = ws().search_files({{"pattern", "helper("}, {"fixed", true}});
  EXPECT_EQ(fixed.text, "src/b.h:1: int helper();");
}

TEST_F(SearchTest, ResultsAreCapped) {
  std::string hits;
  for (int i = 0; i < 50; ++i) hits += "hit\n";
  put(at("hits.txt"), hits);
  EXPECT_EQ(ws().search_files({{"pattern", "hit"}, {"max_results", 2}}).text,
            "hits.txt:1: hit\nhits.txt:2: hit\n... stopped at 2 matches; narrow the pattern, "
            "path or glob, or raise max_results");
  const auto exact = ws().search_files({{"pattern", "hit"}, {"max_results", 50}});
  EXPECT_EQ(exact.text.find("stopped"), std::string::npos);
}

TEST_F(SearchTest, SkipsBinaryHugeGitAndOverlongLines) {
  put(at("bin.dat"), std::string("needle\0", 7));
  put(at(".git/objects/x"), "needle\n");
  put(at("huge.txt"), "needle\n" + std::string(2 * 1024 * 1024, 'x'));
  put(at("long.txt"), std::string(20000, 'y') + "needle\n");
  const auto found = ws().search_files({{"pattern", "needle"}});
  EXPECT_TRUE(found.ok);
  EXPECT_EQ(found.text,
            "no matches for 'needle' in '.'\n(skipped 1 binary file(s) and 1 file(s) over 2 MB)\n"
            "(1 line(s) longer than 10000 characters were not searched)");
  const auto plain = ws().search_files({{"pattern", "needle"}, {"fixed", true}, {"glob", "long*"}});
  EXPECT_EQ(plain.text, "long.txt:1: " + std::string(300, 'y') + " [...]");
}

}  // namespace
}  // namespace hermes::daemon::builtin
