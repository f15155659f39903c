#pragma once
/** @file
 * @brief The per-pixel passes as functors of the pixel index, run by both drivers: the CPU
 * backend calls for_each_pixel (a plain loop), the CUDA backend hands the same functor to
 * thrust::for_each_n over a counting iterator (kernels/for_each_pixel.cuh). Each functor only
 * binds a pass's parameters and planes to its formula (fused.hpp, change_pass.hpp,
 * band_pass.hpp, zonal_items.hpp), so each formula stays written once.
 *
 * The functors are trivially copyable (they are kernel arguments) and hold plain pointers:
 * `in` and `out` are tile planes `stride` floats apart (plane k at in + k * stride); the fused
 * and change functors' output planes lie `out_stride` apart (the CUDA backend: the same
 * stride; the CPU driver: a small staging buffer, host/core/cpu_backend.cpp). The big
 * parameter blocks (FusedParams ~0.8 KB, ChangeParams ~6 KB) are held by pointer, to host
 * memory on the CPU and to a device copy on the GPU: CUB's for_each agent copies its functor
 * into every thread, which for a functor holding ChangeParams by value is a 6 KB local-memory
 * stack frame per thread (ptxas -v), against none with the pointer.
 */
#include <cstddef>

#include "reclaim/pixel/band_pass.hpp"
#include "reclaim/pixel/change_pass.hpp"
#include "reclaim/pixel/composite.hpp"
#include "reclaim/pixel/fused.hpp"
#include "reclaim/pixel/hd.hpp"
#include "reclaim/pixel/zonal_items.hpp"

namespace reclaim::pixel {

/// compute_pixel: the fused pass of one epoch (mask -> reflectance -> every requested index).
struct FusedPixel {
  FusedParams const* params;
  float const* in;
  float* out;
  std::size_t stride;
  std::size_t out_stride;
  RECLAIM_HD void operator()(std::size_t i) const noexcept { compute_pixel(*params, in, out, stride, out_stride, i); }
};

/// compute_change_pixel: the two-epoch change pass.
struct ChangePixel {
  ChangeParams const* params;
  float const* in;
  float* out;
  std::size_t stride;
  std::size_t out_stride;
  RECLAIM_HD void operator()(std::size_t i) const noexcept {
    compute_change_pixel(*params, in, out, stride, out_stride, i);
  }
};

/// compute_band_pixel: calibrated band values (plane k in, plane k out); BandParams is small,
/// so it is held by value.
struct BandPixel {
  BandParams params;
  float const* in;
  float* out;
  std::size_t stride;
  RECLAIM_HD void operator()(std::size_t i) const noexcept { compute_band_pixel(params, in, out, stride, i); }
};

/// threshold_class of one value plane into a class plane (zonal products "by threshold").
struct ThresholdClassPixel {
  float const* in;
  float* out;
  float threshold;
  RECLAIM_HD void operator()(std::size_t i) const noexcept { out[i] = threshold_class(in[i], threshold); }
};

/// composite_pixel: one season of observations to one composite (composite.hpp). CompositeParams
/// is 80 bytes, so it is held by value. `obs` holds observation_count * kBandCount planes and
/// `out` composite_output_planes(params) planes, both `stride` floats apart.
struct CompositePixel {
  CompositeParams params;
  float const* obs;
  float* out;
  std::size_t stride;
  RECLAIM_HD void operator()(std::size_t i) const noexcept { composite_pixel(params, obs, out, stride, i); }
};

/// The CPU driver: f(0), f(1), ..., f(n - 1), in order on the calling thread.
template <class F>
inline void for_each_pixel(std::size_t n, F const& f) noexcept {
  for (std::size_t i = 0; i < n; ++i) f(i);
}

}  // namespace reclaim::pixel
