// CPU/GPU parity of the trend kernel (kernels/trend_kernel.cu): every product, slopes and
// p-values included, must be bit-identical to the CPU reference run_trend_cpu. Both run the
// same compute_trend_pixel; it uses only IEEE-754 +, -, *, / and sqrt (correctly rounded on
// x86-64 SSE2 and on the GPU with nvcc's default -prec-div/-prec-sqrt), no FMA contraction
// (-ffp-contract=off, -fmad=false), and its own erfc/exp instead of the two libms, so there
// is no source of even a 1-ulp difference. NaN payloads may differ, so NaN is compared by
// position only.
//
// Needs a CUDA device; every test skips (exit code 0) without one. Links reclaim_cuda only
// (no GDAL).
#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include <cuda_runtime_api.h>
#include <gtest/gtest.h>

#include "host/cuda/cuda_raii.hpp"
#include "kernels/trend_kernel.cuh"
#include "reclaim/cuda_backend.hpp"
#include "reclaim/pixel/trend.hpp"
#include "tests/kernels/trend_parity_inputs.hpp"

namespace {

using namespace reclaim;
using pixel::TrendOutput;
using pixel::TrendParams;

class TrendParity : public ::testing::Test {
 protected:
  void SetUp() override {
    if (cuda_device_count() == 0) GTEST_SKIP() << "no CUDA device: GPU trend parity tests skipped";
  }
};

template <class Out>
std::vector<Out> run_gpu(TrendParams const& p, std::vector<float> const& h_in, std::size_t pixels) {
  cuda::Stream stream;  // a non-default stream
  cuda::DeviceBuffer<float> d_in(h_in.size(), stream.get());
  auto const out_count = static_cast<std::size_t>(p.output_count) * pixels;
  cuda::DeviceBuffer<Out> d_out(out_count, stream.get());
  if (!h_in.empty())
    RECLAIM_CUDA_TRY(cudaMemcpyAsync(d_in.data(), h_in.data(), h_in.size() * sizeof(float), cudaMemcpyHostToDevice,
                                     stream.get()));
  kernels::trend_async(p, d_in.data(), d_out.data(), pixels, stream.get());
  RECLAIM_CHECK_KERNEL(stream.get());
  std::vector<Out> h_out(out_count);
  if (out_count)
    RECLAIM_CUDA_TRY(cudaMemcpyAsync(h_out.data(), d_out.data(), out_count * sizeof(Out), cudaMemcpyDeviceToHost,
                                     stream.get()));
  stream.synchronize();
  return h_out;
}

template <class Out>
void expect_bit_identical(std::vector<Out> const& cpu, std::vector<Out> const& gpu, std::size_t pixels,
                          std::string const& what) {
  ASSERT_EQ(cpu.size(), gpu.size()) << what;
  std::size_t mismatches = 0;
  for (std::size_t k = 0; k < cpu.size(); ++k) {
    bool const same = std::isnan(cpu[k]) ? std::isnan(gpu[k]) : std::memcmp(&cpu[k], &gpu[k], sizeof(Out)) == 0;
    if (!same && mismatches++ < 5)
      ADD_FAILURE() << what << " output " << k / pixels << " pixel " << k % pixels << ": cpu " << cpu[k] << " gpu "
                    << gpu[k];
  }
  EXPECT_EQ(mismatches, 0u) << what;
}

using test::TrendParityCase;

class TrendParityCases : public TrendParity, public ::testing::WithParamInterface<TrendParityCase> {};

TEST_P(TrendParityCases, DoubleAndFloatProductsBitIdentical) {
  TrendParityCase const c = GetParam();
  auto const [p, in] = test::trend_parity_input(c);
  std::string const what = std::to_string(c.epochs) + " epochs, " + std::to_string(c.pixels) + " pixels";

  std::vector<double> cpu(static_cast<std::size_t>(p.output_count) * c.pixels);
  pixel::run_trend_cpu(p, in.data(), cpu.data(), c.pixels);
  std::vector<float> cpu_f(cpu.size());
  pixel::run_trend_cpu(p, in.data(), cpu_f.data(), c.pixels);
  // Before any GPU work: the case compares real values (tests/kernels/parity_inputs_test.cpp
  // checks the same on the CPU, where no GPU runs).
  ASSERT_TRUE(test::trend_reference_non_vacuous(p, cpu, c.pixels)) << what;
  ASSERT_TRUE(test::trend_reference_non_vacuous(p, cpu_f, c.pixels)) << what;

  expect_bit_identical(cpu, run_gpu<double>(p, in, c.pixels), c.pixels, what + " (double)");
  expect_bit_identical(cpu_f, run_gpu<float>(p, in, c.pixels), c.pixels, what + " (float)");
}

INSTANTIATE_TEST_SUITE_P(Sizes, TrendParityCases, ::testing::ValuesIn(test::trend_parity_cases()),
                         [](::testing::TestParamInfo<TrendParityCase> const& info) {
                           return "epochs" + std::to_string(info.param.epochs) + "_pixels" +
                                  std::to_string(info.param.pixels);
                         });

TEST_F(TrendParity, EmptyTileLaunchesNothing) {
  std::mt19937 rng(5);
  TrendParams const p = test::trend_all_outputs(7, rng);
  EXPECT_TRUE(run_gpu<float>(p, {}, 0).empty());
}

TEST_F(TrendParity, HandWorkedPixelOnTheDevice) {
  // tests/pixel/trend_test.cpp's four-epoch series with a tie: slope 0.158333..., S = 5.
  TrendParams p;
  p.epoch_count = 4;
  for (int e = 0; e < 4; ++e) p.years[e] = 2019 + e;
  p.add_output(TrendOutput::slope);
  p.add_output(TrendOutput::mk_s);
  std::vector<float> const in = {0.25f, 0.5f, 0.5f, 0.875f};  // exact in float: slopes 0.25, 0.125, ...
  auto const out = run_gpu<double>(p, in, 1);
  // Slopes: 0.25, 0.125, 0.625/3, 0, 0.1875, 0.375 -> sorted 0, 0.125, 0.1875, 0.2083, 0.25,
  // 0.375 -> median (0.1875 + 0.208333...)/2.
  EXPECT_NEAR(out[0], (0.1875 + 0.625 / 3.0) / 2.0, 1e-15);
  EXPECT_EQ(out[1], 5.0);
}

}  // namespace
