#pragma once
/** @file
 * @brief The change vector's standardisation and its automatic threshold (docs/change.md,
 * "Change magnitude"): host code that runs before the change pass.
 *
 * 1. standardisation: per epoch and band, the mean and standard deviation of the reflectance
 *    over the pixels clear in both epochs (a first read of the tiles, with the change pass's own
 *    pixel functions);
 * 2. a histogram of the magnitude (pixel::change_magnitude) over the same pixels (a second read);
 * 3. the threshold: Otsu (1979) or Kittler & Illingworth (1986) on that histogram, or a value.
 *
 * Every tile's partial result is merged in tile order, so the numbers do not depend on the thread
 * count. No GDAL, no CUDA: the tiles come from any TileSource.
 */
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "reclaim/grid.hpp"
#include "reclaim/pixel/change_pass.hpp"
#include "reclaim/tile_source.hpp"

namespace reclaim {

/// Per (epoch, band): pixels, mean and sum of squared deviations (Welford per pixel, Chan et al.
/// per merge), over pixels clear in both epochs whose every band the vector could use is finite.
struct BandMoments {
  double count = 0.0;
  double mean[2][pixel::kBandCount] = {};
  double m2[2][pixel::kBandCount] = {};
  void add(pixel::Reflectance const& before, pixel::Reflectance const& after, std::uint32_t bands) noexcept;
  void merge(BandMoments const& o) noexcept;
};

/** @brief The standardisation from `moments`: bands in `bands` (bit b = band b) whose standard
 * deviation is positive in both epochs. `enabled` stays 0 when no band qualifies. */
[[nodiscard]] pixel::ChangeVector standardisation_from(BandMoments const& moments, std::uint32_t bands);

/// Bands the two epochs both read (bit b = band b), from the change pass's plane layout.
[[nodiscard]] std::uint32_t shared_bands(pixel::ChangeParams const& params) noexcept;

/// The magnitude histogram: bins of kMagnitudeBinWidth from 0; a magnitude beyond the last bin
/// counts in the last bin (`clamped` says how many).
inline constexpr double kMagnitudeBinWidth = 1.0 / 256.0;
inline constexpr int kMagnitudeBins = 64 * 256;  // up to 64 standard deviations
struct MagnitudeHistogram {
  std::vector<std::uint64_t> counts = std::vector<std::uint64_t>(kMagnitudeBins, 0);
  std::uint64_t clamped = 0;
  void add(double magnitude) noexcept;
  void merge(MagnitudeHistogram const& o) noexcept;
  [[nodiscard]] std::uint64_t total() const noexcept;
  /// The upper edge of the first bin by which at least `share` of the pixels are counted (the
  /// last bin's upper edge when empty).
  [[nodiscard]] double quantile(double share) const noexcept;
};

/// The share of the pixels, smallest magnitudes first, that --normalise takes as invariant.
inline constexpr double kInvariantShare = 0.25;

/// The first read: moments of every tile of `tiles`, merged in tile order.
[[nodiscard]] BandMoments band_moments(TileSource const& source, std::span<TileWindow const> tiles,
                                       pixel::ChangeParams const& params, int threads);

/// What the second read counts: the magnitude, and |dNDVI| (same bins) for --dndvi-threshold.
struct ChangeHistograms {
  MagnitudeHistogram magnitude;
  MagnitudeHistogram abs_dndvi;
  void merge(ChangeHistograms const& o) noexcept {
    magnitude.merge(o.magnitude);
    abs_dndvi.merge(o.abs_dndvi);
  }
};

/// The second read: the histograms of pixel::change_magnitude under params.vector and of
/// |dNDVI|, over the pixels clear in both epochs.
[[nodiscard]] ChangeHistograms change_histograms(TileSource const& source, std::span<TileWindow const> tiles,
                                                 pixel::ChangeParams const& params, int threads);

/// change_histograms(...).magnitude.
[[nodiscard]] MagnitudeHistogram magnitude_histogram(TileSource const& source, std::span<TileWindow const> tiles,
                                                     pixel::ChangeParams const& params, int threads);

/** @brief Relative radiometric normalisation of the after epoch onto the before epoch over
 * pseudo-invariant pixels (Schott, Salvaggio & Volchok 1988), here the pixels the gate calls
 * unchanged (magnitude < threshold), with an orthogonal (major-axis) regression per band as
 * Canty, Nielsen & Schmidt (2004) fit their no-change pixels: after = a + b before. Co-moments per
 * band (Welford per pixel, Chan et al. per merge) over pixels with every shared band finite. */
struct InvariantFit {
  double count = 0.0;
  double mean_x[pixel::kBandCount] = {}, mean_y[pixel::kBandCount] = {};
  double cxx[pixel::kBandCount] = {}, cyy[pixel::kBandCount] = {}, cxy[pixel::kBandCount] = {};
  void add(pixel::Reflectance const& before, pixel::Reflectance const& after, std::uint32_t bands) noexcept;
  void merge(InvariantFit const& o) noexcept;
  /// Band b's line after = a + b before: {a, b}; b NaN when the pixels do not define it.
  [[nodiscard]] std::pair<double, double> line(int band) const noexcept;
};

/// The third read: the fit over the pixels whose magnitude is below `threshold`.
[[nodiscard]] InvariantFit invariant_fit(TileSource const& source, std::span<TileWindow const> tiles,
                                         pixel::ChangeParams const& params, double threshold, int threads);

/** @brief Folds after' = (after - a) / b into the after epoch's calibration of band `band` (and
 * its standardisation, so that the magnitude stays the same). */
void normalise_after_band(pixel::ChangeParams& params, int band, double a, double b) noexcept;

enum class ThresholdMethod { otsu, kittler_illingworth };

/** @brief The threshold of `counts` (bins of `bin_width` from 0): the upper edge of the last bin
 * of the lower class, so that "changed" is magnitude >= threshold. Otsu maximises the
 * between-class variance; Kittler-Illingworth minimises the minimum-error criterion
 * J = 1 + 2 (P1 ln s1 + P2 ln s2) - 2 (P1 ln P1 + P2 ln P2). Both use bin centres; a tie goes to
 * the lowest cut. nullopt when no cut splits the pixels into two classes (one occupied bin;
 * for Kittler-Illingworth also when no cut leaves both classes a positive spread). */
[[nodiscard]] std::optional<double> histogram_threshold(std::span<std::uint64_t const> counts, double bin_width,
                                                        ThresholdMethod method);

[[nodiscard]] char const* threshold_method_name(ThresholdMethod method) noexcept;

}  // namespace reclaim
