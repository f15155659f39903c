#pragma once
/** @file
 * @brief Georeferenced PNG pictures for the site report: true colour, NDVI, change classes,
 * the class legend and an overview map of the sites.
 *
 * Every picture is an 8-bit RGBA PNG (no data = alpha 0) encoded with libpng (one fixed row
 * filter and zlib's run-length strategy: faster than GDAL's PNG driver, which tries every
 * filter on every row). Georeferencing lives beside the PNG, because PNG has no place for it:
 * the geotransform in `<name>.wld` (a world file, which stores pixel *centres*) and the CRS in
 * `<name>.png.aux.xml` (GDAL PAM), both as GDAL's PNG driver writes them (tested against it).
 * `gdal.Open(png)` reads both back. Each file is written under a hidden temporary name in the same folder and
 * renamed when complete (sidecars first, the PNG last), so a PNG that exists is complete.
 * Failures throw reclaim::io_error naming the file; a buffer whose size is not width x height
 * is a reclaim::logic_error.
 */
#include <array>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

namespace reclaim::io {

using Rgba = std::array<std::uint8_t, 4>;

/** @brief Where a picture lies: GDAL geotransform (north-up: no rotation terms) and CRS as
 * WKT (empty: none written). */
struct Georef {
  std::array<double, 6> geotransform{0, 1, 0, 0, 0, -1};
  std::string crs_wkt;
};

/** @brief A linear stretch per channel (red, green, blue): lo maps to 0, hi to 255. */
struct RgbStretch {
  double lo[3];
  double hi[3];
};

/** @brief The plo-th and phi-th percentiles of each channel over both epochs together.
 *
 * Pooling the finite values of the "before" (a) and "after" (b) pictures gives both one
 * stretch, so a change in brightness between them shows. Percentiles interpolate linearly
 * between order statistics (numpy's default, Hyndman & Fan 1996 type 7): with n sorted values
 * v[0..n-1], p -> position p/100 * (n-1). A channel with no finite value falls back to
 * 0..0.3 (surface reflectance; most land is darker than 0.3).
 */
[[nodiscard]] RgbStretch percentile_stretch(std::span<float const> r_a, std::span<float const> g_a,
                                            std::span<float const> b_a, std::span<float const> r_b,
                                            std::span<float const> g_b, std::span<float const> b_b,
                                            double plo = 2.0, double phi = 98.0);

/** @brief True colour: each channel stretched linearly, round(255 (v - lo) / (hi - lo)),
 * clamped to 0..255 (a channel with hi <= lo gives 255 above lo, else 0). A pixel with any
 * non-finite channel is transparent. */
void write_rgb_png(std::filesystem::path const& path, int width, int height, std::span<float const> r,
                   std::span<float const> g, std::span<float const> b, RgbStretch const& stretch,
                   Georef const& georef);

/** @brief The NDVI colour ramp at t in [0, 1] (clamped; NaN gives transparent).
 *
 * Brown to yellow to green, interpolated linearly in sRGB through seven ColorBrewer stops
 * (Brewer 2002): #8c510a #bf812d #dfc27d (BrBG, brown half), #ffffbf #a6d96a #66bd63 #1a9850
 * (RdYlGn, yellow-green half). Alpha is 255.
 */
[[nodiscard]] Rgba ndvi_ramp(double t) noexcept;

/** @brief A scalar raster (NDVI) through ndvi_ramp on the fixed scale lo..hi (use the same
 * lo, hi for before and after so the colours compare). Non-finite values are transparent. */
void write_scalar_png(std::filesystem::path const& path, int width, int height, std::span<float const> values,
                      double lo, double hi, Georef const& georef);

/** @brief A class raster: whole value k in 1..colors.size()-1 is painted colors[k] (the class
 * raster's colour table, io::OutputRaster::colors). Class 0 (no data), NaN, fractional and
 * out-of-range values are transparent. */
void write_class_png(std::filesystem::path const& path, int width, int height, std::span<float const> classes,
                     std::vector<Rgba> const& colors, Georef const& georef);

/// One legend swatch: class value and its rectangle in the legend PNG (pixels, top-left origin).
struct LegendSwatch {
  int value = 0;
  int x = 0;
  int y = 0;
  int width = 0;
  int height = 0;
};

/// The legend PNG's size and where each swatch was drawn.
struct LegendLayout {
  int width = 0;
  int height = 0;
  std::vector<LegendSwatch> swatches;
};

/** @brief A vertical strip of colour swatches, one per class k >= 1 with a non-empty names[k]
 * (class 0 is never painted, so it has none), ascending by k.
 *
 * The PNG holds no text (drawing fonts is not worth a dependency): the HTML report prints the
 * names beside it. Swatch i fills exactly colors[k] over swatch_size x swatch_size pixels at
 * x = padding, y = padding + i * (swatch_size + gap), inside a one-pixel grey frame (so white
 * and transparent classes stay visible); the rest is transparent. Not georeferenced.
 */
LegendLayout write_legend_png(std::filesystem::path const& path, std::vector<std::string> const& names,
                              std::vector<Rgba> const& colors, int swatch_size = 20, int gap = 4,
                              int padding = 2);

/// A ring of (x, y) map coordinates, closed or not (the edge back to the first vertex is implied).
using MapRing = std::vector<std::array<double, 2>>;

/// Optional overview background: a scalar raster of the overview's size drawn with ndvi_ramp.
struct OverviewBackground {
  std::span<float const> values;  ///< empty: no background (transparent)
  double lo = -0.2;
  double hi = 0.9;
};

/** @brief An overview map: each site's polygon filled with site_colors[i] over the background.
 *
 * site_rings[i] holds every ring of site i (outer rings and holes alike) in map coordinates;
 * a pixel is inside when its centre crosses the site's rings an odd number of times (even-odd
 * rule, so holes and multipolygons need no orientation). Sites are painted in order, a later
 * one over an earlier one; colours with alpha < 255 blend over what is below. georef must be
 * north-up.
 */
void write_overview_png(std::filesystem::path const& path, int width, int height, Georef const& georef,
                        std::vector<std::vector<MapRing>> const& site_rings, std::vector<Rgba> const& site_colors,
                        OverviewBackground const& background = {});

}  // namespace reclaim::io
