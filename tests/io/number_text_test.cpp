// The table number format: shortest text that reads back as the same double.
#include <gtest/gtest.h>

#include <cstdlib>
#include <limits>

#include "reclaim/io/number_text.hpp"

namespace {

using reclaim::io::shortest_text;

TEST(ShortestText, HandPicked) {
  EXPECT_EQ(shortest_text(193.08), "193.08");  // %.17g writes 193.08000000000001
  EXPECT_EQ(shortest_text(0.1 + 0.2), "0.30000000000000004");  // needs all 17 digits
  EXPECT_EQ(shortest_text(2.0), "2");
  EXPECT_EQ(shortest_text(-0.5), "-0.5");
  EXPECT_EQ(shortest_text(1e-300), "1e-300");
}

TEST(ShortestText, ReadsBackExactly) {
  double const values[] = {1.0 / 3.0, 6585.936195949841, 0.12683710804732601, std::numeric_limits<double>::max(),
                           std::numeric_limits<double>::denorm_min(), -123456.789e10};
  for (double v : values) EXPECT_EQ(std::strtod(shortest_text(v).c_str(), nullptr), v) << shortest_text(v);
}

}  // namespace
