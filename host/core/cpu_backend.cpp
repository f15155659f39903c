#include <algorithm>
#include <limits>
#include <new>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

#include "reclaim/backend.hpp"
#include "reclaim/cpus.hpp"
#include "reclaim/error.hpp"
#include "reclaim/pixel/per_pixel.hpp"
#include "reclaim/visit.hpp"

namespace reclaim {

namespace {

/// Pixels per staging chunk: the chunk's output planes (up to 16 planes of 1 KiB) stay in L1.
constexpr std::size_t kStagingChunk = 256;
/// Floats between the staged planes: 17 cache lines, so that plane k's pixel j and plane k+1's
/// fall into different cache sets.
constexpr std::size_t kStagingStride = kStagingChunk + 16;

/** @brief Runs a per-pixel pass over a tile, writing its outputs through a small staging
 * buffer: the functor (make_functor(in, out, in_stride, out_stride)) reads the tile's input
 * planes where they are and writes kStagingChunk pixels of each output plane into a buffer
 * whose planes lie kStagingStride floats apart; each chunk is then copied to the tile.
 *
 * Why: a tile's planes lie `pixels` floats apart, 4 MiB for the usual 1024 x 1024 tiles, so
 * pixel i of every plane maps to the same cache set; with the 20-odd planes a change pass reads
 * and writes, each access evicts another plane's line. bench_cpu_indices change_cpu/assess
 * (12 input, 10 output planes), 3 interleaved runs: plain loop 54-61 ms, staged 45-52 ms per
 * 1024 x 1024 tile. The functor is the one the CUDA backend runs, on the same values: the
 * results are bit for bit those of a plain loop (tests/core/pass_dispatch_test.cpp). Every
 * pass writes all its output planes at every pixel, so no stale value is copied back.
 * With `runs`, only those pixels are computed (TilePlan::pixels_read); the others get the
 * no-data outputs.
 */
template <class MakeFunctor>
void for_each_pixel_staged(std::size_t pixels, int in_planes, int out_planes, float const* in, float* out,
                           std::vector<PixelRun> const* runs, MakeFunctor const& make_functor) {
  thread_local std::vector<float> staged;
  staged.resize(static_cast<std::size_t>(out_planes) * kStagingStride);
  auto compute = [&](std::size_t begin, std::size_t end) {
    for (std::size_t first = begin; first < end; first += kStagingChunk) {
      std::size_t const n = std::min(kStagingChunk, end - first);
      pixel::for_each_pixel(n, make_functor(in + first, staged.data(), pixels, kStagingStride));
      for (int k = 0; k < out_planes; ++k)
        std::copy_n(staged.data() + static_cast<std::size_t>(k) * kStagingStride, n,
                    out + static_cast<std::size_t>(k) * pixels + first);
    }
  };
  if (!runs) {
    compute(0, pixels);
    return;
  }
  // Pixels nobody reads get the outputs of a pixel with no data (every input NaN), computed by
  // the same functor: a reader that strayed outside the runs would see no data, never stale values.
  std::vector<float> const no_data_in(static_cast<std::size_t>(std::max(in_planes, 1)),
                                      std::numeric_limits<float>::quiet_NaN());
  std::vector<float> no_data_out(static_cast<std::size_t>(std::max(out_planes, 1)));
  make_functor(no_data_in.data(), no_data_out.data(), 1, 1)(0);
  auto blank = [&](std::size_t begin, std::size_t end) {
    for (int k = 0; k < out_planes; ++k)
      std::fill(out + static_cast<std::size_t>(k) * pixels + begin, out + static_cast<std::size_t>(k) * pixels + end,
                no_data_out[static_cast<std::size_t>(k)]);
  };
  std::size_t at = 0;
  for (auto const& r : *runs) {
    blank(at, r.begin);
    compute(r.begin, r.end);
    at = r.end;
  }
  blank(at, pixels);
}

}  // namespace

void run_fused_cpu(pixel::FusedParams const& params, float const* in, float* out, std::size_t pixels,
                   std::vector<PixelRun> const* runs) noexcept {
  for_each_pixel_staged(pixels, params.input_plane_count, params.output_count, in, out, runs,
                        [&params](float const* i, float* o, std::size_t in_stride, std::size_t out_stride) {
                          return pixel::FusedPixel{&params, i, o, in_stride, out_stride};
                        });
}

void run_change_cpu(pixel::ChangeParams const& params, float const* in, float* out, std::size_t pixels,
                    std::vector<PixelRun> const* runs) noexcept {
  for_each_pixel_staged(pixels, params.input_plane_count(), params.output_count(), in, out, runs,
                        [&params](float const* i, float* o, std::size_t in_stride, std::size_t out_stride) {
                          return pixel::ChangePixel{&params, i, o, in_stride, out_stride};
                        });
}

pixel::FusedParams epoch_params(TrendPass const& pass, int e) noexcept {
  pixel::FusedParams p = pass.epoch;
  int const offset = e * pass.planes_per_epoch;
  for (auto& plane : p.band_plane)
    if (plane >= 0) plane += offset;
  if (p.mask_plane >= 0) p.mask_plane += offset;
  return p;
}

void run_trend_pass_cpu(TrendPass const& pass, float const* in, float* out, float* scratch,
                        std::size_t pixels) noexcept {
  for (int e = 0; e < pass.trend.epoch_count; ++e)
    run_fused_cpu(epoch_params(pass, e), in, scratch + static_cast<std::size_t>(e) * pixels, pixels);
  pixel::run_trend_cpu(pass.trend, scratch, out, pixels);
}

void run_pass_cpu(PixelPass const& pass, float const* in, float* out, std::size_t pixels,
                  std::vector<PixelRun> const* runs) noexcept {
  visit_exhaustive(overloaded{
                       [&](pixel::FusedParams const& p) { run_fused_cpu(p, in, out, pixels, runs); },
                       [&](pixel::ChangeParams const& p) { run_change_cpu(p, in, out, pixels, runs); },
                       [&](TrendPass const& p) {
                         // Per-thread scratch for the index planes, reused across tiles.
                         thread_local std::vector<float> scratch;
                         scratch.resize(static_cast<std::size_t>(p.trend.epoch_count) * pixels);
                         run_trend_pass_cpu(p, in, out, scratch.data(), pixels);
                       },
                       [&](pixel::BandParams const& p) { pixel::for_each_pixel(pixels, pixel::BandPixel{p, in, out, pixels}); },
                   },
                   pass);
}

int input_plane_count(PixelPass const& pass) noexcept {
  return visit_exhaustive(overloaded{
                              [](pixel::FusedParams const& p) { return int{p.input_plane_count}; },
                              [](pixel::ChangeParams const& p) { return p.input_plane_count(); },
                              [](TrendPass const& p) { return p.planes_per_epoch * p.trend.epoch_count; },
                              [](pixel::BandParams const& p) { return int{p.plane_count}; },
                          },
                          pass);
}

int output_plane_count(PixelPass const& pass) noexcept {
  return visit_exhaustive(overloaded{
                              [](pixel::FusedParams const& p) { return int{p.output_count}; },
                              [](pixel::ChangeParams const& p) { return p.output_count(); },
                              [](TrendPass const& p) { return int{p.trend.output_count}; },
                              [](pixel::BandParams const& p) { return int{p.plane_count}; },
                          },
                          pass);
}

namespace {

/// One epoch's planes inside a tile of `inputs` input planes, and its outputs.
void validate_epoch(pixel::FusedParams const& p, int inputs, std::string const& what) {
  auto plane_ok = [&](std::int32_t plane) { return plane >= -1 && plane < inputs; };
  for (int b = 0; b < pixel::kBandCount; ++b)
    if (!plane_ok(p.band_plane[b]))
      throw logic_error(what + ": band " + std::to_string(b) + " reads input plane " +
                        std::to_string(p.band_plane[b]) + " of " + std::to_string(inputs));
  if (!plane_ok(p.mask_plane))
    throw logic_error(what + ": the mask reads input plane " + std::to_string(p.mask_plane) + " of " +
                      std::to_string(inputs));
  if (p.output_count < 0 || p.output_count > pixel::kMaxOutputs)
    throw logic_error(what + ": " + std::to_string(p.output_count) + " outputs (at most " +
                      std::to_string(pixel::kMaxOutputs) + ")");
  for (int k = 0; k < p.output_count; ++k)
    if (static_cast<int>(p.outputs[k]) >= pixel::kOutputKindCount)
      throw logic_error(what + ": output " + std::to_string(k) + " is no index");
}

}  // namespace

void validate_pass(PixelPass const& pass) {
  visit_exhaustive(
      overloaded{
          [](pixel::FusedParams const& p) {
            if (p.input_plane_count < 0) throw logic_error("fused pass: negative input plane count");
            validate_epoch(p, p.input_plane_count, "fused pass");
          },
          [](pixel::ChangeParams const& p) {
            int const inputs = p.input_plane_count();
            if (p.before.input_plane_count < 0 || p.after.input_plane_count < 0)
              throw logic_error("change pass: negative input plane count");
            validate_epoch(p.before, inputs, "change pass (before)");
            validate_epoch(p.after, inputs, "change pass (after)");
          },
          [](TrendPass const& p) {
            int const n = p.trend.epoch_count;
            if (n < 0 || n > pixel::kMaxEpochs)
              throw logic_error("trend pass: " + std::to_string(n) + " epochs (at most " +
                                std::to_string(pixel::kMaxEpochs) + ")");
            if (p.planes_per_epoch < 0) throw logic_error("trend pass: negative planes per epoch");
            // Epoch e's index goes to scratch plane e: exactly one output per epoch.
            if (p.epoch.output_count != 1)
              throw logic_error("trend pass: " + std::to_string(p.epoch.output_count) +
                                " outputs per epoch (the trend pass needs exactly one, the index)");
            int const inputs = p.planes_per_epoch * n;
            for (int e = 0; e < n; ++e)
              validate_epoch(epoch_params(p, e), inputs, "trend pass (epoch " + std::to_string(e) + ")");
            int const outputs = p.trend.output_count;
            if (outputs < 0 || outputs > pixel::kTrendOutputCount)
              throw logic_error("trend pass: " + std::to_string(outputs) + " trend outputs");
            for (int o = 0; o < pixel::kTrendOutputCount; ++o)
              if (p.trend.plane[o] < -1 || p.trend.plane[o] >= outputs)
                throw logic_error("trend pass: product " + std::to_string(o) + " goes to output plane " +
                                  std::to_string(p.trend.plane[o]) + " of " + std::to_string(outputs));
          },
          [](pixel::BandParams const& p) {
            if (p.plane_count < 1 || p.plane_count > 4096)
              throw logic_error("band pass: " + std::to_string(p.plane_count) + " planes");
          },
      },
      pass);
}

namespace {

class CpuWorker final : public BackendWorker {
 public:
  explicit CpuWorker(ZonalWork const* zonal) : m_zonal(zonal) {
    if (m_zonal) m_acc = m_zonal->make_accumulators();
  }
  void run(PixelPass const& pass, TileJob const& job) override {
    std::size_t const pixels = job.window.pixel_count();
    run_pass_cpu(pass, job.in, job.out, pixels, job.pixels_read);
    if (m_zonal)
      accumulate_tile_cpu(*m_zonal, job.tile, job.out, output_plane_count(pass),
                          static_cast<std::size_t>(job.window.width), pixels, m_acc, m_scratch);
  }
  [[nodiscard]] std::vector<ProductAccumulators> zonal_results() override { return std::move(m_acc); }

 private:
  ZonalWork const* m_zonal;
  std::vector<ProductAccumulators> m_acc;
  std::vector<float> m_scratch;
};

constexpr std::align_val_t kHostAlignment{64};

}  // namespace

CpuBackend::CpuBackend(int threads) : m_threads(thread_count(threads)) {}

std::unique_ptr<BackendWorker> CpuBackend::make_worker(std::size_t, std::size_t, ZonalWork const* zonal) {
  return std::make_unique<CpuWorker>(zonal);
}

HostBuffer CpuBackend::allocate_host(std::size_t float_count) {
  auto* p = static_cast<float*>(::operator new[](float_count * sizeof(float), kHostAlignment));
  return HostBuffer(p, float_count, [](void* q) noexcept { ::operator delete[](q, kHostAlignment); });
}

}  // namespace reclaim
