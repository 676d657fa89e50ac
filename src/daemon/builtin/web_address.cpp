#include "daemon/builtin/web_address.hpp"

#include <algorithm>
#include <array>
#include <vector>

namespace hermes::daemon::builtin {
namespace {

namespace ip = boost::asio::ip;

constexpr const char* kLoopback = "a loopback address";
constexpr const char* kPrivate = "a private network address";
constexpr const char* kLinkLocal = "a link-local address";
constexpr const char* kMetadata = "the cloud metadata address";
constexpr const char* kUnspecified = "an unspecified address";
constexpr const char* kMulticast = "a multicast address";
constexpr const char* kReserved = "a reserved address";
constexpr const char* kDocumentation = "a documentation address";
constexpr const char* kBenchmarking = "a benchmarking address";

// Longer than any real page address; keeps a hostile redirect chain from growing strings.
constexpr std::size_t kMaxUrlLength = 8192;

struct RangeV4 {
  std::uint32_t network;
  int prefix;
  const char* why;
};

constexpr std::uint32_t v4(std::uint32_t a, std::uint32_t b, std::uint32_t c, std::uint32_t d) {
  return a << 24 | b << 16 | c << 8 | d;
}

// The first matching range answers, so the single addresses come before the blocks holding them.
constexpr std::array kRefusedV4{
    RangeV4{v4(169, 254, 169, 254), 32, kMetadata},  // AWS, GCP, Azure, OCI, ...
    RangeV4{v4(100, 100, 100, 200), 32, kMetadata},  // Alibaba Cloud
    RangeV4{v4(0, 0, 0, 0), 32, kUnspecified},       // Linux connects it to the loopback interface
    RangeV4{v4(255, 255, 255, 255), 32, "a broadcast address"},
    RangeV4{v4(0, 0, 0, 0), 8, kReserved},  // "this network"
    RangeV4{v4(10, 0, 0, 0), 8, kPrivate},
    RangeV4{v4(100, 64, 0, 0), 10, "a carrier-grade NAT address"},
    RangeV4{v4(127, 0, 0, 0), 8, kLoopback},
    RangeV4{v4(169, 254, 0, 0), 16, kLinkLocal},
    RangeV4{v4(172, 16, 0, 0), 12, kPrivate},
    RangeV4{v4(192, 0, 0, 0), 24, kReserved},  // IETF protocol assignments
    RangeV4{v4(192, 0, 2, 0), 24, kDocumentation},
    RangeV4{v4(192, 168, 0, 0), 16, kPrivate},
    RangeV4{v4(198, 18, 0, 0), 15, kBenchmarking},
    RangeV4{v4(198, 51, 100, 0), 24, kDocumentation},
    RangeV4{v4(203, 0, 113, 0), 24, kDocumentation},
    RangeV4{v4(224, 0, 0, 0), 4, kMulticast},
    RangeV4{v4(240, 0, 0, 0), 4, kReserved},
};

std::string refused_v4(std::uint32_t address) {
  for (const auto& range : kRefusedV4) {
    const std::uint32_t mask = range.prefix == 0 ? 0 : ~std::uint32_t{0} << (32 - range.prefix);
    if ((address & mask) == range.network) return range.why;
  }
  return "";
}

using Bytes16 = ip::address_v6::bytes_type;

std::uint32_t embedded_v4(const Bytes16& b, std::size_t at) {
  return v4(b[at], b[at + 1], b[at + 2], b[at + 3]);
}

bool zero(const Bytes16& b, std::size_t from, std::size_t to) {
  for (std::size_t i = from; i < to; ++i) {
    if (b[i] != 0) return false;
  }
  return true;
}

// ::/8 holds the unspecified and loopback addresses, the IPv4-mapped form (a real IPv4
// connection on a dual-stack socket, so the IPv4 address decides) and NAT64's 64:ff9b::/96
// (translated to the IPv4 address by the network). Nothing else in it is routable; an
// IPv4-compatible ::a.b.c.d is refused even when the IPv4 address would be allowed.
std::string refused_low_v6(const Bytes16& b) {
  if (zero(b, 0, 16)) return kUnspecified;
  if (zero(b, 0, 15) && b[15] == 1) return kLoopback;
  if (zero(b, 0, 10) && b[10] == 0xff && b[11] == 0xff) return refused_v4(embedded_v4(b, 12));
  if (b[0] == 0 && b[1] == 0x64 && b[2] == 0xff && b[3] == 0x9b) {
    if (zero(b, 4, 12)) return refused_v4(embedded_v4(b, 12));
    if (b[4] == 0 && b[5] == 1) return kPrivate;  // 64:ff9b:1::/48, local-use NAT64
    return kReserved;
  }
  const std::string embedded = refused_v4(embedded_v4(b, 12));
  return embedded.empty() ? kReserved : embedded;
}

// Inside 2000::/3, the only global unicast space: the tunnels that carry an IPv4 address and the
// blocks set aside for documentation and benchmarks.
std::string refused_global_v6(const Bytes16& b) {
  if (b[0] == 0x20 && b[1] == 0x02) return refused_v4(embedded_v4(b, 2));  // 6to4
  if (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0 && b[3] == 0) {
    // Teredo: the client's IPv4 address is stored inverted in the last four bytes.
    const std::uint32_t client = ~embedded_v4(b, 12);
    return refused_v4(client);
  }
  if (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x0d && b[3] == 0xb8) return kDocumentation;
  if (b[0] == 0x3f && b[1] == 0xff && (b[2] & 0xf0) == 0) return kDocumentation;  // 3fff::/20
  if (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0 && b[3] == 2 && b[4] == 0 && b[5] == 0) {
    return kBenchmarking;  // 2001:2::/48
  }
  return "";
}

std::string refused_v6(const ip::address_v6& address) {
  const Bytes16 b = address.to_bytes();
  // fd00:ec2::254, the AWS metadata service over IPv6 (inside the unique-local block below).
  constexpr Bytes16 kAwsMetadata{0xfd, 0x00, 0x0e, 0xc2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02, 0x54};
  if (b == kAwsMetadata) return kMetadata;
  if (b[0] == 0) return refused_low_v6(b);
  if ((b[0] & 0xfe) == 0xfc) return kPrivate;                    // fc00::/7 unique local
  if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) return kLinkLocal;  // fe80::/10
  if (b[0] == 0xfe && (b[1] & 0xc0) == 0xc0) return "a site-local address";  // fec0::/10
  if (b[0] == 0xff) return kMulticast;
  if ((b[0] & 0xe0) != 0x20) return kReserved;  // outside 2000::/3 nothing is assigned
  return refused_global_v6(b);
}

char lower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

std::string lowered(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = lower(c);
  return out;
}

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
bool is_alpha(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

int hex_value(char c) {
  if (is_digit(c)) return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// One part of an inet_aton address: C notation, so "0x" starts hex and a leading 0 octal.
// "0x" alone is 0, as browsers read it.
std::optional<std::uint64_t> c_number(std::string_view part) {
  if (part.empty()) return std::nullopt;
  int base = 10;
  if (part.size() >= 2 && part[0] == '0' && lower(part[1]) == 'x') {
    base = 16;
    part.remove_prefix(2);
  } else if (part.size() >= 2 && part[0] == '0') {
    base = 8;
    part.remove_prefix(1);
  }
  std::uint64_t value = 0;
  for (const char c : part) {
    const int digit = hex_value(c);
    if (digit < 0 || digit >= base) return std::nullopt;
    value = value * static_cast<std::uint64_t>(base) + static_cast<std::uint64_t>(digit);
    if (value > 0xffffffffu) return std::nullopt;
  }
  return value;
}

// "a", "a.b", "a.b.c" or "a.b.c.d": the last part fills all the bytes the others left.
std::optional<std::uint32_t> loose_v4(std::string_view host) {
  if (!host.empty() && host.back() == '.') host.remove_suffix(1);
  std::array<std::uint64_t, 4> parts{};
  std::size_t count = 0;
  while (true) {
    const auto dot = host.find('.');
    if (count == parts.size()) return std::nullopt;
    const auto part = c_number(host.substr(0, dot));
    if (!part) return std::nullopt;
    parts[count++] = *part;
    if (dot == std::string_view::npos) break;
    host.remove_prefix(dot + 1);
  }
  std::uint64_t value = 0;
  for (std::size_t i = 0; i + 1 < count; ++i) {
    if (parts[i] > 0xff) return std::nullopt;
    value |= parts[i] << (8 * (3 - i));
  }
  const std::uint64_t last = parts[count - 1];
  if (last >> (8 * (5 - count)) != 0) return std::nullopt;
  return static_cast<std::uint32_t>(value | last);
}

std::optional<ip::address> literal_v6(std::string_view host) {
  std::string text(host);
  // RFC 6874 writes a zone in a URL as "%25eth0"; the parser wants "%eth0".
  if (const auto zone = text.find("%25"); zone != std::string::npos) text.erase(zone + 1, 2);
  boost::system::error_code error;
  const auto address = ip::make_address_v6(text, error);
  if (error) return std::nullopt;
  return ip::address(address);
}

std::string_view trimmed(std::string_view text) {
  const auto space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
  while (!text.empty() && space(text.front())) text.remove_prefix(1);
  while (!text.empty() && space(text.back())) text.remove_suffix(1);
  return text;
}

}  // namespace

std::string refused_address(const ip::address& address) {
  if (address.is_v4()) return refused_v4(address.to_v4().to_uint());
  return refused_v6(address.to_v6());
}

bool refused_name(std::string_view host) {
  std::string name = lowered(host);
  if (!name.empty() && name.back() == '.') name.pop_back();
  static constexpr std::array<std::string_view, 9> kNames{
      "localhost",
      "localhost.localdomain",
      "ip6-localhost",
      "ip6-loopback",
      "metadata",
      "metadata.google.internal",
      "instance-data",
      "instance-data.ec2.internal",
      "metadata.azure.internal",
  };
  for (const auto refused : kNames) {
    if (name == refused) return true;
  }
  // RFC 6761: every name under .localhost is this machine.
  return name.ends_with(".localhost");
}

std::optional<ip::address> numeric_host(std::string_view host) {
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    return literal_v6(host.substr(1, host.size() - 2));
  }
  if (host.find(':') != std::string_view::npos) return literal_v6(host);
  if (host.empty() || !is_digit(host.front())) return std::nullopt;
  const auto address = loose_v4(host);
  if (!address) return std::nullopt;
  return ip::address(ip::address_v4(*address));
}

namespace {

std::uint16_t default_port(std::string_view scheme) {
  return scheme == "https" ? 443 : 80;
}

bool host_char(char c) {
  return is_alpha(c) || is_digit(c) || c == '-' || c == '.' || c == '_';
}

bool parse_port(std::string_view text, std::uint16_t& port) {
  if (text.empty() || text.size() > 5) return false;
  std::uint32_t value = 0;
  for (const char c : text) {
    if (!is_digit(c)) return false;
    value = value * 10 + static_cast<std::uint32_t>(c - '0');
  }
  if (value == 0 || value > 65535) return false;
  port = static_cast<std::uint16_t>(value);
  return true;
}

// A host name as DNS may hold it: ASCII letters, digits, '-', '.', '_'.
bool check_name(std::string_view host, std::string& error) {
  for (const char c : host) {
    if (static_cast<unsigned char>(c) >= 0x80) {
      error = "The URL's host must be ASCII: write an international name in punycode (xn--).";
      return false;
    }
    if (!host_char(c)) {
      error = "The URL's host contains a character not allowed in a host name.";
      return false;
    }
  }
  return true;
}

// Splits "[v6]" or "[v6]:port" into the address's text and the port's.
bool split_bracketed(std::string_view authority, std::string_view& host, std::string_view& port,
                     std::string& error) {
  const auto close = authority.find(']');
  if (close == std::string_view::npos || !literal_v6(authority.substr(1, close - 1))) {
    error = "The URL's host is not a valid IPv6 address in brackets.";
    return false;
  }
  host = authority.substr(1, close - 1);
  const auto after = authority.substr(close + 1);
  if (!after.empty() && !after.starts_with(':')) {
    error = "The URL has text after its IPv6 address.";
    return false;
  }
  if (!after.empty()) port = after.substr(1);
  return true;
}

// Splits "host", "host:port", "[v6]" or "[v6]:port" into `url`.
bool parse_authority(std::string_view authority, ParsedUrl& url, std::string& error) {
  std::string_view host = authority;
  std::string_view port;
  if (authority.starts_with('[')) {
    if (!split_bracketed(authority, host, port, error)) return false;
  } else {
    if (const auto colon = authority.find(':'); colon != std::string_view::npos) {
      host = authority.substr(0, colon);
      port = authority.substr(colon + 1);
      if (port.find(':') != std::string_view::npos) {
        error = "An IPv6 address in a URL must be written in brackets.";
        return false;
      }
    }
    if (!check_name(host, error)) return false;
  }
  if (host.empty()) {
    error = "The URL has no host.";
    return false;
  }
  // An IPv6 zone keeps its case ("%eth0" names an interface) and is stored as the resolver
  // reads it, not as RFC 6874 escapes it in a URL ("%25eth0").
  const auto zone = std::min(host.find('%'), host.size());
  url.host = lowered(host.substr(0, zone));
  if (zone < host.size()) {
    const auto name = host.substr(zone + 1);
    url.host += "%";
    url.host += name.starts_with("25") ? name.substr(2) : name;
  }
  url.port = default_port(url.scheme);
  // "host:" with nothing after the colon means the default port (RFC 3986).
  if (!port.empty() && !parse_port(port, url.port)) {
    error = "The URL's port is not a number from 1 to 65535.";
    return false;
  }
  return true;
}

// Path and query as sent in the request line: bytes that may not appear there are
// percent-encoded, and in the path a backslash is a slash, as browsers read it.
std::string request_target(std::string_view raw) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(raw.size() + 1);
  bool query = false;
  for (const char c : raw) {
    const auto byte = static_cast<unsigned char>(c);
    query = query || c == '?';
    if (c == '\\' && !query) {
      out += '/';
    } else if (byte <= 0x20 || byte >= 0x7f || c == '"' || c == '<' || c == '>' || c == '`' ||
               c == '\\') {
      out += '%';
      out += kHex[byte >> 4];
      out += kHex[byte & 0x0f];
    } else {
      out += c;
    }
  }
  if (out.empty() || out.front() != '/') out.insert(0, "/");
  return out;
}

bool has_control(std::string_view text) {
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte == 0x7f) return true;
  }
  return false;
}

}  // namespace

std::optional<ParsedUrl> parse_url(std::string_view url, std::string& error) {
  url = trimmed(url);
  if (url.size() > kMaxUrlLength) {
    error = "The URL is longer than " + std::to_string(kMaxUrlLength) + " bytes.";
    return std::nullopt;
  }
  if (has_control(url)) {
    error = "The URL contains a control character.";
    return std::nullopt;
  }
  const auto separator = url.find("://");
  if (separator == std::string_view::npos || separator == 0) {
    error = "Not an absolute URL: give one starting with http:// or https://.";
    return std::nullopt;
  }
  ParsedUrl parsed;
  parsed.scheme = lowered(url.substr(0, separator));
  if (parsed.scheme != "http" && parsed.scheme != "https") {
    error = "Only http and https URLs can be fetched, not " + parsed.scheme + ":.";
    return std::nullopt;
  }
  const auto rest = url.substr(separator + 3);
  const auto authority_end = std::min(rest.find_first_of("/?#"), rest.size());
  const auto authority = rest.substr(0, authority_end);
  if (authority.find('@') != std::string_view::npos) {
    error = "The URL carries credentials (user:password@host), which web_fetch does not send.";
    return std::nullopt;
  }
  if (authority.find('\\') != std::string_view::npos) {
    error = "The URL's host contains a backslash.";
    return std::nullopt;
  }
  if (!parse_authority(authority, parsed, error)) return std::nullopt;
  auto tail = rest.substr(authority_end);
  tail = tail.substr(0, tail.find('#'));
  parsed.target = request_target(tail);
  return parsed;
}

namespace {

std::string authority_of(const ParsedUrl& url) {
  std::string out = url.host;
  if (out.find(':') != std::string::npos) {
    if (const auto zone = out.find('%'); zone != std::string::npos) out.insert(zone + 1, "25");
    out = "[" + out + "]";
  }
  if (url.port != default_port(url.scheme)) out += ":" + std::to_string(url.port);
  return out;
}

// RFC 3986 section 5.2.4 on a path that starts with '/': "." and ".." segments go, and
// ".." never climbs above the root.
std::string remove_dot_segments(std::string_view path) {
  std::vector<std::string_view> kept;
  std::size_t at = 1;
  while (true) {
    const auto slash = path.find('/', at);
    const bool last = slash == std::string_view::npos;
    const auto segment = path.substr(at, last ? std::string_view::npos : slash - at);
    if (segment == "..") {
      if (!kept.empty()) kept.pop_back();
      if (last) kept.emplace_back();
    } else if (segment == ".") {
      if (last) kept.emplace_back();
    } else {
      kept.push_back(segment);
    }
    if (last) break;
    at = slash + 1;
  }
  std::string out;
  for (const auto segment : kept) {
    out += '/';
    out += segment;
  }
  return out.empty() ? "/" : out;
}

// "scheme:" as RFC 3986 spells it: a letter, then letters, digits, '+', '-' or '.'.
bool has_scheme(std::string_view reference) {
  if (reference.empty() || !is_alpha(reference.front())) return false;
  for (const char c : reference) {
    if (c == ':') return true;
    if (!is_alpha(c) && !is_digit(c) && c != '+' && c != '-' && c != '.') return false;
  }
  return false;
}

}  // namespace

std::string format_url(const ParsedUrl& url) {
  return url.scheme + "://" + authority_of(url) + url.target;
}

std::string resolve_location(const ParsedUrl& base, std::string_view location) {
  location = trimmed(location);
  location = location.substr(0, location.find('#'));
  // Browsers read a backslash before the query as a slash ("\\host\p" is "//host/p").
  std::string reference(location);
  for (char& c : reference) {
    if (c == '?') break;
    if (c == '\\') c = '/';
  }
  if (has_scheme(reference)) return reference;
  if (reference.starts_with("//")) return base.scheme + ":" + reference;
  const std::string origin = base.scheme + "://" + authority_of(base);
  const std::string_view base_path = std::string_view(base.target).substr(0, base.target.find('?'));
  if (reference.empty()) return origin + base.target;
  if (reference.starts_with('?')) return origin + std::string(base_path) + reference;
  const auto query_at = std::min(reference.find('?'), reference.size());
  const std::string query = reference.substr(query_at);
  std::string path = reference.substr(0, query_at);
  if (!path.starts_with('/')) {
    path.insert(0, base_path.substr(0, base_path.rfind('/') + 1));
    if (!path.starts_with('/')) path.insert(0, "/");
  }
  return origin + remove_dot_segments(path) + query;
}

}  // namespace hermes::daemon::builtin
