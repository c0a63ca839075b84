// The checker's results as the web API's JSON (docs/webapi.md "Checking"): one object per
// check or repair, one line per deep-checked object, and the deep-check's summary. Field names
// are those of the structs in core/client/checker.h and deep_check.h. Caps appear only as
// verify caps (or "literal"): a deep-check's output can be kept or shared without handing out
// the authority to read or change anything.
#pragma once

#include <string>

#include "core/client/checker.h"
#include "core/client/deep_check.h"
#include "core/node/json.h"

namespace lafs::node {

// {"healthy":..,"recoverable":..,"storage_index":"hex",...,"share_map":{"0":["serverhex"]},
//  "corrupt":[{"share","server","problem"}],"versions":[{"seqnum","root","distinct_shares",
//  "recoverable"}],"leases_renewed":..,"summary":".."}
void write_check_result(JsonWriter& j, const client::CheckResult& r);
std::string check_result_json(const client::CheckResult& r);

// {"attempted":..,"successful":..,"shares_written":..,"problem":"..","before":{check},
//  "after":{check} or null}
void write_repair_result(JsonWriter& j, const client::RepairResult& r);
std::string repair_result_json(const client::RepairResult& r);

// What a deep-check line names an object by: its verify cap, or "literal" for a literal file or
// directory (whose cap is its contents, and which has no verify cap). Never a read or write cap.
std::string deep_check_cap_text(const cap::Cap& cap);

// One line of t=stream-deep-check, without the newline: {"type":"object","path":"a/b",
// "directory":bool,"cap":verify cap,"check":{..},"repair":{..},"error":".."} ("check",
// "repair" and "error" only when set).
std::string deep_check_object_json(const client::DeepCheckObject& o);

// The last line: {"type":"summary","objects_checked":..,...,"unhealthy_paths":[..],
// "cost":{"rpcs":..,"bytes_read":..,"bytes_written":..}}.
std::string deep_check_summary_json(const client::DeepCheckSummary& s);

}  // namespace lafs::node
