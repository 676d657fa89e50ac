#pragma once

#include <chrono>

#include "daemon/providers/classification.hpp"
#include "daemon/providers/provider_error.hpp"

namespace hermes::providers {

// Turns a failed provider call into a failover reason and the decisions that follow from it.
// Pure: the same input and `now` always give the same verdict. Never throws on any body.
Classification classify(const ProviderError& error, std::chrono::system_clock::time_point now =
                                                        std::chrono::system_clock::now());

}  // namespace hermes::providers
