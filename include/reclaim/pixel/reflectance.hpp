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
/// (EVI's denominator) instead of nodata.
RECLAIM_HD inline double to_reflectance(float dn, BandCalibration const& c) noexcept {
  if (!(dn - dn == 0.f)) return nan_d();  // NaN or +-inf (a Float32/Float64 input): nodata
  if (c.has_nodata && dn == c.nodata) return nan_d();
  if (c.has_saturation && dn >= c.saturation) return nan_d();
  return (static_cast<double>(dn) + c.dn_offset) * c.scale + c.offset;
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
