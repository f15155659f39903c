// GPU benchmarks of the fused index kernel: a plain CUDA program, no Google Benchmark.
//
// The GPU machine has CUDA and CMake but no Google Benchmark, GDAL or GoogleTest, so this
// program times itself: each case runs `warmup` untimed launches, then `reps` launches each
// bracketed by its own pair of CUDA events (the same kernel-only measurement Google
// Benchmark's UseManualTime() would record), and reports the median. One code path on
// every machine keeps numbers comparable between runs. See bench/results/README.md.
//
//   copy/d2d           cudaMemcpyAsync device -> device: the bandwidth ceiling. GB/s counts
//                      bytes read plus bytes written, like the kernels below.
//   kernel/<case>      fused_indices_async on a tile already on the device (8192 x 8192 by
//                      default, 67 Mpixel: enough blocks to fill an H200 many times over).
//                      Bytes = planes read (bands in use + SCL) + planes written.
//   kernel/c_<rule>    composite_async (median, max_ndvi, medoid) over 20 observations x 4
//                      bands on 1024 x 1024 pixels (at most), 20 % cloudy; bytes = the
//                      composited planes read + 5 planes written.
//   e2e/<case>         run_pipeline with make_cuda_backend over a MemoryTileSource: reader
//                      threads -> pinned H2D -> kernel -> D2H -> MemoryTileSink, wall clock.
//
// Before timing, a parity check runs all ten indices on a 1024 x 1024 tile on both backends
// and requires bit-identical results (NaN == NaN); a mismatch makes the exit status 1.
// Without a CUDA device it prints a SKIP line and exits 0.
#include <cuda_runtime_api.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "bench/cpu/bench_inputs.hpp"
#include "host/cuda/cuda_raii.hpp"
#include "kernels/composite_kernel.cuh"
#include "kernels/fused_kernel.cuh"
#include "kernels/trend_kernel.cuh"
#include "reclaim/backend.hpp"
#include "reclaim/cuda_backend.hpp"
#include "reclaim/scheduler.hpp"
#include "reclaim/tile_source.hpp"

namespace {

using namespace reclaim;

struct Options {
  std::int64_t size = 8192;      // kernel-only tile side
  int reps = 20;                 // timed launches per kernel case
  int warmup = 3;
  std::int64_t e2e_size = 8192;  // end-to-end scene side (0: skip)
  int e2e_reps = 3;
  std::string tsv;               // machine-readable results, for scripts/gpu-check.sh
};

void usage() {
  std::printf(
      "usage: bench_gpu_kernels [--size N] [--reps N] [--warmup N] [--e2e-size N|0] [--e2e-reps N] [--tsv FILE]\n");
}

bool parse(int argc, char** argv, Options& o) {
  for (int i = 1; i < argc; ++i) {
    std::string const a = argv[i];
    auto value = [&]() -> char const* { return i + 1 < argc ? argv[++i] : nullptr; };
    char const* v = nullptr;
    if (a == "--help" || a == "-h") {
      usage();
      std::exit(0);
    } else if (a == "--size" && (v = value())) {
      o.size = std::atoll(v);
    } else if (a == "--reps" && (v = value())) {
      o.reps = std::atoi(v);
    } else if (a == "--warmup" && (v = value())) {
      o.warmup = std::atoi(v);
    } else if (a == "--e2e-size" && (v = value())) {
      o.e2e_size = std::atoll(v);
    } else if (a == "--e2e-reps" && (v = value())) {
      o.e2e_reps = std::atoi(v);
    } else if (a == "--tsv" && (v = value())) {
      o.tsv = v;
    } else {
      std::fprintf(stderr, "bench_gpu_kernels: bad argument '%s'\n", a.c_str());
      usage();
      return false;
    }
  }
  return o.size > 0 && o.reps > 0 && o.warmup >= 0 && o.e2e_size >= 0 && o.e2e_reps > 0;
}

/// Owning CUDA event; destructor never throws.
class Event {
 public:
  Event() { RECLAIM_CUDA_TRY(cudaEventCreate(&m_event)); }
  Event(Event const&) = delete;
  Event& operator=(Event const&) = delete;
  ~Event() {
    if (m_event) cudaEventDestroy(m_event);
  }
  [[nodiscard]] cudaEvent_t get() const noexcept { return m_event; }

 private:
  cudaEvent_t m_event = nullptr;
};

/// Brackets work on one stream with two events (cuspatial's cuda_event_timer, minus the
/// Google Benchmark state): start() records the first, stop_ms() the second, waits for it
/// and returns the GPU time between them.
class EventTimer {
 public:
  explicit EventTimer(cudaStream_t stream) : m_stream(stream) {}
  void start() { RECLAIM_CUDA_TRY(cudaEventRecord(m_start.get(), m_stream)); }
  [[nodiscard]] float stop_ms() {
    RECLAIM_CUDA_TRY(cudaEventRecord(m_stop.get(), m_stream));
    RECLAIM_CUDA_TRY(cudaEventSynchronize(m_stop.get()));
    float ms = 0.f;
    RECLAIM_CUDA_TRY(cudaEventElapsedTime(&ms, m_start.get(), m_stop.get()));
    return ms;
  }

 private:
  cudaStream_t m_stream;
  Event m_start;
  Event m_stop;
};

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  std::size_t const n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/// Times `launch` (which enqueues work on `stream`) with CUDA events; median milliseconds.
template <class Fn>
double time_gpu_ms(cudaStream_t stream, Options const& o, Fn&& launch) {
  for (int i = 0; i < o.warmup; ++i) launch();
  RECLAIM_CUDA_TRY(cudaStreamSynchronize(stream));
  RECLAIM_CUDA_TRY(cudaGetLastError());
  EventTimer timer(stream);
  std::vector<double> ms;
  for (int i = 0; i < o.reps; ++i) {
    timer.start();
    launch();
    ms.push_back(timer.stop_ms());
  }
  RECLAIM_CUDA_TRY(cudaGetLastError());
  return median(ms);
}

struct Row {
  std::string name;
  std::string kind;  // copy | kernel | e2e
  std::int64_t pixels = 0;
  double bytes = 0;
  double ms = 0;
  [[nodiscard]] double gbps() const { return bytes / (ms * 1e-3) / 1e9; }
};

bool same_float(float a, float b) {
  if (a != a && b != b) return true;  // NaN payloads may differ between host and device
  std::uint32_t ua = 0, ub = 0;
  std::memcpy(&ua, &a, sizeof ua);
  std::memcpy(&ub, &b, sizeof ub);
  return ua == ub;
}

/// CPU (run_fused_cpu, g++ -ffp-contract=off) vs GPU kernel on one tile, all indices.
bool parity_check(cudaStream_t stream) {
  constexpr std::size_t kPixels = 1024 * 1024;
  auto const params = bench::sentinel2_params(bench::all_indices(), /*compact=*/true);
  auto const in = bench::make_input(params, kPixels);
  std::size_t const out_count = kPixels * static_cast<std::size_t>(params.output_count);
  std::vector<float> cpu(out_count), gpu(out_count);
  run_fused_cpu(params, in.data(), cpu.data(), kPixels);

  cuda::DeviceBuffer<float> d_in(in.size(), stream), d_out(out_count, stream);
  RECLAIM_CUDA_TRY(cudaMemcpyAsync(d_in.data(), in.data(), in.size() * sizeof(float), cudaMemcpyHostToDevice, stream));
  kernels::fused_indices_async(params, d_in.data(), d_out.data(), kPixels, stream);
  RECLAIM_CHECK_KERNEL(stream);
  RECLAIM_CUDA_TRY(cudaMemcpyAsync(gpu.data(), d_out.data(), out_count * sizeof(float), cudaMemcpyDeviceToHost, stream));
  RECLAIM_CUDA_TRY(cudaStreamSynchronize(stream));

  std::size_t bad = 0, nan_count = 0, first_bad = 0;
  for (std::size_t i = 0; i < out_count; ++i) {
    if (!same_float(cpu[i], gpu[i]) && bad++ == 0) first_bad = i;
    nan_count += cpu[i] != cpu[i] ? 1 : 0;
  }
  if (bad == 0) {
    std::printf("parity: all 10 indices on 1024x1024: %zu/%zu values bit-identical to the CPU backend (%zu NaN)\n",
                out_count, out_count, nan_count);
    return true;
  }
  std::size_t const k = first_bad / kPixels, i = first_bad % kPixels;
  std::printf("parity: FAILED: %zu of %zu values differ; first: %s pixel %zu cpu=%.9g gpu=%.9g\n", bad, out_count,
              std::string(index_name(params.outputs[k])).c_str(), i, static_cast<double>(cpu[first_bad]),
              static_cast<double>(gpu[first_bad]));
  return false;
}

void bench_kernels(cudaStream_t stream, Options const& o, std::vector<Row>& rows) {
  auto const pixels = static_cast<std::size_t>(o.size * o.size);
  auto const full = bench::sentinel2_params(bench::all_indices(), /*compact=*/false);
  std::size_t const in_floats = pixels * static_cast<std::size_t>(full.input_plane_count);
  std::size_t const out_floats = pixels * static_cast<std::size_t>(full.output_count);
  std::printf("generating a %lld x %lld, %d-plane tile (%.2f GB in, %.2f GB out on the device)...\n",
              static_cast<long long>(o.size), static_cast<long long>(o.size), full.input_plane_count,
              static_cast<double>(in_floats * sizeof(float)) / 1e9, static_cast<double>(out_floats * sizeof(float)) / 1e9);
  cuda::DeviceBuffer<float> d_in(in_floats, stream), d_out(out_floats, stream);
  {
    auto const h_in = bench::make_input(full, pixels);
    RECLAIM_CUDA_TRY(cudaMemcpyAsync(d_in.data(), h_in.data(), in_floats * sizeof(float), cudaMemcpyHostToDevice,
                                     stream));
    RECLAIM_CUDA_TRY(cudaStreamSynchronize(stream));
  }

  // The ceiling: copy the whole input buffer into the (larger) output buffer.
  Row copy{"d2d", "copy", 0, 2.0 * static_cast<double>(in_floats * sizeof(float)), 0};
  copy.ms = time_gpu_ms(stream, o, [&] {
    RECLAIM_CUDA_TRY(cudaMemcpyAsync(d_out.data(), d_in.data(), in_floats * sizeof(float), cudaMemcpyDeviceToDevice,
                                     stream));
  });
  rows.push_back(copy);

  for (auto const& c : bench::index_cases()) {
    // Full layout: each case reads only its own planes of the shared 7-plane buffer.
    auto const params = bench::sentinel2_params(c.outputs, /*compact=*/false);
    Row r{c.name, "kernel", static_cast<std::int64_t>(pixels),
          static_cast<double>(pixels) * (bench::planes_read(params) + params.output_count) * sizeof(float), 0};
    r.ms = time_gpu_ms(stream, o, [&] {
      kernels::fused_indices_async(params, d_in.data(), d_out.data(), pixels, stream);
      RECLAIM_CHECK_KERNEL(stream);
    });
    rows.push_back(r);
  }
  RECLAIM_CUDA_TRY(cudaStreamSynchronize(stream));
}

/// Trend statistics over 7 and 40 epochs of index planes already on the device (the
/// issue's cases), all default products. Compute-bound: pixels/s is the figure to read.
void bench_trend(cudaStream_t stream, Options const& o, std::vector<Row>& rows) {
  std::size_t const pixels = std::min<std::size_t>(static_cast<std::size_t>(o.size * o.size), std::size_t{1} << 22);
  for (int epochs : {7, 40}) {
    pixel::TrendParams p;
    p.epoch_count = epochs;
    for (int e = 0; e < epochs; ++e) p.years[e] = 2000.0 + e;
    for (auto out : {pixel::TrendOutput::slope, pixel::TrendOutput::mk_s, pixel::TrendOutput::mk_z,
                     pixel::TrendOutput::mk_p, pixel::TrendOutput::n_valid, pixel::TrendOutput::recovery_year})
      p.add_output(out);
    std::vector<float> h_in(pixels * static_cast<std::size_t>(epochs));
    std::mt19937 rng(7);
    std::uniform_real_distribution<float> noise(-0.05f, 0.05f), u(0.f, 1.f);
    for (std::size_t i = 0; i < pixels; ++i) {
      float const rate = 0.02f * (u(rng) - 0.3f);
      for (int e = 0; e < epochs; ++e)
        h_in[static_cast<std::size_t>(e) * pixels + i] = u(rng) < 0.1f ? std::nanf("") : 0.2f + rate * e + noise(rng);
    }
    cuda::DeviceBuffer<float> d_in(h_in.size(), stream), d_out(pixels * static_cast<std::size_t>(p.output_count), stream);
    RECLAIM_CUDA_TRY(cudaMemcpyAsync(d_in.data(), h_in.data(), h_in.size() * sizeof(float), cudaMemcpyHostToDevice, stream));
    Row r{"trend" + std::to_string(epochs), "kernel", static_cast<std::int64_t>(pixels),
          static_cast<double>(pixels) * (epochs + p.output_count) * sizeof(float), 0};
    r.ms = time_gpu_ms(stream, o, [&] {
      kernels::trend_async(p, d_in.data(), d_out.data(), pixels, stream);
      RECLAIM_CHECK_KERNEL(stream);
    });
    rows.push_back(r);
  }
  RECLAIM_CUDA_TRY(cudaStreamSynchronize(stream));
}

/// Composites of 20 observations x 4 bands (blue, red, nir, swir1) already on the device, per
/// rule (CompositePixel through for_each_pixel_async), clear count included, no percentiles.
/// 20 % of the observations cloudy. Bytes = the composited bands' planes read once + the
/// output planes written (4 bands + clear count).
void bench_composite(cudaStream_t stream, Options const& o, std::vector<Row>& rows) {
  constexpr int kObservations = 20;
  std::size_t const pixels = std::min<std::size_t>(static_cast<std::size_t>(o.size * o.size), std::size_t{1} << 20);
  std::size_t const in_planes = static_cast<std::size_t>(kObservations) * pixel::kBandCount;
  std::vector<float> h_in(in_planes * pixels);
  for (std::size_t k = 0; k < in_planes; ++k) {
    std::size_t const observation = k / pixel::kBandCount;
    for (std::size_t i = 0; i < pixels; ++i) {
      std::uint64_t const r = bench::splitmix64(bench::kSeed ^ (k << 40) ^ i);
      bool const cloud = bench::splitmix64(bench::kSeed ^ (observation << 40) ^ i ^ 0x5555) % 5 == 0;
      h_in[k * pixels + i] = cloud ? std::nanf("") : static_cast<float>(r >> 40) * (0.6f / 16777216.f);
    }
  }
  cuda::DeviceBuffer<float> d_in(h_in.size(), stream);
  RECLAIM_CUDA_TRY(cudaMemcpyAsync(d_in.data(), h_in.data(), h_in.size() * sizeof(float), cudaMemcpyHostToDevice, stream));
  for (auto [name, method] : {std::pair{"c_median", pixel::CompositeMethod::median},
                              std::pair{"c_maxndvi", pixel::CompositeMethod::max_ndvi},
                              std::pair{"c_medoid", pixel::CompositeMethod::medoid}}) {
    pixel::CompositeParams p;
    p.method = method;
    p.observation_count = kObservations;
    p.bands = pixel::band_set::blue | pixel::band_set::red | pixel::band_set::nir | pixel::band_set::swir1;
    auto const out_planes = static_cast<std::size_t>(pixel::composite_output_planes(p));
    cuda::DeviceBuffer<float> d_out(out_planes * pixels, stream);
    Row r{name, "kernel", static_cast<std::int64_t>(pixels),
          static_cast<double>(pixels) * (kObservations * 4 + 5) * sizeof(float), 0};
    r.ms = time_gpu_ms(stream, o, [&] {
      kernels::composite_async(p, d_in.data(), d_out.data(), pixels, stream);
      RECLAIM_CHECK_KERNEL(stream);
    });
    rows.push_back(r);
    RECLAIM_CUDA_TRY(cudaStreamSynchronize(stream));  // d_out is freed on the stream next
  }
}

void bench_e2e(Options const& o, std::vector<Row>& rows) {
  for (auto const& c : bench::index_cases()) {
    if (c.name != "ndvi" && c.name != "all10") continue;
    auto const params = bench::sentinel2_params(c.outputs, /*compact=*/true);
    Grid grid;
    grid.width = o.e2e_size;
    grid.height = o.e2e_size;
    grid.block_width = 512;
    grid.block_height = 512;
    auto const pixels = static_cast<std::size_t>(grid.pixel_count());
    MemoryTileSource const source(grid, bench::make_planes(params, pixels));
    MemoryTileSink sink(grid, params.output_count);
    PlanRequest request;  // the CLI's defaults: 512 MiB host budget, ~1 Mpixel tiles
    request.input_planes = params.input_plane_count;
    request.output_planes = params.output_count;
    auto const plan = make_plan(grid, request);
    auto backend = make_cuda_backend(0, 2);
    SchedulerOptions options;
    options.reader_threads = 2;

    run_pipeline(source, sink, *backend, params, plan, options);  // warm-up: context, pools
    std::vector<double> ms;
    for (int i = 0; i < o.e2e_reps; ++i) {
      auto const t0 = std::chrono::steady_clock::now();
      run_pipeline(source, sink, *backend, params, plan, options);
      ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
    }
    std::printf("e2e/%s: %zu tiles of %d x %d, %d slots, backend %s\n", c.name.c_str(), plan.tiles.size(),
                plan.tile_width, plan.tile_height, plan.slot_count, backend->name().c_str());
    rows.push_back(Row{c.name, "e2e", static_cast<std::int64_t>(pixels),
                       static_cast<double>(pixels) * (params.input_plane_count + params.output_count) * sizeof(float),
                       median(ms)});
  }
}

void print_table(std::vector<Row> const& rows, Options const& o) {
  double d2d = 0;
  for (auto const& r : rows)
    if (r.kind == "copy") d2d = r.gbps();
  std::printf("\n%-8s %-8s %12s %10s %10s %10s %9s\n", "kind", "case", "pixels", "ms(med)", "Gpix/s", "GB/s",
              "of d2d");
  for (auto const& r : rows) {
    char frac[32] = "-";
    if (r.kind == "kernel" && d2d > 0) std::snprintf(frac, sizeof frac, "%.2f", r.gbps() / d2d);
    char gpix[32] = "-";
    if (r.pixels > 0) std::snprintf(gpix, sizeof gpix, "%.2f", static_cast<double>(r.pixels) / (r.ms * 1e-3) / 1e9);
    std::printf("%-8s %-8s %12lld %10.3f %10s %10.1f %9s\n", r.kind.c_str(), r.name.c_str(),
                static_cast<long long>(r.pixels), r.ms, gpix, r.gbps(), frac);
  }
  std::printf("(kernel/copy: median of %d event-timed runs after %d warm-ups; e2e: median of %d wall-clock runs)\n",
              o.reps, o.warmup, o.e2e_reps);
  if (!o.tsv.empty()) {
    std::ofstream f(o.tsv);
    f << "kind\tcase\tpixels\tbytes\tmedian_ms\tgbps\tfrac_d2d\n";
    for (auto const& r : rows)
      f << r.kind << '\t' << r.name << '\t' << r.pixels << '\t' << r.bytes << '\t' << r.ms << '\t' << r.gbps() << '\t'
        << (r.kind == "kernel" && d2d > 0 ? r.gbps() / d2d : 0.0) << '\n';
  }
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  if (!parse(argc, argv, o)) return 2;
  int runtime = 0, driver = 0;
  cudaRuntimeGetVersion(&runtime);
  cudaDriverGetVersion(&driver);
  if (cuda_device_count() == 0) {
    std::printf("SKIP bench_gpu_kernels: no CUDA device visible (runtime %d, driver %d); nothing was timed\n", runtime,
                driver);
    return 0;
  }
  try {
    cuda::set_device(0);
    cudaDeviceProp prop{};
    RECLAIM_CUDA_TRY(cudaGetDeviceProperties(&prop, 0));
    std::printf("device 0: %s, sm_%d%d, %d SMs, %.1f GiB, L2 %d MiB; CUDA runtime %d, driver %d\n", prop.name,
                prop.major, prop.minor, prop.multiProcessorCount,
                static_cast<double>(prop.totalGlobalMem) / (1024.0 * 1024.0 * 1024.0), prop.l2CacheSize >> 20,
                runtime, driver);
    bool ok = true;
    std::vector<Row> rows;
    {
      cuda::Stream stream;  // declared before (so destroyed after) the buffers that use it
      ok = parity_check(stream.get());
      bench_kernels(stream.get(), o, rows);
      bench_trend(stream.get(), o, rows);
      bench_composite(stream.get(), o, rows);
    }
    if (o.e2e_size > 0) bench_e2e(o, rows);
    print_table(rows, o);
    return ok ? 0 : 1;
  } catch (std::exception const& e) {
    std::fprintf(stderr, "bench_gpu_kernels: %s\n", e.what());
    return 1;
  }
}
