// Report pictures and the HTML report: PNGs are written into a temporary folder and read back
// with GDAL; the report is checked as text (one row per site, escaping, data URIs that decode
// to the exact PNG bytes). RECLAIM_KEEP_REPORT=DIR copies the generated report folder to DIR
// (for tests/e2e/browser.py checks by hand).
#include <gtest/gtest.h>

#include <gdal_priv.h>
#include <ogr_spatialref.h>

#include <array>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "reclaim/error.hpp"
#include "reclaim/io/picture.hpp"
#include "reclaim/io/report.hpp"

namespace fs = std::filesystem;
using nlohmann::json;
using reclaim::io::Georef;
using reclaim::io::Rgba;

namespace {

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
constexpr float kInf = std::numeric_limits<float>::infinity();

class TempDir {
 public:
  TempDir() {
    std::random_device rd;
    m_path = fs::temp_directory_path() / ("reclaim_picture_test_" + std::to_string(rd()));
    fs::create_directories(m_path);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(m_path, ec);
  }
  TempDir(TempDir const&) = delete;
  TempDir& operator=(TempDir const&) = delete;
  [[nodiscard]] fs::path const& path() const { return m_path; }

 private:
  fs::path m_path;
};

std::string utm49_wkt() {
  OGRSpatialReference srs;
  srs.importFromEPSG(32649);
  char* wkt = nullptr;
  srs.exportToWkt(&wkt);
  std::string out(wkt);
  CPLFree(wkt);
  return out;
}

Georef utm_georef() { return {{500000.0, 10.0, 0.0, 4200000.0, 0.0, -10.0}, utm49_wkt()}; }

/// A PNG read back with GDAL: RGBA pixels and its georeferencing.
struct Png {
  int width = 0;
  int height = 0;
  int bands = 0;
  std::vector<std::uint8_t> pixels;  ///< band-interleaved by pixel
  std::array<double, 6> gt{};
  bool has_gt = false;
  std::string crs_wkt;
  std::string driver;

  [[nodiscard]] Rgba at(int x, int y) const {
    auto const i = 4 * (static_cast<std::size_t>(y) * static_cast<std::size_t>(width) + static_cast<std::size_t>(x));
    return {pixels[i], pixels[i + 1], pixels[i + 2], pixels[i + 3]};
  }
};

Png read_png(fs::path const& path) {
  GDALAllRegister();
  GDALDatasetUniquePtr ds(GDALDataset::Open(path.c_str(), GDAL_OF_RASTER | GDAL_OF_READONLY));
  Png p;
  if (!ds) {
    ADD_FAILURE() << "cannot open " << path;
    return p;
  }
  p.driver = ds->GetDriver()->GetDescription();
  p.width = ds->GetRasterXSize();
  p.height = ds->GetRasterYSize();
  p.bands = ds->GetRasterCount();
  if (p.bands == 4) {
    p.pixels.resize(static_cast<std::size_t>(p.width) * static_cast<std::size_t>(p.height) * 4);
    EXPECT_EQ(ds->RasterIO(GF_Read, 0, 0, p.width, p.height, p.pixels.data(), p.width, p.height, GDT_Byte, 4,
                           nullptr, 4, 4 * static_cast<GSpacing>(p.width), 1, nullptr),
              CE_None);
  }
  p.has_gt = ds->GetGeoTransform(p.gt.data()) == CE_None;
  if (auto const* srs = ds->GetSpatialRef()) {
    char* wkt = nullptr;
    srs->exportToWkt(&wkt);
    p.crs_wkt = wkt ? wkt : "";
    CPLFree(wkt);
  }
  return p;
}

std::string read_bytes(fs::path const& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::string base64_decode(std::string_view text) {
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  std::string out;
  unsigned acc = 0;
  int bits = 0;
  for (char const c : text) {
    if (c == '=') break;
    int const v = value(c);
    if (v < 0) {
      ADD_FAILURE() << "not base64: " << c;
      return {};
    }
    acc = (acc << 6) | static_cast<unsigned>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xFF);
    }
  }
  return out;
}

std::size_t count(std::string const& hay, std::string const& needle) {
  std::size_t n = 0;
  for (auto pos = hay.find(needle); pos != std::string::npos; pos = hay.find(needle, pos + needle.size())) ++n;
  return n;
}

/// No temporary (hidden) file is left beside the outputs.
void expect_no_temporaries(fs::path const& dir) {
  for (auto const& e : fs::directory_iterator(dir))
    EXPECT_NE(e.path().filename().string()[0], '.') << "left behind: " << e.path();
}

}  // namespace

// ---- percentile stretch ------------------------------------------------------------------------

TEST(PercentileStretch, PoolsBothEpochsWithType7Interpolation) {
  // Red: 0..99 split over the two epochs; n = 100, p2 -> position 0.02 * 99 = 1.98 -> 1.98,
  // p98 -> 97.02 -> 97.02.
  std::vector<float> r_a, r_b;
  for (int i = 0; i < 50; ++i) r_a.push_back(static_cast<float>(99 - i));  // unsorted on purpose
  for (int i = 0; i < 50; ++i) r_b.push_back(static_cast<float>(i));
  // Green: finite values 10, 20, 30, 40, 50 (NaN and inf dropped); n = 5, p2 -> position 0.08
  // -> 10 + 0.08 * 10 = 10.8; p98 -> position 3.92 -> 40 + 0.92 * 10 = 49.2.
  std::vector<float> const g_a{kNaN, 10, 20}, g_b{30, kInf, 50, 40, -kInf};
  // Blue: nothing finite -> the 0..0.3 reflectance fallback.
  std::vector<float> const b_a{kNaN, kNaN}, b_b{};
  auto const s = reclaim::io::percentile_stretch(r_a, g_a, b_a, r_b, g_b, b_b);
  EXPECT_NEAR(s.lo[0], 1.98, 1e-12);
  EXPECT_NEAR(s.hi[0], 97.02, 1e-12);
  EXPECT_NEAR(s.lo[1], 10.8, 1e-12);
  EXPECT_NEAR(s.hi[1], 49.2, 1e-12);
  EXPECT_EQ(s.lo[2], 0.0);
  EXPECT_EQ(s.hi[2], 0.3);
}

TEST(PercentileStretch, ExtremePercentilesAreMinAndMax) {
  std::vector<float> const a{3, 1, 2}, b{7, -4};
  auto const s = reclaim::io::percentile_stretch(a, a, a, b, b, b, 0.0, 100.0);
  for (int c = 0; c < 3; ++c) {
    EXPECT_EQ(s.lo[c], -4.0);
    EXPECT_EQ(s.hi[c], 7.0);
  }
  // One value: every percentile is that value.
  std::vector<float> const one{0.25f}, none{};
  auto const t = reclaim::io::percentile_stretch(one, one, one, none, none, none);
  EXPECT_EQ(t.lo[0], 0.25);
  EXPECT_EQ(t.hi[0], 0.25);
}

// ---- PNG pictures --------------------------------------------------------------------------------

TEST(Picture, RgbStretchEndpointsClampAndTransparency) {
  TempDir dir;
  fs::path const png = dir.path() / "rgb.png";
  // 4 x 2: lo -> 0, hi -> 255, mid -> round(127.5) = 128, below/above clamp, NaN/inf transparent.
  std::vector<float> const r{0.1f, 0.5f, 0.3f, -1.f, 9.f, kNaN, 0.1f, 0.1f};
  std::vector<float> const g{0.0f, 0.2f, 0.1f, 0.0f, 0.0f, 0.0f, kInf, 0.0f};
  std::vector<float> const b{1.0f, 3.0f, 2.0f, 1.0f, 1.0f, 1.0f, 1.0f, kNaN};
  reclaim::io::RgbStretch const st{{0.1, 0.0, 1.0}, {0.5, 0.2, 3.0}};
  reclaim::io::write_rgb_png(png, 4, 2, r, g, b, st, utm_georef());

  Png const p = read_png(png);
  EXPECT_EQ(p.driver, "PNG");
  ASSERT_EQ(p.width, 4);
  ASSERT_EQ(p.height, 2);
  ASSERT_EQ(p.bands, 4);
  EXPECT_EQ(p.at(0, 0), (Rgba{0, 0, 0, 255}));
  EXPECT_EQ(p.at(1, 0), (Rgba{255, 255, 255, 255}));
  // (0.3 - 0.1) / 0.4 in float arithmetic is a hair under or over 0.5: 127 or 128.
  EXPECT_NEAR(p.at(2, 0)[0], 127.5, 0.5);
  EXPECT_EQ(p.at(2, 0)[1], 128);
  EXPECT_EQ(p.at(2, 0)[2], 128);
  EXPECT_EQ(p.at(3, 0), (Rgba{0, 0, 0, 255}));
  EXPECT_EQ(p.at(0, 1), (Rgba{255, 0, 0, 255}));
  for (int x = 1; x < 4; ++x) EXPECT_EQ(p.at(x, 1)[3], 0) << "pixel " << x << ",1 must be transparent";

  // Georeferencing: geotransform from the .wld, CRS from the .aux.xml.
  EXPECT_TRUE(fs::exists(dir.path() / "rgb.wld"));
  EXPECT_TRUE(fs::exists(dir.path() / "rgb.png.aux.xml"));
  ASSERT_TRUE(p.has_gt);
  auto const want = utm_georef().geotransform;
  for (int i = 0; i < 6; ++i) EXPECT_NEAR(p.gt[static_cast<std::size_t>(i)], want[static_cast<std::size_t>(i)], 1e-6) << i;
  OGRSpatialReference got, expected;
  ASSERT_EQ(got.importFromWkt(p.crs_wkt.c_str()), OGRERR_NONE) << "no CRS read back";
  expected.importFromEPSG(32649);
  EXPECT_TRUE(got.IsSame(&expected));
  expect_no_temporaries(dir.path());
}

// reclaim writes the PNG's sidecars itself (libpng encodes the pixels): they must be what GDAL's
// own PNG driver writes for the same georeferencing (GDAL's world file byte for byte, the same
// CRS and axis order read back), for a projected CRS and for a geographic one, whose axis order
// (latitude first in EPSG:4326, longitude first in GIS order) is the one that can go wrong.
TEST(Picture, SidecarsAreWhatGdalWrites) {
  GDALAllRegister();
  TempDir dir;
  OGRSpatialReference wgs84;
  ASSERT_EQ(wgs84.importFromEPSG(4326), OGRERR_NONE);
  char* wkt = nullptr;
  wgs84.exportToWkt(&wkt);
  Georef const geographic{{110.25, 0.0001, 0.0, 39.75, 0.0, -0.0001}, wkt};
  CPLFree(wkt);
  std::vector<float> const v{1.f, 2.f};
  std::vector<Rgba> const colors{{0, 0, 0, 0}, {1, 2, 3, 255}, {4, 5, 6, 255}};
  for (auto const& [name, georef] : {std::pair{std::string("utm"), utm_georef()}, std::pair{std::string("wgs84"), geographic}}) {
    fs::path const ours = dir.path() / (name + ".png");
    reclaim::io::write_class_png(ours, 2, 1, v, colors, georef);

    // GDAL's PNG driver on the same picture: a MEM dataset copied with WORLDFILE=YES.
    fs::path const theirs = dir.path() / (name + "_gdal.png");
    GDALDatasetUniquePtr mem(GetGDALDriverManager()->GetDriverByName("MEM")->Create("", 2, 1, 4, GDT_Byte, nullptr));
    auto gt = georef.geotransform;
    mem->SetGeoTransform(gt.data());
    OGRSpatialReference srs;
    ASSERT_EQ(srs.importFromWkt(georef.crs_wkt.c_str()), OGRERR_NONE);
    srs.SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER);
    mem->SetSpatialRef(&srs);
    char const* options[] = {"WORLDFILE=YES", nullptr};
    GDALDatasetUniquePtr(GetGDALDriverManager()->GetDriverByName("PNG")->CreateCopy(
        theirs.c_str(), mem.get(), FALSE, const_cast<char**>(options), nullptr, nullptr));

    EXPECT_EQ(read_bytes(dir.path() / (name + ".wld")), read_bytes(dir.path() / (name + "_gdal.wld"))) << name;
    GDALDatasetUniquePtr a(GDALDataset::Open(ours.c_str(), GDAL_OF_RASTER));
    GDALDatasetUniquePtr b(GDALDataset::Open(theirs.c_str(), GDAL_OF_RASTER));
    ASSERT_TRUE(a && b);
    std::array<double, 6> ga{}, gb{};
    ASSERT_EQ(a->GetGeoTransform(ga.data()), CE_None);
    ASSERT_EQ(b->GetGeoTransform(gb.data()), CE_None);
    EXPECT_EQ(ga, gb) << name;
    ASSERT_TRUE(a->GetSpatialRef() && b->GetSpatialRef()) << name;
    EXPECT_TRUE(a->GetSpatialRef()->IsSame(b->GetSpatialRef())) << name;
    EXPECT_EQ(a->GetSpatialRef()->GetDataAxisToSRSAxisMapping(), b->GetSpatialRef()->GetDataAxisToSRSAxisMapping())
        << name;
  }
  EXPECT_EQ(read_png(dir.path() / "wgs84.png").at(1, 0), (Rgba{4, 5, 6, 255}));
}

// libpng refuses a row over its 1 000 000-pixel limit: the refusal comes back as an io_error
// naming the file and libpng's reason (not a message on stderr, not an abort), nothing written.
TEST(Picture, AnEncoderFailureIsAnIoErrorNamingTheFile) {
  TempDir dir;
  fs::path const png = dir.path() / "wide.png";
  std::vector<float> const v(2'000'000, 1.f);
  std::vector<Rgba> const colors{{0, 0, 0, 0}, {1, 2, 3, 255}};
  try {
    reclaim::io::write_class_png(png, 2'000'000, 1, v, colors, utm_georef());
    FAIL() << "expected io_error";
  } catch (reclaim::io_error const& e) {
    std::string const what = e.what();
    EXPECT_NE(what.find(png.string()), std::string::npos) << what;
    EXPECT_NE(what.find("libpng"), std::string::npos) << what;
  }
  EXPECT_FALSE(fs::exists(png));
  EXPECT_FALSE(fs::exists(dir.path() / "wide.wld"));
  expect_no_temporaries(dir.path());
}

TEST(Picture, ScalarRampFixedScale) {
  TempDir dir;
  fs::path const png = dir.path() / "ndvi.png";
  std::vector<float> const v{-1.f, 0.f, 1.f, 2.f, kNaN, -5.f};
  reclaim::io::write_scalar_png(png, 3, 2, v, -1.0, 1.0, utm_georef());
  Png const p = read_png(png);
  ASSERT_EQ(p.bands, 4);
  EXPECT_EQ(p.at(0, 0), (Rgba{140, 81, 10, 255}));   // lo: brown (#8c510a)
  EXPECT_EQ(p.at(1, 0), (Rgba{255, 255, 191, 255}));  // middle: yellow (#ffffbf)
  EXPECT_EQ(p.at(2, 0), (Rgba{26, 152, 80, 255}));    // hi: green (#1a9850)
  EXPECT_EQ(p.at(0, 1), (Rgba{26, 152, 80, 255}));    // above hi clamps
  EXPECT_EQ(p.at(1, 1)[3], 0);                        // NaN transparent
  EXPECT_EQ(p.at(2, 1), (Rgba{140, 81, 10, 255}));    // below lo clamps
  // Halfway between stops 1 (#bf812d) and 2 (#dfc27d): t = 1.5 / 6.
  EXPECT_EQ(reclaim::io::ndvi_ramp(1.5 / 6.0), (Rgba{207, 162, 85, 255}));
  EXPECT_EQ(reclaim::io::ndvi_ramp(std::nan(""))[3], 0);
}

TEST(Picture, ClassColoursEqualTheTable) {
  TempDir dir;
  fs::path const png = dir.path() / "classes.png";
  std::vector<Rgba> const colors{{0, 0, 0, 0}, {191, 129, 45, 255}, {26, 152, 80, 255}, {10, 20, 30, 128}};
  std::vector<float> const cls{0.f, 1.f, 2.f, 3.f, 4.f, kNaN, 1.5f, -1.f, 2.f};
  reclaim::io::write_class_png(png, 3, 3, cls, colors, utm_georef());
  Png const p = read_png(png);
  ASSERT_EQ(p.bands, 4);
  EXPECT_EQ(p.at(0, 0)[3], 0);  // class 0
  EXPECT_EQ(p.at(1, 0), colors[1]);
  EXPECT_EQ(p.at(2, 0), colors[2]);
  EXPECT_EQ(p.at(0, 1), colors[3]);  // alpha from the table too
  EXPECT_EQ(p.at(1, 1)[3], 0);       // 4: beyond the table
  EXPECT_EQ(p.at(2, 1)[3], 0);       // NaN
  EXPECT_EQ(p.at(0, 2)[3], 0);       // fractional
  EXPECT_EQ(p.at(1, 2)[3], 0);       // negative
  EXPECT_EQ(p.at(2, 2), colors[2]);
}

TEST(Picture, LegendSwatchesEqualTheTable) {
  TempDir dir;
  fs::path const png = dir.path() / "legend.png";
  std::vector<std::string> const names{"no data", "stable bare", "", "revegetated", "water"};
  std::vector<Rgba> const colors{{0, 0, 0, 0}, {191, 129, 45, 255}, {1, 2, 3, 255}, {26, 152, 80, 255},
                                 {49, 130, 189, 200}};
  auto const layout = reclaim::io::write_legend_png(png, names, colors);
  ASSERT_EQ(layout.swatches.size(), 3u);  // class 0 and the unnamed class 2 have none
  EXPECT_EQ(layout.swatches[0].value, 1);
  EXPECT_EQ(layout.swatches[1].value, 3);
  EXPECT_EQ(layout.swatches[2].value, 4);
  EXPECT_EQ(layout.swatches[1].y, 2 + 24);  // documented pitch (the HTML aligns names to it)
  Png const p = read_png(png);
  ASSERT_EQ(p.bands, 4);
  EXPECT_EQ(p.width, layout.width);
  EXPECT_EQ(p.height, layout.height);
  EXPECT_FALSE(p.has_gt);
  for (auto const& s : layout.swatches)
    for (int y = s.y; y < s.y + s.height; ++y)
      for (int x = s.x; x < s.x + s.width; ++x)
        ASSERT_EQ(p.at(x, y), colors[static_cast<std::size_t>(s.value)]) << "class " << s.value << " at " << x << "," << y;
  // Between swatches: transparent.
  EXPECT_EQ(p.at(layout.width / 2, layout.swatches[0].y + layout.swatches[0].height + 2)[3], 0);
  EXPECT_FALSE(fs::exists(dir.path() / "legend.wld"));
}

TEST(Picture, OverviewFillsPolygonsAtPixelCentres) {
  TempDir dir;
  fs::path const png = dir.path() / "overview.png";
  // 10 x 10 pixels of 1 map unit, top-left (100, 200). Pixel (col, row) has its centre at
  // (100.5 + col, 199.5 - row).
  Georef const g{{100.0, 1.0, 0.0, 200.0, 0.0, -1.0}, ""};
  // Site 0: x 102..105, y 190..195 -> columns 2..4 (centres 2.5..4.5), rows 5..9.
  // Site 1: x 100..104, y 196..200 (rows 0..3, columns 0..3) with a hole x 101..103,
  // y 197..199 (rows 1..2, columns 1..2); ring not closed explicitly.
  std::vector<std::vector<reclaim::io::MapRing>> const sites{
      {{{102, 190}, {105, 190}, {105, 195}, {102, 195}, {102, 190}}},
      {{{100, 196}, {104, 196}, {104, 200}, {100, 200}}, {{101, 197}, {103, 197}, {103, 199}, {101, 199}}}};
  std::vector<Rgba> const colors{{215, 48, 39, 255}, {26, 152, 80, 255}};
  std::vector<float> background(100, 0.35f);  // (0.35 + 0.2) / 1.1 = 0.5 -> yellow
  for (int i = 0; i < 10; ++i) background[static_cast<std::size_t>(90 + i)] = kNaN;  // bottom row: none
  reclaim::io::write_overview_png(png, 10, 10, g, sites, colors, {background, -0.2, 0.9});

  Png const p = read_png(png);
  ASSERT_EQ(p.bands, 4);
  ASSERT_TRUE(p.has_gt);
  EXPECT_NEAR(p.gt[0], 100.0, 1e-9);
  EXPECT_NEAR(p.gt[3], 200.0, 1e-9);
  Rgba const bg = reclaim::io::ndvi_ramp(0.5);
  for (int row = 0; row < 10; ++row)
    for (int col = 0; col < 10; ++col) {
      bool const in0 = col >= 2 && col <= 4 && row >= 5 && row <= 9;
      bool const outer1 = col <= 3 && row <= 3;
      bool const hole1 = col >= 1 && col <= 2 && row >= 1 && row <= 2;
      Rgba want = row == 9 ? Rgba{0, 0, 0, 0} : bg;
      if (in0) want = colors[0];
      if (outer1 && !hole1) want = colors[1];
      EXPECT_EQ(p.at(col, row), want) << "col " << col << " row " << row;
    }
}

TEST(Picture, FailuresNameTheFile) {
  TempDir dir;
  fs::path const png = dir.path() / "no_such_folder" / "x.png";
  std::vector<float> const v{0.f};
  try {
    reclaim::io::write_scalar_png(png, 1, 1, v, 0, 1, utm_georef());
    FAIL() << "expected io_error";
  } catch (reclaim::io_error const& e) {
    EXPECT_NE(std::string(e.what()).find(png.string()), std::string::npos) << e.what();
  }
  EXPECT_THROW(reclaim::io::write_scalar_png(dir.path() / "y.png", 2, 1, v, 0, 1, utm_georef()), reclaim::logic_error);
  expect_no_temporaries(dir.path());
}

TEST(Picture, OverwritesAndDropsStaleWorldFile) {
  TempDir dir;
  fs::path const png = dir.path() / "p.png";
  std::vector<float> const v{1.f};
  std::vector<Rgba> const colors{{0, 0, 0, 0}, {1, 2, 3, 255}};
  reclaim::io::write_class_png(png, 1, 1, v, colors, utm_georef());
  ASSERT_TRUE(fs::exists(dir.path() / "p.wld"));
  reclaim::io::write_legend_png(png, {"", "one"}, colors);  // not georeferenced
  EXPECT_FALSE(fs::exists(dir.path() / "p.wld"));
  EXPECT_FALSE(read_png(png).has_gt);
  expect_no_temporaries(dir.path());
}

// ---- HTML report ---------------------------------------------------------------------------------

TEST(Report, FormatMetric) {
  using reclaim::io::format_metric;
  EXPECT_EQ(format_metric(json(12.345), "ha"), "12.35");
  EXPECT_EQ(format_metric(json(3), "ha"), "3");
  EXPECT_EQ(format_metric(json(0.4567)), "0.457");
  EXPECT_EQ(format_metric(json(12.345)), "12.35");
  EXPECT_EQ(format_metric(json(1234.56)), "1234.6");
  EXPECT_EQ(format_metric(json(45.678), "%"), "45.7");
  EXPECT_EQ(format_metric(json(-0.0001), "ha"), "0.00");
  EXPECT_EQ(format_metric(json()), "\xE2\x80\x93");
  EXPECT_EQ(format_metric(json(std::nan(""))), "\xE2\x80\x93");
  EXPECT_EQ(format_metric(json("text")), "text");
  EXPECT_EQ(reclaim::io::html_escape("<b>&\"x'"), "&lt;b&gt;&amp;&quot;x&#39;");
}

class ReportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fs::create_directories(m_dir.path() / "pictures");
    std::vector<float> ndvi(64), cls(64);
    for (int i = 0; i < 64; ++i) {
      ndvi[static_cast<std::size_t>(i)] = -0.2f + 0.015f * static_cast<float>(i);
      cls[static_cast<std::size_t>(i)] = static_cast<float>(i % 4);
    }
    ndvi[5] = kNaN;
    std::vector<Rgba> const colors{{0, 0, 0, 0}, {191, 129, 45, 255}, {26, 152, 80, 255}, {166, 217, 106, 255}};
    reclaim::io::write_scalar_png(m_dir.path() / "pictures" / "a_ndvi.png", 8, 8, ndvi, -0.2, 0.9, utm_georef());
    reclaim::io::write_class_png(m_dir.path() / "pictures" / "b_classes.png", 8, 8, cls, colors, utm_georef());
    reclaim::io::write_legend_png(m_dir.path() / "pictures" / "legend.png", {"", "bare", "revegetated", "partial"}, colors);
    m_report = {
        {"title", "Assessment <test>"},
        {"generated", "2025-01-31T12:00:00Z"},
        {"run", {{"command", "reclaim assess --sites x.gpkg"}, {"epochs", "2019 / 2024"}}},
        {"summary", json::array({json::array({"sites", 2}), json::array({"revegetated ha", 12.3456})})},
        {"columns",
         {{{"key", "site_id"}, {"label", "Site"}, {"unit", ""}},
          {{"key", "grade"}, {"label", "Grade"}, {"unit", ""}},
          {{"key", "area_ha"}, {"label", "Area"}, {"unit", "ha"}},
          {{"key", "ndvi_after"}, {"label", "NDVI after"}, {"unit", ""}}}},
        {"sites",
         {{{"id", "A-1"},
           {"grade", "B"},
           {"flags", json::array()},
           {"metrics", {{"area_ha", 12.5}, {"ndvi_after", 0.4321}}},
           {"pictures", {{{"caption", "NDVI after"}, {"path", "pictures/a_ndvi.png"}}}}},
          {{"id", "<b>&\"x"},
           {"grade", "E"},
           {"flags", {"cloudy <after>"}},
           {"metrics", {{"area_ha", 3.0}, {"ndvi_after", nullptr}}},
           {"pictures", {{{"caption", "Classes"}, {"path", "pictures/b_classes.png"}}}}}}},
        {"legend",
         {{"path", "pictures/legend.png"},
          {"classes",
           {{{"value", 1}, {"name", "bare"}, {"color", "#bf812d"}},
            {{"value", 2}, {"name", "revegetated"}, {"color", "#1a9850"}},
            {{"value", 3}, {"name", "partial"}, {"color", "#a6d96a"}}}}}},
        {"notes", {"Carbon figures are estimates."}}};
  }
  void TearDown() override {
    if (char const* keep = std::getenv("RECLAIM_KEEP_REPORT"); keep && *keep)
      fs::copy(m_dir.path(), keep, fs::copy_options::recursive | fs::copy_options::overwrite_existing);
  }
  TempDir m_dir;
  json m_report;
};

TEST_F(ReportTest, SelfContainedEscapedAndSortable) {
  fs::path const html_path = m_dir.path() / "report.html";
  reclaim::io::write_report_html(html_path, m_report);
  std::string const html = read_bytes(html_path);
  expect_no_temporaries(m_dir.path());

  EXPECT_EQ(count(html, "<tr class=\"site-row\""), 2u);
  EXPECT_EQ(count(html, "<section class=\"site\""), 2u);
  EXPECT_NE(html.find("<tr class=\"site-row\" data-site-id=\"A-1\" data-grade="), std::string::npos);
  EXPECT_NE(html.find("<section class=\"site\" id=\"site-A-1\">"), std::string::npos);
  // The awkward id: escaped everywhere, never raw.
  EXPECT_NE(html.find("data-site-id=\"&lt;b&gt;&amp;&quot;x\""), std::string::npos);
  EXPECT_NE(html.find("id=\"site-&lt;b&gt;&amp;&quot;x\""), std::string::npos);
  EXPECT_NE(html.find("href=\"#site-%3Cb%3E%26%22x\""), std::string::npos);
  EXPECT_EQ(html.find("<b>&\"x"), std::string::npos);
  EXPECT_EQ(html.find("cloudy <after>"), std::string::npos);
  EXPECT_NE(html.find("cloudy &lt;after&gt;"), std::string::npos);
  EXPECT_NE(html.find("<title>Assessment &lt;test&gt;</title>"), std::string::npos);
  // Numbers: ha with 2 decimals, null as a dash.
  EXPECT_NE(html.find(">12.50<"), std::string::npos);
  EXPECT_NE(html.find(">3.00<"), std::string::npos);
  EXPECT_NE(html.find(">0.432<"), std::string::npos);
  EXPECT_NE(html.find(">\xE2\x80\x93<"), std::string::npos);
  EXPECT_NE(html.find("Carbon figures are estimates."), std::string::npos);
  // Summary pairs keep their order.
  EXPECT_LT(html.find(">sites</div>"), html.find(">revegetated ha</div>"));
  EXPECT_NE(html.find(">12.35</div>"), std::string::npos);
  EXPECT_NE(html.find("alt=\"NDVI after\""), std::string::npos);
  // Nothing leaves the file.
  EXPECT_EQ(html.find("http://"), std::string::npos);
  EXPECT_EQ(html.find("https://"), std::string::npos);
  EXPECT_EQ(html.find("src=\"pictures/"), std::string::npos);
  EXPECT_NE(html.find("imagesLoaded"), std::string::npos);
  EXPECT_NE(html.find("imagesBroken"), std::string::npos);

  // Every data URI decodes to the exact bytes of its PNG, in page order.
  std::vector<std::string> const expected{read_bytes(m_dir.path() / "pictures" / "legend.png"),
                                          read_bytes(m_dir.path() / "pictures" / "a_ndvi.png"),
                                          read_bytes(m_dir.path() / "pictures" / "b_classes.png")};
  std::string const prefix = "src=\"data:image/png;base64,";
  std::vector<std::string> decoded;
  for (auto pos = html.find(prefix); pos != std::string::npos; pos = html.find(prefix, pos + 1)) {
    auto const start = pos + prefix.size();
    decoded.push_back(base64_decode(std::string_view(html).substr(start, html.find('"', start) - start)));
  }
  ASSERT_EQ(decoded.size(), expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i) {
    EXPECT_FALSE(expected[i].empty());
    EXPECT_TRUE(decoded[i] == expected[i]) << "picture " << i << " differs after base64";
  }
}

TEST_F(ReportTest, MissingPictureIsAnIoErrorNamingIt) {
  m_report["sites"][1]["pictures"][0]["path"] = "pictures/nope.png";
  fs::path const html_path = m_dir.path() / "report.html";
  try {
    reclaim::io::write_report_html(html_path, m_report);
    FAIL() << "expected io_error";
  } catch (reclaim::io_error const& e) {
    EXPECT_NE(std::string(e.what()).find("nope.png"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(fs::exists(html_path));
  expect_no_temporaries(m_dir.path());
}

TEST_F(ReportTest, NonPngAndWrongTypesAreRejected) {
  {
    std::ofstream(m_dir.path() / "pictures" / "fake.png") << "not a png";
  }
  json r = m_report;
  r["overview"] = "pictures/fake.png";
  EXPECT_THROW(reclaim::io::write_report_html(m_dir.path() / "r.html", r), reclaim::io_error);
  r = m_report;
  r["sites"][0]["id"] = 7;
  EXPECT_THROW(reclaim::io::write_report_html(m_dir.path() / "r.html", r), reclaim::input_error);
  r = m_report;
  r["summary"] = json::array({json::array({"only a key"})});
  EXPECT_THROW(reclaim::io::write_report_html(m_dir.path() / "r.html", r), reclaim::input_error);
  r = m_report;
  r["sites"][0].erase("id");
  EXPECT_THROW(reclaim::io::write_report_html(m_dir.path() / "r.html", r), reclaim::input_error);
  EXPECT_FALSE(fs::exists(m_dir.path() / "r.html"));
}
