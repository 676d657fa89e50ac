#include "daemon/agent/turn_end.hpp"

namespace hermes::daemon {

TurnEnd decide_turn_end(const TurnFacts& f) {
  TurnEnd end;
  // One compaction and one retry, never a loop; only before any tool round (a retry then
  // would run the tools again) and only where there is a stored history to shorten.
  if (!f.ok && f.context_overflow && !f.has_rounds && f.compactable && !f.retried &&
      !f.interrupted && !f.client_gone) {
    end.retry_after_compaction = true;
    end.mark = TurnMark::done;
    end.tell = TurnTell::nothing;
    return end;
  }
  if (f.ok) return end;
  if (f.client_gone && f.stopped_by_user) {
    end.mark = TurnMark::stopped;
    end.tell = TurnTell::nothing;  // the stop is answered by its own reply
    if (f.said_something) end.partial_status = "stopped";
    return end;
  }
  if (f.client_gone) {
    end.mark = TurnMark::interrupted;
    end.tell = TurnTell::nothing;
    end.partial_status = "interrupted";  // kept, sent upstream again only if it said something
    return end;
  }
  if (f.interrupted) {
    end.mark = f.has_rounds ? TurnMark::resumable : TurnMark::interrupted;
    end.tell = f.has_rounds ? TurnTell::nothing : TurnTell::interrupted;
    return end;
  }
  end.tell = TurnTell::failure;
  return end;
}

std::string_view to_string(TurnMark mark) {
  switch (mark) {
    case TurnMark::done:
      return "done";
    case TurnMark::stopped:
      return "stopped";
    case TurnMark::interrupted:
      return "interrupted";
    case TurnMark::resumable:
      return "resumable";
  }
  return "done";
}

}  // namespace hermes::daemon
