#include "cli/common_options.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <optional>
#include <utility>
#include <sstream>

#include "reclaim/error.hpp"
#include "reclaim/interrupt.hpp"
#include "reclaim/index_names.hpp"

namespace reclaim::cli {

std::vector<std::string> split(std::string const& text, char sep) {
  std::vector<std::string> parts;
  std::stringstream ss(text);
  std::string item;
  while (std::getline(ss, item, sep))
    if (!item.empty()) parts.push_back(item);
  return parts;
}

std::string without_spaces(std::string text) {
  std::erase(text, ' ');
  return text;
}

namespace {

bool same_file(std::filesystem::path const& a, std::filesystem::path const& b) {
  std::error_code ec;
  if (std::filesystem::exists(a, ec) && std::filesystem::exists(b, ec)) return std::filesystem::equivalent(a, b, ec);
  return std::filesystem::weakly_canonical(a, ec) == std::filesystem::weakly_canonical(b, ec);
}

}  // namespace

void refuse_overwriting_inputs(std::vector<std::filesystem::path> const& outputs,
                               std::vector<std::filesystem::path> const& inputs) {
  for (auto const& out : outputs)
    for (auto const& in : inputs)
      if (same_file(out, in))
        throw usage_error(out.string() + ": is also an input (" + in.string() + "); choose another output");
}

namespace {

/// The folders create_directories(folder) would make, deepest first.
std::vector<std::filesystem::path> missing_folders(std::filesystem::path const& folder) {
  std::vector<std::filesystem::path> missing;
  std::error_code ec;
  for (auto p = folder; !p.empty() && !std::filesystem::exists(p, ec); p = p.parent_path()) missing.push_back(p);
  return missing;
}

}  // namespace

void refuse_existing_outputs(std::vector<std::filesystem::path> const& outputs, bool overwrite) {
  if (overwrite) return;
  std::error_code ec;
  for (auto const& out : outputs)
    if (std::filesystem::exists(out, ec))
      throw usage_error(out.string() + ": exists already; pass --overwrite to replace it, or choose another --out");
}

io::OutputLock claim_outputs(OutputClaim const& claim, bool overwrite) {
  throw_if_stop_requested();  // asked to stop while planning: create nothing
  auto const created = missing_folders(claim.folder);
  if (!claim.folder.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(claim.folder, ec);
    if (ec) throw io_error(claim.folder.string() + ": cannot create output folder (" + ec.message() + ")");
  }
  try {
    auto lock = io::lock_outputs(claim.folder, claim.files);
    refuse_existing_outputs(claim.files, overwrite);  // under the lock: no run is writing them now
    io::require_free_space(claim.folder.empty() ? std::filesystem::path(".") : claim.folder, claim.scratch_bytes,
                           "the uncompressed scratch files");
    std::error_code ec;
    bool const replacing = std::any_of(claim.files.begin(), claim.files.end(),
                                       [&ec](auto const& f) { return std::filesystem::exists(f, ec); });
    auto const manifest = claim.folder / kManifestName;
    if (!claim.folder.empty() && replacing && std::filesystem::exists(manifest, ec) &&
        !std::filesystem::remove(manifest, ec))
      throw io_error(manifest.string() + ": cannot remove the earlier run's manifest (" + ec.message() + ")");
    return lock;
  } catch (...) {
    std::error_code ignored;  // the lock is released by now; a folder someone else filled stays
    for (auto const& f : created) std::filesystem::remove(f, ignored);
    throw;
  }
}

namespace {

std::uint32_t parse_uint(std::string const& text, std::string const& option) {
  try {
    std::size_t used = 0;
    unsigned long const v = std::stoul(text, &used, 0);  // accepts 0x1F
    if (used == text.size() && v <= 0xFFFFFFFFul) return static_cast<std::uint32_t>(v);
  } catch (std::exception const&) {
  }
  throw usage_error("--" + option + " " + text + ": not a non-negative integer");
}

/// "B4.tif:scale=2e-5:offset=-0.1" -> {"B4.tif", {2e-5, -0.1}}: trailing KEY=VALUE items after
/// ':' (a file name may hold ':' itself, so only a trailing item with '=' is a key).
std::pair<std::string, io::BandOverride> parse_band_source(std::string text, std::string const& item) {
  io::BandOverride c;
  for (auto colon = text.rfind(':'); colon != std::string::npos; colon = text.rfind(':')) {
    std::string const part = text.substr(colon + 1);
    auto const eq = part.find('=');
    if (eq == std::string::npos) break;
    std::string const key = part.substr(0, eq);
    auto const value = to_number(part.substr(eq + 1));
    if (!value || !std::isfinite(*value))
      throw usage_error("--bands " + item + ": " + key + " '" + part.substr(eq + 1) + "' is not a number");
    std::optional<double>* slot = key == "scale" ? &c.scale : key == "offset" ? &c.offset
                                  : key == "dn-offset"                        ? &c.dn_offset
                                                                              : nullptr;
    if (!slot) throw usage_error("--bands " + item + ": unknown key '" + key + "' (scale, offset, dn-offset)");
    if (*slot) throw usage_error("--bands " + item + ": " + key + " given twice");
    *slot = *value;
    text.resize(colon);
  }
  if (text.empty()) throw usage_error("--bands " + item + ": expected role=N or role=FILE before the ':' items");
  return {text, c};
}

}  // namespace

void add_sensor_options(cxxopts::Options& options) {
  options.add_options("Sensor and band map")
      ("sensor", "sentinel2-l2a, sentinel2-l1c, landsat-c2l2, landsat-c2l1 or generic (without it: sentinel2-l2a "
                 "is assumed, with a warning, and an input that does not fit it is refused)",
       cxxopts::value<std::string>())
      ("bands", "band map: role=N (band of --input) or role=FILE, comma separated; roles blue, green, red, nir, "
                "swir1, swir2; each may end in :scale=S, :offset=O, :dn-offset=D (that band's calibration)",
       cxxopts::value<std::string>())
      ("mask-band", "quality band: N (band of --input), FILE, or none", cxxopts::value<std::string>())
      ("mask-values", "quality classes to mask, e.g. 3,8,9,10 (default for sentinel2-l2a)",
       cxxopts::value<std::string>())
      ("mask-bits", "quality bits to mask, e.g. 0x1F (default for landsat-c2l2 and landsat-c2l1)", cxxopts::value<std::string>())
      ("scale", "reflectance = (DN + dn-offset) * scale + offset", cxxopts::value<std::string>())
      ("offset", "see --scale", cxxopts::value<std::string>())
      ("dn-offset", "see --scale", cxxopts::value<std::string>())
      ("boa-offset", "Sentinel-2 BOA_ADD_OFFSET (L2A) / RADIO_ADD_OFFSET (L1C): 0 before processing baseline "
                     "04.00, -1000 from it (default: from the product's MTD_MSIL*.xml, else 0 for L2A and -1000 "
                     "for L1C, with a warning)", cxxopts::value<std::string>())
      ("mtl", "landsat-c2l1: the scene's MTL file (*_MTL.txt or *_MTL.json; default: the one beside the input)",
       cxxopts::value<std::string>())
      ("nodata", "DN marking no data (default 0 for sentinel2-l2a and landsat-c2l2; the file's own for generic)",
       cxxopts::value<std::string>())
      ("saturation", "DNs at or above this are invalid (default 65535 for sentinel2-l2a and landsat-c2l2)",
       cxxopts::value<std::string>())
      ("resampling", "for bands coarser than the finest: bilinear or nearest (quality bands: always nearest)",
       cxxopts::value<std::string>()->default_value("bilinear"));
}

io::SensorOptions sensor_options_from(OptionValues const& r) {
  io::SensorOptions o;
  if (r.count("sensor")) {
    auto const sensor = io::parse_sensor(r["sensor"].as<std::string>());
    if (!sensor)
      throw usage_error("--sensor " + r["sensor"].as<std::string>() +
                        ": expected sentinel2-l2a, sentinel2-l1c, landsat-c2l2, landsat-c2l1 or generic");
    o.sensor = *sensor;
    o.sensor_given = true;
  }
  if (r.count("bands")) {
    for (auto const& item : split(r["bands"].as<std::string>(), ',')) {
      auto const eq = item.find('=');
      if (eq == std::string::npos) throw usage_error("--bands " + item + ": expected role=N or role=FILE");
      auto const band = parse_band(item.substr(0, eq));
      if (!band) throw usage_error("--bands: unknown band role '" + item.substr(0, eq) + "' (blue, green, red, nir, swir1, swir2)");
      auto const [source, calibration] = parse_band_source(item.substr(eq + 1), item);
      // A second role=... used to replace the first silently.
      if (o.band_specs.count(*band))
        r.refuse("bands", "the role '" + item.substr(0, eq) + "' is given twice");
      for (auto const& [other, spec] : o.band_specs)  // e.g. red=3,nir=3: NDVI 0 everywhere
        if (spec == source)
          r.refuse("bands", std::string(band_name(other)) + " and " + item.substr(0, eq) + " name the same band (" +
                                spec + ")");
      o.band_specs[*band] = source;
      if (calibration.scale || calibration.offset || calibration.dn_offset) o.band_calibration[*band] = calibration;
    }
  }
  if (r.count("mask-band")) o.mask_band = r["mask-band"].as<std::string>();
  if (r.count("mask-values")) {
    std::vector<std::uint32_t> values;
    for (auto const& v : split(r["mask-values"].as<std::string>(), ',')) values.push_back(parse_uint(v, "mask-values"));
    o.mask_values = values;
  }
  if (r.count("mask-bits")) o.mask_bits = parse_uint(r["mask-bits"].as<std::string>(), "mask-bits");
  // A zero, negative or non-finite scale makes every reflectance the offset (or NaN).
  if (r.count("scale")) o.scale = r.positive("scale");
  if (r.count("offset")) o.offset = r.number("offset");
  if (r.count("dn-offset")) o.dn_offset = r.number("dn-offset");
  if (r.count("nodata")) o.nodata = static_cast<float>(r.number("nodata"));
  if (r.count("saturation")) o.saturation = static_cast<float>(r.number("saturation"));
  if (r.count("boa-offset")) o.boa_offset = r.number("boa-offset");
  if (r.count("mtl")) o.mtl = r["mtl"].as<std::string>();
  if (o.mtl && o.sensor != io::Sensor::landsat_c2l1) throw usage_error("--mtl needs --sensor landsat-c2l1");
  auto const resampling = parse_resampling(r["resampling"].as<std::string>());
  if (!resampling) throw usage_error("--resampling " + r["resampling"].as<std::string>() + ": expected bilinear or nearest");
  o.resampling = *resampling;
  // generic has no scale of its own: every band needs one, from --scale or its --bands item.
  bool every_band_scaled = !o.band_specs.empty();
  for (auto const& [band, spec] : o.band_specs) {
    auto const it = o.band_calibration.find(band);
    every_band_scaled = every_band_scaled && it != o.band_calibration.end() && it->second.scale;
  }
  if (o.sensor == io::Sensor::generic && !o.scale && !every_band_scaled)
    throw usage_error("--sensor generic needs --scale, or :scale= on every --bands item (and usually --offset, --nodata)");
  return o;
}

void add_run_options(cxxopts::Options& options) {
  options.add_options("Run")
      ("device", "auto, cpu, cuda or cuda:N", cxxopts::value<std::string>()->default_value("auto"))
      ("memory-budget", "host memory for tile buffers (a quarter), GDAL's block cache (an eighth) and the COG "
                        "encoders (the rest), e.g. 512M, 2G; a composited epoch adds up to 480 MiB of scratch per "
                        "reader thread (docs/composites.md)",
       cxxopts::value<std::string>()->default_value("512M"))
      ("readers", "reader (decode) threads", cxxopts::value<std::string>()->default_value("2"))
      ("threads", "CPU compute threads (0: one per core)", cxxopts::value<std::string>()->default_value("0"))
      ("log-format", "text or json (one JSON object per event on stderr)",
       cxxopts::value<std::string>()->default_value("text"))
      ("quiet", "no progress or info messages")
      ("dry-run", "print the run's layout (inputs, planes, products, outputs) and tile plan; write nothing")
      ("h,help", "this help");
  add_overwrite_option(options);
}

void add_overwrite_option(cxxopts::Options& options) {
  options.add_options("Run")("overwrite", "replace outputs that exist already (an earlier run's); refused otherwise");
}

RunSettings run_settings_from(OptionValues const& r) {
  RunSettings s;
  s.device = r["device"].as<std::string>();
  s.memory_budget = parse_bytes(r["memory-budget"].as<std::string>(), "memory-budget");
  s.readers = r.integer("readers", 1, 1024);
  s.threads = r.integer("threads", 0, 4096);
  auto const format = r["log-format"].as<std::string>();
  if (format == "json")
    s.log_format = LogFormat::json;
  else if (format != "text")
    throw usage_error("--log-format " + format + ": expected text or json");
  s.quiet = r.count("quiet") > 0;
  s.dry_run = r.count("dry-run") > 0;
  s.overwrite = r.count("overwrite") > 0;
  return s;
}

std::size_t parse_bytes(std::string const& text, std::string const& option) {
  auto const unit_at = text.find_first_not_of("0123456789.eE+-");
  auto const number = to_number(text.substr(0, unit_at));
  if (!number) throw usage_error("--" + option + " " + text + ": expected a size such as 512M or 2G");
  double const value = *number;
  std::string unit = unit_at == std::string::npos ? std::string() : text.substr(unit_at);
  for (auto& c : unit) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  double mult = 1;
  if (unit == "K" || unit == "KB" || unit == "KIB") mult = 1024.0;
  else if (unit == "M" || unit == "MB" || unit == "MIB") mult = 1024.0 * 1024;
  else if (unit == "G" || unit == "GB" || unit == "GIB") mult = 1024.0 * 1024 * 1024;
  else if (!unit.empty() && unit != "B") throw usage_error("--" + option + " " + text + ": unknown unit '" + unit + "'");
  if (!(value * mult >= 1)) throw usage_error("--" + option + " " + text + ": must be at least 1 byte");
  if (!(value * mult < 0x1p60)) throw usage_error("--" + option + " " + text + ": too large");  // size_t overflow
  return static_cast<std::size_t>(value * mult);
}

}  // namespace reclaim::cli
