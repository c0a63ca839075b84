// The result of one lafs-sim run, and its JSON and text renderings.
// Same scenario + seed must give byte-identical JSON apart from `wall_seconds`.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace lafs::sim {

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
  std::string name;                  // "checks", "servers": snake_case
  std::vector<std::string> columns;  // columns[0] == "day"
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
  // order, so output diffs cleanly. Names must be unique and must not be a fixed field's name.
  std::vector<Metric> metrics;

  // Time series (may be empty), in a fixed order; names unique.
  std::vector<Series> series;

  // Sets `name` to `value`: replaces an existing metric in place, or appends a new one.
  // Asserts that `name` is not one of the fixed fields above.
  void set(std::string_view name, MetricValue value);

  // The metric named `name`, or nullptr.
  const MetricValue* find(std::string_view name) const;
};

// The report as a JSON object, keys in a fixed order (scenario, seed, trace_digest, events,
// simulated_days, wall_seconds, then `metrics` in order), two-space indented, one key per line,
// with a final newline.
std::string report_to_json(const RunReport& report);

// A human summary: one "name  value" line per field, names aligned, plus events per second.
std::string report_to_text(const RunReport& report);

}  // namespace lafs::sim
