#include <algorithm>
#include <new>
#include <thread>
#include <type_traits>
#include <vector>

#include "reclaim/backend.hpp"

namespace reclaim {

void run_fused_cpu(pixel::FusedParams const& params, float const* in, float* out, std::size_t pixels) noexcept {
  for (std::size_t i = 0; i < pixels; ++i) pixel::compute_pixel(params, in, out, pixels, i);
}

void run_change_cpu(pixel::ChangeParams const& params, float const* in, float* out, std::size_t pixels) noexcept {
  for (std::size_t i = 0; i < pixels; ++i) pixel::compute_change_pixel(params, in, out, pixels, i);
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

void run_pass_cpu(PixelPass const& pass, float const* in, float* out, std::size_t pixels) noexcept {
  struct Visitor {
    float const* in;
    float* out;
    std::size_t pixels;
    void operator()(pixel::FusedParams const& p) const { run_fused_cpu(p, in, out, pixels); }
    void operator()(pixel::ChangeParams const& p) const { run_change_cpu(p, in, out, pixels); }
    void operator()(TrendPass const& p) const {
      // Per-thread scratch for the index planes, reused across tiles.
      thread_local std::vector<float> scratch;
      scratch.resize(static_cast<std::size_t>(p.trend.epoch_count) * pixels);
      run_trend_pass_cpu(p, in, out, scratch.data(), pixels);
    }
    void operator()(pixel::BandParams const& p) const {
      for (std::size_t i = 0; i < pixels; ++i) pixel::compute_band_pixel(p, in, out, i);
    }
  };
  std::visit(Visitor{in, out, pixels}, pass);
}

int input_plane_count(PixelPass const& pass) noexcept {
  struct Visitor {
    int operator()(pixel::FusedParams const& p) const { return p.input_plane_count; }
    int operator()(pixel::ChangeParams const& p) const { return p.input_plane_count(); }
    int operator()(TrendPass const& p) const { return p.planes_per_epoch * p.trend.epoch_count; }
    int operator()(pixel::BandParams const&) const { return 1; }
  };
  return std::visit(Visitor{}, pass);
}

int output_plane_count(PixelPass const& pass) noexcept {
  struct Visitor {
    int operator()(pixel::FusedParams const& p) const { return p.output_count; }
    int operator()(pixel::ChangeParams const& p) const { return p.output_count(); }
    int operator()(TrendPass const& p) const { return p.trend.output_count; }
    int operator()(pixel::BandParams const&) const { return 1; }
  };
  return std::visit(Visitor{}, pass);
}

namespace {

class CpuWorker final : public BackendWorker {
 public:
  explicit CpuWorker(ZonalWork const* zonal) : m_zonal(zonal) {
    if (m_zonal) m_acc = m_zonal->make_accumulators();
  }
  void run(PixelPass const& pass, TileJob const& job) override {
    std::size_t const pixels = job.window.pixel_count();
    run_pass_cpu(pass, job.in, job.out, pixels);
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

CpuBackend::CpuBackend(int threads)
    : m_threads(threads > 0 ? threads : std::max(1, static_cast<int>(std::thread::hardware_concurrency()))) {}

std::unique_ptr<BackendWorker> CpuBackend::make_worker(std::size_t, std::size_t, ZonalWork const* zonal) {
  return std::make_unique<CpuWorker>(zonal);
}

HostBuffer CpuBackend::allocate_host(std::size_t float_count) {
  auto* p = static_cast<float*>(::operator new[](float_count * sizeof(float), kHostAlignment));
  return HostBuffer(p, float_count, [](void* q) noexcept { ::operator delete[](q, kHostAlignment); });
}

}  // namespace reclaim
