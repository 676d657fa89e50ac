#include "daemon/builtin/command_danger.hpp"

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace hermes::daemon::builtin {
namespace {

constexpr int kMaxDepth = 16;              // substitutions, compounds and re-parsed strings
constexpr int kBudget = 20000;             // commands examined before giving up (loops, evals)
constexpr std::size_t kMaxText = 1 << 20;  // longest text re-parsed as a script
constexpr std::size_t kMaxLoopValues = 8;  // for-loop values tried one by one
constexpr std::size_t kMaxBraces = 64;     // alternatives a brace expansion may yield
constexpr auto npos = std::string::npos;

// ---------------------------------------------------------------------------------------------
// Syntax tree

struct ParseError {};

struct Script;

// One piece of a word after quote removal.
struct Part {
  enum class Kind { literal, variable, tilde, substitution, unknown };
  Kind kind = Kind::literal;
  std::string text;  // literal text, variable name, tilde user, or how an unknown piece reads
  bool quoted = false;
  std::shared_ptr<const Script> script;  // what a $( ), ` ` or <( ) runs
};

struct Word {
  std::vector<Part> parts;
};

struct Redirect {
  std::string op;
  int fd = -1;
  Word target;  // file, fd number, here-string, or here-doc delimiter
  Word body;    // here-doc text
  bool heredoc = false;
};

struct Command {
  enum class Kind { simple, subshell, group, loop, test, function };
  Kind kind = Kind::simple;
  std::vector<Word> assigns;  // simple: NAME=value prefixes
  std::vector<Word> words;    // simple: the command and its arguments
  std::vector<Redirect> redirects;
  std::vector<Script> bodies;  // compound: lists in the order they run
  std::vector<Word> extra;     // loop values, case words, [[ ]] and (( )) operands
  std::string loop_var;        // for/select
  bool has_list = false;       // for NAME in ...
};

struct Pipeline {
  std::vector<Command> commands;
};

struct AndOr {
  std::vector<Pipeline> pipelines;
  bool background = false;
};

struct Script {
  std::vector<AndOr> items;
  int depth = 0;  // how deeply nested the text it came from was
};

struct Token {
  enum class Kind { word, op, redirect, arith };
  Kind kind = Kind::word;
  std::string op;  // operator, or redirection operator
  Word word;       // word, (( )) contents, or here-doc delimiter
  int fd = -1;
  Word body;  // here-doc text, filled in when its line ends
  std::string delim;
  bool strip_tabs = false;
  bool quoted_delim = false;
};

bool is_name_start(char c) {
  return std::isalpha(static_cast<unsigned char>(c)) || c == '_';
}
bool is_name_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
}
bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
bool is_blank(char c) {
  return c == ' ' || c == '\t';
}
bool is_meta(char c) {
  return is_blank(c) || c == '\n' || std::string_view(";&|()<>").find(c) != npos;
}

// `list` holds names between spaces, with a space at each end: " a b c ".
bool listed(std::string_view list, std::string_view name) {
  if (name.empty() || name.find(' ') != npos) return false;
  for (std::size_t at = list.find(name); at != npos; at = list.find(name, at + 1)) {
    if (at > 0 && list[at - 1] == ' ' && at + name.size() < list.size() &&
        list[at + name.size()] == ' ')
      return true;
  }
  return false;
}

// The text of a word that is one unquoted literal: only such a word can be a reserved word.
std::optional<std::string_view> bare(const Word& w) {
  if (w.parts.size() != 1 || w.parts[0].kind != Part::Kind::literal || w.parts[0].quoted)
    return std::nullopt;
  return std::string_view(w.parts[0].text);
}

void add_literal(Word& w, std::string_view s, bool quoted) {
  if (!w.parts.empty() && w.parts.back().kind == Part::Kind::literal &&
      w.parts.back().quoted == quoted) {
    w.parts.back().text += s;
    return;
  }
  w.parts.push_back({Part::Kind::literal, std::string(s), quoted, nullptr});
}

// Copies the substitutions found inside an expansion whose value is unknown: they still run.
void keep_substitutions(Word& w, const Word& inner) {
  for (const Part& p : inner.parts)
    if (p.script) w.parts.push_back(p);
}

// NAME=, NAME+= or NAME[i]= at the start of an unquoted word.
std::size_t assignment_end(std::string_view t) {
  if (t.empty() || !is_name_start(t[0])) return npos;
  std::size_t j = 0;
  while (j < t.size() && is_name_char(t[j])) ++j;
  if (j < t.size() && t[j] == '[') {
    j = t.find(']', j);
    if (j == npos) return npos;
    ++j;
  }
  if (j < t.size() && t[j] == '+') ++j;
  return j < t.size() && t[j] == '=' ? j : npos;
}

bool is_assignment(const Word& w) {
  return !w.parts.empty() && w.parts[0].kind == Part::Kind::literal && !w.parts[0].quoted &&
         assignment_end(w.parts[0].text) != npos;
}

void append_utf8(std::string& out, std::uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | ((cp >> 18) & 0x07));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

// Reads up to `max` digits of `base` at s[i], advancing i.
std::uint32_t read_number(std::string_view s, std::size_t& i, int base, int max, int& count) {
  std::uint32_t value = 0;
  for (count = 0; count < max && i < s.size(); ++count, ++i) {
    const char c = static_cast<char>(std::tolower(static_cast<unsigned char>(s[i])));
    const int d = is_digit(c) ? c - '0' : (c >= 'a' && c <= 'f') ? c - 'a' + 10 : 99;
    if (d >= base) break;
    value = value * static_cast<std::uint32_t>(base) + static_cast<std::uint32_t>(d);
  }
  return value;
}

// Decodes one backslash escape of $'...', echo -e and printf; s[i] is the character after '\'.
void decode_escape(std::string_view s, std::size_t& i, std::string& out) {
  static constexpr std::string_view kFrom = "ntrabeEfv\\'\"?";
  static constexpr std::string_view kTo = "\n\t\r\a\b\x1b\x1b\f\v\\'\"?";
  const char c = s[i++];
  int count = 0;
  if (const auto k = kFrom.find(c); k != npos) {
    out += kTo[k];
  } else if (c == 'x' || c == 'u' || c == 'U') {
    const std::uint32_t v = read_number(s, i, 16, c == 'x' ? 2 : c == 'u' ? 4 : 8, count);
    if (count == 0) out += std::string("\\") + c;
    if (count > 0 && c == 'x') out += static_cast<char>(v);
    if (count > 0 && c != 'x') append_utf8(out, std::min<std::uint32_t>(v, 0x10FFFF));
  } else if (c >= '0' && c <= '7') {
    --i;
    out += static_cast<char>(read_number(s, i, 8, 3, count));
  } else if (c == 'c' && i < s.size()) {
    out += static_cast<char>(s[i++] & 0x1F);
  } else {
    out += '\\';
    out += c;
  }
}

std::string decode_escapes(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size();) {
    if (s[i] == '\\' && i + 1 < s.size()) {
      ++i;
      decode_escape(s, i, out);
    } else {
      out += s[i++];
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Lexer: source text to tokens, with quotes removed and substitutions parsed as they are met.

Script parse_tokens(std::vector<Token> tokens, int depth);
Script parse_text(std::string_view text, int depth);

class Lexer {
 public:
  // In a substitution the lexer stops at the `)` that closes it.
  Lexer(std::string_view src, std::size_t start, int depth, bool in_subst)
      : s_(src), i_(start), depth_(depth), in_subst_(in_subst) {
    if (depth > kMaxDepth) throw ParseError{};
  }

  std::vector<Token> run() {
    while (next()) {
    }
    if (!pending_.empty()) throw ParseError{};  // a here-doc whose body never came
    return std::move(toks_);
  }
  std::size_t pos() const { return i_; }

  // The whole source read as the body of a here-doc with an unquoted delimiter.
  Word heredoc_text() {
    Word w;
    read_double(w, true);
    return w;
  }

 private:
  bool done() const { return i_ >= s_.size(); }
  char peek(std::size_t k = 0) const { return i_ + k < s_.size() ? s_[i_ + k] : '\0'; }

  bool next();
  void skip_blanks();
  bool command_position() const;
  void push_op(std::string_view op);
  void push_word(Word w);
  void read_operator();
  bool try_fd_redirect();
  void read_redirect(int fd);
  void read_heredocs();
  bool arith_ahead(std::size_t at) const;
  void read_arith(Word& w);
  Word read_word();
  void read_unquoted(Word& w);
  void read_tilde(Word& w);
  void read_array(Word& w);
  void read_single(Word& w);
  void read_double(Word& w, bool heredoc);
  void read_dollar(Word& w, bool quoted);
  void read_param(Word& w, bool quoted);
  void read_ansi(Word& w);
  void read_subst(Word& w, std::string placeholder);
  void read_backtick(Word& w, bool quoted);

  std::string_view s_;
  std::size_t i_;
  int depth_;
  bool in_subst_;
  std::vector<Token> toks_;
  std::vector<std::size_t> pending_;  // here-doc tokens waiting for the end of their line
  int parens_ = 0;                    // open ( inside a substitution
  int cases_ = 0;                     // open case inside a substitution: its `)` do not close it
  int nest_ = 0;                      // open ${ and $(( inside this lexer
};

// Bounds ${...${...}} and $(( $(( )) )) the way substitutions are bounded.
class NestGuard {
 public:
  NestGuard(int& nest, int depth) : nest_(nest) {
    if (++nest_ + depth > kMaxDepth) throw ParseError{};
  }
  ~NestGuard() { --nest_; }
  NestGuard(const NestGuard&) = delete;
  NestGuard& operator=(const NestGuard&) = delete;

 private:
  int& nest_;
};

bool Lexer::next() {
  skip_blanks();
  if (done()) {
    if (in_subst_) throw ParseError{};  // $( or <( never closed
    return false;
  }
  const char c = peek();
  if (c == '#') {
    while (!done() && peek() != '\n') ++i_;
  } else if (c == '\n') {
    ++i_;
    push_op("\n");
    read_heredocs();
  } else if (c == ')' && in_subst_ && parens_ == 0 && cases_ == 0) {
    ++i_;
    return false;
  } else if (c == '(' && peek(1) == '(' && arith_ahead(i_)) {
    i_ += 2;
    Token t;
    t.kind = Token::Kind::arith;
    read_arith(t.word);
    toks_.push_back(std::move(t));
  } else if ((c == '<' || c == '>') && peek(1) == '(') {
    push_word(read_word());
  } else if (c == '<' || c == '>' || (c == '&' && peek(1) == '>')) {
    read_redirect(-1);
  } else if (is_digit(c) && try_fd_redirect()) {
  } else if (is_meta(c)) {
    read_operator();
  } else {
    push_word(read_word());
  }
  return true;
}

void Lexer::skip_blanks() {
  while (!done() && (is_blank(peek()) || (peek() == '\\' && peek(1) == '\n')))
    i_ += is_blank(peek()) ? 1U : 2U;
}

bool Lexer::command_position() const {
  if (toks_.empty() || toks_.back().kind == Token::Kind::op) return true;
  if (toks_.back().kind != Token::Kind::word) return false;
  const auto w = bare(toks_.back().word);
  return w && listed(" then do else elif { ! if while until time ", *w);
}

void Lexer::push_op(std::string_view op) {
  Token t;
  t.kind = Token::Kind::op;
  t.op = op;
  toks_.push_back(std::move(t));
}

void Lexer::push_word(Word w) {
  // A case inside $( ) has patterns ending in `)` that must not close the substitution.
  if (const auto text = bare(w); text && command_position()) {
    if (*text == "case") ++cases_;
    if (*text == "esac" && cases_ > 0) --cases_;
  }
  Token t;
  t.word = std::move(w);
  toks_.push_back(std::move(t));
}

void Lexer::read_operator() {
  static constexpr std::string_view kOps[] = {";;&", ";;", ";&", "&&", "||", "|&",
                                              ";",   "&",  "|",  "(",  ")"};
  for (const std::string_view op : kOps) {
    if (s_.substr(i_).starts_with(op)) {
      i_ += op.size();
      if (op == "(") ++parens_;
      if (op == ")" && parens_ > 0) --parens_;
      push_op(op);
      return;
    }
  }
  throw ParseError{};
}

bool Lexer::try_fd_redirect() {
  std::size_t j = i_;
  int fd = 0;
  while (j < s_.size() && is_digit(s_[j])) fd = std::min(fd * 10 + (s_[j++] - '0'), 100000);
  if (j >= s_.size() || (s_[j] != '<' && s_[j] != '>')) return false;
  if (j + 1 < s_.size() && s_[j + 1] == '(') return false;
  i_ = j;
  read_redirect(fd);
  return true;
}

void Lexer::read_redirect(int fd) {
  static constexpr std::string_view kOps[] = {"&>>", "&>", "<<<", "<<-", "<<", "<>",
                                              "<&",  "<",  ">>",  ">|",  ">&", ">"};
  Token t;
  t.kind = Token::Kind::redirect;
  t.fd = fd;
  for (const std::string_view op : kOps) {
    if (s_.substr(i_).starts_with(op)) {
      t.op = op;
      break;
    }
  }
  i_ += t.op.size();
  if (t.op == "<<" || t.op == "<<-") {
    skip_blanks();
    if (done() || is_meta(peek())) throw ParseError{};
    t.word = read_word();
    for (const Part& p : t.word.parts) {
      if (p.kind != Part::Kind::literal) throw ParseError{};  // <<$X and the like
      t.delim += p.text;
      t.quoted_delim = t.quoted_delim || p.quoted;
    }
    t.strip_tabs = t.op == "<<-";
    pending_.push_back(toks_.size());
  }
  toks_.push_back(std::move(t));
}

// Here-doc bodies start on the line after their operator and end at the delimiter line.
void Lexer::read_heredocs() {
  for (const std::size_t index : pending_) {
    Token& t = toks_[index];
    std::string body;
    bool closed = false;
    while (!done() && !closed) {
      const std::size_t end = s_.find('\n', i_);
      std::string_view line = s_.substr(i_, end == npos ? npos : end - i_);
      i_ = end == npos ? s_.size() : end + 1;
      if (t.strip_tabs) line.remove_prefix(std::min(line.find_first_not_of('\t'), line.size()));
      closed = line == t.delim;
      if (!closed) body.append(line).append("\n");
    }
    if (!closed) throw ParseError{};
    if (t.quoted_delim) {
      add_literal(t.body, body, true);
    } else {
      t.body = Lexer(body, 0, depth_, false).heredoc_text();
    }
  }
  pending_.clear();
}

// Whether the `((` at `at` closes with `))`, making it arithmetic rather than two subshells.
bool Lexer::arith_ahead(std::size_t at) const {
  int depth = 0;
  for (std::size_t j = at + 2; j < s_.size(); ++j) {
    if (s_[j] == '(') ++depth;
    if (s_[j] != ')') continue;
    if (depth == 0) return j + 1 < s_.size() && s_[j + 1] == ')';
    --depth;
  }
  return false;
}

// Arithmetic has an unknown value, but substitutions inside it still run.
void Lexer::read_arith(Word& w) {
  const NestGuard guard(nest_, depth_);
  Word inner;
  int depth = 0;
  while (true) {
    if (done()) throw ParseError{};
    const char c = peek();
    if (c == ')' && depth == 0) {
      if (peek(1) != ')') throw ParseError{};
      i_ += 2;
      break;
    }
    if (c == '$') {
      read_dollar(inner, true);
    } else if (c == '`') {
      read_backtick(inner, true);
    } else {
      depth += c == '(' ? 1 : c == ')' ? -1 : 0;
      i_ += c == '\\' ? 2 : 1;
    }
  }
  keep_substitutions(w, inner);
  w.parts.push_back({Part::Kind::unknown, "$((...))", true, nullptr});
}

Word Lexer::read_word() {
  Word w;
  while (!done()) {
    const char c = peek();
    if ((c == '<' || c == '>') && peek(1) == '(') {
      i_ += 2;
      read_subst(w, c == '<' ? "<(...)" : ">(...)");
    } else if (c == '(' && w.parts.size() == 1 && is_assignment(w) &&
               w.parts[0].text.back() == '=') {
      read_array(w);
    } else if (is_meta(c)) {
      break;
    } else {
      read_unquoted(w);
    }
  }
  return w;
}

void Lexer::read_unquoted(Word& w) {
  const char c = peek();
  if (c == '\\') {
    if (peek(1) == '\n') {
      i_ += 2;
    } else {
      add_literal(w, i_ + 1 < s_.size() ? s_.substr(i_ + 1, 1) : "\\", i_ + 1 < s_.size());
      i_ += 2;
    }
  } else if (c == '\'') {
    ++i_;
    read_single(w);
  } else if (c == '"') {
    ++i_;
    read_double(w, false);
  } else if (c == '$') {
    read_dollar(w, false);
  } else if (c == '`') {
    read_backtick(w, false);
  } else if (c == '~' && (w.parts.empty() || (w.parts.size() == 1 && is_assignment(w) &&
                                              w.parts[0].text.back() == '='))) {
    read_tilde(w);
  } else {
    add_literal(w, s_.substr(i_, 1), false);
    ++i_;
  }
}

// ~ and ~user at the start of a word (or of an assignment's value).
void Lexer::read_tilde(Word& w) {
  std::size_t j = i_ + 1;
  while (j < s_.size() && s_[j] != '/' && !is_meta(s_[j])) ++j;
  const std::string_view user = s_.substr(i_ + 1, j - i_ - 1);
  if (user.find_first_of("'\"\\$`") != npos) {  // a quoted tilde-prefix is not expanded
    add_literal(w, "~", false);
    ++i_;
    return;
  }
  w.parts.push_back({Part::Kind::tilde, std::string(user), false, nullptr});
  i_ = j;
}

// NAME=(a b c): the values are unknown, but substitutions in them run.
void Lexer::read_array(Word& w) {
  Lexer sub(s_, i_ + 1, depth_ + 1, true);
  const std::vector<Token> toks = sub.run();
  i_ = sub.pos();
  for (const Token& t : toks) keep_substitutions(w, t.word);
  w.parts.push_back({Part::Kind::unknown, "(...)", false, nullptr});
}

void Lexer::read_single(Word& w) {
  const std::size_t end = s_.find('\'', i_);
  if (end == npos) throw ParseError{};
  add_literal(w, s_.substr(i_, end - i_), true);
  i_ = end + 1;
}

// The inside of "...", or a here-doc body (where `"` is an ordinary character).
void Lexer::read_double(Word& w, bool heredoc) {
  if (!heredoc) add_literal(w, "", true);  // "" is still an argument
  while (true) {
    if (done()) {
      if (heredoc) return;
      throw ParseError{};
    }
    const char c = peek();
    if (c == '"' && !heredoc) {
      ++i_;
      return;
    }
    if (c == '$') {
      read_dollar(w, true);
    } else if (c == '`') {
      read_backtick(w, true);
    } else if (c == '\\' && peek(1) == '\n') {
      i_ += 2;
    } else if (c == '\\' && std::string_view(heredoc ? "$`\\" : "$`\\\"").find(peek(1)) != npos &&
               peek(1) != '\0') {
      add_literal(w, s_.substr(i_ + 1, 1), true);
      i_ += 2;
    } else {
      add_literal(w, s_.substr(i_, 1), true);
      ++i_;
    }
  }
}

void Lexer::read_dollar(Word& w, bool quoted) {
  const char c = peek(1);
  if (c == '(' && peek(2) == '(' && arith_ahead(i_ + 1)) {
    i_ += 3;
    read_arith(w);
  } else if (c == '(') {
    i_ += 2;
    read_subst(w, "$(...)");
  } else if (c == '{') {
    i_ += 2;
    read_param(w, quoted);
  } else if (c == '\'' && !quoted) {
    i_ += 2;
    read_ansi(w);
  } else if (c == '"' && !quoted) {
    ++i_;  // $"..." is a translatable "...": the quote is read next
  } else if (is_name_start(c)) {
    std::size_t j = i_ + 1;
    while (j < s_.size() && is_name_char(s_[j])) ++j;
    w.parts.push_back(
        {Part::Kind::variable, std::string(s_.substr(i_ + 1, j - i_ - 1)), quoted, nullptr});
    i_ = j;
  } else if (c != '\0' && (is_digit(c) || std::string_view("@*#?-$!").find(c) != npos)) {
    w.parts.push_back({Part::Kind::variable, std::string(1, c), quoted, nullptr});
    i_ += 2;
  } else {
    add_literal(w, "$", quoted);
    ++i_;
  }
}

// ${NAME} is a variable; any other ${...} has an unknown value.
void Lexer::read_param(Word& w, bool quoted) {
  std::size_t j = i_;
  if (j < s_.size() && is_name_start(s_[j])) {
    while (j < s_.size() && is_name_char(s_[j])) ++j;
  } else if (j < s_.size() &&
             (is_digit(s_[j]) || std::string_view("@*#?-$!").find(s_[j]) != npos)) {
    ++j;
  }
  if (j > i_ && j < s_.size() && s_[j] == '}') {
    w.parts.push_back({Part::Kind::variable, std::string(s_.substr(i_, j - i_)), quoted, nullptr});
    i_ = j + 1;
    return;
  }
  const NestGuard guard(nest_, depth_);
  Word inner;
  while (true) {
    if (done()) throw ParseError{};
    const char c = peek();
    if (c == '}') break;
    if (c == '$') {
      read_dollar(inner, true);
    } else if (c == '`') {
      read_backtick(inner, true);
    } else if (c == '"') {
      ++i_;
      read_double(inner, false);
    } else if (c == '\'' && !quoted) {
      ++i_;
      read_single(inner);
    } else {
      i_ += c == '\\' ? 2 : 1;
    }
  }
  ++i_;
  keep_substitutions(w, inner);
  w.parts.push_back({Part::Kind::unknown, "${...}", quoted, nullptr});
}

// $'...' with C escapes: $'\x72m' is rm.
void Lexer::read_ansi(Word& w) {
  std::size_t end = i_;
  while (end < s_.size() && s_[end] != '\'') end += s_[end] == '\\' ? 2U : 1U;
  if (end >= s_.size()) throw ParseError{};
  add_literal(w, decode_escapes(s_.substr(i_, end - i_)), true);
  i_ = end + 1;
}

void Lexer::read_subst(Word& w, std::string placeholder) {
  Lexer sub(s_, i_, depth_ + 1, true);
  std::vector<Token> toks = sub.run();
  i_ = sub.pos();
  auto script = std::make_shared<const Script>(parse_tokens(std::move(toks), depth_ + 1));
  w.parts.push_back({Part::Kind::substitution, std::move(placeholder), true, std::move(script)});
}

void Lexer::read_backtick(Word& w, bool quoted) {
  ++i_;
  std::string body;
  while (true) {
    if (done()) throw ParseError{};
    const char c = peek();
    if (c == '`') break;
    const char n = peek(1);
    if (c == '\\' && (n == '`' || n == '$' || n == '\\' || (quoted && n == '"'))) {
      body += n;
      i_ += 2;
    } else {
      body += c;
      ++i_;
    }
  }
  ++i_;
  auto script = std::make_shared<const Script>(parse_text(body, depth_ + 1));
  w.parts.push_back({Part::Kind::substitution, "$(...)", true, std::move(script)});
}

// ---------------------------------------------------------------------------------------------
// Parser: tokens to a tree of lists, pipelines and commands.

class Parser {
 public:
  Parser(std::vector<Token> toks, int depth) : t_(std::move(toks)), depth_(depth) {}

  Script program() {
    Script s = list();
    if (k_ < t_.size()) throw ParseError{};  // a stray ), fi, done, ;; ...
    return s;
  }

 private:
  // Counts nesting of compound commands; too deep is refused, not recursed into.
  struct Nest {
    explicit Nest(Parser& p) : p_(p) {
      if (++p_.nesting_ + p_.depth_ > kMaxDepth) throw ParseError{};
    }
    ~Nest() { --p_.nesting_; }
    Parser& p_;
  };

  const Token* at(std::size_t ahead = 0) const {
    return k_ + ahead < t_.size() ? &t_[k_ + ahead] : nullptr;
  }
  bool op(std::string_view o, std::size_t ahead = 0) const {
    const Token* t = at(ahead);
    return t && t->kind == Token::Kind::op && t->op == o;
  }
  bool keyword(std::string_view w) const {
    const Token* t = at();
    return t && t->kind == Token::Kind::word && bare(t->word) == w;
  }
  bool is_word() const { return at() && at()->kind == Token::Kind::word; }
  void expect_op(std::string_view o) {
    if (!op(o)) throw ParseError{};
    ++k_;
  }
  void expect_keyword(std::string_view w) {
    if (!keyword(w)) throw ParseError{};
    ++k_;
  }
  void newlines() {
    while (op("\n")) ++k_;
  }
  bool list_end() const {
    if (!at() || op(")") || op(";;") || op(";&") || op(";;&")) return true;
    const auto w = at()->kind == Token::Kind::word ? bare(at()->word) : std::nullopt;
    return w && listed(" then else elif fi do done esac } ", *w);
  }

  Script list();
  AndOr and_or();
  Pipeline pipeline();
  Command command();
  Command simple();
  Redirect redirect();
  void redirects(Command& c) {
    while (at() && at()->kind == Token::Kind::redirect) c.redirects.push_back(redirect());
  }
  Command block(Command::Kind kind, std::string_view close);
  Command if_clause();
  Command while_clause();
  Command for_clause();
  Script loop_body();
  Command case_clause();
  void case_patterns(Command& c);
  Command function(bool keyword);
  Command test_clause();

  std::vector<Token> t_;
  std::size_t k_ = 0;
  int depth_;
  int nesting_ = 0;
};

Script Parser::list() {
  Script s;
  s.depth = depth_;
  newlines();
  while (!list_end()) {
    AndOr a = and_or();
    if (op(";") || op("&")) {
      a.background = op("&");
      ++k_;
    } else if (op("\n")) {
      ++k_;
    } else if (!list_end()) {
      throw ParseError{};
    }
    s.items.push_back(std::move(a));
    newlines();
  }
  return s;
}

AndOr Parser::and_or() {
  AndOr a;
  a.pipelines.push_back(pipeline());
  while (op("&&") || op("||")) {
    ++k_;
    newlines();
    a.pipelines.push_back(pipeline());
  }
  return a;
}

Pipeline Parser::pipeline() {
  while (true) {
    if (keyword("!")) {
      ++k_;
    } else if (keyword("time") && at(1) && (at(1)->kind != Token::Kind::op || op("(", 1))) {
      ++k_;
      if (keyword("-p")) ++k_;
    } else {
      break;
    }
  }
  Pipeline p;
  p.commands.push_back(command());
  while (op("|") || op("|&")) {
    ++k_;
    newlines();
    p.commands.push_back(command());
  }
  return p;
}

Command Parser::command() {
  const Token* t = at();
  if (!t) throw ParseError{};
  if (t->kind == Token::Kind::op) {
    if (t->op != "(") throw ParseError{};
    return block(Command::Kind::subshell, ")");
  }
  if (t->kind == Token::Kind::arith) {  // (( ... ))
    Command c;
    c.kind = Command::Kind::test;
    c.extra.push_back(t->word);
    ++k_;
    redirects(c);
    return c;
  }
  if (t->kind == Token::Kind::redirect) return simple();
  const auto w = bare(t->word);
  if (w == "{") return block(Command::Kind::group, "}");
  if (w == "if") return if_clause();
  if (w == "while" || w == "until") return while_clause();
  if (w == "for" || w == "select") return for_clause();
  if (w == "case") return case_clause();
  if (w == "function") return function(true);
  if (w == "[[") return test_clause();
  if (w && listed(" then else elif fi do done esac } ", *w)) throw ParseError{};
  if (op("(", 1) && op(")", 2)) return function(false);
  return simple();
}

Command Parser::simple() {
  Command c;
  while (const Token* t = at()) {
    if (t->kind == Token::Kind::redirect) {
      c.redirects.push_back(redirect());
      continue;
    }
    if (t->kind != Token::Kind::word) break;
    if (c.words.empty() && is_assignment(t->word)) {
      c.assigns.push_back(t->word);
    } else {
      c.words.push_back(t->word);
    }
    ++k_;
  }
  if (c.words.empty() && c.assigns.empty() && c.redirects.empty()) throw ParseError{};
  return c;
}

Redirect Parser::redirect() {
  const Token& t = t_[k_++];
  Redirect r;
  r.op = t.op;
  r.fd = t.fd;
  if (t.op == "<<" || t.op == "<<-") {
    r.heredoc = true;
    r.target = t.word;
    r.body = t.body;
    return r;
  }
  if (!is_word()) throw ParseError{};
  r.target = at()->word;
  ++k_;
  return r;
}

// ( list ) and { list; }
Command Parser::block(Command::Kind kind, std::string_view close) {
  Nest nest(*this);
  ++k_;
  Command c;
  c.kind = kind;
  c.bodies.push_back(list());
  if (kind == Command::Kind::subshell) {
    expect_op(close);
  } else {
    expect_keyword(close);
  }
  redirects(c);
  return c;
}

Command Parser::if_clause() {
  Nest nest(*this);
  ++k_;
  Command c;
  c.kind = Command::Kind::group;
  c.bodies.push_back(list());
  expect_keyword("then");
  c.bodies.push_back(list());
  while (keyword("elif")) {
    ++k_;
    c.bodies.push_back(list());
    expect_keyword("then");
    c.bodies.push_back(list());
  }
  if (keyword("else")) {
    ++k_;
    c.bodies.push_back(list());
  }
  expect_keyword("fi");
  redirects(c);
  return c;
}

Command Parser::while_clause() {
  Nest nest(*this);
  ++k_;
  Command c;
  c.kind = Command::Kind::group;
  c.bodies.push_back(list());
  c.bodies.push_back(loop_body());
  redirects(c);
  return c;
}

Script Parser::loop_body() {
  const bool braces = keyword("{");
  if (!braces) expect_keyword("do");
  if (braces) ++k_;
  Script body = list();
  expect_keyword(braces ? "}" : "done");
  return body;
}

Command Parser::for_clause() {
  Nest nest(*this);
  ++k_;
  Command c;
  c.kind = Command::Kind::loop;
  if (at() && at()->kind == Token::Kind::arith) {  // for (( ; ; ))
    c.extra.push_back(at()->word);
    ++k_;
  } else {
    const auto name = is_word() ? bare(at()->word) : std::nullopt;
    if (!name) throw ParseError{};
    c.loop_var = *name;
    ++k_;
    newlines();
    if (keyword("in")) {
      ++k_;
      c.has_list = true;
      for (; is_word(); ++k_) c.extra.push_back(at()->word);
    }
  }
  if (op(";") || op("\n")) ++k_;
  newlines();
  c.bodies.push_back(loop_body());
  redirects(c);
  return c;
}

Command Parser::case_clause() {
  Nest nest(*this);
  ++k_;
  Command c;
  c.kind = Command::Kind::group;
  if (!is_word()) throw ParseError{};
  c.extra.push_back(at()->word);
  ++k_;
  newlines();
  expect_keyword("in");
  newlines();
  while (!keyword("esac")) {
    if (op("(")) ++k_;
    case_patterns(c);
    c.bodies.push_back(list());
    if (op(";;") || op(";&") || op(";;&")) {
      ++k_;
    } else if (!keyword("esac")) {
      throw ParseError{};
    }
    newlines();
  }
  ++k_;
  redirects(c);
  return c;
}

void Parser::case_patterns(Command& c) {
  while (true) {
    if (!is_word()) throw ParseError{};
    c.extra.push_back(at()->word);
    ++k_;
    if (!op("|")) break;
    ++k_;
  }
  expect_op(")");
}

// name() body, or function name [()] body. The body is checked where it is defined.
Command Parser::function(bool keyword) {
  Nest nest(*this);
  if (keyword) ++k_;
  if (!is_word()) throw ParseError{};
  ++k_;
  if (op("(")) {
    ++k_;
    expect_op(")");
  }
  newlines();
  Pipeline p;
  p.commands.push_back(command());
  AndOr a;
  a.pipelines.push_back(std::move(p));
  Command c;
  c.kind = Command::Kind::function;
  c.bodies.emplace_back();
  c.bodies.back().depth = depth_;
  c.bodies.back().items.push_back(std::move(a));
  return c;
}

// [[ ... ]]: only the substitutions in its words can do anything.
Command Parser::test_clause() {
  ++k_;
  Command c;
  c.kind = Command::Kind::test;
  while (true) {
    const Token* t = at();
    if (!t) throw ParseError{};
    ++k_;
    if (t->kind == Token::Kind::word && bare(t->word) == "]]") break;
    if (t->kind == Token::Kind::word) c.extra.push_back(t->word);
  }
  redirects(c);
  return c;
}

Script parse_tokens(std::vector<Token> tokens, int depth) {
  return Parser(std::move(tokens), depth).program();
}

Script parse_text(std::string_view text, int depth) {
  Lexer lexer(text, 0, depth, false);
  return parse_tokens(lexer.run(), depth);
}

std::optional<Script> try_parse(std::string_view text, int depth) {
  if (text.find('\0') != npos) return std::nullopt;
  try {
    return parse_text(text, depth);
  } catch (const ParseError&) {
    return std::nullopt;
  }
}

// ---------------------------------------------------------------------------------------------
// Classification

// A word after expansion. What cannot be known before it runs is kept as it reads ($X, $(...))
// and marked unknown, so a re-parse of the text sees it as unknown again.
struct Field {
  std::string text;
  bool unknown = false;
  bool glob = false;         // unquoted * ? [
  bool braces = false;       // unquoted {, maybe a brace expansion
  bool quoted = false;       // an empty quoted field is still an argument
  bool download = false;     // built from the output of a downloader
  bool job = false;          // exactly $!: a pid this script started
  bool substituted = false;  // holds the output of a command
  std::size_t known = npos;  // length of text before the first unknown piece
};
using Argv = std::vector<Field>;

Field plain(std::string text) {
  Field f;
  f.text = std::move(text);
  return f;
}

Field unknown_field(std::string text) {
  Field f;
  f.text = std::move(text);
  f.unknown = true;
  f.known = 0;
  return f;
}

struct Feed {  // what a command's stdin carries
  bool download = false;
  bool has_text = false;
  std::string text;
};

struct Output {  // what echo/printf/cat print, when it is known
  bool has_text = false;
  std::string text;
};

struct State {  // what one shell knows as it goes through the script
  std::optional<std::string> cwd;
  std::map<std::string, std::optional<std::string>> vars;  // nullopt: assigned, value unknown
  std::set<std::string> job_vars;                          // hold $!
  std::vector<std::optional<std::string>> dirs;            // pushd stack
  int depth = 0;
};

enum class Where { inside, root, outside, unknown };

using Links = std::map<std::string, std::optional<std::string>>;  // path -> target, if known

bool bad(const CommandVerdict& v) {
  return v.danger != DangerClass::none;
}

CommandVerdict unparsable(std::string why = "it could not be parsed, so it cannot be checked") {
  return {DangerClass::unparsable, std::move(why)};
}

// Shortens and flattens command text for a one-line sentence.
std::string tidy(std::string s) {
  for (char& c : s)
    if (static_cast<unsigned char>(c) < 0x20) c = ' ';
  if (s.size() <= 80) return s;
  s.resize(77);
  while (!s.empty() && (static_cast<unsigned char>(s.back()) & 0xC0) == 0x80) s.pop_back();
  if (!s.empty() && static_cast<unsigned char>(s.back()) >= 0xC0) s.pop_back();
  return s + "...";
}

std::string snippet(const Argv& argv) {
  std::string s;
  for (const Field& f : argv) s += (s.empty() ? "" : " ") + f.text;
  return tidy(std::move(s));
}

CommandVerdict flag(DangerClass c, std::string_view what, std::string_view detail) {
  return {c, "it " + std::string(what) + " (" + tidy(std::string(detail)) + ")"};
}

// Lexical: `..` is resolved without looking at symlinks.
std::string normalize(std::string_view path) {
  std::vector<std::string_view> parts;
  for (std::size_t i = 0; i <= path.size();) {
    std::size_t j = path.find('/', i);
    if (j == npos) j = path.size();
    const std::string_view seg = path.substr(i, j - i);
    if (seg == "..") {
      if (!parts.empty()) parts.pop_back();
    } else if (!seg.empty() && seg != ".") {
      parts.push_back(seg);
    }
    i = j + 1;
  }
  std::string out;
  for (const std::string_view p : parts) out.append("/").append(p);
  return out.empty() ? "/" : out;
}

bool block_device(std::string_view path) {
  if (!path.starts_with("/dev/")) return false;
  const std::string_view name = path.substr(5);
  if (listed(" mem kmem port ", name)) return true;
  for (const std::string_view prefix :
       {"sd", "hd", "nvme", "vd", "xvd", "mmcblk", "dm-", "loop", "mapper/", "md", "disk/", "nbd"})
    if (name.starts_with(prefix)) return true;
  return false;
}

// Alternatives of a{b,c}d, one level at a time; nullopt when there would be too many.
std::vector<std::string> split_first_brace(const std::string& s) {
  for (std::size_t open = s.find('{'); open != npos; open = s.find('{', open + 1)) {
    int depth = 0;
    std::vector<std::size_t> cuts;
    std::size_t close = npos;
    for (std::size_t j = open; j < s.size() && close == npos; ++j) {
      if (s[j] == '{') ++depth;
      if (s[j] == '}' && --depth == 0) close = j;
      if (s[j] == ',' && depth == 1) cuts.push_back(j);
    }
    if (close == npos || cuts.empty()) continue;
    cuts.push_back(close);
    std::vector<std::string> out;
    std::size_t start = open + 1;
    for (const std::size_t cut : cuts) {
      out.push_back(s.substr(0, open) + s.substr(start, cut - start) + s.substr(close + 1));
      start = cut + 1;
    }
    return out;
  }
  return {};
}

std::optional<std::vector<std::string>> expand_braces(const std::string& s) {
  std::vector<std::string> done;
  std::vector<std::string> todo{s};
  while (!todo.empty()) {
    if (done.size() + todo.size() > kMaxBraces) return std::nullopt;
    const std::string cur = std::move(todo.back());
    todo.pop_back();
    std::vector<std::string> alts = split_first_brace(cur);
    if (alts.empty()) done.push_back(cur);
    for (std::string& alt : alts) todo.push_back(std::move(alt));
  }
  return done;
}

// Indexes of the operands of a GNU-style command; `takes` lists options that take a value.
std::vector<std::size_t> operands(const Argv& argv, std::string_view takes) {
  std::vector<std::size_t> out;
  bool options = true;
  for (std::size_t i = 1; i < argv.size(); ++i) {
    const std::string& t = argv[i].text;
    if (options && t == "--") {
      options = false;
    } else if (options && t.size() > 1 && t[0] == '-') {
      if (listed(takes, t)) ++i;
    } else {
      out.push_back(i);
    }
  }
  return out;
}

// Version suffixes and variants name the same tool: python3.11 is python, mkfs.ext4 is mkfs.
std::string family(std::string base) {
  if (base.starts_with("mkfs.")) return "mkfs";
  if (base == "nodejs") return "node";
  for (const std::string_view stem : {"python", "pypy", "perl", "ruby", "php"}) {
    if (base.starts_with(stem) && base.find_first_not_of("0123456789.", stem.size()) == npos)
      return stem == "pypy" ? "python" : std::string(stem);
  }
  return base;
}

bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return is_digit(c); });
}

bool sets_setuid(std::string_view mode) {
  if (all_digits(mode)) {
    std::size_t i = 0;
    int count = 0;
    return (read_number(mode, i, 8, 8, count) & 06000) != 0;
  }
  return mode.find_first_of("+=") != npos && mode.find('s') != npos;
}

// Forces the remote to lose history: --force, +refspec, --delete, :branch, --mirror, --prune.
bool force_push(const Argv& argv, std::size_t i) {
  bool options = true;
  int operand = 0;
  for (; i < argv.size(); ++i) {
    const std::string& t = argv[i].text;
    if (options && t == "--") {
      options = false;
    } else if (options && t.starts_with("--")) {
      if (listed(" --force --mirror --delete --prune ", t) || t.starts_with("--force-with-lease"))
        return true;
      if (listed(" --repo --receive-pack --exec --push-option ", t)) ++i;
    } else if (options && t.size() > 1 && t[0] == '-') {
      for (std::size_t k = 1; k < t.size(); ++k) {
        if (t[k] == 'f' || t[k] == 'd') return true;
        if (t[k] == 'o') {  // -o takes a value: the rest of the cluster, or the next word
          if (k + 1 == t.size()) ++i;
          break;
        }
      }
    } else if (operand++ > 0 && (t.starts_with("+") || (t.starts_with(":") && t.size() > 1))) {
      return true;
    }
  }
  return false;
}

// printf FORMAT ARGS: enough of it to know what a script piped into a shell says.
std::string printf_render(std::string_view format, const Argv& argv, std::size_t arg) {
  const std::string fmt = decode_escapes(format);
  std::string out;
  bool consumed = true;
  while (consumed && out.size() < kMaxText) {
    consumed = false;
    for (std::size_t k = 0; k < fmt.size(); ++k) {
      if (fmt[k] != '%' || k + 1 >= fmt.size()) {
        out += fmt[k];
        continue;
      }
      std::size_t end = fmt.find_first_not_of("-+ #0123456789.", k + 1);
      if (end == npos) break;
      if (fmt[end] == '%') {
        out += '%';
      } else if (arg < argv.size()) {
        out += fmt[end] == 'b' ? decode_escapes(argv[arg].text) : argv[arg].text;
        ++arg;
        consumed = true;
      }
      k = end;
    }
    consumed = consumed && arg < argv.size();
  }
  return out;
}

class Classifier {
 public:
  explicit Classifier(std::string workspace) : ws_(std::move(workspace)) {}

  CommandVerdict script(const Script& s, State& st, const Feed& feed);

 private:
  using Handler = CommandVerdict (Classifier::*)(std::string_view, const Argv&, State&, const Feed&,
                                                 Output&);
  Handler handler_for(std::string_view tool) const;

  CommandVerdict and_or(const AndOr& a, State& st, const Feed& feed);
  CommandVerdict pipeline(const Pipeline& p, State& st, const Feed& feed);
  CommandVerdict command(const Command& c, State& st, const Feed& feed, Output& out);
  CommandVerdict compound(const Command& c, State& st, const Feed& feed);
  CommandVerdict loop(const Command& c, State& st, const Feed& feed);
  CommandVerdict simple(const Command& c, State& st, const Feed& feed, Output& out);
  CommandVerdict assignments(const Command& c, State& st);
  CommandVerdict redirects(const std::vector<Redirect>& rs, State& st, Feed& in,
                           std::vector<std::string>& outputs);
  CommandVerdict expand(const Word& w, State& st, bool split, Argv& out);
  CommandVerdict expand_part(const Part& p, State& st, bool split, Argv& fields, bool& cut);
  CommandVerdict expand_one(const Word& w, State& st, Field& out);
  CommandVerdict run(const Argv& argv, State& st, const Feed& in, Output& out);
  CommandVerdict dispatch(const Argv& argv, State& st, const Feed& in, Output& out);
  CommandVerdict overwrite(const Field& f, const State& st, std::string_view detail) const;
  void add_link(const Field& target, const Field& name, bool symbolic, const State& st);
  CommandVerdict reparse(std::string_view text, State& st);
  CommandVerdict shell_string(const Argv& argv, std::size_t i, State& st);
  CommandVerdict script_file(const Argv& argv, std::size_t i, State& st);
  CommandVerdict delete_target(const Argv& argv, const Field& target, const State& st) const;
  CommandVerdict device_write(const Field& f, const State& st, std::string_view detail) const;
  CommandVerdict find_exec(const Argv& argv, std::size_t& i, const Argv& roots, State& st);

  std::optional<std::string> lookup(const std::string& name, const State& st) const;
  std::optional<std::string> absolute(const Field& f, const State& st, bool follow = true) const;
  bool inside(std::string_view path) const;
  Where where(const Field& f, const State& st) const;
  bool is_downloaded(const Field& f, const State& st) const;
  void remember_download(const Field& f, const State& st);
  std::string tool_name(const std::string& text, const State& st) const;
  State child_state(const State& st) const;
  std::string download_detail(const Argv& argv) const;

  // Handlers, by the family of tools they understand.
  CommandVerdict privilege(std::string_view, const Argv&, State&, const Feed&, Output&);
  CommandVerdict remove(std::string_view, const Argv&, State&, const Feed&, Output&);
  CommandVerdict find(std::string_view, const Argv&, State&, const Feed&, Output&);
  CommandVerdict move(std::string_view, const Argv&, State&, const Feed&, Output&);
  CommandVerdict permissions(std::string_view, const Argv&, State&, const Feed&, Output&);
  CommandVerdict raw_disk(std::string_view, const Argv&, State&, const Feed&, Output&);
  CommandVerdict mkfs(std::string_view, const Argv&, State&, const Feed&, Output&);
  CommandVerdict git(std::string_view, const Argv&, State&, const Feed&, Output&);
  CommandVerdict kill(std::string_view, const Argv&, State&, const Feed&, Output&);
  CommandVerdict tee(std::string_view, const Argv&, State&, const Feed&, Output&);
  CommandVerdict wrapper(std::string_view, const Argv&, State&, const Feed&, Output&);
  CommandVerdict env(std::string_view, const Argv&, State&, const Feed&, Output&);
  CommandVerdict busybox(std::string_view, const Argv&, State&, const Feed&, Output&);
  CommandVerdict xargs(std::string_view, const Argv&, State&, const Feed&, Output&);
  CommandVerdict watch(std::string_view, const Argv&, State&, const Feed&, Output&);
  CommandVerdict shell(std::string_view, const Argv&, State&, const Feed&, Output&);
  CommandVerdict interpreter(std::string_view, const Argv&, State&, const Feed&, Output&);
  CommandVerdict eval(std::string_view, const Argv&, State&, const Feed&, Output&);
  CommandVerdict source(std::string_view, const Argv&, State&, const Feed&, Output&);
  CommandVerdict trap(std::string_view, const Argv&, State&, const Feed&, Output&);
  CommandVerdict cd(std::string_view, const Argv&, State&, const Feed&, Output&);
  CommandVerdict declare(std::string_view, const Argv&, State&, const Feed&, Output&);
  CommandVerdict read(std::string_view, const Argv&, State&, const Feed&, Output&);
  CommandVerdict echo(std::string_view, const Argv&, State&, const Feed&, Output&);
  CommandVerdict printf_builtin(std::string_view, const Argv&, State&, const Feed&, Output&);
  CommandVerdict cat(std::string_view, const Argv&, State&, const Feed&, Output&);
  CommandVerdict download(std::string_view, const Argv&, State&, const Feed&, Output&);
  CommandVerdict ln(std::string_view, const Argv&, State&, const Feed&, Output&);
  CommandVerdict rsync(std::string_view, const Argv&, State&, const Feed&, Output&);
  CommandVerdict alias(std::string_view, const Argv&, State&, const Feed&, Output&);

  std::string ws_;  // normalized; empty when the caller gave no absolute workspace
  int downloads_ = 0;
  int budget_ = kBudget;
  int runs_ = 0;  // nested run() calls
  // The filesystem outlives any one shell: what was downloaded where, and links made with ln.
  std::set<std::string> downloaded_;
  Links links_;
  std::set<std::string> created_;  // temp paths made by mktemp
  std::string last_download_;
};

// --- walking the tree ---

CommandVerdict Classifier::script(const Script& s, State& st, const Feed& feed) {
  const int saved = st.depth;
  st.depth = std::max(st.depth, s.depth);
  for (const AndOr& item : s.items) {
    State copy;
    if (item.background) copy = st;  // a background job runs in a subshell
    if (auto v = and_or(item, item.background ? copy : st, feed); bad(v)) return v;
  }
  st.depth = saved;
  return {};
}

CommandVerdict Classifier::and_or(const AndOr& a, State& st, const Feed& feed) {
  for (const Pipeline& p : a.pipelines)
    if (auto v = pipeline(p, st, feed); bad(v)) return v;
  return {};
}

// Each part of a pipeline runs in a subshell; what it prints feeds the next one.
CommandVerdict Classifier::pipeline(const Pipeline& p, State& st, const Feed& feed) {
  Output out;
  if (p.commands.size() == 1) return command(p.commands[0], st, feed, out);
  Feed in = feed;
  for (const Command& c : p.commands) {
    State copy = st;
    const int before = downloads_;
    out = {};
    if (auto v = command(c, copy, in, out); bad(v)) return v;
    Feed next;
    next.download = in.download || downloads_ > before;
    next.has_text = out.has_text;
    next.text = std::move(out.text);
    in = std::move(next);
  }
  return {};
}

CommandVerdict Classifier::command(const Command& c, State& st, const Feed& feed, Output& out) {
  if (--budget_ < 0) return unparsable("it is too complex to be checked");
  switch (c.kind) {
    case Command::Kind::simple:
      return simple(c, st, feed, out);
    case Command::Kind::subshell:
    case Command::Kind::function: {
      State copy = st;
      return compound(c, copy, feed);
    }
    case Command::Kind::loop:
      return loop(c, st, feed);
    default:
      return compound(c, st, feed);
  }
}

CommandVerdict Classifier::compound(const Command& c, State& st, const Feed& feed) {
  Feed in = feed;
  std::vector<std::string> outputs;
  if (auto v = redirects(c.redirects, st, in, outputs); bad(v)) return v;
  for (const Word& w : c.extra) {
    Argv ignored;
    if (auto v = expand(w, st, false, ignored); bad(v)) return v;
  }
  for (const Script& body : c.bodies)
    if (auto v = script(body, st, in); bad(v)) return v;
  return {};
}

// for NAME in VALUES: the body is checked once per value (a few at most), NAME bound to it.
CommandVerdict Classifier::loop(const Command& c, State& st, const Feed& feed) {
  if (c.loop_var.empty()) return compound(c, st, feed);  // for (( ; ; ))
  Feed in = feed;
  std::vector<std::string> outputs;
  if (auto v = redirects(c.redirects, st, in, outputs); bad(v)) return v;
  Argv values;
  for (const Word& w : c.extra)
    if (auto v = expand(w, st, true, values); bad(v)) return v;
  if (!c.has_list) values = {unknown_field("$@")};
  if (values.size() > kMaxLoopValues) {
    values.resize(kMaxLoopValues);
    values.push_back(unknown_field("$" + c.loop_var));
  }
  for (const Field& value : values) {
    st.vars[c.loop_var] = value.unknown ? std::nullopt : std::optional(value.text);
    st.job_vars.erase(c.loop_var);
    for (const Script& body : c.bodies)
      if (auto v = script(body, st, in); bad(v)) return v;
  }
  return {};
}

CommandVerdict Classifier::simple(const Command& c, State& st, const Feed& feed, Output& out) {
  if (c.words.empty()) return assignments(c, st);
  for (const Word& a : c.assigns) {  // only for the command's environment, but they expand
    Argv ignored;
    if (auto v = expand(a, st, false, ignored); bad(v)) return v;
  }
  Feed in = feed;
  std::vector<std::string> outputs;
  if (auto v = redirects(c.redirects, st, in, outputs); bad(v)) return v;
  Argv argv;
  for (const Word& w : c.words)
    if (auto v = expand(w, st, true, argv); bad(v)) return v;
  const int before = downloads_;
  CommandVerdict v = run(argv, st, in, out);
  if (downloads_ > before) downloaded_.insert(outputs.begin(), outputs.end());
  if (!outputs.empty()) out = {};  // printed into a file, not into the pipe
  return v;
}

// Whether the assignment is NAME=$(mktemp ...) and nothing else.
bool fresh_temp(const Word& a, const std::string& name) {
  const Part* sub = nullptr;
  for (std::size_t k = 1; k < a.parts.size(); ++k) {
    const Part& p = a.parts[k];
    if (p.kind == Part::Kind::literal && p.text.empty()) continue;
    if (sub || p.kind != Part::Kind::substitution || p.text != "$(...)") return false;
    sub = &p;
  }
  if (!sub || a.parts[0].text != name + "=" || sub->script->items.size() != 1) return false;
  const auto& pipelines = sub->script->items[0].pipelines;
  if (pipelines.size() != 1 || pipelines[0].commands.size() != 1) return false;
  const Command& c = pipelines[0].commands[0];
  return c.kind == Command::Kind::simple && !c.words.empty() && bare(c.words[0]) == "mktemp";
}

// NAME=value ... with no command: the values are remembered for later $NAME.
CommandVerdict Classifier::assignments(const Command& c, State& st) {
  for (const Word& a : c.assigns) {
    Field f;
    if (auto v = expand_one(a, st, f); bad(v)) return v;
    const std::size_t eq = f.text.find('=');
    const bool append = eq > 0 && f.text[eq - 1] == '+';
    std::string name = f.text.substr(0, append ? eq - 1 : eq);
    std::optional<std::string> value;
    if (!f.unknown) value = f.text.substr(eq + 1);
    if (name.find('[') != npos) {  // one array element: the array is no longer known
      name.resize(name.find('['));
      value.reset();
    }
    if (append)
      value = st.vars.count(name) && st.vars[name] && value ? std::optional(*st.vars[name] + *value)
                                                            : std::nullopt;
    if (fresh_temp(a, name)) {  // d=$(mktemp -d): a new path that only this script uses
      value = "/tmp/mktemp-" + name;
      created_.insert(*value);
    }
    st.vars[name] = value;
    // pid=$! keeps the pid of a job this script started.
    const bool job = a.parts.size() >= 2 && a.parts[0].text == name + "=" &&
                     std::all_of(a.parts.begin() + 1, a.parts.end(), [](const Part& p) {
                       return (p.kind == Part::Kind::literal && p.text.empty()) ||
                              (p.kind == Part::Kind::variable && p.text == "!");
                     });
    if (job) st.job_vars.insert(name);
    if (!job) st.job_vars.erase(name);
  }
  Feed ignored;
  std::vector<std::string> outputs;
  return redirects(c.redirects, st, ignored, outputs);
}

CommandVerdict Classifier::redirects(const std::vector<Redirect>& rs, State& st, Feed& in,
                                     std::vector<std::string>& outputs) {
  for (const Redirect& r : rs) {
    Field f;
    if (auto v = expand_one(r.heredoc ? r.body : r.target, st, f); bad(v)) return v;
    if (r.heredoc || r.op == "<<<") {
      in = Feed{f.download, true, f.text + (r.heredoc ? "" : "\n")};
      continue;
    }
    if (r.op == "<") {
      in = Feed{f.download || is_downloaded(f, st), false, {}};
      continue;
    }
    const bool to_fd = r.op == ">&" && (all_digits(f.text) || f.text == "-");
    if (to_fd || r.op == "<&") continue;
    if (auto v = device_write(f, st, r.op + " " + f.text); bad(v)) return v;
    const bool truncates = r.op == ">" || r.op == ">|" || r.op == "&>" || r.op == ">&";
    if (auto v = truncates ? overwrite(f, st, r.op + " " + f.text) : CommandVerdict{}; bad(v))
      return v;
    const auto path = absolute(f, st);
    if (path && (r.fd < 0 || r.fd == 1)) outputs.push_back(*path);  // where stdout goes
  }
  return {};
}

// --- expansion ---

CommandVerdict Classifier::expand(const Word& w, State& st, bool split, Argv& out) {
  Argv fields(1);
  bool cut = false;  // the next text starts a new field
  for (const Part& p : w.parts) {
    if (auto v = expand_part(p, st, split, fields, cut); bad(v)) return v;
    if (fields.back().text.size() > kMaxText) return unparsable("it is too long to be checked");
  }
  // Exactly $! (or a variable holding it), not a pid typed in.
  int pieces = 0;
  bool job = true;
  for (const Part& p : w.parts) {
    if (p.kind == Part::Kind::literal && p.text.empty()) continue;
    ++pieces;
    job = job && p.kind == Part::Kind::variable && (p.text == "!" || st.job_vars.count(p.text));
  }
  fields[0].job = job && pieces == 1;
  for (Field& f : fields)
    if (!f.text.empty() || f.quoted || f.unknown) out.push_back(std::move(f));
  return {};
}

// IFS as the script set it; nullopt when it set it to something unknown.
std::optional<std::string> lookup_ifs(const State& st) {
  const auto it = st.vars.find("IFS");
  return it == st.vars.end() ? std::optional<std::string>(" \t\n") : it->second;
}

void append_text(Argv& fields, bool& cut, std::string_view text, bool quoted) {
  if (cut) fields.emplace_back();
  cut = false;
  Field& f = fields.back();
  if (quoted) f.quoted = true;
  const std::size_t bracket = text.find('[');  // a lone [ (the test command) matches itself
  if (!quoted &&
      (text.find_first_of("*?") != npos || (bracket != npos && text.find(']', bracket) != npos)))
    f.glob = true;
  if (!quoted && text.find('{') != npos) f.braces = true;
  f.text += text;
}

void append_unknown(Argv& fields, bool& cut, std::string_view placeholder) {
  if (cut) fields.emplace_back();
  cut = false;
  Field& f = fields.back();
  if (!f.unknown) f.known = f.text.size();
  f.unknown = true;
  f.text += placeholder;
}

// An unquoted value is split at IFS characters into several fields, as bash does (here a run
// of separators always counts as one).
void split_value(Argv& fields, bool& cut, std::string_view value, std::string_view ifs = " \t\n") {
  for (std::size_t i = 0; i < value.size();) {
    if (ifs.find(value[i]) != npos) {
      const Field& f = fields.back();
      if (!f.text.empty() || f.quoted || f.unknown) cut = true;
      ++i;
      continue;
    }
    const std::size_t j = std::min(value.find_first_of(ifs, i), value.size());
    append_text(fields, cut, value.substr(i, j - i), false);
    i = j;
  }
}

CommandVerdict Classifier::expand_part(const Part& p, State& st, bool split, Argv& fields,
                                       bool& cut) {
  switch (p.kind) {
    case Part::Kind::literal:
      append_text(fields, cut, p.text, p.quoted);
      break;
    case Part::Kind::tilde: {
      const auto dir = p.text.empty()  ? lookup("HOME", st)
                       : p.text == "+" ? lookup("PWD", st)
                                       : std::nullopt;
      if (dir) append_text(fields, cut, *dir, true);
      if (!dir) append_unknown(fields, cut, "~" + p.text);
      break;
    }
    case Part::Kind::variable: {
      const bool splits = split && !p.quoted;
      const auto ifs = splits ? lookup_ifs(st) : std::optional<std::string>("");
      const auto value = lookup(p.text, st);
      if (!value || !ifs) append_unknown(fields, cut, "$" + p.text);
      if (value && ifs && splits) split_value(fields, cut, *value, *ifs);
      if (value && ifs && !splits) append_text(fields, cut, *value, p.quoted);
      break;
    }
    case Part::Kind::substitution: {
      State copy = st;  // substitutions run in a subshell
      const int before = downloads_;
      if (auto v = script(*p.script, copy, Feed{}); bad(v)) return v;
      append_unknown(fields, cut, p.text);
      fields.back().substituted = true;
      if (downloads_ > before) fields.back().download = true;
      break;
    }
    case Part::Kind::unknown:
      append_unknown(fields, cut, p.text);
      break;
  }
  return {};
}

// One field, unsplit: assignments, redirection targets, here-docs.
CommandVerdict Classifier::expand_one(const Word& w, State& st, Field& out) {
  Argv fields;
  if (auto v = expand(w, st, false, fields); bad(v)) return v;
  out = fields.empty() ? Field{} : std::move(fields[0]);
  return {};
}

std::optional<std::string> Classifier::lookup(const std::string& name, const State& st) const {
  if (const auto it = st.vars.find(name); it != st.vars.end()) return it->second;
  if (name == "HOME" && !ws_.empty()) return ws_;  // HOME is the workspace
  if (name == "PWD") return st.cwd;
  return std::nullopt;
}

// --- paths ---

// Follows the links this script made with ln. A link itself is followed only when it is named
// as a directory (link/), since rm link removes just the link.
std::optional<std::string> follow_links(std::string path, const Links& links, bool into) {
  for (int hop = 0; hop < kMaxDepth; ++hop) {
    const auto link = std::find_if(links.begin(), links.end(), [&](const auto& l) {
      const std::string& from = l.first;
      if (!path.starts_with(from)) return false;
      return path.size() == from.size() ? into : path[from.size()] == '/';
    });
    if (link == links.end()) return path;
    if (!link->second) return std::nullopt;  // a link to somewhere unknown
    path = normalize(*link->second + path.substr(link->first.size()));
    into = true;
  }
  return std::nullopt;
}

std::optional<std::string> Classifier::absolute(const Field& f, const State& st,
                                                bool follow) const {
  if (f.unknown || (!f.text.starts_with("/") && !st.cwd)) return std::nullopt;
  std::string path = normalize(f.text.starts_with("/") ? f.text : *st.cwd + "/" + f.text);
  if (!follow) return path;
  return follow_links(std::move(path), links_, f.text.ends_with("/") || f.text.ends_with("/."));
}

bool Classifier::inside(std::string_view path) const {
  if (ws_.empty()) return false;
  if (ws_ == "/") return true;
  return path.starts_with(ws_) && (path.size() == ws_.size() || path[ws_.size()] == '/');
}

Where Classifier::where(const Field& f, const State& st) const {
  if (f.unknown) return Where::unknown;
  if (f.text.empty()) return Where::inside;  // rm "" touches nothing
  const auto alts = f.braces ? expand_braces(f.text) : std::vector<std::string>{f.text};
  if (!alts) return Where::unknown;
  for (const std::string& alt : *alts) {
    const auto path = absolute(plain(alt), st);
    if (!path) return Where::unknown;
    if (*path == ws_) return Where::root;
    const bool made_here = std::any_of(created_.begin(), created_.end(), [&](const auto& c) {
      return *path == c || path->starts_with(c + "/");
    });
    if (!inside(*path) && !made_here) return Where::outside;
  }
  return Where::inside;
}

bool Classifier::is_downloaded(const Field& f, const State& st) const {
  const auto path = absolute(f, st);
  return path && downloaded_.count(*path);
}

void Classifier::remember_download(const Field& f, const State& st) {
  if (f.text == "-") return;  // stdout
  if (const auto path = absolute(f, st)) downloaded_.insert(*path);
}

// /bin/rm is rm; ./rm or bin/rm inside the workspace is the project's own program.
std::string Classifier::tool_name(const std::string& text, const State& st) const {
  const std::size_t slash = text.rfind('/');
  if (slash == npos) return family(text);
  if (!text.starts_with("/") && st.cwd && inside(normalize(*st.cwd + "/" + text))) return text;
  return family(text.substr(slash + 1));
}

// A new shell process: cwd and files carry over, unexported variables do not.
State Classifier::child_state(const State& st) const {
  State child;
  child.cwd = st.cwd;
  child.depth = st.depth;
  if (const auto it = st.vars.find("HOME"); it != st.vars.end()) child.vars["HOME"] = it->second;
  return child;
}

std::string Classifier::download_detail(const Argv& argv) const {
  return last_download_.empty() ? snippet(argv) : last_download_ + " | " + snippet(argv);
}

// --- commands ---

Classifier::Handler Classifier::handler_for(std::string_view tool) const {
  struct Route {
    std::string_view names;
    Handler handler;
  };
  static constexpr Route kRoutes[] = {
      {" sudo sudoedit su doas pkexec runuser chroot setpriv nsenter unshare ",
       &Classifier::privilege},
      {" rm rmdir unlink shred truncate ", &Classifier::remove},
      {" find ", &Classifier::find},
      {" mv cp ", &Classifier::move},
      {" chmod chown chgrp ", &Classifier::permissions},
      {" dd mkswap fdisk sfdisk cfdisk gdisk sgdisk parted wipefs blkdiscard ",
       &Classifier::raw_disk},
      {" mkfs mke2fs mkdosfs mkntfs ", &Classifier::mkfs},
      {" git ", &Classifier::git},
      {" kill pkill killall killall5 skill ", &Classifier::kill},
      {" tee ", &Classifier::tee},
      {" nohup setsid chronic unbuffer eatmydata fakeroot nocache builtin time nice timeout "
       "command exec stdbuf ionice flock strace ltrace coproc ",
       &Classifier::wrapper},
      {" env ", &Classifier::env},
      {" busybox ", &Classifier::busybox},
      {" xargs ", &Classifier::xargs},
      {" watch ", &Classifier::watch},
      {" sh bash dash zsh ksh mksh ash fish csh tcsh yash posh ", &Classifier::shell},
      {" python perl ruby node php ", &Classifier::interpreter},
      {" eval ", &Classifier::eval},
      {" source . ", &Classifier::source},
      {" trap ", &Classifier::trap},
      {" cd pushd popd ", &Classifier::cd},
      {" export declare typeset local readonly ", &Classifier::declare},
      {" read unset ", &Classifier::read},
      {" echo ", &Classifier::echo},
      {" printf ", &Classifier::printf_builtin},
      {" cat ", &Classifier::cat},
      {" ln ", &Classifier::ln},
      {" rsync ", &Classifier::rsync},
      {" alias ", &Classifier::alias},
      {" curl wget fetch nc ncat netcat socat aria2c http https xh lwp-download lwp-request GET "
       "ftp tftp ",
       &Classifier::download},
  };
  for (const Route& route : kRoutes)
    if (listed(route.names, tool)) return route.handler;
  return nullptr;
}

// Wrappers call run again for the command they wrap; that chain is bounded too.
CommandVerdict Classifier::run(const Argv& argv, State& st, const Feed& in, Output& out) {
  if (runs_ >= 4 * kMaxDepth) return unparsable("it is nested too deeply to be checked");
  ++runs_;
  CommandVerdict v = dispatch(argv, st, in, out);
  --runs_;
  return v;
}

CommandVerdict Classifier::dispatch(const Argv& argv, State& st, const Feed& in, Output& out) {
  if (argv.empty()) return {};
  if (--budget_ < 0) return unparsable("it is too complex to be checked");
  const Field& name = argv[0];
  if (name.download)
    return flag(DangerClass::download_to_shell, "runs code downloaded from the network",
                snippet(argv));
  if (name.unknown) {
    const std::string by = name.substituted ? "the output of another command" : "a variable";
    return unparsable("it runs a command named by " + by + ", so it cannot be checked (" +
                      snippet(argv) + ")");
  }
  if (name.glob) {
    return unparsable("it runs a command named by a file pattern, so it cannot be checked (" +
                      snippet(argv) + ")");
  }
  if (name.text.find('/') != npos && is_downloaded(name, st))
    return flag(DangerClass::download_to_shell, "runs code downloaded from the network",
                snippet(argv));
  const std::string tool = tool_name(name.text, st);
  if (const Handler h = handler_for(tool)) return (this->*h)(tool, argv, st, in, out);
  return {};
}

// Parses text that a shell will run, one level deeper.
CommandVerdict Classifier::reparse(std::string_view text, State& st) {
  if (text.size() > kMaxText) return unparsable("it is too long to be checked");
  const auto parsed = try_parse(text, st.depth + 1);
  if (!parsed) return unparsable();
  return script(*parsed, st, Feed{});
}

// sh -c STRING and the like: STRING runs in a new shell.
CommandVerdict Classifier::shell_string(const Argv& argv, std::size_t i, State& st) {
  if (i >= argv.size()) return {};
  if (argv[i].download)
    return flag(DangerClass::download_to_shell, "runs code downloaded from the network",
                snippet(argv));
  State child = child_state(st);
  return reparse(argv[i].text, child);
}

// sh FILE, source FILE, python FILE: dangerous only when FILE is what a downloader produced.
CommandVerdict Classifier::script_file(const Argv& argv, std::size_t i, State& st) {
  if (argv[i].download || is_downloaded(argv[i], st))
    return flag(DangerClass::download_to_shell, "runs code downloaded from the network",
                snippet(argv));
  return {};
}

CommandVerdict Classifier::delete_target(const Argv& argv, const Field& target,
                                         const State& st) const {
  constexpr auto kDelete = DangerClass::delete_outside_workspace;
  switch (where(target, st)) {
    case Where::inside:
      return {};
    case Where::root:
      return flag(kDelete, "deletes the whole workspace", snippet(argv));
    case Where::outside:
      return flag(kDelete, "deletes files outside the workspace", snippet(argv));
    case Where::unknown:
      break;
  }
  return flag(kDelete, "deletes a path that is only known when it runs", snippet(argv));
}

// A write to a disk device, or to a /dev path whose rest is only known when it runs.
CommandVerdict Classifier::device_write(const Field& f, const State& st,
                                        std::string_view detail) const {
  bool device = false;
  if (!f.unknown) {
    const auto path = absolute(f, st);
    device = path && block_device(*path);
  } else if (f.known > 0 && f.known != npos) {
    const auto start = absolute(plain(f.text.substr(0, f.known)), st);
    device =
        start && (start->starts_with("/dev/") || (*start == "/dev" && f.text[f.known - 1] == '/'));
  }
  if (device)
    return flag(DangerClass::block_device_write, "writes directly to a disk device", detail);
  return {};
}

// > FILE empties FILE first: outside the workspace that destroys what was there. Scratch
// places (/tmp, /dev/null, ...) are fine.
CommandVerdict Classifier::overwrite(const Field& f, const State& st,
                                     std::string_view detail) const {
  const auto path = absolute(f, st);
  if (!path || inside(*path)) return {};
  for (const std::string_view scratch : {"/tmp/", "/var/tmp/", "/dev/", "/proc/self/fd/"})
    if (path->starts_with(scratch)) return {};
  return flag(DangerClass::delete_outside_workspace, "overwrites a file outside the workspace",
              detail);
}

CommandVerdict Classifier::privilege(std::string_view, const Argv& argv, State&, const Feed&,
                                     Output&) {
  return flag(DangerClass::privilege, "runs a command with elevated privileges", snippet(argv));
}

CommandVerdict Classifier::remove(std::string_view tool, const Argv& argv, State& st, const Feed&,
                                  Output&) {
  const std::string_view takes = tool == "shred"      ? " -n -s --iterations --size "
                                 : tool == "truncate" ? " -s -r --size --reference "
                                                      : "";
  for (const std::size_t i : operands(argv, takes))
    if (auto v = delete_target(argv, argv[i], st); bad(v)) return v;
  return {};
}

// find ROOTS EXPR: -delete deletes under the roots; -exec runs a command on what it finds.
CommandVerdict Classifier::find(std::string_view, const Argv& argv, State& st, const Feed&,
                                Output&) {
  std::size_t i = 1;
  while (i < argv.size() &&
         (listed(" -H -L -P -D ", argv[i].text) || argv[i].text.starts_with("-O")))
    i += argv[i].text == "-D" ? 2U : 1U;
  Argv roots;
  for (; i < argv.size(); ++i) {
    const std::string& t = argv[i].text;
    if ((t.size() > 1 && t[0] == '-') || listed(" ( ) ! , ", t)) break;
    roots.push_back(argv[i]);
  }
  if (roots.empty()) roots.push_back(plain("."));
  for (; i < argv.size(); ++i) {
    if (argv[i].text == "-delete") {
      for (Field root : roots) {
        root.text += root.text.ends_with("/") ? "{}" : "/{}";  // under the root, not the root
        if (auto v = delete_target(argv, root, st); bad(v)) return v;
      }
    }
    if (listed(" -exec -execdir -ok -okdir ", argv[i].text))
      if (auto v = find_exec(argv, i, roots, st); bad(v)) return v;
  }
  return {};
}

// The command after -exec, with {} standing for something under each root.
CommandVerdict Classifier::find_exec(const Argv& argv, std::size_t& i, const Argv& roots,
                                     State& st) {
  const std::size_t start = i + 1;
  for (++i; i < argv.size() && argv[i].text != ";" && argv[i].text != "+";) ++i;
  for (const Field& root : roots) {
    const std::string found = root.text + (root.text.ends_with("/") ? "{}" : "/{}");
    Argv cmd(argv.begin() + static_cast<std::ptrdiff_t>(start),
             argv.begin() + static_cast<std::ptrdiff_t>(std::min(i, argv.size())));
    for (Field& f : cmd) {
      for (std::size_t at = f.text.find("{}"); at != npos;
           at = f.text.find("{}", at + found.size())) {
        f.text.replace(at, 2, found);
        if (root.unknown) f.known = std::min(f.known, at);
        f.unknown = f.unknown || root.unknown;
      }
    }
    Output ignored;
    if (auto v = run(cmd, st, Feed{}, ignored); bad(v)) return v;
  }
  return {};
}

// mv X /dev/null destroys X (and /dev/null); mv or cp onto a disk device overwrites it.
CommandVerdict Classifier::move(std::string_view tool, const Argv& argv, State& st, const Feed&,
                                Output&) {
  const auto ops = operands(argv, " -S --suffix ");
  if (ops.size() < 2) return {};
  const auto dest = absolute(argv[ops.back()], st);
  if (tool == "mv" && dest == "/dev/null")
    return flag(DangerClass::delete_outside_workspace, "deletes files by moving them to /dev/null",
                snippet(argv));
  return device_write(argv[ops.back()], st, snippet(argv));
}

CommandVerdict Classifier::permissions(std::string_view tool, const Argv& argv, State& st,
                                       const Feed&, Output&) {
  bool recursive = false;
  bool reference = false;
  bool options = true;
  std::vector<std::size_t> ops;
  for (std::size_t i = 1; i < argv.size(); ++i) {
    const std::string& t = argv[i].text;
    // chmod -x is a mode, not an option: only these letters make a chmod option.
    const bool option =
        options && t.size() > 1 && t[0] == '-' &&
        (tool != "chmod" || t[1] == '-' || t.find_first_not_of("cfvRHLP", 1) == npos);
    if (options && t == "--") {
      options = false;
    } else if (option) {
      recursive = recursive || t == "--recursive" || (t[1] != '-' && t.find('R') != npos);
      reference = reference || t.starts_with("--reference");
    } else {
      ops.push_back(i);
    }
  }
  if (recursive)
    return flag(DangerClass::recursive_permission, "changes permissions recursively",
                snippet(argv));
  if (tool == "chmod" && !reference && !ops.empty() && sets_setuid(argv[ops[0]].text))
    return flag(DangerClass::recursive_permission, "sets the setuid or setgid bit", snippet(argv));
  for (std::size_t k = reference ? 0 : 1; k < ops.size(); ++k) {
    if (where(argv[ops[k]], st) == Where::outside)
      return flag(DangerClass::recursive_permission, "changes permissions outside the workspace",
                  snippet(argv));
  }
  return {};
}

CommandVerdict Classifier::raw_disk(std::string_view, const Argv& argv, State&, const Feed&,
                                    Output&) {
  return flag(DangerClass::raw_disk, "writes raw data to disks or partitions", snippet(argv));
}

CommandVerdict Classifier::mkfs(std::string_view, const Argv& argv, State&, const Feed&, Output&) {
  return flag(DangerClass::make_filesystem, "creates a filesystem, wiping what was there",
              snippet(argv));
}

CommandVerdict Classifier::git(std::string_view, const Argv& argv, State&, const Feed&, Output&) {
  std::size_t i = 1;
  while (i < argv.size() && argv[i].text.starts_with("-")) {
    const bool takes =
        listed(" -C -c --git-dir --work-tree --namespace --super-prefix --config-env --exec-path ",
               argv[i].text);
    i += takes ? 2 : 1;
  }
  if (i < argv.size() && argv[i].text == "push" && force_push(argv, i + 1))
    return flag(DangerClass::force_push, "force-pushes or deletes history on a git remote",
                snippet(argv));
  return {};
}

// kill %job and kill $! stop what this script started; a pid or a name may be anyone's.
CommandVerdict Classifier::kill(std::string_view tool, const Argv& argv, State&, const Feed&,
                                Output&) {
  if (tool != "kill")
    return flag(DangerClass::kill_foreign, "kills processes by name, not only its own",
                snippet(argv));
  std::size_t i = 1;
  bool probe = false;  // signal 0 only checks that the process exists
  if (i < argv.size()) {
    const std::string& t = argv[i].text;
    if (listed(" -l -L --list --help ", t)) return {};
    if (listed(" -s -n --signal ", t)) {
      probe = i + 1 < argv.size() && argv[i + 1].text == "0";
      i += 2;
    } else if (t.size() > 1 && t[0] == '-' && t != "--") {
      probe = t == "-0";
      ++i;
    }
  }
  if (i < argv.size() && argv[i].text == "--") ++i;
  if (probe) return {};
  for (; i < argv.size(); ++i) {
    const Field& f = argv[i];
    if (f.job || (!f.unknown && f.text.starts_with("%"))) continue;
    return flag(DangerClass::kill_foreign, "kills processes it did not start", snippet(argv));
  }
  return {};
}

CommandVerdict Classifier::tee(std::string_view, const Argv& argv, State& st, const Feed& in,
                               Output&) {
  bool append = false;
  for (const Field& f : argv) {
    const std::string& t = f.text;
    append = append || t == "--append" ||
             (t.size() > 1 && t[0] == '-' && t[1] != '-' && t.find('a') != npos);
  }
  for (const std::size_t i : operands(argv, "")) {
    if (in.download) remember_download(argv[i], st);  // curl ... | tee x.sh
    if (auto v = device_write(argv[i], st, snippet(argv)); bad(v)) return v;
    if (auto v = append ? CommandVerdict{} : overwrite(argv[i], st, snippet(argv)); bad(v))
      return v;
  }
  return {};
}

// nohup, nice, timeout, exec, ...: the command they run is what counts.
CommandVerdict Classifier::wrapper(std::string_view tool, const Argv& argv, State& st,
                                   const Feed& in, Output& out) {
  const std::string_view takes = tool == "time"      ? " -f -o --format --output "
                                 : tool == "nice"    ? " -n --adjustment "
                                 : tool == "timeout" ? " -s -k --signal --kill-after "
                                 : tool == "exec"    ? " -a "
                                 : tool == "stdbuf"  ? " -i -o -e --input --output --error "
                                 : tool == "ionice"  ? " -c -n -p -P -u --class --classdata "
                                 : tool == "flock"   ? " -w -E --timeout --wait "
                                 : tool == "strace" || tool == "ltrace"
                                     ? " -o -e -p -s -u -E -P -I -a -b -X "
                                     : "";
  std::size_t i = 1;
  while (i < argv.size() && argv[i].text.size() > 1 && argv[i].text[0] == '-') {
    const std::string& t = argv[i].text;
    if (t == "--") {
      ++i;
      break;
    }
    if (tool == "command" && t.find_first_of("vV") != npos) return {};  // only looks it up
    i += listed(takes, t) ? 2U : 1U;
  }
  if (tool == "timeout" || tool == "flock") ++i;  // the duration, the lock file
  if (i >= argv.size()) return {};
  if (tool == "flock" && listed(" -c --command ", argv[i].text))
    return shell_string(argv, i + 1, st);
  return run(Argv(argv.begin() + static_cast<std::ptrdiff_t>(i), argv.end()), st, in, out);
}

// env [-i] [-u NAME] [-C DIR] [-S STRING] [NAME=VALUE]... COMMAND
CommandVerdict Classifier::env(std::string_view tool, const Argv& argv, State& st, const Feed& in,
                               Output& out) {
  State local = st;
  std::size_t i = 1;
  for (; i < argv.size(); ++i) {
    const std::string& t = argv[i].text;
    const bool has_value = i + 1 < argv.size();
    if (listed(" -u --unset ", t)) {
      ++i;
    } else if (listed(" -C --chdir ", t) && has_value) {
      local.cwd = absolute(argv[++i], local);
    } else if (listed(" -S --split-string ", t) && has_value) {
      Argv next{argv[0]};  // the string is split into words that take its place
      bool cut = true;
      split_value(next, cut, argv[i + 1].text);
      for (std::size_t k = 1; k < next.size() && argv[i + 1].unknown; ++k)
        next[k] = unknown_field(next[k].text);
      next.insert(next.end(), argv.begin() + static_cast<std::ptrdiff_t>(i + 2), argv.end());
      return env(tool, next, local, in, out);
    } else if (!(t.size() > 1 && t[0] == '-') && t != "-" && assignment_end(t) == npos) {
      break;
    }
  }
  if (i >= argv.size()) return {};
  return run(Argv(argv.begin() + static_cast<std::ptrdiff_t>(i), argv.end()), local, in, out);
}

CommandVerdict Classifier::busybox(std::string_view, const Argv& argv, State& st, const Feed& in,
                                   Output& out) {
  if (argv.size() < 2 || argv[1].text.starts_with("-")) return {};
  return run(Argv(argv.begin() + 1, argv.end()), st, in, out);
}

// xargs CMD ARGS: CMD also gets words read from stdin, which are unknown here.
CommandVerdict Classifier::xargs(std::string_view, const Argv& argv, State& st, const Feed&,
                                 Output&) {
  std::optional<std::string> replace;
  std::size_t i = 1;
  for (; i < argv.size(); ++i) {
    const std::string& t = argv[i].text;
    if (t == "--") {
      ++i;
      break;
    }
    if (t.size() < 2 || t[0] != '-') break;
    if (t == "-I" && i + 1 < argv.size()) {
      replace = argv[++i].text;
    } else if (t.starts_with("-I") || t.starts_with("-i")) {
      replace = t.size() > 2 ? t.substr(2) : "{}";
    } else if (t.starts_with("--replace")) {
      replace = t.size() > 10 ? t.substr(10) : "{}";
    } else if (listed(" -a -d -E -L -n -P -s --arg-file --delimiter --eof --max-lines --max-args "
                      "--max-procs --max-chars --process-slot-var ",
                      t)) {
      ++i;
    }
  }
  Argv cmd(argv.begin() + static_cast<std::ptrdiff_t>(std::min(i, argv.size())), argv.end());
  if (cmd.empty()) cmd.push_back(plain("echo"));
  if (!replace) cmd.push_back(unknown_field("<input>"));
  for (Field& f : cmd) {
    const std::size_t at = replace ? f.text.find(*replace) : npos;
    if (at == npos) continue;
    f.known = std::min(f.known, at);
    f.unknown = true;
  }
  Output ignored;
  return run(cmd, st, Feed{}, ignored);
}

// watch CMD...: the words are joined and run by sh -c.
CommandVerdict Classifier::watch(std::string_view, const Argv& argv, State& st, const Feed&,
                                 Output&) {
  std::size_t i = 1;
  while (i < argv.size() && argv[i].text.size() > 1 && argv[i].text[0] == '-') {
    if (argv[i].text == "--") {
      ++i;
      break;
    }
    i += listed(" -n --interval ", argv[i].text) ? 2U : 1U;
  }
  Field joined;
  for (; i < argv.size(); ++i) {
    joined.text += (joined.text.empty() ? "" : " ") + argv[i].text;
    joined.download = joined.download || argv[i].download;
  }
  return shell_string(Argv{plain("sh"), joined}, 1, st);
}

// sh -c STRING, sh FILE, or sh reading its script from stdin.
CommandVerdict Classifier::shell(std::string_view, const Argv& argv, State& st, const Feed& in,
                                 Output&) {
  bool command_mode = false;
  bool stdin_mode = false;
  std::size_t i = 1;
  for (; i < argv.size(); ++i) {
    const std::string& t = argv[i].text;
    if (t == "-" || t == "--") {
      ++i;
      break;
    }
    if (t.size() < 2 || (t[0] != '-' && t[0] != '+')) break;
    if (t.starts_with("--")) {
      if (listed(" --rcfile --init-file ", t)) ++i;
      continue;
    }
    command_mode = command_mode || t.find('c') != npos;
    stdin_mode = stdin_mode || t.find('s') != npos;
    if (t.find_first_of("oO") != npos) ++i;  // -o takes an option name
  }
  if (command_mode) return shell_string(argv, i, st);
  if (!stdin_mode && i < argv.size()) return script_file(argv, i, st);
  if (in.download)
    return flag(DangerClass::download_to_shell, "runs code downloaded from the network",
                download_detail(argv));
  if (!in.has_text) return {};
  State child = child_state(st);
  return reparse(in.text, child);
}

// python/perl/ruby/node/php: code given inline is not shell; code from stdin or a file may be
// a download.
CommandVerdict Classifier::interpreter(std::string_view tool, const Argv& argv, State& st,
                                       const Feed& in, Output&) {
  const std::string_view inline_flags = tool == "python" ? "cm"
                                        : tool == "php"  ? "rRBE"
                                        : tool == "node" ? "ep"
                                                         : "eE";
  std::size_t i = 1;
  for (; i < argv.size(); ++i) {
    const std::string& t = argv[i].text;
    if (t == "--") {
      ++i;
      break;
    }
    if (t.size() < 2 || t[0] != '-') break;
    if (t.starts_with("--")) {
      if (t.starts_with("--eval") || t.starts_with("--print")) return {};
      continue;
    }
    if (t.find_first_of(inline_flags, 1) != npos) return {};
    if (tool == "python" && (t == "-W" || t == "-X")) ++i;
  }
  if (i < argv.size() && argv[i].text != "-") return script_file(argv, i, st);
  if (in.download)
    return flag(DangerClass::download_to_shell, "runs code downloaded from the network",
                download_detail(argv));
  return {};
}

// eval runs its joined arguments in this very shell.
CommandVerdict Classifier::eval(std::string_view, const Argv& argv, State& st, const Feed&,
                                Output&) {
  std::string text;
  for (std::size_t i = 1; i < argv.size(); ++i) {
    if (argv[i].download)
      return flag(DangerClass::download_to_shell, "runs code downloaded from the network",
                  snippet(argv));
    text += (i > 1 ? " " : "") + argv[i].text;
  }
  return reparse(text, st);
}

CommandVerdict Classifier::source(std::string_view, const Argv& argv, State& st, const Feed&,
                                  Output&) {
  const std::size_t i = argv.size() > 1 && argv[1].text == "--" ? 2 : 1;
  return i < argv.size() ? script_file(argv, i, st) : CommandVerdict{};
}

// trap 'COMMANDS' SIGNAL: the commands run later, in this shell.
CommandVerdict Classifier::trap(std::string_view, const Argv& argv, State& st, const Feed&,
                                Output&) {
  const std::size_t i = argv.size() > 1 && argv[1].text == "--" ? 2 : 1;
  if (i + 1 >= argv.size() || argv[i].text.starts_with("-")) return {};
  State copy = st;
  return reparse(argv[i].text, copy);
}

// cd changes where relative paths point, for the rest of this shell.
CommandVerdict Classifier::cd(std::string_view tool, const Argv& argv, State& st, const Feed&,
                              Output&) {
  if (tool == "popd") {
    st.cwd = st.dirs.empty() ? std::nullopt : st.dirs.back();
    if (!st.dirs.empty()) st.dirs.pop_back();
    return {};
  }
  std::size_t i = 1;
  while (i < argv.size() && argv[i].text.size() > 1 && argv[i].text[0] == '-' &&
         argv[i].text != "--")
    ++i;
  if (i < argv.size() && argv[i].text == "--") ++i;
  if (tool == "pushd") st.dirs.push_back(st.cwd);
  if (i >= argv.size()) {
    st.cwd = tool == "pushd" ? std::nullopt : lookup("HOME", st);  // pushd alone swaps
  } else if (argv[i].text == "-" && !argv[i].unknown) {
    st.cwd.reset();  // back to OLDPWD, not tracked
  } else {
    st.cwd = absolute(argv[i], st);
  }
  return {};
}

CommandVerdict Classifier::declare(std::string_view, const Argv& argv, State& st, const Feed&,
                                   Output&) {
  for (std::size_t i = 1; i < argv.size(); ++i) {
    const Field& f = argv[i];
    const std::size_t eq = assignment_end(f.text);
    if (eq == npos) continue;
    const bool append = f.text[eq - 1] == '+';
    std::string name = f.text.substr(0, append ? eq - 1 : eq);
    name.resize(std::min(name.find('['), name.size()));
    st.vars[name] = f.unknown || append || name.size() != eq ? std::nullopt
                                                             : std::optional(f.text.substr(eq + 1));
    st.job_vars.erase(name);
  }
  return {};
}

// read NAME... and unset NAME...: their values are no longer known.
CommandVerdict Classifier::read(std::string_view tool, const Argv& argv, State& st, const Feed&,
                                Output&) {
  const auto names = operands(argv, tool == "read" ? " -a -d -i -n -N -p -t -u " : "");
  for (const std::size_t i : names) {
    st.vars[argv[i].text] = std::nullopt;
    st.job_vars.erase(argv[i].text);
  }
  if (names.empty() && tool == "read") st.vars["REPLY"] = std::nullopt;
  return {};
}

CommandVerdict Classifier::echo(std::string_view, const Argv& argv, State&, const Feed&,
                                Output& out) {
  bool newline = true;
  bool escapes = false;
  std::size_t i = 1;
  for (; i < argv.size(); ++i) {
    const std::string& t = argv[i].text;
    if (t.size() < 2 || t[0] != '-' || t.find_first_not_of("neE", 1) != npos) break;
    for (const char c : t.substr(1)) {
      newline = newline && c != 'n';
      escapes = c == 'e' || (escapes && c != 'E');
    }
  }
  std::string text;
  for (std::size_t k = i; k < argv.size(); ++k) text += (k > i ? " " : "") + argv[k].text;
  out = {true, (escapes ? decode_escapes(text) : text) + (newline ? "\n" : "")};
  return {};
}

CommandVerdict Classifier::printf_builtin(std::string_view, const Argv& argv, State& st,
                                          const Feed&, Output& out) {
  std::size_t i = 1;
  if (i < argv.size() && argv[i].text == "-v") {  // prints into a variable instead
    if (i + 1 < argv.size()) st.vars[argv[i + 1].text] = std::nullopt;
    return {};
  }
  if (i < argv.size() && argv[i].text == "--") ++i;
  if (i < argv.size()) out = {true, printf_render(argv[i].text, argv, i + 1)};
  return {};
}

// cat with no files passes its stdin on: cat <<EOF | sh is the here-doc run by sh.
CommandVerdict Classifier::cat(std::string_view, const Argv& argv, State&, const Feed& in,
                               Output& out) {
  for (const std::size_t i : operands(argv, ""))
    if (argv[i].text != "-") return {};
  if (in.has_text) out = {true, in.text};
  return {};
}

// A downloader is harmless by itself; it taints its output pipe and the files it writes.
CommandVerdict Classifier::download(std::string_view tool, const Argv& argv, State& st, const Feed&,
                                    Output&) {
  ++downloads_;
  last_download_ = snippet(argv);
  const char out_flag = tool == "curl" ? 'o' : tool == "wget" ? 'O' : '\0';
  bool named = tool != "wget";  // wget saves under the URL's name unless told otherwise
  for (std::size_t i = 1; i < argv.size(); ++i) {
    const std::string& t = argv[i].text;
    const bool cluster = out_flag && t.size() > 1 && t[0] == '-' && t[1] != '-';
    if (cluster && t.back() == out_flag && i + 1 < argv.size()) {
      remember_download(argv[++i], st);
      named = true;
    } else if (listed(" --output --output-document ", t) && i + 1 < argv.size()) {
      remember_download(argv[++i], st);
      named = true;
    } else if (cluster && t.find(out_flag) != npos) {
      named = true;  // -O- and friends: to stdout
    } else if ((tool == "curl" && cluster && t.find('O') != npos) || t == "--remote-name") {
      named = false;
    }
  }
  for (std::size_t i = 1; i < argv.size() && !named; ++i) {
    const std::string& t = argv[i].text;
    if (t.find("://") == npos) continue;
    const std::string url = t.substr(0, t.find_first_of("?#"));
    const std::string base = url.substr(url.rfind('/') + 1);
    if (!base.empty() && url.rfind('/') > url.find("://") + 2) remember_download(plain(base), st);
  }
  return {};
}

// ln TARGET... NAME: paths through NAME later lead to TARGET.
CommandVerdict Classifier::ln(std::string_view, const Argv& argv, State& st, const Feed&, Output&) {
  bool symbolic = false;
  bool options = true;
  std::optional<Field> dir;
  std::vector<std::size_t> ops;
  for (std::size_t i = 1; i < argv.size(); ++i) {
    const std::string& t = argv[i].text;
    if (options && t == "--") {
      options = false;
    } else if (options && listed(" -t --target-directory -S --suffix ", t)) {
      const bool target_dir = t == "-t" || t == "--target-directory";
      if (target_dir) dir = i + 1 < argv.size() ? argv[i + 1] : plain(".");
      ++i;
    } else if (options && t.size() > 1 && t[0] == '-') {
      symbolic = symbolic || t == "--symbolic" || (t[1] != '-' && t.find('s') != npos);
    } else {
      ops.push_back(i);
    }
  }
  if (ops.empty()) return {};
  if (!dir && ops.size() == 2 && !argv[ops[1]].text.ends_with("/")) {
    add_link(argv[ops[0]], argv[ops[1]], symbolic, st);
    return {};
  }
  if (!dir && ops.size() == 1) dir = plain(".");
  if (!dir) {  // ln TARGET... DIR
    dir = argv[ops.back()];
    ops.pop_back();
  }
  for (const std::size_t i : ops) {
    Field name = *dir;
    std::string base = argv[i].text;
    while (base.size() > 1 && base.ends_with("/")) base.pop_back();
    name.text += "/" + base.substr(base.rfind('/') + 1);
    add_link(argv[i], name, symbolic, st);
  }
  return {};
}

// A symbolic link's relative target is relative to the directory the link is in.
void Classifier::add_link(const Field& target, const Field& name, bool symbolic, const State& st) {
  const auto link = absolute(name, st, false);
  if (!link) return;
  std::optional<std::string> to;
  if (!target.unknown && symbolic && !target.text.starts_with("/")) {
    to = normalize(link->substr(0, link->rfind('/')) + "/" + target.text);
  } else {
    to = absolute(target, st);
  }
  links_[*link] = to;
}

bool remote_path(std::string_view t) {
  const std::size_t colon = t.find(':');
  return t.starts_with("rsync://") || (colon != npos && t.substr(0, colon).find('/') == npos);
}

// rsync --delete removes from DEST what the source lacks; --remove-source-files removes the
// sources.
CommandVerdict Classifier::rsync(std::string_view, const Argv& argv, State& st, const Feed&,
                                 Output&) {
  const auto ops = operands(argv,
                            " -e --rsh -f --filter --exclude --include --rsync-path -T --temp-dir "
                            "--partial-dir --backup-dir --files-from --password-file -M ");
  bool deletes = false;
  bool removes = false;
  for (const Field& f : argv) {
    deletes = deletes || f.text.starts_with("--delete") || f.text == "--del";
    removes = removes || f.text == "--remove-source-files";
  }
  for (std::size_t k = 0; k < ops.size(); ++k) {
    const bool dest = ops.size() > 1 && k + 1 == ops.size();
    Field under = argv[ops[k]];
    if (!(dest ? deletes : removes) || remote_path(under.text)) continue;
    under.text += "/x";  // what goes lies under it
    if (auto v = delete_target(argv, under, st); bad(v)) return v;
  }
  return {};
}

// alias NAME=VALUE: VALUE may run later, so it is checked now.
CommandVerdict Classifier::alias(std::string_view, const Argv& argv, State& st, const Feed&,
                                 Output&) {
  for (std::size_t i = 1; i < argv.size(); ++i) {
    const std::size_t eq = argv[i].text.find('=');
    if (eq == npos || argv[i].text.starts_with("-")) continue;
    State copy = st;
    if (auto v = reparse(argv[i].text.substr(eq + 1), copy); bad(v)) return v;
  }
  return {};
}

}  // namespace

CommandVerdict classify_command(std::string_view command, std::string_view workspace) {
  const auto parsed = try_parse(command, 0);
  if (!parsed) return unparsable();
  Classifier classifier(workspace.starts_with("/") ? normalize(workspace) : std::string());
  State st;
  if (workspace.starts_with("/")) st.cwd = normalize(workspace);
  return classifier.script(*parsed, st, Feed{});
}

std::string_view danger_name(DangerClass danger) {
  switch (danger) {
    case DangerClass::none:
      return "none";
    case DangerClass::delete_outside_workspace:
      return "delete_outside_workspace";
    case DangerClass::privilege:
      return "privilege";
    case DangerClass::recursive_permission:
      return "recursive_permission";
    case DangerClass::raw_disk:
      return "raw_disk";
    case DangerClass::make_filesystem:
      return "make_filesystem";
    case DangerClass::download_to_shell:
      return "download_to_shell";
    case DangerClass::force_push:
      return "force_push";
    case DangerClass::kill_foreign:
      return "kill_foreign";
    case DangerClass::block_device_write:
      return "block_device_write";
    case DangerClass::unparsable:
      return "unparsable";
  }
  return "unknown";
}

}  // namespace hermes::daemon::builtin
