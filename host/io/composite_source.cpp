#include "reclaim/io/composite_source.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <utility>

#include "reclaim/error.hpp"
#include "reclaim/index_names.hpp"
#include "reclaim/pixel/per_pixel.hpp"

namespace reclaim::io {
namespace fs = std::filesystem;

std::optional<pixel::CompositeMethod> parse_composite_method(std::string_view name) noexcept {
  if (name == "median") return pixel::CompositeMethod::median;
  if (name == "max-ndvi") return pixel::CompositeMethod::max_ndvi;
  if (name == "medoid") return pixel::CompositeMethod::medoid;
  return std::nullopt;
}

std::string_view composite_method_name(pixel::CompositeMethod method) noexcept {
  switch (method) {
    case pixel::CompositeMethod::median: return "median";
    case pixel::CompositeMethod::max_ndvi: return "max-ndvi";
    case pixel::CompositeMethod::medoid: return "medoid";
  }
  return "?";
}

namespace {

std::uint32_t bands_of(SceneSpec const& scene) {
  std::uint32_t bits = 0;
  for (int b = 0; b < pixel::kBandCount; ++b)
    if (scene.bands[b]) bits |= std::uint32_t{1} << b;
  return bits;
}

std::string band_names(std::uint32_t bits) {
  std::string out;
  for (int b = 0; b < pixel::kBandCount; ++b)
    if ((bits >> b) & 1u) out += (out.empty() ? "" : ", ") + std::string(band_name(static_cast<pixel::Band>(b)));
  return out;
}

class CompositeReader final : public TileReader {
 public:
  CompositeReader(std::vector<CompositeEpochSource::Part> const& parts, pixel::CompositeParams const& params,
                  std::uint32_t clear_bands)
      : m_parts(parts), m_params(params), m_clear_bands(clear_bands) {}

  void read(TileWindow const& w, float* out) override {
    // The scenes that meet this tile; a day's scenes stay in their (datetime, id) order.
    std::vector<std::size_t> here;
    for (std::size_t k = 0; k < m_parts.size(); ++k)
      if (overlaps(m_parts[k].footprint, w)) here.push_back(k);
    std::vector<int> day_of;  // observation index of each `here` entry, 0.. in day order
    int observations = 0;
    for (std::size_t j = 0; j < here.size(); ++j) {
      bool const new_day = j == 0 || m_parts[here[j]].day != m_parts[here[j - 1]].day;
      if (new_day) ++observations;
      day_of.push_back(observations - 1);
    }
    auto params = m_params;
    params.observation_count = observations;
    int const planes = pixel::composite_output_planes(params);
    std::size_t const tile_n = w.pixel_count();
    auto const per_obs = static_cast<std::size_t>(params.planes_per_observation);
    std::size_t const row_bytes =
        static_cast<std::size_t>(w.width) * sizeof(float) * per_obs * static_cast<std::size_t>(std::max(observations, 1));
    std::int32_t const chunk_rows =
        static_cast<std::int32_t>(std::clamp<std::size_t>(CompositeEpochSource::kScratchBytes / row_bytes, 1, w.height));
    int first_band = 0;
    while (first_band < pixel::kBandCount && !((params.bands >> first_band) & 1u)) ++first_band;

    for (std::int32_t y = 0; y < w.height; y += chunk_rows) {
      TileWindow c = w;
      c.y0 = w.y0 + y;
      c.height = std::min(chunk_rows, w.height - y);
      std::size_t const n = c.pixel_count();
      m_obs.resize(static_cast<std::size_t>(observations) * per_obs * n);  // each day's first scene writes it all
      for (std::size_t j = 0; j < here.size(); ++j) {
        auto const& part = m_parts[here[j]];
        // The scene's files are open only while it is read: libtiff keeps a compressed-tile
        // buffer per open file, and 20 scenes x 7 files x 2 readers held open took 250 MB of a
        // 1.5 GB peak (heaptrack); opening them again for each tile measured no slower.
        m_scene.resize(static_cast<std::size_t>(part.source->plane_count()) * n);
        part.source->open_reader()->read(c, m_scene.data());
        float* obs = m_obs.data() + static_cast<std::size_t>(day_of[j]) * per_obs * n;
        bool const first_of_day = j == 0 || day_of[j] != day_of[j - 1];
        add_observation(part.params, n, first_of_day, obs + static_cast<std::size_t>(params.band_plane[first_band]) * n,
                        obs);
      }
      if (n == tile_n) {  // the whole tile in one go: its planes are the output's
        pixel::run_composite_cpu(params, m_obs.data(), out, n);
        continue;
      }
      m_out.resize(static_cast<std::size_t>(planes) * n);
      pixel::run_composite_cpu(params, m_obs.data(), m_out.data(), n);
      std::size_t const offset = static_cast<std::size_t>(y) * static_cast<std::size_t>(w.width);
      for (int k = 0; k < planes; ++k)
        std::copy_n(m_out.data() + static_cast<std::size_t>(k) * n, n, out + static_cast<std::size_t>(k) * tile_n + offset);
    }
  }

 private:
  /** The scene just read into m_scene becomes observation `obs` where it is clear and no
   * earlier scene of the day was (`first_kept`, the first kept band's plane, still NaN); the
   * day's first scene writes every pixel of the observation (NaN where not clear).
   * Clear: the mask passes and every band the scenes share has a value (not only the bands
   * kept). Band by band rather than pixel by pixel (epoch_reflectance's per-pixel form), so
   * the loops vectorise: the same to_reflectance and is_masked, the same values. The scene's
   * band planes are turned into reflectance in place. */
  void add_observation(pixel::FusedParams const& scene, std::size_t n, bool first_of_day, float const* first_kept,
                       float* obs) {
    m_clear.resize(n);
    float const* mask = scene.mask_plane >= 0 ? m_scene.data() + static_cast<std::size_t>(scene.mask_plane) * n : nullptr;
    for (std::size_t i = 0; i < n; ++i)
      m_clear[i] = (first_of_day || std::isnan(first_kept[i])) && !(mask && pixel::is_masked(mask[i], scene.mask));
    // 32-bit flags and loops of one kind each: g++ vectorises these (-fopt-info-vec).
    for (int b = 0; b < pixel::kBandCount; ++b) {
      if (((m_clear_bands >> b) & 1u) == 0u) continue;
      float* v = m_scene.data() + static_cast<std::size_t>(scene.band_plane[b]) * n;
      pixel::BandCalibration const c = scene.calibration[b];
      for (std::size_t i = 0; i < n; ++i) v[i] = static_cast<float>(pixel::to_reflectance(v[i], c));
      for (std::size_t i = 0; i < n; ++i) m_clear[i] &= v[i] == v[i] ? 1 : 0;  // NaN: no value
    }
    for (int b = 0; b < pixel::kBandCount; ++b) {
      if (((m_params.bands >> b) & 1u) == 0u) continue;
      float const* v = m_scene.data() + static_cast<std::size_t>(scene.band_plane[b]) * n;
      float* o = obs + static_cast<std::size_t>(m_params.band_plane[b]) * n;
      if (first_of_day) {
        for (std::size_t i = 0; i < n; ++i) {
          float const value = v[i];
          o[i] = m_clear[i] != 0 ? value : pixel::nan_f();
        }
        continue;
      }
      for (std::size_t i = 0; i < n; ++i) {
        float const value = v[i], kept = o[i];
        o[i] = m_clear[i] != 0 ? value : kept;
      }
    }
  }

  std::vector<CompositeEpochSource::Part> const& m_parts;
  pixel::CompositeParams const m_params;
  std::uint32_t const m_clear_bands;
  std::vector<float> m_obs, m_scene, m_out;
  std::vector<std::int32_t> m_clear;  // per pixel of the scene being added
};

}  // namespace

CompositeEpochSource::CompositeEpochSource(std::vector<InventoryScene> scenes, std::uint32_t needed_bands,
                                           CompositeOptions options, std::optional<Grid> const& target) {
  RECLAIM_EXPECTS(!scenes.empty(), "a composite needs scenes: the caller names the empty inventory");
  // Every band all scenes have, whatever the outputs: an observation is clear where each of
  // them has a value, so which observations a pixel has must not depend on the outputs asked
  // for (an NDVI-only read would count edge pixels where a coarser band has ended).
  std::uint32_t common = ~std::uint32_t{0};
  for (auto const& s : scenes) common &= bands_of(s.scene);
  std::uint32_t bands = common | needed_bands;  // read, and tested for clear observations
  // Kept per observation: the bands the outputs need (the observations are most of a tile's
  // memory), plus red and NIR for max-NDVI and the percentiles, and every band for the medoid
  // (its distance is over all of them: it must not depend on the outputs either).
  std::uint32_t kept = needed_bands;
  if (options.method == pixel::CompositeMethod::max_ndvi || !options.percentiles.empty())
    kept |= pixel::bands_needed(pixel::Index::ndvi);
  if (options.method == pixel::CompositeMethod::medoid) kept |= bands;
  bands |= kept;
  for (auto const& s : scenes) {
    std::uint32_t const missing = bands & ~bands_of(s.scene);
    if (missing)
      throw input_error(s.inventory.string() + ": item " + s.id + ": no asset for band " + band_names(missing) +
                        " (needed by the composite)");
  }
  if (options.percentiles.size() > static_cast<std::size_t>(pixel::kMaxCompositePercentiles))
    throw usage_error("at most " + std::to_string(pixel::kMaxCompositePercentiles) + " percentiles");
  m_params.method = options.method;
  m_params.bands = kept;
  m_clear_bands = bands;
  m_params.planes_per_observation = 0;
  for (int b = 0; b < pixel::kBandCount; ++b)
    if ((kept >> b) & 1u) m_params.band_plane[b] = m_params.planes_per_observation++;
  if (char const* error = pixel::composite_params_error(m_params)) throw logic_error(error);
  m_params.percentile_count = static_cast<std::int32_t>(options.percentiles.size());
  for (std::size_t k = 0; k < options.percentiles.size(); ++k) m_params.percentiles[k] = options.percentiles[k];

  // Each scene's own grid (finest band), then the output grid.
  std::vector<Grid> own;
  for (auto const& s : scenes) own.push_back(GdalTileSource(s.scene, bands).grid());
  if (target) {
    m_grid = *target;
  } else {
    m_grid = extended_grid(own.front(), std::vector<Grid>(own.begin() + 1, own.end()));
  }
  // Observation days: one per (date, platform), chronological.
  std::map<std::pair<std::string, std::string>, int> days;
  for (std::size_t k = 0; k < scenes.size(); ++k) {
    auto& s = scenes[k];
    auto const footprint = footprint_on(own[k], m_grid);
    if (!footprint) {
      m_notes.push_back(s.inventory.string() + ": item " + s.id + " does not meet the output grid; left out");
      continue;
    }
    auto const key = std::make_pair(s.date, s.platform);
    if (!days.count(key)) days.emplace(key, m_days++);
    Part p;
    p.footprint = *footprint;
    p.day = days.at(key);
    p.source = std::make_unique<GdalTileSource>(s.scene, bands, m_grid, /*mosaic=*/true);
    p.params = p.source->fused_params();
    p.item = std::move(s);
    m_parts.push_back(std::move(p));
  }
  if (m_parts.empty()) throw input_error(scenes.front().inventory.string() + ": no scene meets the output grid");
  if (m_days > pixel::kMaxObservations)
    throw input_error(m_parts.front().item.inventory.string() + ": " + std::to_string(m_days) +
                      " observation days in one composite; at most " + std::to_string(pixel::kMaxObservations) +
                      " (narrow --window)");
  // Scenes of one day stay together (in their order), days in chronological order.
  std::stable_sort(m_parts.begin(), m_parts.end(), [](Part const& a, Part const& b) { return a.day < b.day; });
}

CompositeEpochSource::~CompositeEpochSource() = default;

std::vector<std::pair<TileWindow, bool>> CompositeEpochSource::footprints() const {
  std::vector<std::pair<TileWindow, bool>> out;
  for (auto const& p : m_parts) out.emplace_back(p.footprint, p.source->warped());
  return out;
}

std::unique_ptr<TileReader> CompositeEpochSource::open_reader() const {
  return std::make_unique<CompositeReader>(m_parts, m_params, m_clear_bands);
}

pixel::FusedParams CompositeEpochSource::fused_params() const {
  pixel::FusedParams p;
  for (int b = 0; b < pixel::kBandCount; ++b)
    if ((m_params.bands >> b) & 1u) p.band_plane[b] = b;  // identity calibration: the planes are reflectance
  p.input_plane_count = plane_count();
  return p;
}

std::vector<fs::path> CompositeEpochSource::files() const {
  std::set<fs::path> unique;
  for (auto const& p : m_parts)
    for (auto const& f : scene_files(p.item.scene)) unique.insert(f);
  return {unique.begin(), unique.end()};
}

std::string CompositeEpochSource::name() const {
  std::set<fs::path> inventories;
  for (auto const& p : m_parts) inventories.insert(p.item.inventory);
  std::string out;
  for (auto const& f : inventories) out += (out.empty() ? "" : ", ") + f.string();
  return out;
}

std::string CompositeEpochSource::description() const {
  std::string first = m_parts.front().item.date, last = first;
  for (auto const& p : m_parts) {
    first = std::min(first, p.item.date);
    last = std::max(last, p.item.date);
  }
  auto const n = m_parts.size();
  return std::string(composite_method_name(m_params.method)) + " of " + std::to_string(n) + " scene" +
         (n == 1 ? "" : "s") + " on " + std::to_string(m_days) + " day" + (m_days == 1 ? "" : "s") + " (" + first +
         " .. " + last + ")";
}

}  // namespace reclaim::io
