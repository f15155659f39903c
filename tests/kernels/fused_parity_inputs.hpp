#pragma once
// Inputs of the fused-pass CPU/GPU parity tests (tests/kernels/parity_test.cu), kept apart
// from the CUDA code so that a CPU-only test (tests/kernels/parity_inputs_test.cpp) runs the
// same generators and the same CPU-reference checks where there is no GPU: a GPU parity case
// can then only fail on what the GPU computes, never on a host-side assumption.
//
// Non-vacuous by construction: pixel 0 of every raster is clear with valid DNs in every band
// (so every index has at least one finite reference value), and pixel 1, when there is one, is
// masked (so the masked path is compared too). The rest is seeded random.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <ostream>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "reclaim/backend.hpp"
#include "reclaim/pixel/fused.hpp"

namespace reclaim::test {

constexpr int kFusedPlanes = 7;  // blue, green, red, nir, swir1, swir2, quality

enum class Sensor { sentinel2, landsat };

/// Every index requested at once. Landsat's scale-and-offset is the case where a contracted
/// FMA (DN * scale + offset) would round differently from the CPU.
inline pixel::FusedParams fused_params_for(Sensor sensor) {
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
  for (int i = 0; i < pixel::kIndexCount; ++i) p.outputs[p.output_count++] = static_cast<pixel::Index>(i);
  p.input_plane_count = kFusedPlanes;
  return p;
}

/// A clear quality value (S2 SCL 4 vegetation; Landsat QA_PIXEL 21824: clear, low confidences)
/// and a masked one (S2 SCL 9 cloud high probability; Landsat 21824 + the cloud bit 3).
constexpr float kClearQuality[2] = {4.f, 21824.f};
constexpr float kCloudQuality[2] = {9.f, 21832.f};
/// DNs that give a positive, unsaturated reflectance in every band for both calibrations
/// (Landsat: DN * 2.75e-5 - 0.2 > 0 needs DN > 7273), with NIR above red (vegetation), so
/// that every index of fused_params_for is finite.
constexpr float kClearDn[pixel::kBandCount] = {9000.f, 10000.f, 10500.f, 20000.f, 16000.f, 13000.f};

inline int sensor_index(Sensor s) noexcept { return s == Sensor::sentinel2 ? 0 : 1; }

/// Seeded random DN planes: mostly valid DNs (including some below the S2 offset, i.e.
/// negative reflectance), ~1% nodata 0, ~1% saturated 65535, a few NaN, and a quality plane
/// of SCL classes 0..11 (S2) or QA_PIXEL-like words (Landsat); pixel 0 clear with kClearDn,
/// pixel 1 (if any) cloudy.
inline std::vector<std::vector<float>> fused_random_planes(std::int64_t pixels, Sensor sensor, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> dn(1, 12000);
  std::uniform_int_distribution<int> pct(0, 99);
  std::uniform_int_distribution<int> scl(0, 11);
  std::uniform_int_distribution<int> qa(0, 0xFFFF);
  std::vector<std::vector<float>> planes(kFusedPlanes, std::vector<float>(static_cast<std::size_t>(pixels)));
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
  if (pixels >= 1) {
    for (int k = 0; k < pixel::kBandCount; ++k) planes[static_cast<std::size_t>(k)][0] = kClearDn[k];
    planes[6][0] = kClearQuality[sensor_index(sensor)];
  }
  if (pixels >= 2) planes[6][1] = kCloudQuality[sensor_index(sensor)];
  return planes;
}

inline std::vector<float> plane_major(std::vector<std::vector<float>> const& planes) {
  std::vector<float> out;
  for (auto const& p : planes) out.insert(out.end(), p.begin(), p.end());
  return out;
}

/// One pipeline parity case of the fused pass.
struct FusedParityCase {
  char const* name;
  std::int64_t width, height;
  std::int32_t block;
  std::size_t budget;
  Sensor sensor;
  unsigned seed;
};

/// gtest prints a case by its name.
inline void PrintTo(FusedParityCase const& c, std::ostream* os) { *os << c.name; }

/// The pipeline cases (CpuBackend vs CUDA backend through run_pipeline).
inline std::vector<FusedParityCase> fused_parity_cases() {
  return {
      // 1 MiB budget -> 128 x 128 tiles: 8 x 7 tiles, last column 104 wide, last row 9 high.
      {"RandomTilesSentinel2SeveralTilesRaggedEdges", 1000, 777, 128, std::size_t{1} << 20, Sensor::sentinel2, 2019},
      {"RandomTilesLandsatSeveralTilesRaggedEdges", 1000, 777, 128, std::size_t{1} << 20, Sensor::landsat, 2025},
      // Default-size tiles of up to 1 Mi pixels (4096 kernel blocks of 256), ragged at both edges.
      {"LargeTilesSpanningManyKernelBlocks", 2500, 1500, 512, std::size_t{512} << 20, Sensor::sentinel2, 7},
      {"OnePixelRasterSentinel2", 1, 1, 256, std::size_t{512} << 20, Sensor::sentinel2, 1},
      {"OnePixelRasterLandsat", 1, 1, 256, std::size_t{512} << 20, Sensor::landsat, 2},
      {"SmallOddRaster", 3, 257, 16, 1, Sensor::sentinel2, 3},
  };
}

/// Pixel counts of the direct-launch cases: 1 pixel, less than one block, one partial block,
/// many blocks with a ragged end.
inline std::vector<std::size_t> fused_direct_launch_pixels() { return {1, 255, 257, 100003}; }

/// The quality values of the out-of-range case: values no uint32 represents, beside clear ones.
inline std::vector<float> out_of_range_qualities() {
  return {21824.f, 21832.f, 4294967040.f /* largest float < 2^32 */, 4294967296.f, 1e10f, 3e38f,
          INFINITY, -INFINITY, std::nanf(""), -0.f, 255.f, 65535.f};
}

/// The out-of-range case's planes: valid DNs everywhere so only the quality value decides.
inline std::vector<std::vector<float>> out_of_range_planes(Sensor sensor) {
  auto const q = out_of_range_qualities();
  auto planes = fused_random_planes(static_cast<std::int64_t>(q.size()), sensor, 5);
  for (int k = 0; k < pixel::kBandCount; ++k)
    for (auto& v : planes[static_cast<std::size_t>(k)]) v = 9000.f;
  planes[6] = q;
  return planes;
}

/// The grid-stride case: NDVI only, on three planes (red, nir, SCL).
inline pixel::FusedParams grid_stride_params() {
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
  p.outputs[p.output_count++] = pixel::Index::ndvi;
  return p;
}

/// Cheap deterministic pattern, position-dependent so a pixel written from the wrong index shows;
/// SCL i % 12, so every twelfth pixel (class 9) is masked.
inline std::vector<float> grid_stride_input(std::size_t pixels) {
  std::vector<float> h_in(pixels * 3);
  for (std::size_t i = 0; i < pixels; ++i) {
    h_in[i] = static_cast<float>(1000 + (i * 7919) % 5000);
    h_in[pixels + i] = static_cast<float>(1000 + (i * 104729) % 9000);
    h_in[2 * pixels + i] = static_cast<float>(i % 12);
  }
  return h_in;
}

/** @brief The CPU reference of a parity case is worth comparing: every one of `planes` output
 * planes (of `pixels` each, plane-major) has a finite value, and, when there are two pixels or
 * more, some value is NaN (the invalid/masked path is compared too). */
inline ::testing::AssertionResult reference_non_vacuous(std::vector<float> const& ref, std::size_t pixels,
                                                        int planes) {
  if (ref.size() != pixels * static_cast<std::size_t>(planes))
    return ::testing::AssertionFailure() << "reference holds " << ref.size() << " values, expected " << pixels
                                         << " x " << planes;
  std::size_t nan = 0;
  for (int k = 0; k < planes; ++k) {
    std::size_t finite = 0;
    for (std::size_t i = 0; i < pixels; ++i) {
      float const v = ref[static_cast<std::size_t>(k) * pixels + i];
      finite += std::isfinite(v);
      nan += std::isnan(v);
    }
    if (finite == 0)
      return ::testing::AssertionFailure() << "output plane " << k << " has no finite reference value in " << pixels
                                           << " pixels: its parity would compare only NaN";
  }
  if (pixels >= 2 && nan == 0)
    return ::testing::AssertionFailure() << "no NaN in " << pixels << " pixels: the masked path is not compared";
  return ::testing::AssertionSuccess() << nan << " NaN of " << ref.size();
}

/// run_fused_cpu over whole plane-major input (the reference of a case).
inline std::vector<float> fused_reference(pixel::FusedParams const& params, std::vector<float> const& in,
                                          std::size_t pixels) {
  std::vector<float> out(pixels * static_cast<std::size_t>(params.output_count));
  run_fused_cpu(params, in.data(), out.data(), pixels);
  return out;
}

}  // namespace reclaim::test
