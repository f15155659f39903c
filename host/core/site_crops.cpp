#include "reclaim/site_crops.hpp"

#include <algorithm>
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
                                   std::vector<int> planes, Callback on_complete)
    : m_requests(std::move(requests)),
      m_planes(std::move(planes)),
      m_on_complete(std::move(on_complete)),
      m_locks(std::make_unique<std::mutex[]>(m_requests.size())) {
  m_tiles_left.assign(m_requests.size(), 0);
  m_crops.resize(m_requests.size());
  for (std::size_t c = 0; c < m_requests.size(); ++c)
    for (auto const& t : plan_tiles)
      if (overlaps(t, m_requests[c].window)) ++m_tiles_left[c];
}

void SiteCropObserver::observe(TileWindow const& w, float const* planes, int plane_count) {
  std::size_t const n = w.pixel_count();
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
    for (std::int64_t j = j0; j < j1; ++j) {
      std::int64_t const y = req.window.y0 + j * req.step;
      for (std::int64_t i = i0; i < i1; ++i) {
        std::int64_t const x = req.window.x0 + i * req.step;
        std::size_t const src = static_cast<std::size_t>(y - w.y0) * static_cast<std::size_t>(w.width) +
                                static_cast<std::size_t>(x - w.x0);
        for (std::size_t k = 0; k < m_planes.size(); ++k) {
          RECLAIM_EXPECTS(m_planes[k] < plane_count, "crop plane out of range");
          crop.planes[k][static_cast<std::size_t>(j * crop.width + i)] =
              planes[static_cast<std::size_t>(m_planes[k]) * n + src];
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
