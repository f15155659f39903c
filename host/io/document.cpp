#include "io/document.hpp"

#include <fstream>
#include <sstream>

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

nlohmann::json read_document(std::filesystem::path const& path, std::string const& kind) {
  std::string const prefix = kind + " '" + path.string() + "': ";
  std::ifstream in(path, std::ios::binary);
  if (!in) throw input_error(prefix + "cannot read");
  std::stringstream ss;
  ss << in.rdbuf();
  try {
    if (path.extension() == ".toml") return toml_to_json(toml::parse(ss.str(), path.string()));
    return nlohmann::json::parse(ss.str());
  } catch (DocumentError const& e) {
    throw input_error(prefix + e.where + ": " + e.what());
  } catch (toml::parse_error const& e) {
    auto const& pos = e.source().begin;
    throw input_error(prefix + "TOML syntax error at line " + std::to_string(pos.line) + ", column " +
                      std::to_string(pos.column) + ": " + std::string(e.description()));
  } catch (std::exception const& e) {
    throw input_error(prefix + e.what());
  }
}

}  // namespace reclaim::io
