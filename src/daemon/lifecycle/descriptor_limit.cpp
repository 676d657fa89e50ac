#include "daemon/lifecycle/descriptor_limit.hpp"

#include <sys/resource.h>

#include <algorithm>

namespace hermes::daemon {

long raise_descriptor_limit() {
  rlimit files{};
  if (::getrlimit(RLIMIT_NOFILE, &files) != 0) return -1;
  const rlim_t wanted = std::min<rlim_t>(files.rlim_max, 1048576);
  if (files.rlim_cur < wanted) {
    files.rlim_cur = wanted;
    ::setrlimit(RLIMIT_NOFILE, &files);
    ::getrlimit(RLIMIT_NOFILE, &files);
  }
  return static_cast<long>(files.rlim_cur);
}

}  // namespace hermes::daemon
