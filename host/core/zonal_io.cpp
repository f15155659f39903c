// Serialisation of the zonal accumulators; the format is documented in include/reclaim/zonal_io.hpp.
#include "reclaim/zonal_io.hpp"

#include <bit>
#include <cmath>
#include <cstring>
#include <string>

#include "reclaim/error.hpp"

namespace reclaim {
namespace {

enum : std::uint16_t { kKindValue = 1, kKindHistogram = 2, kKindClass = 3, kKindArea = 4 };
constexpr std::size_t kHeaderBytes = 12;  // magic, version, kind, payload size
constexpr std::size_t kTrailerBytes = 8;  // checksum

std::uint64_t fnv1a64(std::uint8_t const* p, std::size_t n) {
  std::uint64_t h = 0xcbf29ce484222325ull;
  for (std::size_t i = 0; i < n; ++i) {
    h ^= p[i];
    h *= 0x100000001b3ull;
  }
  return h;
}

/// Appends fixed-width little-endian fields by shifting, so the host's byte order never matters.
class Writer {
 public:
  explicit Writer(std::uint16_t kind) {
    m_bytes.reserve(256);
    for (char ch : {'R', 'Z', 'A', 'C'}) m_bytes.push_back(static_cast<std::uint8_t>(ch));
    u16(kZonalFormatVersion);
    u16(kind);
    u32(0);  // payload size, patched by finish()
  }
  void u16(std::uint16_t v) { put(v, 2); }
  void u32(std::uint32_t v) { put(v, 4); }
  void u64(std::uint64_t v) { put(v, 8); }
  void f64(double v) { u64(std::bit_cast<std::uint64_t>(v)); }
  void exact(pixel::ExactSum const& s) {
    for (std::uint64_t limb : s.m_limb) u64(limb);
    u32(s.m_overflow != 0 ? 1 : 0);
  }
  std::vector<std::uint8_t> finish() {
    std::uint64_t const payload = m_bytes.size() - kHeaderBytes;
    for (int i = 0; i < 4; ++i) m_bytes[8 + i] = static_cast<std::uint8_t>(payload >> (8 * i));
    u64(fnv1a64(m_bytes.data(), m_bytes.size()));
    return std::move(m_bytes);
  }

 private:
  void put(std::uint64_t v, int n) {
    for (int i = 0; i < n; ++i) m_bytes.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
  }
  std::vector<std::uint8_t> m_bytes;
};

/// Validates the envelope on construction; then reads the payload field by field.
class Reader {
 public:
  Reader(std::span<std::uint8_t const> bytes, std::uint16_t kind, char const* what)
      : m_bytes(bytes), m_what(what) {
    if (bytes.size() < kHeaderBytes + kTrailerBytes) fail("buffer too short");
    if (std::memcmp(bytes.data(), "RZAC", 4) != 0) fail("bad magic (not a reclaim zonal accumulator)");
    m_pos = 4;
    std::uint16_t const version = static_cast<std::uint16_t>(get(2));
    if (version != kZonalFormatVersion) fail("unsupported format version " + std::to_string(version));
    std::uint16_t const k = static_cast<std::uint16_t>(get(2));
    if (k != kind) fail("wrong accumulator kind " + std::to_string(k));
    std::uint64_t const payload = get(4);
    if (payload != bytes.size() - kHeaderBytes - kTrailerBytes) fail("payload size does not match the buffer");
    std::size_t const end = bytes.size() - kTrailerBytes;
    std::uint64_t stored = 0;
    for (int i = 0; i < 8; ++i) stored |= std::uint64_t{bytes[end + i]} << (8 * i);
    if (stored != fnv1a64(bytes.data(), end)) fail("checksum mismatch (corrupt buffer)");
    m_limit = end;
  }
  std::uint32_t u32() { return static_cast<std::uint32_t>(get(4)); }
  std::uint64_t u64() { return get(8); }
  double f64() { return std::bit_cast<double>(get(8)); }
  pixel::ExactSum exact() {
    pixel::ExactSum s{};
    for (std::uint64_t& limb : s.m_limb) limb = u64();
    s.m_overflow = u32();
    if (s.m_overflow > 1) fail("bad overflow flag");
    return s;
  }
  void done() {
    if (m_pos != m_limit) fail("trailing bytes in the payload");
  }
  [[noreturn]] void fail(std::string const& why) const {
    throw input_error(std::string("zonal ") + m_what + " accumulator: " + why);
  }

 private:
  std::uint64_t get(int n) {
    if (m_pos + static_cast<std::size_t>(n) > m_limit) fail("payload too short");
    std::uint64_t v = 0;
    for (int i = 0; i < n; ++i) v |= std::uint64_t{m_bytes[m_pos + i]} << (8 * i);
    m_pos += static_cast<std::size_t>(n);
    return v;
  }
  std::span<std::uint8_t const> m_bytes;
  char const* m_what;
  std::size_t m_pos = 0;
  std::size_t m_limit = kHeaderBytes;  // the header, then the payload once the envelope checks out
};

}  // namespace

std::vector<std::uint8_t> serialize(pixel::ValueAccumulator const& acc) {
  Writer w(kKindValue);
  w.exact(acc.m_weight);
  w.exact(acc.m_nodata_weight);
  w.exact(acc.m_sum);
  w.exact(acc.m_sum2);
  w.u64(acc.m_pixels);
  w.u64(acc.m_nodata_pixels);
  w.f64(acc.m_min);
  w.f64(acc.m_max);
  return w.finish();
}

pixel::ValueAccumulator deserialize_value(std::span<std::uint8_t const> bytes) {
  Reader r(bytes, kKindValue, "value");
  pixel::ValueAccumulator acc{};
  acc.m_weight = r.exact();
  acc.m_nodata_weight = r.exact();
  acc.m_sum = r.exact();
  acc.m_sum2 = r.exact();
  acc.m_pixels = r.u64();
  acc.m_nodata_pixels = r.u64();
  acc.m_min = r.f64();
  acc.m_max = r.f64();
  r.done();
  return acc;
}

std::vector<std::uint8_t> serialize(pixel::ClassAccumulator const& acc) {
  Writer w(kKindClass);
  w.u32(pixel::ClassAccumulator::kClasses);
  w.u64(acc.m_invalid);
  for (std::uint64_t v : acc.m_w) w.u64(v);
  return w.finish();
}

pixel::ClassAccumulator deserialize_class(std::span<std::uint8_t const> bytes) {
  Reader r(bytes, kKindClass, "class");
  if (r.u32() != pixel::ClassAccumulator::kClasses) r.fail("class count is not 256");
  pixel::ClassAccumulator acc{};
  acc.m_invalid = r.u64();
  for (std::uint64_t& v : acc.m_w) v = r.u64();
  r.done();
  return acc;
}

std::vector<std::uint8_t> serialize(pixel::ZoneArea const& area) {
  Writer w(kKindArea);
  w.exact(area.area_m2);
  w.exact(area.valid_area_m2);
  return w.finish();
}

pixel::ZoneArea deserialize_area(std::span<std::uint8_t const> bytes) {
  Reader r(bytes, kKindArea, "area");
  pixel::ZoneArea area{};
  area.area_m2 = r.exact();
  area.valid_area_m2 = r.exact();
  r.done();
  return area;
}

namespace detail {

std::vector<std::uint8_t> serialize_histogram(double lo, double hi, std::uint64_t under, std::uint64_t over,
                                              std::span<std::uint64_t const> bins) {
  Writer w(kKindHistogram);
  w.u32(static_cast<std::uint32_t>(bins.size()));
  w.f64(lo);
  w.f64(hi);
  w.u64(under);
  w.u64(over);
  for (std::uint64_t v : bins) w.u64(v);
  return w.finish();
}

void deserialize_histogram(std::span<std::uint8_t const> bytes, double& lo, double& hi, std::uint64_t& under,
                           std::uint64_t& over, std::span<std::uint64_t> bins) {
  Reader r(bytes, kKindHistogram, "histogram");
  std::uint32_t const n = r.u32();
  if (n != bins.size())
    r.fail("has " + std::to_string(n) + " bins, expected " + std::to_string(bins.size()));
  lo = r.f64();
  hi = r.f64();
  if (!std::isfinite(lo) || !std::isfinite(hi) || !(lo < hi)) r.fail("bad range [lo, hi)");
  under = r.u64();
  over = r.u64();
  for (std::uint64_t& v : bins) v = r.u64();
  r.done();
}

}  // namespace detail
}  // namespace reclaim
