#include "io/output_file.hpp"

#include <fstream>
#include <string>

#include "reclaim/error.hpp"

namespace reclaim::io {
namespace fs = std::filesystem;

fs::path hidden_temp_path(fs::path const& path, std::string_view suffix) {
  std::string name(".");  // built by appending: GCC 12 warns falsely on "." + string
  name += path.filename().string();
  name += suffix;
  return path.parent_path() / name;
}

void commit_temp(fs::path const& tmp, fs::path const& path) {
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) {
    std::error_code ignored;
    fs::remove(tmp, ignored);
    throw io_error(path.string() + ": cannot rename from " + tmp.string() + " (" + ec.message() + ")");
  }
}

void write_file_atomically(fs::path const& path, std::string_view bytes) {
  fs::path const tmp = hidden_temp_path(path);
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) throw io_error(path.string() + ": cannot create " + tmp.string());
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    out.close();
    if (!out) {
      std::error_code ignored;
      fs::remove(tmp, ignored);
      throw io_error(path.string() + ": cannot write " + tmp.string() + " (disk full?)");
    }
  }
  commit_temp(tmp, path);
}

}  // namespace reclaim::io
