// CPU throughput of the fused index pass (Google Benchmark).
//
//   fused_cpu/<index>      run_fused_cpu on one 1024 x 1024 in-memory tile, one thread:
//                          the per-pixel cost of the reference backend, nothing else.
//   fused_cpu/all10        all ten indices from one pass over the same tile.
//   change_cpu/<case>      run_change_cpu on the same tile as both epochs (the after epoch's
//                          numbers from another seed), default rules: `class_dndvi` writes the
//                          class and dNDVI only (reclaim change), `assess` also NDVI and the
//                          visible bands of each epoch (the planes reclaim assess keeps).
//   pipeline_cpu/<case>    run_pipeline over a MemoryTileSource (readers -> CpuBackend
//                          workers -> writer), end to end in memory, no GDAL: what the
//                          scheduler adds around the per-pixel work.
//
// Inputs are seeded synthetic Sentinel-2 L2A DNs (bench_inputs.hpp) with nodata, saturated
// and SCL-masked pixels, so every branch of compute_pixel runs. Bytes processed count the
// planes the pass actually reads (the bands in use plus SCL) and the planes it writes.
#include <benchmark/benchmark.h>

#include <cstddef>
#include <string>
#include <vector>

#include "bench_inputs.hpp"
#include "reclaim/backend.hpp"
#include "reclaim/scheduler.hpp"
#include "reclaim/tile_source.hpp"

namespace {

using namespace reclaim;

constexpr std::int64_t kTileSide = 1024;
constexpr std::int64_t kSceneSide = 4096;

// One 7-plane tile shared by all per-index cases (each reads only the planes it needs),
// made once: generating it is not what is being measured.
std::vector<float> const& shared_tile() {
  static std::vector<float> const tile = bench::make_input(
      bench::sentinel2_params(bench::all_indices(), /*compact=*/false), static_cast<std::size_t>(kTileSide * kTileSide));
  return tile;
}

void fused_cpu(benchmark::State& state, std::vector<pixel::Index> const& outputs) {
  auto const params = bench::sentinel2_params(outputs, /*compact=*/false);
  auto const pixels = static_cast<std::size_t>(kTileSide * kTileSide);
  auto const& in = shared_tile();
  std::vector<float> out(pixels * static_cast<std::size_t>(params.output_count));
  for (auto _ : state) {
    run_fused_cpu(params, in.data(), out.data(), pixels);
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  auto const planes = static_cast<std::int64_t>(bench::planes_read(params) + params.output_count);
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(pixels));
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(pixels) * planes *
                          static_cast<std::int64_t>(sizeof(float)));
  state.counters["planes_in"] = bench::planes_read(params);
  state.counters["planes_out"] = params.output_count;
}

/// Both epochs of the change pass: the shared tile (before) and a tile of another seed (after).
std::vector<float> const& shared_pair() {
  static std::vector<float> const pair = [] {
    auto const p = bench::sentinel2_params(bench::all_indices(), /*compact=*/false);
    auto const pixels = static_cast<std::size_t>(kTileSide * kTileSide);
    std::vector<float> both = shared_tile();
    auto const after = bench::make_input(p, pixels, bench::kSeed + 1);
    both.insert(both.end(), after.begin(), after.end());
    return both;
  }();
  return pair;
}

void change_cpu(benchmark::State& state, std::vector<pixel::Index> const& epoch_outputs) {
  pixel::ChangeParams p;
  p.before = bench::sentinel2_params(epoch_outputs, /*compact=*/false);
  p.after = p.before;
  for (auto& plane : p.after.band_plane)
    if (plane >= 0) plane += p.before.input_plane_count;
  p.after.mask_plane += p.before.input_plane_count;
  p.rules = pixel::default_change_rules();
  auto const pixels = static_cast<std::size_t>(kTileSide * kTileSide);
  auto const& in = shared_pair();
  std::vector<float> out(pixels * static_cast<std::size_t>(p.output_count()));
  for (auto _ : state) {
    run_change_cpu(p, in.data(), out.data(), pixels);
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(pixels));
  state.counters["planes_out"] = p.output_count();
}

void pipeline_cpu(benchmark::State& state, std::vector<pixel::Index> const& outputs) {
  auto const params = bench::sentinel2_params(outputs, /*compact=*/true);
  Grid grid;
  grid.width = kSceneSide;
  grid.height = kSceneSide;
  grid.block_width = 512;
  grid.block_height = 512;
  auto const pixels = static_cast<std::size_t>(grid.pixel_count());
  MemoryTileSource const source(grid, bench::make_planes(params, pixels));
  MemoryTileSink sink(grid, params.output_count);

  PlanRequest request;  // the CLI's defaults: 512 MiB budget, ~1 Mpixel tiles
  request.input_planes = params.input_plane_count;
  request.output_planes = params.output_count;
  auto const plan = make_plan(grid, request);
  CpuBackend backend;  // one worker per hardware thread
  SchedulerOptions options;
  options.reader_threads = 2;

  for (auto _ : state) {
    auto const stats = run_pipeline(source, sink, backend, params, plan, options);
    benchmark::DoNotOptimize(stats);
  }
  auto const planes = static_cast<std::int64_t>(params.input_plane_count + params.output_count);
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(pixels));
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(pixels) * planes *
                          static_cast<std::int64_t>(sizeof(float)));
  state.counters["tiles"] = static_cast<double>(plan.tiles.size());
  state.counters["workers"] = backend.worker_count();
}

}  // namespace

int main(int argc, char** argv) {
  for (auto const& c : bench::index_cases()) {
    benchmark::RegisterBenchmark(("fused_cpu/" + c.name).c_str(), fused_cpu, c.outputs)->Unit(benchmark::kMillisecond);
  }
  using pixel::Index;
  benchmark::RegisterBenchmark("change_cpu/class_dndvi", change_cpu, std::vector<Index>{})
      ->Unit(benchmark::kMillisecond);
  benchmark::RegisterBenchmark("change_cpu/assess", change_cpu,
                               std::vector<Index>{Index::ndvi, Index::red, Index::green, Index::blue})
      ->Unit(benchmark::kMillisecond);
  for (auto const& c : bench::index_cases()) {
    if (c.name != "ndvi" && c.name != "all10") continue;
    benchmark::RegisterBenchmark(("pipeline_cpu/" + c.name).c_str(), pipeline_cpu, c.outputs)
        ->Unit(benchmark::kMillisecond)
        ->UseRealTime()    // the work happens on the pipeline's threads, not this one
        ->Iterations(3);   // fixed, so the 16 Mpixel scene is generated once per case
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
