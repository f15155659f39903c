#include <algorithm>
#include <new>
#include <thread>

#include "reclaim/backend.hpp"

namespace reclaim {

void run_fused_cpu(pixel::FusedParams const& params, float const* in, float* out, std::size_t pixels) noexcept {
  for (std::size_t i = 0; i < pixels; ++i) pixel::compute_pixel(params, in, out, pixels, i);
}

namespace {

class CpuWorker final : public BackendWorker {
 public:
  void run(pixel::FusedParams const& params, float const* in, float* out, std::size_t pixels) override {
    run_fused_cpu(params, in, out, pixels);
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
