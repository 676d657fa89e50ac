#pragma once

#include <string>
#include <string_view>

// Who sent a webhook: the signature its route's secret makes over the raw body. Pure functions
// (HMAC-SHA256 from OpenSSL, compared in constant time), table-tested with GitHub's published
// test vector.
namespace hermes::daemon::webhooks {

enum class SignatureCheck {
  valid,
  missing,    // no signature header (or, generic, no timestamp)
  malformed,  // not "sha256=" and 64 hex digits (or, generic, a timestamp that is no number)
  mismatch,   // well formed, but not what the secret makes of this body
  stale,      // generic: the timestamp is more than kGenericWindowSeconds from now
};

// How far a generic webhook's timestamp may be from the gateway's clock, either way.
inline constexpr long long kGenericWindowSeconds = 300;

// Lowercase hex of HMAC-SHA256(key, data).
std::string hmac_sha256_hex(std::string_view key, std::string_view data);

// GitHub: X-Hub-Signature-256 is "sha256=" and the hex HMAC of the raw body.
SignatureCheck check_github_signature(std::string_view secret, std::string_view body,
                                      std::string_view header);

// Generic: X-Webhook-Signature is "sha256=" and the hex HMAC of "<X-Webhook-Timestamp>.<body>",
// the timestamp (unix seconds) within kGenericWindowSeconds of `now` (a replay later fails).
SignatureCheck check_generic_signature(std::string_view secret, std::string_view body,
                                       std::string_view signature_header,
                                       std::string_view timestamp_header, long long now);

std::string_view to_string(SignatureCheck check);

}  // namespace hermes::daemon::webhooks
