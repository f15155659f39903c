#include "reclaim/io/cog_writer.hpp"

#include <cpl_string.h>
#include <ogr_spatialref.h>

#include <cmath>
#include <map>
#include <system_error>

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "io/cog_internal.hpp"

#include "io/gdal_util.hpp"
#include "io/output_file.hpp"
#include "reclaim/cpus.hpp"
#include "reclaim/error.hpp"
#include "reclaim/interrupt.hpp"

namespace reclaim::io {
namespace fs = std::filesystem;


void describe_band(GDALRasterBand& band, OutputRaster const& out) {
  band.SetDescription(out.description.c_str());
  if (!out.categorical) {
    band.SetNoDataValue(std::nan(""));
    return;
  }
  band.SetNoDataValue(0);
  CPLStringList names;
  for (auto const& n : out.category_names) names.AddString(n.c_str());
  band.SetCategoryNames(names.List());
  GDALColorTable table;
  for (std::size_t i = 0; i < out.colors.size(); ++i) {
    GDALColorEntry const e{out.colors[i][0], out.colors[i][1], out.colors[i][2], out.colors[i][3]};
    table.SetColorEntry(static_cast<int>(i), &e);
  }
  band.SetColorTable(&table);
}

namespace {

/// GDAL progress callback: reports the fraction done (data: a CogSink::FinishProgress, or null)
/// and stops the encoding when the run was asked to stop (SIGINT, SIGTERM).
int CPL_STDCALL continue_unless_stopped(double done, char const*, void* data) {
  if (data != nullptr) (*static_cast<CogSink::FinishProgress const*>(data))(done);
  return stop_requested() ? FALSE : TRUE;
}

/// The first failure GDAL reports while a COG is written, with errno as it was then: GDAL's own
/// later steps (a "TIFF directory" error, removing its temporary) hide a full disk otherwise.
struct FirstFailure {
  int err = 0;
  std::string message;
};

void CPL_STDCALL record_first_failure(CPLErr level, CPLErrorNum, char const* message) {
  int const err = errno;
  auto* first = static_cast<FirstFailure*>(CPLGetErrorHandlerUserData());
  if (level >= CE_Failure && first->message.empty()) {
    first->err = err;
    first->message = message ? message : "unknown GDAL error";
  }
}

}  // namespace

void write_cog(GDALDataset& source, fs::path const& path, CogOptions const& options,
               CogSink::FinishProgress const& progress) {
  auto* cog = GetGDALDriverManager()->GetDriverByName("COG");
  RECLAIM_EXPECTS(cog != nullptr, "GDAL has no COG driver (GDAL >= 3.1 needed)");
  CPLStringList co;
  co.SetNameValue("COMPRESS", options.compression.c_str());
  co.SetNameValue("PREDICTOR", "YES");  // floating-point predictor for Float32
  // Level: noisy Float32 indices barely compress (NDVI: 67 -> 44 MB at any DEFLATE level), so
  // the fastest level costs nothing in size and halves the encoding time; class rasters do
  // compress, and are cheap at any level.
  int level = options.level;
  if (level <= 0) {
    bool const classes = source.GetRasterCount() > 0 && source.GetRasterBand(1)->GetRasterDataType() == GDT_Byte;
    level = options.compression == "ZSTD" ? (classes ? 9 : 1) : (classes ? 6 : 1);
  }
  co.SetNameValue("LEVEL", std::to_string(level).c_str());
  co.SetNameValue("BLOCKSIZE", std::to_string(options.block_size).c_str());
  co.SetNameValue("NUM_THREADS", std::to_string(thread_count(options.threads)).c_str());
  co.SetNameValue("BIGTIFF", "IF_SAFER");
  co.SetNameValue("OVERVIEWS", options.overviews ? "AUTO" : "NONE");
  if (options.overviews) co.SetNameValue("OVERVIEW_RESAMPLING", "AVERAGE");
  auto const tmp = hidden_temp_path(path);
  CPLErrorReset();
  errno = 0;
  FirstFailure first;
  CPLPushErrorHandlerEx(record_first_failure, &first);  // this thread's only: encoders run side by side
  GDALDatasetUniquePtr dst(cog->CreateCopy(tmp.c_str(), &source, FALSE, co.List(), continue_unless_stopped,
                                           const_cast<CogSink::FinishProgress*>(progress ? &progress : nullptr)));
  bool closed_ok = dst != nullptr;
  dst.reset();  // closing writes the last bytes; GDAL 3.6 reports failures only as errors
  CPLPopErrorHandler();
  closed_ok = closed_ok && first.message.empty();
  if (!closed_ok && first.message.empty()) first.message = last_gdal_error();
  std::error_code ec;
  // Category names and other PAM metadata land in <name>.aux.xml: it moves with the file, and
  // goes with it when the file is abandoned (GDAL writes it on close, even after a failure).
  fs::path const tmp_aux = tmp.string() + ".aux.xml";
  if (!closed_ok) {
    // Before the temporary goes: a full disk shows only while it still holds the space.
    std::string const why = write_failure(path, first.err ? first.err : errno, "cannot write COG (" + first.message + ")");
    fs::remove(tmp, ec);
    fs::remove(tmp_aux, ec);
    if (int const sig = stop_requested()) throw interrupted_error(sig);
    throw io_error(path.string() + ": " + why);
  }
  if (fs::exists(tmp_aux, ec)) {
    fs::rename(tmp_aux, path.string() + ".aux.xml", ec);
    if (ec) throw io_error(path.string() + ".aux.xml: cannot rename from " + tmp_aux.string() + " (" + ec.message() + ")");
  }
  commit_temp(tmp, path);
}

// The scratch file is raw pixels written with pwrite: no GDAL block cache between the writer
// and the disk. (Through the cache, a tile smaller than a scratch block is a read-modify-write,
// and reader threads evicting that dirty block at the same moment lost whole tiles.)
struct ScratchCogSink::Impl {
  Grid grid;
  std::vector<OutputRaster> outputs;
  CogOptions options;
  std::vector<fs::path> scratch_paths;
  std::vector<int> fds;
  std::vector<std::uint8_t> class_row;  ///< writer-thread buffer for UInt8 rows
  bool finished = false;

  static fs::path scratch_path(fs::path const& final_path) {
    return hidden_temp_path(final_path, ".partial.raw");
  }
  [[nodiscard]] std::size_t pixel_bytes(std::size_t k) const { return outputs[k].categorical ? 1 : sizeof(float); }

  void close_files() noexcept {
    for (int& fd : fds)
      if (fd >= 0) {
        ::close(fd);
        fd = -1;
      }
  }
  void remove_scratch() noexcept {
    close_files();
    std::error_code ec;
    for (auto const& p : scratch_paths) fs::remove(p, ec);
  }

  /// The raw scratch file as a GDAL dataset (a VRT raw band), georeferenced and described.
  GDALDatasetUniquePtr open_scratch(std::size_t k) const {
    auto const& out = outputs[k];
    std::string const type = out.categorical ? "Byte" : "Float32";
    std::string xml = "<VRTDataset rasterXSize=\"" + std::to_string(grid.width) + "\" rasterYSize=\"" +
                      std::to_string(grid.height) + "\"><VRTRasterBand dataType=\"" + type +
                      "\" band=\"1\" subClass=\"VRTRawRasterBand\"><SourceFilename relativeToVRT=\"0\">" +
                      CPLString(scratch_paths[k].string()).Recode(CPL_ENC_UTF8, CPL_ENC_UTF8) +
                      "</SourceFilename><ImageOffset>0</ImageOffset><PixelOffset>" + std::to_string(pixel_bytes(k)) +
                      "</PixelOffset><LineOffset>" + std::to_string(pixel_bytes(k) * grid.width) +
                      "</LineOffset><ByteOrder>LSB</ByteOrder></VRTRasterBand></VRTDataset>";
    GDALDatasetUniquePtr ds(GDALDataset::Open(xml.c_str(), GDAL_OF_RASTER | GDAL_OF_UPDATE));
    if (!ds) throw io_error(out.path.string() + ": cannot reopen scratch data (" + last_gdal_error() + ")");
    ds->SetGeoTransform(const_cast<double*>(grid.geotransform.data()));
    if (!grid.crs_wkt.empty()) {
      OGRSpatialReference srs;
      if (srs.importFromWkt(grid.crs_wkt.c_str()) == OGRERR_NONE) ds->SetSpatialRef(&srs);
    }
    describe_band(*ds->GetRasterBand(1), out);
    for (auto const& [key, value] : out.metadata) ds->SetMetadataItem(key.c_str(), value.c_str());
    return ds;
  }
};

std::uintmax_t scratch_bytes(Grid const& grid, std::vector<OutputRaster> const& outputs) {
  std::uintmax_t bytes = 0;
  for (auto const& out : outputs)
    bytes += static_cast<std::uintmax_t>(out.window ? static_cast<std::int64_t>(out.window->pixel_count())
                                                    : grid.pixel_count()) *
             (out.categorical ? 1 : sizeof(float));
  return bytes;
}

ScratchCogSink::ScratchCogSink(Grid const& grid, std::vector<OutputRaster> outputs, CogOptions options)
    : m_impl(std::make_unique<Impl>()) {
  ensure_gdal_initialized();
  m_impl->grid = grid;
  m_impl->outputs = std::move(outputs);
  m_impl->options = std::move(options);
  // Scratch files are sparse until written: without this check a full disk shows up mid-pass.
  std::map<fs::path, std::vector<OutputRaster>> by_folder;
  for (auto const& out : m_impl->outputs) by_folder[out.path.parent_path()].push_back(out);
  for (auto const& [folder, outs] : by_folder)
    require_free_space(folder.empty() ? fs::path(".") : folder, scratch_bytes(grid, outs), "the uncompressed scratch files");
  for (std::size_t k = 0; k < m_impl->outputs.size(); ++k) {
    auto const path = Impl::scratch_path(m_impl->outputs[k].path);
    m_impl->scratch_paths.push_back(path);
    int const fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    m_impl->fds.push_back(fd);
    // Unwritten pixels read back as zeros; every pixel is written before finish() reads.
    if (fd < 0 || ::ftruncate(fd, static_cast<off_t>(m_impl->pixel_bytes(k) * grid.pixel_count())) != 0) {
      std::string const why = std::strerror(errno);
      m_impl->remove_scratch();
      throw io_error(m_impl->outputs[k].path.string() + ": cannot create scratch file " + path.string() + " (" +
                     why + ")");
    }
  }
}

ScratchCogSink::~ScratchCogSink() {
  if (m_impl) m_impl->remove_scratch();
}

void ScratchCogSink::write(TileWindow const& w, float const* planes, int plane_count) {
  std::size_t const n = w.pixel_count();
  for (std::size_t k = 0; k < m_impl->fds.size(); ++k) {
    auto const plane = static_cast<std::size_t>(source_plane(m_impl->outputs, k));
    RECLAIM_EXPECTS(static_cast<int>(plane) < plane_count, "sink plane count mismatch");
    std::size_t const bytes = m_impl->pixel_bytes(k);
    for (std::int32_t row = 0; row < w.height; ++row) {
      float const* src = planes + plane * n + static_cast<std::size_t>(row) * w.width;
      void const* data = src;
      if (m_impl->outputs[k].categorical) {
        m_impl->class_row.resize(static_cast<std::size_t>(w.width));
        for (std::int32_t x = 0; x < w.width; ++x)
          m_impl->class_row[static_cast<std::size_t>(x)] = std::isnan(src[x]) ? 0 : static_cast<std::uint8_t>(src[x]);
        data = m_impl->class_row.data();
      }
      auto const offset = static_cast<off_t>(((w.y0 + row) * m_impl->grid.width + w.x0) * static_cast<std::int64_t>(bytes));
      std::size_t const len = bytes * static_cast<std::size_t>(w.width);
      if (::pwrite(m_impl->fds[k], data, len, offset) != static_cast<ssize_t>(len)) {
        int const err = errno;
        auto const& out = m_impl->outputs[k].path;
        throw io_error(out.string() + ": " +
                       write_failure(out, err, "write to scratch file failed (" + std::string(std::strerror(err)) + ")"));
      }
    }
  }
}

void ScratchCogSink::finish(FinishProgress const& progress) {
  RECLAIM_EXPECTS(!m_impl->finished, "finish() called twice");
  m_impl->close_files();
  auto const n = static_cast<double>(m_impl->outputs.size());
  for (std::size_t k = 0; k < m_impl->outputs.size(); ++k) {
    auto src = m_impl->open_scratch(k);
    FinishProgress const of_all = [&](double f) { progress((static_cast<double>(k) + f) / n); };  // outputs one by one
    write_cog(*src, m_impl->outputs[k].path, m_impl->options, progress ? of_all : FinishProgress{});
    src.reset();
    std::error_code ec;
    fs::remove(m_impl->scratch_paths[k], ec);
  }
  m_impl->finished = true;
}

}  // namespace reclaim::io
