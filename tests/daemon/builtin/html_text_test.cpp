#include "daemon/builtin/html_text.hpp"

#include <gtest/gtest.h>

#include <chrono>

namespace hermes::daemon::builtin {
namespace {

std::string text_of(std::string_view html, std::string_view charset = "") {
  return html_to_text(html, charset).text;
}

bool contains(std::string_view text, std::string_view part) {
  return text.find(part) != std::string_view::npos;
}

// Every byte sequence is valid UTF-8 and no control character but \n and \t remains.
bool clean_utf8(std::string_view text) {
  for (std::size_t at = 0; at < text.size();) {
    const auto byte = static_cast<unsigned char>(text[at]);
    std::size_t length = 1;
    if (byte < 0x80) {
      if (byte < 0x20 && byte != '\n' && byte != '\t') return false;
    } else if (byte >= 0xc2 && byte <= 0xdf) {
      length = 2;
    } else if (byte >= 0xe0 && byte <= 0xef) {
      length = 3;
    } else if (byte >= 0xf0 && byte <= 0xf4) {
      length = 4;
    } else {
      return false;
    }
    if (at + length > text.size()) return false;
    for (std::size_t i = 1; i < length; ++i) {
      if ((static_cast<unsigned char>(text[at + i]) & 0xc0) != 0x80) return false;
    }
    at += length;
  }
  return true;
}

TEST(HtmlText, TitleIsCollapsedAndKeptOutOfTheText) {
  const auto page = html_to_text(
      "<html><head><title>\n  My   Page &amp; More\n</title></head><body><p>Body</p></body>");
  EXPECT_EQ(page.title, "My Page & More");
  EXPECT_EQ(page.text, "Body");
  EXPECT_EQ(html_to_text("<p>No title</p>").title, "");
  // An <svg>'s <title> labels a drawing, not the page.
  EXPECT_EQ(html_to_text("<body><svg><title>Icon</title></svg><p>x</p>").title, "");
}

TEST(HtmlText, ScriptsStylesAndOtherNoiseAreDropped) {
  const auto text = text_of(R"(<html><head><style>p { color: red } /* <p>css</p> */</style>
<script>var s = "<p>fake paragraph</p></div>"; if (a < b && c > d) {}</script></head>
<body><p>Before</p>
<script type="text/javascript">document.write("<h1>Injected</h1>");</script>
<noscript><p>Enable JavaScript</p></noscript>
<template><p>Template row</p></template>
<svg><text>Chart label</text></svg>
<iframe src="https://ads.example">Frame fallback</iframe>
<nav><a href="/">Home</a> <a href="/about">About</a></nav>
<div hidden>Hidden attribute</div>
<div style="DISPLAY: none">Hidden style</div>
<span aria-hidden="true">Icon glyph</span>
<select><option>Option one</option></select>
<!-- a comment -->
<p>After</p></body></html>)");
  EXPECT_EQ(text, "Before\n\nAfter");
}

TEST(HtmlText, EntitiesAreDecoded) {
  EXPECT_EQ(
      text_of("<p>Fish &amp; chips, caf&eacute;, &#x263A; &#9731; &lt;b&gt; &quot;q&quot;</p>"),
      "Fish & chips, caf\xc3\xa9, \xe2\x98\xba \xe2\x98\x83 <b> \"q\"");
  // A no-break space reads as a space; an unknown entity stays as written.
  EXPECT_EQ(text_of("<p>a&nbsp;b &bogus; c</p>"), "a b &bogus; c");
}

TEST(HtmlText, BrokenHtmlIsRecovered) {
  const auto text = text_of(
      "<html><body><p>First paragraph<p>Second <b>bold <i>both</p><div>Third</span>"
      "<ul><li>one<li>two</ul><table><tr><td>cell<td>next<tr><td>row two");
  EXPECT_TRUE(contains(text, "First paragraph\n\nSecond bold both")) << text;
  EXPECT_TRUE(contains(text, "Third")) << text;
  EXPECT_TRUE(contains(text, "- one\n- two")) << text;
  EXPECT_TRUE(contains(text, "cell | next\nrow two")) << text;
  EXPECT_EQ(text_of("no markup at all"), "no markup at all");
  EXPECT_EQ(text_of("<p>if a < b && c > d <3</p></div></span> end"), "if a < b && c > d <3\n\nend");
  EXPECT_EQ(html_to_text("").text, "");
}

TEST(HtmlText, WhitespaceCollapsesOutsidePre) {
  EXPECT_EQ(text_of("<p>  one\n\t two   <b>three</b><i>four</i>  </p>"), "one two threefour");
  const auto text =
      text_of("<p>Intro</p><pre>\n  int main() {\n    return  0;\n  }\n\n</pre><p>Outro  text</p>");
  EXPECT_EQ(text, "Intro\n\n  int main() {\n    return  0;\n  }\n\nOutro text");
  EXPECT_EQ(text_of("<pre><code>  a\tb\r\nc</code></pre>"), "  a\tb\nc");
}

TEST(HtmlText, BlocksAndHeadings) {
  EXPECT_EQ(text_of("<h1>Title</h1><p>Para one.</p><h2>Part</h2><div>line a</div>"
                    "<div>line b</div><h6>Small</h6>"),
            "# Title\n\nPara one.\n\n## Part\n\nline a\nline b\n\n###### Small");
  EXPECT_EQ(text_of("a<br>b<br/><br>c"), "a\nb\n\nc");
  // However many breaks, at most two blank lines.
  EXPECT_EQ(text_of("a<br><br><br><br><br><br><br>b"), "a\n\n\nb");
  EXPECT_EQ(text_of("<blockquote><p>quoted</p></blockquote><p>not</p>"), "> quoted\n\nnot");
}

TEST(HtmlText, Lists) {
  EXPECT_EQ(text_of("<p>Shopping:</p><ul><li>eggs</li><li>milk <b>2%</b></li></ul><p>Done</p>"),
            "Shopping:\n\n- eggs\n- milk 2%\n\nDone");
  EXPECT_EQ(text_of("<ol><li>first</li><li>second<ul><li>inner</li></ul></li><li>third</li></ol>"),
            "1. first\n2. second\n   - inner\n3. third");
  EXPECT_EQ(text_of("<ol start=\"7\"><li>seven</li><li>eight</li></ol>"), "7. seven\n8. eight");
  EXPECT_EQ(text_of("<ol start=\"x\"><li>one</li></ol><ol start=\"99999999999\"><li>one</li></ol>"),
            "1. one\n\n1. one");
  // A paragraph in an item starts on the marker's line; its blank line after stays, as in a
  // loose Markdown list. An empty item writes nothing.
  EXPECT_EQ(text_of("<ul><li><p>para item</p></li><li></li><li>x<br>continued</li></ul>"),
            "- para item\n\n- x\n  continued");
  EXPECT_EQ(text_of("<dl><dt>Term</dt><dd>Meaning</dd></dl>"), "Term\n  Meaning");
}

TEST(HtmlText, LinksShowAbsoluteTargetsThatDifferFromTheirText) {
  EXPECT_EQ(text_of("<p>See <a href=\"https://example.com/docs\">the docs</a>.</p>"),
            "See the docs (https://example.com/docs).");
  EXPECT_EQ(text_of("<p><a href=\"http://example.com/\">example.com</a></p>"), "example.com");
  EXPECT_EQ(text_of("<p><a href=\"https://example.com/a\">https://example.com/a</a></p>"),
            "https://example.com/a");
  EXPECT_EQ(text_of("<p><a href=\"/relative\">relative</a> <a href=\"#top\">top</a> "
                    "<a href=\"mailto:a@b.c\">mail</a></p>"),
            "relative top mail");
  // A link with nothing to read (an image) adds nothing.
  EXPECT_EQ(text_of("<p>x<a href=\"https://example.com/\"><img src=\"logo.png\"></a>y</p>"), "xy");
  EXPECT_EQ(text_of("<ul><li><a href=\"https://a.example/\">A site</a></li></ul>"),
            "- A site (https://a.example/)");
}

TEST(HtmlText, Tables) {
  EXPECT_EQ(text_of("<p>Prices</p><table><tr><th>Item</th><th>Cost</th></tr>"
                    "<tr><td>Tea</td><td>2</td></tr></table><p>End</p>"),
            "Prices\n\nItem | Cost\nTea | 2\n\nEnd");
}

TEST(HtmlText, CharsetFromTheHeaderOrThePage) {
  EXPECT_EQ(text_of("<p>caf\xe9</p>", "iso-8859-1"), "caf\xc3\xa9");
  EXPECT_EQ(text_of("<p>caf\xe9</p>", "\"ISO-8859-1\""), "caf\xc3\xa9");
  EXPECT_EQ(text_of("<meta charset=\"windows-1252\"><p>\x93quoted\x94</p>"),
            "\xe2\x80\x9cquoted\xe2\x80\x9d");
  // The header outranks the page's own declaration.
  EXPECT_EQ(text_of("<meta charset=\"utf-8\"><p>caf\xe9</p>", "iso-8859-1"), "caf\xc3\xa9");
  // An unknown charset leaves the choice to libxml2.
  EXPECT_EQ(text_of("<p>caf\xc3\xa9</p>", "x-no-such-charset"), "caf\xc3\xa9");
  // Bytes that are not UTF-8 in a page that declares nothing: read as ISO-8859-1.
  EXPECT_EQ(text_of("<p>na\xefve</p>"), "na\xc3\xafve");
}

TEST(HtmlText, OutputIsAlwaysValidUtf8) {
  // Declared UTF-8 but not: the bad bytes become U+FFFD.
  const auto text = text_of("<p>ok \xc3\xa9 bad \xff\xfe \xed\xa0\x80 end</p>", "utf-8");
  EXPECT_TRUE(clean_utf8(text)) << text;
  EXPECT_TRUE(contains(text, "ok \xc3\xa9 bad \xef\xbf\xbd")) << text;
  EXPECT_TRUE(contains(text, " end")) << text;
  EXPECT_TRUE(clean_utf8(text_of("<p>a\x01\x02\x1b[31mb\x7f</p>")));
  std::string noise;
  for (int i = 0; i < 4096; ++i) noise += static_cast<char>((i * 131 + 7) % 256);
  EXPECT_TRUE(clean_utf8(text_of(noise)));
  EXPECT_TRUE(clean_utf8(text_of(noise, "utf-8")));
}

TEST(HtmlText, AMegabyteDocumentCompletes) {
  std::string html = "<html><head><title>Big</title></head><body>";
  int paragraphs = 0;
  while (html.size() < 1024 * 1024) {
    const auto n = std::to_string(paragraphs++);
    html += "<div class=\"post\"><h3>Post " + n + "</h3><p>Body text &amp; more text for " + n +
            ", with <a href=\"https://example.com/" + n + "\">a link</a>.</p><ul><li>item " + n +
            "</li></ul></div>\n";
  }
  html += "</body></html>";
  const auto start = std::chrono::steady_clock::now();
  const auto page = html_to_text(html);
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(page.title, "Big");
  EXPECT_TRUE(contains(page.text,
                       "### Post 0\n\nBody text & more text for 0, with a link "
                       "(https://example.com/0).\n\n- item 0"));
  EXPECT_TRUE(contains(page.text, "- item " + std::to_string(paragraphs - 1)));
  EXPECT_LT(took, std::chrono::seconds(10));  // generous: sanitizers, -O0 and a busy CI machine
}

TEST(HtmlText, NestingPastLibxml2sLimitEndsTheTextWithANote) {
  std::string html = "<p>before</p>";
  for (int i = 0; i < 100000; ++i) html += "<div>";
  html += "deep";
  for (int i = 0; i < 100000; ++i) html += "</div>";
  html += "<p>after</p>";
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(text_of(html),
            "before\n\n[The rest of the page is not shown: its markup nests more than 256 "
            "elements deep.]");
  // Unmatched end tags under a deep stack of open elements stay cheap.
  html = std::string(5 * 250, ' ');
  for (int i = 0; i < 250; ++i) html.replace(static_cast<std::size_t>(i) * 5, 5, "<div>");
  for (int i = 0; i < 100000; ++i) html += "</span>";
  html += "end";
  EXPECT_EQ(text_of(html), "end");
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
}

TEST(HtmlText, DeepButAllowedNestingKeepsLinesShort) {
  std::string html = "<p>before</p>";
  for (int i = 0; i < 120; ++i) html += "<blockquote>";
  html += "deep<br>second line";
  for (int i = 0; i < 120; ++i) html += "</blockquote>";
  html += "<p>after</p>";
  const auto text = text_of(html);
  // The indentation stops growing at 24 characters: "> > > ... > deep".
  EXPECT_EQ(text, "before\n\n" + std::string("> > > > > > > > > > > > deep\n") +
                      "> > > > > > > > > > > > second line\n\nafter");
}

TEST(HtmlText, ATagWithHugelyManyAttributesStaysCheap) {
  // libxml2 compares every attribute with every other: 200,000 would take minutes uncut.
  std::string tag = "<div";
  for (int i = 0; i < 200000; ++i) tag += " data-a" + std::to_string(i) + "=\"x>y\"";
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(text_of("<p>before</p>" + tag + ">inside</div><p>after</p>"),
            "before\n\ninside\n\nafter");
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
  // The cut leaves a script's text alone: there a '<' starts no tag.
  std::string script = "<script>for (i = 0; i<a.length; i++) {";
  for (int i = 0; i < 500; ++i) script += " x = 1;";
  EXPECT_EQ(text_of("<p>before</p>" + script + "}</script><p>after</p>"), "before\n\nafter");
  // Attributes up to the limit still count: hidden as the hundredth hides.
  std::string many = "<div";
  for (int i = 0; i < 99; ++i) many += " a" + std::to_string(i);
  EXPECT_EQ(text_of("<p>shown</p>" + many + " hidden>secret</div>"), "shown");
}

}  // namespace
}  // namespace hermes::daemon::builtin
