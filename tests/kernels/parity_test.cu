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

namespace {

using namespace reclaim;
using pixel::Index;

class CudaParity : public ::testing::Test {
 protected:
  void SetUp() override {
    if (cuda_device_count() == 0) GTEST_SKIP() << "no CUDA device: GPU parity tests skipped";
  }
};

constexpr int kPlanes = 7;  // blue, green, red, nir, swir1, swir2, quality

enum class Sensor { sentinel2, landsat };

/// Every index requested at once. Landsat's scale-and-offset is the case where a contracted
/// FMA (DN * scale + offset) would round differently from the CPU.
pixel::FusedParams params_for(Sensor sensor) {
  pixel::FusedParams p;
  for (int b = 0; b < pixel::kBandCount; ++b) {
    auto& c = p.calibration[b];
    if (sensor == Sensor::sentinel2) {
      c.dn_offset = -1000.0;
      c.scale = 1e-4;
    } else {
      c.scale = 2.75e-5;
      c.offset = -0.2;
    }
    c.nodata = 0.f;
    c.has_nodata = true;
    c.saturation = 65535.f;
    c.has_saturation = true;
    p.band_plane[b] = b;
  }
  p.mask_plane = 6;
  if (sensor == Sensor::sentinel2) {
    for (std::uint32_t v : {3u, 8u, 9u, 10u}) p.mask.add_class(v);
  } else {
    p.mask.any_bits = 0x1F;
  }
  for (int i = 0; i < pixel::kIndexCount; ++i) p.outputs[p.output_count++] = static_cast<Index>(i);
  p.input_plane_count = kPlanes;
  return p;
}

/// Seeded random DN planes: mostly valid DNs (including some below the S2 offset, i.e.
/// negative reflectance), ~1% nodata 0, ~1% saturated 65535, a few NaN, and a quality plane
/// of SCL classes 0..11 (S2) or QA_PIXEL-like words (Landsat).
std::vector<std::vector<float>> random_planes(std::int64_t pixels, Sensor sensor, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> dn(1, 12000);
  std::uniform_int_distribution<int> pct(0, 99);
  std::uniform_int_distribution<int> scl(0, 11);
  std::uniform_int_distribution<int> qa(0, 0xFFFF);
  std::vector<std::vector<float>> planes(kPlanes, std::vector<float>(static_cast<std::size_t>(pixels)));
  for (int k = 0; k < pixel::kBandCount; ++k)
    for (auto& v : planes[static_cast<std::size_t>(k)]) {
      int const roll = pct(rng);
      v = roll == 0 ? 0.f : roll == 1 ? 65535.f : static_cast<float>(dn(rng));
      if (roll == 2 && pct(rng) < 10) v = std::nanf("");
    }
  for (auto& v : planes[6]) {
    if (sensor == Sensor::sentinel2) {
      v = static_cast<float>(scl(rng));
    } else {
      // Half clear (21824: bits 6, 8, 10, 12, 14), half random words (most hit bits 0-4).
      v = pct(rng) < 50 ? 21824.f : static_cast<float>(qa(rng));
    }
  }
  return planes;
}

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

struct ParityCase {
  std::int64_t width, height;
  std::int32_t block;
  std::size_t budget;
  Sensor sensor;
};

/// Runs the pipeline twice, CpuBackend vs CUDA backend, on the same plan; also checks both
/// against one run_fused_cpu over the whole raster.
void check_parity(ParityCase const& c, unsigned seed) {
  Grid const g = grid_of(c.width, c.height, c.block);
  auto const params = params_for(c.sensor);
  auto planes = random_planes(g.pixel_count(), c.sensor, seed);

  auto const n = static_cast<std::size_t>(g.pixel_count());
  std::vector<float> whole_in(n * kPlanes);
  for (int k = 0; k < kPlanes; ++k)
    std::copy(planes[static_cast<std::size_t>(k)].begin(), planes[static_cast<std::size_t>(k)].end(),
              whole_in.begin() + static_cast<std::ptrdiff_t>(k * n));
  std::vector<float> whole_out(n * static_cast<std::size_t>(params.output_count));
  run_fused_cpu(params, whole_in.data(), whole_out.data(), n);

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

  std::size_t nan = 0;
  for (int k = 0; k < params.output_count; ++k) {
    std::string const what = "index " + std::to_string(k) + " (" + std::to_string(c.width) + "x" +
                             std::to_string(c.height) + ", " + std::to_string(plan.tiles.size()) + " tiles)";
    std::vector<float> const ref(whole_out.begin() + static_cast<std::ptrdiff_t>(k * n),
                                 whole_out.begin() + static_cast<std::ptrdiff_t>((k + 1) * n));
    expect_bit_identical(ref, cpu_sink.plane(k), "cpu pipeline " + what);
    expect_bit_identical(cpu_sink.plane(k), gpu_sink.plane(k), "gpu vs cpu " + what);
    for (float v : ref) nan += std::isnan(v);
  }
  // Inputs were built to contain both valid and invalid pixels; make sure they did.
  EXPECT_GT(nan, 0u);
  EXPECT_LT(nan, n * static_cast<std::size_t>(params.output_count));
}

TEST_F(CudaParity, RandomTilesSentinel2SeveralTilesRaggedEdges) {
  // 1 MiB budget -> 128 x 128 tiles: 8 x 7 tiles, last column 104 wide, last row 9 high.
  check_parity({1000, 777, 128, std::size_t{1} << 20, Sensor::sentinel2}, 2019);
}

TEST_F(CudaParity, RandomTilesLandsatSeveralTilesRaggedEdges) {
  check_parity({1000, 777, 128, std::size_t{1} << 20, Sensor::landsat}, 2025);
}

TEST_F(CudaParity, LargeTilesSpanningManyKernelBlocks) {
  // Default-size tiles of up to 1 Mi pixels (4096 kernel blocks of 256), ragged at both edges.
  check_parity({2500, 1500, 512, std::size_t{512} << 20, Sensor::sentinel2}, 7);
}

TEST_F(CudaParity, OnePixelRaster) {
  check_parity({1, 1, 256, std::size_t{512} << 20, Sensor::sentinel2}, 1);
  check_parity({1, 1, 256, std::size_t{512} << 20, Sensor::landsat}, 2);
}

TEST_F(CudaParity, SmallOddRaster) {
  check_parity({3, 257, 16, 1, Sensor::sentinel2}, 3);
}

// ---- the kernel launcher directly, on a non-default stream -----------------------------------

TEST_F(CudaParity, KernelEmptyInput) {
  cuda::Stream stream;
  auto const params = params_for(Sensor::sentinel2);
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
  std::vector<float> expected(pixels * out_planes);
  run_fused_cpu(params, h_in.data(), expected.data(), pixels);

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

std::vector<float> plane_major(std::vector<std::vector<float>> const& planes) {
  std::vector<float> out;
  for (auto const& p : planes) out.insert(out.end(), p.begin(), p.end());
  return out;
}

TEST_F(CudaParity, KernelPoisonedOutputEveryElementWritten) {
  // 1 pixel, less than one block, one partial block, many blocks with a ragged end.
  for (std::size_t pixels : {std::size_t{1}, std::size_t{255}, std::size_t{257}, std::size_t{100003}}) {
    auto const h_in = plane_major(random_planes(static_cast<std::int64_t>(pixels), Sensor::sentinel2,
                                                static_cast<unsigned>(pixels)));
    check_direct_launch(params_for(Sensor::sentinel2), h_in, pixels,
                        "direct launch, " + std::to_string(pixels) + " pixels");
  }
}

TEST_F(CudaParity, KernelQualityOutsideUint32Range) {
  // A Float32 quality band (a user mask file, a VRT) can hold values no uint32 represents.
  // Converting those to an integer is undefined in C++, and x86 and CUDA differ in practice
  // (x86 wraps/zeroes, CUDA saturates to 0xFFFFFFFF, which hits every QA bit), so is_masked
  // must decide them before converting for the two backends to agree.
  float const qualities[] = {21824.f,       21832.f,      4294967040.f /* largest float < 2^32 */,
                             4294967296.f,  1e10f,        3e38f,
                             INFINITY,      -INFINITY,    std::nanf(""),
                             -0.f,          255.f,        65535.f};
  std::size_t const pixels = sizeof qualities / sizeof qualities[0];
  for (Sensor sensor : {Sensor::landsat, Sensor::sentinel2}) {
    auto planes = random_planes(static_cast<std::int64_t>(pixels), sensor, 5);
    // Valid DNs everywhere so only the quality value decides.
    for (int k = 0; k < pixel::kBandCount; ++k)
      for (auto& v : planes[static_cast<std::size_t>(k)]) v = 9000.f;
    planes[6].assign(qualities, qualities + pixels);
    check_direct_launch(params_for(sensor), plane_major(planes), pixels,
                        sensor == Sensor::landsat ? "out-of-range QA (bits rule)" : "out-of-range SCL (class rule)");
  }
}

TEST_F(CudaParity, KernelGridStrideLoopBeyondMaxBlocks) {
  // The launcher caps the grid at 65535 * 4 blocks of 256 threads (67 107 840 threads); one
  // pixel count past that makes the grid-stride loop take a second turn for some threads.
  // Only NDVI on three planes to keep host memory and time modest (~1 GiB on the device).
  std::size_t const pixels = std::size_t{65535} * 4 * 256 + 4099;
  pixel::FusedParams p;
  for (auto& c : p.calibration) {
    c.dn_offset = -1000.0;
    c.scale = 1e-4;
    c.nodata = 0.f;
    c.has_nodata = true;
  }
  p.band_plane[static_cast<int>(pixel::Band::red)] = 0;
  p.band_plane[static_cast<int>(pixel::Band::nir)] = 1;
  p.mask_plane = 2;
  p.mask.add_class(9);
  p.input_plane_count = 3;
  p.outputs[p.output_count++] = Index::ndvi;

  std::vector<float> h_in(pixels * 3);
  for (std::size_t i = 0; i < pixels; ++i) {
    // Cheap deterministic pattern; position-dependent so a pixel written from the wrong index shows.
    h_in[i] = static_cast<float>(1000 + (i * 7919) % 5000);
    h_in[pixels + i] = static_cast<float>(1000 + (i * 104729) % 9000);
    h_in[2 * pixels + i] = static_cast<float>(i % 12);
  }
  std::vector<float> expected(pixels);
  run_fused_cpu(p, h_in.data(), expected.data(), pixels);

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
