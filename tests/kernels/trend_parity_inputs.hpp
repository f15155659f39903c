#pragma once
// Inputs of the trend CPU/GPU parity tests (tests/kernels/trend_parity_test.cu), apart from
// the CUDA code so that tests/kernels/parity_inputs_test.cpp runs the same generators and
// CPU-reference checks where there is no GPU.
//
// Non-vacuous by construction: pixel 0 of every case is a full series (every epoch finite,
// at least min_epochs of them) that is disturbed at t_d and recovers, and the recovery window
// T is an interval between two epoch years, so every trend product of pixel 0 is defined.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <ostream>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "reclaim/pixel/trend.hpp"

namespace reclaim::test {

/// Every trend product, uneven year spacing, disturbance at epoch n/3, restoration the next
/// epoch, and T reaching an epoch year (two epochs after t_r, or the last one).
inline pixel::TrendParams trend_all_outputs(int epochs, std::mt19937& rng) {
  pixel::TrendParams p;
  p.epoch_count = epochs;
  std::uniform_int_distribution<int> gap(1, 3);
  double year = 1985.0;
  for (int e = 0; e < epochs; ++e) {
    p.years[e] = year;
    year += e % 4 == 3 ? gap(rng) : 1;  // uneven spacing
  }
  p.min_epochs = 4;
  p.vegetated_threshold = 0.4;
  int const d = epochs / 3, r = d + 1;
  p.recovery.disturbance_year = p.years[d];
  p.recovery.restoration_year = p.years[r];
  p.recovery.timestep = p.years[std::min(epochs - 1, r + 2)] - p.years[r];
  for (int o = 0; o < pixel::kTrendOutputCount; ++o) p.add_output(static_cast<pixel::TrendOutput>(o));
  return p;
}

/// Pixel 0's series: vegetated (0.6) before t_d, bare (0.1) at t_d, then +0.2 per epoch up to
/// 0.75, so it recovers above the 0.4 threshold and reaches 80 % of the pre-disturbance mean.
inline float trend_designed_value(pixel::TrendParams const& p, int e) {
  int const d = p.epoch_count / 3;
  if (e < d) return 0.6f + 0.01f * static_cast<float>(e % 3);
  return std::min(0.75f, 0.1f + 0.2f * static_cast<float>(e - d));
}

/// Seeded NDVI-like epoch planes: a trend per pixel plus noise, quantised in some pixels
/// (ties), ~15% missing (NaN), a few +-inf, and a few empty pixels; pixel 0 as designed.
inline std::vector<float> trend_random_planes(pixel::TrendParams const& p, std::size_t pixels, std::mt19937& rng) {
  std::uniform_real_distribution<float> unit(0.f, 1.f);
  std::normal_distribution<float> noise(0.f, 0.06f);
  std::vector<float> planes(static_cast<std::size_t>(p.epoch_count) * pixels);
  for (std::size_t i = 0; i < pixels; ++i) {
    float const slope = 0.02f * (unit(rng) - 0.3f);
    bool const ties = unit(rng) < 0.3f;
    bool const empty = unit(rng) < 0.01f;
    for (int e = 0; e < p.epoch_count; ++e) {
      float v = 0.3f + slope * static_cast<float>(e) + noise(rng);
      if (ties) v = std::round(v * 20.f) / 20.f;
      float const roll = unit(rng);
      if (roll < 0.15f || empty) v = std::nanf("");
      else if (roll < 0.16f) v = roll < 0.155f ? INFINITY : -INFINITY;
      planes[static_cast<std::size_t>(e) * pixels + i] = v;
    }
  }
  if (pixels >= 1)
    for (int e = 0; e < p.epoch_count; ++e) planes[static_cast<std::size_t>(e) * pixels] = trend_designed_value(p, e);
  return planes;
}

struct TrendParityCase {
  int epochs;
  std::size_t pixels;
};

inline void PrintTo(TrendParityCase const& c, std::ostream* os) {
  *os << c.epochs << " epochs, " << c.pixels << " pixels";
}

/// 4 epochs (the minimum) on one pixel; 7 and 40 epochs (the sizes), 64 (the old
/// maximum), 105 (a real series beyond it) and kMaxEpochs (8.4 KiB of kernel parameters, 8 KiB
/// of shared years) on few pixels, as the CPU reference is slow there; pixel counts that leave
/// a ragged last block and span several blocks.
inline std::vector<TrendParityCase> trend_parity_cases() {
  return {{4, 1}, {7, 100'003}, {12, 3'001}, {40, 20'011}, {64, 4'099}, {105, 1'031}, {pixel::kMaxEpochs, 19}};
}

/// A case's parameters and input, as the GPU test draws them.
struct TrendParityInput {
  pixel::TrendParams params;
  std::vector<float> planes;
};
inline TrendParityInput trend_parity_input(TrendParityCase const& c) {
  std::mt19937 rng(1000u + static_cast<unsigned>(c.epochs));
  TrendParityInput in;
  in.params = trend_all_outputs(c.epochs, rng);
  in.planes = trend_random_planes(in.params, c.pixels, rng);
  return in;
}

/** @brief The CPU reference (p.output_count planes of `pixels`, plane-major) compares real
 * values: every product has a finite value somewhere, and more than half of the pixels have
 * both a slope and a p-value. */
template <class Out>
::testing::AssertionResult trend_reference_non_vacuous(pixel::TrendParams const& p, std::vector<Out> const& ref,
                                                       std::size_t pixels) {
  if (ref.size() != static_cast<std::size_t>(p.output_count) * pixels)
    return ::testing::AssertionFailure() << "reference size " << ref.size();
  for (int o = 0; o < pixel::kTrendOutputCount; ++o) {
    int const k = p.plane[o];
    if (k < 0) continue;
    bool any = false;
    for (std::size_t i = 0; i < pixels && !any; ++i) any = std::isfinite(ref[static_cast<std::size_t>(k) * pixels + i]);
    if (!any)
      return ::testing::AssertionFailure() << "trend product " << o << " (plane " << k << ") is NaN in all " << pixels
                                           << " pixels";
  }
  auto const slope = static_cast<std::size_t>(p.plane[static_cast<int>(pixel::TrendOutput::slope)]);
  auto const mk_p = static_cast<std::size_t>(p.plane[static_cast<int>(pixel::TrendOutput::mk_p)]);
  std::size_t finite = 0;
  for (std::size_t i = 0; i < pixels; ++i)
    finite += std::isfinite(ref[slope * pixels + i]) && std::isfinite(ref[mk_p * pixels + i]);
  if (finite <= pixels / 2)
    return ::testing::AssertionFailure() << "only " << finite << " of " << pixels << " pixels have a slope and a p-value";
  return ::testing::AssertionSuccess() << finite << " of " << pixels << " pixels with a slope and a p-value";
}

}  // namespace reclaim::test
