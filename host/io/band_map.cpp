// Sensor band maps: where each band of an epoch lives, and its calibration.
#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <regex>
#include <string>

#include <nlohmann/json.hpp>

#include "io/gdal_util.hpp"
#include "reclaim/error.hpp"
#include "reclaim/index_names.hpp"
#include "reclaim/io/number_text.hpp"
#include "reclaim/io/scene.hpp"

namespace reclaim::io {
namespace fs = std::filesystem;
using pixel::Band;

std::optional<Sensor> parse_sensor(std::string_view name) noexcept {
  if (name == "sentinel2-l2a" || name == "s2" || name == "sentinel2") return Sensor::sentinel2_l2a;
  if (name == "sentinel2-l1c") return Sensor::sentinel2_l1c;
  if (name == "landsat-c2l2" || name == "landsat") return Sensor::landsat_c2l2;
  if (name == "landsat-c2l1") return Sensor::landsat_c2l1;
  if (name == "generic") return Sensor::generic;
  return std::nullopt;
}

std::string_view sensor_name(Sensor sensor) noexcept {
  switch (sensor) {
    case Sensor::sentinel2_l2a: return "sentinel2-l2a";
    case Sensor::sentinel2_l1c: return "sentinel2-l1c";
    case Sensor::landsat_c2l2: return "landsat-c2l2";
    case Sensor::landsat_c2l1: return "landsat-c2l1";
    case Sensor::generic: return "generic";
  }
  return "?";
}

namespace {

/// Band names of each sensor, in Band order, then the quality band (none for L1C).
struct SensorBands {
  std::array<char const*, pixel::kBandCount> bands;
  char const* quality;
};
constexpr SensorBands kSentinel2{{"B02", "B03", "B04", "B08", "B11", "B12"}, "SCL"};
constexpr SensorBands kSentinel2L1c{{"B02", "B03", "B04", "B08", "B11", "B12"}, nullptr};
constexpr SensorBands kLandsat{{"SR_B2", "SR_B3", "SR_B4", "SR_B5", "SR_B6", "SR_B7"}, "QA_PIXEL"};
constexpr SensorBands kLandsatL1{{"B2", "B3", "B4", "B5", "B6", "B7"}, "QA_PIXEL"};
/// Landsat 8/9 OLI band numbers of blue .. swir2 (the MTL's REFLECTANCE_*_BAND_n).
constexpr std::array<int, pixel::kBandCount> kOliBand{2, 3, 4, 5, 6, 7};
/// Sentinel-2 band_id (0 = B1 .. 12 = B12, B8A = 8) of blue .. swir2 in MTD_MSIL*.xml.
constexpr std::array<int, pixel::kBandCount> kMsiBandId{1, 2, 3, 7, 11, 12};
constexpr char kSensorList[] = "sentinel2-l2a, sentinel2-l1c, landsat-c2l2, landsat-c2l1 or generic";

SensorBands const* bands_of(Sensor sensor) {
  switch (sensor) {
    case Sensor::sentinel2_l2a: return &kSentinel2;
    case Sensor::sentinel2_l1c: return &kSentinel2L1c;
    case Sensor::landsat_c2l2: return &kLandsat;
    case Sensor::landsat_c2l1: return &kLandsatL1;
    case Sensor::generic: return nullptr;
  }
  return nullptr;
}

bool is_sentinel2(Sensor s) { return s == Sensor::sentinel2_l2a || s == Sensor::sentinel2_l1c; }

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
    std::error_code ec;
    if (input.empty() || fs::is_directory(input, ec))
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

/// Where messages about a scene point: its input, or the band map when it has none.
std::string where_of(SceneSpec const& scene) {
  return scene.input.empty() ? std::string("--bands") : scene.input.string();
}

/// Without --sensor, a multiband file whose band descriptions name another preset's bands is
/// that sensor's, not the default's: refused rather than read with the wrong calibration.
void refuse_other_preset(GDALDataset& ds, fs::path const& input, Sensor assumed) {
  for (Sensor other : {Sensor::landsat_c2l2, Sensor::sentinel2_l2a}) {
    if (other == assumed) continue;
    for (char const* token : bands_of(other)->bands)
      if (band_by_description(ds, token))
        throw usage_error(input.string() + ": its band descriptions name " + std::string(token) +
                          ", a band of " + std::string(sensor_name(other)) + ", but no --sensor was given (" +
                          std::string(sensor_name(assumed)) + " is only assumed): give --sensor " + kSensorList);
  }
}

void locate_bands(SceneSpec& scene, fs::path const& input, SensorOptions const& o) {
  SensorBands const* names = bands_of(o.sensor);
  bool quality_found = false;
  std::error_code ec;
  if (!input.empty() && fs::is_directory(input, ec)) {
    if (!names)
      throw usage_error(input.string() + ": a folder input needs a named sensor (or --bands role=FILE,...)");
    for (int b = 0; b < pixel::kBandCount; ++b) scene.bands[b] = find_band_file(input, names->bands[b]);
    if (names->quality) scene.mask = find_band_file(input, names->quality);
    quality_found = scene.mask.has_value();
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
      int const q = names->quality ? band_by_description(*ds, names->quality) : 0;
      if (q) scene.mask = BandRef{input, q};
      if (!any_described && !o.sensor_given && o.band_specs.empty()) refuse_other_preset(*ds, input, o.sensor);
      if (!any_described && count >= pixel::kBandCount) {
        for (int b = 0; b < pixel::kBandCount; ++b) scene.bands[b] = BandRef{input, b + 1};
        if (count > pixel::kBandCount && names->quality) scene.mask = BandRef{input, pixel::kBandCount + 1};
      }
      quality_found = scene.mask.has_value();
    }
  }
  for (auto const& [band, spec] : o.band_specs)
    scene.bands[static_cast<int>(band)] = band_from_spec(spec, input, band_name(band));
  if (o.mask_band) {
    if (*o.mask_band == "none")
      scene.mask.reset();
    else
      scene.mask = band_from_spec(*o.mask_band, input, "mask-band");
    return;
  }
  if (!names || !names->quality || quality_found) return;
  // The preset masks with a quality band the input does not have: never run unmasked unnoticed.
  std::string const problem = where_of(scene) + ": no " + names->quality + " band found";
  if (!o.sensor_given)
    throw usage_error(problem + ", which the assumed sensor " + std::string(sensor_name(o.sensor)) +
                      " masks with (no --sensor was given): give --sensor " + kSensorList +
                      " (sentinel2-l1c for a Level-1C product), or --mask-band N|FILE|none");
  scene.warnings.push_back(problem + ": not cloud-masked; give --mask-band N|FILE, or --mask-band none to run "
                           "unmasked without this warning");
}

/// The shortest text that reads back as `v`, %g-style ("0.0001", "2.75e-05").
std::string general_text(double v) {
  char buf[32];
  auto const res = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::general);
  return std::string(buf, res.ptr);
}

/// "(DN - 1000) x 0.0001 - 0.1": the calibration formula as people write it.
std::string formula(pixel::BandCalibration const& c) {
  std::string text = "DN";
  if (c.dn_offset != 0)
    text = "(DN " + std::string(c.dn_offset < 0 ? "- " : "+ ") + general_text(std::abs(c.dn_offset)) + ")";
  if (c.scale != 1) text += " x " + general_text(c.scale);
  if (c.offset != 0) text += std::string(c.offset < 0 ? " - " : " + ") + general_text(std::abs(c.offset));
  return text;
}

/// The value of `<tag ...>VALUE</tag>` elements of a Sentinel-2 metadata file, by band_id
/// (-1 for an element without one).
std::map<int, double> xml_values(std::string const& text, std::string const& tag) {
  std::map<int, double> values;
  std::regex const re("<" + tag + "(\\s+band_id=\"([0-9]+)\")?[^>]*>\\s*([-+0-9.eE]+)\\s*</" + tag + ">");
  for (auto it = std::sregex_iterator(text.begin(), text.end(), re); it != std::sregex_iterator(); ++it) {
    int const id = (*it)[2].matched ? std::stoi((*it)[2].str()) : -1;
    values[id] = std::stod((*it)[3].str());
  }
  return values;
}

/// What a Sentinel-2 product's MTD_MSIL2A.xml / MTD_MSIL1C.xml says about its DNs.
struct MsiMetadata {
  fs::path file;
  double quantification = 10000;
  std::array<double, pixel::kBandCount> add_offset{};  ///< 0 before processing baseline 04.00
};

/// A multiband file's own metadata items (as `reclaim synth` writes them): BOA_ADD_OFFSET (L2A)
/// or RADIO_ADD_OFFSET (L1C), one value for every band, and QUANTIFICATION_VALUE.
std::optional<MsiMetadata> file_msi_metadata(fs::path const& input, bool l2a) {
  auto ds = open_raster(input);
  char const* offset = ds->GetMetadataItem(l2a ? "BOA_ADD_OFFSET" : "RADIO_ADD_OFFSET");
  if (!offset) return std::nullopt;
  MsiMetadata m;
  m.file = input;
  auto const value = [&input](char const* key, char const* text) {
    try {
      std::size_t used = 0;
      double const v = std::stod(text, &used);
      if (used == std::string(text).size() && std::isfinite(v)) return v;
    } catch (std::exception const&) {
    }
    throw input_error(input.string() + ": metadata item " + key + " = '" + text + "' is not a number");
  };
  m.add_offset.fill(value(l2a ? "BOA_ADD_OFFSET" : "RADIO_ADD_OFFSET", offset));
  if (char const* q = ds->GetMetadataItem("QUANTIFICATION_VALUE")) m.quantification = value("QUANTIFICATION_VALUE", q);
  if (!(m.quantification > 0)) throw input_error(input.string() + ": QUANTIFICATION_VALUE must be positive");
  return m;
}

/// The product metadata: a multiband file's own items, or MTD_MSIL2A.xml / MTD_MSIL1C.xml in a
/// folder input or up to three folders above it (the .SAFE folder or one of its IMG_DATA folders).
std::optional<MsiMetadata> read_msi_metadata(fs::path const& input, Sensor sensor) {
  bool const l2a = sensor == Sensor::sentinel2_l2a;
  if (!input.empty() && !fs::is_directory(input)) return file_msi_metadata(input, l2a);
  if (input.empty()) return std::nullopt;
  char const* name = l2a ? "MTD_MSIL2A.xml" : "MTD_MSIL1C.xml";
  fs::path dir = fs::absolute(input);
  for (int up = 0; up < 4 && !dir.empty(); ++up, dir = dir.parent_path()) {
    fs::path const file = dir / name;
    std::error_code ec;
    if (!fs::is_regular_file(file, ec)) continue;
    std::ifstream in(file);
    std::string const text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (!in && !in.eof()) throw input_error(file.string() + ": cannot be read");
    MsiMetadata m;
    m.file = file;
    auto const q = xml_values(text, l2a ? "BOA_QUANTIFICATION_VALUE" : "QUANTIFICATION_VALUE");
    if (q.empty()) throw input_error(file.string() + ": no " + std::string(l2a ? "BOA_" : "") + "QUANTIFICATION_VALUE");
    m.quantification = q.begin()->second;
    if (!(m.quantification > 0)) throw input_error(file.string() + ": quantification value must be positive");
    // Absent offsets (processing baseline before 04.00) mean 0.
    auto const offsets = xml_values(text, l2a ? "BOA_ADD_OFFSET" : "RADIO_ADD_OFFSET");
    for (int b = 0; b < pixel::kBandCount; ++b)
      if (auto const it = offsets.find(kMsiBandId[b]); it != offsets.end()) m.add_offset[b] = it->second;
    return m;
  }
  return std::nullopt;
}

/// The values of a Landsat Collection 2 MTL file (.txt, ODL: GROUP = ... / KEY = VALUE, or
/// .json), as "GROUP.KEY" of the innermost group.
struct Mtl {
  fs::path file;
  std::map<std::string, std::string> values;

  [[nodiscard]] double number(std::string const& group, std::string const& key) const {
    auto const it = values.find(group + "." + key);
    if (it == values.end()) throw input_error(file.string() + ": no " + key + " in group " + group);
    try {
      std::size_t used = 0;
      double const v = std::stod(it->second, &used);
      if (used == it->second.size() && std::isfinite(v)) return v;
    } catch (std::exception const&) {
    }
    throw input_error(file.string() + ": " + key + " = " + it->second + ": not a number");
  }
};

void flatten(nlohmann::json const& node, std::string const& group, Mtl& mtl) {
  for (auto const& [key, value] : node.items()) {
    if (value.is_object())
      flatten(value, key, mtl);
    else if (value.is_string())
      mtl.values[group + "." + key] = value.get<std::string>();
    else if (value.is_number())
      mtl.values[group + "." + key] = value.dump();
  }
}

Mtl read_mtl(fs::path const& file) {
  std::ifstream in(file);
  if (!in) throw input_error(file.string() + ": cannot open the MTL file");
  Mtl mtl;
  mtl.file = file;
  if (upper(file.extension().string()) == ".JSON") {
    try {
      flatten(nlohmann::json::parse(in), "", mtl);
    } catch (nlohmann::json::exception const& e) {
      throw input_error(file.string() + ": not a JSON MTL file (" + e.what() + ")");
    }
    return mtl;
  }
  std::regex const line_re("^\\s*([A-Za-z0-9_]+)\\s*=\\s*\"?([^\"]*?)\"?\\s*$");
  std::vector<std::string> groups;
  std::string line;
  while (std::getline(in, line)) {
    std::smatch m;
    if (!std::regex_match(line, m, line_re)) continue;
    if (m[1] == "GROUP")
      groups.push_back(m[2]);
    else if (m[1] == "END_GROUP" && !groups.empty())
      groups.pop_back();
    else if (!groups.empty())
      mtl.values[groups.back() + "." + m[1].str()] = m[2];
  }
  if (mtl.values.empty()) throw input_error(file.string() + ": not an MTL file (no GROUP = ... / KEY = VALUE lines)");
  return mtl;
}

bool is_mtl_name(fs::path const& p) {
  auto const name = upper(p.filename().string());
  auto ends = [&name](std::string const& suffix) {
    return name.size() >= suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0;
  };
  return ends("_MTL.TXT") || ends("_MTL.JSON");
}

/// --mtl, else the one *_MTL.txt (or, failing that, *_MTL.json) in the folder input or beside
/// the input file (or the first band file).
fs::path find_mtl(SceneSpec const& scene, SensorOptions const& o) {
  if (o.mtl) {
    if (!fs::is_regular_file(*o.mtl)) throw input_error(o.mtl->string() + ": no such MTL file (--mtl)");
    return *o.mtl;
  }
  fs::path dir = scene.input;
  if (dir.empty())
    for (auto const& b : scene.bands)
      if (b) {
        dir = b->file;
        break;
      }
  if (!dir.empty() && !fs::is_directory(dir)) dir = dir.parent_path();
  if (dir.empty()) dir = ".";
  std::vector<fs::path> txt, json;
  for (auto const& entry : fs::directory_iterator(dir))
    if (entry.is_regular_file() && is_mtl_name(entry.path()))
      (upper(entry.path().extension().string()) == ".TXT" ? txt : json).push_back(entry.path());
  auto const& found = txt.empty() ? json : txt;
  if (found.size() == 1) return found.front();
  if (found.empty())
    throw input_error(where_of(scene) + ": landsat-c2l1 needs the scene's MTL file (*_MTL.txt or *_MTL.json in " +
                      dir.string() + "), or --mtl FILE");
  throw usage_error(where_of(scene) + ": several MTL files in " + dir.string() + " (" + found[0].filename().string() +
                    ", " + found[1].filename().string() + "): name one with --mtl FILE");
}

void set_calibration(SceneSpec& scene, SensorOptions const& o) {
  std::optional<MsiMetadata> msi;
  if (is_sentinel2(o.sensor) && !o.boa_offset && !o.dn_offset) msi = read_msi_metadata(scene.input, o.sensor);
  std::optional<Mtl> mtl;
  double sin_elevation = 1;
  if (o.sensor == Sensor::landsat_c2l1 && !(o.scale && o.offset)) {
    mtl = read_mtl(find_mtl(scene, o));
    double const elevation = mtl->number("IMAGE_ATTRIBUTES", "SUN_ELEVATION");
    if (!(elevation > 0 && elevation <= 90))
      throw input_error(mtl->file.string() + ": SUN_ELEVATION = " + shortest_text(elevation) +
                        ": the sun is not above the horizon; TOA reflectance is undefined");
    sin_elevation = std::sin(elevation * 3.14159265358979323846 / 180.0);
  }
  bool dn_offset_assumed = false;
  for (int b = 0; b < pixel::kBandCount; ++b) {
    pixel::BandCalibration c = preset_calibration(o.sensor);
    switch (o.sensor) {
      case Sensor::sentinel2_l2a:
      case Sensor::sentinel2_l1c:
        // Processing baseline 04.00 (January 2022) added BOA_ADD_OFFSET / RADIO_ADD_OFFSET = -1000.
        if (o.boa_offset) {
          c.dn_offset = *o.boa_offset;
        } else if (msi) {
          c.dn_offset = msi->add_offset[b];
        } else {
          auto const per_band = o.band_calibration.find(static_cast<Band>(b));
          bool const given = o.dn_offset || (per_band != o.band_calibration.end() && per_band->second.dn_offset);
          dn_offset_assumed = dn_offset_assumed || (scene.bands[b] && !given);
        }
        if (msi) c.scale = 1.0 / msi->quantification;
        break;
      case Sensor::landsat_c2l2:
        break;
      case Sensor::landsat_c2l1:
        // rho = (M * DN + A) / sin(sun elevation), USGS Landsat 8-9 Collection 2 Level-1.
        if (mtl && scene.bands[b]) {
          std::string const n = std::to_string(kOliBand[b]);
          c.scale = mtl->number("LEVEL1_RADIOMETRIC_RESCALING", "REFLECTANCE_MULT_BAND_" + n) / sin_elevation;
          c.offset = mtl->number("LEVEL1_RADIOMETRIC_RESCALING", "REFLECTANCE_ADD_BAND_" + n) / sin_elevation;
        }
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
    apply_calibration_options(c, static_cast<Band>(b), o);
    scene.calibration[b] = c;
  }
  // Without --sensor one warning says it all (resolve_scene); otherwise the baseline guess.
  if (dn_offset_assumed && o.sensor_given)
    scene.warnings.push_back(
        where_of(scene) + ": " + std::string(sensor_name(o.sensor)) + ": no --boa-offset and no " +
        (o.sensor == Sensor::sentinel2_l2a ? "MTD_MSIL2A.xml or BOA_ADD_OFFSET" : "MTD_MSIL1C.xml or RADIO_ADD_OFFSET") +
        " found: assuming processing baseline " +
        (o.sensor == Sensor::sentinel2_l2a ? "before 04.00" : "04.00 or later") + ", reflectance = " +
        calibration_text(scene) + "; give --boa-offset " +
        (o.sensor == Sensor::sentinel2_l2a ? "-1000 for a product of baseline 04.00 or later (from 25 January 2022)"
                                           : "0 for a product of a baseline before 04.00 (before 25 January 2022)"));
}

std::string join_values(std::vector<std::uint32_t> const& values) {
  std::string text;
  for (auto v : values) {
    if (!text.empty()) text += ',';
    text += std::to_string(v);
  }
  return text;
}

/// "band 7 of scene.tif", "scene_SCL.tif" (band 1 of a single-band file).
std::string band_text(BandRef const& ref) {
  auto ds = open_raster(ref.file);
  if (ds->GetRasterCount() == 1) return ref.file.string();
  return "band " + std::to_string(ref.band) + " of " + ref.file.string();
}

void set_mask_rule(SceneSpec& scene, SensorOptions const& o) {
  QualityMask const mask = quality_mask(o.sensor, o);
  scene.mask_rule = mask.rule();
  bool const rule_empty = mask.empty();
  bool const explicit_band = o.mask_band && *o.mask_band != "none";
  // An explicit mask that would do nothing is a mistake, not a request to run unmasked.
  if (explicit_band && rule_empty)
    throw usage_error("--mask-band " + *o.mask_band + ": " + std::string(sensor_name(o.sensor)) +
                      " masks nothing by default: give --mask-values and/or --mask-bits");
  if ((o.mask_values || o.mask_bits) && !scene.mask && !(o.mask_band && *o.mask_band == "none"))
    throw usage_error(where_of(scene) + ": --mask-values/--mask-bits need a quality band, and none was found: "
                      "give --mask-band N|FILE");
  if (rule_empty) scene.mask.reset();  // a quality band with nothing to mask is not read
  if (!scene.mask) {
    scene.mask_text = "none";
    return;
  }
  std::string const name = !o.mask_band && !mask.band.empty() ? mask.band : "quality band";
  std::string const text = name + " " + mask.text();
  scene.mask_text = text + " (" + band_text(*scene.mask) + ")";
}

}  // namespace

pixel::BandCalibration preset_calibration(Sensor sensor) noexcept {
  pixel::BandCalibration c;
  if (sensor == Sensor::generic) return c;
  // Every preset reads 16-bit DNs: 0 is fill, 65535 saturated.
  c.has_nodata = true;
  c.nodata = 0.f;
  c.has_saturation = true;
  c.saturation = 65535.f;
  switch (sensor) {
    case Sensor::sentinel2_l2a: c.scale = 1e-4; break;
    case Sensor::sentinel2_l1c:
      c.scale = 1e-4;
      c.dn_offset = -1000.0;
      break;
    case Sensor::landsat_c2l2:
      c.scale = 2.75e-5;
      c.offset = -0.2;
      break;
    case Sensor::landsat_c2l1:
    case Sensor::generic: break;
  }
  return c;
}

void apply_calibration_options(pixel::BandCalibration& c, Band band, SensorOptions const& o) {
  if (o.scale) c.scale = *o.scale;
  if (o.offset) c.offset = *o.offset;
  if (o.dn_offset) c.dn_offset = *o.dn_offset;
  if (auto const it = o.band_calibration.find(band); it != o.band_calibration.end()) {
    if (it->second.scale) c.scale = *it->second.scale;
    if (it->second.offset) c.offset = *it->second.offset;
    if (it->second.dn_offset) c.dn_offset = *it->second.dn_offset;
  }
  if (o.nodata) {
    c.has_nodata = true;
    c.nodata = *o.nodata;
  }
  if (o.saturation) {
    c.has_saturation = true;
    c.saturation = *o.saturation;
  }
}

pixel::MaskRule QualityMask::rule() const noexcept {
  pixel::MaskRule r;
  for (auto v : classes) r.add_class(v);
  r.any_bits = bits;
  return r;
}

std::string QualityMask::text() const {
  std::string t;
  if (!classes.empty()) t = "classes " + join_values(classes);
  if (bits) {
    char hex[16];
    std::snprintf(hex, sizeof hex, "0x%X", bits);
    t += std::string(t.empty() ? "" : " and ") + "bits " + hex;
  }
  return t;
}

QualityMask quality_mask(Sensor sensor, SensorOptions const& o) {
  QualityMask m;
  if (SensorBands const* names = bands_of(sensor); names && names->quality) m.band = names->quality;
  if (sensor == Sensor::sentinel2_l2a) m.classes = {3u, 8u, 9u, 10u};  // cloud shadow, cloud medium/high, cirrus
  if (sensor == Sensor::landsat_c2l2 || sensor == Sensor::landsat_c2l1)
    m.bits = 0x1Fu;  // QA_PIXEL bits 0-4: fill, dilated cloud, cirrus, cloud, cloud shadow
  if (o.mask_values) m.classes = *o.mask_values;
  if (o.mask_bits) m.bits = *o.mask_bits;
  return m;
}

std::string calibration_text(SceneSpec const& scene) {
  if (!scene.calibration_note.empty()) return scene.calibration_note;
  std::vector<int> present;
  for (int b = 0; b < pixel::kBandCount; ++b)
    if (scene.bands[b]) present.push_back(b);
  if (present.empty()) return "none";
  bool same = true;
  for (int b : present) same = same && formula(scene.calibration[b]) == formula(scene.calibration[present[0]]);
  if (same) return formula(scene.calibration[present[0]]);
  std::string text;
  for (int b : present)
    text += (text.empty() ? "" : "; ") + std::string(band_name(static_cast<Band>(b))) + " " +
            formula(scene.calibration[b]);
  return text;
}

SceneSpec resolve_scene(std::string label, fs::path const& input, SensorOptions const& options) {
  ensure_gdal_initialized();
  std::error_code ec;
  if (!input.empty() && !fs::exists(input, ec))
    throw input_error(input.string() + ": " + (ec ? ec.message() : std::string("no such file or directory")));
  SceneSpec scene;
  scene.label = std::move(label);
  scene.input = input;
  scene.resampling = options.resampling;
  scene.sensor = options.sensor;
  locate_bands(scene, input, options);
  set_calibration(scene, options);
  set_mask_rule(scene, options);
  if (!options.sensor_given)
    scene.warnings.insert(scene.warnings.begin(),
                          where_of(scene) + ": no --sensor given: read as " + std::string(sensor_name(options.sensor)) +
                              ", reflectance = " + calibration_text(scene) + ", mask " + scene.mask_text +
                              "; give --sensor " + kSensorList + " (and --boa-offset, --scale, --offset, --mask-band) to set them");
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
