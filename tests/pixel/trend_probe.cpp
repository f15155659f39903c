// Reads series from stdin and prints every trend product, for the scipy comparison in
// tests/pixel/test_trend_scipy.py.
//
//   trend_probe [--min-epochs N] [--vegetated V] [--disturbance Y] [--restoration Y]
//               [--timestep T] [--percent P] [--reference V] [--pre-years W]
//
// Each input line: n x_1 .. x_n y_1 .. y_n ("nan" for a missing value). Each output line:
// the kTrendOutputCount products in TrendOutput order, %.17g, "nan" for nodata.
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "reclaim/pixel/trend.hpp"

namespace {

double number(char const* text) {
  char* end = nullptr;
  double const v = std::strtod(text, &end);
  if (end == text || *end != '\0') {
    std::fprintf(stderr, "trend_probe: not a number: %s\n", text);
    std::exit(2);
  }
  return v;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace reclaim::pixel;
  TrendParams p;
  for (int a = 1; a + 1 < argc; a += 2) {
    std::string const flag = argv[a];
    double const v = number(argv[a + 1]);
    if (flag == "--min-epochs") p.min_epochs = static_cast<int>(v);
    else if (flag == "--vegetated") p.vegetated_threshold = v;
    else if (flag == "--disturbance") p.recovery.disturbance_year = v;
    else if (flag == "--restoration") p.recovery.restoration_year = v;
    else if (flag == "--timestep") p.recovery.timestep = v;
    else if (flag == "--percent") p.recovery.percent = v;
    else if (flag == "--pre-years") p.recovery.pre_years = v;
    else if (flag == "--reference") {
      p.recovery.target = RecoveryTarget::reference;
      p.recovery.reference_value = v;
    } else {
      std::fprintf(stderr, "trend_probe: unknown option %s\n", flag.c_str());
      return 2;
    }
  }
  std::string line;
  std::vector<double> x, y;
  std::vector<std::string> tokens;
  while (std::getline(std::cin, line)) {
    std::istringstream words(line);
    tokens.clear();
    for (std::string w; words >> w;) tokens.push_back(w);
    if (tokens.empty()) continue;
    auto const n = static_cast<std::size_t>(number(tokens[0].c_str()));
    if (n > static_cast<std::size_t>(kMaxEpochs) || tokens.size() != 1 + 2 * n) {
      std::fprintf(stderr, "trend_probe: bad line (n = %zu, %zu tokens)\n", n, tokens.size());
      return 2;
    }
    x.assign(n, 0.0);
    y.assign(n, 0.0);
    for (std::size_t i = 0; i < n; ++i) {
      x[i] = number(tokens[1 + i].c_str());
      y[i] = number(tokens[1 + n + i].c_str());
    }
    TrendResult const r = compute_trend(SpanSeries{x.data(), y.data(), static_cast<int>(n)}, p);
    for (int o = 0; o < kTrendOutputCount; ++o) {
      if (std::isnan(r.value[o])) std::fputs(o ? " nan" : "nan", stdout);
      else std::printf(o ? " %.17g" : "%.17g", r.value[o]);
    }
    std::fputc('\n', stdout);
  }
  return 0;
}
