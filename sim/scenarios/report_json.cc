// The run report as JSON: Boost.JSON values, our own stable pretty-printer (Boost.JSON's
// serializer writes doubles as "2E0"; we print them shortest-round-trip), and the reader, with
// errors that name the field.
#include <boost/json/basic_parser_impl.hpp>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <utility>

#include "core/runtime/assert.h"
#include "sim/scenarios/report_json.h"

namespace lafs::sim {
namespace {

bool is_scalar(const boost::json::value& v) {
  return !v.is_object() && !v.is_array();
}

void write_newline(int indent, std::string& out) {
  out += '\n';
  out.append(static_cast<std::size_t>(indent) * 2, ' ');
}

void write_value(const boost::json::value& v, int indent, std::string& out);

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
    write_value(kv.value(), indent + 1, out);
  }
  write_newline(indent, out);
  out += '}';
}

// Arrays of scalars (a series' columns, one of its rows) on one line; others one element per
// line.
void write_array(const boost::json::array& arr, int indent, std::string& out) {
  if (arr.empty()) {
    out += "[]";
    return;
  }
  const bool flat = std::all_of(arr.begin(), arr.end(), is_scalar);
  out += '[';
  for (std::size_t i = 0; i < arr.size(); ++i) {
    if (i > 0) out += flat ? ", " : ",";
    if (!flat) write_newline(indent + 1, out);
    write_value(arr[i], indent + 1, out);
  }
  if (!flat) write_newline(indent, out);
  out += ']';
}

void write_value(const boost::json::value& v, int indent, std::string& out) {
  switch (v.kind()) {
    case boost::json::kind::object:
      write_object(v.get_object(), indent, out);
      return;
    case boost::json::kind::array:
      write_array(v.get_array(), indent, out);
      return;
    case boost::json::kind::double_:
      out += format_json_double(v.get_double());
      return;
    default:
      out += boost::json::serialize(v);
      return;  // null, bool, integers, strings
  }
}

boost::json::value to_json(const MetricValue& value) {
  return std::visit([](const auto& x) { return boost::json::value(x); }, value);
}

boost::json::object series_to_json(const Series& s) {
  LAFS_ASSERT_MSG(!s.name.empty(), "series without a name");
  LAFS_ASSERT_MSG(!s.columns.empty(), "series without columns");
  LAFS_ASSERT_MSG(s.columns.size() <= kSeriesColumnsMax,
                  "more columns than report_from_json reads");
  boost::json::array columns;
  for (const std::string& c : s.columns) columns.emplace_back(c);
  boost::json::array rows;
  for (const std::vector<double>& row : s.rows) {
    LAFS_ASSERT_MSG(row.size() == s.columns.size(), "series row width differs from its columns");
    boost::json::array r;
    for (double x : row) r.emplace_back(x);
    rows.emplace_back(std::move(r));
  }
  boost::json::object obj;
  obj["columns"] = std::move(columns);
  obj["rows"] = std::move(rows);
  return obj;
}

// ---- Reading back ----------------------------------------------------------------------------

// Boost.JSON's parser (as of 1.81) may read a double one unit in the last place off, so a
// report would not read back as itself and a merge of shards would not equal the whole run.
// This handler builds the same values as boost::json::parser, but converts each double from its
// text with std::from_chars, which is exact.
class ExactHandler {
 public:
  static constexpr std::size_t max_object_size = boost::json::object::max_size();
  static constexpr std::size_t max_array_size = boost::json::array::max_size();
  static constexpr std::size_t max_key_size = boost::json::string::max_size();
  static constexpr std::size_t max_string_size = boost::json::string::max_size();

  using ec_t = boost::json::error_code;
  using sv_t = boost::json::string_view;

  bool on_document_begin(ec_t&) { return true; }
  bool on_document_end(ec_t&) { return true; }
  bool on_object_begin(ec_t&) { return true; }
  bool on_object_end(std::size_t n, ec_t&) { return stack.push_object(n), true; }
  bool on_array_begin(ec_t&) { return true; }
  bool on_array_end(std::size_t n, ec_t&) { return stack.push_array(n), true; }
  bool on_key_part(sv_t s, std::size_t, ec_t&) { return stack.push_chars(s), true; }
  bool on_key(sv_t s, std::size_t, ec_t&) { return stack.push_key(s), true; }
  bool on_string_part(sv_t s, std::size_t, ec_t&) { return stack.push_chars(s), true; }
  bool on_string(sv_t s, std::size_t, ec_t&) { return stack.push_string(s), true; }
  bool on_number_part(sv_t s, ec_t&) { return number_.append(s.data(), s.size()), true; }
  bool on_int64(std::int64_t i, sv_t, ec_t&) {
    number_.clear();
    return stack.push_int64(i), true;
  }
  bool on_uint64(std::uint64_t u, sv_t, ec_t&) {
    number_.clear();
    return stack.push_uint64(u), true;
  }
  bool on_double(double d, sv_t s, ec_t&) {
    number_.append(s.data(), s.size());
    double exact = 0;
    auto [end, ec] = std::from_chars(number_.data(), number_.data() + number_.size(), exact);
    if (ec == std::errc() && end == number_.data() + number_.size()) d = exact;  // else: huge
    number_.clear();
    return stack.push_double(d), true;
  }
  bool on_bool(bool b, ec_t&) { return stack.push_bool(b), true; }
  bool on_null(ec_t&) { return stack.push_null(), true; }
  bool on_comment_part(sv_t, ec_t&) { return true; }
  bool on_comment(sv_t, ec_t&) { return true; }

  boost::json::value_stack stack;

 private:
  std::string number_;  // the text of the number being parsed
};

std::string_view kind_name(const boost::json::value& v) {
  switch (v.kind()) {
    case boost::json::kind::null:
      return "null";
    case boost::json::kind::bool_:
      return "a boolean";
    case boost::json::kind::int64:
    case boost::json::kind::uint64:
      return "an integer";
    case boost::json::kind::double_:
      return "a non-integer number";
    case boost::json::kind::string:
      return "a string";
    case boost::json::kind::array:
      return "an array";
    case boost::json::kind::object:
      return "an object";
  }
  return "?";
}

Status field_error(std::string_view where, std::string_view field, std::string_view rule,
                   const boost::json::value* got) {
  std::string msg(where);
  if (!msg.empty()) msg += ": ";
  msg += field;
  msg += ": ";
  msg += rule;
  if (got != nullptr) {
    msg += ", got ";
    msg += kind_name(*got);
  }
  return invalid_argument(std::move(msg));
}

Result<const boost::json::value*> member(const boost::json::object& obj, std::string_view where,
                                         std::string_view key) {
  const boost::json::value* v = obj.if_contains(key);
  if (v == nullptr) return field_error(where, key, "missing", nullptr);
  return v;
}

Result<std::string> read_string(const boost::json::object& obj, std::string_view where,
                                std::string_view key) {
  LAFS_ASSIGN_OR_RETURN(const boost::json::value* v, member(obj, where, key));
  if (!v->is_string()) return field_error(where, key, "must be a string", v);
  return std::string(v->get_string());
}

Result<std::uint64_t> read_uint64(const boost::json::object& obj, std::string_view where,
                                  std::string_view key) {
  LAFS_ASSIGN_OR_RETURN(const boost::json::value* v, member(obj, where, key));
  if (v->is_uint64()) return v->get_uint64();
  if (v->is_int64() && v->get_int64() >= 0) return static_cast<std::uint64_t>(v->get_int64());
  return field_error(where, key, "must be a non-negative integer", v);
}

// A double field: any number (integers too, as hand-edited files may have them); null is NaN.
Result<double> as_double(const boost::json::value& v, std::string_view where,
                         std::string_view field) {
  if (v.is_double()) return v.get_double();
  if (v.is_int64()) return static_cast<double>(v.get_int64());
  if (v.is_uint64()) return static_cast<double>(v.get_uint64());
  if (v.is_null()) return std::numeric_limits<double>::quiet_NaN();
  return field_error(where, field, "must be a number or null", &v);
}

Result<double> read_double(const boost::json::object& obj, std::string_view where,
                           std::string_view key) {
  LAFS_ASSIGN_OR_RETURN(const boost::json::value* v, member(obj, where, key));
  return as_double(*v, where, key);
}

Result<MetricValue> read_metric(const boost::json::value& v, std::string_view where,
                                std::string_view name) {
  switch (v.kind()) {
    case boost::json::kind::uint64:
      return MetricValue(v.get_uint64());
    case boost::json::kind::int64:
      if (v.get_int64() >= 0) return MetricValue(static_cast<std::uint64_t>(v.get_int64()));
      return MetricValue(v.get_int64());
    case boost::json::kind::double_:
      return MetricValue(v.get_double());
    case boost::json::kind::null:
      return MetricValue(std::numeric_limits<double>::quiet_NaN());
    case boost::json::kind::string:
      return MetricValue(std::string(v.get_string()));
    default:
      return field_error(where, name, "must be a number, null or a string", &v);
  }
}

Result<Series> read_series(const boost::json::value& v, std::string_view where,
                           std::string_view name) {
  const std::string field = "series." + std::string(name);
  if (name.empty()) return field_error(where, "series", "a series name is empty", nullptr);
  if (!v.is_object()) return field_error(where, field, "must be an object", &v);
  const boost::json::object& obj = v.get_object();
  for (const auto& kv : obj) {
    if (kv.key() != "columns" && kv.key() != "rows") {
      return field_error(where, field + "." + std::string(kv.key()),
                         "unknown key (expected columns, rows)", nullptr);
    }
  }
  Series s;
  s.name = std::string(name);
  LAFS_ASSIGN_OR_RETURN(const boost::json::value* columns, member(obj, where, "columns"));
  if (!columns->is_array() || columns->get_array().empty() ||
      columns->get_array().size() > kSeriesColumnsMax) {
    return field_error(
        where, field + ".columns",
        "must be a non-empty array of at most " + std::to_string(kSeriesColumnsMax) + " strings",
        columns);
  }
  for (const boost::json::value& c : columns->get_array()) {
    if (!c.is_string()) return field_error(where, field + ".columns[]", "must be a string", &c);
    s.columns.emplace_back(c.get_string());
  }
  LAFS_ASSIGN_OR_RETURN(const boost::json::value* rows, member(obj, where, "rows"));
  if (!rows->is_array()) return field_error(where, field + ".rows", "must be an array", rows);
  for (std::size_t i = 0; i < rows->get_array().size(); ++i) {
    const boost::json::value& row = rows->get_array()[i];
    const std::string row_field = field + ".rows[" + std::to_string(i) + "]";
    if (!row.is_array() || row.get_array().size() != s.columns.size()) {
      return field_error(
          where, row_field,
          "must be an array of " + std::to_string(s.columns.size()) + " numbers (the columns)",
          row.is_array() ? nullptr : &row);
    }
    std::vector<double> values;
    values.reserve(s.columns.size());
    for (const boost::json::value& x : row.get_array()) {
      LAFS_ASSIGN_OR_RETURN(double d, as_double(x, where, row_field));
      values.push_back(d);
    }
    s.rows.push_back(std::move(values));
  }
  return s;
}

Status read_all_series(const boost::json::value& v, std::string_view where, RunReport& r) {
  if (!v.is_object()) return field_error(where, "series", "must be an object", &v);
  if (v.get_object().size() > kSeriesMax) {
    return field_error(where, "series", "at most " + std::to_string(kSeriesMax) + " series",
                       nullptr);
  }
  for (const auto& kv : v.get_object()) {
    for (const Series& seen : r.series) {
      if (seen.name == kv.key()) {
        return field_error(where, "series." + std::string(kv.key()), "appears twice", nullptr);
      }
    }
    LAFS_ASSIGN_OR_RETURN(Series s, read_series(kv.value(), where, kv.key()));
    r.series.push_back(std::move(s));
  }
  return Status{};
}

}  // namespace

std::string format_json_double(double v) {
  if (!std::isfinite(v)) return "null";
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  LAFS_ASSERT(ec == std::errc());
  std::string out(buf, end);
  if (out.find_first_of(".e") == std::string::npos) out += ".0";
  return out;
}

std::string write_pretty_json(const boost::json::value& v, int indent) {
  std::string out;
  write_value(v, indent, out);
  return out;
}

Result<boost::json::value> parse_json(std::string_view text, std::string_view where) {
  boost::json::parse_options options;
  options.max_depth = 16;  // a sweep nests reports four deep; deeper is not ours
  boost::json::basic_parser<ExactHandler> parser(options);
  parser.handler().stack.reset();
  boost::json::error_code ec;
  const std::size_t used = parser.write_some(false, text.data(), text.size(), ec);
  if (!ec && used < text.size()) ec = boost::json::error::extra_data;
  if (ec) {
    return invalid_argument(std::string(where) + ": not JSON (" + ec.message() + " near byte " +
                            std::to_string(used) + ")");
  }
  return parser.handler().stack.release();
}

boost::json::object report_to_json_value(const RunReport& report) {
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
  if (!report.series.empty()) {
    LAFS_ASSERT_MSG(report.series.size() <= kSeriesMax, "more series than report_from_json reads");
    boost::json::object series;
    for (const Series& s : report.series) {
      LAFS_ASSERT_MSG(!series.contains(s.name), "duplicate series name in RunReport");
      series[s.name] = series_to_json(s);
    }
    obj["series"] = std::move(series);
  }
  return obj;
}

Result<RunReport> report_from_json_value(const boost::json::value& v, std::string_view where) {
  if (!v.is_object()) return field_error(where, "report", "must be a JSON object", &v);
  const boost::json::object& obj = v.get_object();
  RunReport r;
  LAFS_ASSIGN_OR_RETURN(r.scenario, read_string(obj, where, "scenario"));
  LAFS_ASSIGN_OR_RETURN(r.seed, read_uint64(obj, where, "seed"));
  LAFS_ASSIGN_OR_RETURN(r.trace_digest, read_string(obj, where, "trace_digest"));
  LAFS_ASSIGN_OR_RETURN(r.events, read_uint64(obj, where, "events"));
  LAFS_ASSIGN_OR_RETURN(r.simulated_days, read_double(obj, where, "simulated_days"));
  LAFS_ASSIGN_OR_RETURN(r.wall_seconds, read_double(obj, where, "wall_seconds"));
  for (const auto& kv : obj) {
    const std::string_view key = kv.key();
    if (key == "series") {
      LAFS_RETURN_IF_ERROR(read_all_series(kv.value(), where, r));
      continue;
    }
    if (std::find(std::begin(kReportFixedFields), std::end(kReportFixedFields), key) !=
        std::end(kReportFixedFields)) {
      continue;  // read above
    }
    if (key.empty()) return field_error(where, "\"\"", "a metric name is empty", nullptr);
    LAFS_ASSIGN_OR_RETURN(MetricValue value, read_metric(kv.value(), where, key));
    r.set(key, std::move(value));
  }
  return r;
}

std::string report_to_json(const RunReport& report) {
  std::string out = write_pretty_json(report_to_json_value(report));
  out += '\n';
  return out;
}

Result<RunReport> report_from_json(std::string_view text) {
  LAFS_ASSIGN_OR_RETURN(boost::json::value v, parse_json(text, "report"));
  return report_from_json_value(v, "");
}

}  // namespace lafs::sim
