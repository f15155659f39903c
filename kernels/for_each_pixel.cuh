#pragma once
// The one GPU driver of the per-pixel functors (include/reclaim/pixel/per_pixel.hpp), the
// device twin of pixel::for_each_pixel: f(i) for every i in [0, n), on `stream`, without
// synchronising. Thrust picks the launch shape (a 64-bit index, as libcuspatial does);
// par_nosync keeps it from synchronising the stream after the launch.
#include <cuda_runtime_api.h>

#include <cstddef>
#include <string>

#include <thrust/for_each.h>
#include <thrust/iterator/counting_iterator.h>
#include <thrust/system/cuda/execution_policy.h>
#include <thrust/system_error.h>

#include "host/cuda/cuda_raii.hpp"
#include "reclaim/error.hpp"

namespace reclaim::kernels {

/// Queues f(0) .. f(n - 1) on `stream`; `name` names the pass in errors (RECLAIM_CHECK_KERNEL).
template <class F>
void for_each_pixel_async(char const* name, std::size_t n, F const& f, cudaStream_t stream) {
  if (n == 0) return;
  try {
    thrust::for_each_n(thrust::cuda::par_nosync.on(stream), thrust::counting_iterator<std::size_t>(0), n, f);
  } catch (thrust::system_error const& e) {
    (void)cudaGetLastError();
    throw cuda_error(std::string("kernel ") + name + " (thrust::for_each_n) failed: " + e.what());
  }
  RECLAIM_CHECK_KERNEL(stream, name);
}

}  // namespace reclaim::kernels
