// io::DirectTiff against GDAL: GeoTIFFs written here by GDAL in every layout the direct reader
// takes (Byte, UInt16, Int16, Float32; predictor none, horizontal, floating point; DEFLATE and
// none; ragged edge tiles), read both ways; the values must be GDAL's bit for bit. And the
// layouts it must leave to GDAL (LZW, pixel-interleaved, stripped, big-endian, windows off the
// tile corners, sparse tiles, RECLAIM_DIRECT_TIFF=0).
#include "io/direct_tiff.hpp"

#include <gtest/gtest.h>

#include <gdal_priv.h>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <limits>
#include <string>
#include <vector>

#include <unistd.h>

namespace fs = std::filesystem;
using reclaim::TileWindow;
using reclaim::io::DirectTiff;

namespace {

constexpr int kW = 700, kH = 650, kBlock = 256;  // ragged: the last tiles are partly outside

fs::path temp_dir() {
  GDALAllRegister();
  auto d = fs::temp_directory_path() / ("reclaim-direct-tiff-" + std::to_string(::getpid()));
  fs::create_directories(d);
  return d;
}

/// Values exercising the type: sign, wrap-around of the horizontal differences, and for Float32
/// NaN (two payloads), infinities, -0, subnormals and large magnitudes.
double value_at(GDALDataType type, int band, int x, int y) {
  std::uint32_t h = static_cast<std::uint32_t>(x) * 73856093u ^ static_cast<std::uint32_t>(y) * 19349663u ^
                    static_cast<std::uint32_t>(band) * 83492791u;
  h ^= h >> 13;
  h *= 0x5bd1e995u;
  h ^= h >> 15;
  switch (type) {
    case GDT_Byte: return h % 256u;
    case GDT_UInt16: return (x + y) % 5 == 0 ? 65535.0 : h % 65536u;
    case GDT_Int16: return static_cast<double>(static_cast<int>(h % 65536u) - 32768);
    default: break;
  }
  return 0.0;  // Float32 values are written as bits (float_bits)
}

std::uint32_t float_bits(int band, int x, int y) {
  std::uint32_t const specials[] = {0x7fc00000u, 0x7fc00001u, 0x7f800000u, 0xff800000u, 0x80000000u, 0x00000001u,
                                    0x7f7fffffu};
  std::uint32_t h = static_cast<std::uint32_t>(x) * 2654435761u ^ (static_cast<std::uint32_t>(y) * 40503u +
                                                                     static_cast<std::uint32_t>(band));
  h ^= h >> 16;
  h *= 0x45d9f3bu;
  h ^= h >> 16;
  if (h % 17 == 0) return specials[h % 7];
  float const f = static_cast<float>(static_cast<int>(h % 20001u) - 10000) / 7919.0f;  // -1.26 .. 1.26
  std::uint32_t b;
  std::memcpy(&b, &f, sizeof b);
  return b;
}

/// Writes a kW x kH GeoTIFF of `bands` bands with GDAL's GTiff driver and `options`.
fs::path write_tiff(std::string const& name, GDALDataType type, int bands, std::vector<std::string> const& options) {
  auto const path = temp_dir() / name;
  CPLStringList opts;
  for (auto const& o : options) opts.AddString(o.c_str());
  auto* driver = GetGDALDriverManager()->GetDriverByName("GTiff");
  GDALDatasetUniquePtr ds(driver->Create(path.c_str(), kW, kH, bands, type, opts.List()));
  if (!ds) throw std::runtime_error("cannot create " + path.string());
  for (int b = 1; b <= bands; ++b) {
    std::vector<double> values(static_cast<std::size_t>(kW) * kH);
    std::vector<float> floats(values.size());
    for (int y = 0; y < kH; ++y)
      for (int x = 0; x < kW; ++x) {
        auto const i = static_cast<std::size_t>(y) * kW + x;
        if (type == GDT_Float32) {
          auto const bits = float_bits(b, x, y);
          std::memcpy(&floats[i], &bits, sizeof bits);
        } else {
          values[i] = value_at(type, b, x, y);
        }
      }
    CPLErr const err = type == GDT_Float32
                           ? ds->GetRasterBand(b)->RasterIO(GF_Write, 0, 0, kW, kH, floats.data(), kW, kH, GDT_Float32, 0, 0)
                           : ds->GetRasterBand(b)->RasterIO(GF_Write, 0, 0, kW, kH, values.data(), kW, kH, GDT_Float64, 0, 0);
    if (err != CE_None) throw std::runtime_error("cannot write " + path.string());
  }
  return path;
}

GDALDatasetUniquePtr open(fs::path const& p) {
  return GDALDatasetUniquePtr(GDALDataset::Open(p.c_str(), GDAL_OF_RASTER | GDAL_OF_READONLY));
}

/// Band `band` of window w through GDAL, as float (what GdalTileReader asks GDAL for).
std::vector<float> gdal_read(GDALDataset& ds, int band, TileWindow const& w) {
  std::vector<float> out(w.pixel_count());
  EXPECT_EQ(ds.GetRasterBand(band)->RasterIO(GF_Read, static_cast<int>(w.x0), static_cast<int>(w.y0), w.width, w.height,
                                             out.data(), w.width, w.height, GDT_Float32, 0, 0),
            CE_None);
  return out;
}

bool same_bits(std::vector<float> const& a, std::vector<float> const& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

struct Layout {
  char const* name;
  GDALDataType type;
  int bands;
  std::vector<std::string> options;
};

class DirectTiffLayouts : public ::testing::TestWithParam<Layout> {};

TEST_P(DirectTiffLayouts, GivesGdalsValuesBitForBit) {
  auto const& l = GetParam();
  auto opts = l.options;
  opts.insert(opts.end(), {"TILED=YES", "BLOCKXSIZE=256", "BLOCKYSIZE=256"});
  auto const path = write_tiff(std::string(l.name) + ".tif", l.type, l.bands, opts);
  auto ds = open(path);
  ASSERT_TRUE(ds);
  auto direct = DirectTiff::open(path, *ds);
  ASSERT_TRUE(direct) << "the direct reader declined " << l.name;
  // Whole tiles, a window of several tiles, the ragged corner, a window ending inside a tile.
  std::vector<TileWindow> const windows = {{0, 0, 0, kBlock, kBlock},
                                           {0, 0, 0, kW, kH},
                                           {0, 2 * kBlock, 2 * kBlock, kW - 2 * kBlock, kH - 2 * kBlock},
                                           {0, kBlock, 0, 300, 100}};
  std::size_t finite = 0;
  for (int b = 1; b <= l.bands; ++b)
    for (auto const& w : windows) {
      std::vector<float> got(w.pixel_count(), -7.f);
      ASSERT_TRUE(direct->read(b, w, got.data())) << l.name << " band " << b;
      auto const want = gdal_read(*ds, b, w);
      ASSERT_TRUE(same_bits(got, want)) << l.name << " band " << b << " window " << w.x0 << "," << w.y0 << " "
                                        << w.width << "x" << w.height;
      for (float v : got) finite += std::isfinite(v) && v != 0.f;
    }
  EXPECT_GT(finite, 1000u);  // non-vacuous
}

INSTANTIATE_TEST_SUITE_P(
    Layouts, DirectTiffLayouts,
    ::testing::Values(
        Layout{"uint16_deflate_horizontal_bands", GDT_UInt16, 3, {"COMPRESS=DEFLATE", "PREDICTOR=2", "INTERLEAVE=BAND"}},
        Layout{"uint16_deflate_plain", GDT_UInt16, 1, {"COMPRESS=DEFLATE"}},
        Layout{"uint16_uncompressed", GDT_UInt16, 2, {"INTERLEAVE=BAND"}},
        Layout{"int16_deflate_horizontal", GDT_Int16, 1, {"COMPRESS=DEFLATE", "PREDICTOR=2"}},
        Layout{"int16_plain", GDT_Int16, 1, {"COMPRESS=DEFLATE", "ZLEVEL=9"}},
        Layout{"byte_deflate_horizontal", GDT_Byte, 2, {"COMPRESS=DEFLATE", "PREDICTOR=2", "INTERLEAVE=BAND"}},
        Layout{"byte_uncompressed", GDT_Byte, 1, {}},
        Layout{"float32_deflate_floating_point", GDT_Float32, 2, {"COMPRESS=DEFLATE", "PREDICTOR=3", "INTERLEAVE=BAND"}},
        Layout{"float32_deflate_plain", GDT_Float32, 1, {"COMPRESS=DEFLATE", "ZLEVEL=1"}},
        Layout{"float32_uncompressed", GDT_Float32, 1, {}}),
    [](::testing::TestParamInfo<Layout> const& p) { return std::string(p.param.name); });

TEST(DirectTiff, LeavesOtherLayoutsToGdal) {
  struct Case {
    char const* name;
    GDALDataType type;
    int bands;
    std::vector<std::string> options;
  };
  std::vector<Case> const cases = {
      {"lzw", GDT_UInt16, 1, {"TILED=YES", "COMPRESS=LZW"}},
      {"pixel_interleaved", GDT_UInt16, 3, {"TILED=YES", "COMPRESS=DEFLATE", "INTERLEAVE=PIXEL"}},
      {"stripped", GDT_UInt16, 1, {"COMPRESS=DEFLATE"}},
      {"big_endian", GDT_UInt16, 1, {"TILED=YES", "COMPRESS=DEFLATE", "ENDIANNESS=BIG"}},
      {"uint32", GDT_UInt32, 1, {"TILED=YES", "COMPRESS=DEFLATE"}},
      {"float64", GDT_Float64, 1, {"TILED=YES", "COMPRESS=DEFLATE"}},
  };
  for (auto const& c : cases) {
    auto const path = write_tiff(std::string("other_") + c.name + ".tif", c.type, c.bands, c.options);
    auto ds = open(path);
    ASSERT_TRUE(ds);
    EXPECT_FALSE(DirectTiff::open(path, *ds)) << c.name;
  }
  auto const plain = write_tiff("switch.tif", GDT_UInt16, 1, {"TILED=YES", "COMPRESS=DEFLATE", "PREDICTOR=2"});
  auto ds = open(plain);
  EXPECT_TRUE(DirectTiff::open(plain, *ds));
  ::setenv("RECLAIM_DIRECT_TIFF", "0", 1);
  EXPECT_FALSE(DirectTiff::open(plain, *ds)) << "RECLAIM_DIRECT_TIFF=0 turns it off";
  ::unsetenv("RECLAIM_DIRECT_TIFF");
}

TEST(DirectTiff, DeclinesWindowsOffTheTileCornersAndSparseTiles) {
  auto const path = temp_dir() / "sparse.tif";
  {
    char const* opts[] = {"TILED=YES", "BLOCKXSIZE=256", "BLOCKYSIZE=256", "COMPRESS=DEFLATE", "SPARSE_OK=TRUE", nullptr};
    auto* driver = GetGDALDriverManager()->GetDriverByName("GTiff");
    GDALDatasetUniquePtr ds(driver->Create(path.c_str(), kW, kH, 1, GDT_UInt16, const_cast<char**>(opts)));
    std::vector<std::uint16_t> block(kBlock * kBlock, 1234);
    ASSERT_EQ(ds->GetRasterBand(1)->RasterIO(GF_Write, 0, 0, kBlock, kBlock, block.data(), kBlock, kBlock, GDT_UInt16, 0, 0),
              CE_None);  // only the first tile is written
  }
  auto ds = open(path);
  auto direct = DirectTiff::open(path, *ds);
  ASSERT_TRUE(direct);
  std::vector<float> out(static_cast<std::size_t>(kW) * kH);
  TileWindow const first{0, 0, 0, kBlock, kBlock};
  ASSERT_TRUE(direct->read(1, first, out.data()));
  EXPECT_EQ(out[0], 1234.f);
  EXPECT_FALSE(direct->read(1, {0, kBlock, 0, kBlock, kBlock}, out.data())) << "a sparse tile is GDAL's";
  EXPECT_FALSE(direct->read(1, {0, 10, 0, kBlock, kBlock}, out.data())) << "off the tile corner";
  EXPECT_FALSE(direct->read(1, {0, 0, 0, kW + kBlock, kBlock}, out.data())) << "past the image";
  EXPECT_FALSE(direct->read(2, first, out.data())) << "no band 2";
}

}  // namespace
