#pragma once
/** @file
 * @brief Per-pixel compositing of a season of scenes (issue 11): over the clear observations
 * of a pixel, a rule makes one reflectance per band, plus the clear count and NDVI
 * percentiles. Written once, run by both backends (for_each_pixel on the CPU,
 * kernels/composite_kernel.cu on the GPU, through the CompositePixel functor).
 *
 * The rules (docs/composites.md, "Per-pixel rules", states them with their sources):
 *  - median: per band, the median of the clear values; an even count gives the mean of the two
 *    middle values in double, rounded once to float (np.nanmedian in float64, cast to float32);
 *  - max_ndvi: every band of the clear observation with the highest NDVI (White et al. 2014,
 *    best-available-pixel compositing), the earliest on ties; NaN NDVI ranks below any number;
 *  - medoid: every band of the clear observation nearest (squared Euclidean distance over the
 *    composited bands, double) to the per-band median vector (Flood 2013), the earliest on ties;
 *  - clear_count, and NDVI percentiles of the clear observations (numpy's "linear" method).
 *
 * Selection is exact and uses only comparisons, IEEE-754 +, -, *, / in double (NDVI, the even
 * median, the percentile interpolation, the distances) and one rounding to float, with no FMA
 * contraction (CMakeLists.txt), so both backends give the same bits.
 *
 * How values are selected: the clear values of one band (or the numeric NDVIs) are copied, as
 * doubles, into a per-thread buffer of kMaxObservations, and the values of the wanted ranks are
 * found by counting, for each value, the values that a stable sort would put before it
 * (select_ranks: O(c^2) comparisons without a branch on the data);
 * the NDVIs for percentiles, which need several ranks, are insertion-sorted in the buffer.
 * Chosen by measurement against an insertion sort of the buffer and against counting over the
 * observation planes without a buffer (as trend.hpp selects): docs/composites.md, "Selection".
 * The cost on the GPU is local memory: the 2 KiB buffer plus the 32-byte clear mask per thread
 * (only the first `clear count` entries are touched, 160 bytes at 20 observations).
 */
#include <bit>
#include <cstddef>
#include <cstdint>

#include "reclaim/pixel/hd.hpp"
#include "reclaim/pixel/index_table.hpp"

namespace reclaim::pixel {

/// The compositing rule of the reflectance planes.
enum class CompositeMethod : std::int32_t { median, max_ndvi, medoid };

inline constexpr int kMaxObservations = 256;  ///< most observations per tile; the host refuses more
inline constexpr int kMaxCompositePercentiles = 8;

/** @brief Everything a backend needs for a composite pass over a tile (trivially copyable,
 * 108 bytes, passed by value to kernels). */
struct CompositeParams {
  CompositeMethod method = CompositeMethod::median;
  std::int32_t observation_count = 0;  ///< observations in this tile (chronological order)
  std::uint32_t bands = 0;             ///< Band bit set (band_bit) of the bands composited
  std::int32_t percentile_count = 0;   ///< NDVI percentiles also produced (e.g. 10, 50, 90)
  double percentiles[kMaxCompositePercentiles] = {};
  /// The observation planes' layout for run_composite_cpu: band b of observation o is plane
  /// o * planes_per_observation + band_plane[b]. The default holds all six bands in Band
  /// order; a caller may store only the bands in `bands`, packed (the composite epoch source
  /// does: a tile's observations are most of its memory). composite_pixel and the kernel read
  /// the default layout only (a dynamic layout spilled registers on sm_90).
  std::int32_t planes_per_observation = kBandCount;
  std::int32_t band_plane[kBandCount] = {0, 1, 2, 3, 4, 5};
};

/// Output plane of clear_count; the percentile planes follow it.
inline constexpr int kClearCountPlane = kBandCount;

/// Number of output planes: kBandCount reflectance planes (NaN for bands not in `bands`),
/// then clear_count, then one plane per percentile.
RECLAIM_HD constexpr int composite_output_planes(CompositeParams const& p) {
  return kBandCount + 1 + p.percentile_count;
}

/** @brief Why `p` cannot run, or nullptr when it can (host-side check; the kernel launcher and
 * the CPU callers refuse such parameters before any pixel is computed): an observation count
 * outside 0..kMaxObservations, no band or a bit outside the kBandCount bands, max_ndvi or
 * percentiles without red and nir, a percentile count outside 0..kMaxCompositePercentiles or a
 * percentile outside [0, 100], an unknown method. */
constexpr char const* composite_params_error(CompositeParams const& p) noexcept {
  constexpr std::uint32_t all = (std::uint32_t{1} << kBandCount) - 1;
  constexpr std::uint32_t red_nir = band_set::red | band_set::nir;
  if (p.observation_count < 0 || p.observation_count > kMaxObservations)
    return "composite: observation count outside 0..256 (kMaxObservations)";
  if (p.bands == 0 || (p.bands & ~all) != 0) return "composite: the band set is empty or names an unknown band";
  if (p.method != CompositeMethod::median && p.method != CompositeMethod::max_ndvi &&
      p.method != CompositeMethod::medoid)
    return "composite: unknown method";
  if (p.method == CompositeMethod::max_ndvi && (p.bands & red_nir) != red_nir)
    return "composite: max_ndvi needs the red and nir bands";
  if (p.percentile_count < 0 || p.percentile_count > kMaxCompositePercentiles)
    return "composite: percentile count outside 0..8 (kMaxCompositePercentiles)";
  if (p.percentile_count > 0 && (p.bands & red_nir) != red_nir)
    return "composite: NDVI percentiles need the red and nir bands";
  for (int k = 0; k < p.percentile_count; ++k)
    if (!(p.percentiles[k] >= 0.0 && p.percentiles[k] <= 100.0)) return "composite: a percentile outside [0, 100]";
  if (p.planes_per_observation < 1 || p.planes_per_observation > kBandCount)
    return "composite: planes per observation outside 1..6";
  std::uint32_t used = 0;
  for (int b = 0; b < kBandCount; ++b) {
    if (((p.bands >> b) & 1u) == 0u) continue;
    int const k = p.band_plane[b];
    if (k < 0 || k >= p.planes_per_observation || ((used >> k) & 1u) != 0u)
      return "composite: a band's observation plane is outside the layout or shared";
    used |= std::uint32_t{1} << k;
  }
  return nullptr;
}

namespace detail {

/// Finite float (not NaN, not +-inf).
RECLAIM_HD inline bool finite_f(float v) noexcept { return v - v == 0.f; }

/** @brief The stable rank of v[i] in v[0..n): the values before it that are <= it plus the
 * values after it that are < it, i.e. its place after a stable ascending sort. Comparisons only
 * and no branch on the data; every rank 0..n-1 is
 * taken by exactly one i (no NaN in v). An int count: a double one (which g++ would
 * vectorise for SSE2) measured no faster on the CPU and made the kernel spill (CUB's for_each
 * caps it at 64 registers). */
RECLAIM_HD inline int stable_rank(double const* v, int n, int i) noexcept {
  double const x = v[i];
  int r = 0;
  for (int j = 0; j < i; ++j) r += v[j] <= x ? 1 : 0;
  for (int j = i + 1; j < n; ++j) r += v[j] < x ? 1 : 0;
  return r;
}

/** @brief Exact selection: value[k] = the element of stable rank rank[k] of v[0..n) (what
 * v[rank[k]] would be after a stable sort); ranks outside 0..n-1 leave value[k] unchanged.
 * O(n (n + K)), no buffer beyond v and no reordering of v. */
template <int K>
RECLAIM_HD inline void select_ranks(double const* v, int n, int const (&rank)[K], double (&value)[K]) noexcept {
  for (int i = 0; i < n; ++i) {
    int const r = stable_rank(v, n, i);
    for (int k = 0; k < K; ++k)
      if (r == rank[k]) value[k] = v[i];
  }
}

/// Ascending insertion sort of v[0..n): stable, comparisons only (no NaN in v).
RECLAIM_HD inline void insertion_sort(double* v, int n) noexcept {
  for (int j = 1; j < n; ++j) {
    double const x = v[j];
    int k = j - 1;
    while (k >= 0 && v[k] > x) {
      v[k + 1] = v[k];
      --k;
    }
    v[k + 1] = x;
  }
}

/// The median of n >= 1 values from the values of stable ranks (n - 1) / 2 and n / 2: the
/// middle value, or the mean of the two middle values in double (np.median's mean); "+ 0.0"
/// makes a zero median +0.0 whichever zero was selected.
RECLAIM_HD inline double median_from(int n, double lower, double upper) noexcept {
  if (n % 2 == 1) return lower + 0.0;
  return (lower + upper) * 0.5 + 0.0;
}

/// The median of v[0..n), n >= 1 (median_from of the values select_ranks finds).
RECLAIM_HD inline double median_of(double const* v, int n) noexcept {
  int const rank[2] = {(n - 1) / 2, n / 2};  // equal when n is odd
  double value[2] = {0.0, 0.0};
  select_ranks(v, n, rank, value);
  return median_from(n, value[0], value[1]);
}

/// numpy's "linear" virtual index of the q-th percentile among n values: h = (n - 1) (q / 100).
RECLAIM_HD inline double percentile_index(int n, double q) noexcept { return static_cast<double>(n - 1) * (q / 100.0); }

/** @brief The q-th percentile (0 <= q <= 100) from a = the value of rank floor(h) and b = the
 * value of rank floor(h) + 1 (h = percentile_index(n, q), n >= 1), as numpy's default "linear"
 * method computes it (numpy >= 1.22, function_base._quantile and _lerp): g = h - floor(h),
 * a + (b - a) g for g < 0.5 and b - (b - a)(1 - g) otherwise; a alone (the largest value) when
 * h >= n - 1. */
RECLAIM_HD inline double percentile_from(int n, double h, double a, double b) noexcept {
  if (!(h < static_cast<double>(n - 1))) return a;
  double const g = h - static_cast<double>(static_cast<int>(h));  // h >= 0: the cast is floor
  double const d = b - a;
  return g >= 0.5 ? b - d * (1.0 - g) : a + d * g;
}

/// NDVI of observation o at pixel i by the shared index dispatch, in double.
RECLAIM_HD inline double observation_ndvi(float const* obs, std::size_t stride, std::size_t i, int o) noexcept {
  Reflectance r;
  for (int b = 0; b < kBandCount; ++b) r.band[b] = nan_d();
  std::size_t const base = static_cast<std::size_t>(o) * kBandCount;
  r.band[static_cast<int>(Band::red)] =
      static_cast<double>(obs[(base + static_cast<std::size_t>(Band::red)) * stride + i]);
  r.band[static_cast<int>(Band::nir)] =
      static_cast<double>(obs[(base + static_cast<std::size_t>(Band::nir)) * stride + i]);
  return index_value(Index::ndvi, r, IndexParams{});
}

}  // namespace detail

/** @brief Composite of pixel i.
 *
 * obs: observation o, band b at obs[(o * kBandCount + b) * stride + i], the default layout
 * whatever p.planes_per_observation says (run_composite_cpu reads packed layouts; float reflectance;
 * NaN = not observed / masked / nodata). An observation is clear at the pixel when every band
 * in p.bands is finite. out: composite_output_planes(p) planes, plane k at out[k * stride + i]:
 * the kBandCount reflectances (NaN for bands not in p.bands), clear_count, then the NDVI
 * percentiles of the clear observations whose NDVI is a number (NaN when none is). Without a
 * clear observation every plane is NaN but clear_count = 0. `p` must pass
 * composite_params_error (the observation count is clamped to kMaxObservations regardless).
 */
RECLAIM_HD inline void composite_pixel(CompositeParams const& p, float const* obs, float* out, std::size_t stride,
                                       std::size_t i) noexcept {
  int const n = p.observation_count < 0 ? 0 : (p.observation_count > kMaxObservations ? kMaxObservations
                                                                                      : p.observation_count);
  std::uint32_t const bands = p.bands;
  auto value = [&](int o, int b) noexcept -> float {
    return obs[(static_cast<std::size_t>(o) * kBandCount + static_cast<std::size_t>(b)) * stride + i];
  };
  auto plane = [&](int k) noexcept -> float& { return out[static_cast<std::size_t>(k) * stride + i]; };

  // Which observations are clear: one bit each.
  std::uint32_t clear[kMaxObservations / 32];
  for (int w = 0; w < kMaxObservations / 32; ++w) clear[w] = 0u;
  int count = 0;
  for (int o = 0; o < n; ++o) {  // no branch on the data: clouds come and go unpredictably
    std::uint32_t ok = 1u;
    for (int b = 0; b < kBandCount; ++b)
      if ((bands >> b) & 1u) ok &= detail::finite_f(value(o, b)) ? 1u : 0u;
    clear[o >> 5] |= ok << (o & 31);
    count += static_cast<int>(ok);
  }
  auto is_clear = [&](int o) noexcept { return ((clear[o >> 5] >> (o & 31)) & 1u) != 0u; };

  int const planes = composite_output_planes(p);
  for (int k = 0; k < planes; ++k) plane(k) = nan_f();
  plane(kClearCountPlane) = static_cast<float>(count);
  if (count == 0) return;

  double buf[kMaxObservations];  // the values being selected from (local memory on the GPU)
  double median[kBandCount];
  bool const need_median = p.method != CompositeMethod::max_ndvi;
  for (int b = 0; b < kBandCount; ++b) {
    median[b] = nan_d();
    if (!need_median || ((bands >> b) & 1u) == 0u) continue;
    int c = 0;
    for (int o = 0; o < n; ++o) {  // compaction without a branch on the (unpredictable) clear bit
      buf[c] = static_cast<double>(value(o, b));
      c += is_clear(o) ? 1 : 0;
    }
    median[b] = detail::median_of(buf, c);
  }

  int chosen = -1;  // the observation whose bands are output (max_ndvi, medoid)
  if (p.method == CompositeMethod::median) {
    for (int b = 0; b < kBandCount; ++b)
      if ((bands >> b) & 1u) plane(b) = static_cast<float>(median[b]);
  } else if (p.method == CompositeMethod::max_ndvi) {
    double best = nan_d();
    for (int o = 0; o < n; ++o) {
      if (!is_clear(o)) continue;
      double const v = detail::observation_ndvi(obs, stride, i, o);
      // Strictly greater keeps the earliest of equals; any number beats NaN.
      if (chosen < 0 || (v > best) || (best != best && v == v)) {
        chosen = o;
        best = v;
      }
    }
  } else {
    double best = 0.0;
    for (int o = 0; o < n; ++o) {
      if (!is_clear(o)) continue;
      double d = 0.0;
      for (int b = 0; b < kBandCount; ++b) {
        if (((bands >> b) & 1u) == 0u) continue;
        double const e = static_cast<double>(value(o, b)) - median[b];
        d = d + e * e;
      }
      if (chosen < 0 || d < best) {
        chosen = o;
        best = d;
      }
    }
  }
  if (chosen >= 0)
    for (int b = 0; b < kBandCount; ++b)
      if ((bands >> b) & 1u) plane(b) = value(chosen, b);

  if (p.percentile_count > 0) {
    int c = 0;
    for (int o = 0; o < n; ++o) {
      if (!is_clear(o)) continue;
      double const v = detail::observation_ndvi(obs, stride, i, o);
      buf[c] = v;
      c += v == v ? 1 : 0;
    }
    if (c > 0) {
      // Several ranks per percentile: sort the buffer once (stable, so each rank holds what
      // select_ranks would find) rather than keep arrays of ranks, which the GPU would put in
      // local memory beside the buffer.
      detail::insertion_sort(buf, c);
      for (int k = 0; k < p.percentile_count && k < kMaxCompositePercentiles; ++k) {
        double const h = detail::percentile_index(c, p.percentiles[k]);
        int const lo = h < static_cast<double>(c - 1) ? static_cast<int>(h) : c - 1;
        double const b = lo + 1 < c ? buf[lo + 1] : buf[lo];
        plane(kClearCountPlane + 1 + k) = static_cast<float>(detail::percentile_from(c, h, buf[lo], b));
      }
    }
  }
}

/** @brief The CPU driver over a tile: composite_pixel for pixels 0 .. pixels - 1 (planes
 * `pixels` floats apart, as CompositePixel reads them), bit-identical to
 * for_each_pixel(pixels, CompositePixel{p, obs, out, pixels}) and faster.
 *
 * Only the reading differs. The planes of one tile are `pixels` floats apart, a stride that maps
 * every observation of a pixel to the same L1 set, so each pixel would miss L1 on every value.
 * Blocks of kCompositeBlock pixels of the composited bands' planes are first copied into a small
 * buffer laid out like a tile of kCompositeBlock pixels, composite_pixel runs on it with that
 * stride, and the output block is copied back (bands outside p.bands are never read, so their
 * planes in the buffer are left unset). Single-threaded; CpuBackend would split tiles between
 * threads. */
inline constexpr std::size_t kCompositeBlock = 32;

namespace detail {

/** @brief The median rule without percentiles (the default composite) for one block of
 * `count` <= kCompositeBlock pixels laid out as run_composite_cpu's block: the same values as
 * composite_pixel, about ten times faster on the CPU (bench/cpu/composite_bench.cpp).
 *
 * composite_pixel compacts each pixel's clear values and counts stable ranks one pixel at a
 * time. Here the stable ranks of all the block's pixels are counted at once, a pixel per SIMD
 * lane: a value that is not clear becomes +inf, which never counts before a finite value, so
 * each clear value gets the stable rank it has among the clear values alone, and the values of
 * ranks (c - 1) / 2 and c / 2 are the ones select_ranks finds. The same median_from makes the
 * median. Comparisons in float give the same order as in double (float -> double is exact). */
inline void median_block(CompositeParams const& p, int n, float const* in_block, float* out_block,
                         std::size_t count) noexcept {
  // Written so that g++ vectorises every loop over the block's pixels (j): no branch on the
  // data, 32-bit lanes throughout (-fopt-info-vec shows it).
  constexpr std::size_t B = kCompositeBlock;
  static thread_local float key[static_cast<std::size_t>(kMaxObservations) * B];
  static thread_local std::int32_t clear[static_cast<std::size_t>(kMaxObservations) * B];
  float const inf = __builtin_inff();
  std::int32_t clear_count[B] = {};
  for (int o = 0; o < n; ++o) {
    std::int32_t* ok = clear + static_cast<std::size_t>(o) * B;
    for (std::size_t j = 0; j < B; ++j) ok[j] = j < count ? 1 : 0;
    for (int b = 0; b < kBandCount; ++b) {
      if (((p.bands >> b) & 1u) == 0u) continue;
      float const* v = in_block + (static_cast<std::size_t>(o) * kBandCount + static_cast<std::size_t>(b)) * B;
      for (std::size_t j = 0; j < B; ++j) ok[j] &= v[j] - v[j] == 0.f ? 1 : 0;  // finite_f
    }
    for (std::size_t j = 0; j < B; ++j) clear_count[j] += ok[j];
  }
  std::int32_t lower_rank[B], upper_rank[B];
  for (std::size_t j = 0; j < B; ++j) {
    lower_rank[j] = (clear_count[j] - 1) / 2;  // no clear value: -1 / 2 = 0, and no output
    upper_rank[j] = clear_count[j] / 2;
  }
  for (int k = 0; k < composite_output_planes(p); ++k)
    for (std::size_t j = 0; j < B; ++j) out_block[static_cast<std::size_t>(k) * B + j] = nan_f();
  for (std::size_t j = 0; j < B; ++j) out_block[kClearCountPlane * B + j] = static_cast<float>(clear_count[j]);
  for (int b = 0; b < kBandCount; ++b) {
    if (((p.bands >> b) & 1u) == 0u) continue;
    for (int o = 0; o < n; ++o) {
      float const* v = in_block + (static_cast<std::size_t>(o) * kBandCount + static_cast<std::size_t>(b)) * B;
      std::int32_t const* ok = clear + static_cast<std::size_t>(o) * B;
      float* k = key + static_cast<std::size_t>(o) * B;
      for (std::size_t j = 0; j < B; ++j) {
        float const value = v[j];
        k[j] = ok[j] != 0 ? value : inf;
      }
    }
    // Each lane's selected values as bits: exactly one observation has each rank.
    std::uint32_t lower[B] = {}, upper[B] = {};
    for (int o = 0; o < n; ++o) {
      float const* x = key + static_cast<std::size_t>(o) * B;
      std::int32_t rank[B] = {};
      for (int q = 0; q < o; ++q) {  // before o: values <= x count (stable)
        float const* y = key + static_cast<std::size_t>(q) * B;
        for (std::size_t j = 0; j < B; ++j) rank[j] += y[j] <= x[j] ? 1 : 0;
      }
      for (int q = o + 1; q < n; ++q) {  // after o: values < x count
        float const* y = key + static_cast<std::size_t>(q) * B;
        for (std::size_t j = 0; j < B; ++j) rank[j] += y[j] < x[j] ? 1 : 0;
      }
      for (std::size_t j = 0; j < B; ++j) {
        auto const bits = std::bit_cast<std::uint32_t>(x[j]);
        lower[j] |= bits & (0u - static_cast<std::uint32_t>(rank[j] == lower_rank[j]));
        upper[j] |= bits & (0u - static_cast<std::uint32_t>(rank[j] == upper_rank[j]));
      }
    }
    for (std::size_t j = 0; j < count; ++j)
      if (clear_count[j] > 0)
        out_block[static_cast<std::size_t>(b) * B + j] =
            static_cast<float>(median_from(clear_count[j], static_cast<double>(std::bit_cast<float>(lower[j])),
                                           static_cast<double>(std::bit_cast<float>(upper[j]))));
  }
}

}  // namespace detail

inline void run_composite_cpu(CompositeParams const& p, float const* obs, float* out, std::size_t pixels) noexcept {
  constexpr std::size_t B = kCompositeBlock;
  int const n = p.observation_count < 0 ? 0 : (p.observation_count > kMaxObservations ? kMaxObservations
                                                                                      : p.observation_count);
  auto const planes = static_cast<std::size_t>(composite_output_planes(p));
  // 256 observations x 6 bands x 32 pixels x 4 bytes = 192 KiB: static per thread, not on the stack.
  static thread_local float in_block[static_cast<std::size_t>(kMaxObservations) * kBandCount * B];
  static thread_local float out_block[(kBandCount + 1 + kMaxCompositePercentiles) * B];
  // The block is laid out by default (all six bands, Band order), whatever obs's layout is.
  CompositeParams block_params = p;
  block_params.planes_per_observation = kBandCount;
  for (int b = 0; b < kBandCount; ++b) block_params.band_plane[b] = b;
  bool const fast_median = p.method == CompositeMethod::median && p.percentile_count == 0;
  for (std::size_t first = 0; first < pixels; first += B) {
    std::size_t const count = pixels - first < B ? pixels - first : B;
    for (int o = 0; o < n; ++o)
      for (int b = 0; b < kBandCount; ++b) {
        if (((p.bands >> b) & 1u) == 0u) continue;
        std::size_t const k = static_cast<std::size_t>(o) * kBandCount + static_cast<std::size_t>(b);
        std::size_t const from = static_cast<std::size_t>(o) * static_cast<std::size_t>(p.planes_per_observation) +
                                 static_cast<std::size_t>(p.band_plane[b]);
        float const* src = obs + from * pixels + first;
        float* dst = in_block + k * B;
        for (std::size_t j = 0; j < count; ++j) dst[j] = src[j];
      }
    if (fast_median)
      detail::median_block(block_params, n, in_block, out_block, count);
    else
      for (std::size_t j = 0; j < count; ++j) composite_pixel(block_params, in_block, out_block, B, j);
    for (std::size_t k = 0; k < planes; ++k)
      for (std::size_t j = 0; j < count; ++j) out[k * pixels + first + j] = out_block[k * B + j];
  }
}

}  // namespace reclaim::pixel
