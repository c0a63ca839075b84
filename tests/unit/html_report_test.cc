// Tests of the --report page (sim/scenarios/html_report.h): every string escaped, the charts
// drawn from the series, "no samples" where a series or column is missing, odd values survive,
// and a sweep's page has its aggregate, failed seeds and per-seed table.
#include "sim/scenarios/html_report.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <regex>
#include <string>
#include <vector>

namespace lafs::sim {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

std::size_t count(const std::string& haystack, const std::string& needle) {
  std::size_t n = 0;
  for (std::size_t at = haystack.find(needle); at != std::string::npos;
       at = haystack.find(needle, at + 1)) {
    ++n;
  }
  return n;
}

// A grid run's report with the series the grid runner samples: checks and servers.
RunReport grid_report() {
  RunReport r;
  r.scenario = "grid <b>&</b>";
  r.seed = 7;
  r.trace_digest = "abc";
  r.events = 100;
  r.simulated_days = 30;
  r.set("files_total", std::uint64_t{10});
  r.set("files_lost", std::uint64_t{1});
  r.set("note", std::string("<script>alert('x')</script>"));
  Series checks{"checks",
                {"day", "objects_checked", "unrecoverable", "unhealthy", "repairs", "repair_bytes",
                 "shares_0", "shares_1", "shares_2", "shares_3", "shares_4"},
                {}};
  for (int day = 0; day <= 30; day += 5) {
    const double d = day;
    checks.rows.push_back({d, 10, d / 30, 2, 1, 1000 * d, d / 30, 0, 1, 2, 7 - d / 30});
  }
  r.series.push_back(checks);
  Series servers{
      "servers",
      {"day", "servers_live", "servers_up", "bytes_mean", "bytes_min", "bytes_max", "load_cv"},
      {{0, 8, 8, 1e6, 5e5, 2e6, 0.3}, {30, 8, 7, 1.2e6, 6e5, 2.5e6, 0.35}}};
  r.series.push_back(servers);
  return r;
}

TEST(HtmlReport, EscapesEverySpecialCharacter) {
  EXPECT_EQ(html_escape("<a href=\"x\">'&'</a>"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
  EXPECT_EQ(html_escape("plain"), "plain");
}

TEST(HtmlReport, RunPageChartsEverySeriesAndEscapesStrings) {
  const std::string html = run_report_html(grid_report());
  EXPECT_EQ(html.rfind("<!DOCTYPE html>", 0), 0u);
  EXPECT_NE(html.find("</html>"), std::string::npos);
  // Share counts, files lost, repair traffic, bytes per server, servers, load CV.
  EXPECT_EQ(count(html, "<svg"), 6u) << html;
  EXPECT_EQ(count(html, "No samples"), 0u);
  EXPECT_NE(html.find("4 shares"), std::string::npos);  // the share-count legend
  EXPECT_EQ(html.find("<script"), std::string::npos);   // the metric's text is escaped
  EXPECT_EQ(html.find("<b>"), std::string::npos);
  EXPECT_NE(html.find("grid &lt;b&gt;&amp;&lt;/b&gt;"), std::string::npos);
  EXPECT_EQ(html.find("http://"), html.find("http://www.w3.org/2000/svg"));  // no assets
  EXPECT_EQ(html, run_report_html(grid_report()));                           // deterministic
}

TEST(HtmlReport, MissingSeriesOrColumnsSayNoSamples) {
  RunReport r = grid_report();
  r.series.clear();
  std::string html = run_report_html(r);
  EXPECT_EQ(count(html, "<svg"), 0u);
  EXPECT_EQ(count(html, "No samples"), 6u) << html;
  EXPECT_NE(html.find("the run has no series &quot;checks&quot;"), std::string::npos);

  r = grid_report();
  r.series[0] = Series{"checks", {"day", "unrecoverable"}, {{0, 0}, {1, 1}}};  // no shares_k
  r.series[1].rows.clear();
  html = run_report_html(r);
  EXPECT_NE(html.find("no shares_0.. columns"), std::string::npos);
  EXPECT_NE(html.find("no column &quot;repair_bytes&quot;"), std::string::npos);
  EXPECT_NE(html.find("series &quot;servers&quot; has no rows"), std::string::npos);
  EXPECT_EQ(count(html, "<svg"), 1u);  // files lost alone
}

TEST(HtmlReport, OddValuesStillDraw) {
  for (const std::vector<double>& values : std::vector<std::vector<double>>{{0, 0, 0},
                                                                            {kNaN, kNaN, kNaN},
                                                                            {kInf, -kInf, 1},
                                                                            {1e308, -1e308, 1e-308},
                                                                            {5, 5, 5},
                                                                            {-3, 2e9, 4.5e12}}) {
    RunReport r = grid_report();
    Series& checks = r.series[0];
    checks.rows.resize(values.size());
    for (std::size_t i = 0; i < values.size(); ++i) {
      checks.rows[i].assign(checks.columns.size(), values[i]);
      checks.rows[i][0] = static_cast<double>(i);
    }
    const std::string html = run_report_html(r);
    EXPECT_EQ(count(html, "<svg"), 6u);
    // No "nan" or "inf" printed as a number anywhere (as in a coordinate or a tick).
    EXPECT_FALSE(std::regex_search(html, std::regex("[^a-z](nan|inf)[^a-z]"))) << values[0];
  }
  // One sample, and a chart with a single point.
  RunReport r = grid_report();
  r.series[0].rows.resize(1);
  EXPECT_EQ(count(run_report_html(r), "<svg"), 6u);
}

TEST(HtmlReport, SweepPageHasAggregateFailuresAndEverySeed) {
  Sweep sweep;
  sweep.scenario = "grid <b>&</b>";
  sweep.scenario_file = "sim/scenarios/g&.textproto";
  sweep.seeds = SeedRange{1, 4};
  for (std::uint64_t s = 1; s <= 4; ++s) {
    RunReport r = grid_report();
    r.seed = s;
    r.set("files_lost", s - 1);
    if (s == 3) r.set("read_mismatches", std::uint64_t{1});
    sweep.runs.push_back(r);
  }
  const std::string html = sweep_report_html(sweep);
  EXPECT_NE(html.find("4 runs of seeds 1..4"), std::string::npos);
  EXPECT_NE(html.find("99% confidence interval"), std::string::npos);
  EXPECT_NE(html.find("lafs-sim sim/scenarios/g&amp;.textproto --seed 3"), std::string::npos);
  EXPECT_EQ(count(html, "class=\"failed\""), 2u);  // the box and the table row
  EXPECT_EQ(count(html, "<svg"), 2u);              // loss fraction per seed, files lost per seed
  for (const char* cell : {"<td>1</td><td>0</td>", "<td>4</td><td>0.3</td>"}) {
    EXPECT_NE(html.find(cell), std::string::npos) << cell;
  }
  EXPECT_EQ(html.find("grid <b>"), std::string::npos);
  EXPECT_NE(html.find("grid &lt;b&gt;"), std::string::npos);
}

TEST(HtmlReport, LargeSweepPagesAreBounded) {
  Sweep sweep;
  sweep.scenario = "toy";
  for (std::uint64_t s = 0; s < kReportTableRowsMax + 5; ++s) {
    RunReport r;
    r.scenario = "toy";
    r.seed = s;
    sweep.runs.push_back(r);
  }
  const std::string html = sweep_report_html(sweep);
  EXPECT_NE(html.find("The first 1000 of 1005 runs"), std::string::npos);
  EXPECT_NE(html.find("No samples: no run has files_total"), std::string::npos);
}

TEST(HtmlReport, EmptySweepStillRenders) {
  Sweep sweep;
  sweep.scenario = "toy";
  const std::string html = sweep_report_html(sweep);
  EXPECT_NE(html.find("0 runs"), std::string::npos);
}

}  // namespace
}  // namespace lafs::sim
