#include "io/document.hpp"

#include <fstream>
#include <sstream>
#include <vector>

#include "reclaim/error.hpp"

namespace reclaim::io {

nlohmann::json toml_to_json(toml::node const& node, std::string const& where) {
  if (auto const* t = node.as_table()) {
    nlohmann::json obj = nlohmann::json::object();
    for (auto const& [key, value] : *t) {
      std::string const k(key.str());
      obj[k] = toml_to_json(value, where.empty() ? k : where + "." + k);
    }
    return obj;
  }
  if (auto const* a = node.as_array()) {
    nlohmann::json arr = nlohmann::json::array();
    for (std::size_t i = 0; i < a->size(); ++i) arr.push_back(toml_to_json(*a->get(i), where + "[" + std::to_string(i) + "]"));
    return arr;
  }
  if (auto const* s = node.as_string()) return s->get();
  if (auto const* n = node.as_integer()) return n->get();
  if (auto const* f = node.as_floating_point()) return f->get();
  if (auto const* x = node.as_boolean()) return x->get();
  throw DocumentError(where, "dates and times have no meaning here");
}

nlohmann::json parse_json(std::string_view text, bool ignore_comments) {
  using event = nlohmann::json::parse_event_t;
  struct Frame {
    bool array;
    std::string key;
    std::size_t count = 0;  ///< items of an array so far
  };
  std::vector<Frame> frames;  // where the parser is, for the error below
  auto track = [&frames](int, event e, nlohmann::json& parsed) {
    switch (e) {
      case event::object_start: frames.push_back({false, {}}); break;
      case event::array_start: frames.push_back({true, {}}); break;
      case event::key: frames.back().key = parsed.get<std::string>(); break;
      case event::value:
        if (!frames.empty() && frames.back().array) ++frames.back().count;
        break;
      case event::object_end:
      case event::array_end:
        frames.pop_back();
        if (!frames.empty() && frames.back().array) ++frames.back().count;
        break;
    }
    return true;
  };
  try {
    return nlohmann::json::parse(text.begin(), text.end(), track, /*allow_exceptions=*/true, ignore_comments);
  } catch (nlohmann::json::out_of_range const& e) {
    std::string where;
    for (auto const& f : frames)
      where += f.array ? "[" + std::to_string(f.count) + "]" : (where.empty() ? "" : ".") + f.key;
    std::string const what = e.what();  // "... number overflow parsing '1e999'"
    auto const open = what.find('\''), close = what.rfind('\'');
    std::string const token = open != std::string::npos && close > open ? what.substr(open + 1, close - open - 1) : "";
    throw DocumentError(where.empty() ? "(top level)" : where,
                        "the number " + token + " is out of range (a double reaches about 1.8e308)");
  }
}

std::string toml_error_text(toml::parse_error const& e, std::string_view text) {
  auto const& pos = e.source().begin;
  std::string out = "TOML syntax error at line " + std::to_string(pos.line) + ", column " + std::to_string(pos.column);
  std::size_t start = 0;
  for (std::size_t line = 1; line < pos.line && start != std::string_view::npos; ++line) {
    start = text.find('\n', start);
    if (start != std::string_view::npos) ++start;
  }
  if (start != std::string_view::npos) {
    auto const line = text.substr(start, text.find('\n', start) - start);
    auto const eq = line.find('=');
    auto const first = line.find_first_not_of(" \t");
    if (eq != std::string_view::npos && first < eq && line[first] != '#' && line[first] != '[') {
      auto const last = line.find_last_not_of(" \t", eq - 1);
      out += " (key " + std::string(line.substr(first, last + 1 - first)) + ")";
    }
  }
  return out + ": " + std::string(e.description());
}

nlohmann::json read_document(std::filesystem::path const& path, std::string const& kind) {
  std::string const prefix = kind + " '" + path.string() + "': ";
  std::ifstream in(path, std::ios::binary);
  if (!in) throw input_error(prefix + "cannot read");
  std::stringstream ss;
  ss << in.rdbuf();
  try {
    std::string const text = ss.str();
    try {
      if (path.extension() == ".toml") return toml_to_json(toml::parse(text, path.string()));
    } catch (toml::parse_error const& e) {
      throw input_error(prefix + toml_error_text(e, text));
    }
    return parse_json(text);
  } catch (DocumentError const& e) {
    throw input_error(prefix + e.where + ": " + e.what());
  } catch (input_error const&) {
    throw;
  } catch (std::exception const& e) {
    throw input_error(prefix + e.what());
  }
}

}  // namespace reclaim::io
