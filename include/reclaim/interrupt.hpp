#pragma once
/** @file
 * @brief Stopping a run cleanly on SIGINT or SIGTERM: the signal handler only records the
 * request; the run checks it at each tile boundary (and GDAL's COG encoding at each of its
 * progress steps) and throws interrupted_error, whose unwinding removes every temporary and
 * releases the output lock. The CLI exits with 128 + the signal number (docs/cli.md).
 */
#include <atomic>
#include <stdexcept>
#include <string>

namespace reclaim {

/// A stop was requested by `signal` (SIGINT, SIGTERM) and the run stopped at a safe point.
struct interrupted_error : std::runtime_error {
  explicit interrupted_error(int sig)
      : std::runtime_error("interrupted by signal " + std::to_string(sig)), signal(sig) {}
  int signal;
};

namespace detail {
inline std::atomic<int> g_stop_signal{0};
static_assert(std::atomic<int>::is_always_lock_free, "the signal handler needs a lock-free flag");
}  // namespace detail

/// Records a stop request; async-signal-safe (called from the signal handler).
inline void request_stop(int signal) noexcept { detail::g_stop_signal.store(signal, std::memory_order_relaxed); }

/// The signal that asked the run to stop, or 0.
[[nodiscard]] inline int stop_requested() noexcept { return detail::g_stop_signal.load(std::memory_order_relaxed); }

/// Throws interrupted_error when a stop was requested.
inline void throw_if_stop_requested() {
  if (int const sig = stop_requested()) throw interrupted_error(sig);
}

}  // namespace reclaim
