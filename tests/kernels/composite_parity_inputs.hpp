#pragma once
// Inputs of the composite CPU/GPU parity tests (tests/kernels/composite_parity_test.cu), apart
// from the CUDA code so that tests/kernels/parity_inputs_test.cpp runs the same generators, the
// same CPU reference and the same non-vacuity checks where there is no GPU.
//
// Non-vacuous by construction: pixel 0 has every observation clear with distinct values, so
// every composited band, every NDVI percentile and a clear count of n are defined there; pixel
// 1 has no clear observation (the NaN path); pixel 2 (n >= 2) has one cloudy observation, so
// its clear count has the other parity. The rest is random: clouds, NaN or +-inf in one band
// only, quantised values (ties), later copies of earlier observations (ties in NDVI and in
// distance), red = nir = 0 (NDVI undefined) and negative reflectances.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <ostream>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "reclaim/pixel/composite.hpp"
#include "reclaim/pixel/per_pixel.hpp"

namespace reclaim::test {

struct CompositeParityCase {
  pixel::CompositeMethod method;
  int observations;
  std::size_t pixels;
  std::uint32_t bands;
};

inline char const* composite_method_name(pixel::CompositeMethod m) {
  switch (m) {
    case pixel::CompositeMethod::median: return "median";
    case pixel::CompositeMethod::max_ndvi: return "max_ndvi";
    case pixel::CompositeMethod::medoid: return "medoid";
  }
  return "unknown";
}

inline void PrintTo(CompositeParityCase const& c, std::ostream* os) {
  *os << composite_method_name(c.method) << ", " << c.observations << " observations, " << c.pixels << " pixels";
}

/// Every method; 1 observation on one pixel, the 20 observations x 4 bands, an odd 31
/// and kMaxObservations; pixel counts that leave a ragged last block and span many blocks.
inline std::vector<CompositeParityCase> composite_parity_cases() {
  using pixel::CompositeMethod;
  namespace bs = pixel::band_set;
  std::uint32_t const four = bs::blue | bs::red | bs::nir | bs::swir1;
  std::uint32_t const six = four | bs::green | bs::swir2;
  return {{CompositeMethod::median, 1, 1, four},           {CompositeMethod::median, 20, 100'003, four},
          {CompositeMethod::max_ndvi, 20, 30'011, four},    {CompositeMethod::medoid, 20, 30'011, four},
          {CompositeMethod::median, 31, 8'191, six},        {CompositeMethod::max_ndvi, 7, 3'001, bs::red | bs::nir},
          {CompositeMethod::medoid, 64, 4'099, six},        {CompositeMethod::median, pixel::kMaxObservations, 517, four},
          {CompositeMethod::medoid, pixel::kMaxObservations, 263, six}};
}

inline pixel::CompositeParams composite_parity_params(CompositeParityCase const& c) {
  pixel::CompositeParams p;
  p.method = c.method;
  p.observation_count = c.observations;
  p.bands = c.bands;
  for (double q : {10.0, 50.0, 90.0, 0.0, 100.0}) p.percentiles[p.percentile_count++] = q;
  return p;
}

/// Observation planes (o * kBandCount + b) * pixels + i, as described above.
inline std::vector<float> composite_random_stack(CompositeParityCase const& c, std::mt19937& rng) {
  int const n = c.observations;
  std::size_t const pixels = c.pixels;
  std::uniform_real_distribution<float> unit(0.f, 1.f);
  std::vector<float> obs(static_cast<std::size_t>(n) * pixel::kBandCount * pixels);
  auto at = [&](int o, int b, std::size_t i) -> float& {
    return obs[(static_cast<std::size_t>(o) * pixel::kBandCount + static_cast<std::size_t>(b)) * pixels + i];
  };
  float const nan = std::nanf("");
  for (std::size_t i = 0; i < pixels; ++i) {
    float const roll = unit(rng);
    float const cloudiness = roll < 0.25f ? 0.f : (roll < 0.5f ? 0.2f : (roll < 0.75f ? 0.5f : 0.9f));
    bool const quantised = unit(rng) < 0.2f, dark = unit(rng) < 0.1f, wide = unit(rng) < 0.1f;
    for (int o = 0; o < n; ++o) {
      bool const cloud = unit(rng) < cloudiness;
      bool const copy = o > 0 && unit(rng) < 0.1f;
      int const from = copy ? static_cast<int>(unit(rng) * static_cast<float>(o)) % o : 0;
      for (int b = 0; b < pixel::kBandCount; ++b) {
        float v = wide ? -0.2f + 1.4f * unit(rng) : 0.6f * unit(rng);
        if (quantised) v = std::round(v * 20.f) / 20.f;
        if (copy) v = at(from, b, i);
        float const r = unit(rng);
        if (r < 0.03f) v = nan;
        else if (r < 0.035f) v = r < 0.0325f ? INFINITY : -INFINITY;
        at(o, b, i) = cloud ? nan : v;
      }
      if (dark && unit(rng) < 0.3f) {
        at(o, static_cast<int>(pixel::Band::red), i) = 0.f;
        at(o, static_cast<int>(pixel::Band::nir), i) = 0.f;
      }
    }
  }
  // The designed pixels.
  for (int o = 0; o < n; ++o)
    for (int b = 0; b < pixel::kBandCount; ++b) {
      at(o, b, 0) = 0.01f + 0.5f * static_cast<float>((o * 7 + b * 3) % (n + 5)) / static_cast<float>(n + 5) +
                    0.001f * static_cast<float>(b);
      if (pixels > 1) at(o, b, 1) = 0.3f;
      if (pixels > 2) at(o, b, 2) = 0.05f + 0.4f * unit(rng);
    }
  // Pixel 1: every observation has one NaN band (red or nir, in every case's band set).
  if (pixels > 1)
    for (int o = 0; o < n; ++o) at(o, static_cast<int>(o % 2 ? pixel::Band::nir : pixel::Band::red), 1) = nan;
  if (pixels > 2 && n >= 2) at(n / 2, static_cast<int>(pixel::Band::nir), 2) = nan;
  return obs;
}

/// A case's parameters and input, as the GPU test draws them.
struct CompositeParityInput {
  pixel::CompositeParams params;
  std::vector<float> obs;
};
inline CompositeParityInput composite_parity_input(CompositeParityCase const& c) {
  std::mt19937 rng(2000u + static_cast<unsigned>(c.observations) * 7u + static_cast<unsigned>(c.method));
  return {composite_parity_params(c), composite_random_stack(c, rng)};
}

/// The CPU reference: CompositePixel run by for_each_pixel (planes `pixels` floats apart).
inline std::vector<float> composite_reference(CompositeParityInput const& in, std::size_t pixels) {
  std::vector<float> out(static_cast<std::size_t>(pixel::composite_output_planes(in.params)) * pixels);
  pixel::for_each_pixel(pixels, pixel::CompositePixel{in.params, in.obs.data(), out.data(), pixels});
  return out;
}

/** @brief The CPU reference compares real values: every composited band and every percentile
 * is finite somewhere and every other band plane is NaN everywhere; pixel 0 has a clear count
 * of n; pixel 1 has none; some pixel has an even and some an odd clear count (n >= 2); for the
 * selection rules, some pixel's composite is not its observation 0. */
inline ::testing::AssertionResult composite_reference_non_vacuous(CompositeParityInput const& in,
                                                                  std::vector<float> const& ref, std::size_t pixels) {
  auto const& p = in.params;
  int const planes = pixel::composite_output_planes(p);
  if (ref.size() != static_cast<std::size_t>(planes) * pixels)
    return ::testing::AssertionFailure() << "reference size " << ref.size();
  auto at = [&](int k, std::size_t i) { return ref[static_cast<std::size_t>(k) * pixels + i]; };
  for (int k = 0; k < planes; ++k) {
    if (k == pixel::kClearCountPlane) continue;
    bool const wanted = k > pixel::kClearCountPlane || ((p.bands >> k) & 1u) != 0u;
    bool any = false;
    for (std::size_t i = 0; i < pixels && !any; ++i) any = std::isfinite(at(k, i));
    if (any != wanted)
      return ::testing::AssertionFailure() << "plane " << k << (wanted ? " is NaN everywhere" : " has values");
  }
  if (at(pixel::kClearCountPlane, 0) != static_cast<float>(p.observation_count))
    return ::testing::AssertionFailure() << "pixel 0 clear count " << at(pixel::kClearCountPlane, 0);
  if (pixels > 1 && at(pixel::kClearCountPlane, 1) != 0.f)
    return ::testing::AssertionFailure() << "pixel 1 clear count " << at(pixel::kClearCountPlane, 1);
  bool even = false, odd = false, moved = false;
  std::size_t clear = 0;
  for (std::size_t i = 0; i < pixels; ++i) {
    float const c = at(pixel::kClearCountPlane, i);
    clear += c > 0.f;
    if (c > 0.f) (static_cast<int>(c) % 2 == 0 ? even : odd) = true;
    for (int b = 0; b < pixel::kBandCount && !moved; ++b) {
      if (((p.bands >> b) & 1u) == 0u || !std::isfinite(at(b, i))) continue;
      float const first = in.obs[static_cast<std::size_t>(b) * pixels + i];
      moved = std::memcmp(&first, &ref[static_cast<std::size_t>(b) * pixels + i], sizeof first) != 0;
    }
  }
  if (p.observation_count >= 2 && pixels > 2 && !(even && odd))
    return ::testing::AssertionFailure() << "clear counts: even " << even << ", odd " << odd;
  if (p.observation_count >= 2 && pixels > 2 && !moved)
    return ::testing::AssertionFailure() << "every composite equals observation 0";
  return ::testing::AssertionSuccess() << clear << " of " << pixels << " pixels with a clear observation";
}

}  // namespace reclaim::test
