#include "reclaim/cuda_backend.hpp"

#include <limits>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

#include "host/cuda/cuda_raii.hpp"
#include "host/cuda/cuda_zonal.hpp"
#include "kernels/fused_kernel.cuh"
#include "kernels/trend_kernel.cuh"
#include "kernels/zonal_kernel.cuh"
#include "reclaim/visit.hpp"

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

static_assert(std::is_same_v<ZonalHistogram, kernels::ZonalHistogram>,
              "the products' histograms and the device kernels' must be one type");

/// One zonal product's per-zone accumulators on the device: values, areas and histograms of a
/// value product, class weights of a class product (a class product's covered area reads no
/// pixel, so it is added on the host from the items).
struct DeviceProduct {
  cuda::DeviceBuffer<pixel::ValueAccumulator> values;
  cuda::DeviceBuffer<pixel::ZoneArea> areas;
  cuda::DeviceBuffer<ZonalHistogram> histograms;
  cuda::DeviceBuffer<pixel::ClassAccumulator> classes;
};

template <class T>
void to_device_async(cuda::DeviceBuffer<T>& d, std::vector<T> const& h, cudaStream_t stream) {
  if (h.empty()) return;
  d = cuda::DeviceBuffer<T>(h.size(), stream);
  RECLAIM_CUDA_TRY(cudaMemcpyAsync(d.data(), h.data(), h.size() * sizeof(T), cudaMemcpyHostToDevice, stream));
}

template <class T>
void to_host_async(std::vector<T>& h, cuda::DeviceBuffer<T> const& d, cudaStream_t stream) {
  if (h.empty()) return;
  RECLAIM_EXPECTS(d.size() == h.size(), "CUDA worker: device accumulators of another zone count");
  RECLAIM_CUDA_TRY(cudaMemcpyAsync(h.data(), d.data(), h.size() * sizeof(T), cudaMemcpyDeviceToHost, stream));
}

std::string count_text(std::size_t pixels, int planes, std::size_t capacity) {
  return std::to_string(pixels) + " pixels x " + std::to_string(planes) + " planes, buffer of " +
         std::to_string(capacity) + " floats";
}

/**
 * A worker: one stream, device buffers sized once, and (with zonal work) per-zone accumulators
 * on the device. run() checks everything it can on the host before it queues anything (the
 * pass layout, buffer capacities, the zonal items); if anything fails once work is queued, it
 * waits for the stream before rethrowing, so no copy or kernel still uses the scheduler's
 * pinned buffers when they are reused or freed.
 */
class CudaWorker final : public BackendWorker {
 public:
  CudaWorker(int device, std::size_t max_in, std::size_t max_out, ZonalWork const* zonal)
      : m_device(device), m_in(max_in, m_stream.get()), m_out(max_out, m_stream.get()), m_zonal(zonal) {
    if (!m_zonal) return;
    RECLAIM_EXPECTS(m_zonal->zone_count <= static_cast<std::size_t>(std::numeric_limits<int>::max()),
                    "CUDA worker: more than 2^31 - 1 zones");
    // The device accumulators start from the host's empty ones: the CPU worker's initial state.
    m_acc = m_zonal->make_accumulators();
    m_products.resize(m_acc.size());
    cudaStream_t const s = m_stream.get();
    try {
      for (std::size_t p = 0; p < m_acc.size(); ++p) {
        if (m_zonal->products[p].categorical) {
          to_device_async(m_products[p].classes, m_acc[p].classes, s);
        } else {
          to_device_async(m_products[p].values, m_acc[p].values, s);
          to_device_async(m_products[p].areas, m_acc[p].areas, s);
          to_device_async(m_products[p].histograms, m_acc[p].histograms, s);
        }
      }
      m_stream.synchronize();
    } catch (...) {
      m_stream.synchronize_quietly();
      throw;
    }
  }

  void run(PixelPass const& pass, TileJob const& job) override {
    // Called from the scheduler's compute thread: the current device is per thread.
    cuda::set_device(m_device);
    std::size_t const pixels = job.window.pixel_count();
    bool const zonal = validate(pass, job, pixels);  // nothing is queued before this returns
    try {
      queue_tile(pass, job, pixels, zonal);
      m_stream.synchronize();
    } catch (...) {
      m_stream.synchronize_quietly();
      throw;
    }
    if (zonal) add_covered_areas(m_zonal->tiles[job.tile]);
  }

  [[nodiscard]] std::vector<ProductAccumulators> zonal_results() override {
    if (!m_zonal) return {};
    cuda::set_device(m_device);
    cudaStream_t const s = m_stream.get();
    try {
      for (std::size_t p = 0; p < m_acc.size(); ++p) {  // what the constructor put on the device
        if (m_zonal->products[p].categorical) {
          to_host_async(m_acc[p].classes, m_products[p].classes, s);
        } else {
          to_host_async(m_acc[p].values, m_products[p].values, s);
          to_host_async(m_acc[p].areas, m_products[p].areas, s);
          to_host_async(m_acc[p].histograms, m_products[p].histograms, s);
        }
      }
      m_stream.synchronize();
    } catch (...) {
      m_stream.synchronize_quietly();
      throw;
    }
    return std::move(m_acc);
  }

 private:
  /// Every check of a tile, on the host; plans the tile's zonal items into m_plan. True when
  /// the tile has zonal items to accumulate on the device.
  bool validate(PixelPass const& pass, TileJob const& job, std::size_t pixels) {
    validate_pass(pass);
    int const in_planes = input_plane_count(pass), out_planes = output_plane_count(pass);
    if (pixels * static_cast<std::size_t>(in_planes) > m_in.size())
      throw logic_error("CUDA worker: input tile larger than the device buffer (" +
                        count_text(pixels, in_planes, m_in.size()) + ")");
    if (pixels * static_cast<std::size_t>(out_planes) > m_out.size())
      throw logic_error("CUDA worker: output tile larger than the device buffer (" +
                        count_text(pixels, out_planes, m_out.size()) + ")");
    RECLAIM_EXPECTS(pixels == 0 || (job.in != nullptr && job.out != nullptr), "CUDA worker: tile without buffers");
    if (!m_zonal) return false;
    RECLAIM_EXPECTS(job.tile < m_zonal->tiles.size(), "CUDA worker: zonal work has no tile " + std::to_string(job.tile));
    auto const& t = m_zonal->tiles[job.tile];
    if (t.items.empty()) return false;
    auto const rows = static_cast<std::size_t>(job.window.height);
    RECLAIM_EXPECTS(t.row_m2.size() >= rows && t.row_units.size() >= rows,
                    "CUDA worker: zonal tile without a cell area per row");
    for (auto const& product : m_zonal->products)
      RECLAIM_EXPECTS(product.plane >= 0 && product.plane < out_planes, "zonal product plane out of range");
    m_plan = cuda::plan_zonal_items(t.items, static_cast<int>(m_zonal->zone_count),
                                    static_cast<std::size_t>(job.window.width), rows);
    return !m_plan.chunks.empty();
  }

  /// Copy in, the pass, the zonal kernels on the output planes, copy out: all on the stream.
  void queue_tile(PixelPass const& pass, TileJob const& job, std::size_t pixels, bool zonal) {
    cudaStream_t const s = m_stream.get();
    std::size_t const in_floats = pixels * static_cast<std::size_t>(input_plane_count(pass));
    std::size_t const out_floats = pixels * static_cast<std::size_t>(output_plane_count(pass));
    if (in_floats)
      RECLAIM_CUDA_TRY(cudaMemcpyAsync(m_in.data(), job.in, in_floats * sizeof(float), cudaMemcpyHostToDevice, s));
    float const* d_in = m_in.data();
    float* d_out = m_out.data();
    visit_exhaustive(
        overloaded{
            [&](pixel::FusedParams const& p) { kernels::fused_indices_async(p, d_in, d_out, pixels, s); },
            [&](pixel::ChangeParams const& p) { kernels::change_async(p, d_in, d_out, pixels, s); },
            [&](pixel::BandParams const& p) { kernels::band_async(p, d_in, d_out, pixels, s); },
            [&](TrendPass const& t) {
              // Index planes of every epoch stay on the device, then the trend kernel reads them
              // (validate_pass: epoch_count within kMaxEpochs, one index plane per epoch).
              std::size_t const need = static_cast<std::size_t>(t.trend.epoch_count) * pixels;
              if (m_scratch.size() < need) m_scratch = cuda::DeviceBuffer<float>(need, s);
              for (int e = 0; e < t.trend.epoch_count; ++e)
                kernels::fused_indices_async(epoch_params(t, e), d_in,
                                             m_scratch.data() + static_cast<std::size_t>(e) * pixels, pixels, s);
              kernels::trend_async(t.trend, m_scratch.data(), d_out, pixels, s);
            },
        },
        pass);
    if (zonal) accumulate_zonal_async(job, pixels);
    if (out_floats)
      RECLAIM_CUDA_TRY(cudaMemcpyAsync(job.out, d_out, out_floats * sizeof(float), cudaMemcpyDeviceToHost, s));
  }

  /// The tile's zonal items (planned in m_plan) over the output planes still on the device,
  /// into this worker's device accumulators: the kernels CudaZonalAccumulator runs
  /// (tests/kernels/zonal_parity_test.cu checks them against the CPU reference).
  void accumulate_zonal_async(TileJob const& job, std::size_t pixels) {
    cudaStream_t const s = m_stream.get();
    auto const& t = m_zonal->tiles[job.tile];
    auto const rows = static_cast<std::size_t>(job.window.height);
    auto const width = static_cast<std::size_t>(job.window.width);
    m_items.upload_async(t.items, m_plan, s);
    cuda::upload_async(m_row_m2, std::span<double const>(t.row_m2).first(rows), s);
    cuda::upload_async(m_row_units, std::span<double const>(t.row_units).first(rows), s);
    if (m_partials.size() < m_plan.chunks.size())
      m_partials = cuda::DeviceBuffer<kernels::ZonalValuePartial>(m_plan.chunks.size(), s);
    for (std::size_t p = 0; p < m_zonal->products.size(); ++p) {
      auto const& product = m_zonal->products[p];
      auto& d = m_products[p];
      float const* plane = m_out.data() + static_cast<std::size_t>(product.plane) * pixels;
      if (product.categorical) {
        if (product.threshold) {  // the same float threshold as accumulate_tile_cpu
          if (m_class_plane.size() < pixels) m_class_plane = cuda::DeviceBuffer<float>(pixels, s);
          kernels::threshold_classes_async(plane, m_class_plane.data(), static_cast<float>(*product.threshold), pixels,
                                           s);
          plane = m_class_plane.data();
        }
        kernels::zonal_class_async(m_items.view(), plane, width, m_row_units.data(), d.classes.data(), s);
      } else {
        kernels::zonal_value_async(m_items.view(), plane, width, m_row_m2.data(), m_partials.data(), d.values.data(),
                                   d.areas.data(), d.histograms.size() ? d.histograms.data() : nullptr, s);
      }
    }
  }

  /// A class product's zone area: every covered pixel whatever its class (accumulate_tile_cpu's
  /// accumulate_covered_area), from the items alone.
  void add_covered_areas(TileZonalItems const& t) {
    for (std::size_t p = 0; p < m_zonal->products.size(); ++p)
      if (m_zonal->products[p].categorical)
        pixel::accumulate_covered_area(t.items, t.row_m2.data(), m_acc[p].areas.data());
  }

  int m_device;
  cuda::Stream m_stream;  // declared before the buffers: they free on it
  cuda::DeviceBuffer<float> m_in;
  cuda::DeviceBuffer<float> m_out;
  cuda::DeviceBuffer<float> m_scratch;  ///< per-epoch index planes of the trend pass
  ZonalWork const* m_zonal;
  std::vector<ProductAccumulators> m_acc;  ///< host side: class products' areas, results
  std::vector<DeviceProduct> m_products;   ///< device side, one per product
  cuda::ZonalPlan m_plan;                  ///< the current tile's items, planned
  cuda::DeviceZonalItems m_items;
  cuda::DeviceBuffer<double> m_row_m2;
  cuda::DeviceBuffer<double> m_row_units;
  cuda::DeviceBuffer<kernels::ZonalValuePartial> m_partials;
  cuda::DeviceBuffer<float> m_class_plane;  ///< threshold classes of a value plane
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
