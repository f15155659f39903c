#pragma once
// Launch declarations for the per-pixel trend kernel. Plain C++ so host/cuda/*.cpp (g++) can call it.
#include <cstddef>

#include <cuda_runtime_api.h>

#include "reclaim/pixel/trend.hpp"

namespace reclaim::kernels {

/** @brief Runs pixel::compute_trend_pixel over `pixels` pixels of a tile already on the device:
 * `params.epoch_count` float epoch planes at d_in + e * pixels, the requested products to
 * d_out + params.plane[o] * pixels. Does not synchronise. Float output for products; double
 * output for parity tests (the values before the Float32 rounding). Throws logic_error for an
 * epoch count outside 0..kMaxEpochs before launching, cuda_error naming the kernel when the
 * launch fails (RECLAIM_CHECK_KERNEL). */
void trend_async(pixel::TrendParams const& params, float const* d_in, float* d_out, std::size_t pixels,
                 cudaStream_t stream);
void trend_async(pixel::TrendParams const& params, float const* d_in, double* d_out, std::size_t pixels,
                 cudaStream_t stream);

}  // namespace reclaim::kernels
