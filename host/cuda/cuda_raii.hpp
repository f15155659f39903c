#pragma once
// Move-only owners of CUDA resources (rmm/cuco style). Destructors never throw.
#include <cuda_runtime_api.h>

#include <algorithm>
#include <cstddef>
#include <cstdlib>
#include <span>
#include <string>
#include <string_view>
#include <utility>

#include "reclaim/error.hpp"

#define RECLAIM_CUDA_TRY(call)                                                                            \
  do {                                                                                                    \
    cudaError_t const reclaim_status_ = (call);                                                           \
    if (reclaim_status_ != cudaSuccess)                                                                   \
      throw ::reclaim::cuda_error(std::string(#call " failed at " __FILE__ ":" RECLAIM_STRINGIFY(__LINE__) ": ") + \
                                  cudaGetErrorString(reclaim_status_));                                   \
  } while (0)

/** @brief Checks the launch that just happened on `stream`: RECLAIM_CHECK_KERNEL(stream) or
 * RECLAIM_CHECK_KERNEL(stream, "kernel name"). Takes (and so clears) the last launch error and
 * throws reclaim::cuda_error naming the kernel and the call site. With RECLAIM_CUDA_SYNC=1 in
 * the environment it also synchronises `stream`, so an error while the kernel runs is reported
 * by the launch that caused it (docs/cli.md, "Debugging the CUDA backend"). */
#define RECLAIM_CHECK_KERNEL(...) \
  ::reclaim::cuda::check_kernel(__FILE__ ":" RECLAIM_STRINGIFY(__LINE__), __VA_ARGS__)

namespace reclaim::cuda {

/// RECLAIM_CUDA_SYNC set to anything but "" or "0": synchronise after every launch (read once).
[[nodiscard]] inline bool sync_after_launch() noexcept {
  static bool const on = [] {
    char const* v = std::getenv("RECLAIM_CUDA_SYNC");
    return v != nullptr && *v != '\0' && std::string_view(v) != "0";
  }();
  return on;
}

/// RECLAIM_CHECK_KERNEL's body (`where`: file:line of the launch).
inline void check_kernel(char const* where, cudaStream_t stream, char const* kernel = nullptr) {
  std::string const what = kernel ? std::string("kernel ") + kernel : std::string("kernel");
  cudaError_t status = cudaGetLastError();
  if (status != cudaSuccess)
    throw cuda_error(what + " failed to launch at " + where + ": " + cudaGetErrorName(status) + ": " +
                     cudaGetErrorString(status));
  if (!sync_after_launch()) return;
  status = cudaStreamSynchronize(stream);
  if (status != cudaSuccess) {
    (void)cudaGetLastError();  // clear it where it can be cleared (a sticky error stays)
    throw cuda_error(what + " launched at " + where + " failed (RECLAIM_CUDA_SYNC=1): " + cudaGetErrorName(status) +
                     ": " + cudaGetErrorString(status));
  }
}

class Stream {
 public:
  Stream() { RECLAIM_CUDA_TRY(cudaStreamCreateWithFlags(&m_stream, cudaStreamNonBlocking)); }
  Stream(Stream const&) = delete;
  Stream& operator=(Stream const&) = delete;
  Stream(Stream&& o) noexcept : m_stream(std::exchange(o.m_stream, nullptr)) {}
  ~Stream() {
    if (m_stream) cudaStreamDestroy(m_stream);
  }
  [[nodiscard]] cudaStream_t get() const noexcept { return m_stream; }
  void synchronize() const { RECLAIM_CUDA_TRY(cudaStreamSynchronize(m_stream)); }
  /// Waits for the queued work and ignores its status: on an error path, before host buffers
  /// that queued copies and kernels still use are released (the first error is what is thrown).
  void synchronize_quietly() const noexcept {
    if (m_stream) (void)cudaStreamSynchronize(m_stream);
  }

 private:
  cudaStream_t m_stream = nullptr;
};

template <class T>
class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  DeviceBuffer(std::size_t count, cudaStream_t stream) : m_count(count), m_stream(stream) {
    if (count) RECLAIM_CUDA_TRY(cudaMallocAsync(reinterpret_cast<void**>(&m_data), count * sizeof(T), stream));
  }
  DeviceBuffer(DeviceBuffer const&) = delete;
  DeviceBuffer& operator=(DeviceBuffer const&) = delete;
  DeviceBuffer(DeviceBuffer&& o) noexcept
      : m_data(std::exchange(o.m_data, nullptr)), m_count(std::exchange(o.m_count, 0)), m_stream(o.m_stream) {}
  DeviceBuffer& operator=(DeviceBuffer&& o) noexcept {
    std::swap(m_data, o.m_data);
    std::swap(m_count, o.m_count);
    std::swap(m_stream, o.m_stream);
    return *this;
  }
  ~DeviceBuffer() {
    if (m_data) cudaFreeAsync(m_data, m_stream);
  }
  [[nodiscard]] T* data() const noexcept { return m_data; }
  [[nodiscard]] std::size_t size() const noexcept { return m_count; }

 private:
  T* m_data = nullptr;
  std::size_t m_count = 0;
  cudaStream_t m_stream = nullptr;
};

/// Grows `buffer` to hold `host` (by half again at least, so slowly growing tiles do not
/// reallocate every time) and queues the copy on `stream`. A pageable `host` is staged before
/// the call returns, so the caller may reuse it at once.
template <class T>
void upload_async(DeviceBuffer<T>& buffer, std::span<T const> host, cudaStream_t stream) {
  if (host.empty()) return;
  if (buffer.size() < host.size())
    buffer = DeviceBuffer<T>(std::max(host.size(), buffer.size() + buffer.size() / 2), stream);
  RECLAIM_CUDA_TRY(cudaMemcpyAsync(buffer.data(), host.data(), host.size_bytes(), cudaMemcpyHostToDevice, stream));
}

/// Makes `device` current for the calling thread (CUDA's current device is per thread).
inline void set_device(int device) { RECLAIM_CUDA_TRY(cudaSetDevice(device)); }

}  // namespace reclaim::cuda
