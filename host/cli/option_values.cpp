#include "cli/option_values.hpp"

#include "io/document.hpp"

#include <cmath>
#include <cstdio>
#include <fstream>
#include <limits>
#include <set>
#include <sstream>

#include "reclaim/error.hpp"
#include "reclaim/io/number_text.hpp"

namespace reclaim::cli {

std::optional<double> to_number(std::string const& text) {
  try {
    std::size_t used = 0;
    double const v = std::stod(text, &used);
    if (used == text.size()) return v;
  } catch (std::exception const&) {  // not a number, or out of range
  }
  return std::nullopt;
}
namespace fs = std::filesystem;

LabeledPath parse_labeled_path(std::string const& text) {
  auto const eq = text.find('=');
  if (eq != std::string::npos && eq > 0 && text.substr(0, eq).find('/') == std::string::npos)
    return {text.substr(0, eq), text.substr(eq + 1)};
  return {"", text};
}

namespace {

// How a job file's relative paths are read: from the job file's folder (as --epochs-from lists
// are), so that a job file means the same run from any working folder (docs/cli.md).
enum class PathForm { none, plain, labeled, band_map, mask_band };

PathForm path_form(std::string const& option) {
  static std::set<std::string> const plain = {"sites", "zones", "raster", "out", "grades", "rules", "partial",
                                              "partials", "epochs-from", "mtl", "target-grid", "zones-out"};
  if (plain.count(option)) return PathForm::plain;
  if (option == "input" || option == "before" || option == "after" || option == "epoch") return PathForm::labeled;
  if (option == "bands") return PathForm::band_map;
  if (option == "mask-band") return PathForm::mask_band;
  return PathForm::none;
}

bool is_whole_number(std::string const& text) {
  return !text.empty() && text.find_first_not_of("0123456789") == std::string::npos;
}

/// `path` taken from `base` when it is relative (GDAL virtual paths and URLs are absolute or
/// hold "://", and stay as they are).
std::string from_folder(fs::path const& base, std::string const& path) {
  if (path.empty() || path.find("://") != std::string::npos || fs::path(path).is_absolute()) return path;
  return (base / path).lexically_normal().string();
}

std::string resolve_paths(PathForm form, fs::path const& base, std::string const& text) {
  switch (form) {
    case PathForm::none: return text;
    case PathForm::plain: return from_folder(base, text);
    case PathForm::labeled: {
      auto const lp = parse_labeled_path(text);
      std::string const path = from_folder(base, lp.path.string());
      return lp.label.empty() ? path : lp.label + "=" + path;
    }
    case PathForm::mask_band:
      return is_whole_number(text) || text == "none" ? text : from_folder(base, text);
    case PathForm::band_map: {  // role=N or role=FILE[:key=value...], comma separated
      std::string out;
      std::size_t start = 0;
      while (start <= text.size()) {
        auto const comma = std::min(text.find(',', start), text.size());
        std::string item = text.substr(start, comma - start);
        auto const eq = item.find('=');
        if (eq != std::string::npos) {
          std::string const source = item.substr(eq + 1);
          auto const colon = source.find(':');
          if (!is_whole_number(source.substr(0, colon))) item = item.substr(0, eq + 1) + from_folder(base, source);
        }
        out += (start ? "," : "") + item;
        start = comma + 1;
      }
      return out;
    }
  }
  return text;
}

/// A JSON or TOML job file as one JSON object.
nlohmann::json read_job_file(fs::path const& path) {
  nlohmann::json doc = io::read_document(path, "job file");
  if (!doc.is_object()) throw input_error("job file '" + path.string() + "': expected a table of options");
  return doc;
}

std::set<std::string> declared_options(cxxopts::Options const& options) {
  std::set<std::string> names;
  for (auto const& group : options.groups())
    for (auto const& o : options.group_help(group).options) names.insert(o.l.empty() ? o.s : o.l.front());
  return names;
}

}  // namespace

OptionValues::OptionValues(cxxopts::Options const& options, cxxopts::ParseResult cli,
                           std::optional<fs::path> job)
    : m_cli(std::move(cli)), m_job_path(std::move(job)) {
  if (!m_job_path) return;
  m_job = read_job_file(*m_job_path);
  auto const known = declared_options(options);
  std::string const file = "job file '" + m_job_path->string() + "'";
  for (auto const& [key, value] : m_job.items()) {
    if (key == "job") throw input_error(file + ": a job file cannot name another");
    if (key == "help" || !known.count(key)) throw input_error(file + ": unknown option '" + key + "'");
    if (value.is_boolean() || value.is_string() || value.is_number()) continue;
    if (value.is_array()) {
      for (auto const& v : value)
        if (!v.is_string() && !v.is_number())
          throw input_error(file + ": option '" + key + "' must be text, a number or true");
      continue;
    }
    throw input_error(file + ": option '" + key + "' must be text, a number or true");
  }
}

nlohmann::json const* OptionValues::job_value(std::string const& name) const {
  auto const it = m_job.find(name);
  if (it == m_job.end()) return nullptr;
  if (it->is_boolean() && !it->get<bool>()) return nullptr;  // false: not given
  return &*it;
}

std::string OptionValues::job_scalar(nlohmann::json const& v, std::string const& name) const {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_number_float() && !std::isfinite(v.get<double>()))  // TOML's nan and inf (JSON would write null)
    return std::isnan(v.get<double>()) ? "nan" : v.get<double>() > 0 ? "inf" : "-inf";
  if (v.is_number()) return v.dump();
  if (v.is_boolean()) return "true";
  throw input_error("job file '" + m_job_path->string() + "': option '" + name + "' must be text, a number or true");
}

std::string OptionValues::job_text(nlohmann::json const& v, std::string const& name) const {
  return resolve_paths(path_form(name), m_job_path->parent_path(), job_scalar(v, name));
}

std::size_t OptionValues::count(std::string const& name) const {
  if (auto const n = m_cli.count(name)) return n;
  auto const* v = job_value(name);
  if (!v) return 0;
  return v->is_array() ? v->size() : 1;
}

template <class T>
T OptionValue::as() const {
  auto const& values = m_values;
  if (values.m_cli.count(m_name) || !values.job_value(m_name)) return values.m_cli[m_name].template as<T>();
  auto const& v = *values.job_value(m_name);
  std::string const where = "job file '" + values.m_job_path->string() + "': option '" + m_name + "'";
  if constexpr (std::is_same_v<T, std::vector<std::string>>) {
    std::vector<std::string> out;
    if (v.is_array()) {
      for (auto const& item : v) out.push_back(values.job_text(item, m_name));
    } else {
      out.push_back(values.job_text(v, m_name));
    }
    return out;
  } else if constexpr (std::is_same_v<T, std::string>) {
    if (v.is_array()) throw input_error(where + " takes one value, not a list");
    return values.job_text(v, m_name);
  } else {
    static_assert(std::is_same_v<T, bool>, "numbers are read with OptionValues::number() and its kin");
    return true;
  }
}

template std::string OptionValue::as<std::string>() const;
template std::vector<std::string> OptionValue::as<std::vector<std::string>>() const;
template bool OptionValue::as<bool>() const;

void OptionValues::refuse(std::string const& name, std::string const& problem) const {
  std::string const value = (*this)[name].as<std::string>();
  if (!m_cli.count(name) && job_value(name))
    throw input_error("job file '" + m_job_path->string() + "': option '" + name + "' = " + value + ": " + problem);
  throw usage_error("--" + name + " " + value + ": " + problem);
}

double OptionValues::number(std::string const& name) const {
  auto const v = to_number((*this)[name].as<std::string>());
  if (!v) refuse(name, "not a number");
  if (!std::isfinite(*v)) refuse(name, "not a finite number");
  return *v;
}

double OptionValues::number_in(std::string const& name, double lo, double hi) const {
  double const v = number(name);
  if (!(v >= lo && v <= hi)) refuse(name, "expected a value from " + io::shortest_text(lo) + " to " + io::shortest_text(hi));
  return v;
}

double OptionValues::positive(std::string const& name) const {
  double const v = number(name);
  if (!(v > 0)) refuse(name, "must be greater than 0");
  return v;
}

int OptionValues::integer(std::string const& name, int lo, int hi) const {
  double const v = number(name);
  if (v != std::floor(v) || v < lo || v > hi)
    refuse(name, "expected a whole number from " + std::to_string(lo) + " to " + std::to_string(hi));
  return static_cast<int>(v);
}

std::vector<double> OptionValues::numbers(std::string const& name) const {
  std::vector<double> out;
  std::string const text = (*this)[name].as<std::string>();
  std::string item;
  for (char c : text + ",") {
    if (c != ',') {
      item += c;
      continue;
    }
    auto const v = to_number(item);
    if (!v || !std::isfinite(*v)) refuse(name, "'" + item + "' is not a finite number");
    out.push_back(*v);
    item.clear();
  }
  return out;
}

nlohmann::ordered_json OptionValues::to_json() const {
  nlohmann::ordered_json parameters;
  auto add = [&parameters](std::string const& key, nlohmann::ordered_json value) {
    if (parameters.contains(key)) {
      if (!parameters[key].is_array()) parameters[key] = nlohmann::ordered_json::array({parameters[key]});
      parameters[key].push_back(std::move(value));
    } else {
      parameters[key] = std::move(value);
    }
  };
  // The job file's values first (relative paths taken from its folder), then the command line's (which win).
  for (auto const& [key, value] : m_job.items()) {
    if (m_cli.count(key) || !job_value(key)) continue;
    if (value.is_array()) {
      for (auto const& v : value) add(key, job_text(v, key));
    } else {
      add(key, job_text(value, key));
    }
  }
  for (auto const& kv : m_cli.arguments())
    if (kv.key() != "job") add(kv.key(), kv.value());
  for (auto const& kv : m_cli.defaults())
    if (!parameters.contains(kv.key())) parameters[kv.key()] = kv.value();
  return parameters;
}

std::optional<OptionValues> parse_command(cxxopts::Options& options, int argc, char** argv,
                                          std::string const& help_footer) {
  options.add_options("Run")("job", "a JSON or TOML file of these options (the command line overrides it)",
                             cxxopts::value<std::string>());
  auto r = options.parse(argc, argv);
  if (r.count("help")) {
    std::puts(options.help(options.groups()).c_str());  // every group, in the order added
    if (!help_footer.empty()) std::fputs(help_footer.c_str(), stdout);
    return std::nullopt;
  }
  if (!r.unmatched().empty()) throw usage_error("unexpected argument '" + r.unmatched().front() + "'");
  std::optional<fs::path> job;
  if (r.count("job")) job = fs::path(r["job"].as<std::string>());
  return OptionValues(options, std::move(r), std::move(job));
}

}  // namespace reclaim::cli
