// Sensor band maps: where each band of an epoch lives, and its calibration.
#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <regex>
#include <string>

#include "io/gdal_util.hpp"
#include "reclaim/error.hpp"
#include "reclaim/index_names.hpp"
#include "reclaim/io/scene.hpp"

namespace reclaim::io {
namespace fs = std::filesystem;
using pixel::Band;

std::optional<Sensor> parse_sensor(std::string_view name) noexcept {
  if (name == "sentinel2-l2a" || name == "s2" || name == "sentinel2") return Sensor::sentinel2_l2a;
  if (name == "landsat-c2l2" || name == "landsat") return Sensor::landsat_c2l2;
  if (name == "generic") return Sensor::generic;
  return std::nullopt;
}

std::string_view sensor_name(Sensor sensor) noexcept {
  switch (sensor) {
    case Sensor::sentinel2_l2a: return "sentinel2-l2a";
    case Sensor::landsat_c2l2: return "landsat-c2l2";
    case Sensor::generic: return "generic";
  }
  return "?";
}

namespace {

/// Band names of each sensor, in Band order, then the quality band.
struct SensorBands {
  std::array<char const*, pixel::kBandCount> bands;
  char const* quality;
};
constexpr SensorBands kSentinel2{{"B02", "B03", "B04", "B08", "B11", "B12"}, "SCL"};
constexpr SensorBands kLandsat{{"SR_B2", "SR_B3", "SR_B4", "SR_B5", "SR_B6", "SR_B7"}, "QA_PIXEL"};

SensorBands const* bands_of(Sensor sensor) {
  switch (sensor) {
    case Sensor::sentinel2_l2a: return &kSentinel2;
    case Sensor::landsat_c2l2: return &kLandsat;
    case Sensor::generic: return nullptr;
  }
  return nullptr;
}

std::string upper(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return s;
}

/// True when `token` appears in `name` delimited by start/end or one of "_-. ".
bool has_token(std::string const& name, std::string const& token) {
  std::regex const re("(^|[_\\-. ])" + token + "($|[_\\-. ])");
  return std::regex_search(upper(name), re);
}

bool is_raster_file(fs::path const& p) {
  auto const ext = upper(p.extension().string());
  return ext == ".TIF" || ext == ".TIFF" || ext == ".JP2" || ext == ".VRT" || ext == ".IMG";
}

/// Pixel width of band 1 of a file (for picking the finest of several resolutions).
double pixel_width(fs::path const& file) {
  auto ds = open_raster(file);
  return std::abs(grid_of(*ds).geotransform[1]);
}

/// The finest-resolution file under `dir` (recursive) whose name holds `token`.
std::optional<BandRef> find_band_file(fs::path const& dir, std::string const& token) {
  std::optional<BandRef> best;
  double best_width = 0;
  for (auto const& entry : fs::recursive_directory_iterator(dir)) {
    if (!entry.is_regular_file() || !is_raster_file(entry.path())) continue;
    if (!has_token(entry.path().stem().string(), token)) continue;
    double const w = pixel_width(entry.path());
    if (!best || w < best_width || (w == best_width && entry.path() < best->file)) {
      best = BandRef{entry.path(), 1};
      best_width = w;
    }
  }
  return best;
}

/// Band number in a multiband file whose description names `token` (0: none).
int band_by_description(GDALDataset& ds, std::string const& token) {
  for (int b = 1; b <= ds.GetRasterCount(); ++b) {
    std::string const desc = ds.GetRasterBand(b)->GetDescription();
    if (!desc.empty() && has_token(desc, token)) return b;
  }
  return 0;
}

bool is_integer(std::string const& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c); });
}

/// "--bands red=3" (band of the input file) or "red=PATH" (band 1 of PATH).
BandRef band_from_spec(std::string const& spec, fs::path const& input, std::string_view what) {
  if (is_integer(spec)) {
    if (input.empty() || fs::is_directory(input))
      throw usage_error(std::string(what) + "=" + spec + ": a band number needs --input to be a multiband file");
    auto ds = open_raster(input);
    // Digits only, so from_chars fails only by overflow ("red=99999999999"): out of range too
    // (std::stoi threw std::out_of_range there, which the CLI reported as a bug, exit 1).
    int band = 0;
    if (std::from_chars(spec.data(), spec.data() + spec.size(), band).ec != std::errc{}) band = -1;
    if (band < 1 || band > ds->GetRasterCount())
      throw input_error(input.string() + ": has " + std::to_string(ds->GetRasterCount()) + " bands, " +
                        std::string(what) + " asks for band " + spec);
    return BandRef{input, band};
  }
  fs::path const file(spec);
  open_raster(file);  // fails early with the file named
  return BandRef{file, 1};
}

void locate_bands(SceneSpec& scene, fs::path const& input, SensorOptions const& o) {
  SensorBands const* names = bands_of(o.sensor);
  if (!input.empty() && fs::is_directory(input)) {
    if (!names)
      throw usage_error(input.string() + ": a folder input needs a named sensor (or --bands role=FILE,...)");
    for (int b = 0; b < pixel::kBandCount; ++b) scene.bands[b] = find_band_file(input, names->bands[b]);
    scene.mask = find_band_file(input, names->quality);
  } else if (!input.empty()) {
    auto ds = open_raster(input);
    int const count = ds->GetRasterCount();
    if (names) {
      // Band descriptions first ("B04", "SR_B4"); else the documented default order:
      // bands 1..6 = blue, green, red, nir, swir1, swir2 and band 7 = quality band.
      bool any_described = false;
      for (int b = 0; b < pixel::kBandCount; ++b) {
        int const n = band_by_description(*ds, names->bands[b]);
        if (n) scene.bands[b] = BandRef{input, n};
        any_described = any_described || n;
      }
      int const q = band_by_description(*ds, names->quality);
      if (q) scene.mask = BandRef{input, q};
      if (!any_described && count >= pixel::kBandCount) {
        for (int b = 0; b < pixel::kBandCount; ++b) scene.bands[b] = BandRef{input, b + 1};
        if (count > pixel::kBandCount) scene.mask = BandRef{input, pixel::kBandCount + 1};
      }
    }
  }
  for (auto const& [band, spec] : o.band_specs)
    scene.bands[static_cast<int>(band)] = band_from_spec(spec, input, band_name(band));
  if (o.mask_band) {
    if (*o.mask_band == "none")
      scene.mask.reset();
    else
      scene.mask = band_from_spec(*o.mask_band, input, "mask-band");
  }
}

void set_calibration(SceneSpec& scene, SensorOptions const& o) {
  for (int b = 0; b < pixel::kBandCount; ++b) {
    pixel::BandCalibration c;
    switch (o.sensor) {
      case Sensor::sentinel2_l2a:
        c.dn_offset = o.boa_offset;
        c.scale = 1e-4;
        c.has_nodata = true;
        c.nodata = 0.f;
        c.has_saturation = true;
        c.saturation = 65535.f;
        break;
      case Sensor::landsat_c2l2:
        c.scale = 2.75e-5;
        c.offset = -0.2;
        c.has_nodata = true;
        c.nodata = 0.f;
        c.has_saturation = true;
        c.saturation = 65535.f;
        break;
      case Sensor::generic:
        // Without --nodata, the file's own nodata value applies.
        if (scene.bands[b] && !o.nodata) {
          auto ds = open_raster(scene.bands[b]->file);
          int has = 0;
          double const v = ds->GetRasterBand(scene.bands[b]->band)->GetNoDataValue(&has);
          if (has) {
            c.has_nodata = true;
            c.nodata = static_cast<float>(v);
          }
        }
        break;
    }
    if (o.scale) c.scale = *o.scale;
    if (o.offset) c.offset = *o.offset;
    if (o.dn_offset) c.dn_offset = *o.dn_offset;
    if (o.nodata) {
      c.has_nodata = true;
      c.nodata = *o.nodata;
    }
    if (o.saturation) {
      c.has_saturation = true;
      c.saturation = *o.saturation;
    }
    scene.calibration[b] = c;
  }
}

void set_mask_rule(SceneSpec& scene, SensorOptions const& o) {
  pixel::MaskRule rule;
  if (o.mask_values) {
    for (auto v : *o.mask_values) rule.add_class(v);
  } else if (o.sensor == Sensor::sentinel2_l2a) {
    for (std::uint32_t v : {3u, 8u, 9u, 10u}) rule.add_class(v);  // cloud shadow, cloud medium/high, cirrus
  }
  if (o.mask_bits)
    rule.any_bits = *o.mask_bits;
  else if (o.sensor == Sensor::landsat_c2l2)
    rule.any_bits = 0x1Fu;  // QA_PIXEL bits 0-4: fill, dilated cloud, cirrus, cloud, cloud shadow
  scene.mask_rule = rule;
  bool const rule_empty = rule.any_bits == 0 && rule.classes[0] == 0 && rule.classes[1] == 0 &&
                          rule.classes[2] == 0 && rule.classes[3] == 0;
  if (rule_empty) scene.mask.reset();  // a quality band with nothing to mask is not read
}

}  // namespace

SceneSpec resolve_scene(std::string label, fs::path const& input, SensorOptions const& options) {
  ensure_gdal_initialized();
  if (!input.empty() && !fs::exists(input)) throw input_error(input.string() + ": no such file or directory");
  SceneSpec scene;
  scene.label = std::move(label);
  scene.input = input;
  scene.resampling = options.resampling;
  locate_bands(scene, input, options);
  set_calibration(scene, options);
  set_mask_rule(scene, options);
  return scene;
}

/// Every file a scene reads (band files, the mask), once each.
std::vector<std::filesystem::path> scene_files(SceneSpec const& scene) {
  std::vector<std::filesystem::path> files;
  auto add = [&files](std::filesystem::path const& f) {
    if (std::find(files.begin(), files.end(), f) == files.end()) files.push_back(f);
  };
  for (auto const& b : scene.bands)
    if (b) add(b->file);
  if (scene.mask) add(scene.mask->file);
  return files;
}

void require_bands(SceneSpec const& scene, std::vector<pixel::Index> const& indices) {
  for (auto index : indices) {
    for (int b = 0; b < pixel::kBandCount; ++b) {
      if (!(pixel::bands_needed(index) & pixel::band_bit(static_cast<Band>(b))) || scene.bands[b]) continue;
      std::string const where = scene.input.empty() ? std::string("--bands") : scene.input.string();
      throw input_error(where + ": index '" + std::string(index_name(index)) + "' needs band '" +
                        std::string(band_name(static_cast<Band>(b))) + "', which was not found (give --bands " +
                        std::string(band_name(static_cast<Band>(b))) + "=...)");
    }
  }
}

}  // namespace reclaim::io
