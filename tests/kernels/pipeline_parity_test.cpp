// CPU/GPU parity of the whole pipeline, one case per pass kind that `--device auto` sends to the
// CUDA backend (indices, change/assess, trend, zonal --raster values and classes): the same
// tile plan and zonal work through CpuBackend and the CUDA backend, over an in-memory source and
// sink. Rasters must be bit-identical (NaN by position), zonal results exact (the variance
// too), whether the CUDA worker accumulates the zonal work on the host or on the device.
//
// Needs a CUDA device; skips (exit code 0) without one. Links reclaim_cuda and reclaim_core
// only: no GDAL. The CPU half of every case (and its non-vacuity) also runs without a GPU, in
// tests/kernels/parity_inputs_test.cpp.
#include <string>

#include <gtest/gtest.h>

#include "reclaim/backend.hpp"
#include "reclaim/cuda_backend.hpp"
#include "tests/kernels/pipeline_parity_inputs.hpp"

namespace {

using namespace reclaim;
using namespace reclaim::test::pipeline;

class PipelineParity : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (cuda_device_count() == 0) GTEST_SKIP() << "no CUDA device: GPU pipeline parity tests skipped";
  }
};

void expect_same_run(PipelineCase const& c, PipelineOutput const& cpu, PipelineOutput const& gpu,
                     std::string const& what) {
  EXPECT_EQ(gpu.stats.tiles, static_cast<std::int64_t>(c.plan.tiles.size())) << what;
  EXPECT_EQ(gpu.stats.pixels, cpu.stats.pixels) << what;
  auto const mask = plan_mask(c);
  ASSERT_EQ(cpu.planes.size(), gpu.planes.size()) << what;
  for (std::size_t k = 0; k < cpu.planes.size(); ++k) {
    std::string first;
    EXPECT_EQ(plane_mismatches(cpu.planes[k], gpu.planes[k], mask, &first), 0u)
        << what << " plane " << k << ", first: " << first;
  }
  EXPECT_TRUE(zonal_match(cpu.stats.zonal, gpu.stats.zonal)) << what;
}

TEST_P(PipelineParity, CudaBackendMatchesCpuBackend) {
  auto const c = make_pipeline_case(GetParam());
  CpuBackend cpu(2);
  auto const ref = run_case(c, cpu);
  // Before any GPU work: the case compares real values.
  ASSERT_TRUE(case_non_vacuous(c, ref));
  auto gpu = make_cuda_backend(0);
  expect_same_run(c, ref, run_case(c, *gpu), c.name + " (2 streams)");
  // One stream: every tile through one worker, in the scheduler's order.
  auto gpu1 = make_cuda_backend(0, 1);
  expect_same_run(c, ref, run_case(c, *gpu1, 1), c.name + " (1 stream)");
}

INSTANTIATE_TEST_SUITE_P(PassKinds, PipelineParity, ::testing::ValuesIn(pipeline_case_names()),
                         [](::testing::TestParamInfo<std::string> const& info) { return info.param; });

}  // namespace
