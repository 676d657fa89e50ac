#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <utility>

namespace hermes::providers {

// Lets whoever owns a turn end it early (the client hung up; later /stop): each layer doing
// I/O for the turn subscribes how to stop its part (cancel a backoff timer, close the upstream
// connection), and abort() runs them all once. Loop-thread only.
class AbortSignal {
 public:
  // Unsubscribes when destroyed; must not outlive the signal.
  class Subscription {
   public:
    Subscription() = default;
    Subscription(AbortSignal* signal, std::uint64_t id) : signal_(signal), id_(id) {}
    Subscription(Subscription&& other) noexcept
        : signal_(std::exchange(other.signal_, nullptr)), id_(other.id_) {}
    Subscription& operator=(Subscription&& other) noexcept {
      std::swap(signal_, other.signal_);
      std::swap(id_, other.id_);
      return *this;
    }
    ~Subscription() {
      if (signal_) signal_->handlers_.erase(id_);
    }

   private:
    AbortSignal* signal_ = nullptr;
    std::uint64_t id_ = 0;
  };

  // Already aborted: `handler` runs at once.
  [[nodiscard]] Subscription subscribe(std::function<void()> handler) {
    if (aborted_) {
      handler();
      return {};
    }
    const auto id = next_id_++;
    handlers_.emplace(id, std::move(handler));
    return {this, id};
  }

  // Why a turn was ended early: the client hung up, or the user asked it to stop (/stop, or
  // a new message in busy_input_mode interrupt), which the chat answers and marks "stopped".
  enum class Reason { hang_up, stop };

  void abort(Reason reason = Reason::hang_up) {
    if (aborted_) return;
    aborted_ = true;
    reason_ = reason;
    auto handlers = std::move(handlers_);  // a handler may unsubscribe others meanwhile
    handlers_.clear();
    for (auto& [id, handler] : handlers) handler();
  }

  bool aborted() const { return aborted_; }
  bool stopped_by_user() const { return aborted_ && reason_ == Reason::stop; }

 private:
  std::map<std::uint64_t, std::function<void()>> handlers_;
  std::uint64_t next_id_ = 1;
  bool aborted_ = false;
  Reason reason_ = Reason::hang_up;
};

}  // namespace hermes::providers
