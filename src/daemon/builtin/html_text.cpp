#include "daemon/builtin/html_text.hpp"

#include <libxml/HTMLparser.h>
#include <libxml/encoding.h>
#include <libxml/parser.h>
#include <libxml/parserInternals.h>
#include <libxml/tree.h>

#include <algorithm>
#include <charconv>
#include <climits>
#include <initializer_list>
#include <memory>
#include <unordered_map>
#include <vector>

#include "daemon/providers/text_util.hpp"

namespace hermes::daemon::builtin {
namespace {

enum class Kind {
  kInline,
  kDrop,
  kBreak,
  kBlock,      // its own line
  kParagraph,  // its own lines, with a blank line before and after
  kHeading,
  kList,
  kItem,
  kDefinition,
  kQuote,
  kPre,
  kRow,
  kCell,
  kLink,
};

// Elements not named here are inline: their text joins the words around it.
std::unordered_map<std::string_view, Kind> kinds() {
  std::unordered_map<std::string_view, Kind> table;
  const auto add = [&](Kind kind, std::initializer_list<std::string_view> names) {
    for (const auto name : names) table.emplace(name, kind);
  };
  add(Kind::kDrop, {"script", "style",  "noscript", "template", "svg",      "math",   "head",
                    "title",  "iframe", "frame",    "object",   "embed",    "applet", "canvas",
                    "audio",  "video",  "select",   "datalist", "textarea", "nav"});
  add(Kind::kBlock,
      {"div", "section", "article", "main", "header", "footer", "aside", "body", "center", "form",
       "fieldset", "legend", "figcaption", "caption", "summary", "hgroup", "dt"});
  add(Kind::kParagraph, {"p", "table", "figure", "hr", "dl", "address", "details"});
  add(Kind::kList, {"ul", "ol", "menu", "dir"});
  add(Kind::kPre, {"pre", "listing", "xmp", "plaintext"});
  add(Kind::kCell, {"td", "th"});
  table.emplace("br", Kind::kBreak);
  table.emplace("li", Kind::kItem);
  table.emplace("dd", Kind::kDefinition);
  table.emplace("blockquote", Kind::kQuote);
  table.emplace("tr", Kind::kRow);
  table.emplace("a", Kind::kLink);
  return table;
}

Kind kind_of(std::string_view name) {
  static const auto kKinds = kinds();
  if (name.size() == 2 && name[0] == 'h' && name[1] >= '1' && name[1] <= '6') return Kind::kHeading;
  const auto found = kKinds.find(name);
  return found == kKinds.end() ? Kind::kInline : found->second;
}

std::string_view name_of(const xmlNode& node) {
  return node.name == nullptr ? std::string_view() : reinterpret_cast<const char*>(node.name);
}

std::string attribute(const xmlNode& node, const char* name) {
  xmlChar* value = xmlGetProp(&node, reinterpret_cast<const xmlChar*>(name));
  if (value == nullptr) return "";
  std::string out(reinterpret_cast<const char*>(value));
  xmlFree(value);
  return out;
}

char lower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

// `text` starts with the lower-case `prefix`, in any case.
bool starts_with_lower(std::string_view text, std::string_view prefix) {
  if (text.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    if (lower(text[i]) != prefix[i]) return false;
  }
  return true;
}

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

std::string lower_without_spaces(std::string_view text) {
  std::string out;
  for (const char c : text) {
    if (!is_space(c)) out += lower(c);
  }
  return out;
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && is_space(text.front())) text.remove_prefix(1);
  while (!text.empty() && is_space(text.back())) text.remove_suffix(1);
  return text;
}

// Whatever a browser would not show: the hidden attribute, aria-hidden, an inline display:none,
// and navigation landmarks for the same reason as <nav>.
bool hidden(const xmlNode& node) {
  if (node.properties == nullptr) return false;
  if (xmlHasProp(&node, reinterpret_cast<const xmlChar*>("hidden")) != nullptr) return true;
  if (lower_without_spaces(attribute(node, "aria-hidden")) == "true") return true;
  if (lower_without_spaces(attribute(node, "role")) == "navigation") return true;
  const std::string style = lower_without_spaces(attribute(node, "style"));
  return style.find("display:none") != std::string::npos ||
         style.find("visibility:hidden") != std::string::npos;
}

// libxml2 passes bytes it could not decode through as they are, and a page may hold control
// characters: neither belongs in text for the model.
std::string readable_utf8(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  std::size_t at = 0;
  while (at < text.size()) {
    const auto byte = static_cast<unsigned char>(text[at]);
    if (byte < 0x80) {
      if (byte >= 0x20 ? byte != 0x7f : byte == '\n' || byte == '\t') out += text[at];
      ++at;
      continue;
    }
    const std::size_t length = providers::utf8_length(text, at);
    if (length == 0) {
      out += "\xEF\xBF\xBD";
      ++at;
      continue;
    }
    out.append(text.substr(at, length));
    at += length;
  }
  return out;
}

// Bytes of whitespace at `at`: ASCII whitespace, or a no-break space, which reads as a space.
std::size_t space_at(std::string_view text, std::size_t at) {
  if (is_space(text[at])) return 1;
  if (text[at] == '\xc2' && at + 1 < text.size() && text[at + 1] == '\xa0') return 2;
  return 0;
}

constexpr std::size_t kMaxPrefix = 24;

// The text as it is laid out: words joined by single spaces, lines that start with the current
// indentation (or a list item's marker), and blank lines capped at two.
class TextWriter {
 public:
  // Text outside <pre>: runs of whitespace become one space, and only between words.
  void text(std::string_view raw) {
    std::size_t at = 0;
    while (at < raw.size()) {
      if (const std::size_t space = space_at(raw, at); space > 0) {
        if (separator_ == Separator::kNone) separator_ = Separator::kSpace;
        at += space;
        continue;
      }
      const std::size_t start = at;
      while (at < raw.size() && space_at(raw, at) == 0) ++at;
      start_content();
      out_.append(raw.substr(start, at - start));
    }
  }

  void preformatted(std::string_view raw);

  void line_break() {
    newline();
    separator_ = Separator::kNone;
  }

  void end_line() {
    if (!at_line_start()) newline();
    separator_ = Separator::kNone;
  }

  // Not while an item's marker waits: a paragraph opening a list item starts on its marker's line.
  void blank_line() {
    if (!marker_.empty()) return;
    end_line();
    if (!out_.empty() && trailing_newlines() < 2) out_ += '\n';
  }

  void cell() {
    if (!at_line_start()) separator_ = Separator::kCell;
  }

  // Written in place of the indentation before the next line's first word.
  void set_marker(std::string marker) { marker_ = std::move(marker); }
  void add_to_marker(std::string_view more) {
    if (marker_.empty()) marker_ = indent_;
    marker_ += more;
  }
  void clear_marker() { marker_.clear(); }

  std::string& indent() { return indent_; }

  // Where the next word starts, for a link to find its own text afterwards.
  void mark() { mark_ = std::string::npos; }
  std::string_view since_mark() const {
    return mark_ == std::string::npos ? std::string_view() : std::string_view(out_).substr(mark_);
  }
  void append_to_line(std::string_view text) {
    if (!at_line_start()) out_.append(text);
  }

  // Leading spaces stay: they may indent the first line of a <pre>.
  std::string finish() {
    std::string_view text = out_;
    text.remove_prefix(std::min(text.find_first_not_of('\n'), text.size()));
    while (!text.empty() && is_space(text.back())) text.remove_suffix(1);
    return readable_utf8(text);
  }

 private:
  enum class Separator { kNone, kSpace, kCell };

  bool at_line_start() const { return out_.empty() || out_.back() == '\n'; }

  int trailing_newlines() const {
    int count = 0;
    for (auto it = out_.rbegin(); it != out_.rend() && *it == '\n' && count < 3; ++it) ++count;
    return count;
  }

  void newline() {
    if (!out_.empty() && trailing_newlines() < 3) out_ += '\n';
  }

  void start_content() {
    if (at_line_start()) {
      // Deep nesting indents no further: 1,000 nested blockquotes must not turn every line of
      // a page into 2,000 bytes. The end is kept, which holds a list item's marker.
      const std::string_view prefix = marker_.empty() ? indent_ : marker_;
      out_ += prefix.substr(prefix.size() - std::min(prefix.size(), kMaxPrefix));
      marker_.clear();
    } else if (separator_ == Separator::kCell) {
      out_ += " | ";
    } else if (separator_ == Separator::kSpace) {
      out_ += ' ';
    }
    separator_ = Separator::kNone;
    if (mark_ == std::string::npos) mark_ = out_.size();
  }

  std::string out_;
  std::string indent_;
  std::string marker_;
  Separator separator_ = Separator::kNone;
  std::size_t mark_ = 0;
};

void TextWriter::preformatted(std::string_view raw) {
  std::size_t at = 0;
  while (at < raw.size()) {
    if (raw[at] == '\n' || raw[at] == '\r') {
      // \r\n, \r and \n all end a line.
      if (raw[at] == '\r' && at + 1 < raw.size() && raw[at + 1] == '\n') ++at;
      ++at;
      line_break();
      continue;
    }
    const auto end = std::min(raw.find_first_of("\r\n", at), raw.size());
    start_content();
    out_.append(raw.substr(at, end - at));
    at = end;
  }
}

// Depth first without recursion: a page of 100,000 nested <div>s must not exhaust the stack.
// The visitor's enter() answers whether to descend (and later call leave()).
template <typename Visitor>
void walk(xmlDoc& doc, Visitor& visitor) {
  xmlNode* const top = reinterpret_cast<xmlNode*>(&doc);
  xmlNode* node = doc.children;
  while (node != nullptr) {
    const bool open = visitor.enter(*node);
    if (visitor.done()) return;
    if (open && node->children != nullptr) {
      node = node->children;
      continue;
    }
    if (open) visitor.leave(*node);
    while (node->next == nullptr) {
      node = node->parent;
      if (node == nullptr || node == top) return;
      visitor.leave(*node);
    }
    node = node->next;
  }
}

class TitleFinder {
 public:
  bool enter(xmlNode& node) {
    if (node.type != XML_ELEMENT_NODE) return false;
    const auto name = name_of(node);
    if (name == "svg" || name == "math") return false;  // their <title>s label drawings
    if (name != "title") return true;
    found_ = true;
    xmlChar* content = xmlNodeGetContent(&node);
    if (content != nullptr) {
      writer_.text(reinterpret_cast<const char*>(content));
      xmlFree(content);
    }
    return false;
  }
  void leave(xmlNode&) {}
  bool done() const { return found_; }
  std::string title() { return writer_.finish(); }

 private:
  TextWriter writer_;
  bool found_ = false;
};

// A link's text and href name the same place when they differ only in scheme, "www.", case or
// a trailing slash: "example.com/docs" links to "https://www.example.com/docs/".
std::string place_of(std::string_view url) {
  for (const std::string_view prefix : {"https://", "http://", "www."}) {
    if (starts_with_lower(url, prefix)) url.remove_prefix(prefix.size());
  }
  while (!url.empty() && url.back() == '/') url.remove_suffix(1);
  std::string out(url);
  for (char& c : out) c = lower(c);
  return out;
}

std::string absolute_href(const xmlNode& node) {
  const std::string href(trim(attribute(node, "href")));
  if (starts_with_lower(href, "http://") || starts_with_lower(href, "https://")) return href;
  return "";
}

struct Frame {
  Kind kind = Kind::kInline;
  std::size_t indent = 0;  // the writer's indentation to restore on leaving
  bool nested = false;     // a list inside another list
  bool ordered = false;
  int number = 1;  // the next item's number in an ordered list
  std::string href;
};

class PageWalker {
 public:
  bool enter(xmlNode& node) {
    if (node.type == XML_TEXT_NODE || node.type == XML_CDATA_SECTION_NODE) {
      if (node.content != nullptr) text(reinterpret_cast<const char*>(node.content));
      return false;
    }
    if (node.type != XML_ELEMENT_NODE) return false;  // comments, processing instructions, DTD
    const Kind kind = kind_of(name_of(node));
    if (kind == Kind::kDrop || hidden(node)) return false;
    Frame& frame = frames_.emplace_back();
    frame.kind = kind;
    frame.indent = writer_.indent().size();
    open(frame, node);
    return true;
  }

  void leave(xmlNode&) {
    close(frames_.back());
    writer_.indent().resize(frames_.back().indent);
    frames_.pop_back();
  }

  bool done() const { return false; }
  std::string finish() { return writer_.finish(); }

 private:
  void text(std::string_view raw) {
    if (pre_ == 0) return writer_.text(raw);
    // As in browsers, a newline right after <pre> is not part of its text.
    if (pre_start_ && raw.starts_with('\n')) raw.remove_prefix(1);
    pre_start_ = false;
    writer_.preformatted(raw);
  }

  // The innermost open list, found without a search through every open element: a page of
  // 100,000 items under 100,000 <div>s must not take 10^10 steps.
  Frame* enclosing_list() { return lists_.empty() ? nullptr : &frames_[lists_.back()]; }

  void open(Frame& frame, const xmlNode& node);
  void open_list(Frame& frame, const xmlNode& node);
  void open_item();
  void close(Frame& frame);

  TextWriter writer_;
  std::vector<Frame> frames_;
  std::vector<std::size_t> lists_;  // indexes into frames_
  int pre_ = 0;
  bool pre_start_ = false;
};

void PageWalker::open(Frame& frame, const xmlNode& node) {
  switch (frame.kind) {
    case Kind::kInline:
    case Kind::kDrop:
      break;
    case Kind::kBreak:
      writer_.line_break();
      break;
    case Kind::kBlock:
    case Kind::kRow:
      writer_.end_line();
      break;
    case Kind::kParagraph:
      writer_.blank_line();
      break;
    case Kind::kHeading:
      writer_.blank_line();
      writer_.add_to_marker(std::string(static_cast<std::size_t>(node.name[1] - '0'), '#') + " ");
      break;
    case Kind::kList:
      open_list(frame, node);
      break;
    case Kind::kItem:
      open_item();
      break;
    case Kind::kDefinition:
      writer_.end_line();
      writer_.indent() += "  ";
      break;
    case Kind::kQuote:
      writer_.blank_line();
      writer_.indent() += "> ";
      break;
    case Kind::kPre:
      writer_.blank_line();
      ++pre_;
      pre_start_ = true;
      break;
    case Kind::kCell:
      writer_.cell();
      break;
    case Kind::kLink:
      frame.href = absolute_href(node);
      writer_.mark();
      break;
  }
}

void PageWalker::open_list(Frame& frame, const xmlNode& node) {
  frame.nested = enclosing_list() != nullptr;
  lists_.push_back(frames_.size() - 1);
  if (frame.nested) {
    writer_.end_line();
  } else {
    writer_.blank_line();
  }
  frame.ordered = name_of(node) == "ol";
  if (frame.ordered) {
    // Not a number, or out of range: counting starts at 1, as in browsers.
    const std::string start(trim(attribute(node, "start")));
    int number = 0;
    const auto [end, error] = std::from_chars(start.data(), start.data() + start.size(), number);
    if (error == std::errc() && end == start.data() + start.size()) frame.number = number;
  }
}

void PageWalker::open_item() {
  writer_.end_line();
  Frame* list = enclosing_list();
  std::string marker = "- ";
  if (list != nullptr && list->ordered) marker = std::to_string(list->number++) + ". ";
  writer_.set_marker(writer_.indent() + marker);
  // The item's later lines line up under its first word.
  writer_.indent().append(marker.size(), ' ');
}

void PageWalker::close(Frame& frame) {
  switch (frame.kind) {
    case Kind::kBlock:
    case Kind::kRow:
    case Kind::kDefinition:
      writer_.end_line();
      break;
    case Kind::kParagraph:
    case Kind::kQuote:
      writer_.blank_line();
      break;
    case Kind::kHeading:
      writer_.clear_marker();
      writer_.blank_line();
      break;
    case Kind::kList:
      lists_.pop_back();
      if (frame.nested) {
        writer_.end_line();
      } else {
        writer_.blank_line();
      }
      break;
    case Kind::kItem:
      writer_.end_line();
      writer_.clear_marker();  // an empty item writes nothing
      break;
    case Kind::kPre:
      --pre_;
      writer_.blank_line();
      break;
    case Kind::kLink: {
      if (frame.href.empty()) break;
      const auto text = trim(writer_.since_mark());
      if (!text.empty() && place_of(text) != place_of(frame.href)) {
        writer_.append_to_line(" (" + frame.href + ")");
      }
      break;
    }
    case Kind::kInline:
    case Kind::kDrop:
    case Kind::kBreak:
    case Kind::kCell:
      break;
  }
}

// The charset libxml2 should decode with, when it knows it: "" leaves the choice to it.
std::string known_encoding(std::string_view charset) {
  std::string name(trim(charset));
  if (name.size() >= 2 && (name.front() == '"' || name.front() == '\'') &&
      name.back() == name.front()) {
    name = name.substr(1, name.size() - 2);
  }
  if (name.empty()) return "";
  xmlCharEncodingHandlerPtr handler = xmlFindCharEncodingHandler(name.c_str());
  if (handler == nullptr) return "";
  xmlCharEncCloseFunc(handler);
  return name;
}

constexpr const char* kTooDeep =
    "[The rest of the page is not shown: its markup nests more than 256 elements deep.]";
constexpr const char* kUnreadable =
    "[The rest of the page is not shown: its markup is unreadable.]";

using DocPtr = std::unique_ptr<xmlDoc, void (*)(xmlDocPtr)>;

struct Parsed {
  DocPtr doc{nullptr, xmlFreeDoc};
  bool halted = false;    // libxml2 gave up before the end; the tree holds what came before
  bool too_deep = false;  // ... because the markup nests more than 256 elements deep
};

// libxml2 2.9 compares each attribute of a start tag with every one before it: one tag with
// 100,000 attributes takes minutes. No real tag has more than a few dozen, so before parsing,
// attributes past kMaxAttributes are cut from the markup (they never hold text).
constexpr int kMaxAttributes = 100;

bool tag_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}

std::size_t skip_tag_space(std::string_view html, std::size_t at) {
  while (at < html.size() && tag_space(html[at])) ++at;
  return at;
}

struct TagScan {
  std::size_t end;                      // the tag's '>', or the end of the input
  std::size_t cut = std::string::npos;  // where the first attribute past the limit starts
};

// Reads attributes the way libxml2 does: a name, then maybe '=' and a value that is quoted
// (running to the same quote, '>' included) or ends at whitespace or '>'.
TagScan scan_attributes(std::string_view html, std::size_t at) {
  TagScan scan{html.size()};
  int count = 0;
  while ((at = skip_tag_space(html, at)) < html.size()) {
    if (html[at] == '>') {
      scan.end = at;
      return scan;
    }
    if (count++ == kMaxAttributes) scan.cut = at;
    const std::size_t name = at;
    while (at < html.size() && !tag_space(html[at]) && html[at] != '>' && html[at] != '=' &&
           (html[at] != '/' || at == name)) {
      ++at;
    }
    if (at == name) ++at;  // a stray '=': step over it as libxml2 does
    const std::size_t equals = skip_tag_space(html, at);
    if (equals >= html.size() || html[equals] != '=') continue;
    at = skip_tag_space(html, equals + 1);
    if (at < html.size() && (html[at] == '"' || html[at] == '\'')) {
      at = std::min(html.find(html[at], at + 1), html.size() - 1) + 1;
    } else {
      while (at < html.size() && !tag_space(html[at]) && html[at] != '>') ++at;
    }
  }
  return scan;
}

// Where markup resumes after the start tag ending at `end`: past the </script> or </style>
// whose content libxml2 reads as raw text, where a '<' starts no tag.
std::size_t after_tag(std::string_view html, std::string_view name, std::size_t end) {
  for (const std::string_view raw : {"script", "style"}) {
    if (name.size() != raw.size() || !starts_with_lower(name, raw)) continue;
    for (auto close = html.find("</", end); close != std::string_view::npos;
         close = html.find("</", close + 2)) {
      if (starts_with_lower(html.substr(close + 2), raw)) return close;
    }
    return html.size();
  }
  return end;
}

// `html`, or a copy in `storage` with every start tag cut to its first kMaxAttributes.
std::string_view limit_attributes(std::string_view html, std::string& storage) {
  std::size_t copied = 0;
  std::size_t at = 0;
  while ((at = html.find('<', at)) != std::string_view::npos && at + 1 < html.size()) {
    if (html.substr(at, 4) == "<!--") {
      at = std::min(html.find("-->", at + 4), html.size());
      continue;
    }
    const char first = lower(html[at + 1]);
    if (first < 'a' || first > 'z') {
      ++at;
      continue;
    }
    const std::size_t name = at + 1;
    at = name;
    while (at < html.size() && !tag_space(html[at]) && html[at] != '>' && html[at] != '/') ++at;
    const TagScan scan = scan_attributes(html, at);
    if (scan.cut != std::string::npos) {
      storage.append(html.substr(copied, scan.cut - copied));
      copied = scan.end;  // the '>' is kept
    }
    at = after_tag(html, html.substr(name, at - name), scan.end);
  }
  if (copied == 0) return html;
  storage.append(html.substr(copied));
  return storage;
}

// libxml2's own limits stay on. XML_PARSE_HUGE would read past 256 levels of nesting, but then
// every unmatched end tag scans the whole stack of open elements: 1 MB of "<div>"s and "</b>"s
// would take a minute.
Parsed parse(std::string_view html, const std::string& encoding) {
  Parsed parsed;
  const int size = static_cast<int>(std::min<std::size_t>(html.size(), INT_MAX));
  const std::unique_ptr<htmlParserCtxt, void (*)(htmlParserCtxtPtr)> context(
      htmlCreateMemoryParserCtxt(html.data(), size), htmlFreeParserCtxt);
  if (context == nullptr) return parsed;
  // What htmlReadMemory's context starts with: bytes are UTF-8 until one proves otherwise (then
  // ISO-8859-1). Left at this context's default, every non-ASCII byte of a page that declares
  // no charset would be read as ISO-8859-1.
  context->charset = XML_CHAR_ENCODING_UTF8;
  int options = HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING | HTML_PARSE_NONET | HTML_PARSE_RECOVER |
                HTML_PARSE_COMPACT;
  // The Content-Type header's charset outranks the page's own <meta charset>.
  if (!encoding.empty()) options |= HTML_PARSE_IGNORE_ENC;
  htmlCtxtUseOptions(context.get(), options);
  if (!encoding.empty()) {
    // The context owns the handler from here on.
    if (const auto handler = xmlFindCharEncodingHandler(encoding.c_str())) {
      xmlSwitchToEncoding(context.get(), handler);
    }
  }
  htmlParseDocument(context.get());
  parsed.doc.reset(context->myDoc);
  context->myDoc = nullptr;
  // In recovery mode only a halt (xmlHaltParser) disables the SAX callbacks.
  parsed.halted = context->disableSAX != 0;
  const char* message = context->lastError.message;
  parsed.too_deep = message != nullptr && std::string_view(message).starts_with("Excessive depth");
  return parsed;
}

}  // namespace

PageText html_to_text(std::string_view html, std::string_view charset) {
  // libxml2 wants its globals set up once, before any thread parses.
  static const bool initialised = (xmlInitParser(), true);
  (void)initialised;
  std::string limited;
  const Parsed parsed = parse(limit_attributes(html, limited), known_encoding(charset));
  if (parsed.doc == nullptr) return {};
  PageText page;
  TitleFinder finder;
  walk(*parsed.doc, finder);
  page.title = finder.title();
  PageWalker walker;
  walk(*parsed.doc, walker);
  page.text = walker.finish();
  if (parsed.halted) {
    page.text += page.text.empty() ? "" : "\n\n";
    page.text += parsed.too_deep ? kTooDeep : kUnreadable;
  }
  return page;
}

}  // namespace hermes::daemon::builtin
