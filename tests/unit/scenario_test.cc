// Tests of the lafs-sim scenario loader (syntax errors, defaults, every validation rule) and of
// the run report's JSON and text forms.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <filesystem>
#include <limits>
#include <string>
#include <vector>

#include "sim/scenarios/report.h"
#include "sim/scenarios/scenario_loader.h"

namespace lafs::sim {
namespace {

const std::string kScenarioDir = std::string(LAFS_SOURCE_DIR) + "/sim/scenarios";

// The message of a failed load, or a marker that makes the expectation fail readably.
std::string load_error(const std::string& text) {
  Result<Scenario> r = load_scenario(text, "t.textproto");
  if (r.ok()) return "<loaded without error>";
  EXPECT_EQ(r.status().code(), ErrorCode::kInvalidArgument);
  return r.status().message();
}

TEST(ScenarioLoader, ShippedScenariosLoad) {
  int loaded = 0;
  for (const auto& entry : std::filesystem::directory_iterator(kScenarioDir)) {
    if (entry.path().extension() != ".textproto") continue;
    Result<Scenario> r = load_scenario_file(entry.path().string());
    EXPECT_TRUE(r.ok()) << entry.path() << ": " << r.status().to_string();
    ++loaded;
  }
  EXPECT_GE(loaded, 2);
}

TEST(ScenarioLoader, SmokeAndDefaultDriveTheToyServiceWithFaults) {
  for (const char* file : {"smoke.textproto", "default.textproto"}) {
    Result<Scenario> r = load_scenario_file(kScenarioDir + "/" + file);
    ASSERT_TRUE(r.ok()) << r.status().to_string();
    EXPECT_TRUE(r->has_toy()) << file;
    EXPECT_GT(r->faults().message_loss(), 0) << file;
    EXPECT_GT(r->faults().duplication(), 0) << file;
    EXPECT_GT(r->faults().reorder(), 0) << file;
    EXPECT_GT(r->faults().partition_interval_days_mean(), 0) << file;
    EXPECT_GT(r->faults().crash_interval_days_mean(), 0) << file;
  }
  Result<Scenario> d = load_scenario_file(kScenarioDir + "/default.textproto");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->toy().nodes(), 200);
  EXPECT_EQ(d->name(), "default");
}

TEST(ScenarioLoader, EmptyTextGetsDocumentedDefaults) {
  Result<Scenario> r = load_scenario("", "empty");
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(r->seed(), 1u);
  EXPECT_EQ(r->duration_days(), 30);
  EXPECT_EQ(r->encoding().needed(), 3);
  EXPECT_EQ(r->encoding().happy(), 7);
  EXPECT_EQ(r->encoding().total(), 10);
  EXPECT_EQ(r->encoding().segment_size_bytes(), 131072);
  EXPECT_EQ(r->servers().count(), 10);
  EXPECT_TRUE(r->churn().replace_departed());
  EXPECT_EQ(r->maintenance().repair_below_shares(), 7);
  EXPECT_EQ(r->maintenance().lease_days(), 31);
  EXPECT_EQ(r->faults().message_loss(), 0);
  EXPECT_EQ(r->faults().slow_factor(), 10);
  EXPECT_FALSE(r->has_toy());
}

TEST(ScenarioLoader, ExplicitZerosAndFalsesAreKept) {
  Result<Scenario> r = load_scenario(
      "maintenance { repair_below_shares: 0 check_interval_days: 0 }\n"
      "churn { replace_departed: false }\n"
      "toy { requests_per_node_per_day: 0 }\n",
      "t");
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(r->maintenance().repair_below_shares(), 0);
  EXPECT_EQ(r->maintenance().check_interval_days(), 0);
  EXPECT_FALSE(r->churn().replace_departed());
  EXPECT_EQ(r->toy().requests_per_node_per_day(), 0);
  EXPECT_EQ(r->toy().nodes(), 200);  // the rest of a present toy block gets defaults
}

TEST(ScenarioLoader, SyntaxErrorsGiveSourceLineAndColumn) {
  Result<Scenario> r =
      parse_scenario("seed: 1\nduration_days: 2\nservers {\n  count: ten\n}\n", "bad.textproto");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(r.status().message().rfind("bad.textproto:4:10: ", 0), 0u) << r.status().message();

  r = parse_scenario("seed: 1\nservers {\n  count: 3\n", "unclosed.textproto");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message().rfind("unclosed.textproto:", 0), 0u) << r.status().message();
}

TEST(ScenarioLoader, UnknownFieldIsRejectedByName) {
  Result<Scenario> r = parse_scenario("servers {\n  cont: 3\n}\n", "typo.textproto");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("typo.textproto:2:"), std::string::npos)
      << r.status().message();
  EXPECT_NE(r.status().message().find("\"cont\""), std::string::npos) << r.status().message();

  r = parse_scenario("sede: 3\n", "top.textproto");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("\"sede\""), std::string::npos) << r.status().message();
}

TEST(ScenarioLoader, RepeatedAndOutOfRangeFieldsAreRejected) {
  Result<Scenario> r = parse_scenario("seed: 1\nseed: 2\n", "twice");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("seed"), std::string::npos) << r.status().message();

  r = parse_scenario("servers { count: 99999999999 }", "big");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message().rfind("big:1:", 0), 0u) << r.status().message();
}

TEST(ScenarioLoader, OversizedTextIsRejected) {
  std::string text(kScenarioTextBytesMax + 1, ' ');
  Result<Scenario> r = parse_scenario(text, "huge");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("limit"), std::string::npos);
}

TEST(ScenarioLoader, MissingFileIsNotFound) {
  Result<Scenario> r = load_scenario_file(kScenarioDir + "/no-such-scenario.textproto");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kNotFound);
  EXPECT_NE(r.status().message().find("no-such-scenario"), std::string::npos);
}

TEST(ScenarioLoader, TextRoundTrips) {
  Result<Scenario> r = load_scenario_file(kScenarioDir + "/default.textproto");
  ASSERT_TRUE(r.ok());
  Result<Scenario> again = load_scenario(scenario_to_text(*r), "printed");
  ASSERT_TRUE(again.ok()) << again.status().to_string();
  EXPECT_EQ(again->SerializeAsString(), r->SerializeAsString());
}

TEST(ScenarioValidate, ExampleMessageFromTheSchema) {
  EXPECT_EQ(load_error("encoding { needed: 11 }"),
            "t.textproto: encoding.needed: must be between 1 and encoding.total (10), got 11");
}

struct RuleCase {
  std::string text;
  const char* field;  // the error must start with "t.textproto: <field>: "
};

TEST(ScenarioValidate, EveryRuleNamesItsField) {
  const std::vector<RuleCase> cases = {
      {"name: \"has space\"", "name"},
      {"description: \"" + std::string(4097, 'x') + "\"", "description"},
      {"description: \"bad \\377 byte\"", "description"},  // not UTF-8
      {"name: \"" + std::string(65, 'n') + "\"", "name"},
      {"duration_days: 0", "duration_days"},
      {"duration_days: -1", "duration_days"},
      {"duration_days: 36501", "duration_days"},
      {"duration_days: nan", "duration_days"},
      {"servers { count: 0 }", "servers.count"},
      {"servers { count: 100001 }", "servers.count"},
      {"servers { count: 5 }", "servers.count"},  // below encoding.happy (7)
      {"servers { capacity_bytes: 0 }", "servers.capacity_bytes"},
      {"servers { up_mbps: 0 }", "servers.up_mbps"},
      {"servers { down_mbps: -3 }", "servers.down_mbps"},
      {"servers { latency_ms_mean: -1 }", "servers.latency_ms_mean"},
      {"churn { server_lifetime_days_mean: -1 }", "churn.server_lifetime_days_mean"},
      {"churn { outage_interval_days_mean: -1 }", "churn.outage_interval_days_mean"},
      {"churn { outage_interval_days_mean: 10 }", "churn.outage_duration_hours_mean"},
      {"churn { outage_duration_hours_mean: -1 }", "churn.outage_duration_hours_mean"},
      {"encoding { total: 257 }", "encoding.total"},
      {"encoding { total: 0 }", "encoding.total"},
      {"encoding { needed: 0 }", "encoding.needed"},
      {"encoding { needed: 11 }", "encoding.needed"},
      {"encoding { happy: 2 }", "encoding.happy"},
      {"encoding { happy: 11 }", "encoding.happy"},
      {"encoding { segment_size_bytes: 0 }", "encoding.segment_size_bytes"},
      {"encoding { segment_size_bytes: 67108865 }", "encoding.segment_size_bytes"},
      {"workload { files: -1 }", "workload.files"},
      {"workload { file_size_bytes_min: -1 }", "workload.file_size_bytes_min"},
      {"workload { file_size_bytes_min: 100 file_size_bytes_max: 99 }",
       "workload.file_size_bytes_max"},
      {"workload { reads_per_day: -1 }", "workload.reads_per_day"},
      {"maintenance { check_interval_days: -1 }", "maintenance.check_interval_days"},
      {"maintenance { repair_below_shares: 3 }", "maintenance.repair_below_shares"},
      {"maintenance { repair_below_shares: 11 }", "maintenance.repair_below_shares"},
      {"maintenance { lease_days: -1 }", "maintenance.lease_days"},
      {"maintenance { renew_interval_days: 36501 }", "maintenance.renew_interval_days"},
      {"faults { message_loss: 1.5 }", "faults.message_loss"},
      {"faults { duplication: -0.1 }", "faults.duplication"},
      {"faults { reorder: 2 }", "faults.reorder"},
      {"faults { reorder_delay_ms_max: -1 }", "faults.reorder_delay_ms_max"},
      {"faults { latency_ms_jitter: -1 }", "faults.latency_ms_jitter"},
      {"faults { partition_interval_days_mean: -1 }", "faults.partition_interval_days_mean"},
      {"faults { partition_interval_days_mean: 1 }", "faults.partition_duration_hours_mean"},
      {"faults { partition_fraction: 1.1 }", "faults.partition_fraction"},
      {"faults { crash_interval_days_mean: -1 }", "faults.crash_interval_days_mean"},
      {"faults { crash_interval_days_mean: 1 }", "faults.crash_downtime_hours_mean"},
      {"faults { clock_skew_ms_max: -1 }", "faults.clock_skew_ms_max"},
      {"faults { clock_jump_interval_days_mean: -1 }", "faults.clock_jump_interval_days_mean"},
      {"faults { clock_jump_ms_max: -1 }", "faults.clock_jump_ms_max"},
      {"faults { slow_fraction: 2 }", "faults.slow_fraction"},
      {"faults { slow_factor: 0.5 }", "faults.slow_factor"},
      {"faults { crash_loss: 2 }", "faults.crash_loss"},
      {"faults { crash_torn: -1 }", "faults.crash_torn"},
      {"faults { bit_rot_per_gib_day: -1 }", "faults.bit_rot_per_gib_day"},
      {"faults { disk_full: inf }", "faults.disk_full"},
      {"toy { nodes: 1 }", "toy.nodes"},
      {"toy { requests_per_node_per_day: -1 }", "toy.requests_per_node_per_day"},
      {"toy { request_timeout_ms: 0 }", "toy.request_timeout_ms"},
      {"toy { message_size_bytes: 2000000 }", "toy.message_size_bytes"},
  };
  for (const RuleCase& c : cases) {
    const std::string& text = c.text;
    const std::string error = load_error(text);
    EXPECT_EQ(error.rfind("t.textproto: " + std::string(c.field) + ": ", 0), 0u)
        << "scenario: " << text << "\nerror: " << error;
    EXPECT_NE(error.find(", got "), std::string::npos) << error;
  }
}

TEST(ScenarioValidate, ReportsEveryBrokenRuleOnItsOwnLine) {
  const std::string error = load_error("duration_days: 0\nfaults { message_loss: 2 }\n");
  EXPECT_NE(error.find("t.textproto: duration_days: "), std::string::npos) << error;
  EXPECT_NE(error.find("\nt.textproto: faults.message_loss: "), std::string::npos) << error;
}

TEST(ScenarioValidate, BoundaryValuesAreAccepted) {
  Result<Scenario> r = load_scenario(
      "duration_days: 36500\n"
      "encoding { needed: 1 happy: 1 total: 1 }\n"
      "servers { count: 1 }\n"
      "maintenance { repair_below_shares: 0 }\n"
      "workload { files: 0 file_size_bytes_min: 0 file_size_bytes_max: 0 }\n"
      "faults { message_loss: 1 duplication: 0 }\n",
      "edges");
  EXPECT_TRUE(r.ok()) << r.status().to_string();

  r = load_scenario("encoding { needed: 256 happy: 256 total: 256 }\nservers { count: 256 }\n",
                    "wide");
  ASSERT_FALSE(r.ok());  // repair_below_shares default 7 is below needed + 1
  EXPECT_NE(r.status().message().find("maintenance.repair_below_shares"), std::string::npos);
}

RunReport sample_report() {
  RunReport report;
  report.scenario = "smoke";
  report.seed = 42;
  report.trace_digest = "00ff";
  report.events = 123456;
  report.simulated_days = 2;
  report.wall_seconds = 0.25;
  report.set("files_total", std::uint64_t{100});
  report.set("files_lost", std::int64_t{0});
  report.set("server_load_cv", 0.125);
  report.set("note", std::string("quoted \"text\""));
  return report;
}

TEST(ScenarioReport, JsonHasRequiredKeysInStableOrder) {
  const std::string json = report_to_json(sample_report());
  boost::json::error_code ec;
  boost::json::value v = boost::json::parse(json, ec);
  ASSERT_FALSE(ec) << ec.message() << "\n" << json;
  ASSERT_TRUE(v.is_object());
  const boost::json::object& obj = v.get_object();

  std::vector<std::string> keys;
  for (const auto& kv : obj) keys.emplace_back(kv.key());
  EXPECT_EQ(keys, (std::vector<std::string>{"scenario", "seed", "trace_digest", "events",
                                            "simulated_days", "wall_seconds", "files_total",
                                            "files_lost", "server_load_cv", "note"}));
  EXPECT_EQ(obj.at("seed").to_number<std::uint64_t>(), 42u);
  EXPECT_EQ(obj.at("trace_digest").as_string(), "00ff");
  EXPECT_EQ(obj.at("events").to_number<std::uint64_t>(), 123456u);
  EXPECT_TRUE(obj.at("simulated_days").is_double());  // printed "2.0", not "2"
  EXPECT_EQ(obj.at("simulated_days").as_double(), 2.0);
  EXPECT_EQ(obj.at("wall_seconds").as_double(), 0.25);
  EXPECT_EQ(obj.at("files_total").to_number<std::uint64_t>(), 100u);
  EXPECT_EQ(obj.at("server_load_cv").as_double(), 0.125);
  EXPECT_EQ(obj.at("note").as_string(), "quoted \"text\"");

  EXPECT_NE(json.find("\n  \"seed\": 42,\n"), std::string::npos) << json;  // one key per line
  EXPECT_EQ(json.back(), '\n');
}

TEST(ScenarioReport, JsonIsDeterministicAndNonFiniteIsNull) {
  RunReport report = sample_report();
  EXPECT_EQ(report_to_json(report), report_to_json(sample_report()));
  report.set("server_load_cv", std::numeric_limits<double>::quiet_NaN());
  report.set("files_total", std::uint64_t{7});  // replaced in place, order kept
  const std::string json = report_to_json(report);
  boost::json::value v = boost::json::parse(json);
  EXPECT_TRUE(v.at("server_load_cv").is_null());
  EXPECT_LT(json.find("files_total"), json.find("files_lost"));
  EXPECT_EQ(report.metrics.size(), 4u);
  ASSERT_NE(report.find("files_total"), nullptr);
  EXPECT_EQ(std::get<std::uint64_t>(*report.find("files_total")), 7u);
  EXPECT_EQ(report.find("absent"), nullptr);
}

TEST(ScenarioReport, TextSummaryListsEveryField) {
  const std::string text = report_to_text(sample_report());
  for (const char* needle :
       {"smoke", "seed", "42", "trace_digest", "00ff", "events", "123456", "simulated_days",
        "wall_seconds", "files_total", "server_load_cv", "0.125", "events/s"}) {
    EXPECT_NE(text.find(needle), std::string::npos) << needle << "\n" << text;
  }
}

}  // namespace
}  // namespace lafs::sim
