#include "reclaim/io/report.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <optional>
#include <set>
#include <system_error>
#include <vector>

#include "io/output_file.hpp"
#include "reclaim/error.hpp"

namespace reclaim::io {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr char kDash[] = "\xE2\x80\x93";  // en dash, U+2013

std::string base64(std::string_view bytes) {
  static constexpr char digits[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  auto byte = [&](std::size_t k) { return static_cast<unsigned>(static_cast<unsigned char>(bytes[k])); };
  for (; i + 2 < bytes.size(); i += 3) {
    unsigned const v = byte(i) << 16 | byte(i + 1) << 8 | byte(i + 2);
    out += digits[v >> 18];
    out += digits[(v >> 12) & 63];
    out += digits[(v >> 6) & 63];
    out += digits[v & 63];
  }
  if (std::size_t const rest = bytes.size() - i; rest > 0) {
    unsigned const v = byte(i) << 16 | (rest == 2 ? byte(i + 1) << 8 : 0u);
    out += digits[v >> 18];
    out += digits[(v >> 12) & 63];
    out += rest == 2 ? digits[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

/// An id as a URL fragment: everything but unreserved characters percent-encoded (browsers
/// match a fragment against ids after percent-decoding it).
std::string fragment(std::string_view id) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out;
  for (char const ch : id) {
    auto const u = static_cast<unsigned char>(ch);
    if ((u >= 'A' && u <= 'Z') || (u >= 'a' && u <= 'z') || (u >= '0' && u <= '9') || u == '-' || u == '.' ||
        u == '_' || u == '~') {
      out += ch;
    } else {
      out += '%';
      out += hex[u >> 4];
      out += hex[u & 15];
    }
  }
  return out;
}

/// Reads the report's fields, turning a wrong type into an input_error naming it.
class Fields {
 public:
  explicit Fields(fs::path html) : m_html(std::move(html)) {}

  [[noreturn]] void fail(std::string const& where, char const* expected) const {
    throw input_error(m_html.string() + ": report field " + where + " must be " + expected);
  }
  json const* find(json const& obj, char const* key, json::value_t type, std::string const& where,
                   char const* expected) const {
    if (!obj.is_object()) fail(where, "an object");
    auto const it = obj.find(key);
    if (it == obj.end() || it->is_null()) return nullptr;
    bool const ok = type == json::value_t::number_float ? it->is_number() : it->type() == type;
    if (!ok) fail(where + "." + key, expected);
    return &*it;
  }
  std::string string(json const& obj, char const* key, std::string const& where, bool required = false) const {
    json const* v = find(obj, key, json::value_t::string, where, "a string");
    if (!v) {
      if (required) fail(where + "." + key, "a string (it is required)");
      return {};
    }
    return v->get<std::string>();
  }
  json const& array(json const& obj, char const* key, std::string const& where) const {
    json const* v = find(obj, key, json::value_t::array, where, "an array");
    return v ? *v : m_empty_array;
  }
  json const& object(json const& obj, char const* key, std::string const& where) const {
    json const* v = find(obj, key, json::value_t::object, where, "an object");
    return v ? *v : m_empty_object;
  }
  /// An object's members, or an array of [key, value] pairs (which keeps the caller's order).
  std::vector<std::pair<std::string, json const*>> pairs(json const& obj, char const* key,
                                                         std::string const& where) const {
    std::vector<std::pair<std::string, json const*>> out;
    if (!obj.is_object()) fail(where, "an object");
    auto const it = obj.find(key);
    if (it == obj.end() || it->is_null()) return out;
    if (it->is_object()) {
      for (auto e = it->begin(); e != it->end(); ++e) out.emplace_back(e.key(), &*e);
      return out;
    }
    if (!it->is_array()) fail(where + "." + key, "an object or an array of [key, value] pairs");
    for (std::size_t i = 0; i < it->size(); ++i) {
      json const& p = (*it)[i];
      if (!p.is_array() || p.size() != 2 || !p[0].is_string())
        fail(where + "." + key + "[" + std::to_string(i) + "]", "a [key, value] pair");
      out.emplace_back(p[0].get<std::string>(), &p[1]);
    }
    return out;
  }

 private:
  fs::path m_html;
  json m_empty_array = json::array();
  json m_empty_object = json::object();
};

/// The PNG at `relative` (to the HTML's folder) as a data URI.
std::string png_data_uri(fs::path const& html_path, std::string const& relative) {
  fs::path const file = html_path.parent_path() / relative;
  std::ifstream in(file, std::ios::binary);
  if (!in) throw io_error(file.string() + ": picture missing or unreadable (referenced by " + html_path.string() + ")");
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) throw io_error(file.string() + ": cannot read picture");
  static constexpr char signature[] = "\x89PNG\r\n\x1a\n";
  if (bytes.compare(0, 8, signature, 8) != 0) throw io_error(file.string() + ": picture is not a PNG file");
  return "data:image/png;base64," + base64(bytes);
}

/// The PNG at `relative` as a link beside the HTML (checked to be there and a PNG, so a broken
/// link fails the run instead of the reader).
std::string png_link(fs::path const& html_path, std::string const& relative) {
  fs::path const file = html_path.parent_path() / relative;
  std::ifstream in(file, std::ios::binary);
  if (!in) throw io_error(file.string() + ": picture missing or unreadable (referenced by " + html_path.string() + ")");
  char head[8] = {};
  in.read(head, 8);
  static constexpr char signature[] = "\x89PNG\r\n\x1a\n";
  if (in.gcount() != 8 || std::string_view(head, 8) != std::string_view(signature, 8))
    throw io_error(file.string() + ": picture is not a PNG file");
  std::string href;
  for (auto const& part : fs::path(relative)) {
    if (!href.empty()) href += '/';
    href += fragment(part.string());
  }
  return href;
}

/// Value for a cell's data-sort: full-precision number, text, or "" (sorts last).
std::string sort_key(json const& v) {
  if (v.is_number()) return std::isfinite(v.get<double>()) ? v.dump() : std::string();
  if (v.is_string()) return v.get<std::string>();
  if (v.is_boolean()) return v.get<bool>() ? "1" : "0";
  return {};
}

/// A scale's end as people write it: -0.2, 0.9, 1 (shortest form, at most 4 significant digits).
std::string short_number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4g", v);
  return buf;
}

struct Column {
  std::string key;
  std::string label;
  std::string unit;
};

std::string heading(Column const& c) {
  std::string h = html_escape(c.label.empty() ? c.key : c.label);
  if (!c.unit.empty()) h += " (" + html_escape(c.unit) + ")";
  return h;
}

bool is_id_key(std::string const& k) { return k == "site_id" || k == "id"; }
bool is_site_field(std::string const& k) { return is_id_key(k) || k == "grade" || k == "flags" || k == "region"; }

std::string grade_badge(std::string const& grade) {
  bool const known = grade.size() == 1 && grade[0] >= 'A' && grade[0] <= 'E';
  std::string cls = known ? "grade grade-" + grade : std::string("grade");
  return "<span class=\"" + cls + "\">" + (grade.empty() ? std::string(kDash) : html_escape(grade)) + "</span>";
}

std::string join(std::vector<std::string> const& items, char const* sep) {
  std::string out;
  for (std::size_t i = 0; i < items.size(); ++i) out += (i ? sep : "") + items[i];
  return out;
}

constexpr char kStyle[] = R"(
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#222;margin:0 auto;max-width:1200px;padding:0 20px 40px}
h1{margin:24px 0 4px}h2{margin-top:32px;border-bottom:1px solid #ddd;padding-bottom:4px}
.generated{color:#666;margin:0 0 16px}
.cards{display:flex;flex-wrap:wrap;gap:12px}
.card{border:1px solid #ddd;border-radius:6px;padding:10px 14px;min-width:120px;background:#fafafa}
.card .value{font-size:22px;font-weight:600}.card .key{color:#555;font-size:13px}
table{border-collapse:collapse;margin:8px 0}th,td{padding:4px 10px;border-bottom:1px solid #e5e5e5;text-align:left}
td.num{text-align:right;font-variant-numeric:tabular-nums}
table.sortable th{cursor:pointer;user-select:none;background:#f3f3f3}
table.sortable th[aria-sort=ascending]::after{content:" \25B2"}table.sortable th[aria-sort=descending]::after{content:" \25BC"}
table.kv th{background:none;font-weight:600;color:#444}
tr.site-row:hover{background:#f6f9ff}
.grade{display:inline-block;min-width:1.6em;text-align:center;border-radius:4px;font-weight:700;color:#fff;background:#888}
.grade-A{background:#1a9850}.grade-B{background:#66bd63}.grade-C{background:#fee08b;color:#222}.grade-D{background:#fc8d59}.grade-E{background:#d73027}
.notes{background:#fff8e1;border-left:4px solid #f0b400;padding:8px 14px;margin:16px 0}
ul.flags li{color:#a33}.no-flags{color:#666}
.pictures{display:flex;flex-wrap:wrap;gap:16px}
figure{margin:0}figure img{width:320px;max-width:100%;height:auto;image-rendering:pixelated;border:1px solid #ccc;background:repeating-conic-gradient(#eee 0% 25%,#fff 0% 50%) 50%/16px 16px}
figcaption{font-size:13px;color:#444}
.map{display:flex;gap:16px;align-items:flex-start}.map>figure img{width:640px}
.legend{display:flex;gap:8px;align-items:flex-start}.legend img{border:none;background:none}
.legend ul{list-style:none;margin:0;padding:2px 0 0}.legend li{height:24px;line-height:20px;white-space:nowrap}
.chip{display:inline-block;width:14px;height:14px;border:1px solid #888;vertical-align:middle;margin-right:6px}
a.back{font-size:13px}
#site-filter{display:flex;flex-wrap:wrap;gap:12px;align-items:center;margin:8px 0;font-size:14px}
#site-filter .count{color:#666}
.where{color:#555;margin:0 0 6px}.grade-notes li{color:#7a5b00}
figure.series{margin:8px 0}
.highlights{display:flex;flex-wrap:wrap;gap:32px}.highlight ol{padding-left:20px}.highlight li{margin:4px 0}
img.thumb{width:48px;height:48px;object-fit:cover;vertical-align:middle;margin-right:8px;border:1px solid #ccc}
.colorbar{height:10px;width:320px;max-width:100%;border:1px solid #ccc}
.colorbar-labels{display:flex;justify-content:space-between;width:320px;max-width:100%;font-size:12px;color:#444}
)";

// Sorts the site table on a header click; empty cells stay last in both directions.
constexpr char kSortScript[] = R"(
(function(){
  var table=document.getElementById('site-table');if(!table)return;
  var heads=table.tHead.rows[0].cells;
  function sortBy(i){
    var th=heads[i],asc=th.getAttribute('aria-sort')!=='ascending';
    for(var j=0;j<heads.length;j++)heads[j].removeAttribute('aria-sort');
    th.setAttribute('aria-sort',asc?'ascending':'descending');
    var body=table.tBodies[0],rows=Array.prototype.slice.call(body.rows);
    rows.sort(function(a,b){
      var x=a.cells[i].getAttribute('data-sort')||'',y=b.cells[i].getAttribute('data-sort')||'';
      if(x===''||y==='')return x===y?0:(x===''?1:-1);
      var nx=Number(x),ny=Number(y),c;
      if(!isNaN(nx)&&!isNaN(ny))c=nx-ny;else c=x.localeCompare(y,undefined,{numeric:true,sensitivity:'base'});
      return asc?c:-c;
    });
    rows.forEach(function(r){body.appendChild(r);});
  }
  Array.prototype.forEach.call(heads,function(th,i){
    th.addEventListener('click',function(){sortBy(i);});
    th.addEventListener('keydown',function(e){if(e.key==='Enter'||e.key===' '){e.preventDefault();sortBy(i);}});
  });
})();
(function(){
  var table=document.getElementById('site-table'),form=document.getElementById('site-filter');
  if(!table||!form)return;
  var el=form.elements,count=form.querySelector('.count'),rows=table.tBodies[0].rows;
  function apply(){
    var g=el.grade.value,r=el.region?el.region.value:'',f=el.flagged.checked,q=el.q.value.toLowerCase(),n=0;
    Array.prototype.forEach.call(rows,function(row){
      var d=row.dataset,ok=(!g||d.grade===g)&&(!r||d.region===r)&&(!f||d.flagged==='1')&&
        (!q||row.textContent.toLowerCase().indexOf(q)>=0);
      row.hidden=!ok;var sec=document.getElementById('site-'+d.siteId);if(sec)sec.hidden=!ok;if(ok)n++;
    });
    document.body.dataset.visibleSites=String(n);count.textContent=n+' of '+rows.length+' sites shown';
  }
  // A filter can be linked: report.html#grade=E&flagged=1&region=Shanxi&q=text
  function fromHash(){
    var h=location.hash.replace(/^#/,'');if(h.indexOf('=')<0)return false;
    el.grade.value='';if(el.region)el.region.value='';el.flagged.checked=false;el.q.value='';
    h.split('&').forEach(function(kv){
      var i=kv.indexOf('='),k=decodeURIComponent(kv.slice(0,i)),v=decodeURIComponent(kv.slice(i+1));
      if(k==='grade')el.grade.value=v;else if(k==='region'&&el.region)el.region.value=v;
      else if(k==='flagged')el.flagged.checked=v==='1';else if(k==='q')el.q.value=v;
    });
    return true;
  }
  form.addEventListener('input',apply);form.addEventListener('change',apply);
  window.addEventListener('hashchange',function(){if(fromHash())apply();});
  fromHash();apply();
})();
window.addEventListener('load',function(){
  var ok=0,broken=0;
  for(var k=0;k<document.images.length;k++){var im=document.images[k];if(im.complete&&im.naturalWidth>0)ok++;else broken++;}
  document.body.dataset.imagesLoaded=String(ok);document.body.dataset.imagesBroken=String(broken);
});
)";

/// A small SVG line chart of a site's series (e.g. mean NDVI per epoch): one point per epoch,
/// each with a <title> "year: value", the x axis labelled with the first and last year.
std::string series_chart(Fields const& f, json const& series, std::string const& where) {
  json const& points = f.array(series, "points", where);
  std::vector<std::pair<double, double>> xy;
  for (std::size_t i = 0; i < points.size(); ++i) {
    json const& p = points[i];
    if (!p.is_array() || p.size() != 2 || !p[0].is_number() || !(p[1].is_number() || p[1].is_null()))
      f.fail(where + ".points[" + std::to_string(i) + "]", "[x, y or null]");
    if (p[1].is_number() && std::isfinite(p[1].get<double>())) xy.emplace_back(p[0].get<double>(), p[1].get<double>());
  }
  if (xy.size() < 2) return {};
  std::string const label = f.string(series, "label", where);
  double x0 = xy.front().first, x1 = xy.front().first, y0 = 0.0, y1 = 0.8;  // NDVI-like range at least
  for (auto const& [x, y] : xy) {
    x0 = std::min(x0, x);
    x1 = std::max(x1, x);
    y0 = std::min(y0, y);
    y1 = std::max(y1, y);
  }
  constexpr double W = 320, H = 120, L = 36, R = 8, T = 8, B = 22;
  auto px = [&](double x) { return L + (x1 > x0 ? (x - x0) / (x1 - x0) : 0.5) * (W - L - R); };
  auto py = [&](double y) { return T + (y1 - y) / (y1 - y0) * (H - T - B); };
  auto num = [](double v) {
    char b[32];
    std::snprintf(b, sizeof b, "%.1f", v);
    return std::string(b);
  };
  std::string svg = "<figure class=\"series\"><svg xmlns=\"http://www.w3.org/2000/svg\" width=\"320\" height=\"120\" "
                    "viewBox=\"0 0 320 120\" role=\"img\" aria-label=\"" + html_escape(label) + " per epoch\">";
  svg += "<line x1=\"" + num(L) + "\" y1=\"" + num(H - B) + "\" x2=\"" + num(W - R) + "\" y2=\"" + num(H - B) +
         "\" stroke=\"#999\"/><line x1=\"" + num(L) + "\" y1=\"" + num(T) + "\" x2=\"" + num(L) + "\" y2=\"" +
         num(H - B) + "\" stroke=\"#999\"/>";
  svg += "<text x=\"" + num(L - 4) + "\" y=\"" + num(T + 8) + "\" font-size=\"10\" text-anchor=\"end\">" + short_number(y1) +
         "</text><text x=\"" + num(L - 4) + "\" y=\"" + num(H - B) + "\" font-size=\"10\" text-anchor=\"end\">" +
         short_number(y0) + "</text>";
  svg += "<text x=\"" + num(L) + "\" y=\"" + num(H - 6) + "\" font-size=\"10\">" + short_number(x0) +
         "</text><text x=\"" + num(W - R) + "\" y=\"" + num(H - 6) + "\" font-size=\"10\" text-anchor=\"end\">" +
         short_number(x1) + "</text>";
  std::string line;
  for (auto const& [x, y] : xy) {
    if (!line.empty()) line += ' ';
    line += num(px(x)) + "," + num(py(y));
  }
  svg += "<polyline fill=\"none\" stroke=\"#1a9850\" stroke-width=\"2\" points=\"" + line + "\"/>";
  for (auto const& [x, y] : xy)
    svg += "<circle class=\"point\" cx=\"" + num(px(x)) + "\" cy=\"" + num(py(y)) + "\" r=\"3\" fill=\"#1a9850\"><title>" +
           short_number(x) + ": " + format_metric(json(y)) + "</title></circle>";
  svg += "</svg><figcaption>" + html_escape(label) + " per epoch</figcaption></figure>\n";
  return svg;
}

struct Page {
  std::string name, path, html;
};

/// The main page; `pages` receives the site pages the report asks for (path relative to the
/// main page's folder, and their HTML).
std::string render(fs::path const& html_path, json const& report, std::vector<Page>& pages) {
  Fields const f(html_path);
  if (!report.is_object()) f.fail("(root)", "an object");
  std::string const title = f.string(report, "title", "report");
  std::string h;
  h.reserve(1 << 16);
  h += "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
       "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>";
  h += html_escape(title.empty() ? "reclaim report" : title);
  h += "</title>\n<style>";
  h += kStyle;
  h += "</style>\n</head>\n<body>\n<header>\n<h1>" + html_escape(title.empty() ? "reclaim report" : title) + "</h1>\n";
  if (auto const gen = f.string(report, "generated", "report"); !gen.empty())
    h += "<p class=\"generated\">Generated " + html_escape(gen) + "</p>\n";
  h += "</header>\n";

  if (auto const summary = f.pairs(report, "summary", "report"); !summary.empty()) {
    h += "<section id=\"summary\">\n<h2>Summary</h2>\n<div class=\"cards\">\n";
    for (auto const& [k, v] : summary)
      h += "<div class=\"card\"><div class=\"value\">" + html_escape(format_metric(*v)) + "</div><div class=\"key\">" +
           html_escape(k) + "</div></div>\n";
    h += "</div>\n</section>\n";
  }
  if (json const& notes = f.array(report, "notes", "report"); !notes.empty()) {
    h += "<aside class=\"notes\">\n<ul>\n";
    for (std::size_t i = 0; i < notes.size(); ++i) {
      if (!notes[i].is_string()) f.fail("report.notes[" + std::to_string(i) + "]", "a string");
      h += "<li>" + html_escape(notes[i].get<std::string>()) + "</li>\n";
    }
    h += "</ul>\n</aside>\n";
  }
  if (auto const run = f.pairs(report, "run", "report"); !run.empty()) {
    h += "<section id=\"run\">\n<h2>Run</h2>\n<table class=\"kv\">\n";
    for (auto const& [k, v] : run)
      h += "<tr><th>" + html_escape(k) + "</th><td>" +
           html_escape(v->is_primitive() ? format_metric(*v) : v->dump()) + "</td></tr>\n";
    if (auto const manifest = f.string(report, "manifest", "report"); !manifest.empty())
      h += "<tr><th>manifest</th><td><a href=\"" + html_escape(manifest) + "\">" + html_escape(manifest) +
           "</a> (every input and output, with checksums and parameters)</td></tr>\n";
    h += "</table>\n</section>\n";
  }

  // Overview map and legend.
  std::string const overview = f.string(report, "overview", "report");
  json const& legend = f.object(report, "legend", "report");
  if (!overview.empty() || !legend.empty()) {
    h += "<section id=\"overview\">\n<h2>Overview</h2>\n<div class=\"map\">\n";
    if (!overview.empty())
      h += "<figure><img src=\"" + png_data_uri(html_path, overview) + "\" alt=\"Overview of the sites\"></figure>\n";
    if (!legend.empty()) {
      std::string const legend_path = f.string(legend, "path", "report.legend");
      h += "<div class=\"legend\">\n";
      if (!legend_path.empty()) h += "<img src=\"" + png_data_uri(html_path, legend_path) + "\" alt=\"Legend\">\n";
      h += "<ul>\n";
      json const& classes = f.array(legend, "classes", "report.legend");
      for (std::size_t i = 0; i < classes.size(); ++i) {
        std::string const where = "report.legend.classes[" + std::to_string(i) + "]";
        std::string const name = f.string(classes[i], "name", where);
        std::string const color = f.string(classes[i], "color", where);
        json const* value = f.find(classes[i], "value", json::value_t::number_float, where, "a number");
        h += "<li";
        if (value) h += " data-value=\"" + html_escape(sort_key(*value)) + "\"";
        h += ">";
        if (legend_path.empty() && !color.empty())
          h += "<span class=\"chip\" style=\"background:" + html_escape(color) + "\"></span>";
        h += html_escape(name) + "</li>\n";
      }
      h += "</ul>\n</div>\n";
    }
    h += "</div>\n</section>\n";
  }

  // Site table.
  std::vector<Column> columns;
  json const& cols = f.array(report, "columns", "report");
  for (std::size_t i = 0; i < cols.size(); ++i) {
    std::string const where = "report.columns[" + std::to_string(i) + "]";
    columns.push_back({f.string(cols[i], "key", where, true), f.string(cols[i], "label", where),
                       f.string(cols[i], "unit", where)});
  }
  if (columns.empty()) columns = {{"site_id", "Site", ""}, {"grade", "Grade", ""}};

  struct Site {
    std::string id, grade, region;
    std::optional<std::string> location;
    json const* node;
    std::vector<std::string> flags;
    json const* metrics;
    json const* pictures;
    std::string where;
  };
  std::vector<Site> sites;
  json const& site_list = f.array(report, "sites", "report");
  for (std::size_t i = 0; i < site_list.size(); ++i) {
    std::string const where = "report.sites[" + std::to_string(i) + "]";
    std::string const location = f.string(site_list[i], "location", where);
    Site s{f.string(site_list[i], "id", where, true),
           f.string(site_list[i], "grade", where),
           f.string(site_list[i], "region", where),
           location.empty() ? std::nullopt : std::optional<std::string>(location),
           &site_list[i],
           {},
           &f.object(site_list[i], "metrics", where),
           &f.array(site_list[i], "pictures", where),
           where};
    json const& flags = f.array(site_list[i], "flags", where);
    for (std::size_t k = 0; k < flags.size(); ++k) {
      if (!flags[k].is_string()) f.fail(where + ".flags[" + std::to_string(k) + "]", "a string");
      s.flags.push_back(flags[k].get<std::string>());
    }
    sites.push_back(std::move(s));
  }

  // Totals per region.
  json const& regions = f.object(report, "regions", "report");
  std::set<std::string> region_names;
  if (!regions.empty()) {
    std::vector<Column> rcols;
    json const& rc = f.array(regions, "columns", "report.regions");
    for (std::size_t i = 0; i < rc.size(); ++i) {
      std::string const where = "report.regions.columns[" + std::to_string(i) + "]";
      rcols.push_back({f.string(rc[i], "key", where, true), f.string(rc[i], "label", where), f.string(rc[i], "unit", where)});
    }
    std::string const field = f.string(regions, "field", "report.regions");
    h += "<section id=\"regions\">\n<h2>Totals per " + html_escape(field.empty() ? "region" : field) +
         "</h2>\n<table class=\"regions\">\n<thead><tr><th>" + html_escape(field.empty() ? "region" : field) + "</th>";
    for (Column const& c : rcols) h += "<th>" + heading(c) + "</th>";
    h += "<th>Grades</th></tr></thead>\n<tbody>\n";
    json const& rows = f.array(regions, "rows", "report.regions");
    for (std::size_t i = 0; i < rows.size(); ++i) {
      std::string const where = "report.regions.rows[" + std::to_string(i) + "]";
      std::string const name = f.string(rows[i], "name", where, true);
      region_names.insert(name);
      json const& values = f.object(rows[i], "values", where);
      h += "<tr class=\"region-row\"><td><a href=\"#region=" + html_escape(fragment(name)) + "\">" + html_escape(name) +
           "</a></td>";
      for (Column const& c : rcols) {
        auto const it = values.find(c.key);
        json const v = it == values.end() ? json() : *it;
        h += "<td class=\"num\">" + html_escape(format_metric(v, c.unit)) + "</td>";
      }
      std::string grades;
      for (auto const& [g, n] : f.object(rows[i], "grades", where).items()) {
        if (!grades.empty()) grades += ' ';
        grades += grade_badge(g) + "&nbsp;" + html_escape(format_metric(n));
      }
      h += "<td>" + grades + "</td></tr>\n";
    }
    h += "</tbody>\n</table>\n</section>\n";
  }

  // Site sections on pages of their own (e.g. one per region) when the report lists them, so a
  // report of thousands of sites keeps a main page of tables that opens quickly.
  std::vector<int> page_of(sites.size(), -1);
  json const& page_list = f.array(report, "site_pages", "report");
  for (std::size_t k = 0; k < page_list.size(); ++k) {
    std::string const where = "report.site_pages[" + std::to_string(k) + "]";
    Page page{f.string(page_list[k], "name", where), f.string(page_list[k], "path", where, true), {}};
    fs::path const rel(page.path);
    if (rel.is_absolute() || rel.parent_path() != "pages" || rel.extension() != ".html")
      f.fail(where + ".path", "a page \"pages/NAME.html\"");
    json const& members = f.array(page_list[k], "sites", where);
    for (std::size_t m = 0; m < members.size(); ++m) {
      if (!members[m].is_number_unsigned() || members[m].get<std::size_t>() >= sites.size())
        f.fail(where + ".sites[" + std::to_string(m) + "]", "an index into report.sites");
      page_of[members[m].get<std::size_t>()] = static_cast<int>(k);
    }
    pages.push_back(std::move(page));
  }
  if (!pages.empty()) {
    h += "<section id=\"pages\">\n<h2>Site pages</h2>\n<ul class=\"pages\">\n";
    for (std::size_t k = 0; k < pages.size(); ++k) {
      std::size_t const n = static_cast<std::size_t>(std::count(page_of.begin(), page_of.end(), static_cast<int>(k)));
      h += "<li><a href=\"" + html_escape(pages[k].path) + "\">" + html_escape(pages[k].name) + "</a> (" + std::to_string(n) +
           " site" + (n == 1 ? "" : "s") + ")</li>\n";
    }
    h += "</ul>\n</section>\n";
  }

  // Pictures embedded (one self-contained file) unless the report says otherwise (many sites:
  // files beside the page, loaded lazily).
  json const* embed_flag = f.find(report, "embed_pictures", json::value_t::boolean, "report", "true or false");
  bool const embed_pictures = !embed_flag || embed_flag->get<bool>();
  // The sites with the least progress and the most rehabilitated, with a picture each.
  json const& highlights = f.array(report, "highlights", "report");
  if (!highlights.empty()) {
    h += "<section id=\"highlights\">\n<h2>Least and most progress</h2>\n<div class=\"highlights\">\n";
    for (std::size_t k = 0; k < highlights.size(); ++k) {
      std::string const where = "report.highlights[" + std::to_string(k) + "]";
      h += "<div class=\"highlight\"><h3>" + html_escape(f.string(highlights[k], "title", where)) + "</h3>\n<ol>\n";
      json const& members = f.array(highlights[k], "sites", where);
      for (std::size_t m = 0; m < members.size(); ++m) {
        if (!members[m].is_number_unsigned() || members[m].get<std::size_t>() >= sites.size())
          f.fail(where + ".sites[" + std::to_string(m) + "]", "an index into report.sites");
        std::size_t const i = members[m].get<std::size_t>();
        Site const& s = sites[i];
        std::string const page = page_of[i] < 0 ? std::string() : pages[static_cast<std::size_t>(page_of[i])].path;
        h += "<li data-site-id=\"" + html_escape(s.id) + "\"><a href=\"" + html_escape(page) + "#site-" +
             html_escape(fragment(s.id)) + "\">";
        if (s.pictures->size() > 1) {  // the after epoch's true colour
          std::string const path = f.string((*s.pictures)[1], "path", s.where + ".pictures[1]", true);
          h += "<img class=\"thumb\" src=\"" + (embed_pictures ? png_data_uri(html_path, path) : png_link(html_path, path)) +
               "\" alt=\"\"" + (embed_pictures ? "" : " loading=\"lazy\"") + ">";
        }
        h += html_escape(s.id) + "</a> " + grade_badge(s.grade);
        auto const cover = s.metrics->find("cover_after_pct");
        if (cover != s.metrics->end()) h += " <span class=\"num\">" + html_escape(format_metric(*cover, "%")) + " % cover</span>";
        h += "</li>\n";
      }
      h += "</ol></div>\n";
    }
    h += "</div>\n</section>\n";
  }

  h += "<section id=\"sites\">\n<h2>Sites</h2>\n";
  // The filter (script below); its state can come from the URL: #grade=E&flagged=1&region=X.
  std::set<std::string> grades;
  for (Site const& s : sites) grades.insert(s.grade);
  h += "<form id=\"site-filter\" onsubmit=\"return false\"><label>Grade <select name=\"grade\"><option value=\"\">all</option>";
  for (auto const& g : grades) h += "<option value=\"" + html_escape(g) + "\">" + html_escape(g.empty() ? kDash : g) + "</option>";
  h += "</select></label>";
  for (Site const& s : sites)
    if (!s.region.empty()) region_names.insert(s.region);
  if (!region_names.empty()) {
    h += "<label>" + html_escape(f.string(regions, "field", "report.regions").empty() ? "Region" : f.string(regions, "field", "report.regions")) +
         " <select name=\"region\"><option value=\"\">all</option>";
    for (auto const& r : region_names) h += "<option value=\"" + html_escape(r) + "\">" + html_escape(r) + "</option>";
    h += "</select></label>";
  }
  h += "<label><input type=\"checkbox\" name=\"flagged\"> flagged only</label>"
       "<label>Search <input type=\"search\" name=\"q\" placeholder=\"site, flag, ...\"></label>"
       "<span class=\"count\"></span></form>\n";
  h += "<table id=\"site-table\" class=\"sortable\">\n<thead><tr>";
  for (Column const& c : columns) h += "<th tabindex=\"0\" data-key=\"" + html_escape(c.key) + "\">" + heading(c) + "</th>";
  h += "</tr></thead>\n<tbody>\n";
  for (std::size_t row = 0; row < sites.size(); ++row) {
    Site const& s = sites[row];
    std::string const id = html_escape(s.id);
    std::string const page = page_of[row] < 0 ? std::string() : pages[static_cast<std::size_t>(page_of[row])].path;
    h += "<tr class=\"site-row\" data-site-id=\"" + id + "\" data-grade=\"" + html_escape(s.grade) + "\" data-region=\"" +
         html_escape(s.region) + "\" data-flagged=\"" + (s.flags.empty() ? "0" : "1") + "\">";
    for (Column const& c : columns) {
      if (is_id_key(c.key)) {
        h += "<td data-sort=\"" + id + "\"><a href=\"" + html_escape(page) + "#site-" + html_escape(fragment(s.id)) + "\">" + id +
             "</a></td>";
      } else if (c.key == "grade") {
        h += "<td data-sort=\"" + html_escape(s.grade) + "\">" + grade_badge(s.grade) + "</td>";
      } else if (c.key == "region") {
        h += "<td data-sort=\"" + html_escape(s.region) + "\">" + html_escape(s.region) + "</td>";
      } else if (c.key == "flags") {
        std::string const text = html_escape(join(s.flags, ", "));
        h += "<td data-sort=\"" + text + "\">" + text + "</td>";
      } else {
        auto const it = s.metrics->find(c.key);
        json const v = it == s.metrics->end() ? json() : *it;
        h += std::string("<td") + (v.is_number() || v.is_null() ? " class=\"num\"" : "") + " data-sort=\"" + html_escape(sort_key(v)) +
             "\">" + html_escape(format_metric(v, c.unit)) + "</td>";
      }
    }
    h += "</tr>\n";
  }
  h += "</tbody>\n</table>\n</section>\n";

  // One section per site.
  // `up`: the way from the page the section is on to the main page's folder ("" or "../").
  auto section = [&](Site const& s, std::string& h, std::string const& up, std::string const& main_page) {
    h += "<section class=\"site\" id=\"site-" + html_escape(s.id) + "\">\n<h2>Site " + html_escape(s.id) + " " +
         grade_badge(s.grade) + "</h2>\n";
    if (!s.region.empty() || s.location) {
      h += "<p class=\"where\">";
      if (!s.region.empty()) h += "<span class=\"region\">" + html_escape(s.region) + "</span> ";
      if (s.location) h += "<span class=\"location\">" + html_escape(*s.location) + "</span>";
      h += "</p>\n";
    }
    json const& notes = f.array(*s.node, "notes", s.where);
    if (!notes.empty()) {
      h += "<ul class=\"grade-notes\">\n";
      for (std::size_t k = 0; k < notes.size(); ++k) {
        if (!notes[k].is_string()) f.fail(s.where + ".notes[" + std::to_string(k) + "]", "a string");
        h += "<li>" + html_escape(notes[k].get<std::string>()) + "</li>\n";
      }
      h += "</ul>\n";
    }
    if (s.flags.empty()) {
      h += "<p class=\"no-flags\">No flags.</p>\n";
    } else {
      h += "<ul class=\"flags\">\n";
      for (auto const& flag : s.flags) h += "<li>" + html_escape(flag) + "</li>\n";
      h += "</ul>\n";
    }
    json const& series = f.object(*s.node, "series", s.where);
    if (!series.empty()) h += series_chart(f, series, s.where + ".series");
    h += "<table class=\"kv metrics\">\n";
    std::set<std::string> shown;
    for (Column const& c : columns) {
      if (is_site_field(c.key)) continue;
      shown.insert(c.key);
      auto const it = s.metrics->find(c.key);
      json const v = it == s.metrics->end() ? json() : *it;
      h += "<tr><th>" + heading(c) + "</th><td" + (v.is_number() ? " class=\"num\"" : "") + ">" +
           html_escape(format_metric(v, c.unit)) + "</td></tr>\n";
    }
    for (auto const& [k, v] : s.metrics->items())
      if (!shown.count(k))
        h += "<tr><th>" + html_escape(k) + "</th><td" + (v.is_number() ? " class=\"num\"" : "") + ">" +
             html_escape(v.is_primitive() ? format_metric(v) : v.dump()) + "</td></tr>\n";
    h += "</table>\n";
    if (!s.pictures->empty()) {
      h += "<div class=\"pictures\">\n";
      for (std::size_t k = 0; k < s.pictures->size(); ++k) {
        std::string const where = s.where + ".pictures[" + std::to_string(k) + "]";
        json const& pic = (*s.pictures)[k];
        std::string const caption = f.string(pic, "caption", where);
        std::string const path = f.string(pic, "path", where, true);
        std::string const src = embed_pictures ? png_data_uri(html_path, path) : up + png_link(html_path, path);
        h += "<figure><img src=\"" + src + "\" alt=\"" + html_escape(caption) + "\"" + (embed_pictures ? "" : " loading=\"lazy\"") +
             "><figcaption>" + html_escape(caption) + "</figcaption>";
        json const& scale = f.object(pic, "scale", where);
        if (!scale.empty()) {
          // A colour bar: the ramp's stops, evenly spaced from min to max.
          std::string stops;
          json const& colors = f.array(scale, "colors", where + ".scale");
          for (std::size_t c = 0; c < colors.size(); ++c) {
            if (!colors[c].is_string()) f.fail(where + ".scale.colors[" + std::to_string(c) + "]", "a string");
            if (c) stops += ',';
            stops += html_escape(colors[c].get<std::string>());
          }
          json const* lo = f.find(scale, "min", json::value_t::number_float, where + ".scale", "a number");
          json const* hi = f.find(scale, "max", json::value_t::number_float, where + ".scale", "a number");
          if (!lo || !hi || colors.size() < 2) f.fail(where + ".scale", "{min, max, colors: two or more}");
          h += "<div class=\"colorbar\" style=\"background:linear-gradient(to right," + stops + ")\"></div>"
               "<div class=\"colorbar-labels\"><span>" + short_number(lo->get<double>()) + "</span><span>" +
               html_escape(f.string(scale, "label", where + ".scale")) + "</span><span>" +
               short_number(hi->get<double>()) + "</span></div>";
        }
        h += "</figure>\n";
      }
      h += "</div>\n";
    }
    h += "<p><a class=\"back\" href=\"" + (up.empty() ? std::string() : up + html_escape(main_page)) +
         "#sites\">Back to the site table</a></p>\n</section>\n";
  };
  std::string const main_page = html_path.filename().string();
  for (std::size_t i = 0; i < sites.size(); ++i)
    if (page_of[i] < 0) section(sites[i], h, "", main_page);
  for (std::size_t k = 0; k < pages.size(); ++k) {
    std::string& p = pages[k].html;
    p += "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
         "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>";
    std::string const heading_text = (title.empty() ? std::string("reclaim report") : title) + " — " + pages[k].name;
    p += html_escape(heading_text) + "</title>\n<style>" + std::string(kStyle) + "</style>\n</head>\n<body>\n<header>\n<h1>" +
         html_escape(heading_text) + "</h1>\n<p><a href=\"../" + html_escape(main_page) +
         "\">Back to the report</a></p>\n</header>\n";
    for (std::size_t i = 0; i < sites.size(); ++i)
      if (page_of[i] == static_cast<int>(k)) section(sites[i], p, "../", main_page);
    p += "<script>" + std::string(kSortScript) + "</script>\n</body>\n</html>\n";
  }

  h += "<script>";
  h += kSortScript;
  h += "</script>\n</body>\n</html>\n";
  return h;
}

}  // namespace

std::string html_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char const c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string format_metric(json const& value, std::string_view unit) {
  if (value.is_string()) return value.get<std::string>();
  if (value.is_boolean()) return value.get<bool>() ? "yes" : "no";
  if (value.is_number_integer()) return value.dump();
  if (!value.is_number()) return value.is_null() ? kDash : value.dump();
  double const v = value.get<double>();
  if (!std::isfinite(v)) return kDash;
  double const a = std::fabs(v);
  int const decimals = unit == "ha" ? 2 : unit == "%" ? 1 : a >= 100 ? 1 : a >= 1 ? 2 : 3;
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  std::string s(buf);
  if (s.find_first_not_of("-0.") == std::string::npos && s[0] == '-') s.erase(0, 1);  // no "-0.00"
  return s;
}

void write_report_html(fs::path const& html_path, json const& report) {
  std::vector<Page> pages;
  std::string const html = render(html_path, report, pages);  // reads every picture before touching the disk
  if (!pages.empty()) {
    std::error_code ec;
    fs::create_directories(html_path.parent_path() / "pages", ec);
    if (ec) throw io_error((html_path.parent_path() / "pages").string() + ": cannot create (" + ec.message() + ")");
  }
  for (auto const& p : pages) write_file_atomically(html_path.parent_path() / p.path, p.html);
  write_file_atomically(html_path, html);  // last: its links find their pages
}

}  // namespace reclaim::io
