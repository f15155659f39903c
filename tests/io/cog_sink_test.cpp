// COG sinks (StreamingCogSink, ScratchCogSink, make_cog_sink): a small two-output product
// written with its tiles out of order, read back with GDAL and compared with the pixel
// functions below; the COG layout checked the way GDAL's validate_cloud_optimized_geotiff.py
// does (LAYOUT=COG, tiled, IFDs and tile data in order, overview data before full resolution);
// and nothing at the final path when a run stops before finish().
#include <gtest/gtest.h>

#include <gdal_priv.h>
#include <ogr_spatialref.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include <unistd.h>

#include "reclaim/error.hpp"
#include "reclaim/io/cog_writer.hpp"

namespace fs = std::filesystem;
using reclaim::Grid;
using reclaim::TilePlan;
using reclaim::TileWindow;
using reclaim::io::CogOptions;
using reclaim::io::OutputRaster;

namespace {

constexpr std::int64_t kW = 300, kH = 200;
constexpr int kPlanes = 3;  // plane 0: classes, plane 1: unused by the sinks, plane 2: values

float class_at(std::int64_t x, std::int64_t y) {
  if (x < 10 && y < 10) return std::numeric_limits<float>::quiet_NaN();  // -> class 0 (nodata)
  return static_cast<float>(1 + (x / 7 + y / 5) % 3);
}
float value_at(std::int64_t x, std::int64_t y) {
  if (x == y) return std::numeric_limits<float>::quiet_NaN();
  return static_cast<float>(x) * 0.001f - static_cast<float>(y) * 0.002f;
}

class CogSinkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    GDALAllRegister();
    m_dir = fs::temp_directory_path() /
            ("reclaim_cog_" + std::to_string(::getpid()) + "_" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(m_dir);
    fs::create_directories(m_dir);
    OGRSpatialReference srs;
    srs.importFromEPSG(32755);
    char* wkt = nullptr;
    srs.exportToWkt(&wkt);
    m_grid.crs_wkt = wkt;
    CPLFree(wkt);
    m_grid.width = kW;
    m_grid.height = kH;
    m_grid.geotransform = {600000.0, 10.0, 0, 6200000.0, 0, -10.0};
    m_grid.block_width = 32;
    m_grid.block_height = 32;
    reclaim::PlanRequest req;
    req.target_tile_pixels = 64 * 64;
    m_plan = reclaim::make_plan(m_grid, req);
  }
  void TearDown() override { fs::remove_all(m_dir); }

  std::vector<OutputRaster> outputs() const {
    OutputRaster values;
    values.path = m_dir / "values.tif";
    values.description = "test values";
    values.metadata = {{"RECLAIM_EPOCH", "2019"}};
    values.plane = 2;
    OutputRaster classes;
    classes.path = m_dir / "classes.tif";
    classes.description = "test classes";
    classes.categorical = true;
    classes.category_names = {"no data", "bare", "grass", "trees"};
    classes.colors = {{0, 0, 0, 0}, {200, 180, 120, 255}, {120, 200, 80, 255}, {0, 100, 0, 255}};
    classes.plane = 0;
    return {values, classes};
  }

  std::vector<float> tile_planes(TileWindow const& w) const {
    std::vector<float> p(kPlanes * w.pixel_count(), -999.0f);
    for (std::int32_t r = 0; r < w.height; ++r)
      for (std::int32_t c = 0; c < w.width; ++c) {
        std::size_t const i = static_cast<std::size_t>(r) * static_cast<std::size_t>(w.width) + static_cast<std::size_t>(c);
        p[i] = class_at(w.x0 + c, w.y0 + r);
        p[2 * w.pixel_count() + i] = value_at(w.x0 + c, w.y0 + r);
      }
    return p;
  }

  /// Writes every tile (all but `skip_last`) in an order shuffled with `seed` (0: plan order).
  void write_tiles(reclaim::TileSink& sink, unsigned seed, std::size_t skip_last = 0) const {
    auto tiles = m_plan.tiles;
    if (seed) std::shuffle(tiles.begin(), tiles.end(), std::mt19937(seed));
    tiles.resize(tiles.size() - skip_last);
    for (auto const& t : tiles) {
      auto const p = tile_planes(t);
      sink.write(t, p.data(), kPlanes);
    }
  }

  /// Every entry of the output folder (hidden temporaries included).
  std::vector<std::string> dir_entries() const {
    std::vector<std::string> names;
    for (auto const& e : fs::directory_iterator(m_dir)) names.push_back(e.path().filename().string());
    std::sort(names.begin(), names.end());
    return names;
  }

  void check_product(bool overviews) const;

  fs::path m_dir;
  Grid m_grid;
  TilePlan m_plan;
};

/// The checks of validate_cloud_optimized_geotiff.py that matter here, through GDAL's C++ API.
void expect_cog_layout(GDALDataset& ds, int block) {
  char const* layout = ds.GetMetadataItem("LAYOUT", "IMAGE_STRUCTURE");
  ASSERT_NE(layout, nullptr) << "no LAYOUT=COG: not written by the COG driver";
  EXPECT_STREQ(layout, "COG");
  auto* band = ds.GetRasterBand(1);
  int bx = 0, by = 0;
  band->GetBlockSize(&bx, &by);
  EXPECT_EQ(bx, block);
  EXPECT_EQ(by, block);
  // Tile data of the full resolution: increasing offsets in row-major order.
  int const nbx = (ds.GetRasterXSize() + block - 1) / block, nby = (ds.GetRasterYSize() + block - 1) / block;
  auto offset = [](GDALRasterBand* b, int x, int y) {
    char const* v = b->GetMetadataItem(("BLOCK_OFFSET_" + std::to_string(x) + "_" + std::to_string(y)).c_str(), "TIFF");
    return v ? std::strtoll(v, nullptr, 10) : -1LL;
  };
  long long prev = 0;
  for (int y = 0; y < nby; ++y)
    for (int x = 0; x < nbx; ++x) {
      long long const o = offset(band, x, y);
      EXPECT_GT(o, prev) << "block " << x << "," << y;
      prev = o;
    }
  // Overview tile data comes before the full-resolution data (smallest overview first).
  long long const first_full = offset(band, 0, 0);
  long long last_end = 0;
  for (int i = band->GetOverviewCount() - 1; i >= 0; --i) {
    auto* ov = band->GetOverview(i);
    long long const o = offset(ov, 0, 0);
    EXPECT_GT(o, last_end) << "overview " << i;
    EXPECT_LT(o, first_full) << "overview " << i << " data after the full-resolution data";
    last_end = o;
  }
}

void CogSinkTest::check_product(bool overviews) const {
  auto const outs = outputs();
  {  // values: Float32, NaN nodata
    GDALDatasetUniquePtr ds(GDALDataset::Open(outs[0].path.c_str(), GDAL_OF_RASTER | GDAL_OF_READONLY));
    ASSERT_TRUE(ds);
    EXPECT_EQ(ds->GetRasterXSize(), kW);
    EXPECT_EQ(ds->GetRasterYSize(), kH);
    ASSERT_EQ(ds->GetRasterCount(), 1);
    double gt[6];
    ASSERT_EQ(ds->GetGeoTransform(gt), CE_None);
    for (int i = 0; i < 6; ++i) EXPECT_EQ(gt[i], m_grid.geotransform[static_cast<std::size_t>(i)]);
    ASSERT_NE(ds->GetSpatialRef(), nullptr);
    EXPECT_STREQ(ds->GetSpatialRef()->GetAuthorityCode(nullptr), "32755");
    auto* band = ds->GetRasterBand(1);
    EXPECT_EQ(band->GetRasterDataType(), GDT_Float32);
    int has = 0;
    EXPECT_TRUE(std::isnan(band->GetNoDataValue(&has)));
    EXPECT_TRUE(has);
    EXPECT_STREQ(band->GetDescription(), "test values");
    ASSERT_NE(ds->GetMetadataItem("RECLAIM_EPOCH"), nullptr);
    EXPECT_STREQ(ds->GetMetadataItem("RECLAIM_EPOCH"), "2019");
    EXPECT_STREQ(ds->GetMetadataItem("COMPRESSION", "IMAGE_STRUCTURE"), "DEFLATE");
    EXPECT_STREQ(ds->GetMetadataItem("PREDICTOR", "IMAGE_STRUCTURE"), "3");  // floating-point predictor
    std::vector<float> px(static_cast<std::size_t>(kW * kH));
    ASSERT_EQ(band->RasterIO(GF_Read, 0, 0, kW, kH, px.data(), kW, kH, GDT_Float32, 0, 0, nullptr), CE_None);
    int bad = 0;
    for (std::int64_t y = 0; y < kH; ++y)
      for (std::int64_t x = 0; x < kW; ++x) {
        float const want = value_at(x, y), got = px[static_cast<std::size_t>(y * kW + x)];
        bool const ok = std::isnan(want) ? std::isnan(got) : got == want;
        if (!ok && bad++ < 5) ADD_FAILURE() << "values (" << x << ", " << y << "): " << got << " != " << want;
      }
    EXPECT_EQ(bad, 0);
    if (overviews) {
      ASSERT_GE(band->GetOverviewCount(), 1);
      auto* ov = band->GetOverview(0);
      EXPECT_EQ(ov->GetXSize(), kW / 2);
      EXPECT_EQ(ov->GetYSize(), kH / 2);
      std::vector<float> o(static_cast<std::size_t>(ov->GetXSize() * ov->GetYSize()));
      ASSERT_EQ(ov->RasterIO(GF_Read, 0, 0, ov->GetXSize(), ov->GetYSize(), o.data(), ov->GetXSize(), ov->GetYSize(),
                             GDT_Float32, 0, 0, nullptr),
                CE_None);
      // AVERAGE: overview pixel (i, j) = mean of the 2 x 2 full-resolution pixels, where none is NaN.
      int checked = 0;
      for (std::int64_t j = 0; j < kH / 2; j += 7)
        for (std::int64_t i = 0; i < kW / 2; i += 5) {
          if (std::abs(i - j) <= 1) continue;  // blocks touching the NaN diagonal
          double want = 0;
          for (int dy = 0; dy < 2; ++dy)
            for (int dx = 0; dx < 2; ++dx) want += static_cast<double>(value_at(2 * i + dx, 2 * j + dy));
          want /= 4;
          EXPECT_NEAR(o[static_cast<std::size_t>(j * (kW / 2) + i)], want, 1e-6) << i << "," << j;
          ++checked;
        }
      EXPECT_GT(checked, 100);
    } else {
      EXPECT_EQ(band->GetOverviewCount(), 0);
    }
    expect_cog_layout(*ds, 64);
  }
  {  // classes: Byte, 0 = nodata, colour table, category names
    GDALDatasetUniquePtr ds(GDALDataset::Open(outs[1].path.c_str(), GDAL_OF_RASTER | GDAL_OF_READONLY));
    ASSERT_TRUE(ds);
    auto* band = ds->GetRasterBand(1);
    EXPECT_EQ(band->GetRasterDataType(), GDT_Byte);
    int has = 0;
    EXPECT_EQ(band->GetNoDataValue(&has), 0.0);
    EXPECT_TRUE(has);
    EXPECT_STREQ(band->GetDescription(), "test classes");
    auto* ct = band->GetColorTable();
    ASSERT_NE(ct, nullptr);
    ASSERT_GE(ct->GetColorEntryCount(), 4);
    EXPECT_EQ(ct->GetColorEntry(2)->c1, 120);
    EXPECT_EQ(ct->GetColorEntry(2)->c2, 200);
    EXPECT_EQ(ct->GetColorEntry(3)->c3, 0);
    EXPECT_EQ(ct->GetColorEntry(1)->c4, 255);
    char** names = band->GetCategoryNames();
    ASSERT_NE(names, nullptr);
    ASSERT_GE(CSLCount(names), 4);
    EXPECT_STREQ(names[0], "no data");
    EXPECT_STREQ(names[3], "trees");
    std::vector<std::uint8_t> px(static_cast<std::size_t>(kW * kH));
    ASSERT_EQ(band->RasterIO(GF_Read, 0, 0, kW, kH, px.data(), kW, kH, GDT_Byte, 0, 0, nullptr), CE_None);
    int bad = 0;
    for (std::int64_t y = 0; y < kH; ++y)
      for (std::int64_t x = 0; x < kW; ++x) {
        float const c = class_at(x, y);
        int const want = std::isnan(c) ? 0 : static_cast<int>(c);
        int const got = px[static_cast<std::size_t>(y * kW + x)];
        if (got != want && bad++ < 5) ADD_FAILURE() << "classes (" << x << ", " << y << "): " << got << " != " << want;
      }
    EXPECT_EQ(bad, 0);
    expect_cog_layout(*ds, 64);
  }
  // Only the products (and the classes' .aux.xml with the category names) are left.
  auto const names = dir_entries();
  for (auto const& n : names) EXPECT_NE(n[0], '.') << "temporary left behind: " << n;
}

TEST_F(CogSinkTest, PlanHasSeveralTileRowsAndColumns) {
  ASSERT_GT(m_plan.tiles.size(), 4u);
  ASSERT_LT(m_plan.tile_height, kH);
  ASSERT_LT(m_plan.tile_width, kW);
}

TEST_F(CogSinkTest, StreamingSinkTilesOutOfOrder) {
  CogOptions opt;
  opt.block_size = 64;
  auto sink = reclaim::io::make_cog_sink(m_plan, outputs(), opt, std::size_t{1} << 30);
  EXPECT_STREQ(sink->kind(), "streaming");
  write_tiles(*sink, 42u);
  sink->finish();
  check_product(false);
}

TEST_F(CogSinkTest, StreamingSinkAtItsMinimumBuffer) {
  CogOptions opt;
  opt.block_size = 64;
  auto const need = reclaim::io::streaming_buffer_bytes(m_plan, 2, opt);
  EXPECT_LT(need, static_cast<std::size_t>(kW * kH) * sizeof(float) * 2);  // less than the whole product
  reclaim::io::StreamingCogSink sink(m_plan, outputs(), opt, need);
  write_tiles(sink, 0u);  // plan order: the back-pressure path
  sink.finish();
  EXPECT_GT(sink.peak_buffer_bytes(), 0u);
  check_product(false);
}

TEST_F(CogSinkTest, StreamingSinkMinimumBufferShuffled) {
  CogOptions opt;
  opt.block_size = 64;
  reclaim::io::StreamingCogSink sink(m_plan, outputs(), opt, reclaim::io::streaming_buffer_bytes(m_plan, 2, opt));
  write_tiles(sink, 7u);  // must not deadlock: the writer goes on while every encoder waits
  sink.finish();
  check_product(false);
}

TEST_F(CogSinkTest, ScratchSinkWithOverviews) {
  CogOptions opt;
  opt.block_size = 64;
  opt.overviews = true;
  auto sink = reclaim::io::make_cog_sink(m_plan, outputs(), opt, std::size_t{1} << 30);
  EXPECT_STREQ(sink->kind(), "scratch");  // overviews read the source twice: not streamable
  write_tiles(*sink, 3u);
  sink->finish();
  check_product(true);
}

TEST_F(CogSinkTest, ScratchSinkWhenTheBufferDoesNotFit) {
  CogOptions opt;
  opt.block_size = 64;
  auto sink = reclaim::io::make_cog_sink(m_plan, outputs(), opt, 1024);
  EXPECT_STREQ(sink->kind(), "scratch");
  write_tiles(*sink, 5u);
  sink->finish();
  check_product(false);
}

TEST_F(CogSinkTest, NothingLeftWhenARunStopsBeforeFinish) {
  CogOptions opt;
  opt.block_size = 64;
  for (bool scratch : {false, true}) {
    SCOPED_TRACE(scratch ? "scratch" : "streaming");
    {
      std::unique_ptr<reclaim::io::CogSink> sink;
      if (scratch)
        sink = std::make_unique<reclaim::io::ScratchCogSink>(m_grid, outputs(), opt);
      else
        sink = std::make_unique<reclaim::io::StreamingCogSink>(m_plan, outputs(), opt, std::size_t{1} << 30);
      write_tiles(*sink, 11u, 2);  // two tiles never come: the pass failed
      // the sink is destroyed without finish()
    }
    EXPECT_TRUE(dir_entries().empty()) << "left: " << (dir_entries().empty() ? "" : dir_entries()[0]);
    for (auto const& e : fs::directory_iterator(m_dir)) fs::remove_all(e.path());  // each sink on its own
  }
}

TEST_F(CogSinkTest, ScratchThatDoesNotFitTheDiskFailsBeforeAnyFile) {
  // Scratch files are sparse: ftruncate to any size succeeded, and the disk filled mid-pass.
  Grid huge = m_grid;
  auto const available = fs::space(m_dir).available;
  huge.width = 1 << 22;
  huge.height = static_cast<std::int64_t>(available / (std::uint64_t{4} << 22) + 1);
  ASSERT_GT(reclaim::io::scratch_bytes(huge, outputs()), available);
  CogOptions opt;
  try {
    reclaim::io::ScratchCogSink sink(huge, outputs(), opt);
    FAIL() << "expected io_error";
  } catch (reclaim::io_error const& e) {
    std::string const what = e.what();
    EXPECT_NE(what.find(m_dir.string() + ": not enough free space"), std::string::npos) << what;
    EXPECT_NE(what.find(std::to_string(reclaim::io::scratch_bytes(huge, outputs())) + " bytes"), std::string::npos)
        << what;
  }
  EXPECT_TRUE(dir_entries().empty());
  EXPECT_EQ(reclaim::io::scratch_bytes(m_grid, outputs()), static_cast<std::uintmax_t>(kW * kH * (4 + 1)));
}

TEST_F(CogSinkTest, UnwritableFolderIsAnIoErrorAndLeavesNothing) {
  CogOptions opt;
  opt.block_size = 64;
  auto outs = outputs();
  for (auto& o : outs) o.path = m_dir / "missing" / o.path.filename();
  EXPECT_THROW(reclaim::io::ScratchCogSink(m_grid, outs, opt), reclaim::io_error);
  bool threw = false;
  try {
    reclaim::io::StreamingCogSink sink(m_plan, outs, opt, std::size_t{1} << 30);
    write_tiles(sink, 0u);
    sink.finish();
  } catch (reclaim::io_error const& e) {
    threw = true;
    EXPECT_NE(std::string(e.what()).find("missing"), std::string::npos) << e.what();
  }
  EXPECT_TRUE(threw);
  EXPECT_TRUE(dir_entries().empty());
}

}  // namespace
