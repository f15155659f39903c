// CPU throughput of the per-pixel trend pass (Google Benchmark), one thread.
//
//   trend_cpu/<epochs>/all     run_trend_cpu on one in-memory tile, every product: Theil–Sen
//                              slope, Mann–Kendall S/Z/p, n_valid, year of recovery and the
//                              five recovery metrics. Items = pixels.
//   trend_cpu/<epochs>/no_slope  the same without the slope: the single O(n^2) pass of
//                              Mann–Kendall, against the ~7 counting passes of Theil–Sen.
//
// Inputs: seeded NDVI-like epoch planes (a disturbance, a recovery trend per pixel, noise),
// 10% of the epochs missing (NaN), a quarter of the pixels quantised to 0.01 (ties).
#include <benchmark/benchmark.h>

#include <cmath>
#include <cstddef>
#include <random>
#include <string>
#include <vector>

#include "reclaim/pixel/trend.hpp"

namespace {

using namespace reclaim;
using pixel::TrendOutput;

pixel::TrendParams params_for(int epochs, bool with_slope) {
  pixel::TrendParams p;
  p.epoch_count = epochs;
  for (int e = 0; e < epochs; ++e) p.years[e] = 2025 - epochs + 1 + e;
  p.recovery.disturbance_year = p.years[1];
  p.recovery.restoration_year = p.years[2];
  p.recovery.timestep = epochs > 8 ? 5.0 : 3.0;
  for (int o = 0; o < pixel::kTrendOutputCount; ++o)
    if (with_slope || o != static_cast<int>(TrendOutput::slope)) p.add_output(static_cast<TrendOutput>(o));
  return p;
}

std::vector<float> make_planes(int epochs, std::size_t pixels) {
  std::mt19937 rng(20250101u + static_cast<unsigned>(epochs));
  std::uniform_real_distribution<float> unit(0.f, 1.f);
  std::normal_distribution<float> noise(0.f, 0.05f);
  std::vector<float> planes(static_cast<std::size_t>(epochs) * pixels);
  for (std::size_t i = 0; i < pixels; ++i) {
    float const rate = 0.04f * unit(rng);
    bool const quantised = unit(rng) < 0.25f;
    for (int e = 0; e < epochs; ++e) {
      float v = e < 2 ? 0.7f : 0.1f + rate * static_cast<float>(e - 2);
      v += noise(rng);
      if (quantised) v = std::round(v * 100.f) / 100.f;
      if (unit(rng) < 0.1f) v = std::nanf("");
      planes[static_cast<std::size_t>(e) * pixels + i] = v;
    }
  }
  return planes;
}

void trend_cpu(benchmark::State& state, int epochs, bool with_slope) {
  // Fewer pixels for long series, so one iteration stays near a second.
  std::size_t const side = epochs > 16 ? 128 : 256;
  std::size_t const pixels = side * side;
  auto const p = params_for(epochs, with_slope);
  std::vector<float> const in = make_planes(epochs, pixels);
  std::vector<float> out(static_cast<std::size_t>(p.output_count) * pixels);
  for (auto _ : state) {
    pixel::run_trend_cpu(p, in.data(), out.data(), pixels);
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(pixels));
  state.counters["epochs"] = epochs;
  state.counters["pixels"] = static_cast<double>(pixels);
}

}  // namespace

int main(int argc, char** argv) {
  for (int epochs : {7, 20, 40, 64}) {
    for (bool with_slope : {true, false}) {
      std::string const name = "trend_cpu/" + std::to_string(epochs) + (with_slope ? "/all" : "/no_slope");
      benchmark::RegisterBenchmark(name.c_str(), trend_cpu, epochs, with_slope)->Unit(benchmark::kMillisecond);
    }
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
