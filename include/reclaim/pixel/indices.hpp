#pragma once
/** @file
 * @brief Spectral indices, each written once for the CPU backend and the CUDA kernels.
 *
 * Inputs are surface reflectances (unitless, nominally 0..1). Every function returns
 * NaN where the index is undefined: a NaN input (nodata or masked band), a zero
 * denominator, or a negative square-root argument. NaN is the nodata value of the
 * Float32 outputs.
 *
 * The arithmetic is double precision: normalised differences of small reflectances
 * (dark water, Landsat's -0.2 offset) lose several digits in double, and the products
 * are stored as Float32 anyway, so the only rounding a user sees is that last one
 * (relative error <= 2^-24). No function may be contracted into FMA (see
 * CMakeLists.txt) so that both backends round identically.
 */
#include <cmath>

#include "reclaim/pixel/hd.hpp"

namespace reclaim::pixel {

/// (a - b) / (a + b); NaN when a + b == 0. The shape of most normalised differences.
RECLAIM_HD inline double normalized_difference(double a, double b) noexcept {
  double const s = a + b;
  return s == 0.0 ? nan_d() : (a - b) / s;
}

/// NDVI = (NIR - Red) / (NIR + Red)  (Rouse et al. 1974).
RECLAIM_HD inline double ndvi(double nir, double red) noexcept { return normalized_difference(nir, red); }

/// EVI = 2.5 (NIR - Red) / (NIR + 6 Red - 7.5 Blue + 1)  (Huete et al. 2002, MODIS coefficients).
RECLAIM_HD inline double evi(double nir, double red, double blue) noexcept {
  double const d = nir + 6.0 * red - 7.5 * blue + 1.0;
  return d == 0.0 ? nan_d() : 2.5 * (nir - red) / d;
}

/// SAVI = (1 + L) (NIR - Red) / (NIR + Red + L), L = 0.5 by default  (Huete 1988).
RECLAIM_HD inline double savi(double nir, double red, double l = 0.5) noexcept {
  double const d = nir + red + l;
  return d == 0.0 ? nan_d() : (1.0 + l) * (nir - red) / d;
}

/// MSAVI2 = (2 NIR + 1 - sqrt((2 NIR + 1)^2 - 8 (NIR - Red))) / 2  (Qi et al. 1994).
/// NaN when the square-root argument is negative (only for unphysical reflectances).
RECLAIM_HD inline double msavi2(double nir, double red) noexcept {
  double const a = 2.0 * nir + 1.0;
  double const disc = a * a - 8.0 * (nir - red);
  return disc < 0.0 ? nan_d() : (a - sqrt(disc)) * 0.5;
}

/// NDWI = (Green - NIR) / (Green + NIR)  (McFeeters 1996), open water > 0.
RECLAIM_HD inline double ndwi(double green, double nir) noexcept { return normalized_difference(green, nir); }

/// MNDWI = (Green - SWIR1) / (Green + SWIR1)  (Xu 2006).
RECLAIM_HD inline double mndwi(double green, double swir1) noexcept { return normalized_difference(green, swir1); }

/// NBR = (NIR - SWIR2) / (NIR + SWIR2)  (Key & Benson 2006).
RECLAIM_HD inline double nbr(double nir, double swir2) noexcept { return normalized_difference(nir, swir2); }

/// NDMI = (NIR - SWIR1) / (NIR + SWIR1)  (Gao 1996; Wilson & Sader 2002).
RECLAIM_HD inline double ndmi(double nir, double swir1) noexcept { return normalized_difference(nir, swir1); }

/// BSI = ((SWIR1 + Red) - (NIR + Blue)) / ((SWIR1 + Red) + (NIR + Blue))  (Rikimaru et al. 2002).
RECLAIM_HD inline double bsi(double blue, double red, double nir, double swir1) noexcept {
  return normalized_difference(swir1 + red, nir + blue);
}

/// FVC = clamp((NDVI - NDVI_soil) / (NDVI_veg - NDVI_soil), 0, 1)  (Gutman & Ignatov 1998,
/// linear dimidiate pixel model). NaN when NDVI is NaN or the end-members are equal.
RECLAIM_HD inline double fvc(double ndvi_value, double ndvi_soil, double ndvi_veg) noexcept {
  double const span = ndvi_veg - ndvi_soil;
  if (span == 0.0 || is_nan(ndvi_value)) return nan_d();
  double const f = (ndvi_value - ndvi_soil) / span;
  return f < 0.0 ? 0.0 : (f > 1.0 ? 1.0 : f);
}

}  // namespace reclaim::pixel
