#pragma once
/** @file
 * @brief The fused two-epoch pass: both epochs' reflectances -> their indices -> the change
 * class, dNDVI and any per-epoch index the user asked for, from one read of each pixel.
 */
#include <cstddef>
#include <cstdint>

#include "reclaim/pixel/change.hpp"
#include "reclaim/pixel/fused.hpp"

namespace reclaim::pixel {

/** @brief Parameters of the change pass (trivially copyable, passed by value to kernels).
 *
 * `before` and `after` describe each epoch's planes in the combined input tile (the after
 * epoch's planes follow the before epoch's) and list the per-epoch indices to write.
 * Outputs: plane 0 the class (a whole number stored in float; 0 = nodata), plane 1 dNDVI,
 * then before.outputs, then after.outputs.
 */
struct ChangeParams {
  FusedParams before;
  FusedParams after;
  ChangeRules rules;

  [[nodiscard]] RECLAIM_HD int output_count() const noexcept { return 2 + before.output_count + after.output_count; }
  [[nodiscard]] RECLAIM_HD int input_plane_count() const noexcept {
    return before.input_plane_count + after.input_plane_count;
  }
};

/// The indices the change rules read, for one epoch (NaN where the pixel is masked).
RECLAIM_HD inline EpochIndices epoch_indices(bool clear, Reflectance const& r, IndexParams const& ip) noexcept {
  EpochIndices e;
  if (!clear) return e;
  e.ndvi = index_value(Index::ndvi, r, ip);
  e.bsi = index_value(Index::bsi, r, ip);
  e.mndwi = index_value(Index::mndwi, r, ip);
  e.fvc = index_value(Index::fvc, r, ip);
  return e;
}

RECLAIM_HD inline void compute_change_pixel(ChangeParams const& p, float const* in, float* out,
                                            std::size_t plane_stride, std::size_t i) noexcept {
  Reflectance rb, ra;
  bool const clear_before = epoch_reflectance(p.before, in, plane_stride, i, rb);
  bool const clear_after = epoch_reflectance(p.after, in, plane_stride, i, ra);
  EpochIndices const eb = epoch_indices(clear_before, rb, p.before.index_params);
  EpochIndices const ea = epoch_indices(clear_after, ra, p.after.index_params);
  out[i] = static_cast<float>(change_class(p.rules, eb, ea));
  out[plane_stride + i] = static_cast<float>(dndvi(eb.ndvi, ea.ndvi));
  int k = 2;
  for (int o = 0; o < p.before.output_count; ++o, ++k)
    out[k * plane_stride + i] =
        clear_before ? static_cast<float>(index_value(p.before.outputs[o], rb, p.before.index_params)) : nan_f();
  for (int o = 0; o < p.after.output_count; ++o, ++k)
    out[k * plane_stride + i] =
        clear_after ? static_cast<float>(index_value(p.after.outputs[o], ra, p.after.index_params)) : nan_f();
}

}  // namespace reclaim::pixel
