#pragma once
/** @file
 * @brief The compute backend interface: CpuBackend here, CudaBackend in reclaim_cuda.
 *
 * The scheduler owns the tiles; a backend supplies host buffers (pinned for CUDA) and
 * workers. Each compute thread of the scheduler owns one BackendWorker; a CUDA worker
 * owns a stream and device buffers, so two workers double-buffer copies and kernels.
 */
#include <cstddef>
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "reclaim/pixel/band_pass.hpp"
#include "reclaim/pixel/change_pass.hpp"
#include "reclaim/pixel/fused.hpp"
#include "reclaim/pixel/trend.hpp"
#include "reclaim/zonal_work.hpp"

namespace reclaim {

/** @brief The many-epoch trend pass: one index per epoch (the fused pass, epoch e's planes
 * `e * planes_per_epoch` further on), then the trend statistics over those index planes.
 * The index planes stay in (device) scratch memory. */
struct TrendPass {
  pixel::FusedParams epoch;  ///< epoch 0's layout and calibration; exactly one output (the index)
  std::int32_t planes_per_epoch = 0;
  pixel::TrendParams trend;
};

/// The fused pass of epoch e: epoch 0's parameters with every plane shifted to epoch e.
[[nodiscard]] pixel::FusedParams epoch_params(TrendPass const& pass, int e) noexcept;

/** @brief What a pass computes per pixel: indices of one epoch, the two-epoch change pass,
 * trends, or one band's values as they are (zonal statistics of an existing raster).
 *
 * Backends dispatch on it with visit_exhaustive (reclaim/visit.hpp), so an alternative added
 * here fails to compile in every backend that does not handle it. */
using PixelPass = std::variant<pixel::FusedParams, pixel::ChangeParams, TrendPass, pixel::BandParams>;

[[nodiscard]] int input_plane_count(PixelPass const& pass) noexcept;
[[nodiscard]] int output_plane_count(PixelPass const& pass) noexcept;

/** @brief Throws reclaim::logic_error unless every plane the pass reads lies inside its
 * input_plane_count planes and every plane it writes inside its output_plane_count planes
 * (output counts within bounds, trend epochs in 0..kMaxEpochs with exactly one index output
 * per epoch). The CUDA worker checks this before it queues anything on the device. */
void validate_pass(PixelPass const& pass);

/// Host memory owned with the allocator that made it (aligned new, or cudaMallocHost).
class HostBuffer {
 public:
  using Deleter = void (*)(void*) noexcept;
  HostBuffer() = default;
  HostBuffer(float* data, std::size_t count, Deleter deleter) : m_data(data, deleter), m_count(count) {}
  [[nodiscard]] float* data() const noexcept { return m_data.get(); }
  [[nodiscard]] std::size_t size() const noexcept { return m_count; }

 private:
  std::unique_ptr<float, Deleter> m_data{nullptr, [](void*) noexcept {}};
  std::size_t m_count = 0;
};

/// One tile handed to a worker: its host buffers and where it lies in the plan.
struct TileJob {
  float const* in = nullptr;  ///< input_plane_count(pass) planes of window.pixel_count() floats
  float* out = nullptr;       ///< output_plane_count(pass) planes of window.pixel_count() floats
  TileWindow window;
  std::size_t tile = 0;  ///< position in TilePlan::tiles (the ZonalWork's tile index)
  /// The pixels whose outputs are read (TilePlan::pixels_read); null: every pixel. A worker
  /// may compute more; the CPU worker computes these alone and gives the others the pass's
  /// no-data outputs.
  std::vector<PixelRun> const* pixels_read = nullptr;
};

class BackendWorker {
 public:
  virtual ~BackendWorker() = default;
  /** @brief Runs the pass over one tile; returns when `job.out` holds the result. A worker made
   * with zonal work also accumulates the tile's zone items from the output planes where it
   * computed them (on the device for CUDA, before the copy back). */
  virtual void run(PixelPass const& pass, TileJob const& job) = 0;
  /// This worker's zonal accumulators (one per product; empty without zonal work), once, after
  /// its last tile.
  [[nodiscard]] virtual std::vector<ProductAccumulators> zonal_results() { return {}; }
};

class Backend {
 public:
  virtual ~Backend() = default;
  /// "cpu" or "cuda:N", for logs and manifests.
  [[nodiscard]] virtual std::string name() const = 0;
  /// Compute threads the scheduler should run, each with its own worker.
  [[nodiscard]] virtual int worker_count() const = 0;
  /** @brief A worker for tiles of at most max_in / max_out floats (device buffers are sized
   * once). `zonal`: the pass's zonal work (outlives the worker), or null. */
  [[nodiscard]] virtual std::unique_ptr<BackendWorker> make_worker(std::size_t max_in_floats,
                                                                    std::size_t max_out_floats,
                                                                    ZonalWork const* zonal = nullptr) = 0;
  [[nodiscard]] virtual HostBuffer allocate_host(std::size_t float_count) = 0;
};

/// The reference backend: each worker runs compute_pixel over a tile on one thread.
class CpuBackend final : public Backend {
 public:
  /// threads <= 0: one per hardware thread.
  explicit CpuBackend(int threads = 0);
  [[nodiscard]] std::string name() const override { return "cpu"; }
  [[nodiscard]] int worker_count() const override { return m_threads; }
  [[nodiscard]] std::unique_ptr<BackendWorker> make_worker(std::size_t, std::size_t,
                                                           ZonalWork const* zonal = nullptr) override;
  [[nodiscard]] HostBuffer allocate_host(std::size_t float_count) override;

 private:
  int m_threads;
};

/** @name The CPU drivers of the passes over one tile (also used by tests and benchmarks).
 * `runs` (sorted, disjoint, inside the tile; null: every pixel): the pixels to compute. The
 * fused and change drivers give every other pixel the outputs of a pixel whose inputs are all
 * NaN (no data: NaN, class 0); the trend and band drivers compute every pixel regardless. */
///@{
void run_fused_cpu(pixel::FusedParams const& params, float const* in, float* out, std::size_t pixels,
                   std::vector<PixelRun> const* runs = nullptr) noexcept;
void run_change_cpu(pixel::ChangeParams const& params, float const* in, float* out, std::size_t pixels,
                    std::vector<PixelRun> const* runs = nullptr) noexcept;
/// `scratch`: epoch_count * pixels floats for the per-epoch index planes.
void run_trend_pass_cpu(TrendPass const& pass, float const* in, float* out, float* scratch, std::size_t pixels) noexcept;
void run_pass_cpu(PixelPass const& pass, float const* in, float* out, std::size_t pixels,
                  std::vector<PixelRun> const* runs = nullptr) noexcept;
///@}

}  // namespace reclaim
