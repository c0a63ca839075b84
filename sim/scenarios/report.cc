// Rendering a RunReport: JSON (Boost.JSON values, our own stable pretty-printer) and text.
// Boost.JSON's serializer writes doubles as "2E0"; we print them shortest-round-trip instead.
#include "sim/scenarios/report.h"

#include <boost/json.hpp>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <type_traits>
#include <utility>

#include "core/runtime/assert.h"

namespace lafs::sim {
namespace {

constexpr std::string_view kFixedFields[] = {"scenario", "seed",           "trace_digest",
                                             "events",   "simulated_days", "wall_seconds"};

// Shortest text that reads back as the same double, always with a '.' or exponent so that a
// JSON reader keeps it a double; null for NaN and infinities.
std::string format_double(double v) {
  if (!std::isfinite(v)) return "null";
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  LAFS_ASSERT(ec == std::errc());
  std::string out(buf, end);
  if (out.find_first_of(".e") == std::string::npos) out += ".0";
  return out;
}

void write_json(const boost::json::value& v, int indent, std::string& out);

void write_newline(int indent, std::string& out) {
  out += '\n';
  out.append(static_cast<std::size_t>(indent) * 2, ' ');
}

void write_object(const boost::json::object& obj, int indent, std::string& out) {
  if (obj.empty()) {
    out += "{}";
    return;
  }
  out += '{';
  bool first = true;
  for (const auto& kv : obj) {
    if (!first) out += ',';
    first = false;
    write_newline(indent + 1, out);
    out += boost::json::serialize(boost::json::string(kv.key()));
    out += ": ";
    write_json(kv.value(), indent + 1, out);
  }
  write_newline(indent, out);
  out += '}';
}

void write_array(const boost::json::array& arr, int indent, std::string& out) {
  if (arr.empty()) {
    out += "[]";
    return;
  }
  out += '[';
  for (std::size_t i = 0; i < arr.size(); ++i) {
    if (i > 0) out += ',';
    write_newline(indent + 1, out);
    write_json(arr[i], indent + 1, out);
  }
  write_newline(indent, out);
  out += ']';
}

void write_json(const boost::json::value& v, int indent, std::string& out) {
  switch (v.kind()) {
    case boost::json::kind::object:
      write_object(v.get_object(), indent, out);
      return;
    case boost::json::kind::array:
      write_array(v.get_array(), indent, out);
      return;
    case boost::json::kind::double_:
      out += format_double(v.get_double());
      return;
    default:
      out += boost::json::serialize(v);
      return;  // null, bool, integers, strings
  }
}

boost::json::value to_json(const MetricValue& value) {
  return std::visit([](const auto& x) { return boost::json::value(x); }, value);
}

std::string to_text(const MetricValue& value) {
  return std::visit(
      [](const auto& x) -> std::string {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, std::string>) {
          return x;
        } else if constexpr (std::is_same_v<T, double>) {
          if (!std::isfinite(x)) return std::to_string(x);  // "nan", "inf"
          char buf[64];
          auto [end, ec] = std::to_chars(buf, buf + sizeof buf, x);
          LAFS_ASSERT(ec == std::errc());
          return std::string(buf, end);
        } else {
          return std::to_string(x);
        }
      },
      value);
}

}  // namespace

void RunReport::set(std::string_view name, MetricValue value) {
  LAFS_ASSERT_MSG(!name.empty(), "metric name is empty");
  LAFS_ASSERT_MSG(
      std::find(std::begin(kFixedFields), std::end(kFixedFields), name) == std::end(kFixedFields),
      "metric name is a fixed RunReport field");
  for (Metric& m : metrics) {
    if (m.name == name) {
      m.value = std::move(value);
      return;
    }
  }
  metrics.push_back(Metric{std::string(name), std::move(value)});
}

const MetricValue* RunReport::find(std::string_view name) const {
  for (const Metric& m : metrics) {
    if (m.name == name) return &m.value;
  }
  return nullptr;
}

std::string report_to_json(const RunReport& report) {
  boost::json::object obj;
  obj["scenario"] = report.scenario;
  obj["seed"] = report.seed;
  obj["trace_digest"] = report.trace_digest;
  obj["events"] = report.events;
  obj["simulated_days"] = report.simulated_days;
  obj["wall_seconds"] = report.wall_seconds;
  for (const Metric& m : report.metrics) {
    // A duplicate would silently overwrite and reorder; set() prevents it, direct pushes may not.
    LAFS_ASSERT_MSG(!obj.contains(m.name), "duplicate metric name in RunReport");
    obj[m.name] = to_json(m.value);
  }
  std::string out;
  write_object(obj, 0, out);
  out += '\n';
  return out;
}

std::string report_to_text(const RunReport& report) {
  std::vector<std::pair<std::string, std::string>> rows;
  rows.emplace_back("scenario", report.scenario.empty() ? "(unnamed)" : report.scenario);
  rows.emplace_back("seed", std::to_string(report.seed));
  rows.emplace_back("simulated_days", to_text(report.simulated_days));
  rows.emplace_back("events", std::to_string(report.events));
  std::string wall = to_text(report.wall_seconds);
  if (report.wall_seconds > 0) {
    char rate[64];
    std::snprintf(rate, sizeof rate, " (%.0f events/s)",
                  static_cast<double>(report.events) / report.wall_seconds);
    wall += rate;
  }
  rows.emplace_back("wall_seconds", std::move(wall));
  rows.emplace_back("trace_digest", report.trace_digest);
  for (const Metric& m : report.metrics) rows.emplace_back(m.name, to_text(m.value));

  std::size_t width = 0;
  for (const auto& row : rows) width = std::max(width, row.first.size());
  std::string out = "lafs-sim run report\n";
  for (const auto& [name, value] : rows) {
    out += "  ";
    out += name;
    out.append(width - name.size() + 2, ' ');
    out += value;
    out += '\n';
  }
  return out;
}

}  // namespace lafs::sim
