// The page `--report DIR` writes as DIR/index.html: self-contained HTML (no scripts, no
// external assets) with the summary tables and inline SVG charts drawn here. A run's page charts
// its series (share counts, files lost, repair traffic, server load); a sweep's page shows the
// aggregate, the loss fraction per seed and the per-seed table. Missing series or columns show
// "no samples" instead of a chart. docs/capacity-planning.md, "Reports".
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/node/web_ui.h"
#include "sim/scenarios/report.h"
#include "sim/scenarios/sweep.h"

namespace lafs::sim {

// Rows of the per-seed table on a sweep's page (the CSV has them all), and seeds whose files
// lost over time are drawn: bounds on the page's size.
inline constexpr std::size_t kReportTableRowsMax = 1000;
inline constexpr std::size_t kReportOverlaySeedsMax = 20;

// `text` with &, <, >, " and ' replaced by character references: safe in element content and
// in quoted attribute values (the web UI's escaping, one implementation for both).
using node::ui::html_escape;

// One line (or, stacked, one band) of a chart: points (xs[i], ys[i]); NaN ys leave a gap.
struct ChartLine {
  std::string label;
  std::string color;  // a CSS color
  std::vector<double> xs;
  std::vector<double> ys;
};

// A horizontal dashed line across the plot at `y` (a mean, an interval's bound).
struct ReferenceLine {
  std::string label;
  std::string color;
  double y = 0;
};

struct Chart {
  std::string title;
  std::string x_label;
  std::string y_label;
  std::vector<ChartLine> lines;
  // Bands stacked in order, the first at the bottom (all lines must share the first's xs).
  bool stacked = false;
  // Points drawn as dots, not joined (a per-seed scatter).
  bool dots = false;
  std::vector<ReferenceLine> references;  // drawn over the lines, listed after them
};

// The chart as an <svg> element: its title, axes with round ticks (the x axis spans the data
// exactly, except for dots), and a legend; empty lines are skipped.
std::string chart_to_svg(const Chart& chart);

// The page for one run's report.
std::string run_report_html(const RunReport& report);

// The page for a sweep (its aggregate computed from the runs).
std::string sweep_report_html(const Sweep& sweep);

}  // namespace lafs::sim
