// CPU throughput of the per-pixel zonal value accumulation (Google Benchmark), one thread.
//
//   zonal_values/<zones>/<edge%>   accumulate_value_items over one 1024 x 1024 float tile split
//                                  into <zones> zones of whole rows (spans, weight 1), with
//                                  <edge%> of the items single edge pixels of fractional weight;
//                                  with a 256-bin histogram. Items = pixels.
//   value_update/<weight1>         ValueAccumulator::update alone over 1M values, weight 1 (1)
//                                  or fractional weights (0). Items = pixels.
//
// Inputs: seeded NDVI-like values in [-0.2, 0.9], 5% NaN.
#include <benchmark/benchmark.h>

#include <cstddef>
#include <random>
#include <vector>

#include "reclaim/pixel/zonal.hpp"
#include "reclaim/pixel/zonal_items.hpp"

namespace {

using namespace reclaim;

constexpr std::size_t kSide = 1024;
constexpr int kBins = 256;

std::vector<float> make_plane() {
  std::mt19937 rng(20250707u);
  std::uniform_real_distribution<float> unit(0.f, 1.f);
  std::vector<float> plane(kSide * kSide);
  for (float& v : plane) v = unit(rng) < 0.05f ? pixel::nan_f() : -0.2f + 1.1f * unit(rng);
  return plane;
}

void zonal_values(benchmark::State& state) {
  int const zones = static_cast<int>(state.range(0));
  int const edge_pct = static_cast<int>(state.range(1));
  std::vector<float> const plane = make_plane();
  std::vector<double> const cell(kSide, 100.0);
  std::mt19937 rng(7u);
  std::uniform_real_distribution<double> frac(0.01, 0.99);
  std::uniform_int_distribution<int> pct(0, 99);
  std::vector<pixel::ZonalItem> items;
  for (std::int32_t r = 0; r < static_cast<std::int32_t>(kSide); ++r) {
    std::int32_t const zone = r * zones / static_cast<std::int32_t>(kSide);
    std::int32_t c = 0;
    while (c < static_cast<std::int32_t>(kSide)) {
      if (pct(rng) < edge_pct) {
        items.push_back({zone, r, c, c + 1, frac(rng)});
        ++c;
      } else {
        std::int32_t const e = c + 16 < static_cast<std::int32_t>(kSide) ? c + 16 : static_cast<std::int32_t>(kSide);
        items.push_back({zone, r, c, e, 1.0});
        c = e;
      }
    }
  }
  std::vector<pixel::ValueAccumulator> values(static_cast<std::size_t>(zones));
  std::vector<pixel::ZoneArea> areas(static_cast<std::size_t>(zones));
  std::vector<pixel::HistogramAccumulator<kBins>> hist(static_cast<std::size_t>(zones),
                                                       pixel::HistogramAccumulator<kBins>::make(-1.0, 1.0));
  for (auto _ : state) {
    pixel::accumulate_value_items<kBins>(items, plane.data(), kSide, cell.data(), values.data(), areas.data(),
                                         hist.data());
    benchmark::DoNotOptimize(values.data());
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(kSide * kSide));
}
BENCHMARK(zonal_values)->Args({16, 0})->Args({16, 10})->Args({16, 100})->Unit(benchmark::kMillisecond);

void value_update(benchmark::State& state) {
  bool const unit_weight = state.range(0) != 0;
  std::vector<float> const plane = make_plane();
  std::mt19937 rng(9u);
  std::uniform_real_distribution<double> frac(0.01, 0.99);
  std::vector<double> w(plane.size());
  for (double& x : w) x = unit_weight ? 1.0 : frac(rng);
  for (auto _ : state) {
    pixel::ValueAccumulator a{};
    for (std::size_t i = 0; i < plane.size(); ++i) a.update(plane[i], w[i]);
    benchmark::DoNotOptimize(a);
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(plane.size()));
}
BENCHMARK(value_update)->Arg(1)->Arg(0)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
