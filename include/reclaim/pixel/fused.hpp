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
#include "reclaim/pixel/indices.hpp"
#include "reclaim/pixel/reflectance.hpp"

namespace reclaim::pixel {

/// Spectral band roles an index may use, in a fixed order.
enum class Band : std::uint8_t { blue, green, red, nir, swir1, swir2 };
inline constexpr int kBandCount = 6;

/// What the fused pass can write per pixel: the ten spectral indices, then the calibrated
/// surface reflectance of the visible bands (true-colour pictures; not part of "all").
enum class Index : std::uint8_t { ndvi, evi, savi, msavi2, ndwi, mndwi, nbr, ndmi, bsi, fvc, blue, green, red };
inline constexpr int kIndexCount = 10;       ///< spectral indices (ndvi .. fvc)
inline constexpr int kOutputKindCount = 13;  ///< indices plus reflectance outputs
inline constexpr int kMaxOutputs = 16;

RECLAIM_HD constexpr std::uint32_t band_bit(Band band) noexcept {
  return std::uint32_t{1} << static_cast<int>(band);
}

/// Bit set of the bands an index needs (bit i = Band i).
RECLAIM_HD constexpr std::uint32_t bands_needed(Index index) noexcept {
  std::uint32_t const blue = band_bit(Band::blue), green = band_bit(Band::green), red = band_bit(Band::red),
                      nir = band_bit(Band::nir), swir1 = band_bit(Band::swir1), swir2 = band_bit(Band::swir2);
  switch (index) {
    case Index::ndvi: case Index::savi: case Index::msavi2: case Index::fvc: return nir | red;
    case Index::evi: return nir | red | blue;
    case Index::ndwi: return green | nir;
    case Index::mndwi: return green | swir1;
    case Index::nbr: return nir | swir2;
    case Index::ndmi: return nir | swir1;
    case Index::bsi: return blue | red | nir | swir1;
    case Index::blue: return blue;
    case Index::green: return green;
    case Index::red: return red;
  }
  return 0;
}

/// Reflectances of one pixel; NaN for a band that is invalid or not read.
struct Reflectance {
  double band[kBandCount];
  RECLAIM_HD double operator[](Band b) const noexcept { return band[static_cast<int>(b)]; }
};

/// Tunable index parameters (defaults documented in docs/indices.md).
struct IndexParams {
  double savi_l = 0.5;
  double fvc_ndvi_soil = 0.05;
  double fvc_ndvi_veg = 0.86;
};

RECLAIM_HD inline double index_value(Index index, Reflectance const& r, IndexParams const& p) noexcept {
  switch (index) {
    case Index::ndvi: return ndvi(r[Band::nir], r[Band::red]);
    case Index::evi: return evi(r[Band::nir], r[Band::red], r[Band::blue]);
    case Index::savi: return savi(r[Band::nir], r[Band::red], p.savi_l);
    case Index::msavi2: return msavi2(r[Band::nir], r[Band::red]);
    case Index::ndwi: return ndwi(r[Band::green], r[Band::nir]);
    case Index::mndwi: return mndwi(r[Band::green], r[Band::swir1]);
    case Index::nbr: return nbr(r[Band::nir], r[Band::swir2]);
    case Index::ndmi: return ndmi(r[Band::nir], r[Band::swir1]);
    case Index::bsi: return bsi(r[Band::blue], r[Band::red], r[Band::nir], r[Band::swir1]);
    case Index::fvc: return fvc(ndvi(r[Band::nir], r[Band::red]), p.fvc_ndvi_soil, p.fvc_ndvi_veg);
    case Index::blue: return r[Band::blue];
    case Index::green: return r[Band::green];
    case Index::red: return r[Band::red];
  }
  return nan_d();
}

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
 * @param in   input planes, plane k at in + k * plane_stride
 * @param out  output planes, plane k at out + k * plane_stride
 */
RECLAIM_HD inline void compute_pixel(FusedParams const& p, float const* in, float* out,
                                     std::size_t plane_stride, std::size_t i) noexcept {
  Reflectance r;
  bool const clear = epoch_reflectance(p, in, plane_stride, i, r);
  for (int k = 0; k < p.output_count; ++k)
    out[k * plane_stride + i] = clear ? static_cast<float>(index_value(p.outputs[k], r, p.index_params)) : nan_f();
}

}  // namespace reclaim::pixel
