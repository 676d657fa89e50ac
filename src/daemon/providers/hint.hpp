#pragma once

#include <chrono>
#include <string>

#include "daemon/providers/classification.hpp"

namespace hermes::providers {

// One plain sentence for the person in the chat: what went wrong and what to do.
// Never contains provider text, so it can never leak a secret or a raw body.
std::string hint(const Classification& classification);

// "about 45 seconds", "about 3 minutes", "about 2 hours" (rounded up).
std::string describe_wait(std::chrono::milliseconds wait);

}  // namespace hermes::providers
