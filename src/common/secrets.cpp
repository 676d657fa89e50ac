#include "common/secrets.hpp"

#include <algorithm>
#include <memory>
#include <mutex>

namespace hermes {

namespace {

std::mutex secrets_mutex;
std::shared_ptr<const std::vector<std::string>> known;  // longest first

}  // namespace

void add_known_secrets(std::vector<std::string> secrets) {
  std::erase_if(secrets, [](const std::string& s) { return s.size() < 8; });
  std::lock_guard lock(secrets_mutex);
  if (known) secrets.insert(secrets.end(), known->begin(), known->end());
  // Longest first: a key that contains another is masked whole.
  std::sort(secrets.begin(), secrets.end(),
            [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
  secrets.erase(std::unique(secrets.begin(), secrets.end()), secrets.end());
  known = std::make_shared<const std::vector<std::string>>(std::move(secrets));
}

std::string mask_known_secrets(std::string_view text) {
  std::shared_ptr<const std::vector<std::string>> list;
  {
    std::lock_guard lock(secrets_mutex);
    list = known;
  }
  std::string out(text);
  if (!list) return out;
  for (const auto& secret : *list) {
    for (auto at = out.find(secret); at != std::string::npos; at = out.find(secret, at)) {
      out.replace(at, secret.size(), "[REDACTED]");
      at += 10;
    }
  }
  return out;
}

}  // namespace hermes
