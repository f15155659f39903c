#pragma once
// Launch declaration for the per-pixel composite pass (pixel/composite.hpp). Plain C++ so
// host/cuda/*.cpp (g++) can call it.
#include <cstddef>

#include <cuda_runtime_api.h>

#include "reclaim/pixel/composite.hpp"

namespace reclaim::kernels {

/** @brief Runs pixel::composite_pixel (the CompositePixel functor of per_pixel.hpp, which the
 * CPU runs with for_each_pixel) over `pixels` pixels of a tile already on the device:
 * observation o, band b at d_obs + (o * kBandCount + b) * pixels, plane k of the composite to
 * d_out + k * pixels (composite_output_planes(params) planes). Does not synchronise. Throws
 * input_error for parameters that composite_params_error refuses, before launching, and
 * cuda_error naming the pass when the launch fails. */
void composite_async(pixel::CompositeParams const& params, float const* d_obs, float* d_out, std::size_t pixels,
                     cudaStream_t stream);

}  // namespace reclaim::kernels
