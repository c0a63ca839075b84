// Tests of the run report's JSON reader (report_from_json): what report_to_json prints reads
// back as the same report, series included, for many generated reports; malformed input fails
// with an error naming the field, never a crash. And the series CSV.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "sim/scenarios/report.h"

namespace lafs::sim {
namespace {

constexpr int kGeneratedReports = 300;
constexpr int kMutationsPerReport = 20;

// A double from a mix of the ordinary and the awkward (subnormal, huge, negative zero,
// non-finite, values without a short decimal form).
double awkward_double(std::mt19937_64& rng) {
  switch (rng() % 10) {
    case 0:
      return std::numeric_limits<double>::denorm_min() * static_cast<double>(rng() % 1000);
    case 1:
      return std::numeric_limits<double>::max() / static_cast<double>(1 + rng() % 7);
    case 2:
      return -0.0;
    case 3:
      return std::numeric_limits<double>::quiet_NaN();
    case 4:
      return std::numeric_limits<double>::infinity();
    case 5:
      return static_cast<double>(rng() % 1000);  // integral: printed "12.0"
    default: {
      const double x = std::ldexp(static_cast<double>(rng()), -static_cast<int>(rng() % 80));
      return rng() % 2 ? x : -x;
    }
  }
}

std::string awkward_string(std::mt19937_64& rng) {
  static const std::string kPieces[] = {"a", "Z", "_",   " ", "\"", "\\",   "\n",   "\t",
                                        "é", "💾", "<b>", "&", ",",  "\x01", "null", "0"};
  std::string out;
  const std::size_t n = rng() % 8;
  for (std::size_t i = 0; i < n; ++i) out += kPieces[rng() % std::size(kPieces)];
  return out;
}

RunReport generated_report(std::mt19937_64& rng) {
  RunReport r;
  r.scenario = awkward_string(rng);
  r.seed = rng();
  r.trace_digest = awkward_string(rng);
  r.events = rng() >> (rng() % 64);
  r.simulated_days = awkward_double(rng);
  r.wall_seconds = awkward_double(rng);
  const std::size_t metrics = rng() % 12;
  for (std::size_t i = 0; i < metrics; ++i) {
    const std::string name = "m" + std::to_string(i) + awkward_string(rng);
    switch (rng() % 4) {
      case 0:
        r.set(name, static_cast<std::int64_t>(rng()));  // negative half the time
        break;
      case 1:
        r.set(name, static_cast<std::uint64_t>(rng()));
        break;
      case 2:
        r.set(name, awkward_double(rng));
        break;
      default:
        r.set(name, awkward_string(rng));
    }
  }
  const std::size_t series = rng() % 3;
  for (std::size_t i = 0; i < series; ++i) {
    Series s;
    s.name = "s" + std::to_string(i) + awkward_string(rng);
    s.columns.push_back("day");
    const std::size_t columns = rng() % 5;
    for (std::size_t c = 0; c < columns; ++c) s.columns.push_back("c" + awkward_string(rng));
    const std::size_t rows = rng() % 6;
    for (std::size_t j = 0; j < rows; ++j) {
      std::vector<double> row;
      for (std::size_t c = 0; c < s.columns.size(); ++c) row.push_back(awkward_double(rng));
      s.rows.push_back(std::move(row));
    }
    r.series.push_back(std::move(s));
  }
  return r;
}

// Equal as JSON keeps them: an int64 of 0 or more reads back as uint64, a non-finite double as
// NaN; doubles otherwise bit for bit (negative zero included).
bool same_double(double a, double b) {
  if (!std::isfinite(a) || !std::isfinite(b)) return std::isnan(b) && !std::isfinite(a);
  return a == b && std::signbit(a) == std::signbit(b);
}

void expect_same_metric(const MetricValue& expected, const MetricValue& got,
                        const std::string& name) {
  if (const auto* i = std::get_if<std::int64_t>(&expected); i && *i >= 0) {
    ASSERT_TRUE(std::holds_alternative<std::uint64_t>(got)) << name;
    EXPECT_EQ(std::get<std::uint64_t>(got), static_cast<std::uint64_t>(*i)) << name;
  } else if (const auto* d = std::get_if<double>(&expected)) {
    ASSERT_TRUE(std::holds_alternative<double>(got)) << name;
    EXPECT_TRUE(same_double(*d, std::get<double>(got))) << name;
  } else {
    EXPECT_EQ(expected, got) << name;
  }
}

void expect_same_report(const RunReport& expected, const RunReport& got) {
  EXPECT_EQ(expected.scenario, got.scenario);
  EXPECT_EQ(expected.seed, got.seed);
  EXPECT_EQ(expected.trace_digest, got.trace_digest);
  EXPECT_EQ(expected.events, got.events);
  EXPECT_TRUE(same_double(expected.simulated_days, got.simulated_days));
  EXPECT_TRUE(same_double(expected.wall_seconds, got.wall_seconds));
  ASSERT_EQ(expected.metrics.size(), got.metrics.size());
  for (std::size_t i = 0; i < expected.metrics.size(); ++i) {
    EXPECT_EQ(expected.metrics[i].name, got.metrics[i].name);
    expect_same_metric(expected.metrics[i].value, got.metrics[i].value, expected.metrics[i].name);
  }
  ASSERT_EQ(expected.series.size(), got.series.size());
  for (std::size_t i = 0; i < expected.series.size(); ++i) {
    const Series& e = expected.series[i];
    const Series& g = got.series[i];
    EXPECT_EQ(e.name, g.name);
    EXPECT_EQ(e.columns, g.columns);
    ASSERT_EQ(e.rows.size(), g.rows.size());
    for (std::size_t j = 0; j < e.rows.size(); ++j) {
      ASSERT_EQ(e.rows[j].size(), g.rows[j].size());
      for (std::size_t c = 0; c < e.rows[j].size(); ++c) {
        EXPECT_TRUE(same_double(e.rows[j][c], g.rows[j][c])) << e.name << " row " << j;
      }
    }
  }
}

TEST(ReportJson, GeneratedReportsReadBackAsThemselves) {
  std::mt19937_64 rng(20261207);
  for (int i = 0; i < kGeneratedReports; ++i) {
    const RunReport report = generated_report(rng);
    const std::string json = report_to_json(report);
    Result<RunReport> back = report_from_json(json);
    ASSERT_TRUE(back.ok()) << back.status().to_string() << "\n" << json;
    expect_same_report(report, *back);
    EXPECT_EQ(report_to_json(*back), json);  // and prints the same text again
    if (::testing::Test::HasFailure()) FAIL() << "report " << i << ":\n" << json;
  }
}

TEST(ReportJson, SeriesPrintAfterMetricsOneRowPerLine) {
  RunReport r;
  r.scenario = "s";
  r.set("files_lost", std::uint64_t{2});
  r.series.push_back(Series{"checks", {"day", "unrecoverable"}, {{0, 0}, {30, 2.5}}});
  const std::string json = report_to_json(r);
  EXPECT_NE(json.find("  \"files_lost\": 2,\n  \"series\": {\n    \"checks\": {\n"
                      "      \"columns\": [\"day\", \"unrecoverable\"],\n"
                      "      \"rows\": [\n        [0.0, 0.0],\n        [30.0, 2.5]\n      ]"),
            std::string::npos)
      << json;
  r.series.clear();
  EXPECT_EQ(report_to_json(r).find("series"), std::string::npos);  // no series, no key
}

// A valid report's JSON with `field` set to `value` (replaced, or added after the others).
std::string with_field(const std::string& field, const std::string& value) {
  std::vector<std::pair<std::string, std::string>> fields = {
      {"scenario", "\"s\""},     {"seed", "1"},          {"trace_digest", "\"d\""}, {"events", "2"},
      {"simulated_days", "1.5"}, {"wall_seconds", "0.5"}};
  bool replaced = false;
  for (auto& [k, v] : fields) {
    if (k == field) v = value, replaced = true;
  }
  if (!replaced) fields.emplace_back(field, value);
  std::string out = "{";
  for (const auto& [k, v] : fields) out += (out.size() > 1 ? ", \"" : "\"") + k + "\": " + v;
  return out + "}";
}

TEST(ReportJson, MalformedInputNamesTheField) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"", "not JSON"},
      {"{", "not JSON"},
      {"{} x", "not JSON"},
      {"[1, 2]", "must be a JSON object, got an array"},
      {std::string(100, '[') + std::string(100, ']'), "not JSON"},
      {"{\"seed\": 1}", "scenario: missing"},
      {with_field("scenario", "3"), "scenario: must be a string, got an integer"},
      {with_field("seed", "-1"), "seed: must be a non-negative integer, got an integer"},
      {with_field("seed", "1.5"), "seed: must be a non-negative integer, got a non-integer"},
      {with_field("events", "\"x\""), "events: must be a non-negative integer, got a string"},
      {with_field("simulated_days", "true"), "simulated_days: must be a number or null"},
      {with_field("files_lost", "[1]"), "files_lost: must be a number, null or a string"},
      {with_field("files_lost", "{}"), "files_lost: must be a number, null or a string"},
      {with_field("", "1"), "a metric name is empty"},
      {with_field("series", "[]"), "series: must be an object, got an array"},
      {with_field("series", "{\"c\": 1}"), "series.c: must be an object"},
      {with_field("series", "{\"c\": {\"rows\": []}}"), "columns: missing"},
      {with_field("series", "{\"c\": {\"columns\": [], \"rows\": []}}"),
       "series.c.columns: must be a non-empty array"},
      {with_field("series", "{\"c\": {\"columns\": [1], \"rows\": []}}"),
       "series.c.columns[]: must be a string"},
      {with_field("series", "{\"c\": {\"columns\": [\"day\"], \"rows\": {}}}"),
       "series.c.rows: must be an array"},
      {with_field("series", "{\"c\": {\"columns\": [\"day\", \"x\"], \"rows\": [[1, 2], [3]]}}"),
       "series.c.rows[1]: must be an array of 2 numbers"},
      {with_field("series", "{\"c\": {\"columns\": [\"day\"], \"rows\": [[\"1\"]]}}"),
       "series.c.rows[0]: must be a number or null, got a string"},
      {with_field("series", "{\"c\": {\"columns\": [\"day\"], \"rows\": [], \"x\": 1}}"),
       "series.c.x: unknown key"},
      {with_field("series", "{\"\": {\"columns\": [\"day\"], \"rows\": []}}"),
       "a series name is empty"},
  };
  for (const auto& [text, expected] : cases) {
    Result<RunReport> r = report_from_json(text);
    ASSERT_FALSE(r.ok()) << text;
    EXPECT_EQ(r.status().code(), ErrorCode::kInvalidArgument) << text;
    EXPECT_NE(r.status().message().find(expected), std::string::npos)
        << "input: " << text << "\nmessage: " << r.status().message() << "\nwanted: " << expected;
  }
}

TEST(ReportJson, IntegersKeepTheirTypeBySign) {
  Result<RunReport> r = report_from_json(with_field("x", "-5"));
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(std::get<std::int64_t>(*r->find("x")), -5);
  r = report_from_json(with_field("x", "18446744073709551615"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(std::get<std::uint64_t>(*r->find("x")), std::numeric_limits<std::uint64_t>::max());
  r = report_from_json(with_field("x", "null"));
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(std::isnan(std::get<double>(*r->find("x"))));
  r = report_from_json(with_field("x", "2.0"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(std::get<double>(*r->find("x")), 2.0);
}

// Doubles read back exactly: Boost.JSON 1.81's own parser is off by an ulp on some of these.
TEST(ReportJson, DoublesReadBackExactly) {
  for (double d : {20.000694909784258, 0.1, 1.0 / 3, 2.2250738585072014e-308, 5e-324,
                   1.7976931348623157e308, 0.30000000000000004}) {
    RunReport r;
    r.simulated_days = d;
    r.set("x", d);
    Result<RunReport> back = report_from_json(report_to_json(r));
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(back->simulated_days, d);
    EXPECT_EQ(std::get<double>(*back->find("x")), d);
  }
}

// Mutations of valid reports (bytes flipped, cut, duplicated): read or refused, never a crash,
// and what reads prints again.
TEST(ReportJson, MutatedReportsReadOrFailCleanly) {
  std::mt19937_64 rng(11);
  int read = 0, refused = 0;
  const std::string kInserts[] = {"[",  "]", "{",     "}",    ",",      ":",
                                  "\"", "-", "1e999", "null", "\\u0000"};
  for (int i = 0; i < kGeneratedReports; ++i) {
    const std::string json = report_to_json(generated_report(rng));
    for (int m = 0; m < kMutationsPerReport; ++m) {
      std::string text = json;
      const std::size_t at = rng() % (text.size() + 1);
      switch (rng() % 4) {
        case 0:
          if (at < text.size()) text[at] = static_cast<char>(rng());
          break;
        case 1:
          text.erase(at, rng() % 12);
          break;
        case 2:
          text.insert(at, kInserts[rng() % std::size(kInserts)]);
          break;
        default:
          text.insert(at, text.substr(at, rng() % 40));
      }
      Result<RunReport> r = report_from_json(text);
      if (r.ok()) {
        ++read;
        (void)report_to_json(*r);  // must not trip an assertion
      } else {
        ++refused;
        EXPECT_FALSE(r.status().message().empty());
      }
    }
  }
  EXPECT_GT(read, 0);
  EXPECT_GT(refused, 0);
}

TEST(ReportCsv, OneTableWithASeriesColumn) {
  RunReport r;
  r.series.push_back(
      Series{"checks", {"day", "unrecoverable", "shares_0"}, {{0, 1, 2}, {5, 3, 4}}});
  r.series.push_back(Series{"servers", {"day", "servers_up"}, {{0, 8}}});
  r.series.push_back(Series{"odd,name", {"day"}, {{std::numeric_limits<double>::quiet_NaN()}}});
  EXPECT_EQ(report_series_to_csv(r),
            "series,day,unrecoverable,shares_0,servers_up\n"
            "checks,0,1,2,\n"
            "checks,5,3,4,\n"
            "servers,0,,,8\n"
            "\"odd,name\",nan,,,\n");
  EXPECT_EQ(report_series_to_csv(RunReport{}), "series,day\n");
}

}  // namespace
}  // namespace lafs::sim
