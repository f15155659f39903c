#include "reclaim/io/crop_pieces.hpp"

#include <cmath>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>

#include "io/output_file.hpp"
#include "reclaim/error.hpp"

namespace reclaim::io {
namespace fs = std::filesystem;

namespace {

constexpr char kMagic[4] = {'R', 'C', 'R', 'P'};
constexpr std::uint32_t kVersion = 1;

template <typename T>
void put(std::string& out, T v) {
  char bytes[sizeof(T)];
  std::memcpy(bytes, &v, sizeof(T));
  out.append(bytes, sizeof(T));
}

class Reader {
 public:
  Reader(fs::path path, std::string_view bytes) : m_path(std::move(path)), m_bytes(bytes) {}
  template <typename T>
  T get() {
    T v;
    need(sizeof(T));
    std::memcpy(&v, m_bytes.data() + m_at, sizeof(T));
    m_at += sizeof(T);
    return v;
  }
  void floats(std::vector<float>& out, std::size_t n) {
    need(n * sizeof(float));
    out.resize(n);
    std::memcpy(out.data(), m_bytes.data() + m_at, n * sizeof(float));
    m_at += n * sizeof(float);
  }
  [[noreturn]] void fail(std::string const& why) const {
    throw input_error(m_path.string() + ": not a readable crop-pieces file (" + why + ")");
  }
  [[nodiscard]] bool done() const { return m_at == m_bytes.size(); }

 private:
  void need(std::size_t n) const {
    if (m_bytes.size() - m_at < n) fail("truncated");
  }
  fs::path m_path;
  std::string_view m_bytes;
  std::size_t m_at = 0;
};

}  // namespace

void write_crop_pieces(fs::path const& path, std::vector<CropPiece> const& pieces) {
  std::string out(kMagic, 4);
  put(out, kVersion);
  put(out, static_cast<std::uint64_t>(pieces.size()));
  for (auto const& p : pieces) {
    put(out, p.key);
    for (auto v : {static_cast<std::int32_t>(p.crop_window.x0), static_cast<std::int32_t>(p.crop_window.y0),
                   p.crop_window.width, p.crop_window.height, p.step, p.crop_width, p.crop_height, p.column, p.row,
                   p.piece.width, p.piece.height})
      put(out, v);
    put(out, static_cast<std::uint32_t>(p.piece.planes.size()));
    for (auto const& plane : p.piece.planes) {
      RECLAIM_EXPECTS(plane.size() == static_cast<std::size_t>(p.piece.width) * static_cast<std::size_t>(p.piece.height),
                      "crop piece plane size");
      out.append(reinterpret_cast<char const*>(plane.data()), plane.size() * sizeof(float));
    }
  }
  out += sha256_hex(out);
  write_file_atomically(path, out);
}

std::vector<CropPiece> read_crop_pieces(fs::path const& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw input_error(path.string() + ": cannot open the crop-pieces file");
  std::string const bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (bytes.size() < 4 + 4 + 8 + 64) Reader(path, bytes).fail("too short");
  std::string_view const body(bytes.data(), bytes.size() - 64);
  Reader r(path, body);
  if (std::memcmp(bytes.data(), kMagic, 4) != 0) r.fail("no RCRP signature");
  if (sha256_hex(body) != std::string_view(bytes).substr(bytes.size() - 64)) r.fail("checksum mismatch");
  (void)r.get<std::uint32_t>();  // the magic, as a word
  if (auto const v = r.get<std::uint32_t>(); v != kVersion) r.fail("version " + std::to_string(v));
  auto const count = r.get<std::uint64_t>();
  std::vector<CropPiece> pieces;
  for (std::uint64_t k = 0; k < count; ++k) {
    CropPiece p;
    p.key = r.get<std::uint64_t>();
    p.crop_window.x0 = r.get<std::int32_t>();
    p.crop_window.y0 = r.get<std::int32_t>();
    p.crop_window.width = r.get<std::int32_t>();
    p.crop_window.height = r.get<std::int32_t>();
    p.step = r.get<std::int32_t>();
    p.crop_width = r.get<std::int32_t>();
    p.crop_height = r.get<std::int32_t>();
    p.column = r.get<std::int32_t>();
    p.row = r.get<std::int32_t>();
    p.piece.width = r.get<std::int32_t>();
    p.piece.height = r.get<std::int32_t>();
    p.piece.step = p.step;
    auto const planes = r.get<std::uint32_t>();
    if (p.step < 1 || p.crop_width < 1 || p.crop_height < 1 || p.piece.width < 1 || p.piece.height < 1 ||
        p.column < 0 || p.row < 0 || p.column + p.piece.width > p.crop_width || p.row + p.piece.height > p.crop_height ||
        planes > 64)
      r.fail("piece " + std::to_string(k) + " lies outside its crop");
    p.piece.planes.resize(planes);
    for (auto& plane : p.piece.planes)
      r.floats(plane, static_cast<std::size_t>(p.piece.width) * static_cast<std::size_t>(p.piece.height));
    pieces.push_back(std::move(p));
  }
  if (!r.done()) r.fail("bytes after the last piece");
  return pieces;
}

void paste_crop_piece(Crop& whole, CropPiece const& p) {
  if (whole.planes.empty()) {
    whole.window = p.crop_window;
    whole.step = p.step;
    whole.width = p.crop_width;
    whole.height = p.crop_height;
    whole.planes.assign(p.piece.planes.size(),
                        std::vector<float>(static_cast<std::size_t>(p.crop_width) * static_cast<std::size_t>(p.crop_height),
                                           std::nanf("")));
  }
  if (whole.width != p.crop_width || whole.height != p.crop_height || whole.step != p.step ||
      whole.planes.size() != p.piece.planes.size())
    throw input_error("crop pieces of one site disagree on its crop (the units come from different plans?)");
  for (std::size_t k = 0; k < whole.planes.size(); ++k)
    for (std::int32_t y = 0; y < p.piece.height; ++y)
      std::memcpy(&whole.planes[k][static_cast<std::size_t>(p.row + y) * static_cast<std::size_t>(whole.width) +
                                   static_cast<std::size_t>(p.column)],
                  &p.piece.planes[k][static_cast<std::size_t>(y) * static_cast<std::size_t>(p.piece.width)],
                  static_cast<std::size_t>(p.piece.width) * sizeof(float));
}

}  // namespace reclaim::io
