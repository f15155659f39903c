// The host side of every GPU parity case, run where there is no GPU: the same input generators
// and the same CPU references as tests/kernels/*.cu and tests/pixel/change_parity_test.cu, and
// the same non-vacuity checks those tests assert before any GPU work. If this passes, a GPU
// parity test can fail only on what the GPU computes, never on a host-side assumption (a
// single pixel that is masked, a series with too few valid epochs, a class never drawn).
//
// CPU only (g++, reclaim_core): built and run everywhere.
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "reclaim/backend.hpp"
#include "reclaim/grid.hpp"
#include "reclaim/scheduler.hpp"
#include "reclaim/tile_source.hpp"
#include "tests/kernels/composite_parity_inputs.hpp"
#include "tests/kernels/fused_parity_inputs.hpp"
#include "tests/kernels/pipeline_parity_inputs.hpp"
#include "tests/kernels/trend_parity_inputs.hpp"
#include "tests/kernels/zonal_parity_inputs.hpp"
#include "tests/pixel/change_parity_inputs.hpp"

namespace {

using namespace reclaim;

std::size_t bit_mismatches(std::vector<float> const& a, std::vector<float> const& b) {
  if (a.size() != b.size()) return a.size() + b.size();
  std::size_t bad = 0;
  for (std::size_t i = 0; i < a.size(); ++i)
    bad += std::isnan(a[i]) ? !std::isnan(b[i]) : std::memcmp(&a[i], &b[i], sizeof(float)) != 0;
  return bad;
}

// ---- fused pass (tests/kernels/parity_test.cu) ------------------------------------------------

class FusedParityInputs : public ::testing::TestWithParam<test::FusedParityCase> {};

/// The CPU half of CudaParityCases.PipelineBitIdentical: reference non-vacuous, and the CPU
/// pipeline over the case's plan equal to the whole-raster reference.
TEST_P(FusedParityInputs, ReferenceNonVacuousAndCpuPipelineAgrees) {
  auto const& c = GetParam();
  Grid g;
  g.width = c.width;
  g.height = c.height;
  g.block_width = g.block_height = c.block;
  auto const params = test::fused_params_for(c.sensor);
  auto planes = test::fused_random_planes(g.pixel_count(), c.sensor, c.seed);
  auto const n = static_cast<std::size_t>(g.pixel_count());
  auto const ref = test::fused_reference(params, test::plane_major(planes), n);
  ASSERT_TRUE(test::reference_non_vacuous(ref, n, params.output_count));

  MemoryTileSource source(g, std::move(planes));
  PlanRequest req;
  req.input_planes = test::kFusedPlanes;
  req.output_planes = params.output_count;
  req.memory_budget = c.budget;
  auto const plan = make_plan(g, req);
  MemoryTileSink sink(g, params.output_count);
  CpuBackend cpu(2);
  SchedulerOptions opt;
  opt.reader_threads = 3;
  auto const stats = run_pipeline(source, sink, cpu, params, plan, opt);
  EXPECT_EQ(stats.pixels, g.pixel_count());
  for (int k = 0; k < params.output_count; ++k) {
    std::vector<float> const plane(ref.begin() + static_cast<std::ptrdiff_t>(k * n),
                                   ref.begin() + static_cast<std::ptrdiff_t>((k + 1) * n));
    EXPECT_EQ(bit_mismatches(plane, sink.plane(k)), 0u) << c.name << " plane " << k;
  }
}

INSTANTIATE_TEST_SUITE_P(Cases, FusedParityInputs, ::testing::ValuesIn(test::fused_parity_cases()),
                         [](::testing::TestParamInfo<test::FusedParityCase> const& info) { return info.param.name; });

TEST(FusedParityInputs, PixelZeroClearAndPixelOneMaskedForBothSensors) {
  // Independent of the generator: the designed pixels decoded by hand. S2: SCL 4 is not in
  // {3, 8, 9, 10}, SCL 9 is; Landsat: 21824 has none of bits 0-4, 21832 has bit 3 (cloud).
  for (auto sensor : {test::Sensor::sentinel2, test::Sensor::landsat}) {
    auto const p = test::fused_params_for(sensor);
    auto const planes = test::fused_random_planes(2, sensor, 99);
    EXPECT_FALSE(pixel::is_masked(planes[6][0], p.mask));
    EXPECT_TRUE(pixel::is_masked(planes[6][1], p.mask));
    // NDVI of pixel 0 worked out from the calibration: S2 (DN - 1000) / 1e4, Landsat
    // DN * 2.75e-5 - 0.2, then (nir - red) / (nir + red) in double, rounded to float.
    double const red = sensor == test::Sensor::sentinel2 ? (10500.0 - 1000.0) * 1e-4 : 10500.0 * 2.75e-5 - 0.2;
    double const nir = sensor == test::Sensor::sentinel2 ? (20000.0 - 1000.0) * 1e-4 : 20000.0 * 2.75e-5 - 0.2;
    auto const ref = test::fused_reference(p, test::plane_major(planes), 2);
    EXPECT_NEAR(ref[0], (nir - red) / (nir + red), 1e-6);
    EXPECT_TRUE(std::isnan(ref[1]));
  }
}

TEST(FusedParityInputs, DirectLaunchCasesNonVacuous) {
  auto const params = test::fused_params_for(test::Sensor::sentinel2);
  for (std::size_t pixels : test::fused_direct_launch_pixels()) {
    auto const in = test::plane_major(
        test::fused_random_planes(static_cast<std::int64_t>(pixels), test::Sensor::sentinel2, static_cast<unsigned>(pixels)));
    EXPECT_TRUE(test::reference_non_vacuous(test::fused_reference(params, in, pixels), pixels, params.output_count))
        << pixels << " pixels";
  }
  for (auto sensor : {test::Sensor::landsat, test::Sensor::sentinel2}) {
    auto const p = test::fused_params_for(sensor);
    auto const n = test::out_of_range_qualities().size();
    EXPECT_TRUE(test::reference_non_vacuous(test::fused_reference(p, test::plane_major(test::out_of_range_planes(sensor)), n),
                                            n, p.output_count));
  }
  // The grid-stride case's pattern on a prefix (its 67 M pixels need ~1 GiB of host memory; the
  // GPU test checks the whole reference before launching).
  std::size_t const prefix = 1 << 20;
  auto const p = test::grid_stride_params();
  EXPECT_TRUE(test::reference_non_vacuous(test::fused_reference(p, test::grid_stride_input(prefix), prefix), prefix, 1));
}

// ---- trend (tests/kernels/trend_parity_test.cu) -------------------------------------------------

class TrendParityInputs : public ::testing::TestWithParam<test::TrendParityCase> {};

TEST_P(TrendParityInputs, ReferenceNonVacuous) {
  auto const c = GetParam();
  auto const in = test::trend_parity_input(c);
  std::vector<double> cpu(static_cast<std::size_t>(in.params.output_count) * c.pixels);
  pixel::run_trend_cpu(in.params, in.planes.data(), cpu.data(), c.pixels);
  EXPECT_TRUE(test::trend_reference_non_vacuous(in.params, cpu, c.pixels));
  std::vector<float> cpu_f(cpu.size());
  pixel::run_trend_cpu(in.params, in.planes.data(), cpu_f.data(), c.pixels);
  EXPECT_TRUE(test::trend_reference_non_vacuous(in.params, cpu_f, c.pixels));
}

INSTANTIATE_TEST_SUITE_P(Sizes, TrendParityInputs, ::testing::ValuesIn(test::trend_parity_cases()),
                         [](::testing::TestParamInfo<test::TrendParityCase> const& info) {
                           return "epochs" + std::to_string(info.param.epochs) + "_pixels" +
                                  std::to_string(info.param.pixels);
                         });

TEST(TrendParityInputs, DesignedPixelByHand) {
  // The 4-epoch case's pixel 0, worked out by hand: 0.6, 0.1, 0.3, 0.5 in years y0..y3
  // (y1 = y0 + 1, ...: the uneven gap comes after epoch 3). All four epochs are valid.
  auto const in = test::trend_parity_input({4, 1});
  auto const& p = in.params;
  ASSERT_EQ(p.epoch_count, 4);
  EXPECT_EQ(in.planes, (std::vector<float>{0.6f, 0.1f, 0.3f, 0.5f}));
  std::vector<double> out(static_cast<std::size_t>(p.output_count));
  pixel::run_trend_cpu(p, in.planes.data(), out.data(), 1);
  using O = pixel::TrendOutput;
  auto at = [&](O o) { return out[static_cast<std::size_t>(p.plane[static_cast<int>(o)])]; };
  EXPECT_EQ(at(O::n_valid), 4.0);
  // Pair signs: (0.1-0.6) -, (0.3-0.6) -, (0.5-0.6) -, (0.3-0.1) +, (0.5-0.1) +, (0.5-0.3) +: S = 0.
  EXPECT_EQ(at(O::mk_s), 0.0);
  EXPECT_TRUE(std::isfinite(at(O::mk_p)));
  // Vegetated (>= 0.4) from y3 on.
  EXPECT_EQ(at(O::recovery_year), p.years[3]);
  // T = y3 - y2 = 1: dVI = VI(y3) - VI(y2) = 0.5 - 0.3 (float values, in double).
  EXPECT_NEAR(at(O::dvi), 0.2, 1e-7);
}

// ---- composites (tests/kernels/composite_parity_test.cu) -------------------------------------------

class CompositeParityInputs : public ::testing::TestWithParam<test::CompositeParityCase> {};

TEST_P(CompositeParityInputs, ReferenceNonVacuous) {
  auto const c = GetParam();
  auto const in = test::composite_parity_input(c);
  EXPECT_TRUE(test::composite_reference_non_vacuous(in, test::composite_reference(in, c.pixels), c.pixels));
}

INSTANTIATE_TEST_SUITE_P(Cases, CompositeParityInputs, ::testing::ValuesIn(test::composite_parity_cases()),
                         [](::testing::TestParamInfo<test::CompositeParityCase> const& info) {
                           return std::string(test::composite_method_name(info.param.method)) + "_obs" +
                                  std::to_string(info.param.observations) + "_pixels" +
                                  std::to_string(info.param.pixels);
                         });

TEST(CompositeParityInputs, DesignedPixels) {
  // Pixel 0: all 20 observations clear; pixel 1: none; pixel 2: all but one.
  test::CompositeParityCase const c{pixel::CompositeMethod::median, 20, 3,
                                    pixel::band_set::red | pixel::band_set::nir | pixel::band_set::swir1};
  auto const in = test::composite_parity_input(c);
  auto const out = test::composite_reference(in, 3);
  auto const count = [&](std::size_t i) { return out[static_cast<std::size_t>(pixel::kClearCountPlane) * 3 + i]; };
  EXPECT_EQ(count(0), 20.f);
  EXPECT_EQ(count(1), 0.f);
  EXPECT_EQ(count(2), 19.f);
  EXPECT_TRUE(std::isnan(out[static_cast<std::size_t>(pixel::Band::red) * 3 + 1]));
}

// ---- zonal (tests/kernels/zonal_parity_test.cu) ---------------------------------------------------

TEST(ZonalParityInputs, EveryCaseNonVacuous) {
  for (auto const& c : test::zonal::zonal_parity_cases()) {
    auto const tiles = test::zonal::case_tiles(c);
    EXPECT_TRUE(test::zonal::case_non_vacuous(c, test::zonal::case_reference(c, tiles))) << c.name;
  }
  std::vector<test::zonal::Tile> const tiles{test::zonal::long_items_tile()};
  EXPECT_TRUE(test::zonal::values_non_vacuous(test::zonal::cpu_reference(tiles, 3, true, false), true, true));
}

// ---- change classes (tests/pixel/change_parity_test.cu) -------------------------------------------

TEST(ChangeParityInputs, DefaultAndFvcRulesReachEveryClass) {
  auto const in = test::change_parity_input();
  EXPECT_TRUE(test::change_reference_non_vacuous(test::change_reference(pixel::default_change_rules(), in)));
  EXPECT_TRUE(test::change_reference_non_vacuous(test::change_reference(test::change_fvc_rules(), in)));
}

// ---- pipeline parity, one case per pass kind (tests/kernels/pipeline_parity_test.cpp) ------------

class PipelineParityInputs : public ::testing::TestWithParam<std::string> {};

/// The CPU half of PipelineParity.CudaBackendMatchesCpuBackend: the CPU backend's run is
/// non-vacuous, equals run_pass_cpu over the whole raster, its zonal results equal the items
/// accumulated from that whole-raster output tile by tile, and do not depend on the worker count.
TEST_P(PipelineParityInputs, CpuPipelineNonVacuousAndEqualToWholeRaster) {
  using namespace test::pipeline;
  auto const c = make_pipeline_case(GetParam());
  CpuBackend cpu(2);
  auto const run = run_case(c, cpu);
  ASSERT_TRUE(case_non_vacuous(c, run));
  EXPECT_EQ(run.stats.tiles, static_cast<std::int64_t>(c.plan.tiles.size()));

  auto const whole = whole_raster_reference(c);
  auto const mask = plan_mask(c);
  ASSERT_EQ(whole.size(), run.planes.size());
  for (std::size_t k = 0; k < whole.size(); ++k) {
    std::string first;
    EXPECT_EQ(plane_mismatches(whole[k], run.planes[k], mask, &first), 0u) << c.name << " plane " << k << ", " << first;
  }

  // Zonal: the work's items over the whole-raster output, tile by tile, in plan order.
  auto expected = c.zonal.make_accumulators();
  std::vector<float> scratch, tile;
  int const planes = output_plane_count(c.pass);
  for (std::size_t t = 0; t < c.plan.tiles.size(); ++t) {
    auto const& w = c.plan.tiles[t];
    tile.assign(w.pixel_count() * static_cast<std::size_t>(planes), 0.f);
    for (int k = 0; k < planes; ++k)
      for (std::int32_t y = 0; y < w.height; ++y)
        std::copy_n(whole[static_cast<std::size_t>(k)].begin() + (w.y0 + y) * c.grid.width + w.x0, w.width,
                    tile.begin() + static_cast<std::ptrdiff_t>(k * w.pixel_count() + y * w.width));
    accumulate_tile_cpu(c.zonal, t, tile.data(), planes, static_cast<std::size_t>(w.width), w.pixel_count(), expected,
                        scratch);
  }
  EXPECT_TRUE(zonal_match(expected, run.stats.zonal)) << c.name;

  CpuBackend one(1);
  EXPECT_TRUE(zonal_match(run.stats.zonal, run_case(c, one, 1).stats.zonal)) << c.name << ", one worker";
}

INSTANTIATE_TEST_SUITE_P(PassKinds, PipelineParityInputs, ::testing::ValuesIn(test::pipeline::pipeline_case_names()),
                         [](::testing::TestParamInfo<std::string> const& info) { return info.param; });

TEST(PipelineParityInputs, HandCheckedPixels) {
  using namespace test::pipeline;
  // indices: pixel 0 is kClearDn on the S2 scale: NDVI (1.9 - 0.95) / (1.9 + 0.95) = 1/3.
  auto const idx = make_pipeline_case("indices");
  auto const whole = whole_raster_reference(idx);
  EXPECT_NEAR(whole[0][0], 1.0 / 3.0, 1e-6);
  EXPECT_TRUE(std::isnan(whole[0][1]));  // pixel 1: cloud
  // change: pixel 0 before NDVI 1/3, after (Landsat) NIR 10600, red 10500:
  // (0.0915 - 0.08875) / (0.0915 + 0.08875), so dNDVI = that - 1/3.
  auto const chg = make_pipeline_case("change");
  auto const cw = whole_raster_reference(chg);
  double const after = (10600 * 2.75e-5 - 0.2 - (10500 * 2.75e-5 - 0.2)) / (10600 * 2.75e-5 - 0.2 + 10500 * 2.75e-5 - 0.2);
  EXPECT_NEAR(cw[1][0], after - 1.0 / 3.0, 1e-6);
  EXPECT_TRUE(std::isnan(cw[1][1]));  // after epoch cloudy
  EXPECT_EQ(cw[0][1], 0.f);           // class 0: nodata
  // band: values as they are, nodata -9999 -> NaN.
  auto const band = make_pipeline_case("band_values");
  auto const bw = whole_raster_reference(band);
  EXPECT_EQ(bw[0][0], 0.25f);
  EXPECT_TRUE(std::isnan(bw[0][1]));
}

}  // namespace
