#include "core/node/check_json.h"

#include "core/crypto/hash.h"

namespace lafs::node {

void write_check_result(JsonWriter& j, const client::CheckResult& r) {
  j.begin_object();
  j.key("healthy").value(r.healthy);
  j.key("recoverable").value(r.recoverable);
  j.key("is_mutable").value(r.is_mutable);
  j.key("is_literal").value(r.is_literal);
  j.key("storage_index").value(r.storage_index);
  j.key("needed").value(r.needed);
  j.key("happy").value(r.happy);
  j.key("total").value(r.total);
  j.key("servers_queried").value(r.servers_queried);
  j.key("servers_responding").value(r.servers_responding);
  j.key("shares_found").value(r.shares_found);
  j.key("distinct_shares").value(r.distinct_shares);
  j.key("good_hosts").value(r.good_hosts);
  j.key("happiness").value(r.happiness);
  j.key("share_map").begin_object();
  for (const auto& [share, servers] : r.share_map) {
    j.key(std::to_string(share)).begin_array();
    for (const std::string& s : servers) j.value(s);
    j.end_array();
  }
  j.end_object();
  j.key("corrupt").begin_array();
  for (const client::CorruptShare& c : r.corrupt) {
    j.begin_object();
    j.key("share").value(c.share);
    j.key("server").value(c.server);
    j.key("problem").value(c.problem);
    j.end_object();
  }
  j.end_array();
  j.key("versions").begin_array();
  for (const client::VersionSeen& v : r.versions) {
    j.begin_object();
    j.key("seqnum").value(v.version.seqnum);
    j.key("root").value(crypto::to_hex(ByteView(v.version.root.data(), v.version.root.size())));
    j.key("distinct_shares").value(v.distinct_shares);
    j.key("recoverable").value(v.recoverable);
    j.end_object();
  }
  j.end_array();
  j.key("leases_renewed").value(r.leases_renewed);
  j.key("summary").value(r.summary);
  j.end_object();
}

std::string check_result_json(const client::CheckResult& r) {
  JsonWriter j;
  write_check_result(j, r);
  return j.take();
}

void write_repair_result(JsonWriter& j, const client::RepairResult& r) {
  j.begin_object();
  j.key("attempted").value(r.attempted);
  j.key("successful").value(r.successful);
  j.key("shares_written").value(r.shares_written);
  j.key("bytes_written").value(r.bytes_written);
  j.key("problem").value(r.problem);
  j.key("before");
  write_check_result(j, r.before);
  j.key("after");
  if (r.after) {
    write_check_result(j, *r.after);
  } else {
    j.null();
  }
  j.end_object();
}

std::string repair_result_json(const client::RepairResult& r) {
  JsonWriter j;
  write_repair_result(j, r);
  return j.take();
}

std::string deep_check_cap_text(const cap::Cap& cap) {
  // A verify cap checks and repairs but reads nothing; a literal's only cap is its contents.
  if (std::optional<cap::Cap> v = cap::verify_cap(cap)) return cap::format_cap(*v);
  return "literal";
}

std::string deep_check_object_json(const client::DeepCheckObject& o) {
  JsonWriter j;
  j.begin_object();
  j.key("type").value("object");
  j.key("path").value(o.path);
  j.key("directory").value(o.cap.directory);
  j.key("cap").value(deep_check_cap_text(o.cap));
  if (o.check) {
    j.key("check");
    write_check_result(j, *o.check);
  }
  if (o.repair) {
    j.key("repair");
    write_repair_result(j, *o.repair);
  }
  if (!o.error.empty()) j.key("error").value(o.error);
  j.end_object();
  return j.take();
}

std::string deep_check_summary_json(const client::DeepCheckSummary& s) {
  JsonWriter j;
  j.begin_object();
  j.key("type").value("summary");
  j.key("objects_checked").value(s.objects_checked);
  j.key("objects_healthy").value(s.objects_healthy);
  j.key("objects_unhealthy").value(s.objects_unhealthy);
  j.key("objects_unrecoverable").value(s.objects_unrecoverable);
  j.key("repairs_attempted").value(s.repairs_attempted);
  j.key("repairs_successful").value(s.repairs_successful);
  j.key("errors").value(s.errors);
  j.key("directories").value(s.directories);
  j.key("files").value(s.files);
  j.key("leases_renewed").value(s.leases_renewed);
  j.key("repair_bytes").value(s.repair_bytes);
  j.key("unhealthy_paths").begin_array();
  for (const std::string& p : s.unhealthy_paths) j.value(p);
  j.end_array();
  j.key("cost").begin_object();
  j.key("rpcs").value(s.cost.rpcs);
  j.key("bytes_read").value(s.cost.bytes_read);
  j.key("bytes_written").value(s.cost.bytes_written);
  j.end_object();
  j.end_object();
  return j.take();
}

}  // namespace lafs::node
