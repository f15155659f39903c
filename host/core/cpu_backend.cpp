#include <algorithm>
#include <new>
#include <thread>
#include <type_traits>

#include "reclaim/backend.hpp"

namespace reclaim {

void run_fused_cpu(pixel::FusedParams const& params, float const* in, float* out, std::size_t pixels) noexcept {
  for (std::size_t i = 0; i < pixels; ++i) pixel::compute_pixel(params, in, out, pixels, i);
}

void run_change_cpu(pixel::ChangeParams const& params, float const* in, float* out, std::size_t pixels) noexcept {
  for (std::size_t i = 0; i < pixels; ++i) pixel::compute_change_pixel(params, in, out, pixels, i);
}

void run_pass_cpu(PixelPass const& pass, float const* in, float* out, std::size_t pixels) noexcept {
  std::visit(
      [&](auto const& p) {
        if constexpr (std::is_same_v<std::decay_t<decltype(p)>, pixel::FusedParams>)
          run_fused_cpu(p, in, out, pixels);
        else
          run_change_cpu(p, in, out, pixels);
      },
      pass);
}

int input_plane_count(PixelPass const& pass) noexcept {
  return std::visit(
      [](auto const& p) -> int {
        if constexpr (std::is_same_v<std::decay_t<decltype(p)>, pixel::FusedParams>)
          return p.input_plane_count;
        else
          return p.input_plane_count();
      },
      pass);
}

int output_plane_count(PixelPass const& pass) noexcept {
  return std::visit(
      [](auto const& p) -> int {
        if constexpr (std::is_same_v<std::decay_t<decltype(p)>, pixel::FusedParams>)
          return p.output_count;
        else
          return p.output_count();
      },
      pass);
}

namespace {

class CpuWorker final : public BackendWorker {
 public:
  void run(PixelPass const& pass, float const* in, float* out, std::size_t pixels) override {
    run_pass_cpu(pass, in, out, pixels);
  }
};

constexpr std::align_val_t kHostAlignment{64};

}  // namespace

CpuBackend::CpuBackend(int threads)
    : m_threads(threads > 0 ? threads : std::max(1, static_cast<int>(std::thread::hardware_concurrency()))) {}

std::unique_ptr<BackendWorker> CpuBackend::make_worker(std::size_t, std::size_t) {
  return std::make_unique<CpuWorker>();
}

HostBuffer CpuBackend::allocate_host(std::size_t float_count) {
  auto* p = static_cast<float*>(::operator new[](float_count * sizeof(float), kHostAlignment));
  return HostBuffer(p, float_count, [](void* q) noexcept { ::operator delete[](q, kHostAlignment); });
}

}  // namespace reclaim
