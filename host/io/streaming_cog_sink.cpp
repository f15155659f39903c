// StreamingCogSink: GDAL's COG driver encodes while the pass runs (see cog_writer.hpp).
//
// Each output has an encoder thread running COG CreateCopy from a StoreDataset: a
// read-only GDAL dataset whose pixels come from the TileStore, where the writer thread
// leaves finished tiles. The COG driver reads its source in file order (rows of blocks,
// top to bottom), so once an encoder asks for rows at y, tiles ending above y are
// released for that output.
#include <gdal_priv.h>
#include <ogr_spatialref.h>

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <cmath>
#include <cstring>
#include <exception>
#include <mutex>
#include <thread>

#include "io/cog_internal.hpp"
#include "io/gdal_util.hpp"
#include "reclaim/error.hpp"

namespace reclaim::io {
namespace {

enum class TileState : std::uint8_t { pending, present, released };

/// Finished tiles waiting for the encoders, per output, with back-pressure.
class TileStore {
 public:
  TileStore(TilePlan const& plan, int outputs, std::size_t cap_bytes)
      : m_plan(plan),
        m_tiles_x((plan.grid.width + plan.tile_width - 1) / plan.tile_width),
        m_outputs(outputs),
        m_cap(cap_bytes),
        m_data(static_cast<std::size_t>(outputs) * plan.tiles.size()),
        m_state(m_data.size(), TileState::pending),
        m_release_cursor(static_cast<std::size_t>(outputs), 0) {}

  /// Copies the tile's planes in; blocks while the store is over its cap, unless every
  /// running encoder is waiting (then only new tiles can unblock them).
  void put(TileWindow const& w, float const* planes, std::vector<int> const& plane_of) {
    std::size_t const n = w.pixel_count();
    std::unique_lock lock(m_mutex);
    m_changed.wait(lock, [&] {
      return m_aborted || m_bytes + n * sizeof(float) * m_outputs <= m_cap || m_waiting == m_running;
    });
    if (m_aborted) throw io_error("COG encoding stopped");
    for (int k = 0; k < m_outputs; ++k) {
      auto const slot = index(k, w.id);
      auto const p = static_cast<std::size_t>(plane_of[static_cast<std::size_t>(k)]);
      m_data[slot].assign(planes + p * n, planes + (p + 1) * n);
      m_state[slot] = TileState::present;
    }
    m_bytes += n * sizeof(float) * m_outputs;
    m_peak = std::max(m_peak, m_bytes);
    lock.unlock();
    m_changed.notify_all();
  }

  /// Copies a window of output k into dst (Float32 with the given spacing), waiting for
  /// its tiles. Returns false when aborted or when the window was already released
  /// (a non-sequential read the store cannot serve).
  bool read(int k, std::int64_t x, std::int64_t y, int w, int h, float* dst, std::int64_t pixel_step,
            std::int64_t line_step) {
    std::int64_t const tx0 = x / m_plan.tile_width, tx1 = (x + w - 1) / m_plan.tile_width;
    std::int64_t const ty0 = y / m_plan.tile_height, ty1 = (y + h - 1) / m_plan.tile_height;
    std::unique_lock lock(m_mutex);
    release_above(k, y);
    auto ready = [&] {
      for (auto ty = ty0; ty <= ty1; ++ty)
        for (auto tx = tx0; tx <= tx1; ++tx)
          if (m_state[index(k, ty * m_tiles_x + tx)] != TileState::present) return false;
      return true;
    };
    ++m_waiting;
    m_changed.notify_all();  // a writer may be waiting for every encoder to wait
    m_changed.wait(lock, [&] { return m_aborted || ready() || released_any(k, tx0, tx1, ty0, ty1); });
    --m_waiting;
    if (m_aborted || !ready()) return false;
    for (auto ty = ty0; ty <= ty1; ++ty) {
      for (auto tx = tx0; tx <= tx1; ++tx) {
        auto const& tile = m_plan.tiles[static_cast<std::size_t>(ty * m_tiles_x + tx)];
        auto const& data = m_data[index(k, tile.id)];
        std::int64_t const cx0 = std::max(x, tile.x0), cx1 = std::min(x + w, tile.x0 + tile.width);
        std::int64_t const cy0 = std::max(y, tile.y0), cy1 = std::min(y + h, tile.y0 + tile.height);
        for (auto row = cy0; row < cy1; ++row) {
          float const* src = data.data() + (row - tile.y0) * tile.width + (cx0 - tile.x0);
          float* out = dst + (row - y) * line_step + (cx0 - x) * pixel_step;
          if (pixel_step == 1)
            std::memcpy(out, src, static_cast<std::size_t>(cx1 - cx0) * sizeof(float));
          else
            for (auto col = cx0; col < cx1; ++col) out[(col - cx0) * pixel_step] = src[col - cx0];
        }
      }
    }
    return true;
  }

  void encoder_started() {
    std::lock_guard lock(m_mutex);
    ++m_running;
  }
  /// An encoder is done (or failed): release everything it still holds.
  void encoder_finished(int k) {
    {
      std::lock_guard lock(m_mutex);
      --m_running;
      release_above(k, m_plan.grid.height);
    }
    m_changed.notify_all();
  }
  void abort() {
    {
      std::lock_guard lock(m_mutex);
      m_aborted = true;
    }
    m_changed.notify_all();
  }
  /// Waits until every encoder has finished, at most `limit`; false when one has not.
  [[nodiscard]] bool wait_all_finished(std::chrono::milliseconds limit) {
    std::unique_lock lock(m_mutex);
    return m_changed.wait_for(lock, limit, [&] { return m_running == 0; });
  }
  [[nodiscard]] bool aborted() {
    std::lock_guard lock(m_mutex);
    return m_aborted;
  }
  [[nodiscard]] std::size_t peak() {
    std::lock_guard lock(m_mutex);
    return m_peak;
  }

 private:
  [[nodiscard]] std::size_t index(int k, std::int64_t tile) const noexcept {
    return static_cast<std::size_t>(k) * m_plan.tiles.size() + static_cast<std::size_t>(tile);
  }
  bool released_any(int k, std::int64_t tx0, std::int64_t tx1, std::int64_t ty0, std::int64_t ty1) const {
    for (auto ty = ty0; ty <= ty1; ++ty)
      for (auto tx = tx0; tx <= tx1; ++tx)
        if (m_state[index(k, ty * m_tiles_x + tx)] == TileState::released) return true;
    return false;
  }
  /// Frees output k's tiles that end at or above row y (lock held). Tiles are in
  /// row-major order, so a cursor per output makes this linear over the whole pass.
  void release_above(int k, std::int64_t y) {
    bool freed = false;
    auto& cursor = m_release_cursor[static_cast<std::size_t>(k)];
    for (; cursor < m_plan.tiles.size(); ++cursor) {
      auto const& t = m_plan.tiles[cursor];
      if (t.y0 + t.height > y) break;
      auto const slot = index(k, t.id);
      if (m_state[slot] == TileState::present) {
        m_bytes -= m_data[slot].size() * sizeof(float);
        std::vector<float>().swap(m_data[slot]);
        freed = true;
      }
      m_state[slot] = TileState::released;
    }
    if (freed) m_changed.notify_all();
  }

  TilePlan const& m_plan;
  std::int64_t m_tiles_x;
  int m_outputs;
  std::size_t m_cap;
  std::mutex m_mutex;
  std::condition_variable m_changed;
  std::vector<std::vector<float>> m_data;
  std::vector<TileState> m_state;
  std::vector<std::size_t> m_release_cursor;
  std::size_t m_bytes = 0;
  std::size_t m_peak = 0;
  int m_waiting = 0;
  int m_running = 0;
  bool m_aborted = false;
};

/// One output as a read-only GDAL band backed by the TileStore: Float32, or UInt8 with a
/// colour table for class rasters.
class StoreBand final : public GDALRasterBand {
 public:
  StoreBand(GDALDataset* ds, TileStore& store, int output, int block, OutputRaster const& meta)
      : m_store(store), m_output(output), m_categorical(meta.categorical) {
    poDS = ds;
    nBand = 1;
    nRasterXSize = ds->GetRasterXSize();
    nRasterYSize = ds->GetRasterYSize();
    eDataType = m_categorical ? GDT_Byte : GDT_Float32;
    nBlockXSize = std::min(block, nRasterXSize);
    nBlockYSize = std::min(block, nRasterYSize);
    GDALRasterBand::SetDescription(meta.description.c_str());
    for (auto const& n : meta.category_names) m_names.AddString(n.c_str());
    for (std::size_t i = 0; i < meta.colors.size(); ++i) {
      GDALColorEntry const e{meta.colors[i][0], meta.colors[i][1], meta.colors[i][2], meta.colors[i][3]};
      m_colors.SetColorEntry(static_cast<int>(i), &e);
    }
  }
  double GetNoDataValue(int* has) override {
    if (has) *has = TRUE;
    return m_categorical ? 0.0 : std::nan("");
  }
  GDALColorTable* GetColorTable() override { return m_categorical ? &m_colors : nullptr; }
  char** GetCategoryNames() override { return m_categorical ? m_names.List() : nullptr; }
  GDALColorInterp GetColorInterpretation() override { return m_categorical ? GCI_PaletteIndex : GCI_GrayIndex; }

 protected:
  CPLErr IReadBlock(int bx, int by, void* data) override {
    int const x = bx * nBlockXSize, y = by * nBlockYSize;
    int const w = std::min(nBlockXSize, nRasterXSize - x), h = std::min(nBlockYSize, nRasterYSize - y);
    std::size_t const block_pixels = static_cast<std::size_t>(nBlockXSize) * nBlockYSize;
    float* floats = static_cast<float*>(data);
    if (m_categorical) {
      m_scratch.resize(block_pixels);
      floats = m_scratch.data();
    }
    if (w < nBlockXSize || h < nBlockYSize)  // partial edge block: pad with nodata
      std::fill_n(floats, block_pixels, std::nanf(""));
    CPLErr const err = fetch(x, y, w, h, floats, 1, nBlockXSize);
    if (err == CE_None && m_categorical) {
      auto* bytes = static_cast<std::uint8_t*>(data);
      for (std::size_t i = 0; i < block_pixels; ++i)
        bytes[i] = std::isnan(floats[i]) ? 0 : static_cast<std::uint8_t>(floats[i]);
    }
    return err;
  }
  CPLErr IRasterIO(GDALRWFlag rw, int x, int y, int w, int h, void* data, int buf_w, int buf_h, GDALDataType type,
                   GSpacing pixel_space, GSpacing line_space, GDALRasterIOExtraArg* extra) override {
    // Whole-resolution Float32 reads (what the COG driver does) bypass the block cache.
    if (!m_categorical && rw == GF_Read && buf_w == w && buf_h == h && type == GDT_Float32 && pixel_space % 4 == 0 &&
        line_space % 4 == 0)
      return fetch(x, y, w, h, static_cast<float*>(data), pixel_space / 4, line_space / 4);
    return GDALRasterBand::IRasterIO(rw, x, y, w, h, data, buf_w, buf_h, type, pixel_space, line_space, extra);
  }

 private:
  CPLErr fetch(int x, int y, int w, int h, float* dst, std::int64_t pixel_step, std::int64_t line_step) {
    if (m_store.read(m_output, x, y, w, h, dst, pixel_step, line_step)) return CE_None;
    CPLError(CE_Failure, CPLE_AppDefined,
             m_store.aborted() ? "pass aborted" : "non-sequential read of rows already encoded");
    return CE_Failure;
  }

  TileStore& m_store;
  int m_output;
  bool m_categorical;
  CPLStringList m_names;
  GDALColorTable m_colors;
  std::vector<float> m_scratch;
};

class StoreDataset final : public GDALDataset {
 public:
  StoreDataset(Grid const& grid, TileStore& store, int output, int block, OutputRaster const& meta) : m_grid(grid) {
    nRasterXSize = static_cast<int>(grid.width);
    nRasterYSize = static_cast<int>(grid.height);
    if (!grid.crs_wkt.empty()) m_srs.importFromWkt(grid.crs_wkt.c_str());
    m_srs.SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER);
    SetBand(1, new StoreBand(this, store, output, block, meta));
    for (auto const& [key, value] : meta.metadata) GDALDataset::SetMetadataItem(key.c_str(), value.c_str());
  }
  CPLErr GetGeoTransform(double* gt) override {
    std::copy(m_grid.geotransform.begin(), m_grid.geotransform.end(), gt);
    return CE_None;
  }
  OGRSpatialReference const* GetSpatialRef() const override { return m_grid.crs_wkt.empty() ? nullptr : &m_srs; }

 private:
  Grid m_grid;
  OGRSpatialReference m_srs;
};

}  // namespace

struct StreamingCogSink::Impl {
  TilePlan plan;
  std::vector<OutputRaster> outputs;
  CogOptions options;
  std::unique_ptr<TileStore> store;
  std::vector<std::thread> encoders;
  std::mutex error_mutex;
  std::exception_ptr error;
  bool finished = false;
  std::unique_ptr<std::atomic<bool>[]> encoder_done;  ///< set when encoder k has returned

  void join() {
    for (auto& t : encoders)
      if (t.joinable()) t.join();
  }
  void rethrow() {
    std::lock_guard lock(error_mutex);
    if (error) std::rethrow_exception(error);
  }
};

StreamingCogSink::StreamingCogSink(TilePlan const& plan, std::vector<OutputRaster> outputs, CogOptions options,
                                   std::size_t buffer_bytes)
    : m_impl(std::make_unique<Impl>()) {
  ensure_gdal_initialized();
  auto& impl = *m_impl;
  impl.plan = plan;
  impl.outputs = std::move(outputs);
  impl.options = std::move(options);
  int const count = static_cast<int>(impl.outputs.size());
  impl.store = std::make_unique<TileStore>(impl.plan, count, buffer_bytes);
  impl.encoder_done = std::make_unique<std::atomic<bool>[]>(static_cast<std::size_t>(count));
  for (int k = 0; k < count; ++k) {
    impl.store->encoder_started();
    impl.encoders.emplace_back([&impl, k] {
      try {
        StoreDataset source(impl.plan.grid, *impl.store, k, impl.options.block_size,
                            impl.outputs[static_cast<std::size_t>(k)]);
        write_cog(source, impl.outputs[static_cast<std::size_t>(k)].path, impl.options);
      } catch (...) {
        {
          std::lock_guard lock(impl.error_mutex);
          // An abort caused by another failure is not the error to report.
          if (!impl.error && !impl.store->aborted()) impl.error = std::current_exception();
        }
        impl.store->abort();
      }
      impl.encoder_done[static_cast<std::size_t>(k)] = true;
      impl.store->encoder_finished(k);
    });
  }
}

namespace {
std::atomic<bool> g_abandoned{false};
constexpr std::chrono::seconds kAbortLimit{15};
}  // namespace

bool encoders_abandoned() noexcept { return g_abandoned.load(); }

StreamingCogSink::~StreamingCogSink() {
  if (!m_impl) return;
  auto& impl = *m_impl;
  if (!impl.finished) {
    impl.store->abort();  // encoders fail, their temporaries are removed
    // GDAL 3.6's multi-threaded GTiff writer can deadlock when a copy stops with compression
    // jobs queued (OSGeo/gdal#8561, fixed in 3.7.3); seen once in a few hundred SIGTERMs. An
    // encoder stuck there is left behind (the process is ending: main() then exits without
    // running destructors), its temporaries removed here, so a stop never hangs.
    if (!impl.store->wait_all_finished(kAbortLimit)) {
      for (std::size_t k = 0; k < impl.encoders.size(); ++k) {
        if (impl.encoder_done[k]) {
          if (impl.encoders[k].joinable()) impl.encoders[k].join();
          continue;
        }
        impl.encoders[k].detach();
        g_abandoned = true;
        namespace fs = std::filesystem;
        fs::path const out = impl.outputs[k].path;
        std::string const prefix = "." + out.filename().string() + "." + std::to_string(::getpid()) + "-";
        std::error_code ec;
        for (auto const& e : fs::directory_iterator(out.parent_path().empty() ? "." : out.parent_path(), ec))
          if (e.path().filename().string().rfind(prefix, 0) == 0) fs::remove(e.path(), ec);
        std::fprintf(stderr, "reclaim: warning: %s: the COG encoder did not stop in %lld s (a GDAL 3.6 multi-threaded "
                             "GTiff deadlock): left behind, its temporary removed\n",
                     out.string().c_str(), static_cast<long long>(kAbortLimit.count()));
      }
      return;
    }
  }
  impl.join();
}

void StreamingCogSink::write(TileWindow const& window, float const* planes, int plane_count) {
  std::vector<int> plane_of(m_impl->outputs.size());
  for (std::size_t k = 0; k < plane_of.size(); ++k) {
    plane_of[k] = source_plane(m_impl->outputs, k);
    RECLAIM_EXPECTS(plane_of[k] < plane_count, "sink plane count mismatch");
  }
  try {
    m_impl->store->put(window, planes, plane_of);
  } catch (io_error const&) {
    m_impl->join();
    m_impl->rethrow();  // the encoder's own error names the file
    throw;
  }
}

void StreamingCogSink::finish(FinishProgress const&) {  // the encoders ran during the pass
  RECLAIM_EXPECTS(!m_impl->finished, "finish() called twice");
  m_impl->join();
  m_impl->finished = true;
  m_impl->rethrow();
}

std::size_t StreamingCogSink::peak_buffer_bytes() const noexcept { return m_impl->store->peak(); }

std::size_t streaming_buffer_bytes(TilePlan const& plan, int outputs, CogOptions const& options) {
  // The row of COG blocks being encoded spans ceil(block / tile_height) tile rows (one
  // more when they straddle); the next tile row is being filled meanwhile.
  std::size_t const tile_rows =
      static_cast<std::size_t>((options.block_size + plan.tile_height - 1) / plan.tile_height) + 1;
  std::size_t const row_pixels = static_cast<std::size_t>(plan.grid.width) * static_cast<std::size_t>(plan.tile_height);
  return std::min(tile_rows * row_pixels, static_cast<std::size_t>(plan.grid.pixel_count())) * sizeof(float) *
         static_cast<std::size_t>(outputs);
}

namespace {
bool any_windowed(std::vector<OutputRaster> const& outputs) {
  return std::any_of(outputs.begin(), outputs.end(), [](OutputRaster const& o) { return o.window.has_value(); });
}
}  // namespace

bool needs_scratch(TilePlan const& plan, std::vector<OutputRaster> const& outputs, CogOptions const& options,
                   std::size_t budget_bytes) {
  // Overviews make the COG driver read its source twice (overviews first), which a stream
  // cannot serve; windows of the grid are written through scratch files.
  return any_windowed(outputs) || options.overviews || streaming_buffer_bytes(plan, static_cast<int>(outputs.size()), options) > budget_bytes;
}

std::unique_ptr<CogSink> make_cog_sink(TilePlan const& plan, std::vector<OutputRaster> outputs,
                                       CogOptions const& options, std::size_t budget_bytes) {
  if (any_windowed(outputs)) return std::make_unique<WindowedCogSink>(plan.grid, std::move(outputs), options);
  if (!needs_scratch(plan, outputs, options, budget_bytes))
    return std::make_unique<StreamingCogSink>(plan, std::move(outputs), options, budget_bytes);
  return std::make_unique<ScratchCogSink>(plan.grid, std::move(outputs), options);
}

}  // namespace reclaim::io
