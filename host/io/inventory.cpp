// Epoch inventories: STAC Items / ItemCollections and CSV lists of scenes, resolved into
// SceneSpecs, and their date, cloud and platform filters (docs/inventories.md).
#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <regex>
#include <string>
#include <utility>

#include <nlohmann/json.hpp>

#include "reclaim/error.hpp"
#include "reclaim/index_names.hpp"
#include "reclaim/io/inventory.hpp"
#include "reclaim/io/number_text.hpp"

namespace reclaim::io {
namespace fs = std::filesystem;
using nlohmann::json;
using pixel::Band;

namespace {

constexpr char kSensorList[] = "sentinel2-l2a, sentinel2-l1c, landsat-c2l2, landsat-c2l1 or generic";

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

std::string trim(std::string_view s) {
  auto const first = s.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return {};
  auto const last = s.find_last_not_of(" \t\r\n");
  return std::string(s.substr(first, last - first + 1));
}

/// "LANDSAT_8", "Sentinel-2B" -> "landsat-8", "sentinel-2b": catalogues spell platforms differently.
std::string normal_platform(std::string_view s) {
  std::string p = lower(trim(s));
  std::replace(p.begin(), p.end(), '_', '-');
  std::replace(p.begin(), p.end(), ' ', '-');
  return p;
}

bool starts_with(std::string const& s, std::string_view prefix) { return s.rfind(prefix, 0) == 0; }
bool contains(std::string const& s, std::string_view part) { return s.find(part) != std::string::npos; }

// ---- dates ------------------------------------------------------------------------------------

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant, "chrono-compatible
/// low-level date algorithms").
long long days_from_civil(long long y, unsigned m, unsigned d) {
  y -= m <= 2;
  long long const era = (y >= 0 ? y : y - 399) / 400;
  auto const yoe = static_cast<unsigned>(y - era * 400);
  unsigned const doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  unsigned const doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<long long>(doe) - 719468;
}

std::string civil_from_days(long long z) {
  z += 719468;
  long long const era = (z >= 0 ? z : z - 146096) / 146097;
  auto const doe = static_cast<unsigned>(z - era * 146097);
  unsigned const yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  long long const y = static_cast<long long>(yoe) + era * 400;
  unsigned const doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  unsigned const mp = (5 * doy + 2) / 153;
  unsigned const d = doy - (153 * mp + 2) / 5 + 1;
  unsigned const m = mp < 10 ? mp + 3 : mp - 9;
  char buf[48];
  std::snprintf(buf, sizeof buf, "%04lld-%02u-%02u", y + (m <= 2), m, d);
  return buf;
}

bool valid_date(int y, int m, int d) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (m < 1 || m > 12 || d < 1) return false;
  bool const leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return d <= kDays[m - 1] + (m == 2 && leap ? 1 : 0);
}

/// Seconds since 1970-01-01T00:00:00Z of an ISO 8601 date or date-time (no zone: UTC).
std::optional<double> utc_seconds(std::string_view text) {
  static std::regex const re(
      R"(^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(\.\d+)?)?([Zz]|[+-]\d{2}(?::?\d{2})?)?)?$)");
  std::string const s(text);
  std::smatch m;
  if (!std::regex_match(s, m, re)) return std::nullopt;
  int const y = std::stoi(m[1]), mo = std::stoi(m[2]), d = std::stoi(m[3]);
  if (!valid_date(y, mo, d)) return std::nullopt;
  int const h = m[4].matched ? std::stoi(m[4]) : 0, mi = m[5].matched ? std::stoi(m[5]) : 0;
  int const sec = m[6].matched ? std::stoi(m[6]) : 0;
  if (h > 23 || mi > 59 || sec > 60) return std::nullopt;
  double seconds = static_cast<double>(days_from_civil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d))) * 86400.0 +
                   h * 3600.0 + mi * 60.0 + sec;
  if (m[7].matched) seconds += std::stod("0" + m[7].str());
  std::string const zone = m[8].str();
  if (!zone.empty() && zone != "Z" && zone != "z") {
    std::string digits;
    for (char c : zone.substr(1))
      if (c != ':') digits += c;
    int const zh = std::stoi(digits.substr(0, 2)), zm = digits.size() > 2 ? std::stoi(digits.substr(2, 2)) : 0;
    if (zh > 23 || zm > 59) return std::nullopt;
    // Local time = UTC + offset, so UTC = local - offset.
    seconds -= (zone[0] == '-' ? -1 : 1) * (zh * 3600.0 + zm * 60.0);
  }
  return seconds;
}

bool is_plain_date(std::string const& s) {
  static std::regex const re(R"(^\d{4}-\d{2}-\d{2}$)");
  return std::regex_match(s, re) && utc_seconds(s).has_value();
}

// ---- JSON helpers -----------------------------------------------------------------------------

std::string text_of(json const& object, char const* key) {
  if (!object.is_object()) return {};
  auto const it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::optional<double> number_of(json const* object, char const* key) {
  if (!object || !object->is_object()) return std::nullopt;
  auto const it = object->find(key);
  if (it == object->end() || !it->is_number()) return std::nullopt;
  return it->get<double>();
}

std::optional<bool> bool_of(json const& object, char const* key) {
  auto const it = object.find(key);
  if (it == object.end() || !it->is_boolean()) return std::nullopt;
  return it->get<bool>();
}

json read_json(fs::path const& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw input_error(file.string() + ": cannot be opened");
  try {
    return json::parse(in);
  } catch (json::exception const& e) {
    std::string what = e.what();
    if (auto const p = what.find("] "); p != std::string::npos) what = what.substr(p + 2);  // drop "[json.exception...]"
    throw input_error(file.string() + ": not valid JSON (" + what + ")");
  }
}

/// The items of a STAC Item or ItemCollection (any GeoJSON FeatureCollection of items).
std::vector<json const*> stac_items(json const& doc, fs::path const& file) {
  std::string const what = file.string() + ": not a STAC Item or ItemCollection";
  if (!doc.is_object()) throw input_error(what + " (the JSON is not an object)");
  auto const type_it = doc.find("type");
  if (type_it == doc.end() || !type_it->is_string())
    throw input_error(what + " (no \"type\": \"Feature\" or \"FeatureCollection\")");
  std::string const type = type_it->get<std::string>();
  if (type == "Feature") return {&doc};
  if (type == "FeatureCollection") {
    auto const features = doc.find("features");
    if (features == doc.end() || !features->is_array()) throw input_error(what + " (a FeatureCollection without \"features\")");
    std::vector<json const*> items;
    for (auto const& f : *features) items.push_back(&f);
    if (items.empty()) throw input_error(file.string() + ": the ItemCollection holds no items");
    return items;
  }
  if (type == "Collection" || type == "Catalog")
    throw input_error(file.string() + ": a STAC " + type + ", not an Item or ItemCollection: save the items of a search");
  throw input_error(what + " (\"type\" is \"" + type + "\", expected \"Feature\" or \"FeatureCollection\")");
}

// ---- STAC conventions -------------------------------------------------------------------------

/// The sensor preset of an item, from its collection, platform, constellation and asset keys.
std::optional<Sensor> infer_sensor(json const& item, json const& props) {
  std::string const collection = lower(text_of(item, "collection"));
  std::string const platform = normal_platform(text_of(props, "platform"));
  std::string const constellation = normal_platform(text_of(props, "constellation"));
  bool const landsat = contains(collection, "landsat") || starts_with(platform, "landsat") || contains(constellation, "landsat");
  bool const s2 = contains(collection, "sentinel-2") || contains(collection, "sentinel-s2") ||
                  contains(collection, "sentinel2") || starts_with(platform, "sentinel-2") ||
                  starts_with(constellation, "sentinel-2");
  if (landsat) return contains(collection, "l1") && !contains(collection, "l2") ? Sensor::landsat_c2l1 : Sensor::landsat_c2l2;
  if (s2) return contains(collection, "l1c") ? Sensor::sentinel2_l1c : Sensor::sentinel2_l2a;
  if (auto const assets = item.find("assets"); assets != item.end() && assets->is_object())
    for (auto const& [key, asset] : assets->items()) {
      if (lower(key) == "scl") return Sensor::sentinel2_l2a;
      if (lower(key) == "qa_pixel") return Sensor::landsat_c2l2;
    }
  return std::nullopt;
}

/// The common names of an asset's eo:bands (entries may be objects or, in STAC 0.9 / 1.0.0-beta
/// items, indices into the item's properties eo:bands).
std::vector<std::string> common_names(json const& asset, json const& props) {
  std::vector<std::string> names;
  auto const bands = asset.find("eo:bands");
  if (bands == asset.end() || !bands->is_array()) return names;
  json const* listed = nullptr;
  if (auto const it = props.find("eo:bands"); it != props.end() && it->is_array()) listed = &*it;
  for (auto const& b : *bands) {
    json const* entry = &b;
    if (b.is_number_unsigned() && listed && b.get<std::size_t>() < listed->size()) entry = &(*listed)[b.get<std::size_t>()];
    names.push_back(lower(text_of(*entry, "common_name")));
  }
  return names;
}

struct Asset {
  std::string key;
  json const* asset = nullptr;
};

/// The single-band asset whose eo:bands common name is `name`. Earth Search v1 lists each band
/// twice (the COG "red" and the JPEG 2000 "red-jp2"): the asset keyed by the name itself wins.
std::optional<Asset> by_common_name(json const& assets, json const& props, std::string const& name) {
  std::vector<Asset> hits;
  for (auto const& [key, asset] : assets.items()) {
    if (!asset.is_object()) continue;
    auto const names = common_names(asset, props);
    if (names.size() == 1 && names[0] == name) hits.push_back({key, &asset});
  }
  for (auto const& h : hits)
    if (lower(h.key) == name) return h;
  if (hits.empty()) return std::nullopt;
  return hits.front();
}

std::optional<Asset> by_key(json const& assets, std::vector<char const*> const& keys) {
  for (char const* want : keys)
    for (auto const& [key, asset] : assets.items())
      if (asset.is_object() && lower(key) == lower(want)) return Asset{key, &asset};
  return std::nullopt;
}

/// Common names and the fallback asset keys (used when no asset's eo:bands names the band) of
/// blue .. swir2. Sentinel-2: the band names of Planetary Computer and Earth Search v0 and the
/// lower-case keys of Earth Search v1; Landsat: the keys of USGS and Planetary Computer.
struct BandNames {
  std::vector<char const*> common;
  std::vector<char const*> keys;
};
BandNames names_of(Band band, Sensor sensor) {
  bool const landsat = sensor == Sensor::landsat_c2l2 || sensor == Sensor::landsat_c2l1;
  switch (band) {
    case Band::blue: return {{"blue"}, landsat ? std::vector<char const*>{"blue"} : std::vector<char const*>{"B02", "blue"}};
    case Band::green: return {{"green"}, landsat ? std::vector<char const*>{"green"} : std::vector<char const*>{"B03", "green"}};
    case Band::red: return {{"red"}, landsat ? std::vector<char const*>{"red"} : std::vector<char const*>{"B04", "red"}};
    // Landsat's NIR is nir08; Sentinel-2's nir08 is B8A (20 m), not the 10 m B08 the presets read.
    case Band::nir:
      return landsat ? BandNames{{"nir08", "nir"}, {"nir08"}} : BandNames{{"nir"}, {"B08", "nir"}};
    case Band::swir1: return {{"swir16"}, landsat ? std::vector<char const*>{"swir16"} : std::vector<char const*>{"B11", "swir16"}};
    case Band::swir2: return {{"swir22"}, landsat ? std::vector<char const*>{"swir22"} : std::vector<char const*>{"B12", "swir22"}};
  }
  return {};
}

std::string join(std::vector<char const*> const& words, char const* last) {
  std::string text;
  for (std::size_t i = 0; i < words.size(); ++i)
    text += std::string(i == 0 ? "" : i + 1 == words.size() ? last : ", ") + words[i];
  return text;
}

/// An asset href as GDAL reads it: URLs through GDAL's virtual file systems, local paths
/// relative to the inventory's folder.
fs::path gdal_path(std::string const& href, fs::path const& dir) {
  if (starts_with(href, "/vsi")) return href;
  if (starts_with(href, "https://") || starts_with(href, "http://")) return "/vsicurl/" + href;
  if (starts_with(href, "s3://")) return "/vsis3/" + href.substr(5);
  if (starts_with(href, "gs://")) return "/vsigs/" + href.substr(5);
  std::string local = href;
  if (starts_with(local, "file://")) local = local.substr(7);
  else if (contains(local, "://")) return href;  // another scheme: GDAL says what it makes of it
  fs::path const p(local);
  if (p.is_absolute() || dir.empty()) return p.lexically_normal();
  return (dir / p).lexically_normal();
}

/// The Sentinel-2 processing baseline: s2:processing_baseline (Planetary Computer, Earth Search
/// v1), sentinel:processing_baseline, else the _Nxxyy_ of the product id (Earth Search v0).
std::optional<double> processing_baseline(json const& props) {
  for (char const* key : {"s2:processing_baseline", "sentinel:processing_baseline"}) {
    auto const it = props.find(key);
    if (it == props.end()) continue;
    if (it->is_number()) return it->get<double>();
    if (it->is_string()) {
      char* end = nullptr;
      std::string const s = it->get<std::string>();
      double const v = std::strtod(s.c_str(), &end);
      if (end != s.c_str() && *end == '\0' && std::isfinite(v)) return v;
    }
  }
  static std::regex const re(R"(_N(\d{2})(\d{2})_)");
  for (char const* key : {"s2:product_uri", "sentinel:product_id"}) {
    std::string const id = text_of(props, key);
    std::smatch m;
    if (std::regex_search(id, m, re)) return std::stoi(m[1]) + std::stoi(m[2]) / 100.0;
  }
  return std::nullopt;
}

json const* first_raster_band(json const& asset) {
  auto const it = asset.find("raster:bands");
  if (it == asset.end() || !it->is_array() || it->empty() || !(*it)[0].is_object()) return nullptr;
  return &(*it)[0];
}

/// The options that make no sense for a list of scenes, refused rather than ignored.
void refuse_band_files(fs::path const& file, SensorOptions const& o, bool stac) {
  auto const is_number = [](std::string const& s) {
    return !s.empty() && std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c); });
  };
  for (auto const& [band, spec] : o.band_specs)
    if (stac || !is_number(spec))
      throw usage_error(file.string() + ": --bands " + std::string(band_name(band)) + "=" + spec +
                        (stac ? ": a STAC inventory names each item's band files in its assets"
                              : ": one file cannot be a band of every row of an inventory (band numbers apply to each row's file)"));
  if (o.mask_band && *o.mask_band != "none" && (stac || !is_number(*o.mask_band)))
    throw usage_error(file.string() + ": --mask-band " + *o.mask_band +
                      (stac ? ": a STAC inventory names each item's quality band in its assets (--mask-band none applies)"
                            : ": one file cannot be the mask of every row of an inventory"));
}

InventoryScene read_item(json const& item, std::size_t index, fs::path const& file, SensorOptions const& o) {
  std::string const id = item.is_object() ? text_of(item, "id") : std::string();
  std::string const where = file.string() + ": " + (id.empty() ? "feature " + std::to_string(index + 1) : "item " + id);
  auto fail = [&where](std::string const& what) { return input_error(where + ": " + what); };
  if (!item.is_object()) throw fail("not a JSON object");
  auto const assets_it = item.find("assets");
  if (assets_it == item.end() || !assets_it->is_object()) throw fail("not a STAC item (no \"assets\" object)");
  if (id.empty()) throw fail("not a STAC item (no \"id\")");
  static json const kNoProperties = json::object();
  auto const props_it = item.find("properties");
  json const& props = props_it != item.end() && props_it->is_object() ? *props_it : kNoProperties;
  json const& assets = *assets_it;

  InventoryScene out;
  out.id = id;
  out.inventory = file;
  out.datetime = text_of(props, "datetime");
  if (out.datetime.empty()) out.datetime = text_of(props, "start_datetime");  // "datetime": null with a range
  if (out.datetime.empty()) throw fail("no properties.datetime (or start_datetime)");
  auto const date = utc_date(out.datetime);
  if (!date) throw fail("datetime '" + out.datetime + "' is not an ISO 8601 date-time");
  out.date = *date;
  out.platform = normal_platform(text_of(props, "platform"));
  out.cloud_cover = number_of(&props, "eo:cloud_cover");
  if (auto const bbox = item.find("bbox"); bbox != item.end() && bbox->is_array() &&
                                           (bbox->size() == 4 || bbox->size() == 6) &&
                                           std::all_of(bbox->begin(), bbox->end(), [](json const& v) { return v.is_number(); })) {
    std::size_t const half = bbox->size() / 2;  // a 3D bbox is west,south,low,east,north,high
    out.bbox = std::array<double, 4>{(*bbox)[0].get<double>(), (*bbox)[1].get<double>(), (*bbox)[half].get<double>(),
                                     (*bbox)[half + 1].get<double>()};
  }

  std::optional<Sensor> sensor = infer_sensor(item, props);
  if (sensor && o.sensor_given && *sensor != o.sensor)
    throw fail("a " + std::string(sensor_name(*sensor)) + " item (collection '" + text_of(item, "collection") +
               "', platform '" + text_of(props, "platform") + "'), but --sensor " + std::string(sensor_name(o.sensor)) +
               " was given");
  if (!sensor && !o.sensor_given)
    throw fail("cannot tell the sensor (collection '" + text_of(item, "collection") + "', platform '" +
               text_of(props, "platform") + "'): give --sensor " + kSensorList);
  if (!sensor) sensor = o.sensor;
  if (*sensor == Sensor::landsat_c2l1)
    throw fail("Landsat Collection 2 Level-1 items are not read from STAC (TOA reflectance needs each scene's MTL "
               "file): use Level-2 items (landsat-c2l2-sr, landsat-c2-l2)");

  SceneSpec& scene = out.scene;
  scene.label = id;
  scene.input = file;
  scene.resampling = o.resampling;
  scene.sensor = *sensor;
  fs::path const dir = file.parent_path();
  bool const s2 = *sensor == Sensor::sentinel2_l2a || *sensor == Sensor::sentinel2_l1c;
  std::optional<double> const baseline = s2 ? processing_baseline(props) : std::nullopt;
  std::optional<bool> applied = bool_of(props, "earthsearch:boa_offset_applied");
  if (!applied) applied = bool_of(props, "sentinel:boa_offset_applied");
  bool dn_offset_assumed = false;

  for (int b = 0; b < pixel::kBandCount; ++b) {
    auto const band = static_cast<Band>(b);
    BandNames const names = names_of(band, *sensor);
    std::optional<Asset> asset;
    for (char const* name : names.common)
      if (!asset) asset = by_common_name(assets, props, name);
    if (!asset) asset = by_key(assets, names.keys);
    if (!asset)
      throw fail("no asset for band " + std::string(band_name(band)) + " (common name " + join(names.common, " or ") +
                 " in eo:bands, or asset key " + join(names.keys, " or ") + ")");
    auto const href = asset->asset->find("href");
    if (href == asset->asset->end() || !href->is_string() || href->get<std::string>().empty())
      throw fail("asset " + asset->key + " (band " + std::string(band_name(band)) + ") has no href");
    scene.bands[b] = BandRef{gdal_path(href->get<std::string>(), dir), 1};

    pixel::BandCalibration c = preset_calibration(*sensor);
    json const* raster = first_raster_band(*asset->asset);
    if (auto const v = number_of(raster, "scale")) c.scale = *v;
    if (auto const v = number_of(raster, "nodata")) {
      c.has_nodata = true;
      c.nodata = static_cast<float>(*v);
    }
    std::optional<double> const catalogue_offset = number_of(raster, "offset");
    if (s2) {
      c.offset = 0;
      if (o.boa_offset) {
        c.dn_offset = *o.boa_offset;  // the user's word replaces the catalogue's
      } else if (applied == true) {
        // Earth Search wrote these COGs with BOA_ADD_OFFSET already added to the DNs; the -0.1
        // its raster:bands still gives would subtract it a second time.
        c.dn_offset = 0;
      } else if (catalogue_offset && *catalogue_offset != 0) {
        c.dn_offset = 0;  // the catalogue gives the baseline offset in reflectance units
        c.offset = *catalogue_offset;
      } else if (baseline) {
        c.dn_offset = *baseline >= 4.0 ? -1000.0 : 0.0;  // processing baseline 04.00 added BOA_ADD_OFFSET
      } else {
        dn_offset_assumed = true;  // the preset's (L2A 0, L1C -1000)
      }
    } else if (catalogue_offset) {
      c.offset = *catalogue_offset;
    }
    apply_calibration_options(c, band, o);
    scene.calibration[b] = c;
  }
  if (dn_offset_assumed && !o.dn_offset)
    scene.warnings.push_back(where + ": no s2:processing_baseline and no product id with _Nxxyy_: assuming " +
                             (*sensor == Sensor::sentinel2_l2a ? "a baseline before 04.00" : "baseline 04.00 or later") +
                             ", reflectance = " + calibration_text(scene) + "; give --boa-offset to set it");

  QualityMask const mask = quality_mask(*sensor, o);
  scene.mask_rule = mask.rule();
  bool const unmasked = o.mask_band && *o.mask_band == "none";
  if (!unmasked && !mask.empty()) {
    std::vector<char const*> keys;
    if (*sensor == Sensor::sentinel2_l2a) keys = {"SCL"};
    if (*sensor == Sensor::landsat_c2l2) keys = {"qa_pixel"};
    std::optional<Asset> const found = by_key(assets, keys);
    std::string href;
    if (found)
      if (auto const it = found->asset->find("href"); it != found->asset->end() && it->is_string()) href = it->get<std::string>();
    if (!href.empty()) {
      scene.mask = BandRef{gdal_path(href, dir), 1};
      scene.mask_text = (mask.band.empty() ? std::string("quality band") : mask.band) + " " + mask.text() +
                        " (asset " + found->key + ": " + scene.mask->file.string() + ")";
    } else if (o.mask_values || o.mask_bits) {
      throw usage_error(where + ": --mask-values/--mask-bits need the item's quality asset (" +
                        (keys.empty() ? std::string("none for ") + std::string(sensor_name(*sensor)) : join(keys, " or ")) +
                        "), and it has none");
    } else if (!keys.empty()) {
      scene.warnings.push_back(where + ": no " + join(keys, " or ") + " asset: not cloud-masked");
    }
  }
  return out;
}

std::vector<InventoryScene> read_stac(fs::path const& file, SensorOptions const& o) {
  refuse_band_files(file, o, true);
  json const doc = read_json(file);
  std::vector<json const*> const items = stac_items(doc, file);
  std::vector<InventoryScene> scenes;
  scenes.reserve(items.size());
  for (std::size_t i = 0; i < items.size(); ++i) scenes.push_back(read_item(*items[i], i, file, o));
  return scenes;
}

// ---- CSV --------------------------------------------------------------------------------------

/// One CSV record (RFC 4180 quoting: "a, b" and "" inside quotes); false on an unclosed quote.
bool split_csv(std::string const& line, std::vector<std::string>& fields) {
  fields.clear();
  std::string field;
  bool quoted = false;
  for (std::size_t i = 0; i < line.size(); ++i) {
    char const c = line[i];
    if (quoted) {
      if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
        field += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        field += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      fields.push_back(trim(field));
      field.clear();
    } else {
      field += c;
    }
  }
  fields.push_back(trim(field));
  return !quoted;
}

std::vector<InventoryScene> read_csv(fs::path const& file, SensorOptions const& o) {
  refuse_band_files(file, o, false);
  std::ifstream in(file, std::ios::binary);
  if (!in) throw input_error(file.string() + ": cannot be opened");
  std::string line;
  std::vector<std::string> fields;
  int row = 0;
  auto fail = [&file, &row](std::string const& what) {
    return input_error(file.string() + ": row " + std::to_string(row) + ": " + what);
  };
  // The header: the first line that is not blank.
  std::map<std::string, std::size_t> column;
  std::size_t width = 0;
  while (std::getline(in, line)) {
    ++row;
    if (row == 1 && starts_with(line, "\xEF\xBB\xBF")) line = line.substr(3);  // a spreadsheet's UTF-8 BOM
    if (trim(line).empty()) continue;
    if (!split_csv(line, fields)) throw fail("unclosed quote");
    width = fields.size();
    for (std::size_t i = 0; i < fields.size(); ++i) {
      std::string const name = lower(fields[i]);
      if (name != "path" && name != "datetime" && name != "sensor" && name != "cloud_cover" && name != "platform")
        throw input_error(file.string() + ": column '" + fields[i] +
                          "' is not one of path, datetime, sensor, cloud_cover, platform");
      if (!column.emplace(name, i).second) throw input_error(file.string() + ": column '" + name + "' appears twice");
    }
    break;
  }
  if (column.empty()) throw input_error(file.string() + ": empty: expected a header row path,datetime,sensor[,cloud_cover][,platform]");
  for (char const* needed : {"path", "datetime", "sensor"})
    if (!column.count(needed))
      throw input_error(file.string() + ": no '" + needed +
                        "' column (the header names path, datetime and sensor; cloud_cover and platform are optional)");

  fs::path const dir = file.parent_path();
  std::vector<InventoryScene> scenes;
  while (std::getline(in, line)) {
    ++row;
    if (trim(line).empty()) continue;
    if (!split_csv(line, fields)) throw fail("unclosed quote");
    if (fields.size() != width)
      throw fail(std::to_string(fields.size()) + " fields, the header has " + std::to_string(width));
    auto const field = [&](char const* name) {
      auto const it = column.find(name);
      return it == column.end() ? std::string() : fields[it->second];
    };
    InventoryScene out;
    out.inventory = file;
    out.id = field("path");
    if (out.id.empty()) throw fail("empty path");
    out.datetime = field("datetime");
    auto const date = utc_date(out.datetime);
    if (!date)
      throw fail("datetime '" + out.datetime + "' is not an ISO 8601 date (YYYY-MM-DD or YYYY-MM-DDThh:mm:ssZ)");
    out.date = *date;
    std::string const sensor_text = field("sensor");
    auto const sensor = parse_sensor(lower(sensor_text));
    if (!sensor) throw fail("sensor '" + sensor_text + "' is not " + kSensorList);
    if (o.sensor_given && *sensor != o.sensor)
      throw fail("sensor " + std::string(sensor_name(*sensor)) + ", but --sensor " + std::string(sensor_name(o.sensor)) +
                 " was given");
    if (std::string const cloud = field("cloud_cover"); !cloud.empty()) {
      char* end = nullptr;
      double const v = std::strtod(cloud.c_str(), &end);
      if (end == cloud.c_str() || *end != '\0' || !(v >= 0 && v <= 100))
        throw fail("cloud_cover '" + cloud + "' is not a percentage (0 to 100)");
      out.cloud_cover = v;
    }
    out.platform = normal_platform(field("platform"));
    fs::path path(out.id);
    if (path.is_relative() && !dir.empty()) path = (dir / path).lexically_normal();
    SensorOptions row_options = o;
    row_options.sensor = *sensor;
    row_options.sensor_given = true;
    try {
      out.scene = resolve_scene(out.id, path, row_options);
    } catch (input_error const& e) {
      throw fail(e.what());
    } catch (usage_error const& e) {
      throw usage_error(file.string() + ": row " + std::to_string(row) + ": " + e.what());
    }
    scenes.push_back(std::move(out));
  }
  if (scenes.empty()) throw input_error(file.string() + ": no rows after the header");
  return scenes;
}

}  // namespace

std::optional<std::string> utc_date(std::string_view datetime) {
  auto const seconds = utc_seconds(trim(datetime));
  if (!seconds) return std::nullopt;
  return civil_from_days(static_cast<long long>(std::floor(*seconds / 86400.0)));
}

bool is_inventory_path(fs::path const& path) {
  std::string const ext = lower(path.extension().string());
  return ext == ".json" || ext == ".geojson" || ext == ".csv";
}

std::vector<InventoryScene> read_inventory(fs::path const& file, SensorOptions const& options) {
  if (!is_inventory_path(file))
    throw input_error(file.string() + ": not an inventory (expected .json or .geojson for STAC, .csv)");
  std::error_code ec;
  if (!fs::is_regular_file(file, ec))
    throw input_error(file.string() + ": " + (fs::exists(file, ec) ? "not a file" : "no such file"));
  if (lower(file.extension().string()) == ".csv") return read_csv(file, options);
  return read_stac(file, options);
}

std::vector<InventoryScene> filter_inventory(std::vector<InventoryScene> scenes, InventoryFilter const& filter,
                                             std::vector<std::string>* dropped) {
  std::vector<std::string> platforms;
  for (auto const& p : filter.platforms) platforms.push_back(normal_platform(p));
  std::vector<InventoryScene> kept;
  auto drop = [dropped](InventoryScene const& s, std::string const& why) {
    if (dropped) dropped->push_back(s.id + " (" + s.date + "): " + why);
  };
  for (auto& s : scenes) {
    if (filter.start && s.date < *filter.start) {
      drop(s, "before the window start " + *filter.start);
    } else if (filter.end && s.date > *filter.end) {
      drop(s, "after the window end " + *filter.end);
    } else if (filter.max_cloud && s.cloud_cover && *s.cloud_cover > *filter.max_cloud) {
      drop(s, "cloud cover " + shortest_text(*s.cloud_cover) + "% above the maximum " + shortest_text(*filter.max_cloud) + "%");
    } else if (!platforms.empty() && std::find(platforms.begin(), platforms.end(), normal_platform(s.platform)) == platforms.end()) {
      std::string list;
      for (auto const& p : platforms) list += (list.empty() ? "" : ", ") + p;
      drop(s, "platform '" + s.platform + "' is not " + list);
    } else {
      kept.push_back(std::move(s));
    }
  }
  // By the instant, not the text: "...T08:00:00+02:00" is before "...T07:00:00Z". Keys parsed
  // once: an inventory may hold thousands of scenes.
  std::vector<std::pair<double, std::size_t>> order;
  for (std::size_t i = 0; i < kept.size(); ++i) order.emplace_back(utc_seconds(kept[i].datetime).value_or(0.0), i);
  std::sort(order.begin(), order.end(), [&kept](auto const& a, auto const& b) {
    if (a.first != b.first) return a.first < b.first;
    return kept[a.second].id < kept[b.second].id;
  });
  std::vector<InventoryScene> sorted;
  sorted.reserve(kept.size());
  for (auto const& [when, i] : order) sorted.push_back(std::move(kept[i]));
  return sorted;
}

InventoryFilter parse_window(std::string_view window) {
  std::string const text(window);
  auto const slash = text.find('/');
  if (slash == std::string::npos || text.find('/', slash + 1) != std::string::npos)
    throw input_error("window '" + text + "': expected START/END (YYYY-MM-DD/YYYY-MM-DD; '..' for an open end)");
  InventoryFilter f;
  auto part = [&text](std::string const& s) -> std::optional<std::string> {
    std::string const t = trim(s);
    if (t.empty() || t == "..") return std::nullopt;
    if (!is_plain_date(t)) throw input_error("window '" + text + "': '" + t + "' is not a date (YYYY-MM-DD)");
    return t;
  };
  f.start = part(text.substr(0, slash));
  f.end = part(text.substr(slash + 1));
  if (!f.start && !f.end) throw input_error("window '" + text + "': names no date");
  if (f.start && f.end && *f.start > *f.end)
    throw input_error("window '" + text + "': the start " + *f.start + " is after the end " + *f.end);
  return f;
}

}  // namespace reclaim::io
