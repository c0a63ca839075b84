// The result of one lafs-sim run, and its JSON, CSV and text renderings.
// Same scenario + seed must give byte-identical JSON apart from `wall_seconds`.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/runtime/status.h"

namespace lafs::sim {

// Bounds on a report's series (report_from_json refuses more): far above what a run produces.
inline constexpr std::size_t kSeriesMax = 64;
inline constexpr std::size_t kSeriesColumnsMax = 4096;

// A metric's value. Integers stay exact in JSON; doubles print in shortest round-trip form;
// non-finite doubles print as null (JSON has no NaN or infinity).
using MetricValue = std::variant<std::int64_t, std::uint64_t, double, std::string>;

struct Metric {
  std::string name;  // snake_case with the unit last: "repair_bytes", "server_load_cv"
  MetricValue value;
};

// A table sampled during the run: the first column is the simulated day of the sample. Rendered
// in the JSON under "series" (after the metrics), written by --csv and charted by --report.
struct Series {
  std::string name;                       // "checks", "servers": snake_case
  std::vector<std::string> columns;       // columns[0] == "day"
  std::vector<std::vector<double>> rows;  // each row has columns.size() values
};

struct RunReport {
  std::string scenario;      // the scenario's name (or its file name)
  std::uint64_t seed = 0;    // the seed the run used (after any --seed override)
  std::string trace_digest;  // hex digest over every event; equal seeds give equal digests
  std::uint64_t events = 0;  // events the simulator executed
  double simulated_days = 0;
  double wall_seconds = 0;  // the only field that may differ between runs of one seed

  // Further metrics (files_total, files_lost, ...), rendered after the fixed fields in this
  // order, so output diffs cleanly. Names must be unique and must not be a fixed field's name
  // or "series".
  std::vector<Metric> metrics;

  // Time series (may be empty), in a fixed order; names unique and not empty; at most
  // kSeriesMax series of 1 to kSeriesColumnsMax columns.
  std::vector<Series> series;

  // Sets `name` to `value`: replaces an existing metric in place, or appends a new one.
  // Asserts that `name` is not one of the fixed fields above, nor "series".
  void set(std::string_view name, MetricValue value);

  // The metric named `name`, or nullptr.
  const MetricValue* find(std::string_view name) const;
};

// The report as a JSON object, keys in a fixed order (scenario, seed, trace_digest, events,
// simulated_days, wall_seconds, then `metrics` in order, then "series" unless there are none),
// two-space indented, one key per line, with a final newline. Series are
// `"series": {"<name>": {"columns": ["day", ...], "rows": [[0.0, ...], ...]}}`, each row (and
// the columns) on one line.
std::string report_to_json(const RunReport& report);

// The report that report_to_json printed. Integer metrics read back as uint64 when
// non-negative and int64 when negative (so an int64 metric of 0 or more comes back as uint64);
// a null (a non-finite double) reads back as NaN. Malformed input is an InvalidArgument error
// naming the field ("files_lost: must be a number or a string, got an array"), never a crash.
Result<RunReport> report_from_json(std::string_view text);

// The metric as a double, for aggregation and charts: integers converted, strings nullopt.
std::optional<double> metric_as_double(const MetricValue& value);

// The series as one CSV table: a header "series,day,<columns>" with the union of every
// series' columns (in the order first seen, series in report order), then each series' rows
// in order, its name in the first column and an empty cell for a column it does not have.
// Numbers print shortest-round-trip ("nan", "inf" for non-finite); deterministic. With no
// series, the header "series,day" alone.
std::string report_series_to_csv(const RunReport& report);

// A human summary: one "name  value" line per field, names aligned, plus events per second
// and a line naming the series and their sample counts.
std::string report_to_text(const RunReport& report);

}  // namespace lafs::sim
