// HTML pages for --report: tables and inline SVG charts, drawn without any library or script,
// so the page opens anywhere, offline, and is deterministic for a deterministic report.
#include "sim/scenarios/html_report.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <limits>
#include <optional>
#include <type_traits>
#include <utility>
#include <variant>

#include "core/runtime/assert.h"

namespace lafs::sim {
namespace {

// Chart geometry, in SVG user units (the page scales the SVG to its width).
constexpr double kChartWidth = 760;
constexpr double kChartHeight = 280;
constexpr double kPlotLeft = 72;
constexpr double kPlotRight = 560;  // the legend is to the right of this
constexpr double kPlotTop = 34;
constexpr double kPlotBottom = 236;
constexpr int kTicksTarget = 5;
constexpr int kTicksMax = 12;  // nice_step gives at most 2.5 times the target, plus rounding
constexpr std::size_t kLegendEntriesMax = 14;

constexpr const char* kPalette[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd",
                                    "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};
constexpr std::size_t kPaletteSize = sizeof kPalette / sizeof kPalette[0];

constexpr const char* kStyle = R"(
body { font: 14px/1.4 system-ui, sans-serif; margin: 2em auto; max-width: 1000px; color: #222; }
h1 { font-size: 1.5em; } h2 { font-size: 1.2em; margin-top: 2em; }
table { border-collapse: collapse; } td, th { padding: 2px 10px; text-align: right; }
td:first-child, th:first-child { text-align: left; } tr:nth-child(even) { background: #f4f4f4; }
.wide { overflow-x: auto; } .failed { background: #fdd !important; } .empty { color: #888; }
svg { width: 100%; height: auto; max-width: 760px; display: block; }
svg text { font: 11px system-ui, sans-serif; fill: #333; }
)";

std::string fmt(const char* format, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, format, v);
  return buf;
}

// A coordinate: two decimals are finer than a pixel and keep the page small.
// Clamped, so that a wild value (a corrupt report) cannot make an unreadable number.
std::string coord(double v) {
  return fmt("%.2f", std::clamp(v, -1e6, 1e6));
}

// A number for people: up to six significant digits; exact for integers below 10^15.
std::string human_number(double v) {
  if (std::isnan(v)) return "–";
  if (std::isinf(v)) return v > 0 ? "∞" : "−∞";
  if (v == std::floor(v) && std::fabs(v) < 1e15) return fmt("%.0f", v);
  return fmt("%.6g", v);
}

// An axis tick: 4 significant digits, with k, M, G, T for thousands and up.
std::string tick_label(double v) {
  const char* suffixes[] = {"", "k", "M", "G", "T"};
  int i = 0;
  double scaled = v;
  while (std::fabs(scaled) >= 1000 && i < 4) {
    scaled /= 1000;
    ++i;
  }
  return fmt("%.4g", scaled) + suffixes[i];
}

std::string metric_text(const MetricValue& value) {
  return std::visit(
      [](const auto& x) -> std::string {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, std::string>) {
          return x;
        } else if constexpr (std::is_same_v<T, double>) {
          return human_number(x);
        } else {
          return std::to_string(x);
        }
      },
      value);
}

// A round step (1, 2 or 5 times a power of ten) giving about kTicksTarget ticks over `span`.
double nice_step(double span) {
  LAFS_ASSERT(span > 0);
  const double raw = span / kTicksTarget;
  const double power = std::pow(10, std::floor(std::log10(raw)));
  const double f = raw / power;
  return power * (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10);
}

struct Axis {
  double lo = 0, hi = 1, step = 0.2;
  double first_tick = 0;  // the first multiple of step at or above lo
};

// The axis over [lo, hi] (finite) with round ticks: widened to multiples of the step when
// `round_out` (a value axis), or exactly the data's span (days: no empty margin). A zero span
// gets some room. Values so extreme that the arithmetic breaks down (only a corrupt report has
// them) get [0, 1].
Axis make_axis(double lo, double hi, bool from_zero, bool round_out) {
  if (from_zero) lo = std::min(lo, 0.0);
  if (!(hi > lo)) {
    const double pad = std::max(1.0, std::fabs(lo) / 10);
    hi = lo + pad;
    if (!from_zero) lo -= pad;
  }
  Axis a;
  a.step = nice_step(hi - lo);
  a.lo = round_out ? std::floor(lo / a.step) * a.step : lo;
  a.hi = round_out ? std::ceil(hi / a.step) * a.step : hi;
  a.first_tick = std::ceil(a.lo / a.step) * a.step;
  const double ticks = (a.hi - a.lo) / a.step;
  if (!std::isfinite(a.lo) || !std::isfinite(a.hi) || !std::isfinite(a.first_tick) ||
      !(a.hi > a.lo) || !(ticks <= kTicksMax)) {
    return Axis{};
  }
  return a;
}

// The tick values of the axis: first_tick, first_tick + step, ... up to hi.
std::vector<double> ticks(const Axis& a) {
  std::vector<double> out;
  for (int i = 0; i <= kTicksMax; ++i) {
    const double v = a.first_tick + i * a.step;
    if (v > a.hi + a.step * 1e-9) break;
    out.push_back(v);
  }
  return out;
}

double scale(double v, const Axis& a, double out_lo, double out_hi) {
  return out_lo + (v - a.lo) / (a.hi - a.lo) * (out_hi - out_lo);
}

// The y values of a stacked chart: line i's band runs from tops[i-1] to tops[i].
std::vector<std::vector<double>> stack_tops(const Chart& chart) {
  std::vector<std::vector<double>> tops;
  const std::size_t n = chart.lines.empty() ? 0 : chart.lines[0].xs.size();
  std::vector<double> sum(n, 0.0);
  for (const ChartLine& line : chart.lines) {
    LAFS_ASSERT_MSG(line.xs.size() == n && line.ys.size() == n, "stacked lines differ in length");
    for (std::size_t i = 0; i < n; ++i) sum[i] += std::isfinite(line.ys[i]) ? line.ys[i] : 0;
    tops.push_back(sum);
  }
  return tops;
}

std::string axes_svg(const Chart& chart, const Axis& x, const Axis& y) {
  std::string out;
  for (double v : ticks(y)) {
    const std::string py = coord(scale(v, y, kPlotBottom, kPlotTop));
    out += "<line x1=\"" + coord(kPlotLeft) + "\" x2=\"" + coord(kPlotRight) + "\" y1=\"" + py +
           "\" y2=\"" + py + "\" stroke=\"#ddd\"/>";
    out += "<text x=\"" + coord(kPlotLeft - 6) + "\" y=\"" + py +
           "\" text-anchor=\"end\" dominant-baseline=\"middle\">" + tick_label(v) + "</text>";
  }
  for (double v : ticks(x)) {
    const std::string px = coord(scale(v, x, kPlotLeft, kPlotRight));
    out += "<line x1=\"" + px + "\" x2=\"" + px + "\" y1=\"" + coord(kPlotBottom) + "\" y2=\"" +
           coord(kPlotBottom + 4) + "\" stroke=\"#333\"/>";
    out += "<text x=\"" + px + "\" y=\"" + coord(kPlotBottom + 16) + "\" text-anchor=\"middle\">" +
           tick_label(v) + "</text>";
  }
  out += "<rect x=\"" + coord(kPlotLeft) + "\" y=\"" + coord(kPlotTop) + "\" width=\"" +
         coord(kPlotRight - kPlotLeft) + "\" height=\"" + coord(kPlotBottom - kPlotTop) +
         "\" fill=\"none\" stroke=\"#333\"/>";
  out += "<text x=\"" + coord((kPlotLeft + kPlotRight) / 2) + "\" y=\"" + coord(kChartHeight - 8) +
         "\" text-anchor=\"middle\">" + html_escape(chart.x_label) + "</text>";
  out += "<text x=\"" + coord(kPlotLeft) + "\" y=\"" + coord(kPlotTop - 6) + "\">" +
         html_escape(chart.y_label) + "</text>";
  return out;
}

// A path through the points, broken where y is not finite.
std::string line_path(const std::vector<double>& xs, const std::vector<double>& ys, const Axis& x,
                      const Axis& y) {
  std::string d;
  bool pen_down = false;
  for (std::size_t i = 0; i < xs.size() && i < ys.size(); ++i) {
    if (!std::isfinite(xs[i]) || !std::isfinite(ys[i])) {
      pen_down = false;
      continue;
    }
    d += pen_down ? " L" : " M";
    d += coord(scale(xs[i], x, kPlotLeft, kPlotRight)) + "," +
         coord(scale(ys[i], y, kPlotBottom, kPlotTop));
    pen_down = true;
  }
  return d;
}

std::string band_path(const std::vector<double>& xs, const std::vector<double>& bottom,
                      const std::vector<double>& top, const Axis& x, const Axis& y) {
  std::string d;
  for (std::size_t i = 0; i < xs.size(); ++i) {
    d += (i == 0 ? "M" : " L") + coord(scale(xs[i], x, kPlotLeft, kPlotRight)) + "," +
         coord(scale(top[i], y, kPlotBottom, kPlotTop));
  }
  for (std::size_t i = xs.size(); i-- > 0;) {
    d += " L" + coord(scale(xs[i], x, kPlotLeft, kPlotRight)) + "," +
         coord(scale(bottom[i], y, kPlotBottom, kPlotTop));
  }
  return d + " Z";
}

std::string references_svg(const Chart& chart, const Axis& y) {
  std::string out;
  for (const ReferenceLine& ref : chart.references) {
    if (!std::isfinite(ref.y)) continue;
    const std::string py = coord(scale(ref.y, y, kPlotBottom, kPlotTop));
    out += "<line x1=\"" + coord(kPlotLeft) + "\" x2=\"" + coord(kPlotRight) + "\" y1=\"" + py +
           "\" y2=\"" + py + "\" stroke=\"" + html_escape(ref.color) +
           "\" stroke-dasharray=\"6 4\"><title>" + html_escape(ref.label) + ": " +
           human_number(ref.y) + "</title></line>";
  }
  return out;
}

std::string series_svg(const Chart& chart, const Axis& x, const Axis& y) {
  std::string out;
  if (chart.lines.empty()) return out;
  if (chart.stacked) {
    const std::vector<std::vector<double>> tops = stack_tops(chart);
    const std::vector<double> zeros(chart.lines[0].xs.size(), 0.0);
    for (std::size_t i = 0; i < chart.lines.size(); ++i) {
      const ChartLine& line = chart.lines[i];
      out += "<path d=\"" + band_path(line.xs, i == 0 ? zeros : tops[i - 1], tops[i], x, y) +
             "\" fill=\"" + html_escape(line.color) + "\" stroke=\"none\"><title>" +
             html_escape(line.label) + "</title></path>";
    }
    return out;
  }
  for (const ChartLine& line : chart.lines) {
    if (chart.dots) {
      for (std::size_t i = 0; i < line.xs.size() && i < line.ys.size(); ++i) {
        if (!std::isfinite(line.xs[i]) || !std::isfinite(line.ys[i])) continue;
        out += "<circle cx=\"" + coord(scale(line.xs[i], x, kPlotLeft, kPlotRight)) + "\" cy=\"" +
               coord(scale(line.ys[i], y, kPlotBottom, kPlotTop)) + "\" r=\"3\" fill=\"" +
               html_escape(line.color) + "\"><title>" + html_escape(line.label) + ": " +
               human_number(line.xs[i]) + ", " + human_number(line.ys[i]) + "</title></circle>";
      }
      continue;
    }
    const std::string d = line_path(line.xs, line.ys, x, y);
    if (d.empty()) continue;
    out += "<path d=\"" + d + "\" fill=\"none\" stroke=\"" + html_escape(line.color) +
           "\" stroke-width=\"1.6\"><title>" + html_escape(line.label) + "</title></path>";
  }
  return out;
}

// Legend entries to the right of the plot; with many lines, an even selection of them
// (always the first and the last), topmost band first for a stacked chart.
std::string legend_svg(const Chart& chart) {
  std::vector<std::size_t> shown;
  const std::size_t n = chart.lines.size();
  if (n <= kLegendEntriesMax) {
    for (std::size_t i = 0; i < n; ++i) shown.push_back(i);
  } else {
    for (std::size_t k = 0; k < kLegendEntriesMax; ++k) {
      shown.push_back(k * (n - 1) / (kLegendEntriesMax - 1));
    }
  }
  if (chart.stacked) std::reverse(shown.begin(), shown.end());
  std::vector<std::pair<std::string, std::string>> entries;  // (label, color)
  for (std::size_t i : shown) entries.emplace_back(chart.lines[i].label, chart.lines[i].color);
  for (const ReferenceLine& ref : chart.references) {
    // An interval's two bounds share one entry.
    if (std::find(entries.begin(), entries.end(), std::pair(ref.label, ref.color)) ==
        entries.end()) {
      entries.emplace_back(ref.label, ref.color);
    }
  }
  std::string out;
  double y = kPlotTop + 6;
  for (const auto& [label, color] : entries) {
    out += "<rect x=\"" + coord(kPlotRight + 14) + "\" y=\"" + coord(y - 5) +
           "\" width=\"12\" height=\"10\" fill=\"" + html_escape(color) + "\"/>";
    out += "<text x=\"" + coord(kPlotRight + 32) + "\" y=\"" + coord(y) +
           "\" dominant-baseline=\"middle\">" + html_escape(label) + "</text>";
    y += 14;
  }
  return out;
}

// ---- Pages ---------------------------------------------------------------------------------

Chart make_chart(std::string title, std::string x_label, std::string y_label, bool stacked,
                 bool dots) {
  Chart chart;
  chart.title = std::move(title);
  chart.x_label = std::move(x_label);
  chart.y_label = std::move(y_label);
  chart.stacked = stacked;
  chart.dots = dots;
  return chart;
}

const Series* find_series(const RunReport& r, std::string_view name) {
  for (const Series& s : r.series) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

std::optional<std::size_t> column_index(const Series& s, std::string_view name) {
  for (std::size_t i = 0; i < s.columns.size(); ++i) {
    if (s.columns[i] == name) return i;
  }
  return std::nullopt;
}

std::vector<double> column_values(const Series& s, std::size_t index) {
  std::vector<double> out;
  for (const std::vector<double>& row : s.rows) {
    out.push_back(index < row.size() ? row[index] : std::numeric_limits<double>::quiet_NaN());
  }
  return out;
}

std::string no_samples(const std::string& why) {
  return "<p class=\"empty\">No samples: " + html_escape(why) + ".</p>\n";
}

// The series `name` with `columns` charted as lines against "day", or why not.
std::string series_chart(const RunReport& r, std::string_view name,
                         const std::vector<std::pair<std::string, std::string>>& columns,
                         Chart chart) {
  const Series* s = find_series(r, name);
  if (s == nullptr) return no_samples("the run has no series \"" + std::string(name) + "\"");
  if (s->rows.empty()) return no_samples("series \"" + std::string(name) + "\" has no rows");
  const std::optional<std::size_t> day = column_index(*s, "day");
  if (!day) return no_samples("series \"" + std::string(name) + "\" has no column \"day\"");
  for (std::size_t i = 0; i < columns.size(); ++i) {
    const std::optional<std::size_t> c = column_index(*s, columns[i].first);
    if (!c) continue;
    chart.lines.push_back(ChartLine{columns[i].second, kPalette[i % kPaletteSize],
                                    column_values(*s, *day), column_values(*s, *c)});
  }
  if (chart.lines.empty()) {
    return no_samples("series \"" + std::string(name) + "\" has no column \"" +
                      columns.front().first + "\"");
  }
  return chart_to_svg(chart);
}

// The stacked share-count distribution: one band per shares_<k> column of "checks", from 0
// shares (red, at the bottom) to the most (green).
std::string share_distribution_chart(const RunReport& r) {
  const Series* s = find_series(r, "checks");
  if (s == nullptr) return no_samples("the run has no series \"checks\"");
  if (s->rows.empty()) return no_samples("series \"checks\" has no rows");
  const std::optional<std::size_t> day = column_index(*s, "day");
  if (!day) return no_samples("series \"checks\" has no column \"day\"");
  std::vector<std::pair<unsigned, std::size_t>> shares;  // (k, column index)
  for (std::size_t i = 0; i < s->columns.size(); ++i) {
    const std::string_view c = s->columns[i];
    if (c.substr(0, 7) != "shares_") continue;
    unsigned k = 0;
    auto [end, ec] = std::from_chars(c.data() + 7, c.data() + c.size(), k);
    if (ec == std::errc() && end == c.data() + c.size() && c.size() > 7) shares.emplace_back(k, i);
  }
  if (shares.empty()) return no_samples("series \"checks\" has no shares_0.. columns");
  std::sort(shares.begin(), shares.end());
  Chart chart = make_chart("Objects by number of distinct shares", "day", "objects", true, false);
  const double k_max = std::max(1u, shares.back().first);
  for (const auto& [k, index] : shares) {
    const std::string color = "hsl(" + fmt("%.0f", 120 * k / k_max) + ",65%,50%)";
    chart.lines.push_back(ChartLine{std::to_string(k) + (k == 1 ? " share" : " shares"), color,
                                    column_values(*s, *day), column_values(*s, index)});
  }
  return chart_to_svg(chart);
}

void table_row(std::string& out, const std::vector<std::string>& cells, bool header,
               bool failed = false) {
  out += failed ? "<tr class=\"failed\">" : "<tr>";
  for (const std::string& c : cells) {
    out += header ? "<th>" : "<td>";
    out += html_escape(c);
    out += header ? "</th>" : "</td>";
  }
  out += "</tr>\n";
}

std::string page_start(const std::string& title) {
  return "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>" +
         html_escape(title) + "</title>\n<style>" + kStyle + "</style>\n</head>\n<body>\n<h1>" +
         html_escape(title) + "</h1>\n";
}

std::string replay_command(const std::string& scenario, std::uint64_t seed) {
  return "lafs-sim " + scenario + " --seed " + std::to_string(seed);
}

std::string failures_box(const RunReport& r, const std::string& scenario) {
  const std::vector<std::string> why = invariant_failures(r);
  if (why.empty()) return "";
  std::string out =
      "<p class=\"failed\"><b>INVARIANT FAILED</b> (seed " + std::to_string(r.seed) + "): ";
  for (std::size_t i = 0; i < why.size(); ++i) out += (i ? "; " : "") + html_escape(why[i]);
  return out + ". Replay: <code>" + html_escape(replay_command(scenario, r.seed)) + "</code></p>\n";
}

std::string run_summary_table(const RunReport& r) {
  std::string out = "<table>\n";
  table_row(out, {"field", "value"}, true);
  table_row(out, {"scenario", r.scenario}, false);
  table_row(out, {"seed", std::to_string(r.seed)}, false);
  table_row(out, {"simulated_days", human_number(r.simulated_days)}, false);
  table_row(out, {"events", std::to_string(r.events)}, false);
  table_row(out, {"wall_seconds", human_number(r.wall_seconds)}, false);
  table_row(out, {"trace_digest", r.trace_digest}, false);
  for (const Metric& m : r.metrics) table_row(out, {m.name, metric_text(m.value)}, false);
  return out + "</table>\n";
}

std::string aggregate_table(const SweepAggregate& a) {
  std::string out = "<div class=\"wide\"><table>\n";
  table_row(out, {"metric", "runs", "mean", "stddev", "min", "max"}, true);
  for (const MetricStats& m : a.metrics) {
    table_row(out,
              {m.name, std::to_string(m.n), human_number(m.mean), human_number(m.stddev),
               human_number(m.min), human_number(m.max)},
              false);
  }
  return out + "</table></div>\n";
}

std::string per_seed_table(const Sweep& sweep, const SweepAggregate& a) {
  std::string out = "<div class=\"wide\"><table>\n";
  std::vector<std::string> header = {"seed", "loss_fraction"};
  for (const MetricStats& m : a.metrics) header.push_back(m.name);
  table_row(out, header, true);
  for (std::size_t i = 0; i < sweep.runs.size() && i < kReportTableRowsMax; ++i) {
    const RunReport& r = sweep.runs[i];
    const std::optional<double> lf = run_loss_fraction(r);
    std::vector<std::string> cells = {std::to_string(r.seed), lf ? human_number(*lf) : "–"};
    for (const MetricStats& m : a.metrics) {
      const std::optional<MetricValue> v = run_field(r, m.name);
      cells.push_back(v ? metric_text(*v) : "–");
    }
    table_row(out, cells, false, !invariant_failures(r).empty());
  }
  out += "</table></div>\n";
  if (sweep.runs.size() > kReportTableRowsMax) {
    out += "<p class=\"empty\">The first " + std::to_string(kReportTableRowsMax) + " of " +
           std::to_string(sweep.runs.size()) + " runs; --csv writes them all.</p>\n";
  }
  return out;
}

std::string loss_fraction_section(const Sweep& sweep, const SweepAggregate& a) {
  const LossFraction& lf = a.loss_fraction;
  if (lf.n == 0) return no_samples("no run has files_total and files_lost");
  std::string out = "<p>Mean " + human_number(lf.mean) + " over " + std::to_string(lf.n) + " runs";
  if (lf.n >= 2) {
    out += "; " + fmt("%g", 100 * kLossConfidence) + "% confidence interval [" +
           human_number(lf.ci_low) + ", " + human_number(lf.ci_high) +
           "] (Student t = " + human_number(lf.t_quantile) + ", " + std::to_string(lf.n - 1) +
           " degrees of freedom; standard deviation " + human_number(lf.stddev) + ")";
  }
  out += ".</p>\n";
  Chart chart =
      make_chart("Loss fraction per seed", "seed", "files lost / files total", false, true);
  ChartLine dots{"run", kPalette[0], {}, {}};
  for (const RunReport& r : sweep.runs) {
    if (const std::optional<double> f = run_loss_fraction(r)) {
      dots.xs.push_back(static_cast<double>(r.seed));
      dots.ys.push_back(*f);
    }
  }
  chart.lines.push_back(dots);
  chart.references.push_back(ReferenceLine{"mean", kPalette[1], lf.mean});
  if (lf.n >= 2) {
    const std::string ci = fmt("%g", 100 * kLossConfidence) + "% interval";
    chart.references.push_back(ReferenceLine{ci, kPalette[7], lf.ci_low});
    chart.references.push_back(ReferenceLine{ci, kPalette[7], lf.ci_high});
  }
  out += chart_to_svg(chart);
  return out;
}

// Files lost over time, one line per seed, for the first kReportOverlaySeedsMax seeds.
std::string overlay_lost_chart(const Sweep& sweep) {
  Chart chart = make_chart("Files lost over time, per seed", "day", "files lost", false, false);
  for (const RunReport& r : sweep.runs) {
    if (chart.lines.size() == kReportOverlaySeedsMax) break;
    const Series* s = find_series(r, "checks");
    if (s == nullptr) continue;
    const std::optional<std::size_t> day = column_index(*s, "day");
    const std::optional<std::size_t> lost = column_index(*s, "unrecoverable");
    if (!day || !lost || s->rows.empty()) continue;
    chart.lines.push_back(ChartLine{"seed " + std::to_string(r.seed),
                                    kPalette[chart.lines.size() % kPaletteSize],
                                    column_values(*s, *day), column_values(*s, *lost)});
  }
  if (chart.lines.empty()) return no_samples("no run has series \"checks\" with \"unrecoverable\"");
  std::string out = chart_to_svg(chart);
  if (sweep.runs.size() > kReportOverlaySeedsMax) {
    out += "<p class=\"empty\">At most the first " + std::to_string(kReportOverlaySeedsMax) +
           " seeds are drawn.</p>\n";
  }
  return out;
}

}  // namespace

std::string run_report_html(const RunReport& r) {
  std::string out = page_start("lafs-sim run: " + r.scenario + ", seed " + std::to_string(r.seed));
  out += failures_box(r, r.scenario);
  out += "<h2>Summary</h2>\n" + run_summary_table(r);
  out += "<h2>Share-count distribution over time</h2>\n" + share_distribution_chart(r);
  out += "<h2>Files lost over time</h2>\n" +
         series_chart(r, "checks", {{"unrecoverable", "unrecoverable"}},
                      make_chart("Files lost", "day", "files lost", false, false));
  out += "<h2>Repair traffic</h2>\n" +
         series_chart(r, "checks", {{"repair_bytes", "repair bytes"}},
                      make_chart("Repair traffic", "day", "bytes written per check", false, false));
  out += "<h2>Server load</h2>\n" +
         series_chart(r, "servers",
                      {{"bytes_max", "max"}, {"bytes_mean", "mean"}, {"bytes_min", "min"}},
                      make_chart("Bytes stored per server", "day", "bytes", false, false));
  out += series_chart(r, "servers", {{"servers_live", "live"}, {"servers_up", "up"}},
                      make_chart("Servers", "day", "servers", false, false));
  out += series_chart(
      r, "servers", {{"load_cv", "load CV"}},
      make_chart("Load imbalance", "day", "coefficient of variation of bytes", false, false));
  out += "</body>\n</html>\n";
  return out;
}

std::string sweep_report_html(const Sweep& sweep) {
  const SweepAggregate a = aggregate_runs(sweep.runs);
  std::string out = page_start("lafs-sim sweep: " + sweep.scenario);
  std::string what = std::to_string(a.runs) + " runs";
  if (sweep.seeds) what += " of seeds " + seed_range_to_string(*sweep.seeds);
  if (sweep.shard) what += " (shard " + shard_to_string(*sweep.shard) + ")";
  out += "<p>" + html_escape(what) + "; " + std::to_string(a.failed_seeds.size()) +
         " failed an invariant.</p>\n";
  const std::string scenario = sweep.scenario_file.empty() ? sweep.scenario : sweep.scenario_file;
  for (const RunReport& r : sweep.runs) out += failures_box(r, scenario);
  out += "<h2>Loss fraction</h2>\n" + loss_fraction_section(sweep, a);
  out += "<h2>Aggregate over seeds</h2>\n" + aggregate_table(a);
  out += "<h2>Files lost over time</h2>\n" + overlay_lost_chart(sweep);
  out += "<h2>Runs</h2>\n" + per_seed_table(sweep, a);
  out += "</body>\n</html>\n";
  return out;
}

std::string chart_to_svg(const Chart& chart) {
  double x_lo = std::numeric_limits<double>::infinity(), x_hi = -x_lo;
  double y_lo = x_lo, y_hi = -x_lo;
  const std::vector<std::vector<double>> tops =
      chart.stacked ? stack_tops(chart) : std::vector<std::vector<double>>{};
  for (std::size_t l = 0; l < chart.lines.size(); ++l) {
    const ChartLine& line = chart.lines[l];
    const std::vector<double>& ys = chart.stacked ? tops[l] : line.ys;
    for (std::size_t i = 0; i < line.xs.size() && i < ys.size(); ++i) {
      if (!std::isfinite(line.xs[i]) || !std::isfinite(ys[i])) continue;
      x_lo = std::min(x_lo, line.xs[i]);
      x_hi = std::max(x_hi, line.xs[i]);
      y_lo = std::min(y_lo, ys[i]);
      y_hi = std::max(y_hi, ys[i]);
    }
  }
  if (!(x_lo <= x_hi)) x_lo = x_hi = y_lo = y_hi = 0;  // no finite point: an empty frame
  for (const ReferenceLine& ref : chart.references) {
    if (!std::isfinite(ref.y)) continue;
    y_lo = std::min(y_lo, ref.y);
    y_hi = std::max(y_hi, ref.y);
  }
  const Axis x = make_axis(x_lo, x_hi, false, chart.dots);
  const Axis y = make_axis(y_lo, y_hi, true, true);
  std::string out = "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 " +
                    coord(kChartWidth) + " " + coord(kChartHeight) + "\" role=\"img\">";
  out += "<title>" + html_escape(chart.title) + "</title>";
  out += "<text x=\"" + coord((kPlotLeft + kPlotRight) / 2) +
         "\" y=\"14\" text-anchor=\"middle\" font-weight=\"bold\">" + html_escape(chart.title) +
         "</text>";
  out += axes_svg(chart, x, y);
  out += series_svg(chart, x, y);
  out += references_svg(chart, y);
  out += legend_svg(chart);
  out += "</svg>\n";
  return out;
}

}  // namespace lafs::sim
