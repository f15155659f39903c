#pragma once
/** @file
 * @brief The simplest pass: one band's values as they are (calibrated, nodata -> NaN), for
 * statistics of an existing raster (`reclaim zonal --raster`).
 */
#include <cstddef>

#include "reclaim/pixel/reflectance.hpp"

namespace reclaim::pixel {

struct BandParams {
  BandCalibration calibration;  ///< scale 1, offset 0 for raw values; nodata from the file
};

RECLAIM_HD inline void compute_band_pixel(BandParams const& p, float const* in, float* out, std::size_t i) noexcept {
  out[i] = static_cast<float>(to_reflectance(in[i], p.calibration));
}

}  // namespace reclaim::pixel
