#include "kernels/zonal_kernel.cuh"

#include <cub/block/block_reduce.cuh>

#include <cstdint>

#include "host/cuda/cuda_raii.hpp"

namespace reclaim::kernels {
namespace {

constexpr int kBlock = 128;
static_assert(kZonalChunkPixels % kBlock == 0, "a chunk is a whole number of block-wide steps");

/// Histogram counters in shared memory: underflow, the bins, overflow (locate()'s cell + 1).
constexpr int kHistogramCounters = kZonalBins + 2;
/// Class counters in shared memory: the classes, then the invalid counter (locate()'s counter).
constexpr int kClassCounters = pixel::ClassAccumulator::kClasses + 1;

struct MergePartials {
  __device__ ZonalValuePartial operator()(ZonalValuePartial a, ZonalValuePartial const& b) const {
    a.merge(b);
    return a;
  }
};

/// The item holding pixel position p: the last i in [lo, hi) with offset[i] <= p. Needs
/// offset[lo] <= p < offset[hi]; empty items (equal offsets) are skipped over.
__device__ int item_at(std::int64_t const* __restrict__ offset, int lo, int hi, std::int64_t p) {
  while (hi - lo > 1) {
    int const mid = lo + (hi - lo) / 2;
    if (offset[mid] <= p) {
      lo = mid;
    } else {
      hi = mid;
    }
  }
  return lo;
}

// uint64 quanta into a 64-bit counter (std::uint64_t is unsigned long on LP64, the atomic
// wants unsigned long long: same size and representation).
__device__ void add_quanta(std::uint64_t* counter, unsigned long long q) {
  static_assert(sizeof(std::uint64_t) == sizeof(unsigned long long));
  atomicAdd(reinterpret_cast<unsigned long long*>(counter), q);
}

// One block per chunk (one zone); thread t takes the chunk's pixels t, t + kBlock, ... so
// neighbouring threads read neighbouring pixels of a span. Each thread keeps its own partial
// (the same accumulate_value_pixel as the CPU), BlockReduce merges the 128 partials in a fixed
// tree, and the histogram (the one part that is too big for a thread) is privatised per block
// in shared memory, where uint64 atomics are exact and order-free.
template <bool kWithHistogram>
__global__ void __launch_bounds__(kBlock)
    zonal_value_kernel(ZonalItemsView const work, float const* __restrict__ plane, std::size_t width,
                       double const* __restrict__ row_cell_m2, ZonalValuePartial* __restrict__ partials,
                       ZonalHistogram* __restrict__ histograms) {
  using BlockReduce = cub::BlockReduce<ZonalValuePartial, kBlock>;
  __shared__ typename BlockReduce::TempStorage reduce_storage;
  __shared__ unsigned long long counters[kWithHistogram ? kHistogramCounters : 1];

  ZonalChunk const chunk = work.chunks[blockIdx.x];
  [[maybe_unused]] double lo = 0.0, hi = 0.0;
  if constexpr (kWithHistogram) {
    lo = histograms[chunk.zone].m_lo;
    hi = histograms[chunk.zone].m_hi;
    for (int k = static_cast<int>(threadIdx.x); k < kHistogramCounters; k += kBlock) counters[k] = 0;
    __syncthreads();
  }

  ZonalValuePartial acc{};
  std::int64_t const end = chunk.pixel_begin + chunk.pixel_count;
  int item = chunk.item_begin;
  for (std::int64_t p = chunk.pixel_begin + threadIdx.x; p < end; p += kBlock) {
    item = item_at(work.item_offset, item, chunk.item_end, p);  // p only grows: search from the last item
    pixel::ZonalItem const it = work.items[item];
    auto const col = static_cast<std::size_t>(it.col_begin + static_cast<std::int32_t>(p - work.item_offset[item]));
    float const v = plane[static_cast<std::size_t>(it.row) * width + col];
    pixel::accumulate_value_pixel<kZonalBins>(v, it.fraction, row_cell_m2[it.row], acc.values, acc.area, nullptr);
    if constexpr (kWithHistogram) {
      // accumulate_value_pixel's histogram->update(v, fraction), added atomically (locate ignores
      // non-finite values and weights that are not > 0, as update does).
      int cell;
      std::uint64_t const q = ZonalHistogram::locate(v, it.fraction, lo, hi, cell);
      if (q != 0) atomicAdd(&counters[cell + 1], static_cast<unsigned long long>(q));
    }
  }

  ZonalValuePartial const total = BlockReduce(reduce_storage).Reduce(acc, MergePartials{});
  if (threadIdx.x == 0) partials[blockIdx.x] = total;

  if constexpr (kWithHistogram) {
    __syncthreads();
    ZonalHistogram& h = histograms[chunk.zone];
    for (int k = static_cast<int>(threadIdx.x); k < kHistogramCounters; k += kBlock) {
      unsigned long long const q = counters[k];
      if (q == 0) continue;
      add_quanta(k == 0 ? &h.m_under : k == kHistogramCounters - 1 ? &h.m_over : &h.m_bin[k - 1], q);
    }
  }
}

// One thread per zone that has chunks (the thread of its first chunk): the zone's chunk
// partials merged in chunk order after what earlier tiles left, so M2 is reproducible.
__global__ void zonal_merge_kernel(ZonalChunk const* __restrict__ chunks, int chunk_count,
                                   ZonalValuePartial const* __restrict__ partials, pixel::ValueAccumulator* values,
                                   pixel::ZoneArea* areas) {
  int const c = static_cast<int>(blockIdx.x) * static_cast<int>(blockDim.x) + static_cast<int>(threadIdx.x);
  if (c >= chunk_count) return;
  int const zone = chunks[c].zone;
  if (c > 0 && chunks[c - 1].zone == zone) return;
  ZonalValuePartial acc{values[zone], areas[zone]};
  for (int k = c; k < chunk_count && chunks[k].zone == zone; ++k) acc.merge(partials[k]);
  values[zone] = acc.values;
  areas[zone] = acc.area;
}

// Class weights are uint64 quanta throughout: shared-memory atomics per block, then global
// atomics; no partials to merge.
__global__ void __launch_bounds__(kBlock)
    zonal_class_kernel(ZonalItemsView const work, float const* __restrict__ plane, std::size_t width,
                       double const* __restrict__ row_cell_units, pixel::ClassAccumulator* __restrict__ classes) {
  __shared__ unsigned long long counters[kClassCounters];
  for (int k = static_cast<int>(threadIdx.x); k < kClassCounters; k += kBlock) counters[k] = 0;
  __syncthreads();

  ZonalChunk const chunk = work.chunks[blockIdx.x];
  std::int64_t const end = chunk.pixel_begin + chunk.pixel_count;
  int item = chunk.item_begin;
  for (std::int64_t p = chunk.pixel_begin + threadIdx.x; p < end; p += kBlock) {
    item = item_at(work.item_offset, item, chunk.item_end, p);
    pixel::ZonalItem const it = work.items[item];
    auto const col = static_cast<std::size_t>(it.col_begin + static_cast<std::int32_t>(p - work.item_offset[item]));
    float const v = plane[static_cast<std::size_t>(it.row) * width + col];
    // accumulate_class_pixel's classes.update(pixel_class(v), class_pixel_weight(...)), added atomically.
    int counter;
    std::uint64_t const q = pixel::ClassAccumulator::locate(
        pixel::pixel_class(v), pixel::class_pixel_weight(it.fraction, row_cell_units[it.row]), counter);
    if (q != 0) atomicAdd(&counters[counter], static_cast<unsigned long long>(q));
  }
  __syncthreads();

  pixel::ClassAccumulator& out = classes[chunk.zone];
  for (int k = static_cast<int>(threadIdx.x); k < kClassCounters; k += kBlock) {
    unsigned long long const q = counters[k];
    if (q == 0) continue;
    add_quanta(k == pixel::ClassAccumulator::kClasses ? &out.m_invalid : &out.m_w[k], q);
  }
}

// Block per histogram: the bins zeroed by all threads, the header by thread 0.
__global__ void zonal_histograms_init_kernel(ZonalHistogram* histograms, double lo, double hi) {
  ZonalHistogram& h = histograms[blockIdx.x];
  for (int k = static_cast<int>(threadIdx.x); k < kZonalBins; k += static_cast<int>(blockDim.x)) h.m_bin[k] = 0;
  if (threadIdx.x == 0) {
    h.m_lo = lo;
    h.m_hi = hi;
    h.m_under = 0;
    h.m_over = 0;
  }
}

}  // namespace

void zonal_value_async(ZonalItemsView work, float const* d_plane, std::size_t width, double const* d_row_cell_m2,
                       ZonalValuePartial* d_partials, pixel::ValueAccumulator* d_values, pixel::ZoneArea* d_areas,
                       ZonalHistogram* d_histograms, cudaStream_t stream) {
  if (work.chunk_count <= 0) return;
  auto const blocks = static_cast<unsigned>(work.chunk_count);
  if (d_histograms) {
    zonal_value_kernel<true>
        <<<blocks, kBlock, 0, stream>>>(work, d_plane, width, d_row_cell_m2, d_partials, d_histograms);
    RECLAIM_CHECK_KERNEL(stream, "zonal_value_kernel<histograms>");
  } else {
    zonal_value_kernel<false><<<blocks, kBlock, 0, stream>>>(work, d_plane, width, d_row_cell_m2, d_partials, nullptr);
    RECLAIM_CHECK_KERNEL(stream, "zonal_value_kernel");
  }
  constexpr unsigned kMergeBlock = 128;
  zonal_merge_kernel<<<(blocks + kMergeBlock - 1) / kMergeBlock, kMergeBlock, 0, stream>>>(
      work.chunks, work.chunk_count, d_partials, d_values, d_areas);
  RECLAIM_CHECK_KERNEL(stream, "zonal_merge_kernel");
}

void zonal_class_async(ZonalItemsView work, float const* d_plane, std::size_t width, double const* d_row_cell_units,
                       pixel::ClassAccumulator* d_classes, cudaStream_t stream) {
  if (work.chunk_count <= 0) return;
  zonal_class_kernel<<<static_cast<unsigned>(work.chunk_count), kBlock, 0, stream>>>(work, d_plane, width,
                                                                                      d_row_cell_units, d_classes);
  RECLAIM_CHECK_KERNEL(stream, "zonal_class_kernel");
}

void zonal_histograms_init_async(ZonalHistogram* d_histograms, int count, double lo, double hi,
                                 cudaStream_t stream) {
  if (count <= 0) return;
  zonal_histograms_init_kernel<<<static_cast<unsigned>(count), 256, 0, stream>>>(d_histograms, lo, hi);
  RECLAIM_CHECK_KERNEL(stream, "zonal_histograms_init_kernel");
}

}  // namespace reclaim::kernels
