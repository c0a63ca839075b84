// Loading lafs-sim scenarios: parse the text format, fill in documented defaults, validate.
// Every error names where it is: "file:line:col: ..." for syntax, "encoding.needed: ..." for rules.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "core/runtime/status.h"
#include "sim/scenarios/scenario.pb.h"

namespace lafs::sim {

// Largest scenario text accepted, in bytes; a scenario is a page of settings, not data.
inline constexpr std::size_t kScenarioTextBytesMax = 1 << 20;

// Parses `text` (Protocol Buffers text format of lafs.sim.Scenario) and applies the defaults
// for absent fields (apply_scenario_defaults). Does not validate.
// Errors (InvalidArgument): syntax errors, unknown fields, fields given twice, out-of-range
// integers, all as "source_name:line:col: message" (1-based), one per line; text over
// kScenarioTextBytesMax. Never throws.
Result<Scenario> parse_scenario(std::string_view text, std::string_view source_name);

// Sets every absent field to its documented default (see scenario.proto). Present fields,
// including explicit zeros, are kept. The `toy` block gets defaults only if present.
void apply_scenario_defaults(Scenario* scenario);

// Checks the rules documented in scenario.proto. Assumes defaults were applied (an absent
// field reads as 0 and may fail a rule). OK, or InvalidArgument listing every broken rule, one
// per line, each as "field.path: rule, got value", e.g.
// "encoding.needed: must be between 1 and encoding.happy (7), got 11".
Status validate_scenario(const Scenario& scenario);

// parse_scenario + validate_scenario; validation errors are prefixed with "source_name: ".
Result<Scenario> load_scenario(std::string_view text, std::string_view source_name);

// Reads the file at `path` and loads it (load_scenario with the path as source name).
// Errors: NotFound / IoError if the file cannot be read, InvalidArgument as load_scenario.
Result<Scenario> load_scenario_file(const std::string& path);

// The scenario in text format (all fields present after defaults), for reports and
// `lafs-sim --print-scenario`. Parsing the result gives back an equal Scenario.
std::string scenario_to_text(const Scenario& scenario);

}  // namespace lafs::sim
