#pragma once
/** @file
 * @brief The simplest pass: band values as they are (calibrated, nodata -> NaN), plane k in to
 * plane k out: statistics of an existing raster (`reclaim zonal --raster`), the planes of a
 * composite (`reclaim composite`).
 */
#include <cstddef>
#include <cstdint>

#include "reclaim/pixel/reflectance.hpp"

namespace reclaim::pixel {

struct BandParams {
  BandCalibration calibration;  ///< scale 1, offset 0 for raw values; nodata from the file
  std::int32_t plane_count = 1;  ///< planes in = planes out, each calibrated alike
};

RECLAIM_HD inline void compute_band_pixel(BandParams const& p, float const* in, float* out, std::size_t stride,
                                          std::size_t i) noexcept {
  for (std::int32_t k = 0; k < p.plane_count; ++k) {
    std::size_t const at = static_cast<std::size_t>(k) * stride + i;
    out[at] = static_cast<float>(to_reflectance(in[at], p.calibration));
  }
}

}  // namespace reclaim::pixel
