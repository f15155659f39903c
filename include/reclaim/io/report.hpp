#pragma once
/** @file
 * @brief The self-contained HTML site report of `reclaim assess`.
 *
 * One HTML file with everything inside: pictures are embedded as data:image/png;base64 URIs
 * (unless "embed_pictures" is false: then site pictures are relative links, loaded lazily, so a
 * page of thousands of sites stays small), the CSS and the few lines of JavaScript are inline,
 * no fonts or links leave the file, so it opens from disk, offline, in any browser and survives
 * being mailed.
 *
 * The report object (every field optional unless marked):
 * @code
 * {
 *   "title": "Rehabilitation assessment",          // the page's <title> and <h1>
 *   "generated": "2025-01-31T12:00:00Z",            // shown under the title
 *   "run": {"command": "reclaim assess ...", ...},  // key: value, a small table
 *   "manifest": "manifest.json",                    // linked from the run table
 *   "summary": {"sites": 12, "grade A": 3, ...},    // key: number|string, one card each
 *   "columns": [{"key": "site_id", "label": "Site", "unit": ""},
 *               {"key": "area_ha", "label": "Area", "unit": "ha"}, ...],   // site table, in order
 *   "sites": [{"id": "A-1", "grade": "A".."E", "flags": ["cloudy after"], "region": "Shanxi",
 *              "location": "38.7228° N, 112.2073° E", "notes": ["Graded A although flagged: ..."],
 *              "series": {"label": "mean NDVI", "points": [[2019, 0.21], [2022, null], [2025, 0.55]]},
 *              "metrics": {"area_ha": 12.5, "ndvi_after": null, ...},
 *              "pictures": [{"caption": "NDVI after", "path": "pictures/a1_ndvi_after.png",
 *                            "scale": {"min": -0.2, "max": 0.9, "label": "NDVI",
 *                                      "colors": ["#8c510a", ..., "#1a9850"]}}]}],  // a colour bar
 *   "embed_pictures": true,
 *   "highlights": [{"title": "Least progress", "sites": [4, 0, 7]}, ...],  // indices into "sites"
 *   "regions": {"field": "province", "columns": [{"key": "sites", "label": "Sites"}, ...],
 *               "rows": [{"name": "Shanxi", "values": {"sites": 3, ...}, "grades": {"A": 1}}]},
 *   "overview": "pictures/overview.png",
 *   "legend": {"path": "pictures/legend.png",
 *              "classes": [{"value": 1, "name": "revegetated", "color": "#1a9850"}]},
 *   "notes": ["Carbon figures are estimates."]
 * }
 * @endcode
 * A column key picks a site's field: "site_id" or "id" the id, "grade" the grade, "region" its region, "flags" its
 * flags, any other key metrics[key]. Picture paths are relative to the HTML file's folder.
 * nlohmann::json keeps object members sorted by key, so "run" and "summary" may also be arrays
 * of [key, value] pairs, shown in that order. A site section lists the columns' metrics first
 * (labelled, with units), then the site's other metrics by key.
 *
 * A site section shows the region and location, the notes, the series as a small SVG line
 * chart (each point a <circle class="point"> titled "x: y"; null points are left out), the
 * metrics and the pictures.
 * A filter form above the site table (grade, region, flagged only, free text) hides rows and
 * their site sections; its state may come from the URL fragment (#grade=E&flagged=1&region=X,
 * also the links of the regions table), and <body data-visible-sites> gives the count shown.
 * The site table sorts on a header click (numbers numerically, text naturally, empty cells
 * last); each row is `<tr class="site-row" data-site-id="ID">` and links to the site's
 * `<section class="site" id="site-ID">` (ID HTML-escaped). After load a script sets
 * `data-images-loaded` and `data-images-broken` on <body> (images with naturalWidth > 0 and
 * == 0), so a headless browser's --dump-dom shows whether every picture decoded.
 *
 * The legend PNG (io::write_legend_png, default layout) is shown with the class names beside
 * it on the same 24-pixel pitch; without a legend path the classes get CSS colour chips.
 */
#include <filesystem>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace reclaim::io {

/** @brief Writes the report (shape above) to html_path, under a temporary name then renamed.
 *
 * Throws reclaim::io_error naming the picture that is missing or not a PNG, or the HTML file
 * that cannot be written; reclaim::input_error when a field has the wrong type. Nothing is left
 * at html_path on failure.
 */
void write_report_html(std::filesystem::path const& html_path, nlohmann::json const& report);

/** @brief A metric as table text: null, NaN and infinities as "–" (en dash); integers as they
 * are; other numbers with 2 decimals for "ha", 1 for "%", else 1 decimal from 100 up, 2 from
 * 1 up and 3 below; strings unchanged; booleans "yes"/"no". Not HTML-escaped. */
[[nodiscard]] std::string format_metric(nlohmann::json const& value, std::string_view unit = {});

/// Text with &, <, >, " and ' replaced by entities, safe in HTML text and quoted attributes.
[[nodiscard]] std::string html_escape(std::string_view text);

}  // namespace reclaim::io
