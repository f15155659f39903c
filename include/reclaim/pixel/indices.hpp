#pragma once
/** @file
 * @brief Spectral indices, each written once for the CPU backend and the CUDA kernels.
 *
 * Inputs are surface reflectances (unitless, nominally 0..1). Every function returns
 * NaN where the index is undefined: a NaN input (nodata or masked band), a zero
 * denominator, or a negative square-root argument. NaN is the nodata value of the
 * Float32 outputs. No function may be contracted into FMA (see CMakeLists.txt) so
 * that both backends round identically.
 */
#include <cmath>

#include "reclaim/pixel/hd.hpp"

namespace reclaim::pixel {

/// (a - b) / (a + b); NaN when a + b == 0. The shape of most normalised differences.
RECLAIM_HD inline float normalized_difference(float a, float b) noexcept {
  float const s = a + b;
  return s == 0.f ? nan_f() : (a - b) / s;
}

/// NDVI = (NIR - Red) / (NIR + Red)  (Rouse et al. 1974).
RECLAIM_HD inline float ndvi(float nir, float red) noexcept { return normalized_difference(nir, red); }

/// EVI = 2.5 (NIR - Red) / (NIR + 6 Red - 7.5 Blue + 1)  (Huete et al. 2002, MODIS coefficients).
RECLAIM_HD inline float evi(float nir, float red, float blue) noexcept {
  float const d = nir + 6.f * red - 7.5f * blue + 1.f;
  return d == 0.f ? nan_f() : 2.5f * (nir - red) / d;
}

/// SAVI = (1 + L) (NIR - Red) / (NIR + Red + L), L = 0.5 by default  (Huete 1988).
RECLAIM_HD inline float savi(float nir, float red, float l = 0.5f) noexcept {
  float const d = nir + red + l;
  return d == 0.f ? nan_f() : (1.f + l) * (nir - red) / d;
}

/// MSAVI2 = (2 NIR + 1 - sqrt((2 NIR + 1)^2 - 8 (NIR - Red))) / 2  (Qi et al. 1994).
/// NaN when the square-root argument is negative (only for unphysical reflectances).
RECLAIM_HD inline float msavi2(float nir, float red) noexcept {
  float const a = 2.f * nir + 1.f;
  float const disc = a * a - 8.f * (nir - red);
  return disc < 0.f ? nan_f() : (a - sqrtf(disc)) * 0.5f;
}

/// NDWI = (Green - NIR) / (Green + NIR)  (McFeeters 1996), open water > 0.
RECLAIM_HD inline float ndwi(float green, float nir) noexcept { return normalized_difference(green, nir); }

/// MNDWI = (Green - SWIR1) / (Green + SWIR1)  (Xu 2006).
RECLAIM_HD inline float mndwi(float green, float swir1) noexcept { return normalized_difference(green, swir1); }

/// NBR = (NIR - SWIR2) / (NIR + SWIR2)  (Key & Benson 2006).
RECLAIM_HD inline float nbr(float nir, float swir2) noexcept { return normalized_difference(nir, swir2); }

/// NDMI = (NIR - SWIR1) / (NIR + SWIR1)  (Gao 1996; Wilson & Sader 2002).
RECLAIM_HD inline float ndmi(float nir, float swir1) noexcept { return normalized_difference(nir, swir1); }

/// BSI = ((SWIR1 + Red) - (NIR + Blue)) / ((SWIR1 + Red) + (NIR + Blue))  (Rikimaru et al. 2002).
RECLAIM_HD inline float bsi(float blue, float red, float nir, float swir1) noexcept {
  return normalized_difference(swir1 + red, nir + blue);
}

/// FVC = clamp((NDVI - NDVI_soil) / (NDVI_veg - NDVI_soil), 0, 1)  (Gutman & Ignatov 1998,
/// linear dimidiate pixel model). NaN when NDVI is NaN or the end-members are equal.
RECLAIM_HD inline float fvc(float ndvi_value, float ndvi_soil, float ndvi_veg) noexcept {
  float const span = ndvi_veg - ndvi_soil;
  if (span == 0.f || is_nan(ndvi_value)) return nan_f();
  float const f = (ndvi_value - ndvi_soil) / span;
  return f < 0.f ? 0.f : (f > 1.f ? 1.f : f);
}

}  // namespace reclaim::pixel
