#include "reclaim/io/cog_writer.hpp"

#include <cpl_string.h>
#include <ogr_spatialref.h>

#include <cmath>
#include <system_error>

#include "io/cog_internal.hpp"

#include "io/gdal_util.hpp"
#include "reclaim/error.hpp"

namespace reclaim::io {
namespace fs = std::filesystem;

/// ".<name><suffix>" (built by appending: GCC 12 warns falsely on "." + string).
std::string hidden_name(fs::path const& path, char const* suffix) {
  std::string name(".");
  name += path.filename().string();
  name += suffix;
  return name;
}

fs::path cog_temp_path(fs::path const& final_path) {
  return final_path.parent_path() / hidden_name(final_path, ".tmp");
}

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

void write_cog(GDALDataset& source, fs::path const& path, CogOptions const& options) {
  auto* cog = GetGDALDriverManager()->GetDriverByName("COG");
  RECLAIM_EXPECTS(cog != nullptr, "GDAL has no COG driver (GDAL >= 3.1 needed)");
  CPLStringList co;
  co.SetNameValue("COMPRESS", options.compression.c_str());
  co.SetNameValue("PREDICTOR", "YES");  // floating-point predictor for Float32
  co.SetNameValue("BLOCKSIZE", std::to_string(options.block_size).c_str());
  co.SetNameValue("NUM_THREADS", "ALL_CPUS");
  co.SetNameValue("BIGTIFF", "IF_SAFER");
  co.SetNameValue("OVERVIEWS", options.overviews ? "AUTO" : "NONE");
  if (options.overviews) co.SetNameValue("OVERVIEW_RESAMPLING", "AVERAGE");
  auto const tmp = cog_temp_path(path);
  CPLErrorReset();
  GDALDatasetUniquePtr dst(cog->CreateCopy(tmp.c_str(), &source, FALSE, co.List(), nullptr, nullptr));
  bool closed_ok = dst != nullptr;
  dst.reset();  // closing writes the last bytes; GDAL 3.6 reports failures only as errors
  closed_ok = closed_ok && CPLGetLastErrorType() != CE_Failure && CPLGetLastErrorType() != CE_Fatal;
  std::error_code ec;
  if (!closed_ok) {
    fs::remove(tmp, ec);
    throw io_error(path.string() + ": cannot write COG (" + last_gdal_error() + ")");
  }
  // Category names and other PAM metadata land in <name>.aux.xml: it moves with the file.
  fs::path const tmp_aux = tmp.string() + ".aux.xml";
  if (fs::exists(tmp_aux, ec)) {
    fs::rename(tmp_aux, path.string() + ".aux.xml", ec);
    if (ec) throw io_error(path.string() + ".aux.xml: cannot rename from " + tmp_aux.string() + " (" + ec.message() + ")");
  }
  fs::rename(tmp, path, ec);
  if (ec) throw io_error(path.string() + ": cannot rename from " + tmp.string() + " (" + ec.message() + ")");
}

struct ScratchCogSink::Impl {
  Grid grid;
  std::vector<OutputRaster> outputs;
  CogOptions options;
  std::vector<fs::path> scratch_paths;
  std::vector<GDALDatasetUniquePtr> scratch;
  bool finished = false;

  static fs::path scratch_path(fs::path const& final_path) {
    return final_path.parent_path() / hidden_name(final_path, ".partial.tif");
  }

  void remove_scratch() noexcept {
    scratch.clear();
    std::error_code ec;
    for (auto const& p : scratch_paths) {
      fs::remove(p, ec);
      fs::remove(p.string() + ".aux.xml", ec);
    }
  }
};

ScratchCogSink::ScratchCogSink(Grid const& grid, std::vector<OutputRaster> outputs, CogOptions options)
    : m_impl(std::make_unique<Impl>()) {
  ensure_gdal_initialized();
  m_impl->grid = grid;
  m_impl->outputs = std::move(outputs);
  m_impl->options = std::move(options);
  auto* gtiff = GetGDALDriverManager()->GetDriverByName("GTiff");
  RECLAIM_EXPECTS(gtiff != nullptr, "GDAL has no GTiff driver");
  for (auto const& out : m_impl->outputs) {
    auto const path = Impl::scratch_path(out.path);
    m_impl->scratch_paths.push_back(path);
    CPLStringList co;
    co.SetNameValue("TILED", "YES");
    co.SetNameValue("BLOCKXSIZE", "256");
    co.SetNameValue("BLOCKYSIZE", "256");
    co.SetNameValue("BIGTIFF", "IF_NEEDED");
    co.SetNameValue("SPARSE_OK", "TRUE");
    GDALDatasetUniquePtr ds(gtiff->Create(path.c_str(), static_cast<int>(grid.width), static_cast<int>(grid.height), 1,
                                          out.categorical ? GDT_Byte : GDT_Float32, co.List()));
    if (!ds) {
      m_impl->remove_scratch();
      throw io_error(out.path.string() + ": cannot create output (" + last_gdal_error() + ")");
    }
    ds->SetGeoTransform(const_cast<double*>(grid.geotransform.data()));
    if (!grid.crs_wkt.empty()) {
      OGRSpatialReference srs;
      if (srs.importFromWkt(grid.crs_wkt.c_str()) == OGRERR_NONE) ds->SetSpatialRef(&srs);
    }
    describe_band(*ds->GetRasterBand(1), out);
    for (auto const& [key, value] : out.metadata) ds->SetMetadataItem(key.c_str(), value.c_str());
    m_impl->scratch.push_back(std::move(ds));
  }
}

ScratchCogSink::~ScratchCogSink() {
  if (m_impl) m_impl->remove_scratch();
}

void ScratchCogSink::write(TileWindow const& w, float const* planes, int plane_count) {
  RECLAIM_EXPECTS(plane_count == static_cast<int>(m_impl->scratch.size()), "sink plane count mismatch");
  std::size_t const n = w.pixel_count();
  for (int k = 0; k < plane_count; ++k) {
    auto* band = m_impl->scratch[static_cast<std::size_t>(k)]->GetRasterBand(1);
    CPLErr const err = band->RasterIO(GF_Write, static_cast<int>(w.x0), static_cast<int>(w.y0), w.width, w.height,
                                      const_cast<float*>(planes + static_cast<std::size_t>(k) * n), w.width, w.height,
                                      GDT_Float32, 0, 0, nullptr);
    if (err != CE_None)
      throw io_error(m_impl->outputs[static_cast<std::size_t>(k)].path.string() + ": write failed (" +
                     last_gdal_error() + ")");
  }
}

void ScratchCogSink::finish() {
  RECLAIM_EXPECTS(!m_impl->finished, "finish() called twice");
  for (std::size_t k = 0; k < m_impl->outputs.size(); ++k) {
    auto& src = m_impl->scratch[k];
    src->FlushCache();
    write_cog(*src, m_impl->outputs[k].path, m_impl->options);
    src.reset();
    std::error_code ec;
    fs::remove(m_impl->scratch_paths[k], ec);
  }
  m_impl->finished = true;
}

}  // namespace reclaim::io
