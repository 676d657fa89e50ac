#pragma once

#include <vector>

namespace hermes::daemon {

// From the first instruction of main until the event loop listens: SIGTERM, SIGINT, SIGUSR1
// and SIGHUP are remembered instead of killing the process with the default action (a stop
// sent 5 ms after exec must drain and exit 0, not die with 143). SIGPIPE is ignored for the
// whole life of the process: a closed stderr or socket is an error to handle, not a death.
void hold_early_signals();
// The signals held so far, in arrival order (each kind at most once); later ones are the
// event loop's.
std::vector<int> take_early_signals();

}  // namespace hermes::daemon
