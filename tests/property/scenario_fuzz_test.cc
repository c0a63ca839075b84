// Property tests of the scenario loader: whatever text it is given (random bytes, or a valid
// scenario with random edits), it never crashes, and it either loads or says why.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <cstdio>
#include <string>
#include <vector>

#include "sim/scenarios/report.h"
#include "sim/scenarios/scenario_loader.h"

namespace lafs::sim {
namespace {

std::string read_shipped(const char* name) {
  const std::string path = std::string(LAFS_SOURCE_DIR) + "/sim/scenarios/" + name;
  std::string text;
  if (std::FILE* f = std::fopen(path.c_str(), "rb")) {
    char buf[4096];
    std::size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) text.append(buf, n);
    std::fclose(f);
  }
  return text;
}

// Loads `text` and checks the contract: a value that validates, or a non-empty error.
void check_loads_or_explains(const std::string& text) {
  Result<Scenario> parsed = parse_scenario(text, "fuzz");
  RC_CLASSIFY(parsed.ok(), "parses");
  if (!parsed.ok()) {
    RC_ASSERT(!parsed.status().message().empty());
    RC_ASSERT(parsed.status().message().rfind("fuzz", 0) == 0);
    return;
  }
  Status valid = validate_scenario(*parsed);
  RC_ASSERT(valid.is_ok() || !valid.message().empty());
  Result<Scenario> loaded = load_scenario(text, "fuzz");
  RC_ASSERT(loaded.ok() == valid.is_ok());
  RC_CLASSIFY(loaded.ok(), "validates");
  if (loaded.ok()) {
    // What loads prints to text that loads back to the same scenario.
    Result<Scenario> again = load_scenario(scenario_to_text(*loaded), "printed");
    RC_ASSERT(again.ok());
    RC_ASSERT(again->SerializeAsString() == loaded->SerializeAsString());
  }
}

// Tokens that tend to reach deeper into the parser and validator than random bytes do.
const std::vector<std::string> kTokens = {"seed",
                                          "duration_days",
                                          "servers",
                                          "count",
                                          "encoding",
                                          "needed",
                                          "happy",
                                          "total",
                                          "faults",
                                          "toy",
                                          "nodes",
                                          "message_loss",
                                          "{",
                                          "}",
                                          ":",
                                          " ",
                                          "\n",
                                          "#",
                                          "\"",
                                          "0",
                                          "-1",
                                          "1e308",
                                          "nan",
                                          "inf",
                                          "0.5",
                                          "257",
                                          "99999999999999999999",
                                          "true",
                                          "<",
                                          ">",
                                          "[",
                                          "]",
                                          ",",
                                          ";",
                                          "\\",
                                          "0x1F",
                                          "'",
                                          "workload",
                                          "maintenance",
                                          "repair_below_shares"};

RC_GTEST_PROP(ScenarioFuzz, RandomBytesNeverCrashTheParser, (const std::string& text)) {
  check_loads_or_explains(text);
}

RC_GTEST_PROP(ScenarioFuzz, RandomTokenSoupNeverCrashesTheParser, ()) {
  const auto tokens = *rc::gen::container<std::vector<std::string>>(rc::gen::elementOf(kTokens));
  std::string text;
  for (const std::string& t : tokens) text += t;
  check_loads_or_explains(text);
}

RC_GTEST_PROP(ScenarioFuzz, MutatedShippedScenariosLoadOrExplain, ()) {
  std::string text = read_shipped(*rc::gen::element("smoke.textproto", "default.textproto"));
  RC_ASSERT(!text.empty());
  const int edits = *rc::gen::inRange(1, 8);
  for (int i = 0; i < edits; ++i) {
    const std::size_t at = *rc::gen::inRange<std::size_t>(0, text.size() + 1);
    switch (*rc::gen::inRange(0, 4)) {
      case 0:  // insert a token
        text.insert(at, *rc::gen::elementOf(kTokens));
        break;
      case 1:  // delete a short run
        text.erase(at, *rc::gen::inRange<std::size_t>(1, 16));
        break;
      case 2:  // overwrite one byte with anything
        if (at < text.size()) text[at] = *rc::gen::arbitrary<char>();
        break;
      default: {  // put an extreme number in front of a value, to reach the validator's rules
        const std::size_t colon = text.find(": ", at);
        if (colon == std::string::npos) break;
        text.insert(colon + 2,
                    *rc::gen::element<std::string>("-", "1e400", "0", "0.", "4294967296", "9"));
        break;
      }
    }
  }
  check_loads_or_explains(text);
}

RC_GTEST_PROP(ScenarioFuzz, ReportJsonNeverCrashes,
              (const std::string& name, std::uint64_t seed, double days, std::int64_t n)) {
  RunReport report;
  report.scenario = name;
  report.seed = seed;
  report.simulated_days = days;
  report.set("metric_int", n);
  report.set("metric_text", name);
  const std::string json = report_to_json(report);
  RC_ASSERT(!json.empty());
  RC_ASSERT(json.front() == '{');
  RC_ASSERT(!report_to_text(report).empty());
}

}  // namespace
}  // namespace lafs::sim
