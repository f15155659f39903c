// io::GdalTileSource over GeoTIFFs written here with known DNs: a generic band map (band
// numbers of a multiband file plus a coarser single-band file), the file's nodata and the
// --scale/--offset calibration, tiles inside the raster and at its edge, the coarse band
// upsampled (bilinear and nearest, recomputed here from the documented convention
// u = (i + 0.5) / f - 0.5, clamped at the edge, NaN when a weighted neighbour is nodata), and
// the scene read onto another epoch's grid.
#include <gtest/gtest.h>

#include <gdal_priv.h>
#include <ogr_spatialref.h>

#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

#include <unistd.h>

#include "reclaim/error.hpp"
#include "reclaim/io/gdal_source.hpp"
#include "reclaim/io/scene.hpp"

namespace fs = std::filesystem;
using reclaim::Grid;
using reclaim::TileWindow;
using reclaim::pixel::Band;
using reclaim::pixel::band_bit;

namespace {

constexpr int kW = 50, kH = 40;           // fine grid, 10 m
constexpr int kCW = 25, kCH = 20;         // coarse grid, 20 m
constexpr double kX0 = 300000.0, kY0 = 6100000.0;
constexpr double kNodata = 7;             // fine file's nodata
constexpr int kHoleX = 5, kHoleY = 5;     // fine band 3 (red) holds the nodata DN here
constexpr int kCHoleX = 10, kCHoleY = 10;  // coarse nodata (0) here

double dn(int band, int x, int y) {
  if (band == 3 && x == kHoleX && y == kHoleY) return kNodata;
  return 1000.0 * band + 10.0 * x + y;
}
double coarse_dn(int x, int y) { return (x == kCHoleX && y == kCHoleY) ? 0.0 : 2000.0 + 40.0 * x + 3.0 * y; }

std::string utm_wkt() {
  OGRSpatialReference srs;
  srs.importFromEPSG(32755);
  char* wkt = nullptr;
  srs.exportToWkt(&wkt);
  std::string s = wkt;
  CPLFree(wkt);
  return s;
}

void write_tif(fs::path const& path, int w, int h, int bands, double pixel, double nodata,
               double (*value)(int band, int x, int y)) {
  auto* drv = GetGDALDriverManager()->GetDriverByName("GTiff");
  char const* co[] = {"TILED=YES", "BLOCKXSIZE=16", "BLOCKYSIZE=16", nullptr};
  GDALDatasetUniquePtr ds(drv->Create(path.c_str(), w, h, bands, GDT_UInt16, const_cast<char**>(co)));
  ASSERT_TRUE(ds);
  double gt[6] = {kX0, pixel, 0, kY0, 0, -pixel};
  ds->SetGeoTransform(gt);
  OGRSpatialReference srs;
  srs.importFromEPSG(32755);
  ds->SetSpatialRef(&srs);
  for (int b = 1; b <= bands; ++b) {
    std::vector<std::uint16_t> px(static_cast<std::size_t>(w) * h);
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x) px[static_cast<std::size_t>(y) * w + x] = static_cast<std::uint16_t>(value(b, x, y));
    auto* band = ds->GetRasterBand(b);
    band->SetNoDataValue(nodata);
    ASSERT_EQ(band->RasterIO(GF_Write, 0, 0, w, h, px.data(), w, h, GDT_UInt16, 0, 0, nullptr), CE_None);
  }
}

class GdalSourceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    GDALAllRegister();
    m_dir = fs::temp_directory_path() / ("reclaim_src_" + std::to_string(::getpid()) + "_" +
                                         ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(m_dir);
    fs::create_directories(m_dir);
    write_tif(m_dir / "scene.tif", kW, kH, 4, 10.0, kNodata, &dn);
    write_tif(m_dir / "swir.tif", kCW, kCH, 1, 20.0, 0.0, [](int, int x, int y) { return coarse_dn(x, y); });
  }
  void TearDown() override { fs::remove_all(m_dir); }

  reclaim::io::SceneSpec scene(reclaim::Resampling method) const {
    reclaim::io::SensorOptions o;
    o.sensor = reclaim::io::Sensor::generic;
    o.band_specs = {{Band::red, "3"}, {Band::nir, "4"}, {Band::swir1, (m_dir / "swir.tif").string()}};
    o.scale = 2e-4;
    o.offset = -0.1;
    o.resampling = method;
    return reclaim::io::resolve_scene("2019", m_dir / "scene.tif", o);
  }

  fs::path m_dir;
};

constexpr std::uint32_t kRedNirSwir = band_bit(Band::red) | band_bit(Band::nir) | band_bit(Band::swir1);

std::vector<float> read(reclaim::TileSource const& src, TileWindow const& w) {
  std::vector<float> out(static_cast<std::size_t>(src.plane_count()) * w.pixel_count(), -12345.0f);
  src.open_reader()->read(w, out.data());
  return out;
}

/// The documented upsampling of the coarse band onto fine pixel (i, j), factor 2.
double upsampled(int i, int j, reclaim::Resampling method) {
  auto coarse = [](int x, int y) {
    double const v = coarse_dn(x, y);
    return v == 0.0 ? std::nan("") : v;  // nodata becomes NaN before resampling
  };
  double u = (i + 0.5) / 2 - 0.5, v = (j + 0.5) / 2 - 0.5;
  if (method == reclaim::Resampling::nearest)
    return coarse(static_cast<int>(std::floor((i + 0.5) / 2)), static_cast<int>(std::floor((j + 0.5) / 2)));
  u = std::clamp(u, 0.0, kCW - 1.0);
  v = std::clamp(v, 0.0, kCH - 1.0);
  int const x0 = static_cast<int>(std::floor(u)), y0 = static_cast<int>(std::floor(v));
  int const x1 = std::min(x0 + 1, kCW - 1), y1 = std::min(y0 + 1, kCH - 1);
  double const a = u - x0, b = v - y0;
  double sum = 0;
  double const wts[4] = {(1 - a) * (1 - b), a * (1 - b), (1 - a) * b, a * b};
  int const xs[4] = {x0, x1, x0, x1}, ys[4] = {y0, y0, y1, y1};
  for (int k = 0; k < 4; ++k)
    if (wts[k] > 0) sum += wts[k] * coarse(xs[k], ys[k]);  // NaN propagates
  return sum;
}

void expect_tile(reclaim::io::GdalTileSource const& src, TileWindow const& w, reclaim::Resampling method) {
  SCOPED_TRACE("window " + std::to_string(w.x0) + "," + std::to_string(w.y0) + " " + std::to_string(w.width) + "x" +
               std::to_string(w.height));
  auto const p = src.fused_params();
  auto const out = read(src, w);
  int bad = 0;
  for (int r = 0; r < w.height; ++r)
    for (int c = 0; c < w.width; ++c) {
      int const x = static_cast<int>(w.x0) + c, y = static_cast<int>(w.y0) + r;
      std::size_t const i = static_cast<std::size_t>(r) * w.width + c;
      float const red = out[static_cast<std::size_t>(p.band_plane[static_cast<int>(Band::red)]) * w.pixel_count() + i];
      float const nir = out[static_cast<std::size_t>(p.band_plane[static_cast<int>(Band::nir)]) * w.pixel_count() + i];
      float const swir = out[static_cast<std::size_t>(p.band_plane[static_cast<int>(Band::swir1)]) * w.pixel_count() + i];
      double const want_swir = upsampled(x, y, method);
      bool ok = static_cast<double>(red) == dn(3, x, y) && static_cast<double>(nir) == dn(4, x, y);
      ok = ok && (std::isnan(want_swir) ? std::isnan(swir) : std::abs(static_cast<double>(swir) - want_swir) < 1e-3);
      if (!ok && bad++ < 5)
        ADD_FAILURE() << "(" << x << ", " << y << "): red " << red << " nir " << nir << " swir " << swir
                      << " (want " << dn(3, x, y) << ", " << dn(4, x, y) << ", " << want_swir << ")";
    }
}

TEST_F(GdalSourceTest, GridPlanesAndCalibration) {
  reclaim::io::GdalTileSource src(scene(reclaim::Resampling::bilinear), kRedNirSwir);
  auto const& g = src.grid();
  EXPECT_EQ(g.width, kW);
  EXPECT_EQ(g.height, kH);
  EXPECT_EQ(g.geotransform[0], kX0);
  EXPECT_EQ(g.geotransform[1], 10.0);
  EXPECT_EQ(g.geotransform[3], kY0);
  EXPECT_EQ(g.geotransform[5], -10.0);
  EXPECT_EQ(g.block_width, 16);
  EXPECT_EQ(g.block_height, 16);
  OGRSpatialReference srs;
  ASSERT_EQ(srs.importFromWkt(g.crs_wkt.c_str()), OGRERR_NONE);
  EXPECT_STREQ(srs.GetAuthorityCode(nullptr), "32755");
  EXPECT_EQ(src.plane_count(), 3);
  auto const p = src.fused_params();
  EXPECT_EQ(p.input_plane_count, 3);
  EXPECT_EQ(p.mask_plane, -1);  // generic, no mask band
  std::vector<int> planes{p.band_plane[static_cast<int>(Band::red)], p.band_plane[static_cast<int>(Band::nir)],
                          p.band_plane[static_cast<int>(Band::swir1)]};
  std::sort(planes.begin(), planes.end());
  EXPECT_EQ(planes, (std::vector<int>{0, 1, 2}));
  EXPECT_EQ(p.band_plane[static_cast<int>(Band::blue)], -1);
  auto const& red = p.calibration[static_cast<int>(Band::red)];
  EXPECT_EQ(red.scale, 2e-4);
  EXPECT_EQ(red.offset, -0.1);
  EXPECT_TRUE(red.has_nodata);  // the file's own nodata (generic sensor, no --nodata)
  EXPECT_EQ(red.nodata, static_cast<float>(kNodata));
  // Reflectance = DN x scale + offset; the nodata DN gives NaN.
  EXPECT_NEAR(reclaim::pixel::to_reflectance(static_cast<float>(dn(3, 4, 2)), red), 3042 * 2e-4 - 0.1, 1e-15);
  EXPECT_TRUE(std::isnan(reclaim::pixel::to_reflectance(static_cast<float>(dn(3, kHoleX, kHoleY)), red)));
  EXPECT_EQ(p.calibration[static_cast<int>(Band::swir1)].nodata, 0.0f);  // swir.tif's nodata
  auto const files = src.files();
  EXPECT_EQ(files.size(), 2u);
}

TEST_F(GdalSourceTest, TilesInsideAndAtTheEdgeBilinear) {
  reclaim::io::GdalTileSource src(scene(reclaim::Resampling::bilinear), kRedNirSwir);
  expect_tile(src, {0, 0, 0, kW, kH}, reclaim::Resampling::bilinear);
  expect_tile(src, {1, 16, 16, 16, 16}, reclaim::Resampling::bilinear);
  expect_tile(src, {2, 48, 32, 2, 8}, reclaim::Resampling::bilinear);   // bottom-right, ragged
  expect_tile(src, {3, 17, 13, 11, 9}, reclaim::Resampling::bilinear);  // unaligned, holds the swir hole
  // The coarse nodata pixel (10, 10) spoils exactly the fine pixels 19..22 in each direction.
  auto const out = read(src, {0, 0, 0, kW, kH});
  int const sp = src.fused_params().band_plane[static_cast<int>(Band::swir1)];
  int nan_count = 0;
  for (int i = 0; i < kW * kH; ++i) nan_count += std::isnan(out[static_cast<std::size_t>(sp * kW * kH + i)]);
  EXPECT_EQ(nan_count, 16);
}

TEST_F(GdalSourceTest, NearestUpsampling) {
  reclaim::io::GdalTileSource src(scene(reclaim::Resampling::nearest), kRedNirSwir);
  expect_tile(src, {0, 0, 0, kW, kH}, reclaim::Resampling::nearest);
  expect_tile(src, {1, 33, 21, 17, 19}, reclaim::Resampling::nearest);
  auto const out = read(src, {0, 0, 0, kW, kH});
  int const sp = src.fused_params().band_plane[static_cast<int>(Band::swir1)];
  int nan_count = 0;
  for (int i = 0; i < kW * kH; ++i) nan_count += std::isnan(out[static_cast<std::size_t>(sp * kW * kH + i)]);
  EXPECT_EQ(nan_count, 4);  // one coarse pixel = 2 x 2 fine pixels
}

TEST_F(GdalSourceTest, OntoAnotherEpochsGrid) {
  // Target: 40 x 30 pixels of 10 m, half a pixel right and one pixel down of the scene.
  Grid target;
  target.width = 40;
  target.height = 30;
  target.geotransform = {kX0 + 5.0, 10.0, 0, kY0 - 10.0, 0, -10.0};
  target.crs_wkt = utm_wkt();
  std::uint32_t const bands = band_bit(Band::red) | band_bit(Band::nir);
  for (auto method : {reclaim::Resampling::bilinear, reclaim::Resampling::nearest}) {
    SCOPED_TRACE(method == reclaim::Resampling::bilinear ? "bilinear" : "nearest");
    reclaim::io::GdalTileSource src(scene(method), bands, target);
    EXPECT_EQ(src.grid().width, 40);
    EXPECT_EQ(src.grid().height, 30);
    EXPECT_EQ(src.grid().geotransform[0], kX0 + 5.0);
    EXPECT_EQ(src.grid().geotransform[3], kY0 - 10.0);
    auto const p = src.fused_params();
    auto const out = read(src, {0, 0, 0, 40, 30});
    int bad = 0, checked = 0;
    for (int j = 0; j < 30; ++j)
      for (int i = 0; i < 40; ++i) {
        // Target centre (i + 1, j + 1.5) in scene pixels: bilinear is halfway between scene
        // columns i and i + 1 of row j + 1, and DN is linear in x: DN(i + 0.5, j + 1).
        if (std::abs(i - kHoleX) <= 1 && std::abs(j + 1 - kHoleY) <= 1) continue;  // next to the nodata DN
        for (int b : {3, 4}) {
          float const got = out[static_cast<std::size_t>(p.band_plane[b == 3 ? 2 : 3]) * 1200 +
                                static_cast<std::size_t>(j) * 40 + i];
          double want = 1000.0 * b + 10.0 * (i + 0.5) + (j + 1);
          if (method == reclaim::Resampling::nearest) {
            // Exactly on the boundary between columns i and i + 1: either neighbour is right.
            double const lo = dn(b, i, j + 1), hi = dn(b, i + 1, j + 1);
            if (static_cast<double>(got) == lo || static_cast<double>(got) == hi) want = got;
          }
          ++checked;
          if (std::abs(static_cast<double>(got) - want) > 1e-3 && bad++ < 5)
            ADD_FAILURE() << "band " << b << " (" << i << ", " << j << "): " << got << " != " << want;
        }
      }
    EXPECT_GT(checked, 2000);
  }
}

TEST_F(GdalSourceTest, TargetThatDoesNotOverlapIsAnInputError) {
  Grid target;
  target.width = 10;
  target.height = 10;
  target.geotransform = {kX0 + 100000.0, 10.0, 0, kY0, 0, -10.0};
  target.crs_wkt = utm_wkt();
  EXPECT_THROW(reclaim::io::GdalTileSource(scene(reclaim::Resampling::bilinear), band_bit(Band::red), target),
               reclaim::input_error);
}

std::string wkt_of(int epsg) {
  OGRSpatialReference srs;
  srs.importFromEPSG(epsg);
  char* wkt = nullptr;
  srs.exportToWkt(&wkt);
  std::string s = wkt;
  CPLFree(wkt);
  return s;
}

TEST(MosaicGrid, ExtendedGridHoldsEveryScene) {
  // Two scenes on one 10 m lattice: the second 35 px right and 12 px up of the first.
  Grid a;
  a.width = 100;
  a.height = 80;
  a.geotransform = {500000.0, 10.0, 0, 3300000.0, 0, -10.0};
  a.crs_wkt = wkt_of(32649);
  Grid b = a;
  b.geotransform[0] += 350.0;
  b.geotransform[3] += 120.0;
  auto const g = reclaim::io::extended_grid(a, {b});
  EXPECT_EQ(g.geotransform[0], 500000.0);
  EXPECT_EQ(g.geotransform[3], 3300120.0);
  EXPECT_EQ(g.width, 135);  // 35 + 100
  EXPECT_EQ(g.height, 92);  // 12 + 80
  // The first scene's footprint on it, and the second's.
  auto const fa = reclaim::io::footprint_on(a, g);
  ASSERT_TRUE(fa);
  EXPECT_EQ(fa->x0, 0);
  EXPECT_EQ(fa->y0, 12);
  EXPECT_EQ(fa->width, 100);
  EXPECT_EQ(fa->height, 80);
  auto const fb = reclaim::io::footprint_on(b, g);
  ASSERT_TRUE(fb);
  EXPECT_EQ(fb->x0, 35);
  EXPECT_EQ(fb->y0, 0);
  // A grid that only touches the first one's edge shares no pixel.
  Grid c = a;
  c.geotransform[0] += 1000.0;
  EXPECT_FALSE(reclaim::io::footprint_on(c, a));
}

TEST(MosaicGrid, FootprintAcrossUtmZones) {
  // A zone-50 scene just east of 114 E (the zone boundary) on a zone-49 grid. Its corners in
  // zone 49, from gdaltransform -s_srs EPSG:32650 -t_srs EPSG:32649: (789418.0, 3322600.5),
  // (790416.7, 3322652.8), (789470.4, 3321601.8), (790469.0, 3321654.2); their bounding box on
  // the grid below is columns 141..247 and rows 34..140.
  Grid z49;
  z49.width = 300;
  z49.height = 200;
  z49.geotransform = {788000.0, 10.0, 0, 3323000.0, 0, -10.0};
  z49.crs_wkt = wkt_of(32649);
  Grid z50;
  z50.width = 100;
  z50.height = 100;
  z50.geotransform = {210600.0, 10.0, 0, 3322600.0, 0, -10.0};
  z50.crs_wkt = wkt_of(32650);
  auto const f = reclaim::io::footprint_on(z50, z49);
  ASSERT_TRUE(f);
  EXPECT_EQ(f->x0, 141);
  EXPECT_EQ(f->y0, 34);
  EXPECT_NEAR(static_cast<double>(f->x0 + f->width), 247.0, 1.0);  // edges densified: may grow by one
  EXPECT_NEAR(static_cast<double>(f->y0 + f->height), 140.0, 1.0);
}

TEST_F(GdalSourceTest, CoarseBandThatDoesNotNestIsAnInputError) {
  // A coarse file whose origin is off the fine lattice by a third of a pixel.
  auto* drv = GetGDALDriverManager()->GetDriverByName("GTiff");
  {
    GDALDatasetUniquePtr ds(drv->Create((m_dir / "off.tif").c_str(), kCW, kCH, 1, GDT_UInt16, nullptr));
    double gt[6] = {kX0 + 3.3, 20.0, 0, kY0, 0, -20.0};
    ds->SetGeoTransform(gt);
    OGRSpatialReference srs;
    srs.importFromEPSG(32755);
    ds->SetSpatialRef(&srs);
  }
  reclaim::io::SensorOptions o;
  o.sensor = reclaim::io::Sensor::generic;
  o.band_specs = {{Band::red, "3"}, {Band::swir1, (m_dir / "off.tif").string()}};
  auto const s = reclaim::io::resolve_scene("x", m_dir / "scene.tif", o);
  EXPECT_THROW(reclaim::io::GdalTileSource(s, band_bit(Band::red) | band_bit(Band::swir1)), reclaim::input_error);
}

}  // namespace
