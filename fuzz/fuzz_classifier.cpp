// The error classifier, its body and Retry-After readers, and the hint: any status, headers
// and body a provider (or something in front of it) can send.
#include <cstddef>
#include <cstdint>
#include <string>

#include "daemon/providers/classifier.hpp"
#include "daemon/providers/hint.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  hermes::providers::ProviderError error;
  error.status = 100 + (data[0] | (data[1] << 8)) % 500;
  std::string rest(reinterpret_cast<const char*>(data + 2), size - 2);
  // "name: value\n" lines up to a blank line are headers, the rest is the body.
  const auto blank = rest.find("\n\n");
  std::string head = blank == std::string::npos ? std::string() : rest.substr(0, blank);
  error.body = blank == std::string::npos ? rest : rest.substr(blank + 2);
  for (std::size_t at = 0; at < head.size();) {
    const auto end = std::min(head.find('\n', at), head.size());
    const auto line = head.substr(at, end - at);
    if (const auto colon = line.find(':'); colon != std::string::npos) {
      error.headers.emplace_back(line.substr(0, colon), line.substr(colon + 1));
    }
    at = end + 1;
  }
  error.provider = "fuzz";
  const auto classification = hermes::providers::classify(error);
  const auto text = hermes::providers::hint(classification);
  if (text.empty()) __builtin_trap();  // every failure gets a sentence
  return 0;
}
