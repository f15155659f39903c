// Partial files and their merge: the header checksum, the format version, the covered windows and
// the refusals that keep a merge from counting pixels twice (issue 10).
#include "reclaim/io/zonal_partial.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

#include "reclaim/error.hpp"

namespace fs = std::filesystem;
using reclaim::Grid;
using reclaim::input_error;
using reclaim::io::covers_common_ground;
using reclaim::io::CoveredWindow;
using reclaim::io::merge_zonal_partials;
using reclaim::io::read_zonal_partial;
using reclaim::io::whole_grid;
using reclaim::io::write_zonal_partial;
using reclaim::io::ZonalPartial;

namespace {

class TempDir {
 public:
  TempDir() {
    std::random_device rd;
    m_path = fs::temp_directory_path() / ("reclaim_zonal_partial_test_" + std::to_string(rd()));
    fs::create_directories(m_path);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(m_path, ec);
  }
  [[nodiscard]] fs::path const& path() const { return m_path; }

 private:
  fs::path m_path;
};

constexpr char const* kCrs = "PROJCRS[\"WGS 84 / UTM zone 49N\"]";

/// A 10 m grid on the scene's lattice: `width` x `height` pixels from pixel (col, row) of it.
Grid lattice_grid(std::int64_t col, std::int64_t row, std::int64_t width, std::int64_t height,
                  std::string crs = kCrs) {
  Grid g;
  g.width = width;
  g.height = height;
  g.geotransform = {600000.0 + 10.0 * static_cast<double>(col), 10.0, 0.0,
                    4300000.0 - 10.0 * static_cast<double>(row), 0.0, -10.0};
  g.crs_wkt = std::move(crs);
  return g;
}

/// One zone, one value product named `name`, a value accumulated per entry of `values`.
ZonalPartial partial_of(Grid const& grid, std::string const& source, std::vector<double> const& values,
                        std::string const& name = "dndvi") {
  ZonalPartial p;
  p.id_name = "site_id";
  p.zones.push_back({"A", {}, {}, {}, false});
  reclaim::io::ZonalProduct product;
  product.name = name;
  p.products.push_back(product);
  p.stats = {"count", "mean"};
  p.coverage = "exact";
  p.crs_wkt = grid.crs_wkt;
  p.zones_path = "/data/sites.gpkg";
  p.covered = {whole_grid(grid, {source})};
  auto acc = reclaim::ProductAccumulators::make(product, 1, 100.0);
  for (double v : values) acc.values[0].update(v, 1.0);
  p.results.push_back(std::move(acc));
  return p;
}

std::vector<char> bytes_of(fs::path const& path) {
  std::ifstream f(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

void write_bytes(fs::path const& path, std::vector<char> const& bytes) {
  std::ofstream(path, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

/// The input_error message of `f`, or "" when it does not throw one.
template <class F>
std::string input_error_of(F&& f) {
  try {
    f();
  } catch (input_error const& e) {
    return e.what();
  }
  return "";
}

TEST(ZonalPartial, RoundTripKeepsTheCoveredWindowsAndTheContentId) {
  TempDir dir;
  auto const p = partial_of(lattice_grid(1024, 0, 1024, 2048), "east.tif", {0.25, 0.5});
  write_zonal_partial(dir.path() / "east.bin", p);
  auto const back = read_zonal_partial(dir.path() / "east.bin");
  ASSERT_EQ(back.covered.size(), 1u);
  auto const& c = back.covered.front();
  EXPECT_EQ(c.sources, std::vector<std::string>{"east.tif"});
  EXPECT_EQ(c.grid.width, 1024);
  EXPECT_EQ(c.grid.height, 2048);
  EXPECT_EQ(c.grid.geotransform, p.covered.front().grid.geotransform);
  EXPECT_EQ(c.grid.crs_wkt, kCrs);
  EXPECT_EQ(c.window.x0, 0);
  EXPECT_EQ(c.window.y0, 0);
  EXPECT_EQ(c.window.width, 1024);
  EXPECT_EQ(c.window.height, 2048);
  EXPECT_EQ(back.zones_path, "/data/sites.gpkg");
  EXPECT_EQ(content_id(back), content_id(p));
  EXPECT_EQ(back.results[0].values[0].m_pixels, 2u);
}

TEST(ZonalPartial, AFlippedHeaderByteIsAnErrorNamingTheFile) {
  TempDir dir;
  auto const path = dir.path() / "s0.bin";
  write_zonal_partial(path, partial_of(lattice_grid(0, 0, 64, 64), "s0.tif", {1.0}));
  auto bytes = bytes_of(path);
  std::string const text(bytes.begin(), bytes.end());
  auto const at = text.find("\"dndvi\"");
  ASSERT_NE(at, std::string::npos);
  bytes[at + 1] = 'e';  // "endvi": still valid JSON, a renamed column without the checksum
  write_bytes(path, bytes);
  auto const what = input_error_of([&] { (void)read_zonal_partial(path); });
  EXPECT_NE(what.find("s0.bin"), std::string::npos) << what;
  EXPECT_NE(what.find("header checksum"), std::string::npos) << what;
}

TEST(ZonalPartial, AnOlderFormatVersionIsRefusedByName) {
  TempDir dir;
  auto const path = dir.path() / "old.bin";
  write_zonal_partial(path, partial_of(lattice_grid(0, 0, 64, 64), "s0.tif", {1.0}));
  auto bytes = bytes_of(path);
  bytes[4] = 1;  // u32 version after the magic, little-endian
  write_bytes(path, bytes);
  auto const what = input_error_of([&] { (void)read_zonal_partial(path); });
  EXPECT_NE(what.find("old.bin"), std::string::npos) << what;
  EXPECT_NE(what.find("version 1"), std::string::npos) << what;
  // Version 2 (issue 14: value accumulators with M2 in double) is refused the same way.
  bytes[4] = 2;
  write_bytes(path, bytes);
  auto const what2 = input_error_of([&] { (void)read_zonal_partial(path); });
  EXPECT_NE(what2.find("version 2"), std::string::npos) << what2;
  EXPECT_NE(what2.find("write the partial again"), std::string::npos) << what2;
}

TEST(ZonalPartial, SwappedAccumulatorsDoNotMatchTheContentId) {
  // Two zones whose accumulators are swapped whole: each still passes its own checksum.
  TempDir dir;
  auto p = partial_of(lattice_grid(0, 0, 64, 64), "s0.tif", {1.0});
  p.zones.push_back({"B", {}, {}, {}, false});
  auto acc = reclaim::ProductAccumulators::make(p.products[0], 2, 100.0);
  acc.values[0].update(1.0, 1.0);
  acc.values[1].update(2.0, 1.0);
  acc.values[1].update(3.0, 1.0);
  p.results[0] = acc;
  auto const path = dir.path() / "swap.bin";
  write_zonal_partial(path, p);
  std::swap(p.results[0].values[0], p.results[0].values[1]);
  std::swap(p.results[0].areas[0], p.results[0].areas[1]);
  write_zonal_partial(dir.path() / "swapped_ref.bin", p);
  // The swapped body, under the original header.
  auto const original = bytes_of(path), swapped = bytes_of(dir.path() / "swapped_ref.bin");
  ASSERT_EQ(original.size(), swapped.size());
  std::size_t header_bytes = 0;  // u64 after the magic and the version
  for (int i = 0; i < 8; ++i)
    header_bytes |= static_cast<std::size_t>(static_cast<unsigned char>(original[static_cast<std::size_t>(8 + i)]))
                    << (8 * i);
  std::size_t const body_start = 16 + header_bytes + 64;
  auto forged = original;
  std::copy(swapped.begin() + static_cast<std::ptrdiff_t>(body_start), swapped.end(),
            forged.begin() + static_cast<std::ptrdiff_t>(body_start));
  ASSERT_NE(forged, original);
  write_bytes(path, forged);
  auto const what = input_error_of([&] { (void)read_zonal_partial(path); });
  EXPECT_NE(what.find("swap.bin"), std::string::npos) << what;
  EXPECT_NE(what.find("content id"), std::string::npos) << what;
}

TEST(CoversCommonGround, OnOneLatticeExactlyWhenTheWindowsSharePixels) {
  auto const west = whole_grid(lattice_grid(0, 0, 1024, 2048), {"west.tif"});
  auto const east = whole_grid(lattice_grid(1024, 0, 1024, 2048), {"east.tif"});
  auto const whole = whole_grid(lattice_grid(0, 0, 2048, 2048), {"dndvi.tif"});
  auto const one_column_over = whole_grid(lattice_grid(1023, 0, 1, 1), {"p.tif"});
  auto const corner = whole_grid(lattice_grid(1024, 2048, 5, 5), {"c.tif"});  // meets west at a corner
  EXPECT_FALSE(covers_common_ground(west, east));  // edges touch
  EXPECT_FALSE(covers_common_ground(east, west));
  EXPECT_FALSE(covers_common_ground(west, corner));
  EXPECT_TRUE(covers_common_ground(whole, west));
  EXPECT_TRUE(covers_common_ground(east, whole));
  EXPECT_TRUE(covers_common_ground(west, one_column_over));
  EXPECT_FALSE(covers_common_ground(east, one_column_over));
  // Another CRS: not compared (reprojecting windows is not exact).
  auto const other_crs = whole_grid(lattice_grid(0, 0, 2048, 2048, "PROJCRS[\"other\"]"), {"o.tif"});
  EXPECT_FALSE(covers_common_ground(other_crs, west));
}

TEST(MergeZonalPartials, RefusesAPartialGivenTwiceOrCopied) {
  auto const a = partial_of(lattice_grid(0, 0, 64, 64), "s0.tif", {1.0, 2.0});
  auto const b = partial_of(lattice_grid(64, 0, 64, 64), "s1.tif", {3.0});
  auto const twice = input_error_of([&] { (void)merge_zonal_partials({a, b, a}, {"s0.bin", "s1.bin", "s0.bin"}); });
  EXPECT_NE(twice.find("s0.bin: holds the same results as s0.bin"), std::string::npos) << twice;
  auto const copy = input_error_of([&] { (void)merge_zonal_partials({a, b, a}, {"s0.bin", "s1.bin", "copy.bin"}); });
  EXPECT_NE(copy.find("copy.bin: holds the same results as s0.bin"), std::string::npos) << copy;
}

TEST(MergeZonalPartials, RefusesOverlappingShardsNamingBoth) {
  auto const whole = partial_of(lattice_grid(0, 0, 128, 64), "v.tif", {1.0, 2.0, 3.0});
  auto const west = partial_of(lattice_grid(0, 0, 64, 64), "west.tif", {1.0, 2.0});
  auto const what = input_error_of([&] { (void)merge_zonal_partials({whole, west}, {"whole.bin", "west.bin"}); });
  EXPECT_NE(what.find("west.bin: overlaps whole.bin"), std::string::npos) << what;
  EXPECT_NE(what.find("west.tif"), std::string::npos) << what;
  EXPECT_NE(what.find("v.tif"), std::string::npos) << what;
}

TEST(MergeZonalPartials, DisjointShardsMergeAndCarryEveryWindow) {
  auto const west = partial_of(lattice_grid(0, 0, 64, 64), "west.tif", {1.0, 2.0});
  auto const east = partial_of(lattice_grid(64, 0, 64, 64), "east.tif", {3.0});
  auto const south = partial_of(lattice_grid(0, 64, 128, 64), "south.tif", {});
  auto const north = merge_zonal_partials({west, east}, {"west.bin", "east.bin"});
  ASSERT_EQ(north.covered.size(), 2u);
  EXPECT_EQ(north.covered[1].sources, std::vector<std::string>{"east.tif"});
  EXPECT_EQ(north.results[0].values[0].m_pixels, 3u);
  // A partial of partials is checked like any other: with a shard it already holds, refused.
  EXPECT_NE(input_error_of([&] { (void)merge_zonal_partials({north, east}, {"north.bin", "east.bin"}); }), "");
  auto const all = merge_zonal_partials({north, south}, {"north.bin", "south.bin"});
  EXPECT_EQ(all.covered.size(), 3u);
}

TEST(MergeZonalPartials, DifferentProductNamesNameTheFix) {
  auto const west = partial_of(lattice_grid(0, 0, 64, 64), "west.tif", {1.0}, "west");
  auto const east = partial_of(lattice_grid(64, 0, 64, 64), "east.tif", {2.0}, "east");
  auto const what = input_error_of([&] { (void)merge_zonal_partials({west, east}, {"west.bin", "east.bin"}); });
  EXPECT_NE(what.find("east.bin"), std::string::npos) << what;
  EXPECT_NE(what.find("west.bin"), std::string::npos) << what;
  EXPECT_NE(what.find("give every shard the same --name"), std::string::npos) << what;
}

}  // namespace
