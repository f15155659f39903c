// CPU/GPU parity of the composite pass (kernels/composite_kernel.cu): every output plane must
// be bit-identical to the CPU reference, CompositePixel run by for_each_pixel. Both run the
// same composite_pixel: comparisons, IEEE-754 double +, -, *, / (the NDVI, the even median,
// the percentile interpolation, the distances) and one rounding to float, with no FMA
// contraction (-ffp-contract=off, -fmad=false), so there is no source of even a 1-ulp
// difference. NaN payloads may differ, so NaN is compared by position only.
//
// Needs a CUDA device; every test but the parameter check skips (exit code 0) without one.
// Links reclaim_cuda only (no GDAL).
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include <cuda_runtime_api.h>
#include <gtest/gtest.h>

#include "host/cuda/cuda_raii.hpp"
#include "kernels/composite_kernel.cuh"
#include "reclaim/cuda_backend.hpp"
#include "reclaim/error.hpp"
#include "reclaim/pixel/composite.hpp"
#include "tests/kernels/composite_parity_inputs.hpp"

namespace {

using namespace reclaim;
using pixel::CompositeMethod;
using pixel::CompositeParams;

class CompositeParity : public ::testing::Test {
 protected:
  void SetUp() override {
    if (cuda_device_count() == 0) GTEST_SKIP() << "no CUDA device: GPU composite parity tests skipped";
  }
};

std::vector<float> run_gpu(CompositeParams const& p, std::vector<float> const& h_obs, std::size_t pixels) {
  cuda::Stream stream;  // a non-default stream
  cuda::DeviceBuffer<float> d_obs(h_obs.size(), stream.get());
  auto const out_count = static_cast<std::size_t>(pixel::composite_output_planes(p)) * pixels;
  cuda::DeviceBuffer<float> d_out(out_count, stream.get());
  if (!h_obs.empty())
    RECLAIM_CUDA_TRY(cudaMemcpyAsync(d_obs.data(), h_obs.data(), h_obs.size() * sizeof(float),
                                     cudaMemcpyHostToDevice, stream.get()));
  if (out_count)  // poison: every element must be written
    RECLAIM_CUDA_TRY(cudaMemsetAsync(d_out.data(), 0x7f, out_count * sizeof(float), stream.get()));
  kernels::composite_async(p, d_obs.data(), d_out.data(), pixels, stream.get());
  RECLAIM_CHECK_KERNEL(stream.get());
  std::vector<float> h_out(out_count);
  if (out_count)
    RECLAIM_CUDA_TRY(cudaMemcpyAsync(h_out.data(), d_out.data(), out_count * sizeof(float), cudaMemcpyDeviceToHost,
                                     stream.get()));
  stream.synchronize();
  return h_out;
}

void expect_bit_identical(std::vector<float> const& cpu, std::vector<float> const& gpu, std::size_t pixels,
                          std::string const& what) {
  ASSERT_EQ(cpu.size(), gpu.size()) << what;
  std::size_t mismatches = 0;
  for (std::size_t k = 0; k < cpu.size(); ++k) {
    bool const same = std::isnan(cpu[k]) ? std::isnan(gpu[k]) : std::memcmp(&cpu[k], &gpu[k], sizeof(float)) == 0;
    if (!same && mismatches++ < 5)
      ADD_FAILURE() << what << " plane " << k / pixels << " pixel " << k % pixels << ": cpu " << cpu[k] << " gpu "
                    << gpu[k];
  }
  EXPECT_EQ(mismatches, 0u) << what;
}

using test::CompositeParityCase;

class CompositeParityCases : public CompositeParity, public ::testing::WithParamInterface<CompositeParityCase> {};

TEST_P(CompositeParityCases, EveryPlaneBitIdentical) {
  CompositeParityCase const c = GetParam();
  auto const in = test::composite_parity_input(c);
  std::string const what = std::string(test::composite_method_name(c.method)) + ", " +
                           std::to_string(c.observations) + " observations, " + std::to_string(c.pixels) + " pixels";
  auto const cpu = test::composite_reference(in, c.pixels);
  // Before any GPU work: the case compares real values (tests/kernels/parity_inputs_test.cpp
  // checks the same on the CPU, where no GPU runs).
  ASSERT_TRUE(test::composite_reference_non_vacuous(in, cpu, c.pixels)) << what;
  expect_bit_identical(cpu, run_gpu(in.params, in.obs, c.pixels), c.pixels, what);
}

INSTANTIATE_TEST_SUITE_P(Cases, CompositeParityCases, ::testing::ValuesIn(test::composite_parity_cases()),
                         [](::testing::TestParamInfo<CompositeParityCase> const& info) {
                           return std::string(test::composite_method_name(info.param.method)) + "_obs" +
                                  std::to_string(info.param.observations) + "_pixels" +
                                  std::to_string(info.param.pixels);
                         });

TEST_F(CompositeParity, EmptyTileLaunchesNothing) {
  auto const p = test::composite_parity_params({CompositeMethod::median, 20, 0, pixel::band_set::red | pixel::band_set::nir});
  EXPECT_TRUE(run_gpu(p, {}, 0).empty());
}

TEST_F(CompositeParity, HandWorkedPixelOnTheDevice) {
  // tests/pixel/composite_test.cpp's medoid pixel: red 0.1 0.2 0.3 0.9, nir 0.5 0.1 0.58 0.4,
  // medians (0.25, 0.45), observation 2 nearest; NDVI percentiles 0 and 100 are the least
  // and greatest NDVI, (0.4-0.9)/1.3 and (0.5-0.1)/0.6 in double, rounded to float.
  CompositeParams p;
  p.method = CompositeMethod::medoid;
  p.observation_count = 4;
  p.bands = pixel::band_set::red | pixel::band_set::nir;
  p.percentile_count = 2;
  p.percentiles[1] = 100.0;
  std::vector<float> obs(4 * pixel::kBandCount, std::nanf(""));
  float const red[] = {0.1f, 0.2f, 0.3f, 0.9f}, nir[] = {0.5f, 0.1f, 0.58f, 0.4f};
  for (int o = 0; o < 4; ++o) {
    obs[static_cast<std::size_t>(o * pixel::kBandCount + 2)] = red[o];
    obs[static_cast<std::size_t>(o * pixel::kBandCount + 3)] = nir[o];
  }
  auto const out = run_gpu(p, obs, 1);
  ASSERT_EQ(out.size(), 9u);
  EXPECT_EQ(out[2], 0.3f);
  EXPECT_EQ(out[3], 0.58f);
  EXPECT_EQ(out[pixel::kClearCountPlane], 4.f);
  auto const ndvi = [](float r, float n) { return (double{n} - double{r}) / (double{n} + double{r}); };
  EXPECT_EQ(out[7], static_cast<float>(ndvi(0.9f, 0.4f)));
  EXPECT_EQ(out[8], static_cast<float>(ndvi(0.1f, 0.5f)));
}

// No device needed: the parameters are checked before anything is launched.
TEST(CompositeLaunch, RefusesParametersBeforeLaunching) {
  CompositeParams p;
  p.observation_count = pixel::kMaxObservations + 1;
  p.bands = pixel::band_set::red;
  EXPECT_THROW(kernels::composite_async(p, nullptr, nullptr, 10, nullptr), input_error);
  p.observation_count = 2;
  p.method = CompositeMethod::max_ndvi;  // without nir
  EXPECT_THROW(kernels::composite_async(p, nullptr, nullptr, 10, nullptr), input_error);
}

}  // namespace
