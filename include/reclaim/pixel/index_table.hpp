#pragma once
/** @file
 * @brief The index table: one line per output of the fused pass (name, bands it reads,
 * value range, formula text, and the call of its formula), and everything derived from it.
 *
 * Adding an index is its formula (a `RECLAIM_HD` function in indices.hpp) plus one line in
 * `RECLAIM_INDEX_TABLE`, among the other `index` lines (before the reflectance lines); see
 * docs/indices.md. From the table come the `Index` enum, `kIndexCount`, `bands_needed`,
 * `index_value` (the one switch that dispatches to the formulas, usable on the device) and
 * `kIndexTable` (names, formula text and value ranges, for the host: names as users type
 * them, band descriptions, help text, zonal histogram ranges).
 */
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "reclaim/pixel/hd.hpp"
#include "reclaim/pixel/indices.hpp"

namespace reclaim::pixel {

/// Spectral band roles an index may use, in a fixed order.
enum class Band : std::uint8_t { blue, green, red, nir, swir1, swir2 };
inline constexpr int kBandCount = 6;

RECLAIM_HD constexpr std::uint32_t band_bit(Band band) noexcept {
  return std::uint32_t{1} << static_cast<int>(band);
}

/// Band bit sets under the band names, for the table's `bands` column (`nir | red`).
namespace band_set {
inline constexpr std::uint32_t blue = std::uint32_t{1} << static_cast<int>(Band::blue);
inline constexpr std::uint32_t green = std::uint32_t{1} << static_cast<int>(Band::green);
inline constexpr std::uint32_t red = std::uint32_t{1} << static_cast<int>(Band::red);
inline constexpr std::uint32_t nir = std::uint32_t{1} << static_cast<int>(Band::nir);
inline constexpr std::uint32_t swir1 = std::uint32_t{1} << static_cast<int>(Band::swir1);
inline constexpr std::uint32_t swir2 = std::uint32_t{1} << static_cast<int>(Band::swir2);
}  // namespace band_set

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

/** The table. Columns, one X(...) per output, in enum order:
 *  - name: the enum value and the name users type (`--index ndvi`);
 *  - kind: `index` (a spectral index, part of "all") or `reflectance` (a calibrated band,
 *    written for pictures only; these come last);
 *  - bands: the band roles the value reads (band_set names joined by `|`); a test checks
 *    them against the formula (tests/pixel/index_table_test.cpp);
 *  - lo, hi: the value range, used as the default histogram range of zonal statistics (hi
 *    a little above 1 where 1 itself must fall in the last bin);
 *  - formula: the text written as the band description of the output and listed by --help;
 *  - value: the formula's call, from `Reflectance const& r` and `IndexParams const& p`.
 */
// clang-format off
#define RECLAIM_INDEX_TABLE(X) \
  /* name   kind         bands                       lo     hi          formula                                                                     value */ \
  X(ndvi,   index,       nir | red,                  -1.0,  1.0 + 1e-9, "NDVI = (NIR - Red) / (NIR + Red)",                                         ndvi(r[Band::nir], r[Band::red])) \
  X(evi,    index,       nir | red | blue,           -2.0,  2.0,        "EVI = 2.5 (NIR - Red) / (NIR + 6 Red - 7.5 Blue + 1)",                     evi(r[Band::nir], r[Band::red], r[Band::blue])) \
  X(savi,   index,       nir | red,                  -1.0,  1.0 + 1e-9, "SAVI = (1 + L) (NIR - Red) / (NIR + Red + L)",                             savi(r[Band::nir], r[Band::red], p.savi_l)) \
  X(msavi2, index,       nir | red,                  -1.0,  1.0 + 1e-9, "MSAVI2 = (2 NIR + 1 - sqrt((2 NIR + 1)^2 - 8 (NIR - Red))) / 2",           msavi2(r[Band::nir], r[Band::red])) \
  X(ndwi,   index,       green | nir,                -1.0,  1.0 + 1e-9, "NDWI = (Green - NIR) / (Green + NIR)",                                     ndwi(r[Band::green], r[Band::nir])) \
  X(mndwi,  index,       green | swir1,              -1.0,  1.0 + 1e-9, "MNDWI = (Green - SWIR1) / (Green + SWIR1)",                                mndwi(r[Band::green], r[Band::swir1])) \
  X(nbr,    index,       nir | swir2,                -1.0,  1.0 + 1e-9, "NBR = (NIR - SWIR2) / (NIR + SWIR2)",                                      nbr(r[Band::nir], r[Band::swir2])) \
  X(ndmi,   index,       nir | swir1,                -1.0,  1.0 + 1e-9, "NDMI = (NIR - SWIR1) / (NIR + SWIR1)",                                     ndmi(r[Band::nir], r[Band::swir1])) \
  X(bsi,    index,       blue | red | nir | swir1,   -1.0,  1.0 + 1e-9, "BSI = ((SWIR1 + Red) - (NIR + Blue)) / ((SWIR1 + Red) + (NIR + Blue))",    bsi(r[Band::blue], r[Band::red], r[Band::nir], r[Band::swir1])) \
  X(fvc,    index,       nir | red,                   0.0,  1.0 + 1e-9, "FVC = clamp((NDVI - NDVI_soil) / (NDVI_veg - NDVI_soil), 0, 1)",          fvc(ndvi(r[Band::nir], r[Band::red]), p.fvc_ndvi_soil, p.fvc_ndvi_veg)) \
  X(blue,   reflectance, blue,                       -1.0,  1.0 + 1e-9, "blue surface reflectance (calibrated)",                                    r[Band::blue]) \
  X(green,  reflectance, green,                      -1.0,  1.0 + 1e-9, "green surface reflectance (calibrated)",                                   r[Band::green]) \
  X(red,    reflectance, red,                        -1.0,  1.0 + 1e-9, "red surface reflectance (calibrated)",                                     r[Band::red])
// clang-format on

/// What a table line describes: a spectral index, or a calibrated reflectance band.
enum class IndexKind : std::uint8_t { index, reflectance };

#define RECLAIM_INDEX_ENUM_(name, kind, bands, lo, hi, formula, value) name,
/// What the fused pass can write per pixel: the spectral indices, then the calibrated
/// surface reflectance of the visible bands (true-colour pictures; not part of "all").
enum class Index : std::uint8_t { RECLAIM_INDEX_TABLE(RECLAIM_INDEX_ENUM_) };
#undef RECLAIM_INDEX_ENUM_

#define RECLAIM_INDEX_COUNT_(name, kind, bands, lo, hi, formula, value) +1
#define RECLAIM_INDEX_SPECTRAL_(name, kind, bands, lo, hi, formula, value) +(IndexKind::kind == IndexKind::index ? 1 : 0)
inline constexpr int kOutputKindCount = 0 RECLAIM_INDEX_TABLE(RECLAIM_INDEX_COUNT_);  ///< every table line
inline constexpr int kIndexCount = 0 RECLAIM_INDEX_TABLE(RECLAIM_INDEX_SPECTRAL_);    ///< spectral indices
#undef RECLAIM_INDEX_COUNT_
#undef RECLAIM_INDEX_SPECTRAL_
inline constexpr int kMaxOutputs = 16;

/// True for a spectral index (part of "all"), false for a reflectance output.
RECLAIM_HD constexpr bool is_spectral_index(Index index) noexcept { return static_cast<int>(index) < kIndexCount; }

/// Bit set of the bands an index needs (bit i = Band i).
RECLAIM_HD constexpr std::uint32_t bands_needed(Index index) noexcept {
  using namespace band_set;
#define RECLAIM_INDEX_BANDS_(name, kind, bands, lo, hi, formula, value) \
  case Index::name:                                                     \
    return bands;
  switch (index) { RECLAIM_INDEX_TABLE(RECLAIM_INDEX_BANDS_) }
#undef RECLAIM_INDEX_BANDS_
  return 0;
}

/// The value of `index` at a pixel with reflectances `r`: the one dispatch to the formulas.
RECLAIM_HD inline double index_value(Index index, Reflectance const& r, IndexParams const& p) noexcept {
#define RECLAIM_INDEX_VALUE_(name, kind, bands, lo, hi, formula, value) \
  case Index::name:                                                     \
    return value;
  switch (index) { RECLAIM_INDEX_TABLE(RECLAIM_INDEX_VALUE_) }
#undef RECLAIM_INDEX_VALUE_
  return nan_d();
}

/// One line of the table, for host code (names, help, band descriptions, histogram ranges).
struct IndexSpec {
  Index id;
  IndexKind kind;
  std::string_view name;     ///< as users type it
  std::uint32_t bands;       ///< bands_needed(id)
  double lo, hi;             ///< value range (default zonal histogram range)
  std::string_view formula;  ///< band description and --help text
};

#define RECLAIM_INDEX_SPEC_(name, kind, bands, lo, hi, formula, value) \
  {Index::name, IndexKind::kind, #name, bands_needed(Index::name), lo, hi, formula},
/// The table as data, in enum order (kIndexTable[i].id == Index(i)).
inline constexpr IndexSpec kIndexTable[] = {RECLAIM_INDEX_TABLE(RECLAIM_INDEX_SPEC_)};
#undef RECLAIM_INDEX_SPEC_

/// The table line of `index` (host code).
constexpr IndexSpec const& index_spec(Index index) noexcept { return kIndexTable[static_cast<int>(index)]; }

namespace detail {
constexpr bool index_table_is_well_formed() noexcept {
  for (int i = 0; i < kOutputKindCount; ++i) {
    IndexSpec const& s = kIndexTable[i];
    if (static_cast<int>(s.id) != i) return false;                                   // enum order
    if ((s.kind == IndexKind::index) != (i < kIndexCount)) return false;             // indices first
    if (s.name.empty() || s.formula.empty() || s.bands == 0 || !(s.lo < s.hi)) return false;
    for (int j = 0; j < i; ++j)
      if (kIndexTable[j].name == s.name) return false;                               // names unique
  }
  return true;
}
}  // namespace detail

static_assert(sizeof(kIndexTable) / sizeof(kIndexTable[0]) == static_cast<std::size_t>(kOutputKindCount),
              "one table line per Index value");
static_assert(detail::index_table_is_well_formed(),
              "index table: lines in enum order, spectral indices before reflectance outputs, names unique, "
              "every line with bands, formula text and a range lo < hi");
static_assert(kIndexCount <= kMaxOutputs, "\"all\" must fit in FusedParams::outputs");
static_assert(kOutputKindCount <= 256, "Index is a uint8_t");

}  // namespace reclaim::pixel
