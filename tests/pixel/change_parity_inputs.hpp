#pragma once
// Inputs of the change-class CPU/GPU parity test (tests/pixel/change_parity_test.cu), apart
// from the CUDA code so that tests/kernels/parity_inputs_test.cpp checks, where no GPU runs,
// that the CPU classes of every case reach every class the rules can give.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <random>
#include <vector>

#include <gtest/gtest.h>

#include "reclaim/pixel/change.hpp"

namespace reclaim::test {

/// Values at, one ULP either side of, and away from every default threshold, plus NaN.
inline std::vector<double> change_candidate_values() {
  std::vector<double> v;
  for (double t : {0.2, 0.0, 0.4, 0.5, 0.15, -0.15, 0.1, 0.7, -0.3}) {
    v.push_back(t);
    v.push_back(std::nextafter(t, -1.0));
    v.push_back(std::nextafter(t, 1.0));
  }
  v.push_back(std::numeric_limits<double>::quiet_NaN());
  return v;
}

struct ChangeParityInput {
  std::vector<pixel::EpochIndices> before, after;
};

/// 2^20 seeded pixels: a quarter drawn uniformly in [-1, 1], the rest from the candidates; the
/// first 4096 have dNDVI exactly at the gain and loss thresholds, where subtraction rounding
/// matters most.
inline ChangeParityInput change_parity_input() {
  std::vector<double> const values = change_candidate_values();
  std::mt19937_64 rng(12345);
  std::uniform_int_distribution<std::size_t> pick(0, values.size() - 1);
  std::uniform_real_distribution<double> uniform(-1.0, 1.0);
  std::size_t const n = 1 << 20;
  ChangeParityInput in;
  in.before.resize(n);
  in.after.resize(n);
  auto draw = [&] { return (rng() & 3u) == 0 ? uniform(rng) : values[pick(rng)]; };
  for (std::size_t i = 0; i < n; ++i) {
    in.before[i] = {draw(), draw(), draw(), draw()};
    in.after[i] = {draw(), draw(), draw(), draw()};
  }
  for (std::size_t i = 0; i < 4096; ++i) {
    in.before[i].ndvi = 0.0;
    in.after[i].ndvi = i % 2 ? 0.15 : -0.15;
  }
  return in;
}

/// The rule sets of the GPU test: the defaults, and the defaults with vegetation by FVC.
inline pixel::ChangeRules change_fvc_rules() {
  pixel::ChangeThresholds t;
  t.vegetated_by_fvc = true;
  return pixel::default_change_rules(t);
}

inline std::vector<std::uint8_t> change_reference(pixel::ChangeRules const& rules, ChangeParityInput const& in) {
  std::vector<std::uint8_t> out(in.before.size());
  for (std::size_t i = 0; i < out.size(); ++i) out[i] = pixel::change_class(rules, in.before[i], in.after[i]);
  return out;
}

/// The CPU classes reach every default class (0 nodata, 1..6, 255 unclassified), or parity proves little.
inline ::testing::AssertionResult change_reference_non_vacuous(std::vector<std::uint8_t> const& classes) {
  std::size_t seen[256] = {};
  for (auto c : classes) ++seen[c];
  for (int c : {0, 1, 2, 3, 4, 5, 6, 255})
    if (seen[c] == 0) return ::testing::AssertionFailure() << "class " << c << " never drawn";
  return ::testing::AssertionSuccess();
}

}  // namespace reclaim::test
