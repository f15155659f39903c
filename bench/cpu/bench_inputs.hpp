#pragma once
/** @file
 * @brief Seeded synthetic Sentinel-2 L2A tiles and fused-pass parameters shared by the
 * CPU (Google Benchmark) and GPU (plain CUDA) benchmarks, so both time the same work on
 * the same numbers.
 *
 * Plain C++ (no Google Benchmark, no CUDA) so bench/gpu/kernels_bench.cu can include it
 * on a machine that has neither Google Benchmark nor GDAL.
 */
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include "reclaim/index_names.hpp"
#include "reclaim/pixel/fused.hpp"

namespace reclaim::bench {

inline constexpr std::uint64_t kSeed = 20250101;
/// The plane role of the SCL quality band in the generator (after the six spectral bands).
inline constexpr int kSclRole = pixel::kBandCount;

/// splitmix64 (Steele et al. 2014): a counter-based generator, so any pixel of any plane can
/// be produced independently (parallel fill, identical values in every plane layout).
[[nodiscard]] inline std::uint64_t splitmix64(std::uint64_t x) noexcept {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

/** @brief The DN of one pixel for one plane role (0..5: Band, kSclRole: SCL class).
 *
 * Spectral DNs are uniform in [1000, 7000) (reflectance 0..0.6 after the -1000 BOA offset),
 * with 0.5 % nodata (0) and 0.1 % saturated (65535) so the invalid-pixel branches run.
 * SCL is 4 (vegetation) or 5 (bare soil) 85 % of the time, else uniform over classes 0..11,
 * so about 4 % of pixels hit the default cloud/shadow mask (3, 8, 9, 10).
 */
[[nodiscard]] inline float synth_dn(int role, std::uint64_t pixel, std::uint64_t seed) noexcept {
  std::uint64_t const r = splitmix64(seed ^ (static_cast<std::uint64_t>(role + 1) << 56) ^ pixel);
  std::uint32_t const u = static_cast<std::uint32_t>(r >> 32);  // 32 random bits
  std::uint32_t const v = static_cast<std::uint32_t>(r);        // 32 more
  if (role == kSclRole) {
    if (u % 100u < 85u) return (v & 1u) ? 4.f : 5.f;
    return static_cast<float>(v % 12u);
  }
  std::uint32_t const p = u % 1000u;
  if (p < 5u) return 0.f;
  if (p < 6u) return 65535.f;
  return static_cast<float>(1000u + v % 6000u);
}

/** @brief Fused-pass parameters for Sentinel-2 L2A with the CLI's defaults: reflectance =
 * (DN - 1000) * 1e-4, DN 0 nodata, DN >= 65535 saturated, SCL classes 3, 8, 9, 10 masked.
 *
 * compact = true: only the planes the outputs need, in Band order, then SCL (what the CLI
 * reads, and what run_pipeline's source must hold). compact = false: all six bands at
 * plane = Band, SCL at plane 6 (one 7-plane buffer serves every benchmark case).
 */
[[nodiscard]] inline pixel::FusedParams sentinel2_params(std::vector<pixel::Index> const& outputs, bool compact) {
  pixel::FusedParams p;
  std::uint32_t needed = 0;
  for (auto idx : outputs) needed |= pixel::bands_needed(idx);
  int plane = 0;
  for (int b = 0; b < pixel::kBandCount; ++b) {
    auto& c = p.calibration[b];
    c.dn_offset = -1000.f;
    c.scale = 1e-4f;
    c.offset = 0.f;
    c.nodata = 0.f;
    c.has_nodata = true;
    c.saturation = 65535.f;
    c.has_saturation = true;
    if (compact) {
      if (needed & (1u << b)) p.band_plane[b] = plane++;
    } else {
      p.band_plane[b] = (needed & (1u << b)) ? b : -1;
    }
  }
  p.mask_plane = compact ? plane++ : kSclRole;
  for (std::uint32_t cls : {3u, 8u, 9u, 10u}) p.mask.add_class(cls);
  p.output_count = static_cast<std::int32_t>(outputs.size());
  for (std::size_t k = 0; k < outputs.size(); ++k) p.outputs[k] = outputs[k];
  p.input_plane_count = compact ? plane : pixel::kBandCount + 1;
  return p;
}

/// Planes the fused pass actually reads (bands in use plus the mask): the honest byte count.
[[nodiscard]] inline int planes_read(pixel::FusedParams const& p) noexcept {
  int n = p.mask_plane >= 0 ? 1 : 0;
  for (int b = 0; b < pixel::kBandCount; ++b) n += p.band_plane[b] >= 0 ? 1 : 0;
  return n;
}

/// Role (Band index or kSclRole) held by each input plane of `p`; -1 for a plane nothing reads.
[[nodiscard]] inline std::vector<int> plane_roles(pixel::FusedParams const& p) {
  std::vector<int> roles(static_cast<std::size_t>(p.input_plane_count), -1);
  for (int b = 0; b < pixel::kBandCount; ++b)
    if (p.band_plane[b] >= 0) roles[static_cast<std::size_t>(p.band_plane[b])] = b;
  if (p.mask_plane >= 0) roles[static_cast<std::size_t>(p.mask_plane)] = kSclRole;
  // Full layout: unread planes still get their band's numbers, so one buffer serves all cases.
  for (std::size_t k = 0; k < roles.size(); ++k)
    if (roles[k] < 0 && p.input_plane_count == pixel::kBandCount + 1) roles[k] = static_cast<int>(k);
  return roles;
}

/// Fills plane k of `planes` (each `pixels` floats) with role roles[k], in parallel.
inline void fill_planes(std::vector<float*> const& planes, std::vector<int> const& roles, std::size_t pixels,
                        std::uint64_t seed = kSeed) {
  unsigned const threads = std::max(1u, std::min(16u, std::thread::hardware_concurrency()));
  std::vector<std::thread> pool;
  for (unsigned t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      std::size_t const begin = pixels * t / threads, end = pixels * (t + 1) / threads;
      for (std::size_t k = 0; k < planes.size(); ++k)
        for (std::size_t i = begin; i < end; ++i) planes[k][i] = synth_dn(roles[k], i, seed);
    });
  }
  for (auto& th : pool) th.join();
}

/// One contiguous buffer of p.input_plane_count planes, plane k at k * pixels.
[[nodiscard]] inline std::vector<float> make_input(pixel::FusedParams const& p, std::size_t pixels,
                                                   std::uint64_t seed = kSeed) {
  std::vector<float> in(pixels * static_cast<std::size_t>(p.input_plane_count));
  std::vector<float*> planes;
  for (int k = 0; k < p.input_plane_count; ++k) planes.push_back(in.data() + static_cast<std::size_t>(k) * pixels);
  fill_planes(planes, plane_roles(p), pixels, seed);
  return in;
}

/// The same numbers as separate planes, the shape MemoryTileSource takes.
[[nodiscard]] inline std::vector<std::vector<float>> make_planes(pixel::FusedParams const& p, std::size_t pixels,
                                                                 std::uint64_t seed = kSeed) {
  std::vector<std::vector<float>> out(static_cast<std::size_t>(p.input_plane_count), std::vector<float>(pixels));
  std::vector<float*> planes;
  for (auto& v : out) planes.push_back(v.data());
  fill_planes(planes, plane_roles(p), pixels, seed);
  return out;
}

/// Every index, in enum order (the "all 10 at once" case).
[[nodiscard]] inline std::vector<pixel::Index> all_indices() {
  std::vector<pixel::Index> v;
  for (int i = 0; i < pixel::kIndexCount; ++i) v.push_back(static_cast<pixel::Index>(i));
  return v;
}

/// Benchmark cases: each index alone, then all of them in one fused pass.
struct Case {
  std::string name;
  std::vector<pixel::Index> outputs;
};

[[nodiscard]] inline std::vector<Case> index_cases() {
  std::vector<Case> cases;
  for (auto idx : all_indices()) cases.push_back({std::string(index_name(idx)), {idx}});
  cases.push_back({"all10", all_indices()});
  return cases;
}

}  // namespace reclaim::bench
