#pragma once

#include <algorithm>
#include <fstream>
#include <string>
#include <vector>

namespace hermes::bench {

// The value at fraction `p` (0.5: median) of `values`.
inline double percentile(std::vector<double> values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const auto index = static_cast<std::size_t>(p * static_cast<double>(values.size()));
  return values[std::min(values.size() - 1, index)];
}

inline double median(std::vector<double> values) {
  return percentile(std::move(values), 0.5);
}

// Resident set size of a process, from /proc; -1 when it is gone.
inline long rss_kib(int pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.starts_with("VmRSS:")) return std::atol(line.c_str() + 6);
  }
  return -1;
}

}  // namespace hermes::bench
