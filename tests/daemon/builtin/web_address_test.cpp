#include "daemon/builtin/web_address.hpp"

#include <gtest/gtest.h>

namespace hermes::daemon::builtin {
namespace {

struct Verdict {
  const char* address;
  const char* why;  // "" when allowed
};

std::string refused(const char* text) {
  return refused_address(boost::asio::ip::make_address(text));
}

TEST(RefusedAddress, IPv4Ranges) {
  const Verdict cases[] = {
      {"0.0.0.0", "an unspecified address"},
      {"0.1.2.3", "a reserved address"},
      {"10.0.0.1", "a private network address"},
      {"10.255.255.255", "a private network address"},
      {"100.64.0.1", "a carrier-grade NAT address"},
      {"100.127.255.255", "a carrier-grade NAT address"},
      {"100.128.0.1", ""},
      {"100.63.255.255", ""},
      {"100.100.100.200", "the cloud metadata address"},
      {"127.0.0.1", "a loopback address"},
      {"127.255.255.254", "a loopback address"},
      {"169.254.169.254", "the cloud metadata address"},
      {"169.254.0.1", "a link-local address"},
      {"172.15.255.255", ""},
      {"172.16.0.1", "a private network address"},
      {"172.31.255.255", "a private network address"},
      {"172.32.0.1", ""},
      {"192.0.0.8", "a reserved address"},
      {"192.0.2.1", "a documentation address"},
      {"192.168.1.1", "a private network address"},
      {"198.18.0.1", "a benchmarking address"},
      {"198.19.255.255", "a benchmarking address"},
      {"198.20.0.1", ""},
      {"224.0.0.1", "a multicast address"},
      {"239.255.255.250", "a multicast address"},
      {"240.0.0.1", "a reserved address"},
      {"255.255.255.254", "a reserved address"},
      {"255.255.255.255", "a broadcast address"},
      {"93.184.216.34", ""},
      {"8.8.8.8", ""},
      {"1.1.1.1", ""},
      {"11.0.0.1", ""},
      {"223.255.255.255", ""},
  };
  for (const auto& c : cases) EXPECT_EQ(refused(c.address), c.why) << c.address;
}

TEST(RefusedAddress, IPv6Ranges) {
  const Verdict cases[] = {
      {"::", "an unspecified address"},
      {"::1", "a loopback address"},
      {"fc00::1", "a private network address"},
      {"fd12:3456::1", "a private network address"},
      {"fd00:ec2::254", "the cloud metadata address"},
      {"fd00:ec2::253", "a private network address"},
      {"fe80::1", "a link-local address"},
      {"febf::1", "a link-local address"},
      {"fec0::1", "a site-local address"},
      {"ff02::1", "a multicast address"},
      {"ff05::1:3", "a multicast address"},
      {"100::1", "a reserved address"},
      {"4000::1", "a reserved address"},
      {"2001:db8::1", "a documentation address"},
      {"3fff::1", "a documentation address"},
      {"2001:2::1", "a benchmarking address"},
      {"2606:2800:220:1::1", ""},
      {"2001:4860:4860::8888", ""},
      {"2a00:1450:4001::1", ""},
  };
  for (const auto& c : cases) EXPECT_EQ(refused(c.address), c.why) << c.address;
}

TEST(RefusedAddress, IPv6FormsCarryingAnIPv4AddressAreJudgedByIt) {
  const Verdict cases[] = {
      {"::ffff:127.0.0.1", "a loopback address"},
      {"::ffff:7f00:1", "a loopback address"},
      {"::ffff:169.254.169.254", "the cloud metadata address"},
      {"::ffff:10.0.0.1", "a private network address"},
      {"::ffff:0.0.0.0", "an unspecified address"},
      {"::ffff:8.8.8.8", ""},
      {"64:ff9b::127.0.0.1", "a loopback address"},
      {"64:ff9b::a9fe:a9fe", "the cloud metadata address"},
      {"64:ff9b::8.8.8.8", ""},
      {"64:ff9b:1::1", "a private network address"},
      {"2002:7f00:1::1", "a loopback address"},
      {"2002:c0a8:101::1", "a private network address"},
      {"2002:808:808::1", ""},
      // Teredo keeps the client's address inverted: ~127.0.0.1 is 80ff:fffe.
      {"2001:0:4136:e378:8000:63bf:80ff:fffe", "a loopback address"},
      // IPv4-compatible (deprecated): the IPv4 address names the reason, and is never allowed.
      {"::127.0.0.1", "a loopback address"},
      {"::10.0.0.1", "a private network address"},
      {"::8.8.8.8", "a reserved address"},
      {"::ffff:0:127.0.0.1", "a loopback address"},
  };
  for (const auto& c : cases) EXPECT_EQ(refused(c.address), c.why) << c.address;
}

TEST(RefusedName, LocalAndMetadataNames) {
  for (const char* name : {"localhost", "LOCALHOST", "localhost.", "foo.localhost", "a.b.localhost",
                           "metadata", "metadata.google.internal", "Metadata.Google.Internal.",
                           "instance-data", "ip6-localhost"}) {
    EXPECT_TRUE(refused_name(name)) << name;
  }
  for (const char* name : {"example.com", "localhost.example.com", "notlocalhost", "metadata.com",
                           "google.internal", ""}) {
    EXPECT_FALSE(refused_name(name)) << name;
  }
}

struct Numeric {
  const char* host;
  const char* address;  // nullptr when the host is a name
};

TEST(NumericHost, EveryFormInetAtonAccepts) {
  const Numeric cases[] = {
      {"127.0.0.1", "127.0.0.1"},
      {"2130706433", "127.0.0.1"},
      {"0177.0.0.1", "127.0.0.1"},
      {"017700000001", "127.0.0.1"},
      {"0x7f000001", "127.0.0.1"},
      {"0X7F000001", "127.0.0.1"},
      {"0x7f.1", "127.0.0.1"},
      {"0x7f.0.0.0x1", "127.0.0.1"},
      {"127.1", "127.0.0.1"},
      {"127.0.1", "127.0.0.1"},
      {"10.1", "10.0.0.1"},
      {"169.254.43518", "169.254.169.254"},
      {"0", "0.0.0.0"},
      {"0x", "0.0.0.0"},
      {"127.0.0.1.", "127.0.0.1"},
      {"8.8.8.8", "8.8.8.8"},
      {"4294967295", "255.255.255.255"},
      {"::1", "::1"},
      {"[::1]", "::1"},
      {"[::ffff:127.0.0.1]", "::ffff:127.0.0.1"},
      {"::ffff:127.0.0.1", "::ffff:127.0.0.1"},
      {"[fe80::1%25lo]", "fe80::1"},
      {"example.com", nullptr},
      {"localhost", nullptr},
      {"1.2.3.4.5", nullptr},
      {"4294967296", nullptr},
      {"256.0.0.1", nullptr},
      {"1.256.0.1", nullptr},
      {"1.2.65536", nullptr},
      {"08.0.0.1", nullptr},
      {"0xg", nullptr},
      {"1..1", nullptr},
      {"127.0.0.1..", nullptr},
      {"1.2.3.com", nullptr},
      {"123abc", nullptr},
      {"", nullptr},
      {"[]", nullptr},
      {"[127.0.0.1]", nullptr},
      {"[::1", nullptr},
  };
  for (const auto& c : cases) {
    const auto address = numeric_host(c.host);
    if (c.address == nullptr) {
      EXPECT_FALSE(address) << c.host << " read as " << address->to_string();
      continue;
    }
    ASSERT_TRUE(address) << c.host;
    auto text = address->to_string();
    text = text.substr(0, text.find('%'));  // the scope id's spelling depends on the host
    EXPECT_EQ(text, c.address) << c.host;
  }
}

TEST(NumericHost, ObfuscatedLoopbackIsStillRefused) {
  for (const char* host : {"2130706433", "0177.0.0.1", "0x7f.1", "127.1", "[::ffff:7f00:1]",
                           "017700000001", "0x7f000001"}) {
    const auto address = numeric_host(host);
    ASSERT_TRUE(address) << host;
    EXPECT_EQ(refused_address(*address), "a loopback address") << host;
  }
  EXPECT_EQ(refused_address(*numeric_host("10.1")), "a private network address");
}

TEST(ParseUrl, AcceptedUrls) {
  struct Case {
    const char* url;
    const char* scheme;
    const char* host;
    std::uint16_t port;
    const char* target;
  };
  const Case cases[] = {
      {"http://example.com", "http", "example.com", 80, "/"},
      {"https://example.com", "https", "example.com", 443, "/"},
      {"HTTPS://Example.COM/Path?Q=1", "https", "example.com", 443, "/Path?Q=1"},
      {"http://example.com:8080/a/b", "http", "example.com", 8080, "/a/b"},
      {"http://example.com:/a", "http", "example.com", 80, "/a"},
      {"https://example.com?q=1", "https", "example.com", 443, "/?q=1"},
      {"https://example.com/p#frag", "https", "example.com", 443, "/p"},
      {"https://example.com#frag", "https", "example.com", 443, "/"},
      {"https://example.com/a b?c d", "https", "example.com", 443, "/a%20b?c%20d"},
      {"https://example.com/caf\xc3\xa9", "https", "example.com", 443, "/caf%C3%A9"},
      {"https://example.com/a\\b?c\\d", "https", "example.com", 443, "/a/b?c%5Cd"},
      {"  https://example.com/x \n", "https", "example.com", 443, "/x"},
      {"http://[::1]:8080/x", "http", "::1", 8080, "/x"},
      {"http://[2606:2800:220:1::1]/", "http", "2606:2800:220:1::1", 80, "/"},
      {"http://127.0.0.1:65535", "http", "127.0.0.1", 65535, "/"},
      {"http://my_host.example/", "http", "my_host.example", 80, "/"},
  };
  for (const auto& c : cases) {
    std::string error;
    const auto url = parse_url(c.url, error);
    ASSERT_TRUE(url) << c.url << ": " << error;
    EXPECT_EQ(url->scheme, c.scheme) << c.url;
    EXPECT_EQ(url->host, c.host) << c.url;
    EXPECT_EQ(url->port, c.port) << c.url;
    EXPECT_EQ(url->target, c.target) << c.url;
  }
}

TEST(ParseUrl, RefusedUrlsSayWhy) {
  struct Case {
    const char* url;
    const char* error_mentions;
  };
  const Case cases[] = {
      {"ftp://example.com/f", "not ftp:"},
      {"file:///etc/passwd", "not file:"},
      {"gopher://127.0.0.1:70/", "not gopher:"},
      {"javascript:alert(1)", "absolute URL"},
      {"example.com/page", "absolute URL"},
      {"//example.com/page", "absolute URL"},
      {"", "absolute URL"},
      {"http://user:pass@example.com/", "credentials"},
      {"http://user@example.com/", "credentials"},
      {"http://example.com@127.0.0.1/", "credentials"},
      {"http://evil.com\\@127.0.0.1/", "credentials"},
      {"http://evil.com\\.127.0.0.1/", "backslash"},
      {"http://example.com:0/", "port"},
      {"http://example.com:65536/", "port"},
      {"http://example.com:80a/", "port"},
      {"http://example.com:-1/", "port"},
      {"http://example.com:99999999999999999999/", "port"},
      {"http:///path", "no host"},
      {"http://", "no host"},
      {"http://:80/", "no host"},
      {"http://::1/", "brackets"},
      {"http://[::1/", "IPv6"},
      {"http://[example.com]/", "IPv6"},
      {"http://[::1]x/", "after its IPv6"},
      {"http://exa mple.com/", "not allowed"},
      {"http://exa%6dple.com/", "not allowed"},
      {"http://b\xc3\xbc\x63her.de/", "punycode"},
      {"http://example.com/a\r\nHost: evil", "control"},
      {"http://example.com/a\tb", "control"},
  };
  for (const auto& c : cases) {
    std::string error;
    EXPECT_FALSE(parse_url(c.url, error)) << c.url;
    EXPECT_NE(error.find(c.error_mentions), std::string::npos) << c.url << ": " << error;
  }
  std::string error;
  EXPECT_FALSE(parse_url("http://example.com/" + std::string(9000, 'a'), error));
  EXPECT_NE(error.find("longer"), std::string::npos) << error;
}

TEST(ParseUrl, FormatsBack) {
  std::string error;
  EXPECT_EQ(format_url(*parse_url("HTTP://Example.com:80/a?b", error)), "http://example.com/a?b");
  EXPECT_EQ(format_url(*parse_url("https://example.com:8443", error)), "https://example.com:8443/");
  EXPECT_EQ(format_url(*parse_url("http://[::1]:81/x", error)), "http://[::1]:81/x");
  // A zone is kept as the resolver reads it, and escaped again in the URL.
  const auto zoned = parse_url("http://[FE80::1%25Eth0]/", error);
  ASSERT_TRUE(zoned) << error;
  EXPECT_EQ(zoned->host, "fe80::1%Eth0");
  EXPECT_EQ(format_url(*zoned), "http://[fe80::1%25Eth0]/");
}

TEST(ResolveLocation, AgainstTheCurrentUrl) {
  std::string error;
  const auto base = *parse_url("https://example.com/a/b/c?q=1", error);
  const std::pair<const char*, const char*> cases[] = {
      {"https://other.org/x", "https://other.org/x"},
      {"HTTP://other.org", "HTTP://other.org"},
      {"ftp://other.org/x", "ftp://other.org/x"},  // parse_url refuses it next
      {"//cdn.example.net/img", "https://cdn.example.net/img"},
      {"/root", "https://example.com/root"},
      {"/root?x=1#top", "https://example.com/root?x=1"},
      {"/a/./b/../c", "https://example.com/a/c"},
      {"d", "https://example.com/a/b/d"},
      {"d/", "https://example.com/a/b/d/"},
      {"./d", "https://example.com/a/b/d"},
      {"../d", "https://example.com/a/d"},
      {"../../d", "https://example.com/d"},
      {"../../../../d", "https://example.com/d"},
      {"..", "https://example.com/a/"},
      {".", "https://example.com/a/b/"},
      {"?z=2", "https://example.com/a/b/c?z=2"},
      {"d?p=../x", "https://example.com/a/b/d?p=../x"},
      {"", "https://example.com/a/b/c?q=1"},
      {"#frag", "https://example.com/a/b/c?q=1"},
      {"  /spaced  ", "https://example.com/spaced"},
      {"\\\\evil.example/x", "https://evil.example/x"},
      {"/\\evil.example/x", "https://evil.example/x"},
  };
  for (const auto& [location, expected] : cases) {
    EXPECT_EQ(resolve_location(base, location), expected) << location;
  }
}

TEST(ResolveLocation, KeepsPortsAndBracketsAndRootBases) {
  std::string error;
  const auto v6 = *parse_url("http://[::1]:8080/dir/page", error);
  EXPECT_EQ(resolve_location(v6, "other"), "http://[::1]:8080/dir/other");
  const auto root = *parse_url("http://example.com", error);
  EXPECT_EQ(resolve_location(root, "x/y"), "http://example.com/x/y");
  EXPECT_EQ(resolve_location(root, "../x"), "http://example.com/x");
  // A redirect into a refused address resolves fine: the caller checks it like any URL.
  const auto next = parse_url(resolve_location(root, "http://169.254.169.254/latest"), error);
  ASSERT_TRUE(next);
  EXPECT_EQ(refused_address(*numeric_host(next->host)), "the cloud metadata address");
}

}  // namespace
}  // namespace hermes::daemon::builtin
