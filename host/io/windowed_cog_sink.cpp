// WindowedCogSink: COGs of some windows of the grid only (a national run's site windows). Each
// window is a ScratchCogSink of its own sub-grid; a tile's part inside a window is copied out
// (only the planes that window's outputs read) and handed to it.
#include <algorithm>
#include <filesystem>
#include <map>
#include <system_error>
#include <tuple>

#include "reclaim/error.hpp"
#include "reclaim/io/cog_writer.hpp"

namespace reclaim::io {

namespace fs = std::filesystem;

struct WindowedCogSink::Impl {
  struct Part {
    TileWindow window;        ///< on the sink's grid
    std::vector<int> planes;  ///< the pass planes this window's outputs read, in the copy's order
    std::unique_ptr<ScratchCogSink> sink;
  };
  std::vector<Part> parts;
  std::vector<float> copy;  ///< writer-thread buffer: a tile's part, plane after plane
};

WindowedCogSink::WindowedCogSink(Grid const& grid, std::vector<OutputRaster> outputs, CogOptions options)
    : m_impl(std::make_unique<Impl>()) {
  // Outputs grouped by window, in the order their windows first appear.
  auto key = [](TileWindow const& w) { return std::tuple(w.x0, w.y0, w.width, w.height); };
  std::map<std::tuple<std::int64_t, std::int64_t, std::int32_t, std::int32_t>, std::size_t> index;
  std::vector<std::vector<OutputRaster>> groups;
  for (std::size_t k = 0; k < outputs.size(); ++k) {
    auto out = outputs[k];
    out.plane = source_plane(outputs, k);
    TileWindow w = out.window.value_or(TileWindow{0, 0, 0, static_cast<std::int32_t>(grid.width),
                                                  static_cast<std::int32_t>(grid.height)});
    RECLAIM_EXPECTS(w.width > 0 && w.height > 0 && w.x0 >= 0 && w.y0 >= 0 && w.x0 + w.width <= grid.width &&
                        w.y0 + w.height <= grid.height,
                    "output window outside the grid");
    out.window = w;
    auto [it, fresh] = index.try_emplace(key(w), groups.size());
    if (fresh) groups.emplace_back();
    groups[it->second].push_back(std::move(out));
  }
  for (auto& group : groups) {
    Impl::Part part;
    part.window = *group.front().window;
    for (auto& out : group) {
      auto const at = std::find(part.planes.begin(), part.planes.end(), out.plane);
      int const local = static_cast<int>(at - part.planes.begin());
      if (at == part.planes.end()) part.planes.push_back(out.plane);
      out.plane = local;
      out.window.reset();
      std::error_code ec;
      fs::create_directories(out.path.parent_path(), ec);
      if (ec) throw io_error(out.path.parent_path().string() + ": cannot create the folder (" + ec.message() + ")");
    }
    Grid sub = grid;
    sub.width = part.window.width;
    sub.height = part.window.height;
    sub.geotransform = window_geotransform(grid, part.window);
    part.sink = std::make_unique<ScratchCogSink>(sub, std::move(group), options);
    m_impl->parts.push_back(std::move(part));
  }
}

WindowedCogSink::~WindowedCogSink() = default;  // each ScratchCogSink removes its scratch files

void WindowedCogSink::write(TileWindow const& tile, float const* planes, int plane_count) {
  std::size_t const n = tile.pixel_count();
  for (auto& part : m_impl->parts) {
    auto const& w = part.window;
    auto const common = intersection(tile, w);
    if (common.pixel_count() == 0) continue;
    std::int64_t const x0 = common.x0, y0 = common.y0, y1 = common.y0 + common.height;
    TileWindow local = common;  // on the window's own grid
    local.id = tile.id;
    local.x0 = x0 - w.x0;
    local.y0 = y0 - w.y0;
    std::size_t const m = local.pixel_count();
    m_impl->copy.resize(m * part.planes.size());
    for (std::size_t p = 0; p < part.planes.size(); ++p) {
      RECLAIM_EXPECTS(part.planes[p] < plane_count, "sink plane count mismatch");
      float const* src = planes + static_cast<std::size_t>(part.planes[p]) * n;
      float* dst = m_impl->copy.data() + p * m;
      for (std::int64_t y = y0; y < y1; ++y)
        std::copy_n(src + (y - tile.y0) * tile.width + (x0 - tile.x0), local.width,
                    dst + (y - y0) * local.width);
    }
    part.sink->write(local, m_impl->copy.data(), static_cast<int>(part.planes.size()));
  }
}

void WindowedCogSink::finish(FinishProgress const& progress) {
  auto const n = static_cast<double>(m_impl->parts.size());
  for (std::size_t k = 0; k < m_impl->parts.size(); ++k) {
    FinishProgress const of_all = [&](double f) { progress((static_cast<double>(k) + f) / n); };
    m_impl->parts[k].sink->finish(progress ? of_all : FinishProgress{});
  }
}

}  // namespace reclaim::io
