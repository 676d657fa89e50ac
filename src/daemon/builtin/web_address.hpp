#pragma once

#include <boost/asio/ip/address.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace hermes::daemon::builtin {

// The agent's web_fetch must not become a way into the daemon's own network (SSRF): every
// address it would connect to, named in the URL or resolved from a name, after every redirect,
// goes through refused_address first.

// "" when web_fetch may connect to `address`; else why not, as a short phrase ("a loopback
// address", "a private network address", "the cloud metadata address", ...). IPv6 forms that
// carry an IPv4 address (mapped, NAT64, 6to4, Teredo) are judged by that IPv4 address.
std::string refused_address(const boost::asio::ip::address& address);

// True for host names that mean this machine or a cloud metadata service whatever DNS says:
// localhost, *.localhost, metadata, metadata.google.internal, ... (any case, trailing dot).
bool refused_name(std::string_view host);

// A URL's host as written, when it is a numeric IPv4 address in any form inet_aton or a browser
// accepts (dotted, decimal "2130706433", octal "0177.0.0.1", hex "0x7f.1", short "127.1", one
// trailing dot) or an IPv6 literal with or without brackets: the address; else nullopt (a name
// to resolve).
std::optional<boost::asio::ip::address> numeric_host(std::string_view host);

struct ParsedUrl {
  std::string scheme;  // "http" or "https"
  std::string host;    // lower case; an IPv6 literal without its brackets
  std::uint16_t port = 0;
  std::string target;  // path and query, "/" when empty, unsafe bytes percent-encoded
};

// An absolute http or https URL: no credentials ("user:pass@host" is refused), port 80/443
// unless given, fragment dropped. Otherwise nullopt and `error` says why, as a sentence.
std::optional<ParsedUrl> parse_url(std::string_view url, std::string& error);

// "scheme://host[:port]target", the port only when not the scheme's default.
std::string format_url(const ParsedUrl& url);

// A redirect's Location resolved against the URL that answered it: absolute, scheme-relative
// ("//h/p"), absolute-path ("/p"), query-only ("?q") or relative ("p", "../p"). The result is a
// string for parse_url, which still has to accept it.
std::string resolve_location(const ParsedUrl& base, std::string_view location);

}  // namespace hermes::daemon::builtin
