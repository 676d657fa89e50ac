#pragma once

#include <string>
#include <utility>
#include <vector>

namespace hermes::providers {

// How a call failed below HTTP, when it did.
enum class TransportFailure {
  none,     // an HTTP response arrived; see `status`
  timeout,  // a deadline passed (connect, write or read)
  connection_refused,
  connection_reset,  // reset or closed by the peer mid-exchange
  dns_failure,
  tls_verification,  // the certificate chain or host name did not verify
  tls_other,         // handshake/alert/record errors that may be transient
  malformed_body,    // a response arrived but could not be understood
  truncated_body,    // the response ended before its declared length
  aborted,           // our side gave up (the client hung up): not the provider's doing
};

// The size of the conversation being sent, for overflow heuristics.
struct SessionSize {
  long approx_tokens = 0;
  long context_length = 0;  // 0: unknown
  long messages = 0;
};

// Everything the classifier may look at. Headers names are matched case-insensitively.
struct ProviderError {
  int status = 0;  // HTTP status; 0 when the failure is a transport one
  TransportFailure transport = TransportFailure::none;
  std::string transport_detail;  // e.g. the system error text
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::string provider;  // configured name, e.g. "openai", "openrouter", "anthropic"
  std::string model;
  SessionSize session;
};

}  // namespace hermes::providers
