#pragma once

namespace hermes::daemon {

// What a stored history is made of, as SessionTables::load_messages counts it: its visible rows
// (before summaries) and how many of them the newest summary covers. Gateways sharing one
// database compare it with what they cached instead of reading the whole history again.
struct HistoryShape {
  long long rows = 0;
  long long covers = 0;
  bool operator==(const HistoryShape&) const = default;
};

// The stored history is the cached one plus rows appended after it: same summary, more rows,
// all of them past what the summary covers.
inline bool extends(const HistoryShape& cached, const HistoryShape& stored) {
  return stored.covers == cached.covers && stored.rows > cached.rows &&
         cached.rows >= cached.covers;
}

}  // namespace hermes::daemon
