// The demo scene generator behind `reclaim synth`: a Sentinel-2-L2A-like scene pair over a
// semi-arid coal-mining landscape (UTM 49N) and the mine-site polygons that go with it.
//
// Everything is drawn from one seed: object placement from std::mt19937_64 in a fixed order,
// textures from hashed value noise, so a pixel's value does not depend on thread count or
// strip order. Both epochs are rendered in the same pass (they share the land cover), one
// block-high strip at a time, so memory stays at a few strips however large the scene.
#include "reclaim/synth/synth.hpp"
#include "reclaim/cpus.hpp"

#include <cpl_conv.h>
#include <cpl_error.h>
#include <gdal_priv.h>
#include <ogr_spatialref.h>
#include <ogrsf_frmts.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <exception>
#include <future>
#include <limits>
#include <memory>
#include <numbers>
#include <random>
#include <string>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include "io/output_file.hpp"
#include "reclaim/error.hpp"

namespace reclaim::synth {
namespace {

namespace fs = std::filesystem;
constexpr double kPi = std::numbers::pi;
constexpr int kBands = 6;  // B02 B03 B04 B08 B11 B12; SCL is band 7

// ---- randomness ------------------------------------------------------------------------------

constexpr std::uint64_t splitmix64(std::uint64_t x) noexcept {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

/// Placement randomness. Distributions are written out rather than taken from <random>, whose
/// distributions differ between standard libraries; the engine itself is fully specified.
class Rng {
 public:
  explicit Rng(std::uint64_t seed) : m_engine(seed) {}
  double uniform() { return static_cast<double>(m_engine() >> 11) * 0x1.0p-53; }
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }
  int below(int n) { return std::min(n - 1, static_cast<int>(uniform() * n)); }
  bool chance(double p) { return uniform() < p; }
  std::uint64_t bits() { return m_engine(); }

 private:
  std::mt19937_64 m_engine;
};

/// Lattice value in [0, 1) for value noise.
inline float lattice(std::uint64_t key, std::int64_t i, std::int64_t j) noexcept {
  std::uint64_t const h = splitmix64(key ^ splitmix64(static_cast<std::uint64_t>(i) +
                                                      0x632BE59BD9B4E019ull * static_cast<std::uint64_t>(j)));
  return static_cast<float>(h >> 40) * 0x1.0p-24f;
}

// ---- small maths -----------------------------------------------------------------------------

inline float clamp01(float x) noexcept { return std::min(1.f, std::max(0.f, x)); }
/// Smooth Hermite step; e0 > e1 gives a falling step.
inline float smoothstep(float e0, float e1, float x) noexcept {
  float const t = clamp01((x - e0) / (e1 - e0));
  return t * t * (3.f - 2.f * t);
}
inline std::int64_t floor_div(std::int64_t a, std::int64_t b) noexcept {
  std::int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}
/// Catmull-Rom weights: C1-smooth interpolation through the lattice values.
inline std::array<float, 4> catmull_rom(float t) noexcept {
  float const t2 = t * t, t3 = t2 * t;
  return {0.5f * (-t3 + 2.f * t2 - t), 0.5f * (3.f * t3 - 5.f * t2 + 2.f),
          0.5f * (-3.f * t3 + 4.f * t2 + t), 0.5f * (t3 - t2)};
}
/// Distance from p to segment ab.
inline double segment_distance(double px, double py, double ax, double ay, double bx, double by) noexcept {
  double const dx = bx - ax, dy = by - ay;
  double const len2 = dx * dx + dy * dy;
  double t = len2 > 0 ? ((px - ax) * dx + (py - ay) * dy) / len2 : 0.0;
  t = std::min(1.0, std::max(0.0, t));
  return std::hypot(px - ax - t * dx, py - ay - t * dy);
}

// ---- value-noise fBm ------------------------------------------------------------------------

struct Octave {
  std::int64_t spacing;  // lattice spacing in pixels
  std::int64_t ox, oy;   // lattice offset, so octaves and fields do not share grid lines
  std::uint64_t key;
  float amp;
};

/// Sum of value-noise octaves normalised by the amplitude sum: mean 0.5, within about [0, 1].
class Fbm {
 public:
  Fbm() = default;
  Fbm(Rng& rng, std::initializer_list<std::pair<int, float>> octaves) {
    float sum = 0.f;
    for (auto const& [spacing, amp] : octaves) {
      std::int64_t const s = spacing;
      m_octaves.push_back({s, static_cast<std::int64_t>(rng.below(1 << 12)) * s + rng.below(spacing),
                           static_cast<std::int64_t>(rng.below(1 << 12)) * s + rng.below(spacing), rng.bits(), amp});
      sum += amp;
    }
    m_norm = 1.f / sum;
  }
  [[nodiscard]] std::vector<Octave> const& octaves() const noexcept { return m_octaves; }
  [[nodiscard]] float norm() const noexcept { return m_norm; }

  /// Point evaluation at pixel coordinates (x, y); matches FbmRow for integer x, y.
  [[nodiscard]] float at(double x, double y) const {
    float acc = 0.f;
    for (auto const& o : m_octaves) {
      double const gx = (x + static_cast<double>(o.ox)) / static_cast<double>(o.spacing);
      double const gy = (y + static_cast<double>(o.oy)) / static_cast<double>(o.spacing);
      auto const i = static_cast<std::int64_t>(std::floor(gx));
      auto const j = static_cast<std::int64_t>(std::floor(gy));
      auto const wx = catmull_rom(static_cast<float>(gx - static_cast<double>(i)));
      auto const wy = catmull_rom(static_cast<float>(gy - static_cast<double>(j)));
      float v = 0.f;
      for (int b = 0; b < 4; ++b) {
        float row = 0.f;
        for (int a = 0; a < 4; ++a) row += wx[a] * lattice(o.key, i - 1 + a, j - 1 + b);
        v += wy[b] * row;
      }
      acc += o.amp * v;
    }
    return acc * m_norm;
  }

 private:
  std::vector<Octave> m_octaves;
  float m_norm = 1.f;
};

/// Evaluates an Fbm one image row at a time. Lattice rows are cached and rolled as rows advance,
/// and the x weights repeat with the lattice spacing, so a pixel costs one 4-tap dot product per
/// octave.
class FbmRow {
 public:
  FbmRow(Fbm const& fbm, std::int32_t width) : m_width(width), m_norm(fbm.norm()) {
    for (auto const& o : fbm.octaves()) {
      State s;
      s.oct = o;
      s.i0 = floor_div(o.ox, o.spacing) - 1;
      s.ncol = static_cast<std::int32_t>(floor_div(width - 1 + o.ox, o.spacing) + 3 - s.i0);
      for (auto& r : s.rows) r.resize(static_cast<std::size_t>(s.ncol));
      s.yrow.resize(static_cast<std::size_t>(s.ncol));
      for (auto& w : s.wx) w.resize(static_cast<std::size_t>(o.spacing));
      for (std::int64_t r = 0; r < o.spacing; ++r) {
        auto const w = catmull_rom(static_cast<float>(r) / static_cast<float>(o.spacing));
        for (int k = 0; k < 4; ++k) s.wx[k][static_cast<std::size_t>(r)] = w[k];
      }
      m_states.push_back(std::move(s));
    }
  }

  void eval(std::int32_t y, float* out) {
    std::fill(out, out + m_width, 0.f);
    for (auto& s : m_states) {
      std::int64_t const S = s.oct.spacing;
      std::int64_t const gy = y + s.oct.oy;
      std::int64_t const j = floor_div(gy, S);
      auto const wy = catmull_rom(static_cast<float>(gy - j * S) / static_cast<float>(S));
      if (j != s.j) {
        if (j == s.j + 1) {
          std::swap(s.rows[0], s.rows[1]);
          std::swap(s.rows[1], s.rows[2]);
          std::swap(s.rows[2], s.rows[3]);
          fill_row(s, 3, j + 2);
        } else {
          for (int k = 0; k < 4; ++k) fill_row(s, k, j - 1 + k);
        }
        s.j = j;
      }
      for (std::size_t c = 0; c < s.yrow.size(); ++c)
        s.yrow[c] = wy[0] * s.rows[0][c] + wy[1] * s.rows[1][c] + wy[2] * s.rows[2][c] + wy[3] * s.rows[3][c];
      float const amp = s.oct.amp;
      float const* w0 = s.wx[0].data();
      float const* w1 = s.wx[1].data();
      float const* w2 = s.wx[2].data();
      float const* w3 = s.wx[3].data();
      std::int64_t r = s.oct.ox - floor_div(s.oct.ox, S) * S;
      std::size_t c = 0;
      for (std::int32_t x = 0; x < m_width; ++c, r = 0) {
        auto const n = static_cast<std::int32_t>(std::min<std::int64_t>(S - r, m_width - x));
        float const y0 = s.yrow[c], y1 = s.yrow[c + 1], y2 = s.yrow[c + 2], y3 = s.yrow[c + 3];
        float* o = out + x;
        for (std::int32_t k = 0; k < n; ++k) {
          auto const q = static_cast<std::size_t>(r + k);
          o[k] += amp * (w0[q] * y0 + w1[q] * y1 + w2[q] * y2 + w3[q] * y3);
        }
        x += n;
      }
    }
    for (std::int32_t x = 0; x < m_width; ++x) out[x] *= m_norm;
  }

 private:
  struct State {
    Octave oct{};
    std::int64_t i0 = 0;
    std::int32_t ncol = 0;
    std::int64_t j = std::numeric_limits<std::int64_t>::min() / 2;
    std::array<std::vector<float>, 4> rows;
    std::vector<float> yrow;
    std::array<std::vector<float>, 4> wx;  // x weights by position within a lattice cell
  };
  static void fill_row(State& s, int k, std::int64_t j) {
    for (std::int32_t c = 0; c < s.ncol; ++c) s.rows[k][static_cast<std::size_t>(c)] = lattice(s.oct.key, s.i0 + c, j);
  }

  std::int32_t m_width;
  float m_norm;
  std::vector<State> m_states;
};

// ---- spectra (L2A reflectance x 10000: B02 B03 B04 B08 B11 B12) -----------------------------

using Spectrum = std::array<float, kBands>;
constexpr Spectrum kVegetation{300, 600, 350, 3500, 1800, 900};   // dense green canopy
constexpr Spectrum kSoil{1200, 1500, 1900, 2500, 3300, 2800};     // loess / bare soil
constexpr Spectrum kWater{600, 700, 500, 300, 150, 100};          // clear water
constexpr Spectrum kTurbidWater{750, 950, 850, 520, 220, 140};    // silty pit lakes, shallows
constexpr Spectrum kRoad{1500, 1560, 1620, 1780, 2150, 1950};     // concrete / gravel
constexpr Spectrum kPit{1350, 1650, 2050, 2650, 3550, 3150};      // freshly cut loess and sandstone
constexpr Spectrum kSpoil{1650, 1850, 2000, 2500, 3450, 3150};    // dumped overburden, pale grey
constexpr Spectrum kCoal{450, 480, 510, 630, 790, 690};           // exposed coal seam on the pit floor
constexpr Spectrum kCloud{7200, 7000, 7100, 7300, 4900, 3400};    // opaque cloud top
constexpr Spectrum kCirrus{3000, 2850, 2750, 2700, 1500, 900};    // thin cirrus veil

// SCL classes used here (Sentinel-2 L2A scene classification).
constexpr std::uint16_t kSclNoData = 0, kSclShadow = 3, kSclVegetation = 4, kSclBare = 5, kSclWater = 6,
                        kSclCloudMedium = 8, kSclCloudHigh = 9, kSclCirrus = 10;

inline void mix_into(Spectrum& dst, Spectrum const& src, float a) noexcept {
  for (int b = 0; b < kBands; ++b) dst[b] += a * (src[b] - dst[b]);
}

// ---- scene objects --------------------------------------------------------------------------

enum class Fate : std::uint8_t { revegetated, partial, still_bare, newly_disturbed };

char const* fate_name(Fate f) {
  switch (f) {
    case Fate::revegetated: return "revegetated";
    case Fate::partial: return "partly_revegetated";
    case Fate::still_bare: return "still_bare";
    case Fate::newly_disturbed: return "newly_disturbed";
  }
  return "?";
}

/// One disturbed area: pit plus spoil heap inside a noisy ellipse (pixel coordinates).
struct Disturbance {
  double cx = 0, cy = 0;  // centre
  double a = 1, b = 1;    // semi-axes
  double cos_t = 1, sin_t = 0;
  std::array<float, 4> amp{};    // outline harmonics k = 2..5
  std::array<float, 4> amp_cos{}, amp_sin{};  // amp * cos(phase), amp * sin(phase)
  double margin_px = 6;          // site polygon margin beyond the outline
  float spoil_u = 0, spoil_v = 0, spoil_r = 0.4f;
  float split_nx = 1, split_ny = 0, split_c = 0;  // partial revegetation: reveg where n.(u,v) < c
  float reveg_density = 0.6f;
  float benches = 6, bright = 1;
  bool lake = false;
  bool coal = false;
  bool island = false;
  float island_r = 0, island_phase = 0;
  Fate fate = Fate::revegetated;
  int site = -1;  // index into the sites, -1 when not registered
  int vertices = 32;

  [[nodiscard]] double amp_sum() const { return static_cast<double>(amp[0] + amp[1] + amp[2] + amp[3]); }
  /// Radius beyond which no pixel is disturbed.
  [[nodiscard]] double raster_reach() const { return std::max(a, b) * (1.0 + amp_sum() + 0.12); }
  /// Radius beyond which the site polygon cannot reach.
  [[nodiscard]] double polygon_reach() const {
    return std::max(a, b) * (1.0 + amp_sum()) + margin_px * std::max(a, b) / std::min(a, b);
  }
  /// Outline radius in the unit frame at angle (cos, sin) of theta.
  [[nodiscard]] float outline(float c1, float s1) const {
    float ck = c1, sk = s1, rho = 1.f;
    for (int k = 0; k < 4; ++k) {
      float const c2 = ck * c1 - sk * s1, s2 = sk * c1 + ck * s1;  // advance to harmonic k + 2
      ck = c2;
      sk = s2;
      rho += ck * amp_cos[k] - sk * amp_sin[k];
    }
    return rho;
  }
  [[nodiscard]] float island_outline(float theta) const { return island_r * (1.f + 0.1f * std::cos(3.f * theta + island_phase)); }
  void to_pixel(double u, double v, double& x, double& y) const {
    x = cx + a * u * cos_t - b * v * sin_t;
    y = cy + a * u * sin_t + b * v * cos_t;
  }
};

struct Site {
  std::string id, name;
  Fate fate = Fate::revegetated;
  bool outside = false;
  std::vector<int> parts;  // disturbance indices
};

struct RoadSegment {
  double x0, y0, x1, y1, half_width;
  std::uint8_t epochs;  // bit e set: visible in epoch e
};

/// Elliptical blob of cloud, cloud shadow or cirrus; q = 1 - normalised radius.
struct Blob {
  double cx, cy, ra, rb, c, s;
  std::uint8_t kind;  // 0 cloud, 1 shadow, 2 cirrus
};

/// Objects per cell of a coarse grid, so a pixel tests only the objects near it.
class Buckets {
 public:
  static constexpr std::int32_t kCell = 64;
  Buckets() = default;
  Buckets(std::int32_t width, std::int32_t height)
      : m_nx((width + kCell - 1) / kCell), m_ny((height + kCell - 1) / kCell),
        m_cells(static_cast<std::size_t>(m_nx) * static_cast<std::size_t>(m_ny)) {}
  void insert(int id, double cx, double cy, double reach) {
    auto const x0 = static_cast<std::int64_t>(std::floor((cx - reach) / kCell));
    auto const x1 = static_cast<std::int64_t>(std::floor((cx + reach) / kCell));
    auto const y0 = static_cast<std::int64_t>(std::floor((cy - reach) / kCell));
    auto const y1 = static_cast<std::int64_t>(std::floor((cy + reach) / kCell));
    for (std::int64_t y = std::max<std::int64_t>(0, y0); y <= std::min<std::int64_t>(m_ny - 1, y1); ++y)
      for (std::int64_t x = std::max<std::int64_t>(0, x0); x <= std::min<std::int64_t>(m_nx - 1, x1); ++x)
        m_cells[static_cast<std::size_t>(y * m_nx + x)].push_back(id);
  }
  [[nodiscard]] std::vector<int> const& at(std::int32_t x, std::int32_t y) const {
    return m_cells[static_cast<std::size_t>((y / kCell) * m_nx + x / kCell)];
  }

 private:
  std::int32_t m_nx = 0, m_ny = 0;
  std::vector<std::vector<int>> m_cells;
};

struct Epoch {
  std::vector<Blob> blobs;
  Buckets buckets;
  float veg_gain = 1.f;      // scene-wide greenness of the season
  float water_shift = 0.f;   // water level change, in elevation-field units
  Spectrum haze{};           // additive path radiance left after correction
  std::uint64_t noise_key = 0;
  std::uint64_t crop_key = 0;
};

/// Everything needed to render any pixel of either epoch.
struct Scene {
  std::int32_t width = 0, height = 0;
  Fbm elev, veg, soil, farm, change, detail, cloud_tex;
  float water_level = 0, water_edge = 0.001f;
  float veg_lo = 0, veg_mid = 0.5f, veg_hi = 1, farm_level = 1, change_lo = 0, change_hi = 1;
  double field_cos = 1, field_sin = 0, field_w = 30, field_h = 50;
  std::vector<Disturbance> disturbances;  // in-scene ones first, then outside ones
  std::vector<Site> sites;
  Buckets disturbance_buckets;
  std::vector<RoadSegment> roads;
  std::array<Epoch, 2> epochs;
  /// Per row, the pixels [valid_begin, valid_end) hold data, the rest is no data (empty: every
  /// pixel): a scene of the national demo ends at its UTM zone's border.
  std::vector<std::int32_t> valid_begin, valid_end;
  std::vector<int> border_pits;  ///< disturbances placed across the zone border (national demo)
};

/// What the national demo changes in a scene; the defaults leave the demo scene as it was, draw
/// for draw, so `reclaim synth` writes the same bytes for a seed.
struct SceneExtras {
  std::vector<std::int32_t> valid_begin, valid_end;  ///< see Scene; empty: every pixel
  double site_density = 1.0;                         ///< existing pits per 420 000 px, times this
  double max_radius_px = 100.0;                      ///< largest pit semi-axis
  /// Pits of the neighbouring scene that reach into this one, in this scene's pixel frame: drawn
  /// here too (no site of this scene), so a pit across the zone border looks alike on both sides.
  std::vector<Disturbance> foreign;
  /// Per row, the column of the zone border, and how many pits to place across it (centred
  /// on the valid side, within reach of the border).
  std::vector<double> border_x;
  int border_pits = 0;
  bool border_east = true;  ///< the border lies east of the scene's valid pixels
  /// Rows where two tiles of the scene meet: one pit is placed across each.
  std::vector<double> seam_rows;
  bool outside_site = true;  ///< the site east of the scene that no imagery covers
};

// ---- scene construction ---------------------------------------------------------------------

float quantile(std::vector<float> v, double q) {
  auto const k = static_cast<std::size_t>(std::min<double>(static_cast<double>(v.size() - 1), q * static_cast<double>(v.size())));
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
  return v[k];
}

std::vector<float> sample_field(Fbm const& f, Rng& rng, std::int32_t w, std::int32_t h, int n = 4096) {
  std::vector<float> v(static_cast<std::size_t>(n));
  for (auto& x : v) x = f.at(rng.uniform() * w, rng.uniform() * h);
  return v;
}

double road_distance(std::vector<RoadSegment> const& roads, double x, double y, double* nx = nullptr, double* ny = nullptr) {
  double best = std::numeric_limits<double>::infinity();
  for (auto const& r : roads) {
    double const d = segment_distance(x, y, r.x0, r.y0, r.x1, r.y1);
    if (d < best) {
      best = d;
      if (nx != nullptr) {
        double const dx = r.x1 - r.x0, dy = r.y1 - r.y0, len2 = dx * dx + dy * dy;
        double t = len2 > 0 ? ((x - r.x0) * dx + (y - r.y0) * dy) / len2 : 0.0;
        t = std::min(1.0, std::max(0.0, t));
        *nx = r.x0 + t * dx;
        *ny = r.y0 + t * dy;
      }
    }
  }
  return best;
}

/// A road from one scene edge to another, meandering gently.
void add_main_road(Scene& sc, Rng& rng) {
  double const W = sc.width, H = sc.height;
  auto edge_point = [&](int edge, double& x, double& y) {
    double const t = rng.uniform(0.1, 0.9);
    switch (edge) {
      case 0: x = t * W; y = -5; break;
      case 1: x = W + 5; y = t * H; break;
      case 2: x = t * W; y = H + 5; break;
      default: x = -5; y = t * H; break;
    }
  };
  int const e0 = rng.below(4);
  int const e1 = (e0 + 1 + rng.below(3)) % 4;
  double x0, y0, x1, y1;
  edge_point(e0, x0, y0);
  edge_point(e1, x1, y1);
  double const len = std::hypot(x1 - x0, y1 - y0);
  int const n = std::max(2, static_cast<int>(len / 120.0));
  double const px = -(y1 - y0) / len, py = (x1 - x0) / len;
  float const hw = static_cast<float>(rng.uniform(0.8, 1.2));
  double off = 0, prev_x = x0, prev_y = y0;
  for (int k = 1; k <= n; ++k) {
    double const t = static_cast<double>(k) / n;
    off = k == n ? 0.0 : 0.75 * off + rng.uniform(-18.0, 18.0);
    double const x = x0 + t * (x1 - x0) + off * px, y = y0 + t * (y1 - y0) + off * py;
    sc.roads.push_back({static_cast<float>(prev_x), static_cast<float>(prev_y), static_cast<float>(x), static_cast<float>(y), hw, 3});
    prev_x = x;
    prev_y = y;
  }
}

Disturbance make_disturbance(Rng& rng, double r_lo, double r_hi, bool round) {
  Disturbance d;
  // Skewed towards small pits, as in a mining district: a few large ones, many small ones.
  d.a = r_lo + (r_hi - r_lo) * std::pow(rng.uniform(), 1.5);
  d.b = d.a * (round ? rng.uniform(0.9, 1.0) : rng.uniform(0.55, 1.0));
  double const t = rng.uniform(0.0, kPi);
  d.cos_t = std::cos(t);
  d.sin_t = std::sin(t);
  for (int k = 0; k < 4; ++k) {
    d.amp[k] = static_cast<float>(round ? rng.uniform(0.0, 0.012) : rng.uniform(0.0, 0.11 / std::sqrt(k + 1.0)));
    double const phase = rng.uniform(0.0, 2 * kPi);
    d.amp_cos[k] = d.amp[k] * static_cast<float>(std::cos(phase));
    d.amp_sin[k] = d.amp[k] * static_cast<float>(std::sin(phase));
  }
  d.margin_px = round ? 12.0 : rng.uniform(4.0, 8.0);
  double const ps = rng.uniform(0.0, 2 * kPi);
  d.spoil_u = static_cast<float>(0.5 * std::cos(ps));
  d.spoil_v = static_cast<float>(0.5 * std::sin(ps));
  d.spoil_r = static_cast<float>(rng.uniform(0.3, 0.45));
  double const pl = rng.uniform(0.0, 2 * kPi);
  d.split_nx = static_cast<float>(std::cos(pl));
  d.split_ny = static_cast<float>(std::sin(pl));
  d.split_c = static_cast<float>(rng.uniform(-0.25, 0.25));
  d.reveg_density = static_cast<float>(rng.uniform(0.55, 0.9));
  d.benches = static_cast<float>(rng.uniform(4.0, 8.0));
  d.bright = static_cast<float>(rng.uniform(0.9, 1.1));
  d.lake = rng.chance(0.35);
  d.coal = rng.chance(0.5);
  d.vertices = 24 + rng.below(25);
  return d;
}

class Placer {
 public:
  Placer(Scene& sc, Rng& rng) : m_sc(sc), m_rng(rng) {}

  /// True when d centred at (x, y) lies in the scene (and, unless `anywhere`, in its valid
  /// pixels), off water and main roads, clear of others.
  [[nodiscard]] bool fits(Disturbance const& d, double x, double y, bool anywhere = false) const {
    double const reach = d.polygon_reach() + 4;
    if (x - reach < 2 || y - reach < 2 || x + reach > m_sc.width - 2 || y + reach > m_sc.height - 2) return false;
    if (!anywhere && !m_sc.valid_end.empty()) {
      // The valid pixels' edge (a meridian) is all but straight: its ends and middle suffice.
      for (double const row : {y - reach, y, y + reach}) {
        auto const r = static_cast<std::size_t>(std::clamp(static_cast<std::int32_t>(row), 0, m_sc.height - 1));
        if (x - reach < m_sc.valid_begin[r] + 2 || x + reach > m_sc.valid_end[r] - 2) return false;
      }
    }
    for (auto const& o : m_sc.disturbances) {
      if (std::hypot(o.cx - x, o.cy - y) < reach + o.polygon_reach() + 6) return false;
    }
    double const rr = d.raster_reach();
    float const dry = m_sc.water_level + 6 * m_sc.water_edge;
    if (m_sc.elev.at(x, y) < dry) return false;
    for (int k = 0; k < 8; ++k)
      if (m_sc.elev.at(x + rr * std::cos(k * kPi / 4), y + rr * std::sin(k * kPi / 4)) < dry) return false;
    if (m_vegetated_only && (m_sc.veg.at(x, y) < m_sc.veg_mid || m_sc.farm.at(x, y) > m_sc.farm_level)) return false;
    return road_distance(m_main_roads, x, y) > rr + 4;
  }

  /// From now on, only well-vegetated natural land (for disturbance that is new since epoch 1).
  void vegetated_only() { m_vegetated_only = true; }

  bool place_random(Disturbance& d, int tries = 300) {
    for (int t = 0; t < tries; ++t) {
      double const x = m_rng.uniform(0.0, m_sc.width), y = m_rng.uniform(0.0, m_sc.height);
      if (fits(d, x, y)) {
        d.cx = x;
        d.cy = y;
        return true;
      }
    }
    return false;
  }

  /// Places d at `distance` from `other` (not yet committed), trying several bearings.
  bool place_near(Disturbance& d, Disturbance const& other, double distance) {
    double const start = m_rng.uniform(0.0, 2 * kPi);
    for (int t = 0; t < 36; ++t) {
      double const ang = start + t * (2 * kPi / 36);
      double const x = other.cx + distance * std::cos(ang), y = other.cy + distance * std::sin(ang);
      if (fits(d, x, y)) {
        d.cx = x;
        d.cy = y;
        return true;
      }
    }
    return false;
  }

  void snapshot_main_roads() { m_main_roads = m_sc.roads; }

 private:
  Scene& m_sc;
  Rng& m_rng;
  std::vector<RoadSegment> m_main_roads;
  bool m_vegetated_only = false;
};

std::string site_name(Rng& rng, int k) {
  static constexpr std::array<char const*, 16> kPlaces{"Baiyang", "Heishan", "Hongshi", "Liujia", "Wangjia", "Majia",
                                                       "Qingshui", "Huangtu", "Shiban", "Yangjia", "Gaojia", "Shuiquan",
                                                       "Dongsheng", "Nanwan", "Xiliang", "Beita"};
  static constexpr std::array<char const*, 6> kKinds{"Gou", "Liang", "Wan", "Ta", "Ping", "Yao"};
  return std::string(kPlaces[static_cast<std::size_t>(rng.below(16))]) + kKinds[static_cast<std::size_t>(rng.below(6))] +
         " pit " + std::to_string(k);
}

void add_clouds(Scene& sc, Epoch& ep, Rng& rng, double fraction, bool cirrus) {
  double const W = sc.width, H = sc.height, scene_area = W * H;
  double const small = std::min(W, H);
  // Shadows fall away from a morning sun in the south-east: towards the north-north-west.
  double const sx = -0.45, sy = -0.89;
  auto in_scene_area = [&](auto&& density, double cx, double cy, double reach) {
    int inside = 0;
    constexpr int kSamples = 128;
    for (int k = 0; k < kSamples; ++k) {
      double const x = cx + rng.uniform(-reach, reach), y = cy + rng.uniform(-reach, reach);
      if (x >= 0 && y >= 0 && x < W && y < H && density(x, y)) ++inside;
    }
    return 4 * reach * reach * inside / kSamples;
  };
  ep.buckets = Buckets(sc.width, sc.height);
  // Clouds need room: a scene smaller than a cloud gets none rather than one that fills it.
  if (small < 48) return;
  double covered = 0;
  double const target = fraction * scene_area;
  for (int guard = 0; covered < target && guard < 100000; ++guard) {
    double const R = rng.uniform(0.35, 1.0) * std::min(100.0, std::max(6.0, 0.2 * small));
    double const cx = rng.uniform(0.0, W), cy = rng.uniform(0.0, H);
    int const n = 3 + rng.below(5);
    std::vector<Blob> circles;
    for (int k = 0; k < n; ++k) {
      double const r = rng.uniform(0.0, 0.7 * R), a = rng.uniform(0.0, 2 * kPi);
      double const rad = rng.uniform(0.35, 0.65) * R;
      circles.push_back({cx + r * std::cos(a), cy + r * std::sin(a), rad, rad, 1, 0, 0});
    }
    auto const dense = [&](double x, double y) {
      for (auto const& c : circles)
        if (std::hypot(x - c.cx, y - c.cy) < 0.83 * c.ra) return true;
      return false;
    };
    double const area = in_scene_area(dense, cx, cy, 1.4 * R);
    if (area > 3 * target) continue;  // one cloud would blanket a tiny scene
    covered += area;
    double const L = rng.uniform(0.6, 1.2) * R + 8;
    for (auto const& c : circles) {
      ep.blobs.push_back(c);
      Blob sh = c;
      sh.cx = c.cx + L * sx;
      sh.cy = c.cy + L * sy;
      sh.ra = sh.rb = c.ra * 1.05;
      sh.kind = 1;
      ep.blobs.push_back(sh);
    }
  }
  if (cirrus) {
    double const ang = rng.uniform(0.0, kPi);
    double const c = std::cos(ang), s = std::sin(ang);
    double thin = 0;
    double const thin_target = 0.01 * scene_area;
    for (int guard = 0; thin < thin_target && guard < 100000; ++guard) {
      double const scale = std::min(1.0, small / 1000.0);
      Blob b{rng.uniform(0.0, W), rng.uniform(0.0, H), rng.uniform(120.0, 300.0) * std::max(scale, 0.05),
             rng.uniform(20.0, 50.0) * std::max(scale, 0.05), c, s, 2};
      auto const core = [&](double x, double y) {
        double const dx = x - b.cx, dy = y - b.cy;
        double const u = (dx * b.c + dy * b.s) / b.ra, v = (-dx * b.s + dy * b.c) / b.rb;
        return std::sqrt(u * u + v * v) < 0.8;
      };
      double const area = in_scene_area(core, b.cx, b.cy, b.ra);
      if (area > 3 * thin_target) continue;
      thin += area;
      ep.blobs.push_back(b);
    }
  }
  for (std::size_t k = 0; k < ep.blobs.size(); ++k) {
    auto const& b = ep.blobs[k];
    ep.buckets.insert(static_cast<int>(k), b.cx, b.cy, 1.5 * std::max(b.ra, b.rb));
  }
}

Scene build_scene(SynthOptions const& o, SceneExtras const& extra = {}) {
  Scene sc;
  sc.width = o.width;
  sc.height = o.height;
  sc.valid_begin = extra.valid_begin;
  sc.valid_end = extra.valid_end;
  Rng rng(o.seed);
  double const W = o.width, H = o.height;

  // Textures. Spacings are in 10 m pixels: terrain varies over kilometres, vegetation over
  // hundreds of metres, edges and clouds down to tens of metres.
  sc.elev = Fbm(rng, {{768, 1.f}, {384, 0.55f}, {192, 0.3f}, {96, 0.16f}});
  sc.veg = Fbm(rng, {{256, 1.f}, {128, 0.7f}, {64, 0.5f}, {32, 0.35f}, {16, 0.25f}});
  sc.soil = Fbm(rng, {{192, 1.f}, {48, 0.5f}, {12, 0.3f}});
  sc.farm = Fbm(rng, {{1024, 1.f}, {512, 0.5f}});
  sc.change = Fbm(rng, {{512, 1.f}, {128, 0.5f}});
  sc.detail = Fbm(rng, {{16, 1.f}, {4, 0.6f}});
  sc.cloud_tex = Fbm(rng, {{64, 1.f}, {16, 0.6f}, {4, 0.25f}});

  // Thresholds from the field distributions over this scene, so the class mix does not depend
  // on the scene size: ~2.5 % water, ~20 % farmland.
  {
    auto const e = sample_field(sc.elev, rng, o.width, o.height);
    sc.water_level = quantile(e, 0.025);
    sc.water_edge = 0.004f * (quantile(e, 0.75) - quantile(e, 0.25)) + 1e-6f;
    auto const v = sample_field(sc.veg, rng, o.width, o.height);
    sc.veg_lo = quantile(v, 0.08);
    sc.veg_hi = quantile(v, 0.92);
    sc.veg_mid = quantile(v, 0.6);
    sc.farm_level = quantile(sample_field(sc.farm, rng, o.width, o.height), 0.78);
    auto const c = sample_field(sc.change, rng, o.width, o.height);
    sc.change_lo = quantile(c, 0.05);
    sc.change_hi = quantile(c, 0.95);
  }
  double const fa = rng.uniform(-0.35, 0.35);
  sc.field_cos = std::cos(fa);
  sc.field_sin = std::sin(fa);
  sc.field_w = rng.uniform(22.0, 36.0);
  sc.field_h = rng.uniform(40.0, 70.0);

  // Main roads, then pits placed off them.
  int const n_roads = std::max(1, static_cast<int>(std::lround((W + H) / 1600.0)));
  for (int k = 0; k < n_roads; ++k) add_main_road(sc, rng);
  Placer placer(sc, rng);
  placer.snapshot_main_roads();

  double const small = std::min(W, H);
  double const r_hi = std::min(extra.max_radius_px, 0.15 * small);
  double const r_lo = std::min(22.0, 0.5 * r_hi);
  auto const n_exist = static_cast<int>(std::lround(4.0 + extra.site_density * (W * H / 420000.0)));
  int const n_new = std::max(1, static_cast<int>(std::lround(0.12 * n_exist)));

  std::vector<Fate> fates;
  {
    int const n_reveg = static_cast<int>(std::lround(0.70 * n_exist));
    int const n_bare = static_cast<int>(std::lround(0.15 * n_exist));
    for (int k = 0; k < n_exist; ++k)
      fates.push_back(k < n_reveg ? Fate::revegetated : k < n_reveg + n_bare ? Fate::still_bare : Fate::partial);
    for (std::size_t k = fates.size(); k > 1; --k) std::swap(fates[k - 1], fates[static_cast<std::size_t>(rng.below(static_cast<int>(k)))]);
  }

  auto add_site = [&](Fate fate) {
    Site s;
    s.fate = fate;
    sc.sites.push_back(std::move(s));
    return static_cast<int>(sc.sites.size() - 1);
  };
  auto commit = [&](Disturbance d, int site) {
    d.site = site;
    if (site >= 0) {
      d.fate = sc.sites[static_cast<std::size_t>(site)].fate;
      sc.sites[static_cast<std::size_t>(site)].parts.push_back(static_cast<int>(sc.disturbances.size()));
    }
    if (d.fate == Fate::revegetated || d.fate == Fate::newly_disturbed || d.island) d.lake = false;
    sc.disturbances.push_back(d);
    return static_cast<int>(sc.disturbances.size() - 1);
  };

  // The national demo's pits first: the neighbour's pits across the zone border, then this
  // scene's own across it and across its tile seams (sites that a mosaic must join).
  for (Disturbance const& d : extra.foreign) commit(d, -1);
  auto const seam_fate = [&rng] {
    static constexpr std::array<Fate, 3> kFates{Fate::revegetated, Fate::partial, Fate::still_bare};
    return kFates[static_cast<std::size_t>(rng.below(3))];
  };
  for (int k = 0; k < extra.border_pits && r_hi >= 6; ++k) {
    Disturbance d = make_disturbance(rng, r_lo, r_hi, false);
    for (int t = 0; t < 300; ++t) {
      double const y = rng.uniform(0.0, H);
      double const border =
          extra.border_x[static_cast<std::size_t>(std::clamp(static_cast<std::int32_t>(y), 0, sc.height - 1))];
      // Centred on the scene's side of the border by under the pit's smallest radius, so that it
      // (and its polygon) reaches across whatever its orientation.
      double const x = border + (extra.border_east ? -0.3 : 0.3) * d.b;
      if (!placer.fits(d, x, y, /*anywhere=*/true)) continue;
      d.cx = x;
      d.cy = y;
      sc.border_pits.push_back(commit(d, add_site(seam_fate())));
      break;
    }
  }
  for (double const row : extra.seam_rows) {
    if (r_hi < 6) break;
    Disturbance d = make_disturbance(rng, r_lo, r_hi, false);
    for (int t = 0; t < 300; ++t) {
      double const x = rng.uniform(0.0, W), y = row + rng.uniform(-0.3, 0.3) * d.b;
      if (!placer.fits(d, x, y)) continue;
      d.cx = x;
      d.cy = y;
      commit(d, add_site(seam_fate()));
      break;
    }
  }

  if (r_hi >= 6) {
    for (int k = 0; k < n_exist; ++k) {
      Fate const fate = fates[static_cast<std::size_t>(k)];
      // The first sites carry the geometry cases a site reader must handle.
      bool const two_parts = k == 0 || (k >= 4 && rng.chance(0.15));
      bool const island = k == 1 || (k >= 4 && rng.chance(0.03));
      // Places a pair: d1 anywhere, d2 at `dist(d1, d2)` from it; a few fresh starts if d2 finds no room.
      auto place_pair = [&](Disturbance& d1, Disturbance& d2, auto&& dist) {
        for (int attempt = 0; attempt < 20; ++attempt)
          if (placer.place_random(d1) && placer.place_near(d2, d1, dist(d1, d2))) return true;
        return false;
      };
      if (k == 2 && k + 1 < n_exist) {
        // Two small round pits side by side whose generous polygons overlap: adjacent leases
        // with a boundary dispute. The centre distance is below the sum of the polygons'
        // inscribed radii (so they must overlap) and above the sum of the pits' reaches.
        double const hi = std::max(r_lo, std::min(r_hi, 30.0));
        Disturbance d1 = make_disturbance(rng, r_lo, hi, true), d2 = make_disturbance(rng, r_lo, hi, true);
        auto const inscribed = [](Disturbance const& d) {
          double const m = d.margin_px / std::min(d.a, d.b);
          return std::min(d.a, d.b) * (1.0 - d.amp_sum() + m) * std::cos(kPi / d.vertices);
        };
        auto const dist = [&](Disturbance const& p, Disturbance const& q) { return inscribed(p) + inscribed(q) - 3.0; };
        if (place_pair(d1, d2, dist)) {
          commit(d1, add_site(fate));
          commit(d2, add_site(fates[static_cast<std::size_t>(k + 1)]));
        }
        ++k;
        continue;
      }
      double lo = r_lo, hi = r_hi;
      if (island) lo = std::max(r_lo, 0.75 * r_hi);
      Disturbance d = make_disturbance(rng, lo, hi, false);
      if (island) {
        d.b = std::max(d.b, 0.8 * d.a);
        d.island = true;
        d.island_r = 0.3f;
        d.island_phase = static_cast<float>(rng.uniform(0.0, 2 * kPi));
      }
      if (two_parts) {
        // Two pits of one lease, apart: a multipolygon with disjoint parts.
        Disturbance d2 = make_disturbance(rng, r_lo, std::max(r_lo, 0.7 * r_hi), false);
        double const gap = rng.uniform(8.0, 30.0);
        auto const dist = [gap](Disturbance const& p, Disturbance const& q) { return p.polygon_reach() + q.polygon_reach() + gap; };
        if (!place_pair(d, d2, dist)) continue;
        int const site = add_site(fate);
        commit(d, site);
        commit(d2, site);
        continue;
      }
      if (!placer.place_random(d)) continue;
      commit(d, add_site(fate));
    }
    // Fresh disturbance since the first epoch: mostly new leases, the last one unregistered.
    placer.vegetated_only();
    for (int k = 0; k < n_new; ++k) {
      Disturbance d = make_disturbance(rng, r_lo, r_hi, false);
      d.fate = Fate::newly_disturbed;
      if (!placer.place_random(d)) continue;
      commit(d, (k == n_new - 1 && n_new >= 2) ? -1 : add_site(Fate::newly_disturbed));
    }
  }

  // Haul roads from each pit to the nearest main road; new pits only have theirs later.
  for (auto const& d : sc.disturbances) {
    double rx = 0, ry = 0;
    double const dist = road_distance(sc.roads, d.cx, d.cy, &rx, &ry);
    if (!std::isfinite(dist) || dist > 0.4 * std::max(W, H)) continue;
    double const ux = (rx - d.cx) / dist, uy = (ry - d.cy) / dist;
    double const sx = d.cx + ux * 0.8 * std::min(d.a, d.b), sy = d.cy + uy * 0.8 * std::min(d.a, d.b);
    double const mx = 0.5 * (sx + rx) - uy * rng.uniform(-0.15, 0.15) * dist;
    double const my = 0.5 * (sy + ry) + ux * rng.uniform(-0.15, 0.15) * dist;
    std::uint8_t const epochs = d.fate == Fate::newly_disturbed ? 2 : 3;
    float const hw = static_cast<float>(rng.uniform(0.6, 0.9));
    sc.roads.push_back({static_cast<float>(sx), static_cast<float>(sy), static_cast<float>(mx), static_cast<float>(my), hw, epochs});
    sc.roads.push_back({static_cast<float>(mx), static_cast<float>(my), static_cast<float>(rx), static_cast<float>(ry), hw, epochs});
  }

  sc.disturbance_buckets = Buckets(o.width, o.height);
  for (std::size_t k = 0; k < sc.disturbances.size(); ++k) {
    auto const& d = sc.disturbances[k];
    sc.disturbance_buckets.insert(static_cast<int>(k), d.cx, d.cy, d.raster_reach() + 1);
  }

  // One site wholly east of the scene: a lease the imagery does not cover.
  if (extra.outside_site) {
    Disturbance d = make_disturbance(rng, std::max(r_lo, 6.0), std::max(r_hi, 12.0), false);
    d.cx = W + d.polygon_reach() + rng.uniform(30.0, 80.0);
    d.cy = rng.uniform(0.3, 0.7) * H;
    int const s = add_site(Fate::revegetated);
    sc.sites[static_cast<std::size_t>(s)].outside = true;
    commit(d, s);
  }

  for (std::size_t k = 0; k < sc.sites.size(); ++k) {
    char id[32];
    std::snprintf(id, sizeof id, "S%03zu", k + 1);
    sc.sites[k].id = id;
    sc.sites[k].name = site_name(rng, static_cast<int>(k + 1));
  }

  // Epochs: season, water level, haze, clouds. The first epoch also has a cirrus veil.
  for (int e = 0; e < 2; ++e) {
    Epoch& ep = sc.epochs[static_cast<std::size_t>(e)];
    ep.veg_gain = e == 0 ? 1.f : static_cast<float>(rng.uniform(0.94, 1.08));
    ep.water_shift = e == 0 ? 0.f : static_cast<float>(rng.uniform(-1.0, 1.0)) * sc.water_edge * 2;
    ep.haze = e == 0 ? Spectrum{45, 30, 15, 5, 0, 0} : Spectrum{10, 6, 3, 0, 0, 0};
    ep.noise_key = rng.bits();
    ep.crop_key = rng.bits();
    add_clouds(sc, ep, rng, rng.uniform(0.03, 0.05), e == 0);
  }
  return sc;
}

// ---- rendering ------------------------------------------------------------------------------

/// Output planes of one strip for one epoch: 7 band-sequential planes of `rows` x width.
struct StripBuffer {
  std::int32_t y0 = 0, rows = 0;
  std::array<std::vector<std::uint16_t>, 2> data;
};

class RowRenderer {
 public:
  RowRenderer(Scene const& sc, std::vector<RoadSegment const*> roads)
      : m_sc(sc), m_roads(std::move(roads)), m_elev(sc.elev, sc.width), m_veg(sc.veg, sc.width),
        m_soil(sc.soil, sc.width), m_change(sc.change, sc.width),
        m_detail(sc.detail, sc.width), m_cloud(sc.cloud_tex, sc.width) {
    auto const w = static_cast<std::size_t>(sc.width);
    for (auto* v : {&m_elev_row, &m_veg_row, &m_soil_row, &m_change_row, &m_detail_row, &m_cloud_row,
                    &m_road[0], &m_road[1]})
      v->resize(w);
  }

  /// Renders row y into plane row `r` of both epochs' planes (plane stride `plane`).
  void render(std::int32_t y, std::array<std::uint16_t*, 2> out, std::size_t plane) {
    std::int32_t const W = m_sc.width;
    m_elev.eval(y, m_elev_row.data());
    m_veg.eval(y, m_veg_row.data());
    m_soil.eval(y, m_soil_row.data());
    m_change.eval(y, m_change_row.data());
    m_detail.eval(y, m_detail_row.data());
    m_cloud.eval(y, m_cloud_row.data());
    road_row(y);

    // A slanted strip of no data along the east edge of the second epoch: the swath edge.
    double const t = static_cast<double>(y) / std::max(1, m_sc.height - 1);
    auto const swath_edge = static_cast<std::int32_t>(W - std::floor(W * (0.012 + 0.02 * t)));
    float const py = static_cast<float>(y) + 0.5f;
    auto const row = static_cast<std::size_t>(y);
    std::int32_t const valid_begin = m_sc.valid_begin.empty() ? 0 : m_sc.valid_begin[row];
    std::int32_t const valid_end = m_sc.valid_end.empty() ? W : m_sc.valid_end[row];

    for (std::int32_t x = 0; x < W; ++x) {
      if (x < valid_begin || x >= valid_end) {  // beyond the zone border: no data (0 in every band)
        for (std::uint16_t* epoch : out)
          for (int b = 0; b <= kBands; ++b)
            epoch[static_cast<std::size_t>(b) * plane + static_cast<std::size_t>(x)] = 0;
        continue;
      }
      float const px = static_cast<float>(x) + 0.5f;
      float const detail = m_detail_row[static_cast<std::size_t>(x)];
      Hit const hit = find_disturbance(px, py, detail);

      for (int e = 0; e < 2; ++e) {
        Epoch const& ep = m_sc.epochs[static_cast<std::size_t>(e)];
        std::uint16_t* o = out[static_cast<std::size_t>(e)] + x;
        if (e == 1 && x >= swath_edge) {
          for (int b = 0; b < kBands; ++b) o[static_cast<std::size_t>(b) * plane] = 0;
          o[static_cast<std::size_t>(kBands) * plane] = kSclNoData;
          continue;
        }
        Spectrum s{};
        std::uint16_t scl = land(x, y, e, s);
        float const road = m_road[static_cast<std::size_t>(e)][static_cast<std::size_t>(x)];
        if (road > 0.f) {
          mix_into(s, kRoad, road);
          if (road >= 0.5f) scl = kSclBare;
        }
        if (hit.d != nullptr) scl = disturbed(hit, e, detail, s, scl);
        scl = atmosphere(x, y, px, py, e, s, scl);
        write_pixel(x, y, ep, s, scl, o, plane);
      }
    }
  }

 private:
  struct Hit {
    Disturbance const* d = nullptr;
    float dn = 2.f, dist = 0.f, u = 0.f, v = 0.f, theta = 0.f, rp = 0.f;
  };

  Hit find_disturbance(float px, float py, float detail) const {
    Hit best;
    for (int id : m_sc.disturbance_buckets.at(static_cast<std::int32_t>(px), static_cast<std::int32_t>(py))) {
      auto const& d = m_sc.disturbances[static_cast<std::size_t>(id)];
      double const dx = static_cast<double>(px) - d.cx, dy = static_cast<double>(py) - d.cy;
      double const reach = d.raster_reach();
      if (dx * dx + dy * dy > reach * reach) continue;
      auto const u = static_cast<float>((dx * d.cos_t + dy * d.sin_t) / d.a);
      auto const v = static_cast<float>((-dx * d.sin_t + dy * d.cos_t) / d.b);
      float const rp = std::sqrt(u * u + v * v);
      float const c1 = rp > 0 ? u / rp : 1.f, s1 = rp > 0 ? v / rp : 0.f;
      float const dist = rp / d.outline(c1, s1);
      // Ragged edge: +-5 % of the radius from the detail texture.
      float const dn = dist + 0.1f * (detail - 0.5f);
      if (dn < best.dn) best = {&d, dn, dist, u, v, std::atan2(s1, c1), rp};
    }
    if (best.dn >= 1.03f) best.d = nullptr;
    return best;
  }

  /// Undisturbed land cover: vegetation over soil, farmland, water. Returns the SCL class.
  std::uint16_t land(std::int32_t x, std::int32_t y, int e, Spectrum& s) {
    auto const i = static_cast<std::size_t>(x);
    Epoch const& ep = m_sc.epochs[static_cast<std::size_t>(e)];
    float const elev = m_elev_row[i], detail = m_detail_row[i];
    float const water = smoothstep(m_sc.water_level + ep.water_shift + m_sc.water_edge,
                                   m_sc.water_level + ep.water_shift - m_sc.water_edge, elev);
    // Natural cover: grass and shrub on loess, greener in the valleys near water.
    float fv = smoothstep(m_sc.veg_lo, m_sc.veg_hi, m_veg_row[i] + 0.06f * (detail - 0.5f));
    fv = 0.05f + 0.85f * fv;
    fv += 0.3f * smoothstep(m_sc.water_level + 40 * m_sc.water_edge, m_sc.water_level, elev);
    // Rectangular fields in a rotated grid. A whole field is farmed or not, decided by the
    // farmland texture at its centre, so farmland ends at field edges.
    double const fx = x * m_sc.field_cos + y * m_sc.field_sin, fy = -x * m_sc.field_sin + y * m_sc.field_cos;
    double const gu = fx / m_sc.field_w, gv = fy / m_sc.field_h;
    auto const cu = static_cast<std::int64_t>(std::floor(gu)), cv = static_cast<std::int64_t>(std::floor(gv));
    if (cu != m_field_u || cv != m_field_v) {
      double const u = (static_cast<double>(cu) + 0.5) * m_sc.field_w, v = (static_cast<double>(cv) + 0.5) * m_sc.field_h;
      m_field_farmed = m_sc.farm.at(u * m_sc.field_cos - v * m_sc.field_sin, u * m_sc.field_sin + v * m_sc.field_cos) > m_sc.farm_level;
      m_field_u = cu;
      m_field_v = cv;
    }
    if (m_field_farmed && elev > m_sc.water_level + 4 * m_sc.water_edge) {
      // Each field's crop state changes between epochs (rotation, fallow, harvest).
      bool const border = (gu - static_cast<double>(cu)) * m_sc.field_w < 1.0 || (gv - static_cast<double>(cv)) * m_sc.field_h < 1.0;
      std::uint64_t const h = splitmix64(ep.crop_key ^ splitmix64(static_cast<std::uint64_t>(cu) * 0x9E3779B97F4A7C15ull +
                                                                    static_cast<std::uint64_t>(cv)));
      static constexpr std::array<float, 8> kCrop{0.05f, 0.12f, 0.25f, 0.4f, 0.55f, 0.7f, 0.82f, 0.9f};
      fv = border ? 0.25f : kCrop[h & 7] * (0.9f + 0.2f * detail);
    } else {
      float const delta = smoothstep(m_sc.change_lo, m_sc.change_hi, m_change_row[i]) * 2.f - 1.f;
      if (e == 1) fv *= ep.veg_gain + 0.15f * delta;
    }
    fv = clamp01(fv);
    float const sb = 0.8f + 0.45f * m_soil_row[i];
    float const red_tilt = 0.1f * (m_soil_row[i] - 0.5f);
    for (int b = 0; b < kBands; ++b) {
      float soil = kSoil[b] * sb;
      if (b == 2) soil *= 1.f + red_tilt;
      s[b] = fv * kVegetation[b] + (1.f - fv) * soil;
    }
    if (water > 0.f) {
      Spectrum w = kWater;
      mix_into(w, kTurbidWater, clamp01(0.5f + (m_soil_row[i] - 0.5f) * 2.f));
      mix_into(s, w, water);
    }
    if (water >= 0.5f) return kSclWater;
    return fv >= 0.4f ? kSclVegetation : kSclBare;
  }

  /// Mine pit, spoil or revegetation over the land spectrum.
  std::uint16_t disturbed(Hit const& h, int e, float detail, Spectrum& s, std::uint16_t scl) const {
    Disturbance const& d = *h.d;
    if (e == 0 && d.fate == Fate::newly_disturbed) return scl;
    float alpha = smoothstep(1.03f, 0.93f, h.dn);
    if (d.island) {
      float const di = h.rp / d.island_outline(h.theta) + 0.3f * (detail - 0.5f);
      alpha *= smoothstep(0.95f, 1.05f, di);
    }
    if (alpha <= 0.f) return scl;
    bool const reveg = e == 1 && (d.fate == Fate::revegetated ||
                                  (d.fate == Fate::partial && d.split_nx * h.u + d.split_ny * h.v < d.split_c));
    Spectrum m{};
    std::uint16_t cls = kSclBare;
    float const spoil_d = std::hypot(h.u - d.spoil_u, h.v - d.spoil_v) / d.spoil_r + 0.5f * (detail - 0.5f);
    bool const spoil = spoil_d < 1.f;
    if (reveg) {
      // Young planting: sparser than the surroundings, on contour rows across the old pit.
      float const rows = 0.88f + 0.12f * std::sin(2.f * static_cast<float>(kPi) * 7.f * h.dist);
      float const fv = clamp01(d.reveg_density * (0.7f + 0.6f * detail) * rows);
      for (int b = 0; b < kBands; ++b) m[b] = fv * kVegetation[b] + (1.f - fv) * 0.85f * kPit[b];
      cls = fv >= 0.4f ? kSclVegetation : kSclBare;
    } else if (d.lake && h.dist < 0.2f + 0.1f * detail) {
      m = kTurbidWater;
      cls = kSclWater;
    } else if (spoil) {
      // Dumps are terraced: a flat bright top, stepped darker slopes.
      float const tier = spoil_d < 0.5f ? 1.06f : (static_cast<int>(spoil_d * 6.f) % 2 ? 0.9f : 0.98f);
      float const lumps = tier * (0.94f + 0.12f * detail);
      for (int b = 0; b < kBands; ++b) m[b] = kSpoil[b] * lumps;
    } else if (d.coal && h.dist < 0.26f + 0.12f * detail) {
      float const f = 0.9f + 0.2f * detail;
      for (int b = 0; b < kBands; ++b) m[b] = kCoal[b] * f;
    } else {
      // Benches: lit faces and shaded risers in rings down the pit wall, wobbling with the rock.
      float const bench = 1.f + 0.06f * std::sin(2.f * static_cast<float>(kPi) * (d.benches * h.dist + 0.8f * detail));
      float const f = d.bright * bench * (0.95f + 0.1f * detail);
      for (int b = 0; b < kBands; ++b) m[b] = kPit[b] * f;
    }
    mix_into(s, m, alpha);
    return alpha >= 0.5f ? cls : scl;
  }

  std::uint16_t atmosphere(std::int32_t x, std::int32_t y, float px, float py, int e, Spectrum& s, std::uint16_t scl) const {
    Epoch const& ep = m_sc.epochs[static_cast<std::size_t>(e)];
    auto const& ids = ep.buckets.at(x, y);
    if (ids.empty()) return scl;
    std::array<float, 3> q{-9.f, -9.f, -9.f};
    for (int id : ids) {
      Blob const& b = ep.blobs[static_cast<std::size_t>(id)];
      double const dx = static_cast<double>(px) - b.cx, dy = static_cast<double>(py) - b.cy;
      double const u = (dx * b.c + dy * b.s) / b.ra, v = (-dx * b.s + dy * b.c) / b.rb;
      auto const r2 = static_cast<float>(u * u + v * v);
      if (r2 >= 2.25f) continue;
      q[b.kind] = std::max(q[b.kind], 1.f - std::sqrt(r2));
    }
    float const tex = m_cloud_row[static_cast<std::size_t>(x)] - 0.5f;
    float const cloud = q[0] > -1.f ? smoothstep(0.f, 0.5f, q[0] + 1.1f * tex) : 0.f;
    float const shadow = q[1] > -1.f ? smoothstep(0.05f, 0.4f, q[1] + 0.6f * tex) : 0.f;
    float const cirrus = q[2] > -1.f ? 0.25f * smoothstep(0.f, 0.5f, q[2] + 0.6f * tex) : 0.f;
    if (shadow > 0.f)
      for (auto& v : s) v *= 1.f - 0.6f * shadow;
    if (cirrus > 0.f) mix_into(s, kCirrus, cirrus);
    if (cloud > 0.f) mix_into(s, kCloud, cloud);
    if (cloud > 0.55f) return kSclCloudHigh;
    if (cloud > 0.22f) return kSclCloudMedium;
    if (cirrus > 0.06f) return kSclCirrus;
    if (shadow > 0.4f) return kSclShadow;
    return scl;
  }

  void write_pixel(std::int32_t x, std::int32_t y, Epoch const& ep, Spectrum const& s, std::uint16_t scl, std::uint16_t* o,
                   std::size_t plane) const {
    // Sensor noise and sub-pixel texture from one per-pixel hash (thread-order independent):
    // a brightness factor shared by all bands (triangular, +-1.5 %) and per-band noise
    // (uniform, +-0.6 % + 4 DN), about what L2A shows over homogeneous targets.
    std::uint64_t const idx = static_cast<std::uint64_t>(y) * static_cast<std::uint64_t>(m_sc.width) + static_cast<std::uint64_t>(x);
    std::uint64_t const h = splitmix64(ep.noise_key ^ idx);
    auto const byte = [h](int k) { return static_cast<float>((h >> (8 * k)) & 0xFF); };
    float const common = 1.f + 0.015f / 255.f * (byte(6) + byte(7) - 255.f);
    for (int b = 0; b < kBands; ++b) {
      float const n = (byte(b) - 127.5f) * (1.f / 127.5f);
      float const v = (s[b] + ep.haze[b]) * (common + 0.006f * n) + 4.f * n;
      // Round half up; v >= 1 here, so truncating v + 0.5 is exact and far cheaper than lround.
      o[static_cast<std::size_t>(b) * plane] = static_cast<std::uint16_t>(std::min(20000.f, std::max(1.f, v)) + 0.5f);
    }
    o[static_cast<std::size_t>(kBands) * plane] = scl;
  }

  void road_row(std::int32_t y) {
    std::fill(m_road[0].begin(), m_road[0].end(), 0.f);
    std::fill(m_road[1].begin(), m_road[1].end(), 0.f);
    double const yc = y + 0.5;
    for (RoadSegment const* r : m_roads) {
      double const hw = r->half_width + 1.0;
      if (yc < std::min(r->y0, r->y1) - hw || yc > std::max(r->y0, r->y1) + hw) continue;
      double const dx = r->x1 - r->x0, dy = r->y1 - r->y0, len = std::hypot(dx, dy);
      double xa = std::min(r->x0, r->x1) - hw, xb = std::max(r->x0, r->x1) + hw;
      if (std::abs(dy) > 1e-6 * len) {
        double const xc = r->x0 + (yc - r->y0) * dx / dy, half = hw * len / std::abs(dy);
        xa = std::max(xa, xc - half);
        xb = std::min(xb, xc + half);
      }
      auto const x0 = static_cast<std::int32_t>(std::max(0.0, std::floor(xa)));
      auto const x1 = static_cast<std::int32_t>(std::min<double>(m_sc.width - 1, std::ceil(xb)));
      for (std::int32_t x = x0; x <= x1; ++x) {
        double const dist = segment_distance(x + 0.5, yc, r->x0, r->y0, r->x1, r->y1);
        auto const cov = static_cast<float>(std::min(1.0, std::max(0.0, r->half_width + 0.5 - dist)));
        if (cov <= 0.f) continue;
        for (int e = 0; e < 2; ++e)
          if (r->epochs & (1u << e)) m_road[e][static_cast<std::size_t>(x)] = std::max(m_road[e][static_cast<std::size_t>(x)], cov);
      }
    }
  }

  Scene const& m_sc;
  std::vector<RoadSegment const*> m_roads;
  FbmRow m_elev, m_veg, m_soil, m_change, m_detail, m_cloud;
  std::vector<float> m_elev_row, m_veg_row, m_soil_row, m_change_row, m_detail_row, m_cloud_row;
  std::array<std::vector<float>, 2> m_road;
  std::int64_t m_field_u = std::numeric_limits<std::int64_t>::min(), m_field_v = 0;
  bool m_field_farmed = false;
};

void render_strip(Scene const& sc, StripBuffer& buf, unsigned threads) {
  std::size_t const plane = static_cast<std::size_t>(buf.rows) * static_cast<std::size_t>(sc.width);
  for (auto& d : buf.data) d.resize(plane * (kBands + 1));
  std::vector<RoadSegment const*> roads;
  for (auto const& r : sc.roads)
    if (std::max(r.y0, r.y1) + r.half_width + 2 >= buf.y0 && std::min(r.y0, r.y1) - r.half_width - 2 <= buf.y0 + buf.rows)
      roads.push_back(&r);
  threads = std::max(1u, std::min<unsigned>(threads, static_cast<unsigned>(buf.rows)));
  std::vector<std::exception_ptr> errors(threads);
  auto work = [&](unsigned t) {
    try {
      RowRenderer rr(sc, roads);
      std::int32_t const r0 = static_cast<std::int32_t>(buf.rows * t / threads);
      std::int32_t const r1 = static_cast<std::int32_t>(buf.rows * (t + 1) / threads);
      for (std::int32_t r = r0; r < r1; ++r) {
        std::size_t const off = static_cast<std::size_t>(r) * static_cast<std::size_t>(sc.width);
        rr.render(buf.y0 + r, {buf.data[0].data() + off, buf.data[1].data() + off}, plane);
      }
    } catch (...) {
      errors[t] = std::current_exception();
    }
  };
  std::vector<std::thread> pool;
  for (unsigned t = 1; t < threads; ++t) pool.emplace_back(work, t);
  work(0);
  for (auto& th : pool) th.join();
  for (auto& e : errors)
    if (e) std::rethrow_exception(e);
}

// ---- GDAL output ----------------------------------------------------------------------------

[[noreturn]] void gdal_fail(fs::path const& path, std::string const& what) {
  std::string msg = CPLGetLastErrorMsg();
  if (msg.empty()) msg = "unknown GDAL error";
  throw io_error(path.string() + ": " + what + ": " + msg);
}

/// Removes a temporary file unless released (the final file was renamed into place).
class TempFile {
 public:
  explicit TempFile(fs::path path) : m_path(std::move(path)) { remove(); }
  ~TempFile() {
    if (!m_released) remove();
  }
  TempFile(TempFile const&) = delete;
  TempFile& operator=(TempFile const&) = delete;
  [[nodiscard]] fs::path const& path() const { return m_path; }
  void commit(fs::path const& final_path) {
    std::error_code ec;
    fs::rename(m_path, final_path, ec);
    if (ec) throw io_error(final_path.string() + ": cannot rename from " + m_path.string() + ": " + ec.message());
    m_released = true;
  }

 private:
  void remove() noexcept {
    std::error_code ec;
    fs::remove(m_path, ec);
  }
  fs::path m_path;
  bool m_released = false;
};

struct DatasetCloser {
  void operator()(GDALDataset* ds) const noexcept {
    if (ds != nullptr) GDALClose(GDALDataset::ToHandle(ds));
  }
};
using DatasetPtr = std::unique_ptr<GDALDataset, DatasetCloser>;

/// Closes a dataset, turning a failure during the final flush into io_error.
void close_dataset(DatasetPtr& ds, fs::path const& path) {
  CPLErrorReset();
  ds.reset();
  if (CPLGetLastErrorType() == CE_Failure || CPLGetLastErrorType() == CE_Fatal) gdal_fail(path, "cannot finish writing");
}

/// The demo scene's CRS: UTM 49N (Shaanxi, Inner Mongolia).
constexpr int kDemoEpsg = 32649;

DatasetPtr create_epoch(SynthOptions const& o, fs::path const& path, int year, int epsg = kDemoEpsg) {
  GDALDriver* drv = GetGDALDriverManager()->GetDriverByName("GTiff");
  if (drv == nullptr) throw io_error(path.string() + ": GDAL has no GTiff driver");
  std::string const block = std::to_string(o.block_size);
  CPLStringList co;
  co.SetNameValue("TILED", "YES");
  co.SetNameValue("BLOCKXSIZE", block.c_str());
  co.SetNameValue("BLOCKYSIZE", block.c_str());
  co.SetNameValue("COMPRESS", "DEFLATE");
  co.SetNameValue("PREDICTOR", "2");
  // Level 1: on noisy 16-bit reflectance it is as small as level 6 and twice as fast.
  co.SetNameValue("ZLEVEL", "1");
  co.SetNameValue("BIGTIFF", "IF_SAFER");
  co.SetNameValue("NUM_THREADS", std::to_string(available_cpus()).c_str());
  // One plane per band, as L2A ships one file per band: an index reads only its bands.
  co.SetNameValue("INTERLEAVE", "BAND");
  CPLErrorReset();
  DatasetPtr ds(drv->Create(path.string().c_str(), o.width, o.height, kBands + 1, GDT_UInt16, co.List()));
  if (!ds) gdal_fail(path, "cannot create GeoTIFF");
  double gt[6] = {o.origin_x, o.pixel_size, 0.0, o.origin_y, 0.0, -o.pixel_size};
  if (ds->SetGeoTransform(gt) != CE_None) gdal_fail(path, "cannot set geotransform");
  OGRSpatialReference srs;
  if (srs.importFromEPSG(epsg) != OGRERR_NONE) gdal_fail(path, "cannot build EPSG:" + std::to_string(epsg));
  if (ds->SetSpatialRef(&srs) != CE_None) gdal_fail(path, "cannot set CRS");
  static constexpr std::array<char const*, kBands + 1> kNames{"B02", "B03", "B04", "B08", "B11", "B12", "SCL"};
  static constexpr std::array<char const*, kBands + 1> kWavelength{"490", "560", "665", "842", "1610", "2190", ""};
  for (int b = 0; b <= kBands; ++b) {
    GDALRasterBand* band = ds->GetRasterBand(b + 1);
    band->SetDescription(kNames[static_cast<std::size_t>(b)]);
    // SCL 0 is the "no data" class, so one nodata value serves all seven bands.
    if (band->SetNoDataValue(0.0) != CE_None) gdal_fail(path, "cannot set nodata");
    if (b < kBands) band->SetMetadataItem("CENTRAL_WAVELENGTH_NM", kWavelength[static_cast<std::size_t>(b)]);
  }
  ds->SetMetadataItem("SENSOR", "Sentinel-2 L2A (synthetic, reclaim synth)");
  ds->SetMetadataItem("ACQUISITION_YEAR", std::to_string(year).c_str());
  ds->SetMetadataItem("QUANTIFICATION_VALUE", "10000");
  ds->SetMetadataItem("BOA_ADD_OFFSET", "0");
  ds->SetMetadataItem("SYNTH_SEED", std::to_string(o.seed).c_str());
  return ds;
}

void write_rasters(SynthOptions const& o, Scene const& sc, std::array<fs::path, 2> const& paths) {
  std::array<DatasetPtr, 2> ds{create_epoch(o, paths[0], o.before_year), create_epoch(o, paths[1], o.after_year)};
  auto const threads = static_cast<unsigned>(available_cpus());
  std::int32_t const strips = (o.height + o.block_size - 1) / o.block_size;
  std::array<StripBuffer, 2> bufs;
  auto generate = [&](std::int32_t s) {
    StripBuffer& b = bufs[static_cast<std::size_t>(s % 2)];
    b.y0 = s * o.block_size;
    b.rows = std::min(o.block_size, o.height - b.y0);
    render_strip(sc, b, threads);
  };
  // Whole blocks go straight to the driver (WriteBlock), not through GDAL's shared block cache:
  // a cache full of dirty blocks from two datasets written by two threads makes each writer
  // flush the other's blocks, which serialises them and holds gigabytes.
  auto write = [&](std::int32_t s, int e) {
    StripBuffer const& b = bufs[static_cast<std::size_t>(s % 2)];
    std::int32_t const bs = o.block_size;
    std::vector<std::uint16_t> tile(static_cast<std::size_t>(bs) * static_cast<std::size_t>(bs), 0);
    std::size_t const plane = static_cast<std::size_t>(b.rows) * static_cast<std::size_t>(o.width);
    fs::path const& path = paths[static_cast<std::size_t>(e)];
    for (int band = 0; band <= kBands; ++band) {
      GDALRasterBand* rb = ds[static_cast<std::size_t>(e)]->GetRasterBand(band + 1);
      std::uint16_t const* src = b.data[static_cast<std::size_t>(e)].data() + static_cast<std::size_t>(band) * plane;
      for (std::int32_t bx = 0; bx * bs < o.width; ++bx) {
        std::int32_t const x0 = bx * bs, cols = std::min(bs, o.width - x0);
        if (cols < bs || b.rows < bs) std::fill(tile.begin(), tile.end(), std::uint16_t{0});
        for (std::int32_t r = 0; r < b.rows; ++r)
          std::copy_n(src + static_cast<std::size_t>(r) * static_cast<std::size_t>(o.width) + static_cast<std::size_t>(x0),
                      cols, tile.data() + static_cast<std::size_t>(r) * static_cast<std::size_t>(bs));
        CPLErrorReset();
        if (rb->WriteBlock(bx, s, tile.data()) != CE_None)
          gdal_fail(path, "cannot write block " + std::to_string(bx) + "," + std::to_string(s) + " of band " + std::to_string(band + 1));
      }
    }
  };
  // Render strip s + 1 while strip s is compressed; each epoch's file is written by its own
  // thread (a dataset is only ever touched by one thread at a time).
  std::future<void> next = std::async(std::launch::async, generate, 0);
  for (std::int32_t s = 0; s < strips; ++s) {
    next.get();
    if (s + 1 < strips) next = std::async(std::launch::async, generate, s + 1);
    std::future<void> second = std::async(std::launch::async, write, s, 1);
    write(s, 0);
    second.get();
  }
  for (int e = 0; e < 2; ++e) close_dataset(ds[static_cast<std::size_t>(e)], paths[static_cast<std::size_t>(e)]);
}

/// Site polygon ring in pixel coordinates: the outline pushed out by the margin.
std::vector<std::pair<double, double>> outline_ring(Disturbance const& d) {
  std::vector<std::pair<double, double>> pts;
  double const m = d.margin_px / std::min(d.a, d.b);
  for (int k = 0; k < d.vertices; ++k) {
    double const t = 2 * kPi * k / d.vertices;
    double const r = static_cast<double>(d.outline(static_cast<float>(std::cos(t)), static_cast<float>(std::sin(t)))) + m;
    double x, y;
    d.to_pixel(r * std::cos(t), r * std::sin(t), x, y);
    pts.emplace_back(x, y);
  }
  return pts;
}

/// The island left unmined, shrunk so the hole holds only undisturbed ground; empty if too small.
std::vector<std::pair<double, double>> island_ring(Disturbance const& d) {
  std::vector<std::pair<double, double>> pts;
  double const m = 3.0 / std::min(d.a, d.b);
  for (int k = 0; k < 24; ++k) {
    double const t = 2 * kPi * k / 24;
    double const r = 0.85 * static_cast<double>(d.island_outline(static_cast<float>(t))) - m;
    if (r * std::min(d.a, d.b) < 2.0) return {};
    double x, y;
    d.to_pixel(r * std::cos(t), r * std::sin(t), x, y);
    pts.emplace_back(x, y);
  }
  std::reverse(pts.begin(), pts.end());  // interior rings clockwise
  return pts;
}

/// Each site of a scene as a multipolygon in EPSG:4326 (longitude first), from the scene's pixel
/// frame (`o`'s origin and pixel size) in EPSG `epsg`. `path` names the file in errors.
std::vector<std::unique_ptr<OGRMultiPolygon>> site_geometries(SynthOptions const& o, Scene const& sc, int epsg,
                                                              fs::path const& path) {
  OGRSpatialReference utm, wgs84;
  std::string const crs = "EPSG:" + std::to_string(epsg);
  if (utm.importFromEPSG(epsg) != OGRERR_NONE || wgs84.importFromEPSG(4326) != OGRERR_NONE)
    gdal_fail(path, "cannot build " + crs + " / EPSG:4326");
  utm.SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER);
  wgs84.SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER);
  std::unique_ptr<OGRCoordinateTransformation> ct(OGRCreateCoordinateTransformation(&utm, &wgs84));
  if (!ct) gdal_fail(path, "cannot transform " + crs + " to EPSG:4326");

  auto to_ring = [&](std::vector<std::pair<double, double>> const& pts) {
    auto ring = std::make_unique<OGRLinearRing>();
    for (auto const& [x, y] : pts) ring->addPoint(o.origin_x + x * o.pixel_size, o.origin_y - y * o.pixel_size);
    ring->closeRings();
    return ring;
  };
  std::vector<std::unique_ptr<OGRMultiPolygon>> out;
  for (auto const& site : sc.sites) {
    auto mp = std::make_unique<OGRMultiPolygon>();
    for (int part : site.parts) {
      Disturbance const& d = sc.disturbances[static_cast<std::size_t>(part)];
      auto poly = std::make_unique<OGRPolygon>();
      poly->addRingDirectly(to_ring(outline_ring(d)).release());
      if (d.island) {
        auto hole = island_ring(d);
        if (!hole.empty()) poly->addRingDirectly(to_ring(hole).release());
      }
      mp->addGeometryDirectly(poly.release());
    }
    if (mp->transform(ct.get()) != OGRERR_NONE) gdal_fail(path, "cannot transform site " + site.id);
    out.push_back(std::move(mp));
  }
  return out;
}

/// One feature of a sites layer: its string fields, in the layer's field order, and geometry.
struct SiteFeature {
  std::vector<std::string> values;
  std::unique_ptr<OGRMultiPolygon> geometry;  ///< EPSG:4326, longitude first
};

/// Writes the layer "sites" (EPSG:4326 multipolygons, string fields) as a new GeoPackage.
void write_site_layer(fs::path const& path, std::vector<char const*> const& fields,
                      std::vector<SiteFeature> const& features) {
  GDALDriver* drv = GetGDALDriverManager()->GetDriverByName("GPKG");
  if (drv == nullptr) throw io_error(path.string() + ": GDAL has no GPKG driver");
  CPLErrorReset();
  DatasetPtr ds(drv->Create(path.string().c_str(), 0, 0, 0, GDT_Unknown, nullptr));
  if (!ds) gdal_fail(path, "cannot create GeoPackage");
  OGRSpatialReference wgs84;
  if (wgs84.importFromEPSG(4326) != OGRERR_NONE) gdal_fail(path, "cannot build EPSG:4326");
  wgs84.SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER);

  CPLStringList lco;
  lco.SetNameValue("FID", "fid");
  lco.SetNameValue("GEOMETRY_NAME", "geom");
  OGRLayer* layer = ds->CreateLayer("sites", &wgs84, wkbMultiPolygon, lco.List());
  if (layer == nullptr) gdal_fail(path, "cannot create layer sites");
  for (char const* name : fields) {
    OGRFieldDefn f(name, OFTString);
    if (layer->CreateField(&f) != OGRERR_NONE) gdal_fail(path, std::string("cannot create field ") + name);
  }
  if (layer->StartTransaction() != OGRERR_NONE) gdal_fail(path, "cannot start transaction");
  for (auto const& site : features) {
    OGRFeature feature(layer->GetLayerDefn());
    for (std::size_t k = 0; k < fields.size(); ++k) feature.SetField(fields[k], site.values[k].c_str());
    feature.SetGeometry(site.geometry.get());
    if (layer->CreateFeature(&feature) != OGRERR_NONE) gdal_fail(path, "cannot write site " + site.values.front());
  }
  if (layer->CommitTransaction() != OGRERR_NONE) gdal_fail(path, "cannot commit sites");
  close_dataset(ds, path);
}

void write_sites(SynthOptions const& o, Scene const& sc, fs::path const& path) {
  auto geometries = site_geometries(o, sc, kDemoEpsg, path);
  std::vector<SiteFeature> features;
  for (std::size_t k = 0; k < sc.sites.size(); ++k) {
    Site const& site = sc.sites[k];
    features.push_back({{site.id, site.name, site.outside ? "outside_scene" : fate_name(site.fate)}, std::move(geometries[k])});
  }
  write_site_layer(path, {"site_id", "name", "status"}, features);
}

void validate(SynthOptions const& o) {
  if (o.out_dir.empty()) throw usage_error("synth: an output folder is required");
  if (o.width < 1 || o.height < 1)
    throw usage_error("synth: the scene size must be at least 1 x 1 pixel (got " + std::to_string(o.width) + " x " +
                      std::to_string(o.height) + ")");
  if (o.block_size < 16 || o.block_size % 16 != 0)
    throw usage_error("synth: the block size must be a positive multiple of 16 (got " + std::to_string(o.block_size) + ")");
  if (!(o.pixel_size > 0.0) || !std::isfinite(o.origin_x) || !std::isfinite(o.origin_y))
    throw usage_error("synth: the pixel size must be positive and the origin finite");
  if (o.before_year == o.after_year)
    throw usage_error("synth: the two epochs need different years (both are " + std::to_string(o.before_year) + ")");
}

// ---- the national demo ----------------------------------------------------------------------
//
// Two epochs of four scenes: two tiles (north, south) in each of UTM 49N and 50N, which meet at
// 114 E, near where Shanxi, Hebei and Nei Mongol meet. Each zone is one generated landscape (a
// Scene) cut into its tiles, so the tiles of a zone agree where they overlap. The two zones'
// landscapes are drawn apart, so each scene's pixels end at the meridian (a little past it, as
// tiles of two zones overlap); the pits placed across the border are drawn in both scenes, so
// such a site looks alike on either side.

constexpr double kBorderLon = 114.0;
/// Province line (simplified, not the real borders): north of it Nei Mongol; south of it Shanxi
/// west of 114 E, Hebei east.
constexpr double kProvinceLat = 40.70;
/// How far (pixels) each zone's scenes reach past the meridian.
constexpr double kBorderOverlapPx = 2.0;
constexpr double kNationalPixel = 10.0;
/// Pits per 420 000 px, times this; and the largest pit's semi-axis: smaller pits, more sites.
constexpr double kNationalDensity = 3.0;
constexpr double kNationalMaxRadiusPx = 60.0;
constexpr std::int32_t kNationalBlock = 256;
constexpr int kNationalBorderPits = 2;

struct ZoneLayout {
  int epsg;
  char const* name;
  double origin_x, origin_y;  ///< upper-left corner of the zone's landscape, in its UTM zone
  std::int32_t width, height;
  bool west;  ///< the zone lies west of the border
};
// 40.63 to 40.74 N. The west zone's landscape reaches 100-150 px past the meridian, so that the
// second epoch's swath edge (up to 3.2 % of the width, on the east side) falls beyond it, in
// no-data pixels; the east zone's begins 30-70 px before it.
constexpr std::array<ZoneLayout, 2> kZones{{{32649, "utm49n", 746000.0, 4514400.0, 880, 1200, true},
                                            {32650, "utm50n", 246000.0, 4514400.0, 880, 1200, false}}};

struct TileLayout {
  char const* name;
  std::int32_t y0, height;  ///< rows of the zone's landscape; the tiles overlap by 64 rows
};
constexpr std::array<TileLayout, 2> kTiles{{{"north", 0, 632}, {"south", 568, 632}}};
constexpr double kTileSeamRow = 600.0;

/// Acquisition instants of the two epochs (one overpass each: one observation per pixel).
std::string acquisition(int year, bool after) {
  return std::to_string(year) + (after ? "-07-20T03:25:39Z" : "-07-14T03:25:41Z");
}

std::unique_ptr<OGRCoordinateTransformation> transformation(int from_epsg, OGRSpatialReference const& to,
                                                            fs::path const& path) {
  OGRSpatialReference from;
  if (from.importFromEPSG(from_epsg) != OGRERR_NONE) gdal_fail(path, "cannot build EPSG:" + std::to_string(from_epsg));
  from.SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER);
  std::unique_ptr<OGRCoordinateTransformation> ct(OGRCreateCoordinateTransformation(&from, &to));
  if (!ct) gdal_fail(path, "cannot transform EPSG:" + std::to_string(from_epsg));
  return ct;
}

OGRSpatialReference epsg_srs(int epsg, fs::path const& path) {
  OGRSpatialReference srs;
  if (srs.importFromEPSG(epsg) != OGRERR_NONE) gdal_fail(path, "cannot build EPSG:" + std::to_string(epsg));
  srs.SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER);
  return srs;
}

/// The national grid's CRS: Albers equal-area conic for China (standard parallels 25 and 47 N,
/// central meridian 105 E, WGS 84), as national land-cover products use.
OGRSpatialReference albers_china(fs::path const& path) {
  OGRSpatialReference srs;
  if (srs.SetProjCS("WGS 84 / Albers Equal Area Conic (China)") != OGRERR_NONE ||
      srs.SetWellKnownGeogCS("WGS84") != OGRERR_NONE || srs.SetACEA(25.0, 47.0, 0.0, 105.0, 0.0, 0.0) != OGRERR_NONE)
    gdal_fail(path, "cannot build the Albers CRS");
  srs.SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER);
  return srs;
}

/// Per row of the zone's landscape, the column (fractional pixels) of the meridian kBorderLon at
/// the row's centre: the meridian is sampled every 0.01 degrees and interpolated linearly
/// (within a millimetre over so short a span).
std::vector<double> border_columns(ZoneLayout const& z, fs::path const& path) {
  auto const ct = transformation(4326, epsg_srs(z.epsg, path), path);
  std::vector<double> east, north;
  for (int k = 0; k <= 40; ++k) {  // 40.5 to 40.9 N
    double x = kBorderLon, y = 40.5 + 0.01 * k;
    if (!ct->Transform(1, &x, &y)) gdal_fail(path, "cannot transform the border meridian");
    east.push_back(x);
    north.push_back(y);
  }
  std::vector<double> cols(static_cast<std::size_t>(z.height));
  for (std::int32_t r = 0; r < z.height; ++r) {
    double const n = z.origin_y - (r + 0.5) * kNationalPixel;
    std::size_t k = 1;
    while (k + 1 < north.size() && north[k] < n) ++k;
    double const t = (n - north[k - 1]) / (north[k] - north[k - 1]);
    double const e = east[k - 1] + t * (east[k] - east[k - 1]);
    cols[static_cast<std::size_t>(r)] = (e - z.origin_x) / kNationalPixel;
  }
  return cols;
}

/// A pit of the scene `from`, in the pixel frame of the scene `to`: centre and first semi-axis
/// transformed, so it is drawn at the same place, size and orientation.
Disturbance moved_pit(Disturbance d, ZoneLayout const& from, ZoneLayout const& to, fs::path const& path) {
  auto const ct = transformation(from.epsg, epsg_srs(to.epsg, path), path);
  std::array<double, 2> xs{d.cx, d.cx + d.a * d.cos_t}, ys{d.cy, d.cy + d.a * d.sin_t};
  for (std::size_t k = 0; k < 2; ++k) {
    xs[k] = from.origin_x + xs[k] * kNationalPixel;
    ys[k] = from.origin_y - ys[k] * kNationalPixel;
  }
  if (!ct->Transform(2, xs.data(), ys.data())) gdal_fail(path, "cannot transform a pit across the zone border");
  for (std::size_t k = 0; k < 2; ++k) {
    xs[k] = (xs[k] - to.origin_x) / kNationalPixel;
    ys[k] = (to.origin_y - ys[k]) / kNationalPixel;
  }
  double const dx = xs[1] - xs[0], dy = ys[1] - ys[0], len = std::hypot(dx, dy);
  d.cx = xs[0];
  d.cy = ys[0];
  d.cos_t = dx / len;
  d.sin_t = dy / len;
  d.b *= len / d.a;
  d.a = len;
  d.site = -1;
  return d;
}

SynthOptions zone_options(NationalOptions const& o, ZoneLayout const& z, std::size_t index) {
  SynthOptions so;
  so.out_dir = o.out_dir;
  so.width = z.width;
  so.height = z.height;
  so.seed = splitmix64(o.seed + 0x6E6174696F6E616Cull * (index + 1));  // one landscape per zone
  so.before_year = o.before_year;
  so.after_year = o.after_year;
  so.origin_x = z.origin_x;
  so.origin_y = z.origin_y;
  so.pixel_size = kNationalPixel;
  so.block_size = kNationalBlock;
  return so;
}

char const* province_of(double lon, double lat) {
  if (lat >= kProvinceLat) return "Nei Mongol";
  return lon < kBorderLon ? "Shanxi" : "Hebei";
}

/// Percent of the tile's pixels with data that SCL calls cloud, cirrus or shadow (the CSV's
/// cloud_cover, as a catalogue computes its scene cloud cover).
double cloud_percent(StripBuffer const& all, int epoch, std::int32_t width, TileLayout const& t) {
  std::size_t const plane = static_cast<std::size_t>(all.rows) * static_cast<std::size_t>(width);
  std::uint16_t const* scl =
      all.data[static_cast<std::size_t>(epoch)].data() + static_cast<std::size_t>(kBands) * plane;
  std::size_t data = 0, cloudy = 0;
  for (std::int32_t r = t.y0; r < t.y0 + t.height; ++r)
    for (std::int32_t x = 0; x < width; ++x) {
      std::uint16_t const c =
          scl[static_cast<std::size_t>(r) * static_cast<std::size_t>(width) + static_cast<std::size_t>(x)];
      if (c == kSclNoData) continue;
      ++data;
      if (c == kSclShadow || c == kSclCloudMedium || c == kSclCloudHigh || c == kSclCirrus) ++cloudy;
    }
  return data == 0 ? 0.0 : 100.0 * static_cast<double>(cloudy) / static_cast<double>(data);
}

/// Writes rows [t.y0, t.y0 + t.height) of one epoch of a rendered zone as a scene GeoTIFF.
void write_tile(SynthOptions const& zone, int epsg, std::uint64_t seed, StripBuffer const& all, int epoch,
                TileLayout const& t, int year, fs::path const& path) {
  SynthOptions to = zone;
  to.height = t.height;
  to.origin_y = zone.origin_y - t.y0 * zone.pixel_size;
  to.seed = seed;
  DatasetPtr ds = create_epoch(to, path, year, epsg);
  std::size_t const plane = static_cast<std::size_t>(all.rows) * static_cast<std::size_t>(zone.width);
  // RasterIO takes a non-const buffer for reads and writes alike; GF_Write only reads it.
  auto* first = const_cast<std::uint16_t*>(all.data[static_cast<std::size_t>(epoch)].data()) +
                static_cast<std::size_t>(t.y0) * static_cast<std::size_t>(zone.width);
  auto const px = static_cast<GSpacing>(sizeof(std::uint16_t));
  CPLErrorReset();
  if (ds->RasterIO(GF_Write, 0, 0, zone.width, t.height, first, zone.width, t.height, GDT_UInt16, kBands + 1, nullptr,
                   px, px * zone.width, px * static_cast<GSpacing>(plane), nullptr) != CE_None)
    gdal_fail(path, "cannot write the scene");
  close_dataset(ds, path);
}

/// A sparse one-band GeoTIFF whose grid (extent, 10 m pixels, CRS) is the target grid: the
/// bounding box of every zone's landscape in the Albers CRS, on its 10 m lattice.
void write_grid(fs::path const& path) {
  GDALDriver* drv = GetGDALDriverManager()->GetDriverByName("GTiff");
  if (drv == nullptr) throw io_error(path.string() + ": GDAL has no GTiff driver");
  auto const aea = albers_china(path);
  double xmin = std::numeric_limits<double>::infinity(), ymin = xmin, xmax = -xmin, ymax = -xmin;
  for (auto const& z : kZones) {
    auto const ct = transformation(z.epsg, aea, path);
    double const w = z.width * kNationalPixel, h = z.height * kNationalPixel;
    for (int k = 0; k <= 16; ++k) {  // the rectangle's edges, densified: they bend in Albers
      double const f = k / 16.0;
      std::array<double, 4> xs{z.origin_x + f * w, z.origin_x + f * w, z.origin_x, z.origin_x + w};
      std::array<double, 4> ys{z.origin_y, z.origin_y - h, z.origin_y - f * h, z.origin_y - f * h};
      if (!ct->Transform(4, xs.data(), ys.data())) gdal_fail(path, "cannot transform the zones into the Albers CRS");
      for (std::size_t i = 0; i < 4; ++i) {
        xmin = std::min(xmin, xs[i]);
        xmax = std::max(xmax, xs[i]);
        ymin = std::min(ymin, ys[i]);
        ymax = std::max(ymax, ys[i]);
      }
    }
  }
  xmin = std::floor(xmin / kNationalPixel) * kNationalPixel;
  ymax = std::ceil(ymax / kNationalPixel) * kNationalPixel;
  auto const width = static_cast<int>(std::ceil((xmax - xmin) / kNationalPixel));
  auto const height = static_cast<int>(std::ceil((ymax - ymin) / kNationalPixel));
  CPLStringList co;
  co.SetNameValue("TILED", "YES");
  co.SetNameValue("BLOCKXSIZE", "512");
  co.SetNameValue("BLOCKYSIZE", "512");
  co.SetNameValue("COMPRESS", "DEFLATE");
  co.SetNameValue("SPARSE_OK", "TRUE");  // no block is written: a few hundred bytes
  CPLErrorReset();
  DatasetPtr ds(drv->Create(path.string().c_str(), width, height, 1, GDT_Byte, co.List()));
  if (!ds) gdal_fail(path, "cannot create GeoTIFF");
  double gt[6] = {xmin, kNationalPixel, 0.0, ymax, 0.0, -kNationalPixel};
  if (ds->SetGeoTransform(gt) != CE_None) gdal_fail(path, "cannot set geotransform");
  if (ds->SetSpatialRef(&aea) != CE_None) gdal_fail(path, "cannot set CRS");
  ds->GetRasterBand(1)->SetDescription("target grid (reclaim synth --national): only its grid is read");
  close_dataset(ds, path);
}

void write_text(fs::path const& path, std::string const& text) {
  std::FILE* f = std::fopen(path.string().c_str(), "wb");
  if (f == nullptr) throw io_error(path.string() + ": cannot create: " + std::strerror(errno));
  bool const ok = std::fwrite(text.data(), 1, text.size(), f) == text.size();
  if (std::fclose(f) != 0 || !ok) throw io_error(path.string() + ": cannot write: " + std::strerror(errno));
}

std::string job_text(NationalOptions const& o, NationalOutputs const& out) {
  auto const name = [](fs::path const& p) { return p.filename().string(); };
  std::string t;
  t += "# The national demo (reclaim synth --national, seed " + std::to_string(o.seed) + "): a job for reclaim plan.\n";
  t += "#   reclaim plan national.toml --out RUN && reclaim run RUN && reclaim merge RUN\n";
  t += "# Each epoch is an inventory of four Sentinel-2-L2A-like scenes in UTM 49N and 50N (either\n";
  t += "# side of 114 E), composited onto grid.tif (Albers equal-area, 10 m); totals by province.\n";
  t += "before = \"" + std::to_string(o.before_year) + "=" + name(out.before_inventory) + "\"\n";
  t += "after = \"" + std::to_string(o.after_year) + "=" + name(out.after_inventory) + "\"\n";
  t += "sites = \"" + name(out.sites) + "\"\n";
  t += "id-field = \"site_id\"\n";
  t += "region-field = \"province\"\n";
  t += "sensor = \"sentinel2-l2a\"\n";
  t += "target-grid = \"" + name(out.grid) + "\"\n";
  t += "unit-size = 1024\n";
  return t;
}

void validate(NationalOptions const& o) {
  if (o.out_dir.empty()) throw usage_error("synth: an output folder is required");
  if (o.before_year == o.after_year)
    throw usage_error("synth: the two epochs need different years (both are " + std::to_string(o.before_year) + ")");
  if (o.before_year < 1000 || o.before_year > 9999 || o.after_year < 1000 || o.after_year > 9999)
    throw usage_error("synth: --national needs four-digit years (the inventories' dates)");
}

}  // namespace

SynthOutputs demo_scene_paths(SynthOptions const& options) {
  validate(options);
  SynthOutputs out;
  out.before = options.out_dir / (std::to_string(options.before_year) + ".tif");
  out.after = options.out_dir / (std::to_string(options.after_year) + ".tif");
  out.sites = options.out_dir / "sites.gpkg";
  return out;
}

SynthOutputs write_demo_scene(SynthOptions const& options) {
  validate(options);
  GDALAllRegister();
  std::error_code ec;
  fs::create_directories(options.out_dir, ec);
  if (ec) throw io_error(options.out_dir.string() + ": cannot create folder: " + ec.message());

  SynthOutputs out = demo_scene_paths(options);

  Scene const scene = build_scene(options);
  out.site_count = static_cast<std::int32_t>(scene.sites.size());

  // Temporary names until everything is complete: a killed run leaves nothing that looks done.
  // (GeoPackage needs its extension.)
  TempFile tmp_sites(io::hidden_temp_path(out.sites, ".tmp.gpkg"));
  TempFile tmp_before(io::hidden_temp_path(out.before));
  TempFile tmp_after(io::hidden_temp_path(out.after));
  write_sites(options, scene, tmp_sites.path());
  write_rasters(options, scene, {tmp_before.path(), tmp_after.path()});
  // All three or none: a run that fails half-way must not leave a pair that looks complete.
  std::vector<fs::path> committed;
  try {
    tmp_before.commit(out.before);
    committed.push_back(out.before);
    tmp_after.commit(out.after);
    committed.push_back(out.after);
    tmp_sites.commit(out.sites);
  } catch (...) {
    std::error_code remove_ec;
    for (auto const& p : committed) fs::remove(p, remove_ec);
    throw;
  }
  return out;
}

std::vector<fs::path> NationalOutputs::files() const {
  std::vector<fs::path> all = scenes;
  for (auto const& p : {before_inventory, after_inventory, grid, sites, job}) all.push_back(p);
  return all;
}

NationalOutputs national_demo_paths(NationalOptions const& options) {
  validate(options);
  NationalOutputs out;
  for (int year : {options.before_year, options.after_year})
    for (auto const& z : kZones)
      for (auto const& t : kTiles)
        out.scenes.push_back(options.out_dir / "scenes" / std::to_string(year) /
                             (std::string(z.name) + "_" + t.name + ".tif"));
  out.before_inventory = options.out_dir / (std::to_string(options.before_year) + ".csv");
  out.after_inventory = options.out_dir / (std::to_string(options.after_year) + ".csv");
  out.grid = options.out_dir / "grid.tif";
  out.sites = options.out_dir / "sites.gpkg";
  out.job = options.out_dir / "national.toml";
  return out;
}

NationalOutputs write_national_demo(NationalOptions const& options) {
  NationalOutputs out = national_demo_paths(options);
  GDALAllRegister();
  for (int year : {options.before_year, options.after_year}) {
    std::error_code ec;
    fs::create_directories(options.out_dir / "scenes" / std::to_string(year), ec);
    if (ec) throw io_error((options.out_dir / "scenes").string() + ": cannot create folder: " + ec.message());
  }
  // Every file under a temporary name until all are complete (GeoPackage needs its extension).
  auto const files = out.files();
  std::vector<std::unique_ptr<TempFile>> tmp;
  for (auto const& f : files)
    tmp.push_back(std::make_unique<TempFile>(io::hidden_temp_path(f, f == out.sites ? ".tmp.gpkg" : ".tmp")));
  auto tmp_of = [&](fs::path const& f) -> fs::path const& {
    return tmp[static_cast<std::size_t>(std::find(files.begin(), files.end(), f) - files.begin())]->path();
  };

  std::array<std::string, 2> inventory;
  for (int e = 0; e < 2; ++e) inventory[static_cast<std::size_t>(e)] = "path,datetime,sensor,cloud_cover\n";
  std::vector<SiteFeature> features;
  std::vector<Disturbance> border_pits;  // the west zone's, in its pixel frame
  auto const threads = static_cast<unsigned>(available_cpus());
  for (std::size_t zi = 0; zi < kZones.size(); ++zi) {
    ZoneLayout const& z = kZones[zi];
    SynthOptions const so = zone_options(options, z, zi);
    SceneExtras extra;
    extra.border_x = border_columns(z, out.grid);
    extra.valid_begin.assign(static_cast<std::size_t>(z.height), 0);
    extra.valid_end.assign(static_cast<std::size_t>(z.height), z.width);
    for (std::size_t r = 0; r < extra.border_x.size(); ++r) {
      // A pixel holds data when its centre lies within kBorderOverlapPx of the zone's side.
      double const c = extra.border_x[r];
      auto const edge = [&](double v) { return std::clamp(static_cast<std::int32_t>(std::ceil(v)), 0, z.width); };
      if (z.west)
        extra.valid_end[r] = edge(c + kBorderOverlapPx - 0.5);
      else
        extra.valid_begin[r] = edge(c - kBorderOverlapPx - 0.5);
    }
    extra.site_density = kNationalDensity;
    extra.max_radius_px = kNationalMaxRadiusPx;
    extra.border_east = z.west;
    extra.border_pits = z.west ? kNationalBorderPits : 0;
    extra.seam_rows = {kTileSeamRow};
    extra.outside_site = !z.west;  // east of the west zone lies the east zone
    if (!z.west)
      for (auto const& d : border_pits) extra.foreign.push_back(moved_pit(d, kZones[0], z, out.grid));
    Scene const sc = build_scene(so, extra);
    if (z.west)
      for (int k : sc.border_pits) border_pits.push_back(sc.disturbances[static_cast<std::size_t>(k)]);

    StripBuffer all;
    all.y0 = 0;
    all.rows = z.height;
    render_strip(sc, all, threads);
    for (int e = 0; e < 2; ++e) {
      int const year = e == 0 ? options.before_year : options.after_year;
      for (std::size_t ti = 0; ti < kTiles.size(); ++ti) {
        std::size_t const k = static_cast<std::size_t>(e) * kZones.size() * kTiles.size() + zi * kTiles.size() + ti;
        fs::path const& path = out.scenes[k];
        write_tile(so, z.epsg, options.seed, all, e, kTiles[ti], year, tmp_of(path));
        char row[64];
        std::snprintf(row, sizeof row, ",sentinel2-l2a,%.2f\n", cloud_percent(all, e, z.width, kTiles[ti]));
        inventory[static_cast<std::size_t>(e)] +=
            fs::relative(path, options.out_dir).generic_string() + "," + acquisition(year, e == 1) + row;
      }
    }

    auto geometries = site_geometries(so, sc, z.epsg, out.sites);
    for (std::size_t k = 0; k < sc.sites.size(); ++k) {
      Site const& site = sc.sites[k];
      OGRPoint centre;
      if (geometries[k]->Centroid(&centre) != OGRERR_NONE) gdal_fail(out.sites, "cannot find a site's centroid");
      features.push_back(
          {{"", "", site.outside ? "outside_scene" : fate_name(site.fate), province_of(centre.getX(), centre.getY())},
           std::move(geometries[k])});
    }
  }
  // Ids and names across both zones, from their own draws (each zone numbered its own).
  Rng names(splitmix64(options.seed ^ 0x73697465735F6964ull));
  for (std::size_t k = 0; k < features.size(); ++k) {
    char id[32];
    std::snprintf(id, sizeof id, "S%03zu", k + 1);
    features[k].values[0] = id;
    features[k].values[1] = site_name(names, static_cast<int>(k + 1));
  }
  out.site_count = static_cast<std::int32_t>(features.size());
  write_site_layer(tmp_of(out.sites), {"site_id", "name", "status", "province"}, features);
  write_grid(tmp_of(out.grid));
  write_text(tmp_of(out.before_inventory), inventory[0]);
  write_text(tmp_of(out.after_inventory), inventory[1]);
  write_text(tmp_of(out.job), job_text(options, out));

  // All or none: the job file, committed last, says the demo is complete.
  std::vector<fs::path> committed;
  try {
    for (std::size_t k = 0; k < files.size(); ++k) {
      tmp[k]->commit(files[k]);
      committed.push_back(files[k]);
    }
  } catch (...) {
    std::error_code remove_ec;
    for (auto const& p : committed) fs::remove(p, remove_ec);
    throw;
  }
  return out;
}

}  // namespace reclaim::synth
