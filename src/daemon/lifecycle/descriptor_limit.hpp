#pragma once

namespace hermes::daemon {

// Raises the soft RLIMIT_NOFILE to the hard limit (at most 1,048,576): the default soft 1,024
// is a few hundred idle clients. Returns the soft limit now in force.
long raise_descriptor_limit();

}  // namespace hermes::daemon
