// CPU/GPU parity of the fused index pass: the CUDA backend must give bit-identical index
// rasters to the CPU reference (same compute_pixel, no FMA contraction on either side).
// NaN payloads may differ between host and device, so NaN is compared by position only.
//
// Needs a CUDA device; every test skips (exit code 0) without one. Links reclaim_cuda and
// reclaim_core only: no GDAL.
#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include <cuda_runtime_api.h>
#include <gtest/gtest.h>

#include "host/cuda/cuda_raii.hpp"
#include "kernels/fused_kernel.cuh"
#include "reclaim/backend.hpp"
#include "reclaim/cuda_backend.hpp"
#include "reclaim/grid.hpp"
#include "reclaim/scheduler.hpp"
#include "reclaim/tile_source.hpp"
#include "tests/kernels/fused_parity_inputs.hpp"

namespace {

using namespace reclaim;
using pixel::Index;

class CudaParity : public ::testing::Test {
 protected:
  void SetUp() override {
    if (cuda_device_count() == 0) GTEST_SKIP() << "no CUDA device: GPU parity tests skipped";
  }
};

using test::FusedParityCase;
using test::kFusedPlanes;
using test::Sensor;
constexpr int kPlanes = kFusedPlanes;

Grid grid_of(std::int64_t w, std::int64_t h, std::int32_t block) {
  Grid g;
  g.width = w;
  g.height = h;
  g.block_width = block;
  g.block_height = block;
  return g;
}

/// Bit-identical for non-NaN values, NaN at the same positions. Reports the first few only.
void expect_bit_identical(std::vector<float> const& expected, std::vector<float> const& actual, std::string const& what) {
  ASSERT_EQ(expected.size(), actual.size()) << what;
  std::size_t mismatches = 0;
  for (std::size_t i = 0; i < expected.size(); ++i) {
    bool const same = std::isnan(expected[i]) ? std::isnan(actual[i])
                                              : std::memcmp(&expected[i], &actual[i], sizeof(float)) == 0;
    if (!same && mismatches++ < 5)
      ADD_FAILURE() << what << " pixel " << i << ": cpu " << expected[i] << " gpu " << actual[i];
  }
  EXPECT_EQ(mismatches, 0u) << what;
}

/// Runs the pipeline twice, CpuBackend vs CUDA backend, on the same plan; also checks both
/// against one run_fused_cpu over the whole raster.
void check_parity(FusedParityCase const& c) {
  Grid const g = grid_of(c.width, c.height, c.block);
  auto const params = test::fused_params_for(c.sensor);
  auto planes = test::fused_random_planes(g.pixel_count(), c.sensor, c.seed);

  auto const n = static_cast<std::size_t>(g.pixel_count());
  std::vector<float> whole_in(n * kPlanes);
  for (int k = 0; k < kPlanes; ++k)
    std::copy(planes[static_cast<std::size_t>(k)].begin(), planes[static_cast<std::size_t>(k)].end(),
              whole_in.begin() + static_cast<std::ptrdiff_t>(k * n));
  std::vector<float> const whole_out = test::fused_reference(params, whole_in, n);
  // Before any GPU work: the case compares real values (tests/kernels/parity_inputs_test.cpp
  // checks the same on the CPU, where no GPU runs).
  ASSERT_TRUE(test::reference_non_vacuous(whole_out, n, params.output_count));

  MemoryTileSource source(g, std::move(planes));
  PlanRequest req;
  req.input_planes = kPlanes;
  req.output_planes = params.output_count;
  req.memory_budget = c.budget;
  auto const plan = make_plan(g, req);
  SchedulerOptions opt;
  opt.reader_threads = 3;

  MemoryTileSink cpu_sink(g, params.output_count), gpu_sink(g, params.output_count);
  CpuBackend cpu(2);
  auto const cpu_stats = run_pipeline(source, cpu_sink, cpu, params, plan, opt);
  auto gpu = make_cuda_backend(0);
  auto const gpu_stats = run_pipeline(source, gpu_sink, *gpu, params, plan, opt);
  EXPECT_EQ(cpu_stats.tiles, static_cast<std::int64_t>(plan.tiles.size()));
  EXPECT_EQ(gpu_stats.tiles, static_cast<std::int64_t>(plan.tiles.size()));
  EXPECT_EQ(gpu_stats.pixels, g.pixel_count());

  for (int k = 0; k < params.output_count; ++k) {
    std::string const what = "index " + std::to_string(k) + " (" + std::to_string(c.width) + "x" +
                             std::to_string(c.height) + ", " + std::to_string(plan.tiles.size()) + " tiles)";
    std::vector<float> const ref(whole_out.begin() + static_cast<std::ptrdiff_t>(k * n),
                                 whole_out.begin() + static_cast<std::ptrdiff_t>((k + 1) * n));
    expect_bit_identical(ref, cpu_sink.plane(k), "cpu pipeline " + what);
    expect_bit_identical(cpu_sink.plane(k), gpu_sink.plane(k), "gpu vs cpu " + what);
  }
}

class CudaParityCases : public CudaParity, public ::testing::WithParamInterface<FusedParityCase> {};

TEST_P(CudaParityCases, PipelineBitIdentical) { check_parity(GetParam()); }

INSTANTIATE_TEST_SUITE_P(Cases, CudaParityCases, ::testing::ValuesIn(test::fused_parity_cases()),
                         [](::testing::TestParamInfo<FusedParityCase> const& info) { return info.param.name; });

// ---- the kernel launcher directly, on a non-default stream -----------------------------------

TEST_F(CudaParity, KernelEmptyInput) {
  cuda::Stream stream;
  auto const params = test::fused_params_for(Sensor::sentinel2);
  // pixels == 0: no launch, no error, nothing touched (null buffers would fault otherwise).
  kernels::fused_indices_async(params, nullptr, nullptr, 0, stream.get());
  EXPECT_EQ(cudaPeekAtLastError(), cudaSuccess);
  stream.synchronize();
  EXPECT_EQ(cudaGetLastError(), cudaSuccess);
}

/// Direct launch over `pixels` pixels into a poisoned device buffer one plane larger than the
/// outputs: every output element must be written (and equal the CPU), the extra plane untouched.
void check_direct_launch(pixel::FusedParams const& params, std::vector<float> const& h_in, std::size_t pixels,
                         std::string const& what) {
  ASSERT_EQ(h_in.size(), pixels * static_cast<std::size_t>(params.input_plane_count));
  auto const out_planes = static_cast<std::size_t>(params.output_count);
  std::vector<float> const expected = test::fused_reference(params, h_in, pixels);
  ASSERT_TRUE(test::reference_non_vacuous(expected, pixels, params.output_count)) << what;

  cuda::Stream stream;
  cuda::DeviceBuffer<float> d_in(h_in.size(), stream.get());
  cuda::DeviceBuffer<float> d_out((out_planes + 1) * pixels, stream.get());
  constexpr unsigned char kPoisonByte = 0xAB;  // 0xABABABAB: a normal float (-1.2e-12), never an index value here
  std::uint32_t const poison_bits = 0xABABABABu;
  RECLAIM_CUDA_TRY(cudaMemcpyAsync(d_in.data(), h_in.data(), h_in.size() * sizeof(float), cudaMemcpyHostToDevice,
                                   stream.get()));
  RECLAIM_CUDA_TRY(cudaMemsetAsync(d_out.data(), kPoisonByte, d_out.size() * sizeof(float), stream.get()));
  // The plane stride the kernel uses is `pixels`, so the extra plane sits after the outputs.
  kernels::fused_indices_async(params, d_in.data(), d_out.data(), pixels, stream.get());
  ASSERT_EQ(cudaPeekAtLastError(), cudaSuccess);
  std::vector<float> h_out(d_out.size());
  RECLAIM_CUDA_TRY(cudaMemcpyAsync(h_out.data(), d_out.data(), h_out.size() * sizeof(float), cudaMemcpyDeviceToHost,
                                   stream.get()));
  stream.synchronize();

  std::size_t unwritten = 0, clobbered = 0;
  for (std::size_t i = 0; i < h_out.size(); ++i) {
    std::uint32_t bits;
    std::memcpy(&bits, &h_out[i], sizeof bits);
    if (i < out_planes * pixels) {
      unwritten += bits == poison_bits;
    } else {
      clobbered += bits != poison_bits;
    }
  }
  EXPECT_EQ(unwritten, 0u) << what << ": output elements the kernel did not write";
  EXPECT_EQ(clobbered, 0u) << what << ": elements written past the last output plane";
  expect_bit_identical(
      expected, std::vector<float>(h_out.begin(), h_out.begin() + static_cast<std::ptrdiff_t>(out_planes * pixels)),
      what);
}

TEST_F(CudaParity, KernelPoisonedOutputEveryElementWritten) {
  // 1 pixel, less than one block, one partial block, many blocks with a ragged end.
  for (std::size_t pixels : test::fused_direct_launch_pixels()) {
    auto const h_in = test::plane_major(test::fused_random_planes(static_cast<std::int64_t>(pixels), Sensor::sentinel2,
                                                                  static_cast<unsigned>(pixels)));
    check_direct_launch(test::fused_params_for(Sensor::sentinel2), h_in, pixels,
                        "direct launch, " + std::to_string(pixels) + " pixels");
  }
}

TEST_F(CudaParity, KernelQualityOutsideUint32Range) {
  // A Float32 quality band (a user mask file, a VRT) can hold values no uint32 represents.
  // Converting those to an integer is undefined in C++, and x86 and CUDA differ in practice
  // (x86 wraps/zeroes, CUDA saturates to 0xFFFFFFFF, which hits every QA bit), so is_masked
  // must decide them before converting for the two backends to agree.
  std::size_t const pixels = test::out_of_range_qualities().size();
  for (Sensor sensor : {Sensor::landsat, Sensor::sentinel2}) {
    auto const planes = test::out_of_range_planes(sensor);
    check_direct_launch(test::fused_params_for(sensor), test::plane_major(planes), pixels,
                        sensor == Sensor::landsat ? "out-of-range QA (bits rule)" : "out-of-range SCL (class rule)");
  }
}

TEST_F(CudaParity, KernelGridStrideLoopBeyondMaxBlocks) {
  // The launcher caps the grid at 65535 * 4 blocks of 256 threads (67 107 840 threads); one
  // pixel count past that makes the grid-stride loop take a second turn for some threads.
  // Only NDVI on three planes to keep host memory and time modest (~1 GiB on the device).
  std::size_t const pixels = std::size_t{65535} * 4 * 256 + 4099;
  pixel::FusedParams const p = test::grid_stride_params();
  std::vector<float> const h_in = test::grid_stride_input(pixels);
  std::vector<float> const expected = test::fused_reference(p, h_in, pixels);
  ASSERT_TRUE(test::reference_non_vacuous(expected, pixels, 1));

  cuda::Stream stream;
  cuda::DeviceBuffer<float> d_in(h_in.size(), stream.get());
  cuda::DeviceBuffer<float> d_out(pixels, stream.get());
  RECLAIM_CUDA_TRY(cudaMemcpyAsync(d_in.data(), h_in.data(), h_in.size() * sizeof(float), cudaMemcpyHostToDevice,
                                   stream.get()));
  RECLAIM_CUDA_TRY(cudaMemsetAsync(d_out.data(), 0xAB, pixels * sizeof(float), stream.get()));
  kernels::fused_indices_async(p, d_in.data(), d_out.data(), pixels, stream.get());
  ASSERT_EQ(cudaPeekAtLastError(), cudaSuccess);
  std::vector<float> h_out(pixels);
  RECLAIM_CUDA_TRY(
      cudaMemcpyAsync(h_out.data(), d_out.data(), pixels * sizeof(float), cudaMemcpyDeviceToHost, stream.get()));
  stream.synchronize();
  expect_bit_identical(expected, h_out, "grid-stride launch");
}

TEST(CudaDeviceCount, NeverThrowsAndIsNonNegative) {
  // Runs everywhere, device or not: the function the skip relies on must be safe to call.
  int const n = cuda_device_count();
  EXPECT_GE(n, 0);
  if (n == 0) {
    EXPECT_THROW((void)make_cuda_backend(0), cuda_error);
  }
}

}  // namespace
