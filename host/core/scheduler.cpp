#include "reclaim/scheduler.hpp"

#include <atomic>
#include <chrono>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

#include "bounded_queue.hpp"
#include "reclaim/error.hpp"
#include "reclaim/pixels_read.hpp"

namespace reclaim {
namespace {

struct Slot {
  HostBuffer in;
  HostBuffer out;
};

struct Job {
  TileWindow window;
  std::size_t tile = 0;  ///< position in the plan
  int slot = -1;
};

/// First exception wins; every queue is closed so all threads drain and exit.
class FailureLatch {
 public:
  template <class Fn>
  void guard(Fn&& fn, std::vector<detail::BlockingQueue<Job>*> const& queues, detail::BlockingQueue<int>& free) {
    try {
      fn();
    } catch (...) {
      {
        std::lock_guard lock(m_mutex);
        if (!m_error) m_error = std::current_exception();
      }
      m_failed.store(true);
      for (auto* q : queues) q->close();
      free.close();
    }
  }
  [[nodiscard]] bool failed() const noexcept { return m_failed.load(); }
  void rethrow() const {
    if (m_error) std::rethrow_exception(m_error);
  }

 private:
  std::mutex m_mutex;
  std::exception_ptr m_error;
  std::atomic<bool> m_failed{false};
};

}  // namespace

RunStats run_pipeline(TileSource const& source, TileSink& sink, Backend& backend, PixelPass const& pass,
                      TilePlan const& plan, SchedulerOptions const& options) {
  int const in_planes = input_plane_count(pass);
  int const out_planes = output_plane_count(pass);
  RECLAIM_EXPECTS(source.plane_count() == in_planes, "source planes != pass input planes");
  RECLAIM_EXPECTS(plan.slot_count >= 1, "plan has no buffer slots");
  validate_pixels_read(plan);
  auto const start = std::chrono::steady_clock::now();
  std::size_t const tile_pixels = plan.max_tile_pixels();
  std::size_t const in_floats = tile_pixels * static_cast<std::size_t>(in_planes);
  std::size_t const out_floats = tile_pixels * static_cast<std::size_t>(out_planes);

  std::vector<Slot> slots(static_cast<std::size_t>(plan.slot_count));
  detail::BlockingQueue<int> free_slots;
  for (std::size_t s = 0; s < slots.size(); ++s) {
    slots[s].in = backend.allocate_host(in_floats);
    slots[s].out = backend.allocate_host(out_floats);
    free_slots.push(static_cast<int>(s));
  }

  detail::BlockingQueue<Job> to_compute;
  detail::BlockingQueue<Job> to_write;
  std::vector<detail::BlockingQueue<Job>*> const queues{&to_compute, &to_write};
  FailureLatch latch;
  std::atomic<std::size_t> next_tile{0};
  std::atomic<int> readers_left{std::max(1, options.reader_threads)};
  int const worker_count = std::max(1, backend.worker_count());
  std::atomic<int> workers_left{worker_count};

  auto reader_loop = [&] {
    latch.guard(
        [&] {
          auto reader = source.open_reader();
          for (;;) {
            std::size_t const t = next_tile.fetch_add(1);
            if (t >= plan.tiles.size() || latch.failed()) break;
            auto const slot = free_slots.pop();
            if (!slot) break;
            reader->read(plan.tiles[t], slots[static_cast<std::size_t>(*slot)].in.data());
            to_compute.push(Job{plan.tiles[t], t, *slot});
          }
        },
        queues, free_slots);
    if (readers_left.fetch_sub(1) == 1) to_compute.close();
  };

  // Workers are created up front, on this thread: device buffers are sized once per run.
  std::vector<std::unique_ptr<BackendWorker>> workers;
  if (options.zonal)
    RECLAIM_EXPECTS(options.zonal->tiles.size() == plan.tiles.size(), "zonal work made for another plan");
  for (int w = 0; w < worker_count; ++w)
    workers.push_back(backend.make_worker(in_floats, out_floats, options.zonal));

  auto compute_loop = [&](BackendWorker& worker) {
    latch.guard(
        [&] {
          while (auto job = to_compute.pop()) {
            auto& slot = slots[static_cast<std::size_t>(job->slot)];
            auto const* read = plan.pixels_read.empty() ? nullptr : &plan.pixels_read[job->tile];
            worker.run(pass, TileJob{slot.in.data(), slot.out.data(), job->window, job->tile, read});
            for (auto* observer : options.observers)
              observer->observe(job->window, slot.out.data(), out_planes, slot.in.data(), in_planes);
            to_write.push(*job);
          }
        },
        queues, free_slots);
    if (workers_left.fetch_sub(1) == 1) to_write.close();
  };

  RunStats stats;
  stats.slots = plan.slot_count;
  stats.host_buffer_bytes = slots.size() * (in_floats + out_floats) * sizeof(float);
  auto writer_loop = [&] {
    latch.guard(
        [&] {
          Progress progress;
          progress.tiles_total = static_cast<std::int64_t>(plan.tiles.size());
          while (auto job = to_write.pop()) {
            sink.write(job->window, slots[static_cast<std::size_t>(job->slot)].out.data(), out_planes);
            free_slots.push(job->slot);
            ++progress.tiles_done;
            progress.pixels_done += static_cast<std::int64_t>(job->window.pixel_count());
            if (options.on_progress) {
              progress.elapsed_seconds =
                  std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
              options.on_progress(progress);
            }
          }
          stats.tiles = progress.tiles_done;
          stats.pixels = progress.pixels_done;
        },
        queues, free_slots);
  };

  {
    std::vector<std::jthread> threads;
    for (int r = 0; r < std::max(1, options.reader_threads); ++r) threads.emplace_back(reader_loop);
    for (auto& worker : workers) threads.emplace_back(compute_loop, std::ref(*worker));
    threads.emplace_back(writer_loop);
  }
  latch.rethrow();
  if (options.zonal)
    for (auto& worker : workers) merge_zonal_results(stats.zonal, worker->zonal_results());
  RECLAIM_EXPECTS(stats.tiles == static_cast<std::int64_t>(plan.tiles.size()), "pipeline ended with tiles missing");
  stats.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return stats;
}

}  // namespace reclaim
