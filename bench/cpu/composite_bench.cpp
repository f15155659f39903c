// CPU throughput of the per-pixel composite pass (Google Benchmark), one thread, over one
// 512 x 512 tile of 20 observations, 4 bands composited (blue, red, nir, swir1), as on the read
// path of a composited tile. Items = pixels; bytes = the observation planes of the composited
// bands read once.
//
//   composite_cpu/median|max_ndvi|medoid   run_composite_cpu (blocked reading), the rule alone
//                                          (clear count included)
//   composite_cpu/median+pct               the same, median and NDVI percentiles 10, 50, 90
//   composite_functor/median               for_each_pixel(CompositePixel): the same results,
//                                          reading the 1 MiB-strided planes pixel by pixel
//   composite_select/block|rank|sort|count the median rule by the selection chosen (block:
//                                          run_composite_cpu's median_block, ranks counted for
//                                          32 pixels at once; rank: composite_pixel's stable
//                                          ranks counted in a per-pixel buffer, composite.hpp)
//                                          against an insertion sort of that buffer and against
//                                          selection by counting over the planes (no buffer:
//                                          the GPU-friendly alternative of trend.hpp), all on
//                                          the blocked reading; the benchmark checks that the
//                                          three and the functor agree
//
// Inputs: seeded reflectances uniform in [0, 0.6), 20 % of the observations cloudy (every band
// NaN), 2 % of the values NaN in one band only, a quarter of the pixels quantised to 0.01 (ties).
#include <benchmark/benchmark.h>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <random>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "reclaim/pixel/composite.hpp"
#include "reclaim/pixel/per_pixel.hpp"

namespace {

using namespace reclaim;
using pixel::CompositeMethod;
using pixel::kBandCount;

constexpr int kObservations = 20;
constexpr std::size_t kSide = 512;
constexpr std::size_t kPixels = kSide * kSide;
constexpr std::uint32_t kBands =
    pixel::band_set::blue | pixel::band_set::red | pixel::band_set::nir | pixel::band_set::swir1;

std::vector<float> const& stack() {
  static std::vector<float> const planes = [] {
    std::mt19937 rng(20250111u);
    std::uniform_real_distribution<float> unit(0.f, 1.f);
    std::vector<float> v(static_cast<std::size_t>(kObservations) * kBandCount * kPixels);
    for (std::size_t i = 0; i < kPixels; ++i) {
      bool const quantised = unit(rng) < 0.25f;
      for (int o = 0; o < kObservations; ++o) {
        bool const cloud = unit(rng) < 0.2f;
        for (int b = 0; b < kBandCount; ++b) {
          float x = 0.6f * unit(rng);
          if (quantised) x = std::round(x * 100.f) / 100.f;
          if (cloud || unit(rng) < 0.02f) x = std::nanf("");
          v[(static_cast<std::size_t>(o) * kBandCount + static_cast<std::size_t>(b)) * kPixels + i] = x;
        }
      }
    }
    return v;
  }();
  return planes;
}

pixel::CompositeParams params_for(CompositeMethod m, bool percentiles) {
  pixel::CompositeParams p;
  p.method = m;
  p.observation_count = kObservations;
  p.bands = kBands;
  if (percentiles)
    for (double q : {10.0, 50.0, 90.0}) p.percentiles[p.percentile_count++] = q;
  return p;
}

void set_counters(benchmark::State& state) {
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(kPixels));
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(kPixels * kObservations * 4 * sizeof(float)));
  state.counters["observations"] = kObservations;
  state.counters["pixels"] = static_cast<double>(kPixels);
}

void composite_cpu(benchmark::State& state, CompositeMethod m, bool percentiles, bool functor) {
  auto const p = params_for(m, percentiles);
  std::vector<float> const& in = stack();
  std::vector<float> out(static_cast<std::size_t>(pixel::composite_output_planes(p)) * kPixels);
  for (auto _ : state) {
    if (functor) pixel::for_each_pixel(kPixels, pixel::CompositePixel{p, in.data(), out.data(), kPixels});
    else pixel::run_composite_cpu(p, in.data(), out.data(), kPixels);
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  set_counters(state);
}

// ---- rejected alternative 1: insertion sort of the clear values (the rest as composite_pixel) --
struct SortMedian {
  pixel::CompositeParams params;
  float const* obs;
  float* out;
  std::size_t stride;
  void operator()(std::size_t i) const noexcept {
    int const n = params.observation_count;
    auto value = [&](int o, int b) {
      return obs[(static_cast<std::size_t>(o) * kBandCount + static_cast<std::size_t>(b)) * stride + i];
    };
    std::uint32_t clear[pixel::kMaxObservations / 32] = {};
    int count = 0;
    for (int o = 0; o < n; ++o) {  // as composite_pixel: no branch on the data
      std::uint32_t ok = 1u;
      for (int b = 0; b < kBandCount; ++b)
        if ((params.bands >> b) & 1u) ok &= std::isfinite(value(o, b)) ? 1u : 0u;
      clear[o >> 5] |= ok << (o & 31);
      count += static_cast<int>(ok);
    }
    for (int k = 0; k < kBandCount + 1; ++k) out[static_cast<std::size_t>(k) * stride + i] = std::nanf("");
    out[static_cast<std::size_t>(kBandCount) * stride + i] = static_cast<float>(count);
    if (count == 0) return;
    double v[pixel::kMaxObservations];
    for (int b = 0; b < kBandCount; ++b) {
      if (((params.bands >> b) & 1u) == 0u) continue;
      int c = 0;
      for (int o = 0; o < n; ++o) {
        v[c] = static_cast<double>(value(o, b));
        c += static_cast<int>((clear[o >> 5] >> (o & 31)) & 1u);
      }
      for (int j = 1; j < c; ++j) {
        double const x = v[j];
        int k = j - 1;
        while (k >= 0 && v[k] > x) {
          v[k + 1] = v[k];
          --k;
        }
        v[k + 1] = x;
      }
      double const m = c % 2 ? v[c / 2] + 0.0 : (v[c / 2 - 1] + v[c / 2]) * 0.5 + 0.0;
      out[static_cast<std::size_t>(b) * stride + i] = static_cast<float>(m);
    }
  }
};

// ---- rejected alternative 2: the median by exact selection by counting --------------------
// For each clear value v: below = #clear values < v, at_or_below = #clear <= v; v is the k-th
// smallest when below < k <= at_or_below. No buffer (what a GPU thread would keep in
// registers), O(c^2) comparisons per band, each reading the observation planes again.
struct CountingMedian {
  pixel::CompositeParams params;
  float const* obs;
  float* out;
  std::size_t stride;
  void operator()(std::size_t i) const noexcept {
    int const n = params.observation_count;
    auto value = [&](int o, int b) {
      return obs[(static_cast<std::size_t>(o) * kBandCount + static_cast<std::size_t>(b)) * stride + i];
    };
    std::uint32_t clear[pixel::kMaxObservations / 32] = {};
    int count = 0;
    for (int o = 0; o < n; ++o) {
      bool ok = true;
      for (int b = 0; b < kBandCount; ++b)
        if ((params.bands >> b) & 1u) ok = ok && std::isfinite(value(o, b));
      if (ok) {
        clear[o >> 5] |= 1u << (o & 31);
        ++count;
      }
    }
    auto is_clear = [&](int o) { return ((clear[o >> 5] >> (o & 31)) & 1u) != 0u; };
    for (int k = 0; k < kBandCount + 1; ++k) out[static_cast<std::size_t>(k) * stride + i] = std::nanf("");
    out[static_cast<std::size_t>(kBandCount) * stride + i] = static_cast<float>(count);
    if (count == 0) return;
    int const k1 = (count + 1) / 2, k2 = count / 2 + 1;  // equal when count is odd
    for (int b = 0; b < kBandCount; ++b) {
      if (((params.bands >> b) & 1u) == 0u) continue;
      double a = 0.0, c = 0.0;
      int found = 0;
      for (int o = 0; o < n && found != 3; ++o) {
        if (!is_clear(o)) continue;
        float const v = value(o, b);
        int below = 0, at_or_below = 0;
        for (int q = 0; q < n; ++q) {
          if (!is_clear(q)) continue;
          float const w = value(q, b);
          below += w < v;
          at_or_below += w <= v;
        }
        if (below < k1 && k1 <= at_or_below) { a = v; found |= 1; }
        if (below < k2 && k2 <= at_or_below) { c = v; found |= 2; }
      }
      out[static_cast<std::size_t>(b) * stride + i] = static_cast<float>((a + c) * 0.5 + 0.0);
    }
  }
};

/// run_composite_cpu's blocked reading with another per-pixel function f(in, out, stride, j).
template <class F>
void run_blocked(pixel::CompositeParams const& p, float const* obs, float* out, std::size_t pixels, F const& f) {
  constexpr std::size_t B = pixel::kCompositeBlock;
  static std::vector<float> in_block(static_cast<std::size_t>(pixel::kMaxObservations) * kBandCount * B);
  static std::vector<float> out_block((kBandCount + 1 + pixel::kMaxCompositePercentiles) * B);
  auto const planes = static_cast<std::size_t>(pixel::composite_output_planes(p));
  for (std::size_t first = 0; first < pixels; first += B) {
    std::size_t const count = pixels - first < B ? pixels - first : B;
    for (int o = 0; o < p.observation_count; ++o)
      for (int b = 0; b < kBandCount; ++b) {
        if (((p.bands >> b) & 1u) == 0u) continue;
        std::size_t const k = static_cast<std::size_t>(o) * kBandCount + static_cast<std::size_t>(b);
        std::memcpy(in_block.data() + k * B, obs + k * pixels + first, count * sizeof(float));
      }
    for (std::size_t j = 0; j < count; ++j) f(in_block.data(), out_block.data(), B, j);
    for (std::size_t k = 0; k < planes; ++k)
      std::memcpy(out + k * pixels + first, out_block.data() + k * B, count * sizeof(float));
  }
}

template <class Median>
void alternative_median_cpu(pixel::CompositeParams const& p, float const* obs, float* out, std::size_t pixels) {
  run_blocked(p, obs, out, pixels, [&](float const* in, float* o, std::size_t stride, std::size_t j) {
    Median{p, in, o, stride}(j);
  });
}

enum class Selection { block, rank, sort, count };

void composite_select(benchmark::State& state, Selection selection) {
  auto const p = params_for(CompositeMethod::median, false);
  std::vector<float> const& in = stack();
  std::vector<float> out(static_cast<std::size_t>(pixel::composite_output_planes(p)) * kPixels);
  for (auto _ : state) {
    if (selection == Selection::count) alternative_median_cpu<CountingMedian>(p, in.data(), out.data(), kPixels);
    else if (selection == Selection::sort) alternative_median_cpu<SortMedian>(p, in.data(), out.data(), kPixels);
    else if (selection == Selection::rank)
      run_blocked(p, in.data(), out.data(), kPixels, [&](float const* i, float* o, std::size_t stride, std::size_t j) {
        pixel::composite_pixel(p, i, o, stride, j);
      });
    else pixel::run_composite_cpu(p, in.data(), out.data(), kPixels);
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  set_counters(state);
  // The two give the same medians (checked once, outside the timing), and so does the functor.
  std::vector<float> a(out.size()), b(out.size()), c(out.size()), d(out.size());
  alternative_median_cpu<CountingMedian>(p, in.data(), a.data(), kPixels);
  pixel::run_composite_cpu(p, in.data(), b.data(), kPixels);
  pixel::for_each_pixel(kPixels, pixel::CompositePixel{p, in.data(), c.data(), kPixels});
  alternative_median_cpu<SortMedian>(p, in.data(), d.data(), kPixels);
  auto same = [](float x, float y) { return std::memcmp(&x, &y, sizeof x) == 0 || (std::isnan(x) && std::isnan(y)); };
  for (std::size_t k = 0; k < a.size(); ++k)
    if (!same(a[k], b[k]) || !same(c[k], b[k]) || !same(d[k], b[k])) {
      state.SkipWithError("the selections' or the functor's medians differ");
      break;
    }
}

}  // namespace

int main(int argc, char** argv) {
  for (auto [name, m] : {std::pair{"median", CompositeMethod::median}, std::pair{"max_ndvi", CompositeMethod::max_ndvi},
                         std::pair{"medoid", CompositeMethod::medoid}})
    benchmark::RegisterBenchmark((std::string("composite_cpu/") + name).c_str(), composite_cpu, m, false, false)
        ->Unit(benchmark::kMillisecond);
  benchmark::RegisterBenchmark("composite_cpu/median+pct", composite_cpu, CompositeMethod::median, true, false)
      ->Unit(benchmark::kMillisecond);
  benchmark::RegisterBenchmark("composite_functor/median", composite_cpu, CompositeMethod::median, false, true)
      ->Unit(benchmark::kMillisecond);
  benchmark::RegisterBenchmark("composite_select/block", composite_select, Selection::block)->Unit(benchmark::kMillisecond);
  benchmark::RegisterBenchmark("composite_select/rank", composite_select, Selection::rank)->Unit(benchmark::kMillisecond);
  benchmark::RegisterBenchmark("composite_select/sort", composite_select, Selection::sort)->Unit(benchmark::kMillisecond);
  benchmark::RegisterBenchmark("composite_select/count", composite_select, Selection::count)
      ->Unit(benchmark::kMillisecond);
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
