#include "reclaim/site_crops.hpp"

#include <algorithm>
#include <cstring>
#include <limits>

#include "reclaim/error.hpp"

namespace reclaim {
CropRequest crop_request(TileWindow window, std::int32_t max_side) noexcept {
  std::int32_t const side = std::max(window.width, window.height);
  std::int32_t const step = std::max<std::int32_t>(1, (side + max_side - 1) / std::max<std::int32_t>(1, max_side));
  return {window, step};
}

CropSamples crop_samples_in(CropRequest const& req, TileWindow const& w) noexcept {
  if (!overlaps(w, req.window)) return {};
  std::int64_t const width = (req.window.width + req.step - 1) / req.step;
  std::int64_t const height = (req.window.height + req.step - 1) / req.step;
  // The first sample at or after grid coordinate `at`.
  auto first_sample = [step = req.step](std::int64_t origin, std::int64_t at) {
    return at <= origin ? std::int64_t{0} : (at - origin + step - 1) / step;
  };
  return {first_sample(req.window.x0, w.x0), std::min(width, first_sample(req.window.x0, w.x0 + w.width)),
          first_sample(req.window.y0, w.y0), std::min(height, first_sample(req.window.y0, w.y0 + w.height))};
}

SiteCropObserver::SiteCropObserver(std::vector<TileWindow> const& plan_tiles, std::vector<CropRequest> requests,
                                   std::vector<CropSource> planes, Callback on_complete)
    : m_requests(std::move(requests)),
      m_planes(std::move(planes)),
      m_on_complete(std::move(on_complete)),
      m_locks(std::make_unique<std::mutex[]>(m_requests.size())) {
  for (auto const& source : m_planes) {
    if (source.output_plane >= 0) {
      m_epoch_of.push_back(-1);
      continue;
    }
    // Copies of one epoch's parameters compare equal; an unequal pair only costs a second reflectance.
    auto const same = std::find_if(m_epochs.begin(), m_epochs.end(), [&](pixel::FusedParams const& e) {
      return std::memcmp(&e, &source.epoch, sizeof e) == 0;
    });
    m_epoch_of.push_back(static_cast<int>(same - m_epochs.begin()));
    if (same == m_epochs.end()) m_epochs.push_back(source.epoch);
  }
  m_tiles_left.assign(m_requests.size(), 0);
  m_crops.resize(m_requests.size());
  for (std::size_t c = 0; c < m_requests.size(); ++c)
    for (auto const& t : plan_tiles)
      if (overlaps(t, m_requests[c].window)) ++m_tiles_left[c];
}

void SiteCropObserver::observe(TileWindow const& w, float const* planes, int plane_count, float const* inputs,
                               int input_count) {
  std::size_t const n = w.pixel_count();
  thread_local std::vector<pixel::Reflectance> reflectance;  // per epoch, at the current sample
  thread_local std::vector<char> clear;
  for (auto const& source : m_planes)
    RECLAIM_EXPECTS(source.output_plane < plane_count, "crop plane out of range");
  for (auto const& epoch : m_epochs) {
    RECLAIM_EXPECTS(inputs && epoch.mask_plane < input_count, "crop input plane out of range");
    for (auto const plane : epoch.band_plane) RECLAIM_EXPECTS(plane < input_count, "crop input plane out of range");
  }
  for (std::size_t c = 0; c < m_requests.size(); ++c) {
    auto const& req = m_requests[c];
    if (!overlaps(w, req.window)) continue;
    std::unique_lock lock(m_locks[c]);
    if (m_tiles_left[c] <= 0) continue;
    Crop& crop = m_crops[c];
    if (crop.planes.empty()) {
      crop.window = req.window;
      crop.step = req.step;
      crop.width = (req.window.width + req.step - 1) / req.step;
      crop.height = (req.window.height + req.step - 1) / req.step;
      crop.planes.assign(m_planes.size(), std::vector<float>(static_cast<std::size_t>(crop.width) * crop.height,
                                                             std::numeric_limits<float>::quiet_NaN()));
    }
    auto const [i0, i1, j0, j1] = crop_samples_in(req, w);
    reflectance.resize(m_epochs.size());
    clear.resize(m_epochs.size());
    for (std::int64_t j = j0; j < j1; ++j) {
      std::int64_t const y = req.window.y0 + j * req.step;
      for (std::int64_t i = i0; i < i1; ++i) {
        std::int64_t const x = req.window.x0 + i * req.step;
        std::size_t const src = static_cast<std::size_t>(y - w.y0) * static_cast<std::size_t>(w.width) +
                                static_cast<std::size_t>(x - w.x0);
        for (std::size_t e = 0; e < m_epochs.size(); ++e)
          clear[e] = pixel::epoch_reflectance(m_epochs[e], inputs, n, src, reflectance[e]);
        for (std::size_t k = 0; k < m_planes.size(); ++k) {
          auto const& source = m_planes[k];
          auto const e = static_cast<std::size_t>(m_epoch_of[k]);
          crop.planes[k][static_cast<std::size_t>(j * crop.width + i)] =
              source.output_plane >= 0
                  ? planes[static_cast<std::size_t>(source.output_plane) * n + src]
                  : pixel::epoch_index_value(clear[e] != 0, reflectance[e], source.index, m_epochs[e].index_params);
        }
      }
    }
    if (--m_tiles_left[c] == 0) {
      Crop done = std::move(crop);
      crop = Crop{};
      lock.unlock();
      m_on_complete(c, std::move(done));
    }
  }
}

std::size_t SiteCropObserver::pending() const noexcept {
  return static_cast<std::size_t>(std::count_if(m_tiles_left.begin(), m_tiles_left.end(), [](auto n) { return n > 0; }));
}

}  // namespace reclaim
