// The zonal partial-file reader (host/io/zonal_partial.cpp). The input is the header JSON, a
// NUL byte, then the accumulator bytes; the target frames them as a partial file (magic,
// version, lengths and the header's SHA-256, which random bytes would never match), so the
// fuzzer reaches the header and accumulator parsers. An input starting with the magic "RZPT"
// is written as it is (the framing itself).
#include "fuzz_common.hpp"
#include "reclaim/io/zonal_partial.hpp"

#include <openssl/sha.h>

#include <cstring>

namespace {

std::string sha256_hex(std::string_view bytes) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<unsigned char const*>(bytes.data()), bytes.size(), digest);
  static char const hex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char b : digest) {
    out.push_back(hex[b >> 4]);
    out.push_back(hex[b & 15]);
  }
  return out;
}

void put_u(std::string& out, std::uint64_t v, int n) {
  for (int i = 0; i < n; ++i) out.push_back(static_cast<char>(v >> (8 * i)));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(std::uint8_t const* data, std::size_t size) {
  std::string_view const in(reinterpret_cast<char const*>(data), size);
  std::string file;
  if (in.substr(0, 4) == "RZPT") {
    file = in;
  } else {
    auto const nul = in.find('\0');
    auto const header = in.substr(0, nul);
    auto const body = nul == std::string_view::npos ? std::string_view{} : in.substr(nul + 1);
    file = "RZPT";
    put_u(file, 2, 4);  // the format version this reclaim reads
    put_u(file, header.size(), 8);
    file.append(header);
    file.append(sha256_hex(header));
    file.append(body);
  }
  auto const path = reclaim::fuzz::write_input("shard.bin", file);
  reclaim::fuzz::expect_clean([&] {
    auto const p = reclaim::io::read_zonal_partial(path);
    (void)reclaim::io::merge_zonal_partials({p}, {"shard.bin"});
  });
  return 0;
}
