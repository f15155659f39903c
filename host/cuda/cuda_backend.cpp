#include "reclaim/cuda_backend.hpp"

#include <string>

#include "host/cuda/cuda_raii.hpp"
#include "kernels/fused_kernel.cuh"
#include "kernels/trend_kernel.cuh"

namespace reclaim {

int cuda_device_count() noexcept {
  int count = 0;
  if (cudaGetDeviceCount(&count) != cudaSuccess) {
    cudaGetLastError();  // clear the sticky "no driver" error
    return 0;
  }
  return count;
}

namespace {

class CudaWorker final : public BackendWorker {
 public:
  CudaWorker(int device, std::size_t max_in, std::size_t max_out, ZonalWork const* zonal)
      : m_device(device), m_in(max_in, m_stream.get()), m_out(max_out, m_stream.get()), m_zonal(zonal) {
    if (m_zonal) m_acc = m_zonal->make_accumulators();
  }

  void run(PixelPass const& pass, TileJob const& job) override {
    float const* in = job.in;
    float* out = job.out;
    std::size_t const pixels = job.window.pixel_count();
    // Called from the scheduler's compute thread: the current device is per thread.
    cuda::set_device(m_device);
    std::size_t const in_bytes = pixels * static_cast<std::size_t>(input_plane_count(pass)) * sizeof(float);
    std::size_t const out_bytes = pixels * static_cast<std::size_t>(output_plane_count(pass)) * sizeof(float);
    RECLAIM_CUDA_TRY(cudaMemcpyAsync(m_in.data(), in, in_bytes, cudaMemcpyHostToDevice, m_stream.get()));
    if (auto const* fused = std::get_if<pixel::FusedParams>(&pass)) {
      kernels::fused_indices_async(*fused, m_in.data(), m_out.data(), pixels, m_stream.get());
    } else if (auto const* change = std::get_if<pixel::ChangeParams>(&pass)) {
      kernels::change_async(*change, m_in.data(), m_out.data(), pixels, m_stream.get());
    } else if (auto const* band = std::get_if<pixel::BandParams>(&pass)) {
      kernels::band_async(*band, m_in.data(), m_out.data(), pixels, m_stream.get());
    } else {
      // Index planes of every epoch stay on the device, then the trend kernel reads them.
      auto const& trend = std::get<TrendPass>(pass);
      std::size_t const need = static_cast<std::size_t>(trend.trend.epoch_count) * pixels;
      if (m_scratch.size() < need) m_scratch = cuda::DeviceBuffer<float>(need, m_stream.get());
      for (int e = 0; e < trend.trend.epoch_count; ++e)
        kernels::fused_indices_async(epoch_params(trend, e), m_in.data(),
                                     m_scratch.data() + static_cast<std::size_t>(e) * pixels, pixels, m_stream.get());
      kernels::trend_async(trend.trend, m_scratch.data(), m_out.data(), pixels, m_stream.get());
    }
    RECLAIM_CHECK_KERNEL(m_stream.get());
    RECLAIM_CUDA_TRY(cudaMemcpyAsync(out, m_out.data(), out_bytes, cudaMemcpyDeviceToHost, m_stream.get()));
    m_stream.synchronize();
    // TODO(device zonal): accumulate on the device before the copy back (host/cuda/cuda_zonal.hpp).
    if (m_zonal)
      accumulate_tile_cpu(*m_zonal, job.tile, out, output_plane_count(pass), static_cast<std::size_t>(job.window.width),
                          pixels, m_acc, m_scratch_host);
  }
  [[nodiscard]] std::vector<ProductAccumulators> zonal_results() override { return std::move(m_acc); }

 private:
  int m_device;
  cuda::Stream m_stream;
  cuda::DeviceBuffer<float> m_in;
  cuda::DeviceBuffer<float> m_out;
  cuda::DeviceBuffer<float> m_scratch;  ///< per-epoch index planes of the trend pass
  ZonalWork const* m_zonal;
  std::vector<ProductAccumulators> m_acc;
  std::vector<float> m_scratch_host;
};

class CudaBackend final : public Backend {
 public:
  CudaBackend(int device, int streams) : m_device(device), m_streams(streams < 1 ? 1 : streams) {
    int const count = cuda_device_count();
    if (device < 0 || device >= count)
      throw cuda_error("CUDA device " + std::to_string(device) + " requested but " + std::to_string(count) +
                       " device(s) are present");
    cuda::set_device(device);
    cudaDeviceProp prop{};
    RECLAIM_CUDA_TRY(cudaGetDeviceProperties(&prop, device));
    m_name = "cuda:" + std::to_string(device) + " (" + prop.name + ")";
  }
  [[nodiscard]] std::string name() const override { return m_name; }
  [[nodiscard]] int worker_count() const override { return m_streams; }
  [[nodiscard]] std::unique_ptr<BackendWorker> make_worker(std::size_t max_in, std::size_t max_out,
                                                           ZonalWork const* zonal) override {
    cuda::set_device(m_device);
    return std::make_unique<CudaWorker>(m_device, max_in, max_out, zonal);
  }
  [[nodiscard]] HostBuffer allocate_host(std::size_t float_count) override {
    cuda::set_device(m_device);
    void* p = nullptr;
    RECLAIM_CUDA_TRY(cudaMallocHost(&p, float_count * sizeof(float)));
    return HostBuffer(static_cast<float*>(p), float_count, [](void* q) noexcept { cudaFreeHost(q); });
  }

 private:
  int m_device;
  int m_streams;
  std::string m_name;
};

}  // namespace

std::unique_ptr<Backend> make_cuda_backend(int device, int streams) {
  return std::make_unique<CudaBackend>(device, streams);
}

}  // namespace reclaim
