// CPU/GPU parity of zonal accumulation (kernels/zonal_kernel.cu, driven through
// cuda::CudaZonalAccumulator) against the CPU reference pixel::accumulate_value_items /
// accumulate_class_items: the ExactSum fields (weights, sums, areas), pixel counts, min/max,
// histogram bins and class weights must be bit-identical, and so must the variance (its sums
// are exact too, whatever the GPU's grouping).
//
// The GPU tests need a CUDA device and skip (exit code 0) without one; the planner tests run
// everywhere. Links reclaim_cuda and reclaim_core only: no GDAL.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include <cuda_runtime_api.h>
#include <gtest/gtest.h>

#include "host/cuda/cuda_zonal.hpp"
#include "kernels/zonal_kernel.cuh"
#include "reclaim/cuda_backend.hpp"
#include "reclaim/error.hpp"
#include "reclaim/pixel/zonal.hpp"
#include "reclaim/pixel/zonal_items.hpp"
#include "tests/kernels/zonal_parity_inputs.hpp"

namespace {

using namespace reclaim;
using cuda::CudaZonalAccumulator;
using cuda::ZonalResults;
using kernels::kZonalBins;
using kernels::kZonalChunkPixels;
using kernels::ZonalHistogram;
using pixel::ZonalItem;

class ZonalParity : public ::testing::Test {
 protected:
  void SetUp() override {
    if (cuda_device_count() == 0) GTEST_SKIP() << "no CUDA device: GPU zonal parity tests skipped";
  }
};

using test::zonal::cpu_reference;
using test::zonal::kHi;
using test::zonal::kLo;
using test::zonal::random_items;
using test::zonal::Tile;
using test::zonal::ZonalReference;
static_assert(kZonalBins == test::zonal::kBins, "the CPU reference must bin like the kernels");

ZonalResults gpu_run(std::vector<Tile> const& tiles, int zones, bool histograms, bool classes) {
  CudaZonalAccumulator acc(zones, histograms, kLo, kHi);
  for (auto const& t : tiles) {
    if (classes) {
      acc.add_class_tile(t.items, t.plane, t.width, t.row_cell);
    } else {
      acc.add_value_tile(t.items, t.plane, t.width, t.row_cell);
    }
  }
  return acc.download();
}

bool same_bits(double a, double b) { return std::memcmp(&a, &b, sizeof a) == 0; }

/// cpu: a ZonalReference or ZonalResults (same fields).
template <class Cpu>
void expect_values_match(Cpu const& cpu, ZonalResults const& gpu, std::string const& what) {
  ASSERT_EQ(cpu.values.size(), gpu.values.size()) << what;
  ASSERT_EQ(cpu.areas.size(), gpu.areas.size()) << what;
  std::size_t bad = 0;
  for (std::size_t z = 0; z < cpu.values.size(); ++z) {
    auto const& a = cpu.values[z];
    auto const& b = gpu.values[z];
    bool const exact = a.m_weight == b.m_weight && a.m_nodata_weight == b.m_nodata_weight && a.m_sum == b.m_sum &&
                       a.m_sum2 == b.m_sum2 && a.m_pixels == b.m_pixels && a.m_nodata_pixels == b.m_nodata_pixels &&
                       a.m_min == b.m_min && a.m_max == b.m_max &&
                       cpu.areas[z].area_m2 == gpu.areas[z].area_m2 &&
                       cpu.areas[z].valid_area_m2 == gpu.areas[z].valid_area_m2;
    bool const m2 = same_bits(a.variance(), b.variance());
    if ((!exact || !m2) && bad++ < 5)
      ADD_FAILURE() << what << " zone " << z << ": exact fields " << (exact ? "equal" : "DIFFER") << "; cpu weight "
                    << a.weight() << " sum " << a.sum() << " pixels " << a.m_pixels << " min " << a.m_min << " max "
                    << a.m_max << " variance " << a.variance() << " | gpu weight " << b.weight() << " sum " << b.sum()
                    << " pixels " << b.m_pixels << " min " << b.m_min << " max " << b.m_max << " variance " << b.variance();
  }
  EXPECT_EQ(bad, 0u) << what;
}

/// cpu: a ZonalReference or ZonalResults (same fields).
template <class Cpu>
void expect_histograms_match(Cpu const& cpu, ZonalResults const& gpu, std::string const& what) {
  ASSERT_EQ(cpu.histograms.size(), gpu.histograms.size()) << what;
  std::size_t bad = 0;
  for (std::size_t z = 0; z < cpu.histograms.size(); ++z) {
    auto const& a = cpu.histograms[z];
    auto const& b = gpu.histograms[z];
    bool const same = same_bits(a.m_lo, b.m_lo) && same_bits(a.m_hi, b.m_hi) && a.m_under == b.m_under &&
                      a.m_over == b.m_over && std::memcmp(a.m_bin, b.m_bin, sizeof a.m_bin) == 0;
    if (!same && bad++ < 5)
      ADD_FAILURE() << what << " zone " << z << ": cpu under/over/total " << a.m_under << "/" << a.m_over << "/"
                    << a.total_quanta() << ", gpu " << b.m_under << "/" << b.m_over << "/" << b.total_quanta();
  }
  EXPECT_EQ(bad, 0u) << what;
}

/// cpu: a ZonalReference or ZonalResults (same fields).
template <class Cpu>
void expect_classes_match(Cpu const& cpu, ZonalResults const& gpu, std::string const& what) {
  ASSERT_EQ(cpu.classes.size(), gpu.classes.size()) << what;
  std::size_t bad = 0;
  for (std::size_t z = 0; z < cpu.classes.size(); ++z) {
    auto const& a = cpu.classes[z];
    auto const& b = gpu.classes[z];
    bool const same = a.m_invalid == b.m_invalid && std::memcmp(a.m_w, b.m_w, sizeof a.m_w) == 0;
    if (!same && bad++ < 5)
      ADD_FAILURE() << what << " zone " << z << ": cpu invalid/total " << a.m_invalid << "/" << a.total_quanta()
                    << ", gpu " << b.m_invalid << "/" << b.total_quanta();
  }
  EXPECT_EQ(bad, 0u) << what;
}

// Each case's CPU reference is checked for non-vacuity before the GPU runs (and on the CPU,
// where no GPU runs, by tests/kernels/parity_inputs_test.cpp).

TEST_F(ZonalParity, ValuesSeveralTilesOverlappingZonesWithHistograms) {
  auto const c = test::zonal::zonal_case("ValuesWithHistograms");
  auto const tiles = test::zonal::case_tiles(c);
  auto const cpu = test::zonal::case_reference(c, tiles);
  ASSERT_TRUE(test::zonal::case_non_vacuous(c, cpu));
  auto const gpu = gpu_run(tiles, c.zones, true, false);
  expect_values_match(cpu, gpu, "values");
  expect_histograms_match(cpu, gpu, "histograms");
  EXPECT_TRUE(gpu.classes.empty());
  // Zone 0 is a large block: many chunks of one zone (the merge path).
  auto const plan = cuda::plan_zonal_items(tiles[0].items, c.zones, tiles[0].width, tiles[0].rows);
  EXPECT_GT(std::count_if(plan.chunks.begin(), plan.chunks.end(), [](auto const& k) { return k.zone == 0; }), 10);
}

TEST_F(ZonalParity, ValuesWithoutHistograms) {
  auto const c = test::zonal::zonal_case("ValuesWithoutHistograms");
  auto const tiles = test::zonal::case_tiles(c);
  auto const cpu = test::zonal::case_reference(c, tiles);
  ASSERT_TRUE(test::zonal::case_non_vacuous(c, cpu));
  auto const gpu = gpu_run(tiles, c.zones, false, false);
  expect_values_match(cpu, gpu, "values, no histograms");
  EXPECT_TRUE(gpu.histograms.empty());
}

TEST_F(ZonalParity, ItemsLongerThanAChunk) {
  std::vector<Tile> const tiles{test::zonal::long_items_tile()};
  auto const cpu = cpu_reference(tiles, 3, true, false);
  ASSERT_TRUE(test::zonal::values_non_vacuous(cpu, true, /*all_zones=*/true));
  auto const gpu = gpu_run(tiles, 3, true, false);
  expect_values_match(cpu, gpu, "long items");
  expect_histograms_match(cpu, gpu, "long items");
}

TEST_F(ZonalParity, ClassesSeveralTiles) {
  auto const c = test::zonal::zonal_case("Classes");
  auto const tiles = test::zonal::case_tiles(c);
  auto const cpu = test::zonal::case_reference(c, tiles);
  ASSERT_TRUE(test::zonal::case_non_vacuous(c, cpu));
  auto const gpu = gpu_run(tiles, c.zones, false, true);
  expect_classes_match(cpu, gpu, "classes");
}

TEST_F(ZonalParity, ReproducibleRunToRun) {
  // Two runs agree to the bit (every field is exact, the variance too).
  auto const c = test::zonal::zonal_case("RunToRun");
  auto const tiles = test::zonal::case_tiles(c);
  ASSERT_TRUE(test::zonal::case_non_vacuous(c, test::zonal::case_reference(c, tiles)));
  auto const a = gpu_run(tiles, c.zones, true, false);
  auto const b = gpu_run(tiles, c.zones, true, false);
  for (std::size_t z = 0; z < a.values.size(); ++z) {
    EXPECT_TRUE(a.values[z].m_sum2 == b.values[z].m_sum2) << "zone " << z;
    EXPECT_TRUE(same_bits(a.values[z].variance(), b.values[z].variance())) << "zone " << z;
  }
  expect_values_match(a, b, "run to run");
}

TEST_F(ZonalParity, HandComputedValues) {
  // Row 0 (cell 100 m2): 1, 2, NaN, 4; row 1 (cell 50 m2): -5, 10, 0, 8.
  Tile t;
  t.width = 4;
  t.rows = 2;
  t.plane = {1.f, 2.f, std::nanf(""), 4.f, -5.f, 10.f, 0.f, 8.f};
  t.row_cell = {100.0, 50.0};
  // Zone 0: 1, 2, NaN at weight 1, and 8 at 0.5. Zone 1: -5 and 10 at 0.25.
  t.items = {{0, 0, 0, 3, 1.0}, {0, 1, 3, 4, 0.5}, {1, 1, 0, 2, 0.25}};
  CudaZonalAccumulator acc(2, true, 0.0, 10.0);
  acc.add_value_tile(t.items, t.plane, t.width, t.row_cell);
  auto const r = acc.download();
  auto const& v = r.values[0];
  EXPECT_EQ(v.weight(), 2.5);
  EXPECT_EQ(v.nodata_weight(), 1.0);
  EXPECT_EQ(v.sum(), 7.0);  // 1 + 2 + 0.5 * 8
  EXPECT_EQ(v.pixels(), 3u);
  EXPECT_EQ(v.nodata_pixels(), 1u);
  EXPECT_EQ(v.min(), 1.0);
  EXPECT_EQ(v.max(), 8.0);
  EXPECT_DOUBLE_EQ(v.mean(), 2.8);
  // (1 - 2.8)^2 + (2 - 2.8)^2 + 0.5 (8 - 2.8)^2 = 17.4, over weight 2.5.
  EXPECT_NEAR(v.variance(), 6.96, 1e-12);
  EXPECT_EQ(r.areas[0].area_m2.value(), 325.0);  // 3 x 100 + 0.5 x 50
  EXPECT_EQ(r.areas[0].valid_area_m2.value(), 225.0);
  // Bins of width 10/1024: 1 -> 102, 2 -> 204, 8 -> 819; weight 1 = 2^32 quanta.
  auto const& h = r.histograms[0];
  EXPECT_EQ(h.m_bin[102], std::uint64_t{1} << 32);
  EXPECT_EQ(h.m_bin[204], std::uint64_t{1} << 32);
  EXPECT_EQ(h.m_bin[819], std::uint64_t{1} << 31);
  EXPECT_EQ(h.total_quanta(), (std::uint64_t{5} << 31));
  EXPECT_EQ(r.histograms[1].m_under, std::uint64_t{1} << 30);  // -5 < lo
  EXPECT_EQ(r.histograms[1].m_over, std::uint64_t{1} << 30);   // 10 == hi: overflow
  EXPECT_EQ(r.values[1].sum(), 1.25);                          // 0.25 (-5 + 10)
  EXPECT_EQ(r.areas[1].area_m2.value(), 25.0);

  // Classes on the same layout: 3, NaN (class 0), 300 (invalid), 2.9 (class 2); row 1 all 7.
  // Weights: fraction x the row's cell units (1 and 0.5), i.e. 2^32 and 2^29 quanta here.
  t.plane = {3.f, std::nanf(""), 300.f, 2.9f, 7.f, 7.f, 7.f, 7.f};
  t.items = {{0, 0, 0, 4, 1.0}, {1, 1, 0, 2, 0.25}};
  std::vector<double> const row_units{1.0, 0.5};
  acc.add_class_tile(t.items, t.plane, t.width, row_units);
  auto const c = acc.download().classes;
  ASSERT_EQ(c.size(), 2u);
  EXPECT_EQ(c[0].m_w[3], std::uint64_t{1} << 32);
  EXPECT_EQ(c[0].m_w[0], std::uint64_t{1} << 32);
  EXPECT_EQ(c[0].m_w[2], std::uint64_t{1} << 32);
  EXPECT_EQ(c[0].m_invalid, std::uint64_t{1} << 32);
  EXPECT_EQ(c[0].total_quanta(), std::uint64_t{3} << 32);
  EXPECT_EQ(c[1].m_w[7], std::uint64_t{1} << 30);  // 2 x 0.25 x 0.5
  EXPECT_EQ(c[1].majority(), 7);
}

TEST_F(ZonalParity, EmptyInput) {
  // No items, and items covering no pixel: nothing launched, every accumulator stays empty.
  CudaZonalAccumulator acc(3, true, kLo, kHi);
  std::vector<float> const plane(12, 1.f);
  std::vector<double> const rows(3, 1.0);
  acc.add_value_tile({}, plane, 4, rows);
  std::vector<ZonalItem> const empty_items{{1, 0, 2, 2, 1.0}, {2, 9, 5, 1, 1.0}};
  acc.add_value_tile(empty_items, plane, 4, rows);
  acc.add_class_tile(empty_items, plane, 4, rows);
  auto const r = acc.download();
  ASSERT_EQ(r.values.size(), 3u);
  ASSERT_EQ(r.classes.size(), 3u);
  ZonalResults expected;
  expected.values.assign(3, pixel::ValueAccumulator{});
  expected.areas.assign(3, pixel::ZoneArea{});
  expected.histograms.assign(3, ZonalHistogram::make(kLo, kHi));
  expected.classes.assign(3, pixel::ClassAccumulator{});
  expect_values_match(expected, r, "empty");
  expect_histograms_match(expected, r, "empty");
  expect_classes_match(expected, r, "empty");

  CudaZonalAccumulator none(0, false);
  none.add_value_tile({}, plane, 4, rows);
  EXPECT_TRUE(none.download().values.empty());
}

// ---- the planner: host only, runs without a device ----------------------------------------------

TEST(ZonalPlan, ChunksCoverEveryPixelInOrderWithinOneZone) {
  std::mt19937 rng(31);
  for (auto [w, h] : {std::pair<std::size_t, std::size_t>{300, 200}, {3000, 41}, {1, 1}}) {
    auto const items = random_items(w, h, 50, rng);
    auto const plan = cuda::plan_zonal_items(items, 50, w, h);
    ASSERT_EQ(plan.item_offset.size(), items.size() + 1);
    std::int64_t next = 0;
    for (std::size_t c = 0; c < plan.chunks.size(); ++c) {
      auto const& k = plan.chunks[c];
      ASSERT_EQ(k.pixel_begin, next) << "chunk " << c;
      ASSERT_GE(k.pixel_count, 1);
      ASSERT_LE(k.pixel_count, kZonalChunkPixels);
      next += k.pixel_count;
      // The items named hold the first and the last pixel, and are of the chunk's zone.
      auto const& off = plan.item_offset;
      auto const ib = static_cast<std::size_t>(k.item_begin), ie = static_cast<std::size_t>(k.item_end);
      ASSERT_LT(ib, ie);
      EXPECT_LE(off[ib], k.pixel_begin);
      EXPECT_GT(off[ib + 1], k.pixel_begin);
      EXPECT_LT(off[ie - 1], next);
      EXPECT_GE(off[ie], next);
      for (std::size_t i = ib; i < ie; ++i) EXPECT_EQ(items[i].zone, k.zone);
      if (c > 0) EXPECT_LE(plan.chunks[c - 1].zone, k.zone);
    }
    EXPECT_EQ(next, plan.item_offset.back());
  }
}

TEST(ZonalPlan, RejectsItemsTheKernelsCannotTake) {
  using V = std::vector<ZonalItem>;
  EXPECT_THROW(cuda::plan_zonal_items(V{{1, 0, 0, 1, 1.0}, {0, 0, 0, 1, 1.0}}, 2, 4, 4), logic_error);  // unsorted
  EXPECT_THROW(cuda::plan_zonal_items(V{{2, 0, 0, 1, 1.0}}, 2, 4, 4), logic_error);    // zone >= count
  EXPECT_THROW(cuda::plan_zonal_items(V{{-1, 0, 0, 1, 1.0}}, 2, 4, 4), logic_error);   // negative zone
  EXPECT_THROW(cuda::plan_zonal_items(V{{0, 4, 0, 1, 1.0}}, 2, 4, 4), logic_error);    // row outside
  EXPECT_THROW(cuda::plan_zonal_items(V{{0, 0, 3, 5, 1.0}}, 2, 4, 4), logic_error);    // past the width
  EXPECT_THROW(cuda::plan_zonal_items(V{{0, 0, -1, 1, 1.0}}, 2, 4, 4), logic_error);   // negative column
  // An empty item covers nothing, wherever it points.
  auto const plan = cuda::plan_zonal_items(V{{0, 99, 7, 7, 1.0}, {1, 0, 0, 4, 1.0}}, 2, 4, 4);
  ASSERT_EQ(plan.chunks.size(), 1u);
  EXPECT_EQ(plan.chunks[0].zone, 1);
  EXPECT_EQ(plan.chunks[0].item_begin, 1);
}

TEST(ZonalPlan, NoDeviceThrowsCudaError) {
  if (cuda_device_count() != 0) GTEST_SKIP() << "a device is present";
  EXPECT_THROW(CudaZonalAccumulator(3, false), cuda_error);
}

}  // namespace
