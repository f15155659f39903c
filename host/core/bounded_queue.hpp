#pragma once
// A closable blocking FIFO. Capacity is bounded by construction in the scheduler: only
// as many items as there are buffer slots ever exist, so push never needs to block.
#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>

namespace reclaim::detail {

template <class T>
class BlockingQueue {
 public:
  void push(T value) {
    {
      std::lock_guard lock(m_mutex);
      m_items.push_back(std::move(value));
    }
    m_ready.notify_one();
  }

  /// Blocks until an item arrives, or returns nullopt once the queue is closed and empty.
  std::optional<T> pop() {
    std::unique_lock lock(m_mutex);
    m_ready.wait(lock, [this] { return !m_items.empty() || m_closed; });
    if (m_items.empty()) return std::nullopt;
    T value = std::move(m_items.front());
    m_items.pop_front();
    return value;
  }

  void close() {
    {
      std::lock_guard lock(m_mutex);
      m_closed = true;
    }
    m_ready.notify_all();
  }

 private:
  std::mutex m_mutex;
  std::condition_variable m_ready;
  std::deque<T> m_items;
  bool m_closed = false;
};

}  // namespace reclaim::detail
