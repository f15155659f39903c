#pragma once
/** @file
 * @brief The fused per-pixel pass: quality mask -> reflectance -> every requested index.
 *
 * `compute_pixel` is the single definition both backends run: CpuBackend loops over a
 * tile calling it, the CUDA kernel calls it from a grid-stride loop.
 */
#include <cstddef>
#include <cstdint>

#include "reclaim/pixel/hd.hpp"
#include "reclaim/pixel/index_table.hpp"
#include "reclaim/pixel/indices.hpp"
#include "reclaim/pixel/reflectance.hpp"

namespace reclaim::pixel {

/** @brief Everything a backend needs to run the fused pass on a tile (trivially copyable,
 * passed by value to kernels).
 *
 * Input planes hold DNs as float, in the order the tile source reads them: plane
 * `band_plane[b]` for band b (-1: not read), `mask_plane` for the quality band (-1: none).
 */
struct FusedParams {
  BandCalibration calibration[kBandCount];
  std::int32_t band_plane[kBandCount] = {-1, -1, -1, -1, -1, -1};
  std::int32_t mask_plane = -1;
  MaskRule mask;
  IndexParams index_params;
  Index outputs[kMaxOutputs] = {};
  std::int32_t output_count = 0;
  std::int32_t input_plane_count = 0;
};

/** @brief Reflectances of pixel i of one epoch described by `p` (its band planes,
 * calibration and quality mask). Returns false when the quality band masks the pixel.
 */
RECLAIM_HD inline bool epoch_reflectance(FusedParams const& p, float const* in, std::size_t plane_stride, std::size_t i,
                                         Reflectance& r) noexcept {
  if (p.mask_plane >= 0 && is_masked(in[p.mask_plane * plane_stride + i], p.mask)) return false;
  for (int b = 0; b < kBandCount; ++b) {
    int const plane = p.band_plane[b];
    r.band[b] = plane < 0 ? nan_d() : to_reflectance(in[plane * plane_stride + i], p.calibration[b]);
  }
  return true;
}

/** @brief Computes every requested index for pixel i of a tile.
 *
 * @param in   input planes, plane k at in + k * in_stride
 * @param out  output planes, plane k at out + k * out_stride
 */
RECLAIM_HD inline void compute_pixel(FusedParams const& p, float const* in, float* out, std::size_t in_stride,
                                     std::size_t out_stride, std::size_t i) noexcept {
  Reflectance r;
  bool const clear = epoch_reflectance(p, in, in_stride, i, r);
  for (int k = 0; k < p.output_count; ++k)
    out[k * out_stride + i] = clear ? static_cast<float>(index_value(p.outputs[k], r, p.index_params)) : nan_f();
}

/** @brief Index `index` of pixel i of one epoch, as compute_pixel and the change pass write it
 * (NaN where the quality band masks the pixel): for a value needed at a few pixels only, such as
 * the true-colour samples of the pictures (SiteCropObserver), without a pass output plane. */
RECLAIM_HD inline float epoch_index_value(bool clear, Reflectance const& r, Index index, IndexParams const& ip) noexcept {
  return clear ? static_cast<float>(index_value(index, r, ip)) : nan_f();
}
/// The same from the tile's input planes (pixel i).
RECLAIM_HD inline float epoch_index_value(FusedParams const& p, Index index, float const* in, std::size_t plane_stride,
                                          std::size_t i) noexcept {
  Reflectance r;
  bool const clear = epoch_reflectance(p, in, plane_stride, i, r);
  return epoch_index_value(clear, r, index, p.index_params);
}

}  // namespace reclaim::pixel
