// The change-rules parser (docs/change.md): JSON or TOML text, chosen by the first byte.
#include "fuzz_common.hpp"
#include "reclaim/io/rules.hpp"

extern "C" int LLVMFuzzerTestOneInput(std::uint8_t const* data, std::size_t size) {
  if (size == 0) return 0;
  auto const format = (data[0] & 1) ? reclaim::io::RulesFormat::toml : reclaim::io::RulesFormat::json;
  std::string_view const text(reinterpret_cast<char const*>(data) + 1, size - 1);
  reclaim::fuzz::expect_clean([&] {
    auto const scheme = reclaim::io::parse_change_rules(text, format, "fuzz.rules");
    (void)scheme.category_names();
    (void)scheme.colors();
    for (int i = 0; i < scheme.rules.size(); ++i) (void)reclaim::io::describe_rule(scheme, scheme.rules.rule(i));
  });
  return 0;
}
