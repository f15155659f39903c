// Change-classification rules files. Both formats are first turned into one JSON value
// (TOML through a small tree walk), so validation and error messages are written once.
#include "reclaim/io/rules.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>
#include <toml++/toml.h>

#include "reclaim/error.hpp"
#include "io/document.hpp"
#include "reclaim/io/number_text.hpp"

namespace reclaim::io {
namespace {

using nlohmann::json;
using pixel::ChangeCondition;
using pixel::ChangeRule;
using pixel::ChangeVar;
using pixel::CompareOp;

// A rules file is a few kilobytes; anything far larger is the wrong file.
constexpr std::uintmax_t kMaxRulesFileBytes = 1u << 20;

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

/// Collects the file name for every error; all semantic checks live here.
class SchemeBuilder {
 public:
  explicit SchemeBuilder(std::string source) : m_source(std::move(source)) {}

  [[noreturn]] void fail(std::string const& where, std::string const& problem) const {
    throw input_error("rules file '" + m_source + "': " + (where.empty() ? "" : where + ": ") + problem);
  }

  ChangeScheme build(json const& doc) const {
    if (!doc.is_object()) fail("", "the top level must be a table/object");
    for (auto const& [key, value] : doc.items()) {
      (void)value;
      if (key != "mode" && key != "vegetation_index" && key != "thresholds" && key != "classes" && key != "rules")
        fail(key, "unknown key (expected mode, vegetation_index, thresholds, classes, rules)");
    }

    ChangeScheme scheme;
    scheme.mode = parse_mode(doc);
    if (scheme.mode == RulesMode::replace && (doc.contains("thresholds") || doc.contains("vegetation_index")))
      fail("mode", "\"replace\" drops the default rules, so thresholds and vegetation_index would do nothing");
    if (doc.contains("vegetation_index")) {
      json const& v = doc["vegetation_index"];
      std::string const s = v.is_string() ? lower(v.get<std::string>()) : std::string();
      if (s == "fvc") scheme.thresholds.vegetated_by_fvc = true;
      else if (s != "ndvi") fail("vegetation_index", "expected \"ndvi\" or \"fvc\", got " + v.dump());
    }
    if (doc.contains("thresholds")) parse_thresholds(doc["thresholds"], scheme.thresholds);

    std::map<int, ChangeClassInfo> classes;
    for (pixel::ChangeClassStyle const& s : pixel::kDefaultChangeClasses)
      classes[s.value] = ChangeClassInfo{s.value, s.name, {s.rgba[0], s.rgba[1], s.rgba[2], s.rgba[3]}};
    if (doc.contains("classes")) parse_classes(doc["classes"], classes);

    std::vector<ChangeRule> own;
    if (doc.contains("rules")) own = parse_rules(doc["rules"], classes);

    pixel::ChangeRules const defaults = pixel::default_change_rules(scheme.thresholds);
    int const default_count = scheme.mode == RulesMode::replace ? 0 : defaults.size();
    int const total = default_count + static_cast<int>(own.size());
    if (total > pixel::kMaxChangeRules)
      fail("rules", "too many rules: " + std::to_string(default_count) + " default + " + std::to_string(own.size()) +
                        " from the file = " + std::to_string(total) + " (at most " +
                        std::to_string(pixel::kMaxChangeRules) + ")");
    if (scheme.mode == RulesMode::prepend) add_all(scheme.rules, own);
    if (scheme.mode != RulesMode::replace)
      for (int i = 0; i < defaults.size(); ++i) scheme.rules.add_rule(defaults.rule(i));
    if (scheme.mode != RulesMode::prepend) add_all(scheme.rules, own);

    for (auto& [value, info] : classes) scheme.classes.push_back(std::move(info));
    return scheme;
  }

 private:
  RulesMode parse_mode(json const& doc) const {
    if (!doc.contains("mode")) return RulesMode::append;
    json const& v = doc["mode"];
    std::string const s = v.is_string() ? lower(v.get<std::string>()) : std::string();
    if (s == "append") return RulesMode::append;
    if (s == "prepend") return RulesMode::prepend;
    if (s == "replace") return RulesMode::replace;
    fail("mode", "expected \"append\", \"prepend\" or \"replace\", got " + v.dump());
  }

  double number(json const& v, std::string const& where) const {
    if (!v.is_number()) fail(where, "expected a number, got " + v.dump());
    double const d = v.get<double>();
    if (!std::isfinite(d)) fail(where, "expected a finite number");
    return d;
  }

  void parse_thresholds(json const& t, pixel::ChangeThresholds& out) const {
    if (!t.is_object()) fail("thresholds", "expected a table/object");
    std::pair<char const*, double*> const fields[] = {
        {"ndvi_bare", &out.ndvi_bare},   {"bsi_bare", &out.bsi_bare},     {"ndvi_vegetated", &out.ndvi_vegetated},
        {"fvc_vegetated", &out.fvc_vegetated}, {"dndvi_gain", &out.dndvi_gain}, {"dndvi_loss", &out.dndvi_loss},
        {"mndwi_water", &out.mndwi_water}};
    for (auto const& item : t.items()) {
      // Not a structured binding: clang before 16 cannot capture one in the lambda (fuzz build).
      std::string const& key = item.key();
      json const& value = item.value();
      auto const it = std::find_if(std::begin(fields), std::end(fields),
                                   [&](auto const& f) { return key == f.first; });
      if (it == std::end(fields))
        fail("thresholds." + key,
             "unknown threshold (expected ndvi_bare, bsi_bare, ndvi_vegetated, fvc_vegetated, dndvi_gain, "
             "dndvi_loss, mndwi_water)");
      *it->second = number(value, "thresholds." + key);
    }
  }

  int class_value(json const& v, std::string const& where) const {
    if (!v.is_number_integer()) fail(where, "expected an integer class value, got " + v.dump());
    auto const n = v.get<std::int64_t>();
    if (n < 1 || n > 254)
      fail(where, "class value " + std::to_string(n) +
                      " out of range (1..254; 0 = nodata and 255 = unclassified are reserved)");
    return static_cast<int>(n);
  }

  std::array<std::uint8_t, 4> colour(json const& v, std::string const& where) const {
    std::array<std::uint8_t, 4> rgba{0, 0, 0, 255};
    if (v.is_string()) {
      std::string const s = v.get<std::string>();
      bool ok = (s.size() == 7 || s.size() == 9) && s[0] == '#';
      for (std::size_t i = 1; ok && i < s.size(); ++i) ok = std::isxdigit(static_cast<unsigned char>(s[i])) != 0;
      if (!ok) fail(where, "expected \"#rrggbb\" or \"#rrggbbaa\", got " + v.dump());
      for (std::size_t k = 0; k * 2 + 1 < s.size(); ++k)
        rgba[k] = static_cast<std::uint8_t>(std::stoul(s.substr(1 + 2 * k, 2), nullptr, 16));
      return rgba;
    }
    if (v.is_array() && (v.size() == 3 || v.size() == 4)) {
      for (std::size_t k = 0; k < v.size(); ++k) {
        json const& c = v[k];
        if (!c.is_number_integer() || c.get<std::int64_t>() < 0 || c.get<std::int64_t>() > 255)
          fail(where, "colour components must be integers 0..255, got " + v.dump());
        rgba[k] = static_cast<std::uint8_t>(c.get<std::int64_t>());
      }
      return rgba;
    }
    fail(where, "expected \"#rrggbb\", \"#rrggbbaa\", [r, g, b] or [r, g, b, a], got " + v.dump());
  }

  void parse_classes(json const& list, std::map<int, ChangeClassInfo>& classes) const {
    if (!list.is_array()) fail("classes", "expected an array of tables/objects");
    std::map<int, std::size_t> seen;
    for (std::size_t i = 0; i < list.size(); ++i) {
      std::string const where = "classes[" + std::to_string(i) + "]";
      json const& c = list[i];
      if (!c.is_object()) fail(where, "expected a table/object with value, name, colour");
      for (auto const& [key, value] : c.items()) {
        (void)value;
        if (key != "value" && key != "name" && key != "colour" && key != "color")
          fail(where + "." + key, "unknown key (expected value, name, colour)");
      }
      if (c.contains("colour") && c.contains("color")) fail(where, "both colour and color given");
      if (!c.contains("value")) fail(where, "missing value");
      int const value = class_value(c["value"], where + ".value");
      if (auto const dup = seen.find(value); dup != seen.end())
        fail(where, "class " + std::to_string(value) + " is already defined by classes[" +
                        std::to_string(dup->second) + "]");
      seen[value] = i;

      bool const known = classes.count(value) != 0;
      ChangeClassInfo info = known ? classes[value] : ChangeClassInfo{static_cast<std::uint8_t>(value), {}, {}};
      if (c.contains("name")) {
        json const& n = c["name"];
        if (!n.is_string() || n.get<std::string>().empty()) fail(where + ".name", "expected a non-empty string");
        info.name = n.get<std::string>();
      } else if (!known) {
        fail(where, "new class " + std::to_string(value) + " needs a name");
      }
      char const* const colour_key = c.contains("color") ? "color" : "colour";
      if (c.contains(colour_key)) info.rgba = colour(c[colour_key], where + "." + colour_key);
      else if (!known) fail(where, "new class " + std::to_string(value) + " needs a colour");
      classes[value] = std::move(info);
    }
  }

  ChangeCondition condition(json const& v, std::string const& where) const {
    if (!v.is_string()) fail(where, "expected a condition string such as \"ndvi_after >= 0.4\", got " + v.dump());
    std::string const text = v.get<std::string>();
    std::string const at = where + " \"" + text + "\"";
    std::size_t i = 0;
    auto const skip_space = [&] {
      while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
    };
    skip_space();
    std::size_t const name_begin = i;
    while (i < text.size() && (std::isalnum(static_cast<unsigned char>(text[i])) || text[i] == '_')) ++i;
    std::string const name = text.substr(name_begin, i - name_begin);
    ChangeCondition cond;
    bool found = false;
    for (int k = 0; k < pixel::kChangeVarCount && !found; ++k) {
      if (name == pixel::change_var_name(static_cast<ChangeVar>(k))) {
        cond.var = static_cast<ChangeVar>(k);
        found = true;
      }
    }
    if (!found) {
      std::string list;
      for (int k = 0; k < pixel::kChangeVarCount; ++k)
        list += (k ? ", " : "") + std::string(pixel::change_var_name(static_cast<ChangeVar>(k)));
      fail(at, "unknown variable '" + name + "' (expected one of " + list + ")");
    }
    skip_space();
    std::size_t const op_begin = i;
    while (i < text.size() && std::strchr("<>=!~", text[i]) != nullptr) ++i;
    std::string const op = text.substr(op_begin, i - op_begin);
    if (op == "<") cond.op = CompareOp::lt;
    else if (op == "<=") cond.op = CompareOp::le;
    else if (op == ">") cond.op = CompareOp::gt;
    else if (op == ">=") cond.op = CompareOp::ge;
    else fail(at, "bad operator '" + op + "' (expected <, <=, > or >=)");
    skip_space();
    if (i < text.size() && text[i] == '+') ++i;  // from_chars takes no leading '+'
    char const* const first = text.data() + i;
    char const* const last = text.data() + text.size();
    double threshold = 0.0;
    auto const res = std::from_chars(first, last, threshold);
    if (res.ec != std::errc() || !std::isfinite(threshold))
      fail(at, "expected a finite number after '" + op + "'");
    i = static_cast<std::size_t>(res.ptr - text.data());
    skip_space();
    if (i != text.size()) fail(at, "unexpected text after the threshold: '" + text.substr(i) + "'");
    cond.threshold = threshold;
    return cond;
  }

  std::vector<ChangeRule> parse_rules(json const& list, std::map<int, ChangeClassInfo> const& classes) const {
    if (!list.is_array()) fail("rules", "expected an array of tables/objects");
    std::vector<ChangeRule> rules;
    for (std::size_t i = 0; i < list.size(); ++i) {
      std::string const where = "rules[" + std::to_string(i) + "]";
      json const& r = list[i];
      if (!r.is_object()) fail(where, "expected a table/object with class and when");
      for (auto const& [key, value] : r.items()) {
        (void)value;
        if (key != "class" && key != "when") fail(where + "." + key, "unknown key (expected class, when)");
      }
      if (!r.contains("class")) fail(where, "missing class");
      if (!r.contains("when")) fail(where, "missing when (write when = [] for a rule that matches every pixel)");
      ChangeRule rule;
      int const value = class_value(r["class"], where + ".class");
      if (classes.count(value) == 0)
        fail(where + ".class", "class " + std::to_string(value) + " is not defined: add it to classes with a name "
                               "and a colour");
      rule.class_value = static_cast<std::uint8_t>(value);
      json const& when = r["when"];
      if (!when.is_array()) fail(where + ".when", "expected an array of condition strings");
      if (when.size() > static_cast<std::size_t>(pixel::kMaxRuleConditions))
        fail(where + ".when", "too many conditions: " + std::to_string(when.size()) + " (at most " +
                                  std::to_string(pixel::kMaxRuleConditions) + ")");
      for (std::size_t k = 0; k < when.size(); ++k)
        rule.conditions[rule.condition_count++] = condition(when[k], where + ".when[" + std::to_string(k) + "]");
      rules.push_back(rule);
    }
    return rules;
  }

  void add_all(pixel::ChangeRules& table, std::vector<ChangeRule> const& rules) const {
    for (ChangeRule const& r : rules)
      if (!table.add_rule(r)) fail("rules", "rule rejected by the rule table");  // checked above: a bug if reached
  }

  std::string m_source;
};

}  // namespace

std::vector<std::string> ChangeScheme::category_names() const {
  std::vector<std::string> names(256);
  for (ChangeClassInfo const& c : classes) names[c.value] = c.name;
  return names;
}

std::vector<std::array<std::uint8_t, 4>> ChangeScheme::colors() const {
  std::vector<std::array<std::uint8_t, 4>> rgba(256, {0, 0, 0, 0});
  for (ChangeClassInfo const& c : classes) rgba[c.value] = c.rgba;
  return rgba;
}

ChangeClassInfo const* ChangeScheme::find_class(std::uint8_t value) const noexcept {
  for (ChangeClassInfo const& c : classes)
    if (c.value == value) return &c;
  return nullptr;
}

ChangeScheme default_change_scheme() { return SchemeBuilder("(built-in defaults)").build(json::object()); }

ChangeScheme gated_change_scheme(pixel::ChangeThresholds const& thresholds, double magnitude_threshold) {
  ChangeScheme scheme;
  scheme.thresholds = thresholds;
  scheme.mode = RulesMode::replace;
  scheme.rules = pixel::default_gated_rules(thresholds, magnitude_threshold);
  for (pixel::ChangeClassStyle const& s : pixel::kGatedChangeClasses)
    scheme.classes.push_back(ChangeClassInfo{s.value, s.name, {s.rgba[0], s.rgba[1], s.rgba[2], s.rgba[3]}});
  return scheme;
}

ChangeScheme parse_change_rules(std::string_view text, RulesFormat format, std::string const& source) {
  SchemeBuilder const builder(source);
  json doc;
  if (format == RulesFormat::json) {
    try {
      doc = parse_json(text, /*ignore_comments=*/true);
    } catch (DocumentError const& e) {
      builder.fail(e.where, e.what());
    } catch (json::parse_error const& e) {
      builder.fail("", std::string("JSON syntax error: ") + e.what());
    } catch (json::exception const& e) {  // a number out of double's range (1e999) is out_of_range
      builder.fail("", std::string("bad JSON: ") + e.what());
    }
  } else {
    try {
      toml::table const table = toml::parse(text, source);
      doc = toml_to_json(table);
    } catch (DocumentError const& e) {
      builder.fail(e.where, e.what());
    } catch (toml::parse_error const& e) {
      builder.fail("", toml_error_text(e, text));
    }
  }
  return builder.build(doc);
}

ChangeScheme load_change_rules(std::filesystem::path const& path) {
  std::string const source = path.string();
  auto const fail = [&](std::string const& problem) -> void {
    throw input_error("rules file '" + source + "': " + problem);
  };
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) fail(ec ? ec.message() : "not found or not a regular file");
  std::uintmax_t const size = std::filesystem::file_size(path, ec);
  if (ec) fail(ec.message());
  if (size > kMaxRulesFileBytes) fail("larger than 1 MiB: not a rules file");
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(std::string("cannot open: ") + std::strerror(errno));
  std::ostringstream buf;
  buf << in.rdbuf();
  if (in.bad()) fail("read failed");
  std::string const text = buf.str();

  std::string const ext = lower(path.extension().string());
  RulesFormat format;
  if (ext == ".json") {
    format = RulesFormat::json;
  } else if (ext == ".toml") {
    format = RulesFormat::toml;
  } else {
    auto const first = text.find_first_not_of(" \t\r\n");
    format = first != std::string::npos && text[first] == '{' ? RulesFormat::json : RulesFormat::toml;
  }
  return parse_change_rules(text, format, source);
}

std::string describe_rule(ChangeScheme const& scheme, pixel::ChangeRule const& rule) {
  std::string s = std::to_string(rule.class_value);
  if (ChangeClassInfo const* c = scheme.find_class(rule.class_value)) s += " " + c->name;
  s += ":";
  if (rule.condition_count == 0) return s + " always";
  for (int k = 0; k < rule.condition_count; ++k) {
    ChangeCondition const& c = rule.conditions[k];
    s += (k ? " and " : " ") + std::string(pixel::change_var_name(c.var)) + " " + pixel::compare_op_name(c.op) +
         " " + shortest_text(c.threshold);
  }
  return s;
}

}  // namespace reclaim::io
