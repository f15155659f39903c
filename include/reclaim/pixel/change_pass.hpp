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

/** @brief The standardisation of the change vector: per epoch and band, the mean and 1/sd of the
 * band's reflectance over the pixels clear in both epochs (host/core/change_vector.cpp). Bands
 * with use[b] == 0 are left out (absent in either epoch, or constant).
 */
struct ChangeVector {
  std::int32_t enabled = 0;
  std::int32_t use[kBandCount] = {};
  double mean[2][kBandCount] = {};
  double inv_sd[2][kBandCount] = {};
};

/** @brief Change-vector magnitude of the standardised bands (Malila 1980's change vector
 * analysis, on z-scores per epoch and band so that DN, TOA and surface reflectance give the same
 * value):  sqrt( sum_b ( (a_b - mean_a,b) / sd_a,b - (x_b - mean_x,b) / sd_x,b )^2 )  over the
 * used bands, x before and a after. NaN when a used band is NaN in either epoch. Summed in band
 * order, in double, without FMA (both backends give the same bits).
 */
RECLAIM_HD inline double change_magnitude(ChangeVector const& cv, Reflectance const& before,
                                          Reflectance const& after) noexcept {
  double sum = 0.0;
  for (int b = 0; b < kBandCount; ++b) {
    if (cv.use[b] == 0) continue;
    double const z_before = (before.band[b] - cv.mean[0][b]) * cv.inv_sd[0][b];
    double const z_after = (after.band[b] - cv.mean[1][b]) * cv.inv_sd[1][b];
    double const d = z_after - z_before;
    sum += d * d;
  }
  return sqrt(sum);
}

/// Sector codes of the change direction (change_direction).
inline constexpr int kDirectionGreening = 1;    ///< NIR up, red down
inline constexpr int kDirectionBrightening = 2; ///< both up
inline constexpr int kDirectionBrowning = 3;    ///< NIR down, red up: vegetation lost, soil exposed
inline constexpr int kDirectionDarkening = 4;   ///< both down: water, shadow, moisture

/** @brief The direction of the change vector as a sector code (Malila 1980's sector coding), in
 * the standardised red-NIR plane: the signs of the after-minus-before z-scores of NIR and red
 * (zero counts as up). Comparisons only, so both backends agree exactly. NaN when red or NIR is
 * not in the vector or NaN in either epoch.
 */
RECLAIM_HD inline double change_direction(ChangeVector const& cv, Reflectance const& before,
                                          Reflectance const& after) noexcept {
  int const red = static_cast<int>(Band::red), nir = static_cast<int>(Band::nir);
  if (cv.use[red] == 0 || cv.use[nir] == 0) return nan_d();
  double const d_red = (after.band[red] - cv.mean[1][red]) * cv.inv_sd[1][red] -
                       (before.band[red] - cv.mean[0][red]) * cv.inv_sd[0][red];
  double const d_nir = (after.band[nir] - cv.mean[1][nir]) * cv.inv_sd[1][nir] -
                       (before.band[nir] - cv.mean[0][nir]) * cv.inv_sd[0][nir];
  if (is_nan(d_red) || is_nan(d_nir)) return nan_d();
  if (d_nir >= 0.0) return d_red < 0.0 ? kDirectionGreening : kDirectionBrightening;
  return d_red >= 0.0 ? kDirectionBrowning : kDirectionDarkening;
}

/** @brief Parameters of the change pass (trivially copyable, passed by value to kernels).
 *
 * `before` and `after` describe each epoch's planes in the combined input tile (the after
 * epoch's planes follow the before epoch's) and list the per-epoch indices to write.
 * Outputs: plane 0 the class (a whole number stored in float; 0 = nodata), plane 1 dNDVI,
 * then before.outputs, then after.outputs, then the change magnitude and direction when write_magnitude.
 * The magnitude is computed when vector.enabled (the rules read it, or it is written).
 */
struct ChangeParams {
  FusedParams before;
  FusedParams after;
  ChangeRules rules;
  ChangeVector vector;
  std::int32_t write_magnitude = 0;

  [[nodiscard]] RECLAIM_HD int magnitude_plane() const noexcept { return 2 + before.output_count + after.output_count; }
  [[nodiscard]] RECLAIM_HD int output_count() const noexcept { return magnitude_plane() + (write_magnitude ? 2 : 0); }
  [[nodiscard]] RECLAIM_HD int input_plane_count() const noexcept {
    return before.input_plane_count + after.input_plane_count;
  }
};

/// The indices the change rules read, for one epoch (NaN where the pixel is masked, and for
/// an index no rule reads: computing it would cost time and change no class).
RECLAIM_HD inline EpochIndices epoch_indices(bool clear, Reflectance const& r, IndexParams const& ip,
                                             ChangeRules const& rules) noexcept {
  EpochIndices e;
  if (!clear) return e;
  e.ndvi = index_value(Index::ndvi, r, ip);
  if (rules.needs_bsi()) e.bsi = index_value(Index::bsi, r, ip);
  if (rules.needs_mndwi()) e.mndwi = index_value(Index::mndwi, r, ip);
  if (rules.needs_fvc()) e.fvc = index_value(Index::fvc, r, ip);
  return e;
}

/// Output `index` of one epoch: the NDVI the rules already hold is reused (the same formula on
/// the same reflectances, so the same bits), any other index is computed.
RECLAIM_HD inline double epoch_output(Index index, bool clear, Reflectance const& r, EpochIndices const& e,
                                      IndexParams const& ip) noexcept {
  if (!clear) return nan_d();
  return index == Index::ndvi ? e.ndvi : index_value(index, r, ip);
}

/// Pixel i of a tile: input plane k at in + k * in_stride, output plane k at out + k * out_stride.
RECLAIM_HD inline void compute_change_pixel(ChangeParams const& p, float const* in, float* out, std::size_t in_stride,
                                            std::size_t out_stride, std::size_t i) noexcept {
  Reflectance rb{}, ra{};  // zeroed: GCC cannot see that a masked epoch's bands are never read
  bool const clear_before = epoch_reflectance(p.before, in, in_stride, i, rb);
  bool const clear_after = epoch_reflectance(p.after, in, in_stride, i, ra);
  EpochIndices const eb = epoch_indices(clear_before, rb, p.before.index_params, p.rules);
  EpochIndices const ea = epoch_indices(clear_after, ra, p.after.index_params, p.rules);
  double const magnitude = p.vector.enabled && clear_before && clear_after ? change_magnitude(p.vector, rb, ra) : nan_d();
  out[i] = static_cast<float>(change_class(p.rules, eb, ea, magnitude));
  out[out_stride + i] = static_cast<float>(dndvi(eb.ndvi, ea.ndvi));
  int k = 2;
  for (int o = 0; o < p.before.output_count; ++o, ++k)
    out[k * out_stride + i] =
        static_cast<float>(epoch_output(p.before.outputs[o], clear_before, rb, eb, p.before.index_params));
  for (int o = 0; o < p.after.output_count; ++o, ++k)
    out[k * out_stride + i] =
        static_cast<float>(epoch_output(p.after.outputs[o], clear_after, ra, ea, p.after.index_params));
  if (p.write_magnitude) {
    out[k * out_stride + i] = static_cast<float>(magnitude);
    out[(k + 1) * out_stride + i] =
        p.vector.enabled && clear_before && clear_after ? static_cast<float>(change_direction(p.vector, rb, ra)) : nan_f();
  }
}

}  // namespace reclaim::pixel
