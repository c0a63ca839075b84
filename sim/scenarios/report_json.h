// The JSON layer under report.h and sweep.h (report_json.cc), for the code that nests reports
// in larger documents (a sweep's "runs"): Boost.JSON values, our stable pretty-printer and the
// reader. Not for the runners: they build RunReports and call report_to_json.
#pragma once

#include <boost/json.hpp>

#include <string>
#include <string_view>

#include "core/runtime/status.h"
#include "sim/scenarios/report.h"

namespace lafs::sim {

// The report's own keys: no metric may have one of these names.
inline constexpr std::string_view kReportFixedFields[] = {
    "scenario", "seed", "trace_digest", "events", "simulated_days", "wall_seconds", "series"};

// Shortest text that reads back as the same double, always with a '.' or an exponent so that a
// JSON reader keeps it a double; "null" for NaN and infinities (JSON has neither).
std::string format_json_double(double v);

// `v` two-space indented, one object member per line; arrays of scalars (a series' columns
// and rows) on one line. Doubles as format_json_double. No final newline.
std::string write_pretty_json(const boost::json::value& v, int indent = 0);

// The report as the object report_to_json prints.
boost::json::object report_to_json_value(const RunReport& report);

// The report that report_to_json_value wrote. Errors name `where` ("runs[3]") and the field.
Result<RunReport> report_from_json_value(const boost::json::value& v, std::string_view where);

// Parses `text` as one JSON document (no exceptions); errors name `where` and the offset.
Result<boost::json::value> parse_json(std::string_view text, std::string_view where);

}  // namespace lafs::sim
