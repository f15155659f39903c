#pragma once
// Move-only owners of CUDA resources (rmm/cuco style). Destructors never throw.
#include <cuda_runtime_api.h>

#include <cstddef>
#include <string>
#include <utility>

#include "reclaim/error.hpp"

#define RECLAIM_CUDA_TRY(call)                                                                            \
  do {                                                                                                    \
    cudaError_t const reclaim_status_ = (call);                                                           \
    if (reclaim_status_ != cudaSuccess)                                                                   \
      throw ::reclaim::cuda_error(std::string(#call " failed at " __FILE__ ":" RECLAIM_STRINGIFY(__LINE__) ": ") + \
                                  cudaGetErrorString(reclaim_status_));                                   \
  } while (0)

/// Checks the launch that just happened on `stream` (launch configuration errors).
#define RECLAIM_CHECK_KERNEL(stream) RECLAIM_CUDA_TRY(cudaPeekAtLastError())

namespace reclaim::cuda {

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

/// Makes `device` current for the calling thread (CUDA's current device is per thread).
inline void set_device(int device) { RECLAIM_CUDA_TRY(cudaSetDevice(device)); }

}  // namespace reclaim::cuda
