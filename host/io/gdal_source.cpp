#include "reclaim/io/gdal_source.hpp"

#include <gdal_utils.h>
#include <ogr_spatialref.h>

#include <algorithm>
#include <atomic>
#include <optional>
#include <cmath>
#include <map>
#include <set>
#include <string>

#include "io/direct_tiff.hpp"
#include "io/gdal_util.hpp"
#include "reclaim/error.hpp"

namespace reclaim::io {
namespace fs = std::filesystem;

namespace {

/// Integer ratio of a coarse to the fine pixel size, or 0 when it is not one.
int integer_factor(double coarse, double fine) {
  double const r = coarse / fine;
  double const k = std::round(r);
  return (k >= 1 && std::abs(r - k) <= 1e-6 * k) ? static_cast<int>(k) : 0;
}

std::string describe(BandRef const& ref) { return ref.file.string() + " band " + std::to_string(ref.band); }

/// Signed bytes as GDAL < 3.7 stores them (Byte, PIXELTYPE=SIGNEDBYTE), read as 0..255: -> -128..127.
void fold_signed_bytes(float* values, std::size_t n) noexcept {
  for (std::size_t i = 0; i < n; ++i)
    if (values[i] >= 128.f) values[i] -= 256.f;
}

class GdalTileReader final : public TileReader {
 public:
  GdalTileReader(Grid const& grid, std::vector<GdalTileSource::Plane> const& planes) : m_grid(grid), m_planes(planes) {
    for (auto const& p : planes)
      if (!m_datasets.count(p.ref.file)) {
        auto ds = open_raster(p.ref.file);
        if (auto direct = DirectTiff::open(p.ref.file, *ds)) m_direct.emplace(p.ref.file, std::move(direct));
        m_datasets.emplace(p.ref.file, std::move(ds));
      }
  }

  void read(TileWindow const& w, float* out) override {
    std::size_t const n = w.pixel_count();
    // Planes of one file on the target grid are consecutive: read them in one RasterIO
    // call so an interleaved file decodes each block once.
    std::size_t k = 0;
    while (k < m_planes.size()) {
      auto const& first = m_planes[k];
      if (first.factor_x != 1 || first.factor_y != 1) {
        read_resampled(first, w, out + k * n);
        ++k;
        continue;
      }
      std::vector<int> bands{first.ref.band};
      std::size_t j = k + 1;
      while (j < m_planes.size() && m_planes[j].ref.file == first.ref.file && m_planes[j].factor_x == 1 &&
             m_planes[j].factor_y == 1)
        bands.push_back(m_planes[j++].ref.band);
      if (!read_direct(first.ref.file, bands, w, out + k * n)) {
        auto& ds = *m_datasets.at(first.ref.file);
        CPLErr const err = ds.RasterIO(GF_Read, static_cast<int>(w.x0), static_cast<int>(w.y0), w.width, w.height,
                                       out + k * n, w.width, w.height, GDT_Float32, static_cast<int>(bands.size()),
                                       bands.data(), sizeof(float), static_cast<GSpacing>(sizeof(float)) * w.width,
                                       static_cast<GSpacing>(sizeof(float) * n), nullptr);
        if (err != CE_None) throw io_error(first.ref.file.string() + ": read failed (" + last_gdal_error() + ")");
      }
      for (std::size_t b = k; b < j; ++b)
        if (m_planes[b].signed_byte) fold_signed_bytes(out + b * n, n);
      k = j;
    }
  }

 private:
  /// The bands of `file` through DirectTiff, when it reads this file and window; false: GDAL's turn.
  bool read_direct(fs::path const& file, std::vector<int> const& bands, TileWindow const& w, float* out) {
    auto const it = m_direct.find(file);
    if (it == m_direct.end()) return false;
    for (std::size_t b = 0; b < bands.size(); ++b)
      if (!it->second->read(bands[b], w, out + b * w.pixel_count())) return false;
    return true;
  }

  void read_resampled(GdalTileSource::Plane const& p, TileWindow const& w, float* out) {
    CoarseWindow const cw = coarse_window_for(w, p.factor_x, p.factor_y, p.width, p.height, p.method);
    m_scratch.resize(static_cast<std::size_t>(cw.width) * static_cast<std::size_t>(cw.height));
    auto* band = m_datasets.at(p.ref.file)->GetRasterBand(p.ref.band);
    CPLErr const err = band->RasterIO(GF_Read, static_cast<int>(cw.x0), static_cast<int>(cw.y0), cw.width, cw.height,
                                      m_scratch.data(), cw.width, cw.height, GDT_Float32, 0, 0, nullptr);
    if (err != CE_None) throw io_error(p.ref.file.string() + ": read failed (" + last_gdal_error() + ")");
    if (p.signed_byte) fold_signed_bytes(m_scratch.data(), m_scratch.size());
    // Nodata must not be blended into valid neighbours: make it NaN first.
    if (p.has_nodata) {
      auto const nodata = static_cast<float>(p.nodata);
      for (auto& v : m_scratch)
        if (v == nodata) v = pixel::nan_f();
    }
    upsample(m_scratch.data(), cw, w, p.factor_x, p.factor_y, p.width, p.height, p.method, out);
  }

  Grid const& m_grid;
  std::vector<GdalTileSource::Plane> const& m_planes;
  std::map<fs::path, GDALDatasetUniquePtr> m_datasets;
  std::map<fs::path, std::unique_ptr<DirectTiff>> m_direct;  ///< the files DirectTiff reads
  std::vector<float> m_scratch;
};

bool same_grid(Grid const& a, Grid const& b) {
  return a.width == b.width && a.height == b.height && a.geotransform == b.geotransform && same_crs(a.crs_wkt, b.crs_wkt);
}

/// `coarse` nests in `fine`: same CRS and origin, an integer pixel-size ratio, full cover (the
/// test the constructor applies to a scene's bands).
bool nests_in(Grid const& coarse, Grid const& fine) {
  auto const& c = coarse.geotransform;
  auto const& f = fine.geotransform;
  int const fx = integer_factor(std::abs(c[1]), std::abs(f[1]));
  int const fy = integer_factor(std::abs(c[5]), std::abs(f[5]));
  return fx > 0 && fy > 0 && c[2] == 0 && c[4] == 0 && f[2] == 0 && f[4] == 0 && std::abs(c[0] - f[0]) <= 1e-3 * std::abs(f[1]) &&
         std::abs(c[3] - f[3]) <= 1e-3 * std::abs(f[5]) && coarse.width * fx >= fine.width &&
         coarse.height * fy >= fine.height && same_crs(coarse.crs_wkt, fine.crs_wkt);
}

/// The extent of `g` in the CRS of `crs_wkt` (edges densified); throws input_error naming `what`.
Bounds transformed_bounds(Grid const& g, std::string const& crs_wkt, std::string const& what) {
  auto const& s = g.geotransform;
  double const sx0 = s[0], sx1 = s[0] + s[1] * static_cast<double>(g.width);
  double const sy1 = s[3], sy0 = s[3] + s[5] * static_cast<double>(g.height);
  if (same_crs(g.crs_wkt, crs_wkt)) return {std::min(sx0, sx1), std::min(sy0, sy1), std::max(sx0, sx1), std::max(sy0, sy1)};
  OGRSpatialReference from, to;
  from.importFromWkt(g.crs_wkt.c_str());
  to.importFromWkt(crs_wkt.c_str());
  from.SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER);
  to.SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER);
  std::unique_ptr<OGRCoordinateTransformation> ct(OGRCreateCoordinateTransformation(&from, &to));
  Bounds b{};
  if (!ct || !ct->TransformBounds(sx0, sy0, sx1, sy1, &b[0], &b[1], &b[2], &b[3], 21))
    throw input_error(what + ": cannot transform its extent into the target CRS");
  return b;
}

/** A warped VRT (in /vsimem) of `file` on `target`: bilinear or nearest, nodata kept out of
 * the kernel and written where the source has no data (NaN, as Float32, for a mosaic). Throws
 * input_error when the file does not overlap the target at all. */
fs::path warp_onto(fs::path const& file, Grid const& target, bool nearest, std::optional<double> nodata, bool mosaic) {
  static std::atomic<int> counter{0};
  auto src = open_raster(file);
  Grid const g = grid_of(*src);
  if (!footprint_on(g, target)) throw input_error(file.string() + ": does not overlap the target grid at all");
  auto const& t = target.geotransform;
  double const tx0 = t[0], tx1 = t[0] + t[1] * static_cast<double>(target.width);
  double const ty1 = t[3], ty0 = t[3] + t[5] * static_cast<double>(target.height);
  std::vector<std::string> args{"-of", "VRT", "-t_srs", target.crs_wkt, "-te", std::to_string(tx0),
                                std::to_string(ty0), std::to_string(tx1), std::to_string(ty1), "-ts",
                                std::to_string(target.width), std::to_string(target.height), "-r",
                                nearest ? "near" : "bilinear"};
  // GDAL widens the kernel when a chunk's source window looks larger than its output (a
  // downsampling), per chunk: across UTM zones the rotated frames look a little larger, so
  // same-resolution warps were smoothed unevenly (up to 0.014 reflectance apart from gdalwarp's
  // own). Unless the source is clearly finer than the target, the kernel keeps its size.
  Bounds const b = transformed_bounds(g, target.crs_wkt, file.string());
  double const source_pixel = (b[2] - b[0]) / static_cast<double>(g.width);
  if (source_pixel >= 0.9 * std::abs(t[1])) args.insert(args.end(), {"-wo", "XSCALE=1", "-wo", "YSCALE=1"});
  if (nodata) args.insert(args.end(), {"-srcnodata", std::to_string(*nodata)});
  if (mosaic)
    args.insert(args.end(), {"-ot", "Float32", "-dstnodata", "nan"});
  else if (nodata)
    args.insert(args.end(), {"-dstnodata", std::to_string(*nodata)});
  CPLStringList argv;
  for (auto const& a : args) argv.AddString(a.c_str());
  std::unique_ptr<GDALWarpAppOptions, decltype(&GDALWarpAppOptionsFree)> options(
      GDALWarpAppOptionsNew(argv.List(), nullptr), &GDALWarpAppOptionsFree);
  fs::path const out = "/vsimem/reclaim/warp_" + std::to_string(counter++) + ".vrt";
  GDALDatasetH handle = src.get();
  int usage_error_flag = 0;
  GDALDatasetH dst = GDALWarp(out.c_str(), nullptr, 1, &handle, options.get(), &usage_error_flag);
  if (!dst) throw input_error(file.string() + ": cannot warp onto the target grid (" + last_gdal_error() + ")");
  GDALClose(dst);
  return out;
}

}  // namespace

std::optional<TileWindow> footprint_on(Grid const& of, Grid const& target) {
  Bounds const b = transformed_bounds(of, target.crs_wkt, "a raster");
  Bounds const t = window_bounds(target, TileWindow{0, 0, 0, static_cast<std::int32_t>(target.width),
                                                    static_cast<std::int32_t>(target.height)});
  // Touching edges share no pixel.
  if (b[2] <= t[0] || b[0] >= t[2] || b[3] <= t[1] || b[1] >= t[3]) return std::nullopt;
  auto const w = clip_to_grid(target, window_of_bounds(target, b));
  if (w.width <= 0 || w.height <= 0) return std::nullopt;
  return w;
}

Grid extended_grid(Grid const& first, std::vector<Grid> const& others) {
  Bounds all = transformed_bounds(first, first.crs_wkt, "a raster");
  for (auto const& g : others) {
    Bounds const b = transformed_bounds(g, first.crs_wkt, "a raster");
    all = {std::min(all[0], b[0]), std::min(all[1], b[1]), std::max(all[2], b[2]), std::max(all[3], b[3])};
  }
  // Snap to the lattice, forgiving rounding in the transformed corners (a scene on the same
  // lattice must not gain a column).
  auto const& gt = first.geotransform;
  auto const snap_down = [](double v) { return std::floor(v + 1e-6); };
  auto const snap_up = [](double v) { return std::ceil(v - 1e-6); };
  double const xa = (all[0] - gt[0]) / gt[1], xb = (all[2] - gt[0]) / gt[1];
  double const ya = (all[1] - gt[3]) / gt[5], yb = (all[3] - gt[3]) / gt[5];
  TileWindow w;
  w.x0 = static_cast<std::int64_t>(snap_down(std::min(xa, xb)));
  w.y0 = static_cast<std::int64_t>(snap_down(std::min(ya, yb)));
  w.width = static_cast<std::int32_t>(snap_up(std::max(xa, xb)) - static_cast<double>(w.x0));
  w.height = static_cast<std::int32_t>(snap_up(std::max(ya, yb)) - static_cast<double>(w.y0));
  Grid out = first;
  out.width = w.width;
  out.height = w.height;
  out.geotransform[0] = first.geotransform[0] + static_cast<double>(w.x0) * first.geotransform[1];
  out.geotransform[3] = first.geotransform[3] + static_cast<double>(w.y0) * first.geotransform[5];
  return out;
}

GdalTileSource::GdalTileSource(SceneSpec const& scene, std::uint32_t needed_bands, std::optional<Grid> const& target,
                               bool mosaic) {
  ensure_gdal_initialized();
  // Gather the planes: needed bands in Band order, then the mask; then group by file so a
  // file's target-grid bands are consecutive (read together).
  struct Wanted {
    BandRef ref;
    int band_role;  // Band index, or -1 for the mask
    bool signed_byte = false;
  };
  std::vector<Wanted> wanted;
  for (int b = 0; b < pixel::kBandCount; ++b)
    if ((needed_bands >> b) & 1u) {
      RECLAIM_EXPECTS(scene.bands[b].has_value(), "needed band missing: call require_bands first");
      wanted.push_back({*scene.bands[b], b});
    }
  if (scene.mask) wanted.push_back({*scene.mask, -1});
  RECLAIM_EXPECTS(!wanted.empty(), "a source needs at least one band");
  std::stable_sort(wanted.begin(), wanted.end(), [](Wanted const& a, Wanted const& c) { return a.ref.file < c.ref.file; });
  // Each band as stored: present, and of a type whose values reading as Float32 keeps.
  for (auto& w : wanted) {
    auto ds = open_raster(w.ref.file);
    if (w.ref.band > ds->GetRasterCount())
      throw input_error(w.ref.file.string() + ": has no band " + std::to_string(w.ref.band));
    auto* band = ds->GetRasterBand(w.ref.band);
    GDALDataType const type = band->GetRasterDataType();
    if (GDALDataTypeIsComplex(type))  // GDAL would hand us the real part alone
      throw input_error(describe(w.ref) + ": complex data (" + GDALGetDataTypeName(type) +
                        ") is not supported; write the real values as a band of their own (gdal_translate)");
    char const* pixel_type = band->GetMetadataItem("PIXELTYPE", "IMAGE_STRUCTURE");
    w.signed_byte = type == GDT_Byte && pixel_type && EQUAL(pixel_type, "SIGNEDBYTE");
  }

  // Target grid: the finest of the files read.
  std::map<fs::path, Grid> grids;
  fs::path finest;
  auto find_grids = [&] {
    grids.clear();
    for (auto const& w : wanted) {
      if (grids.count(w.ref.file)) continue;
      auto ds = open_raster(w.ref.file);
      grids.emplace(w.ref.file, grid_of(*ds));
    }
    finest = wanted.front().ref.file;
    for (auto const& [file, g] : grids)
      if (std::abs(g.geotransform[1]) < std::abs(grids.at(finest).geotransform[1])) finest = file;
  };
  find_grids();
  // Another epoch's grid: every file is warped onto it (GDAL warped VRTs, read like files).
  // A mosaic warps every file not already on the target (its coarser bands included), so all
  // bands of every scene are resampled by one method.
  bool const warp_all = mosaic && target;
  bool some_on_target = false;
  if (warp_all)
    for (auto const& [file, g] : grids) some_on_target = some_on_target || same_grid(g, *target);
  if (target && (warp_all || !same_grid(grids.at(finest), *target))) {
    std::map<std::pair<fs::path, bool>, fs::path> warped;
    for (auto& w : wanted) {
      if (w.signed_byte)  // GDAL 3.6's warper would blend the unsigned bytes
        throw input_error(describe(w.ref) + ": signed-byte (Int8) data cannot be warped onto another grid; convert "
                                            "it to Int16 first (gdal_translate -ot Int16)");
      bool const nearest = w.band_role < 0 || scene.resampling == Resampling::nearest;
      auto key = std::make_pair(w.ref.file, nearest);
      // A file on the target, or nesting in it beside one that is (a scene's 20 m bands when its
      // 10 m grid is the target), is read as it is: upsampled by reclaim, not warped.
      if (warp_all && (same_grid(grids.at(w.ref.file), *target) || (some_on_target && nests_in(grids.at(w.ref.file), *target))))
        continue;
      if (!warped.count(key)) {
        std::optional<double> nodata;
        if (w.band_role >= 0 && scene.calibration[w.band_role].has_nodata) nodata = scene.calibration[w.band_role].nodata;
        warped[key] = warp_onto(w.ref.file, *target, nearest, nodata, mosaic);
        m_warped.push_back(warped[key]);
      }
      w.ref.file = warped[key];
    }
    std::stable_sort(wanted.begin(), wanted.end(),
                     [](Wanted const& a, Wanted const& c) { return a.ref.file < c.ref.file; });
    find_grids();
  }
  m_grid = grids.at(finest);
  m_input = scene.input;
  auto const& gt = m_grid.geotransform;
  if (gt[2] != 0 || gt[4] != 0) throw input_error(finest.string() + ": rotated geotransforms are not supported");

  for (auto const& w : wanted) {
    Grid const& g = grids.at(w.ref.file);
    Plane p;
    p.ref = w.ref;
    p.width = g.width;
    p.height = g.height;
    p.method = w.band_role < 0 ? Resampling::nearest : scene.resampling;  // quality classes never blend
    p.signed_byte = w.signed_byte;
    if (!same_crs(g.crs_wkt, m_grid.crs_wkt))
      throw input_error(describe(w.ref) + ": CRS differs from " + finest.string() + " (reprojection is not supported yet)");
    p.factor_x = integer_factor(std::abs(g.geotransform[1]), std::abs(gt[1]));
    p.factor_y = integer_factor(std::abs(g.geotransform[5]), std::abs(gt[5]));
    double const tol = 1e-3 * std::abs(gt[1]);
    bool const nests = p.factor_x > 0 && p.factor_y > 0 && g.geotransform[2] == 0 && g.geotransform[4] == 0 &&
                       std::abs(g.geotransform[0] - gt[0]) <= tol &&
                       std::abs(g.geotransform[3] - gt[3]) <= 1e-3 * std::abs(gt[5]) &&
                       g.width * p.factor_x >= m_grid.width && g.height * p.factor_y >= m_grid.height;
    if (!nests)
      throw input_error(describe(w.ref) + ": grid does not nest in the grid of " + finest.string() +
                        " (needs the same origin, an integer pixel-size ratio and full cover; reprojection is not "
                        "supported yet)");
    if (p.factor_x > 1 || p.factor_y > 1) {
      auto ds = open_raster(w.ref.file);
      int has = 0;
      double const v = ds->GetRasterBand(w.ref.band)->GetNoDataValue(&has);
      if (w.band_role >= 0 && scene.calibration[w.band_role].has_nodata) {
        p.has_nodata = true;
        p.nodata = scene.calibration[w.band_role].nodata;
      } else if (has) {
        p.has_nodata = true;
        p.nodata = v;
      }
    }
    int const plane = static_cast<int>(m_planes.size());
    if (w.band_role >= 0)
      m_params.band_plane[w.band_role] = plane;
    else
      m_params.mask_plane = plane;
    m_planes.push_back(p);
  }
  for (int b = 0; b < pixel::kBandCount; ++b) m_params.calibration[b] = scene.calibration[b];
  m_params.mask = scene.mask_rule;
  m_params.input_plane_count = static_cast<std::int32_t>(m_planes.size());
}

GdalTileSource::~GdalTileSource() {
  for (auto const& path : m_warped) VSIUnlink(path.c_str());  // the in-memory warped VRTs
}

Grid raster_grid(fs::path const& path) {
  auto ds = open_raster(path);
  return grid_of(*ds);
}

std::unique_ptr<TileReader> GdalTileSource::open_reader() const {
  return std::make_unique<GdalTileReader>(m_grid, m_planes);
}

std::string GdalTileSource::name() const {
  if (!m_input.empty()) return m_input.string();
  std::string out;
  for (auto const& f : files()) out += (out.empty() ? "" : ", ") + f.string();
  return out;
}

std::vector<fs::path> GdalTileSource::files() const {
  std::set<fs::path> unique;
  for (auto const& p : m_planes) unique.insert(p.ref.file);
  return {unique.begin(), unique.end()};
}

}  // namespace reclaim::io
