#pragma once

#include <string>
#include <string_view>

namespace hermes::daemon::builtin {

struct PageText {
  std::string title;  // the first <title>, whitespace collapsed; "" when the page has none
  std::string text;
};

// The readable text of an HTML page, for web_fetch to hand the model instead of markup.
//
// Parsed with libxml2's HTML parser in recovery mode, without network access or entity loading,
// so broken markup still yields text. Dropped with everything inside: <head> (its <title> is
// `title`), script, style, noscript, template, svg, math, iframe, object, embed, canvas, audio,
// video, select, textarea, and nav (menus repeat on every page and crowd out the content), as
// are elements marked hidden, aria-hidden="true", role="navigation" or styled display:none.
//
// Block elements start new lines and paragraphs, headings and tables are set apart by a blank
// line, never more than two blank lines follow each other; whitespace is collapsed except inside
// <pre>. Headings start with one '#' per level, list items with "- " (or "1. " in an <ol>),
// nested lists are indented, blockquote lines start with "> ", table cells are joined by " | ".
// A link reads "text (href)" when its href is an absolute http(s) URL that differs from its
// text. The output is valid UTF-8: invalid sequences become U+FFFD, control characters go.
//
// libxml2's limits stay on: where markup nests more than 256 elements deep it stops, and the text
// ends with a bracketed note saying the rest is not shown. Attributes past a tag's hundredth are
// cut before parsing (libxml2 2.9 takes quadratic time over them).
//
// `charset` is the Content-Type header's, which outranks the page's <meta charset>; "" (or one
// libxml2 does not know) lets libxml2 detect it, falling back to ISO-8859-1 for bytes that are
// not UTF-8.
PageText html_to_text(std::string_view html, std::string_view charset = "");

}  // namespace hermes::daemon::builtin
