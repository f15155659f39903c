// The assessment's grades file (docs/metrics.md) through load_grade_rules: JSON or TOML,
// chosen by the first byte (the file's extension).
#include "fuzz_common.hpp"
#include "reclaim/io/assess.hpp"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  reclaim::fuzz::quiet_gdal();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(std::uint8_t const* data, std::size_t size) {
  if (size == 0) return 0;
  std::string_view const text(reinterpret_cast<char const*>(data) + 1, size - 1);
  auto const path = reclaim::fuzz::write_input((data[0] & 1) ? "grades.toml" : "grades.json", text);
  reclaim::fuzz::expect_clean([&] { (void)reclaim::io::load_grade_rules(path); });
  return 0;
}
