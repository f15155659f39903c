// Reads one-pixel observation stacks from stdin, runs them as one tile through CompositePixel
// and for_each_pixel, and prints every output plane, for the numpy comparison in
// tests/pixel/test_composite_numpy.py.
//
//   composite_probe --method median|max_ndvi|medoid --bands B[,B...] [--percentiles Q[,Q...]]
//
// Bands are Band numbers (0 blue .. 5 swir2). Each input line: n, then n * kBandCount values,
// observation-major in Band order ("nan", "inf" allowed); every line must have the same n (the
// lines become the pixels of one tile, planes `lines` floats apart). Each output line:
// composite_output_planes values, %.9g (a float exactly), "nan" for NaN.
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "reclaim/pixel/composite.hpp"
#include "reclaim/pixel/per_pixel.hpp"

namespace {

[[noreturn]] void die(std::string const& why) {
  std::fprintf(stderr, "composite_probe: %s\n", why.c_str());
  std::exit(2);
}

double number(std::string const& text) {
  char* end = nullptr;
  double const v = std::strtod(text.c_str(), &end);
  if (end == text.c_str() || *end != '\0') die("not a number: " + text);
  return v;
}

std::vector<double> numbers(std::string const& list) {
  std::vector<double> out;
  std::stringstream words(list);
  for (std::string w; std::getline(words, w, ',');) out.push_back(number(w));
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace reclaim::pixel;
  CompositeParams p;
  for (int a = 1; a + 1 < argc; a += 2) {
    std::string const flag = argv[a], value = argv[a + 1];
    if (flag == "--method") {
      if (value == "median") p.method = CompositeMethod::median;
      else if (value == "max_ndvi") p.method = CompositeMethod::max_ndvi;
      else if (value == "medoid") p.method = CompositeMethod::medoid;
      else die("unknown method " + value);
    } else if (flag == "--bands") {
      for (double b : numbers(value)) p.bands |= band_bit(static_cast<Band>(static_cast<int>(b)));
    } else if (flag == "--percentiles") {
      for (double q : numbers(value)) {
        if (p.percentile_count == kMaxCompositePercentiles) die("too many percentiles");
        p.percentiles[p.percentile_count++] = q;
      }
    } else {
      die("unknown option " + flag);
    }
  }
  std::vector<std::vector<float>> stacks;
  int n = -1;
  std::string line;
  while (std::getline(std::cin, line)) {
    std::istringstream words(line);
    std::vector<std::string> tokens;
    for (std::string w; words >> w;) tokens.push_back(w);
    if (tokens.empty()) continue;
    int const count = static_cast<int>(number(tokens[0]));
    if (n >= 0 && count != n) die("every line must have the same observation count");
    n = count;
    if (tokens.size() != 1 + static_cast<std::size_t>(n) * kBandCount) die("bad line: " + std::to_string(tokens.size()) + " tokens");
    std::vector<float> stack;
    for (std::size_t k = 1; k < tokens.size(); ++k) stack.push_back(static_cast<float>(number(tokens[k])));
    stacks.push_back(std::move(stack));
  }
  p.observation_count = n < 0 ? 0 : n;
  if (char const* why = composite_params_error(p)) die(why);
  std::size_t const pixels = stacks.size();
  std::size_t const in_planes = static_cast<std::size_t>(p.observation_count) * kBandCount;
  std::vector<float> obs(in_planes * pixels);
  for (std::size_t i = 0; i < pixels; ++i)
    for (std::size_t k = 0; k < in_planes; ++k) obs[k * pixels + i] = stacks[i][k];
  auto const planes = static_cast<std::size_t>(composite_output_planes(p));
  std::vector<float> out(planes * pixels);
  for_each_pixel(pixels, CompositePixel{p, obs.data(), out.data(), pixels});
  for (std::size_t i = 0; i < pixels; ++i) {
    for (std::size_t k = 0; k < planes; ++k) {
      float const v = out[k * pixels + i];
      if (std::isnan(v)) std::fputs(k ? " nan" : "nan", stdout);
      else std::printf(k ? " %.9g" : "%.9g", static_cast<double>(v));
    }
    std::fputc('\n', stdout);
  }
  return 0;
}
