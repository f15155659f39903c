#pragma once
// Launch declarations for the per-pixel passes (pixel/per_pixel.hpp functors run by
// kernels/for_each_pixel.cuh). Plain C++ so host/cuda/*.cpp (g++) can call them. Each throws
// reclaim::cuda_error naming the pass when the launch fails (RECLAIM_CHECK_KERNEL).
#include <cstddef>

#include <cuda_runtime_api.h>

#include "reclaim/pixel/band_pass.hpp"
#include "reclaim/pixel/change_pass.hpp"
#include "reclaim/pixel/fused.hpp"

namespace reclaim::kernels {

/// Runs compute_pixel over `pixels` pixels of a tile already on the device; does not synchronise.
void fused_indices_async(pixel::FusedParams const& params, float const* d_in, float* d_out, std::size_t pixels,
                         cudaStream_t stream);

/// Runs compute_change_pixel over `pixels` pixels of a tile already on the device; does not synchronise.
void change_async(pixel::ChangeParams const& params, float const* d_in, float* d_out, std::size_t pixels,
                  cudaStream_t stream);

/// Runs compute_band_pixel over `pixels` pixels; does not synchronise.
void band_async(pixel::BandParams const& params, float const* d_in, float* d_out, std::size_t pixels,
                cudaStream_t stream);

/// threshold_class of `pixels` values into d_out (classes of a zonal product by threshold);
/// does not synchronise.
void threshold_classes_async(float const* d_in, float* d_out, float threshold, std::size_t pixels,
                             cudaStream_t stream);

}  // namespace reclaim::kernels
