#include "reclaim/change_vector.hpp"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <exception>
#include <thread>

#include "reclaim/interrupt.hpp"

namespace reclaim {
namespace {

using pixel::kBandCount;

/// Runs `per_tile(t, planes, pixels)` over every tile with `threads` readers of its own and
/// returns the per-tile results in tile order (merging them in that order keeps the sums
/// independent of the thread count).
template <class Result, class Fn>
std::vector<Result> over_tiles(TileSource const& source, std::span<TileWindow const> tiles, int threads, Fn per_tile) {
  std::vector<Result> results(tiles.size());
  std::atomic<std::size_t> next{0};
  std::size_t const n_threads = std::clamp<std::size_t>(static_cast<std::size_t>(std::max(threads, 1)), 1,
                                                         std::max<std::size_t>(tiles.size(), 1));
  std::vector<std::exception_ptr> errors(n_threads);
  auto work = [&](std::size_t thread) {
    try {
      auto reader = source.open_reader();
      std::vector<float> planes;
      for (std::size_t t = next++; t < tiles.size(); t = next++) {
        throw_if_stop_requested();
        std::size_t const pixels = tiles[t].pixel_count();
        planes.resize(pixels * static_cast<std::size_t>(source.plane_count()));
        reader->read(tiles[t], planes.data());
        results[t] = per_tile(planes.data(), pixels);
      }
    } catch (...) {
      errors[thread] = std::current_exception();
      next = tiles.size();  // the others stop too
    }
  };
  {
    std::vector<std::jthread> pool;
    for (std::size_t k = 1; k < n_threads; ++k) pool.emplace_back(work, k);
    work(0);
  }
  for (auto const& e : errors)
    if (e) std::rethrow_exception(e);
  return results;
}

/// `add(acc, before, after)` for every pixel clear in both epochs, per tile, the tiles' results
/// merged in tile order.
template <class Acc, class Add>
Acc over_clear_pixels(TileSource const& source, std::span<TileWindow const> tiles, pixel::ChangeParams const& params,
                      int threads, Add add) {
  auto const parts = over_tiles<Acc>(source, tiles, threads, [&](float const* in, std::size_t pixels) {
    Acc acc;
    pixel::Reflectance rb{}, ra{};
    for (std::size_t i = 0; i < pixels; ++i)
      if (pixel::epoch_reflectance(params.before, in, pixels, i, rb) &&
          pixel::epoch_reflectance(params.after, in, pixels, i, ra))
        add(acc, rb, ra);
    return acc;
  });
  Acc all;
  for (auto const& part : parts) all.merge(part);
  return all;
}

}  // namespace

void BandMoments::add(pixel::Reflectance const& before, pixel::Reflectance const& after, std::uint32_t bands) noexcept {
  for (int b = 0; b < kBandCount; ++b)
    if (((bands >> b) & 1u) != 0u && (!std::isfinite(before.band[b]) || !std::isfinite(after.band[b]))) return;
  count += 1.0;
  for (int e = 0; e < 2; ++e) {
    pixel::Reflectance const& r = e == 0 ? before : after;
    for (int b = 0; b < kBandCount; ++b) {
      if (((bands >> b) & 1u) == 0u) continue;
      double const delta = r.band[b] - mean[e][b];  // Welford (1962)
      mean[e][b] += delta / count;
      m2[e][b] += delta * (r.band[b] - mean[e][b]);
    }
  }
}

void BandMoments::merge(BandMoments const& o) noexcept {
  if (o.count == 0.0) return;
  double const n = count + o.count;
  for (int e = 0; e < 2; ++e)
    for (int b = 0; b < kBandCount; ++b) {  // Chan, Golub & LeVeque (1979)
      double const delta = o.mean[e][b] - mean[e][b];
      mean[e][b] += delta * (o.count / n);
      m2[e][b] += o.m2[e][b] + delta * delta * (count * o.count / n);
    }
  count = n;
}

pixel::ChangeVector standardisation_from(BandMoments const& moments, std::uint32_t bands) {
  pixel::ChangeVector cv;
  if (moments.count < 2.0) return cv;
  for (int b = 0; b < kBandCount; ++b) {
    if (((bands >> b) & 1u) == 0u) continue;
    double const sd_before = std::sqrt(moments.m2[0][b] / moments.count);
    double const sd_after = std::sqrt(moments.m2[1][b] / moments.count);
    if (!(sd_before > 0.0) || !(sd_after > 0.0)) continue;  // a constant band says nothing about change
    cv.use[b] = 1;
    cv.enabled = 1;
    cv.mean[0][b] = moments.mean[0][b];
    cv.mean[1][b] = moments.mean[1][b];
    cv.inv_sd[0][b] = 1.0 / sd_before;
    cv.inv_sd[1][b] = 1.0 / sd_after;
  }
  return cv;
}

std::uint32_t shared_bands(pixel::ChangeParams const& params) noexcept {
  std::uint32_t bands = 0;
  for (int b = 0; b < kBandCount; ++b)
    if (params.before.band_plane[b] >= 0 && params.after.band_plane[b] >= 0) bands |= std::uint32_t{1} << b;
  return bands;
}

void MagnitudeHistogram::add(double magnitude) noexcept {
  if (!(magnitude >= 0.0)) return;  // NaN: not clear in both epochs
  double const bin = std::floor(magnitude / kMagnitudeBinWidth);
  if (bin >= kMagnitudeBins - 1) {
    ++counts.back();
    if (bin > kMagnitudeBins - 1) ++clamped;
    return;
  }
  ++counts[static_cast<std::size_t>(bin)];
}

void MagnitudeHistogram::merge(MagnitudeHistogram const& o) noexcept {
  for (std::size_t k = 0; k < counts.size(); ++k) counts[k] += o.counts[k];
  clamped += o.clamped;
}

double MagnitudeHistogram::quantile(double share) const noexcept {
  double const want = share * static_cast<double>(total());
  double seen = 0.0;
  for (std::size_t k = 0; k < counts.size(); ++k) {
    seen += static_cast<double>(counts[k]);
    if (seen > 0.0 && seen >= want) return static_cast<double>(k + 1) * kMagnitudeBinWidth;
  }
  return static_cast<double>(counts.size()) * kMagnitudeBinWidth;
}

std::uint64_t MagnitudeHistogram::total() const noexcept {
  std::uint64_t n = 0;
  for (auto c : counts) n += c;
  return n;
}

BandMoments band_moments(TileSource const& source, std::span<TileWindow const> tiles,
                         pixel::ChangeParams const& params, int threads) {
  std::uint32_t const bands = shared_bands(params);
  return over_clear_pixels<BandMoments>(source, tiles, params, threads,
                                        [&](BandMoments& m, auto const& rb, auto const& ra) { m.add(rb, ra, bands); });
}

ChangeHistograms change_histograms(TileSource const& source, std::span<TileWindow const> tiles,
                                   pixel::ChangeParams const& params, int threads) {
  return over_clear_pixels<ChangeHistograms>(
      source, tiles, params, threads, [&](ChangeHistograms& h, auto const& rb, auto const& ra) {
        h.magnitude.add(pixel::change_magnitude(params.vector, rb, ra));
        double const d = pixel::dndvi(pixel::index_value(pixel::Index::ndvi, rb, params.before.index_params),
                                      pixel::index_value(pixel::Index::ndvi, ra, params.after.index_params));
        h.abs_dndvi.add(std::fabs(d));  // NaN (undefined NDVI) is not counted
      });
}

MagnitudeHistogram magnitude_histogram(TileSource const& source, std::span<TileWindow const> tiles,
                                       pixel::ChangeParams const& params, int threads) {
  return change_histograms(source, tiles, params, threads).magnitude;
}

std::optional<double> histogram_threshold(std::span<std::uint64_t const> counts, double bin_width,
                                          ThresholdMethod method) {
  // Totals over the bins, with bin centres (k + 0.5) * width.
  double n = 0.0, sum = 0.0, sum_sq = 0.0;
  for (std::size_t k = 0; k < counts.size(); ++k) {
    double const c = static_cast<double>(counts[k]);
    double const x = (static_cast<double>(k) + 0.5) * bin_width;
    n += c;
    sum += c * x;
    sum_sq += c * x * x;
  }
  if (n == 0.0) return std::nullopt;
  double n1 = 0.0, sum1 = 0.0, sum_sq1 = 0.0;
  std::optional<std::size_t> best;
  double best_score = 0.0;
  for (std::size_t k = 0; k + 1 < counts.size(); ++k) {  // cut after bin k
    double const c = static_cast<double>(counts[k]);
    double const x = (static_cast<double>(k) + 0.5) * bin_width;
    n1 += c;
    sum1 += c * x;
    sum_sq1 += c * x * x;
    double const n2 = n - n1;
    if (n1 == 0.0 || n2 == 0.0) continue;
    double const p1 = n1 / n, p2 = n2 / n;
    double const mu1 = sum1 / n1, mu2 = (sum - sum1) / n2;
    double score = 0.0;
    if (method == ThresholdMethod::otsu) {
      score = p1 * p2 * (mu1 - mu2) * (mu1 - mu2);  // between-class variance (maximised)
    } else {
      double const var1 = sum_sq1 / n1 - mu1 * mu1;
      double const var2 = (sum_sq - sum_sq1) / n2 - mu2 * mu2;
      if (!(var1 > 0.0) || !(var2 > 0.0)) continue;
      // Minimum error criterion, negated so that the best score is the largest.
      score = -(1.0 + (p1 * std::log(var1) + p2 * std::log(var2)) - 2.0 * (p1 * std::log(p1) + p2 * std::log(p2)));
    }
    if (!best || score > best_score) {
      best = k;
      best_score = score;
    }
  }
  if (!best) return std::nullopt;
  return static_cast<double>(*best + 1) * bin_width;
}

void InvariantFit::add(pixel::Reflectance const& before, pixel::Reflectance const& after, std::uint32_t bands) noexcept {
  for (int b = 0; b < kBandCount; ++b)
    if (((bands >> b) & 1u) != 0u && (!std::isfinite(before.band[b]) || !std::isfinite(after.band[b]))) return;
  count += 1.0;
  for (int b = 0; b < kBandCount; ++b) {
    if (((bands >> b) & 1u) == 0u) continue;
    double const dx = before.band[b] - mean_x[b];
    double const dy = after.band[b] - mean_y[b];
    mean_x[b] += dx / count;
    mean_y[b] += dy / count;
    cxx[b] += dx * (before.band[b] - mean_x[b]);
    cyy[b] += dy * (after.band[b] - mean_y[b]);
    cxy[b] += dx * (after.band[b] - mean_y[b]);
  }
}

void InvariantFit::merge(InvariantFit const& o) noexcept {
  if (o.count == 0.0) return;
  double const n = count + o.count;
  for (int b = 0; b < kBandCount; ++b) {
    double const dx = o.mean_x[b] - mean_x[b];
    double const dy = o.mean_y[b] - mean_y[b];
    double const f = count * o.count / n;
    cxx[b] += o.cxx[b] + dx * dx * f;
    cyy[b] += o.cyy[b] + dy * dy * f;
    cxy[b] += o.cxy[b] + dx * dy * f;
    mean_x[b] += dx * (o.count / n);
    mean_y[b] += dy * (o.count / n);
  }
  count = n;
}

std::pair<double, double> InvariantFit::line(int band) const noexcept {
  double const sxx = cxx[band], syy = cyy[band], sxy = cxy[band];
  if (count < 2.0 || !(sxy > 0.0)) return {std::nan(""), std::nan("")};  // no positive relation
  // Major axis: the first principal axis of the (before, after) scatter.
  double const slope = (syy - sxx + std::sqrt((syy - sxx) * (syy - sxx) + 4.0 * sxy * sxy)) / (2.0 * sxy);
  return {mean_y[band] - slope * mean_x[band], slope};
}

InvariantFit invariant_fit(TileSource const& source, std::span<TileWindow const> tiles,
                           pixel::ChangeParams const& params, double threshold, int threads) {
  std::uint32_t const bands = shared_bands(params);
  return over_clear_pixels<InvariantFit>(source, tiles, params, threads, [&](InvariantFit& f, auto const& rb, auto const& ra) {
    if (pixel::change_magnitude(params.vector, rb, ra) < threshold) f.add(rb, ra, bands);
  });
}

void normalise_after_band(pixel::ChangeParams& params, int band, double a, double b) noexcept {
  // reflectance = (dn + dn_offset) * scale + offset, then (reflectance - a) / b.
  auto& cal = params.after.calibration[band];
  cal.scale /= b;
  cal.offset = (cal.offset - a) / b;
  // The standardisation of the after epoch, in the new units: the same z-scores.
  params.vector.mean[1][band] = (params.vector.mean[1][band] - a) / b;
  params.vector.inv_sd[1][band] *= b;
}

char const* threshold_method_name(ThresholdMethod method) noexcept {
  return method == ThresholdMethod::otsu ? "otsu" : "kittler-illingworth";
}

}  // namespace reclaim
