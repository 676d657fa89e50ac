#pragma once

#include <initializer_list>
#include <span>
#include <string_view>

namespace hermes::providers::phrases {

// Lowercase substrings seen in real provider errors, grouped by what they mean.
// The classifier matches them against a lowercased haystack of the error.
using List = std::span<const std::string_view>;

extern const List kContentPolicy;
extern const List kValidation;  // unknown/unsupported parameters
extern const List kMalformedTranscript;
extern const List kOverflow;
extern const List kBilling;
extern const List kUsageLimit;
extern const List kTransientSignal;  // "try again", "resets at", … next to a usage limit
extern const List kRateLimit;
extern const List kOverloaded;
extern const List kAuth;
extern const List kInvalidKey;  // a key rejected outright, whatever the status (Gemini: 400)
extern const List kPayloadTooLarge;
extern const List kProviderPolicy;
extern const List kModelNotFound;
extern const List kTimeout;
extern const List kConnect;      // DNS and connect failures
extern const List kCertificate;  // TLS verification (not transient)
extern const List kTlsTransient;
extern const List kDisconnect;
extern const List kBillingCodes;
extern const List kRateLimitCodes;
extern const List kModelNotFoundCodes;
extern const List kOverflowCodes;
extern const List kValidationCodes;

bool contains_any(std::string_view haystack, List phrases);

}  // namespace hermes::providers::phrases
