#pragma once
/** @file
 * @brief Digital numbers to surface reflectance, and quality-mask decoding.
 */
#include <cstdint>

#include "reclaim/pixel/hd.hpp"

namespace reclaim::pixel {

/** @brief How one band's digital numbers become reflectance.
 *
 * reflectance = (DN + dn_offset) * scale + offset
 *   Sentinel-2 L2A: dn_offset = BOA_ADD_OFFSET (0, or -1000 from baseline 04.00), scale = 1e-4
 *   Landsat C2 L2:  dn_offset = 0, scale = 2.75e-5, offset = -0.2
 * DN equal to nodata, or at/above the saturation value, is invalid (NaN).
 */
struct BandCalibration {
  double dn_offset = 0.0;
  double scale = 1.0;
  double offset = 0.0;
  float nodata = 0.f;  ///< compared with the DN as read (a float holds every 16-bit DN exactly)
  float saturation = 0.f;
  bool has_nodata = false;
  bool has_saturation = false;
};

/// Reflectance of one DN in double precision (see indices.hpp for why); NaN when invalid
/// (NaN or infinite, nodata, saturated): an infinity would otherwise turn some indices finite
/// (EVI's denominator) instead of nodata. Without a branch, in double throughout (float -> double is exact, so the comparisons are
/// the float ones), so that a loop over a plane vectorises (the composite reader's): a NaN
/// nodata never equals a value, +inf saturation is above every finite one.
RECLAIM_HD inline double to_reflectance(float dn, BandCalibration const& c) noexcept {
  double const d = static_cast<double>(dn);
  double const nodata = c.has_nodata ? static_cast<double>(c.nodata) : nan_d();
  double const saturation = c.has_saturation ? static_cast<double>(c.saturation) : inf_d();
  bool const valid = (d - d == 0.0) & (d != nodata) & (d < saturation);  // d - d: not NaN, not +-inf
  double const r = (d + c.dn_offset) * c.scale + c.offset;
  return valid ? r : nan_d();
}

/** @brief Which values of a quality band mark a pixel unusable.
 *
 * Two forms, either or both: a set of class values below 256 (Sentinel-2 SCL, generic
 * class masks) and a bit mask tested with AND (Landsat QA_PIXEL).
 */
struct MaskRule {
  std::uint64_t classes[4] = {0, 0, 0, 0};
  std::uint32_t any_bits = 0;

  RECLAIM_HD void add_class(std::uint32_t v) noexcept {
    if (v < 256) classes[v >> 6] |= std::uint64_t{1} << (v & 63u);
  }
};

/// True when the quality value marks the pixel as masked. A quality value that is NaN,
/// negative, infinite or beyond 32 bits is masked (checked before the integer conversion,
/// whose out-of-range result differs between x86 and CUDA).
RECLAIM_HD inline bool is_masked(float quality, MaskRule const& rule) noexcept {
  if (!(quality >= 0.f && quality < 4294967296.f)) return true;
  auto const v = static_cast<std::uint32_t>(quality);
  if ((v & rule.any_bits) != 0u) return true;
  return v < 256u && ((rule.classes[v >> 6] >> (v & 63u)) & 1u) != 0u;
}

}  // namespace reclaim::pixel
