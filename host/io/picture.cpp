#include "reclaim/io/picture.hpp"

#include <cpl_string.h>
#include <ogr_spatialref.h>
#include <png.h>
#include <zlib.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <new>
#include <system_error>

#include "io/output_file.hpp"
#include "reclaim/error.hpp"

namespace reclaim::io {
namespace fs = std::filesystem;

namespace {

/// Pixels of one picture, RGBA interleaved, all transparent to start with.
struct RgbaImage {
  int width;
  int height;
  std::vector<std::uint8_t> data;

  RgbaImage(int w, int h) : width(w), height(h), data(static_cast<std::size_t>(w) * static_cast<std::size_t>(h) * 4, 0) {}
  void set(std::size_t i, Rgba const& c) { std::copy(c.begin(), c.end(), data.begin() + static_cast<std::ptrdiff_t>(4 * i)); }
  [[nodiscard]] std::size_t pixel_count() const noexcept { return data.size() / 4; }
};

void expect_size(std::span<float const> values, int width, int height, char const* what) {
  RECLAIM_EXPECTS(width > 0 && height > 0, std::string("picture size must be positive (") + what + ")");
  RECLAIM_EXPECTS(values.size() == static_cast<std::size_t>(width) * static_cast<std::size_t>(height),
                  std::string(what) + " has " + std::to_string(values.size()) + " values, not width x height = " +
                      std::to_string(static_cast<std::size_t>(width) * static_cast<std::size_t>(height)));
}

fs::path aux_path(fs::path const& png) { return png.string() + ".aux.xml"; }
fs::path wld_path(fs::path png) { return png.replace_extension(".wld"); }

/// Where libpng's callbacks put their results (png_get_io_ptr, png_get_error_ptr): nothing may
/// unwind through libpng's C frames, so a failure is recorded here and reported after it returns.
struct PngOutput {
  std::string bytes;
  bool out_of_memory = false;
  char error[200] = {};
};

void append_png_bytes(png_structp png, png_bytep data, png_size_t length) {
  auto* out = static_cast<PngOutput*>(png_get_io_ptr(png));
  if (out->out_of_memory) return;
  try {
    out->bytes.append(reinterpret_cast<char const*>(data), length);
  } catch (std::bad_alloc const&) {
    out->out_of_memory = true;
  }
}

/// libpng's error handler: keeps the message (instead of printing it) and jumps back to encode_png.
[[noreturn]] void png_failed(png_structp png, png_const_charp message) {
  auto* out = static_cast<PngOutput*>(png_get_error_ptr(png));
  std::snprintf(out->error, sizeof out->error, "%s", message ? message : "unknown libpng error");
  png_longjmp(png, 1);
}

void png_warned(png_structp, png_const_charp) {}  // nothing libpng warns about here changes the file

/** @brief The image as an 8-bit RGBA PNG, in memory.
 *
 * One fixed row filter (Up) and zlib's run-length strategy, instead of libpng's default of
 * trying all five filters on every row (what GDAL's PNG driver does, at its zlib level 2): on
 * 245 pictures of bench/peers/compare_assess.sh's run, 2.4x faster to encode and 1.3 % larger
 * (bench/peers/png_encode_compare.cpp; bench/results/pictures-png-amd-epyc-2c.md). Up turns
 * rows that repeat the row above (classes, no data, flat parts of a ramp) into runs of zero
 * bytes, which is what the run-length strategy finds.
 */
std::string encode_png(fs::path const& path, RgbaImage const& image) {
  PngOutput out;
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &out, png_failed, png_warned);
  png_infop info = png ? png_create_info_struct(png) : nullptr;
  if (!info) {
    png_destroy_write_struct(&png, nullptr);
    throw io_error(path.string() + ": cannot start the PNG encoder (out of memory)");
  }
  // libpng reports errors by longjmp: nothing with a destructor may be created below this point.
  if (setjmp(png_jmpbuf(png))) {
    png_destroy_write_struct(&png, &info);
    throw io_error(path.string() + ": cannot encode the PNG (libpng: " + out.error + ")");
  }
  png_set_write_fn(png, &out, append_png_bytes, nullptr);
  png_set_IHDR(png, info, static_cast<png_uint_32>(image.width), static_cast<png_uint_32>(image.height), 8,
               PNG_COLOR_TYPE_RGB_ALPHA, PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  png_set_filter(png, PNG_FILTER_TYPE_BASE, PNG_FILTER_UP);
  png_set_compression_strategy(png, Z_RLE);
  png_write_info(png, info);
  auto const row_bytes = 4 * static_cast<std::size_t>(image.width);
  for (int y = 0; y < image.height; ++y)
    png_write_row(png, image.data.data() + static_cast<std::size_t>(y) * row_bytes);
  png_write_end(png, nullptr);
  png_destroy_write_struct(&png, &info);
  if (out.out_of_memory) throw io_error(path.string() + ": cannot encode the PNG (out of memory)");
  return std::move(out.bytes);
}

/** @brief The world file GDAL writes and reads beside a PNG (GDALWriteWorldFile's layout):
 * x size, the two rotation terms, y size, then the centre of the top-left pixel. */
std::string world_file_text(std::array<double, 6> const& gt) {
  std::string text;
  for (double const v : {gt[1], gt[4], gt[2], gt[5], gt[0] + 0.5 * gt[1] + 0.5 * gt[2], gt[3] + 0.5 * gt[4] + 0.5 * gt[5]}) {
    char line[400];  // room for any double in %.10f (DBL_MAX has 309 digits): never truncated
    std::snprintf(line, sizeof line, "%.10f\n", v);
    text += line;
  }
  return text;
}

/** @brief The GDAL PAM sidecar (.aux.xml) that gives a PNG its CRS, as GDAL writes it: the CRS
 * as WKT1 (WKT2 where WKT1 cannot express it), with the data-axis mapping of traditional GIS
 * order (x = easting or longitude), escaped by GDAL's own XML escaping. */
std::string pam_crs_text(fs::path const& path, std::string const& crs_wkt) {
  OGRSpatialReference srs;
  if (srs.importFromWkt(crs_wkt.c_str()) != OGRERR_NONE) throw input_error(path.string() + ": the picture's CRS is not valid WKT");
  srs.SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER);
  char* wkt = nullptr;
  if (srs.exportToWkt(&wkt) != OGRERR_NONE) {
    CPLFree(wkt);
    wkt = nullptr;
    char const* const wkt2[] = {"FORMAT=WKT2", nullptr};
    if (srs.exportToWkt(&wkt, wkt2) != OGRERR_NONE) {
      CPLFree(wkt);
      throw input_error(path.string() + ": the picture's CRS cannot be written as WKT");
    }
  }
  char* escaped = CPLEscapeString(wkt, -1, CPLES_XML);
  CPLFree(wkt);
  std::string mapping;
  for (int axis : srs.GetDataAxisToSRSAxisMapping()) {
    if (!mapping.empty()) mapping.push_back(',');
    mapping.append(std::to_string(axis));
  }
  std::string text = "<PAMDataset>\n  <SRS dataAxisToSRSAxisMapping=\"" + mapping + "\">" + escaped + "</SRS>\n</PAMDataset>\n";
  CPLFree(escaped);
  return text;
}

/** @brief Writes the PNG and, when georeferenced, its sidecars: the world file and, with a CRS,
 * the .aux.xml. Each file is written whole under a hidden name and renamed
 * (write_file_atomically: hashed from memory for a manifest); the sidecars first, so a PNG that
 * exists has its georeferencing. A sidecar this picture does not need (no CRS now, one before)
 * is removed rather than left to describe it wrongly. */
void write_png(fs::path const& path, RgbaImage const& image, Georef const* georef) {
  std::string const png = encode_png(path, image);
  try {
    std::error_code ec;
    if (georef) {
      write_file_atomically(wld_path(path), world_file_text(georef->geotransform));
      if (!georef->crs_wkt.empty())
        write_file_atomically(aux_path(path), pam_crs_text(path, georef->crs_wkt));
      else
        fs::remove(aux_path(path), ec);
    } else {
      fs::remove(wld_path(path), ec);
      fs::remove(aux_path(path), ec);
    }
  } catch (io_error const& e) {
    throw io_error(path.string() + ": cannot write its sidecar (" + e.what() + ")");
  }
  write_file_atomically(path, png);
}

std::uint8_t to_byte(double v, double lo, double hi) {
  if (!(hi > lo)) return v > lo ? 255 : 0;
  double const s = std::round(255.0 * (v - lo) / (hi - lo));
  return static_cast<std::uint8_t>(std::clamp(s, 0.0, 255.0));
}

/// ndvi_ramp at v on the scale lo..hi (a degenerate scale gives the middle colour).
Rgba ramp_at(float v, double lo, double hi) {
  return ndvi_ramp(hi > lo ? (static_cast<double>(v) - lo) / (hi - lo) : 0.5);
}

/// Type 7 percentile of `v` (destroys its order); v must not be empty.
double percentile(std::vector<float>& v, double p) {
  double const pos = std::clamp(p, 0.0, 100.0) / 100.0 * static_cast<double>(v.size() - 1);
  auto const k = static_cast<std::size_t>(std::floor(pos));
  double const frac = pos - static_cast<double>(k);
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
  double const lower = v[k];
  if (frac == 0.0 || k + 1 >= v.size()) return lower;
  // After nth_element everything beyond k is >= v[k]: its minimum is order statistic k+1.
  double const upper = *std::min_element(v.begin() + static_cast<std::ptrdiff_t>(k) + 1, v.end());
  return lower + frac * (upper - lower);
}

}  // namespace

RgbStretch percentile_stretch(std::span<float const> r_a, std::span<float const> g_a, std::span<float const> b_a,
                              std::span<float const> r_b, std::span<float const> g_b, std::span<float const> b_b,
                              double plo, double phi) {
  RgbStretch s{};
  std::span<float const> const a[3] = {r_a, g_a, b_a};
  std::span<float const> const b[3] = {r_b, g_b, b_b};
  std::vector<float> pool;
  for (int c = 0; c < 3; ++c) {
    pool.clear();
    pool.reserve(a[c].size() + b[c].size());
    for (auto const span : {a[c], b[c]})
      for (float const v : span)
        if (std::isfinite(v)) pool.push_back(v);
    if (pool.empty()) {
      s.lo[c] = 0.0;
      s.hi[c] = 0.3;
      continue;
    }
    s.lo[c] = percentile(pool, plo);
    s.hi[c] = percentile(pool, phi);
  }
  return s;
}

void write_rgb_png(fs::path const& path, int width, int height, std::span<float const> r, std::span<float const> g,
                   std::span<float const> b, RgbStretch const& stretch, Georef const& georef) {
  expect_size(r, width, height, "red");
  expect_size(g, width, height, "green");
  expect_size(b, width, height, "blue");
  RgbaImage img(width, height);
  for (std::size_t i = 0; i < img.pixel_count(); ++i) {
    if (!std::isfinite(r[i]) || !std::isfinite(g[i]) || !std::isfinite(b[i])) continue;
    img.set(i, {to_byte(r[i], stretch.lo[0], stretch.hi[0]), to_byte(g[i], stretch.lo[1], stretch.hi[1]),
                to_byte(b[i], stretch.lo[2], stretch.hi[2]), 255});
  }
  write_png(path, img, &georef);
}

Rgba ndvi_ramp(double t) noexcept {
  static constexpr std::uint8_t stops[7][3] = {{140, 81, 10},   {191, 129, 45}, {223, 194, 125}, {255, 255, 191},
                                               {166, 217, 106}, {102, 189, 99}, {26, 152, 80}};
  if (std::isnan(t)) return {0, 0, 0, 0};
  double const x = std::clamp(t, 0.0, 1.0) * 6.0;
  int const k = std::min(static_cast<int>(x), 5);
  double const f = x - k;
  Rgba out{0, 0, 0, 255};
  for (int c = 0; c < 3; ++c)
    out[c] = static_cast<std::uint8_t>(std::lround(stops[k][c] + f * (stops[k + 1][c] - stops[k][c])));
  return out;
}

void write_scalar_png(fs::path const& path, int width, int height, std::span<float const> values, double lo,
                      double hi, Georef const& georef) {
  expect_size(values, width, height, "values");
  RgbaImage img(width, height);
  for (std::size_t i = 0; i < img.pixel_count(); ++i)
    if (std::isfinite(values[i])) img.set(i, ramp_at(values[i], lo, hi));
  write_png(path, img, &georef);
}

void write_class_png(fs::path const& path, int width, int height, std::span<float const> classes,
                     std::vector<Rgba> const& colors, Georef const& georef) {
  expect_size(classes, width, height, "classes");
  RgbaImage img(width, height);
  for (std::size_t i = 0; i < img.pixel_count(); ++i) {
    float const v = classes[i];
    if (!std::isfinite(v) || v < 1.f || v != std::floor(v) || v >= static_cast<float>(colors.size())) continue;
    img.set(i, colors[static_cast<std::size_t>(v)]);
  }
  write_png(path, img, &georef);
}

LegendLayout write_legend_png(fs::path const& path, std::vector<std::string> const& names,
                              std::vector<Rgba> const& colors, int swatch_size, int gap, int padding) {
  RECLAIM_EXPECTS(swatch_size > 0 && gap >= 2 && padding >= 1, "legend: swatch_size > 0, gap >= 2, padding >= 1");
  LegendLayout layout;
  std::size_t const n = std::min(names.size(), colors.size());
  for (std::size_t k = 1; k < n; ++k) {
    if (names[k].empty()) continue;
    int const i = static_cast<int>(layout.swatches.size());
    layout.swatches.push_back({static_cast<int>(k), padding, padding + i * (swatch_size + gap), swatch_size, swatch_size});
  }
  int const count = static_cast<int>(layout.swatches.size());
  layout.width = swatch_size + 2 * padding;
  layout.height = std::max(1, count * swatch_size + std::max(0, count - 1) * gap + 2 * padding);

  RgbaImage img(layout.width, layout.height);
  auto at = [&](int x, int y) { return static_cast<std::size_t>(y) * static_cast<std::size_t>(img.width) + static_cast<std::size_t>(x); };
  Rgba const frame{128, 128, 128, 255};
  for (LegendSwatch const& s : layout.swatches) {
    for (int y = s.y - 1; y <= s.y + s.height; ++y)
      for (int x = s.x - 1; x <= s.x + s.width; ++x) {
        bool const inside = x >= s.x && x < s.x + s.width && y >= s.y && y < s.y + s.height;
        img.set(at(x, y), inside ? colors[static_cast<std::size_t>(s.value)] : frame);
      }
  }
  write_png(path, img, nullptr);
  return layout;
}

void write_overview_png(fs::path const& path, int width, int height, Georef const& georef,
                        std::vector<std::vector<MapRing>> const& site_rings, std::vector<Rgba> const& site_colors,
                        OverviewBackground const& background) {
  RECLAIM_EXPECTS(width > 0 && height > 0, "overview size must be positive");
  RECLAIM_EXPECTS(site_rings.size() == site_colors.size(), "overview: one colour per site");
  auto const& gt = georef.geotransform;
  RECLAIM_EXPECTS(gt[2] == 0.0 && gt[4] == 0.0 && gt[1] != 0.0 && gt[5] != 0.0, "overview: georef must be north-up");

  RgbaImage img(width, height);
  if (!background.values.empty()) {
    expect_size(background.values, width, height, "overview background");
    for (std::size_t i = 0; i < img.pixel_count(); ++i)
      if (std::isfinite(background.values[i])) img.set(i, ramp_at(background.values[i], background.lo, background.hi));
  }

  std::vector<double> crossings;
  for (std::size_t s = 0; s < site_rings.size(); ++s) {
    Rgba const& c = site_colors[s];
    double const sa = c[3] / 255.0;
    for (int row = 0; row < height; ++row) {
      // Work in pixel coordinates: column centre col + 0.5, row centre row + 0.5.
      double const yc = row + 0.5;
      crossings.clear();
      for (MapRing const& ring : site_rings[s]) {
        std::size_t const n = ring.size();
        for (std::size_t i = 0; i < n; ++i) {
          auto const& p = ring[i];
          auto const& q = ring[(i + 1) % n];
          double const py = (p[1] - gt[3]) / gt[5], qy = (q[1] - gt[3]) / gt[5];
          if ((py > yc) == (qy > yc)) continue;
          double const px = (p[0] - gt[0]) / gt[1], qx = (q[0] - gt[0]) / gt[1];
          crossings.push_back(px + (yc - py) * (qx - px) / (qy - py));
        }
      }
      std::sort(crossings.begin(), crossings.end());
      for (std::size_t k = 0; k + 1 < crossings.size(); k += 2) {
        // Columns whose centre lies in [x0, x1).
        double const first = std::max(0.0, std::ceil(crossings[k] - 0.5));
        double const last = std::min(static_cast<double>(width), std::ceil(crossings[k + 1] - 0.5));
        for (int col = static_cast<int>(first); col < static_cast<int>(last); ++col) {
          std::size_t const i = static_cast<std::size_t>(row) * static_cast<std::size_t>(width) + static_cast<std::size_t>(col);
          if (c[3] == 255) {
            img.set(i, c);
            continue;
          }
          // Straight-alpha "over" (Porter & Duff 1984).
          std::uint8_t* d = &img.data[4 * i];
          double const da = d[3] / 255.0;
          double const oa = sa + da * (1.0 - sa);
          Rgba out{0, 0, 0, 0};
          if (oa > 0) {
            for (int ch = 0; ch < 3; ++ch)
              out[ch] = static_cast<std::uint8_t>(std::lround((c[ch] * sa + d[ch] * da * (1.0 - sa)) / oa));
            out[3] = static_cast<std::uint8_t>(std::lround(oa * 255.0));
          }
          img.set(i, out);
        }
      }
    }
  }
  write_png(path, img, &georef);
}

}  // namespace reclaim::io
