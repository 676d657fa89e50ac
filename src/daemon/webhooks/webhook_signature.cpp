#include "daemon/webhooks/webhook_signature.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <charconv>

namespace hermes::daemon::webhooks {

namespace {

constexpr std::string_view kPrefix = "sha256=";
constexpr std::size_t kHexDigits = 64;

bool lower_hex(std::string_view text) {
  for (const char c : text) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

// The header's hex, lowercased; "" when it is not "sha256=" and 64 hex digits.
std::string hex_of(std::string_view header) {
  if (!header.starts_with(kPrefix)) return {};
  std::string hex(header.substr(kPrefix.size()));
  for (auto& c : hex) {
    if (c >= 'A' && c <= 'F') c = static_cast<char>(c - 'A' + 'a');
  }
  if (hex.size() != kHexDigits || !lower_hex(hex)) return {};
  return hex;
}

SignatureCheck compare(std::string_view secret, std::string_view signed_text,
                       std::string_view header) {
  if (header.empty()) return SignatureCheck::missing;
  const auto given = hex_of(header);
  if (given.empty()) return SignatureCheck::malformed;
  const auto expected = hmac_sha256_hex(secret, signed_text);
  // Constant time: how much of a guess matched must not show in how long the answer takes.
  return CRYPTO_memcmp(given.data(), expected.data(), kHexDigits) == 0 ? SignatureCheck::valid
                                                                       : SignatureCheck::mismatch;
}

}  // namespace

std::string hmac_sha256_hex(std::string_view key, std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest, &length);
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(length * 2);
  for (unsigned int i = 0; i < length; ++i) {
    hex.push_back(kDigits[digest[i] >> 4]);
    hex.push_back(kDigits[digest[i] & 0x0f]);
  }
  return hex;
}

SignatureCheck check_github_signature(std::string_view secret, std::string_view body,
                                      std::string_view header) {
  return compare(secret, body, header);
}

SignatureCheck check_generic_signature(std::string_view secret, std::string_view body,
                                       std::string_view signature_header,
                                       std::string_view timestamp_header, long long now) {
  if (signature_header.empty() || timestamp_header.empty()) return SignatureCheck::missing;
  long long timestamp = 0;
  const auto [end, ec] = std::from_chars(
      timestamp_header.data(), timestamp_header.data() + timestamp_header.size(), timestamp);
  if (ec != std::errc() || end != timestamp_header.data() + timestamp_header.size()) {
    return SignatureCheck::malformed;
  }
  std::string signed_text(timestamp_header);
  signed_text += '.';
  signed_text += body;
  const auto check = compare(secret, signed_text, signature_header);
  if (check != SignatureCheck::valid) return check;
  // Checked after the signature: a stale but genuine delivery is told apart from a forged one.
  const bool in_window =
      timestamp >= now - kGenericWindowSeconds && timestamp <= now + kGenericWindowSeconds;
  return in_window ? SignatureCheck::valid : SignatureCheck::stale;
}

std::string_view to_string(SignatureCheck check) {
  switch (check) {
    case SignatureCheck::valid:
      return "valid";
    case SignatureCheck::missing:
      return "missing";
    case SignatureCheck::malformed:
      return "malformed";
    case SignatureCheck::mismatch:
      return "mismatch";
    case SignatureCheck::stale:
      return "stale";
  }
  return "unknown";
}

}  // namespace hermes::daemon::webhooks
