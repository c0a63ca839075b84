// The run report: its metrics, and its text and CSV renderings (the JSON is report_json.cc).
#include "sim/scenarios/report.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <type_traits>
#include <utility>

#include "core/runtime/assert.h"
#include "sim/scenarios/report_json.h"

namespace lafs::sim {
namespace {

std::string to_text(const MetricValue& value) {
  return std::visit(
      [](const auto& x) -> std::string {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, std::string>) {
          return x;
        } else if constexpr (std::is_same_v<T, double>) {
          if (std::isnan(x)) return "nan";
          if (std::isinf(x)) return x > 0 ? "inf" : "-inf";
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

// RFC 4180: a field with a comma, quote or line break is quoted, its quotes doubled.
std::string csv_cell(const std::string& text) {
  if (text.find_first_of(",\"\r\n") == std::string::npos) return text;
  std::string out = "\"";
  for (char c : text) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
  return out;
}

}  // namespace

void RunReport::set(std::string_view name, MetricValue value) {
  LAFS_ASSERT_MSG(!name.empty(), "metric name is empty");
  LAFS_ASSERT_MSG(std::find(std::begin(kReportFixedFields), std::end(kReportFixedFields), name) ==
                      std::end(kReportFixedFields),
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

std::optional<double> metric_as_double(const MetricValue& value) {
  return std::visit(
      [](const auto& x) -> std::optional<double> {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, std::string>) {
          return std::nullopt;
        } else {
          return static_cast<double>(x);
        }
      },
      value);
}

std::string report_series_to_csv(const RunReport& report) {
  std::vector<std::string> columns = {"day"};
  for (const Series& s : report.series) {
    for (const std::string& c : s.columns) {
      if (std::find(columns.begin(), columns.end(), c) == columns.end()) columns.push_back(c);
    }
  }
  std::string out = "series";
  for (const std::string& c : columns) out += "," + csv_cell(c);
  out += '\n';
  for (const Series& s : report.series) {
    // Where each table column is in this series (or npos).
    std::vector<std::size_t> index;
    for (const std::string& c : columns) {
      auto it = std::find(s.columns.begin(), s.columns.end(), c);
      index.push_back(it == s.columns.end() ? std::string::npos
                                            : static_cast<std::size_t>(it - s.columns.begin()));
    }
    for (const std::vector<double>& row : s.rows) {
      LAFS_ASSERT_MSG(row.size() == s.columns.size(), "series row width differs from its columns");
      out += csv_cell(s.name);
      for (std::size_t i : index) {
        out += ',';
        if (i != std::string::npos) out += to_text(row[i]);
      }
      out += '\n';
    }
  }
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
  if (!report.series.empty()) {
    std::string names;
    for (const Series& s : report.series) {
      if (!names.empty()) names += ", ";
      names += s.name + " (" + std::to_string(s.rows.size()) + " samples)";
    }
    rows.emplace_back("series", std::move(names));
  }

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
