// Scenario loading: text-format parsing with located errors, defaults, and validation rules.
// The rules here mirror the "Rule:" and "Default:" lines of scenario.proto; change both together.
#include "sim/scenarios/scenario_loader.h"

#include <google/protobuf/io/tokenizer.h>
#include <google/protobuf/text_format.h>

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <exception>
#include <memory>
#include <utility>
#include <vector>

namespace lafs::sim {
namespace {

// Bounds shared by several rules.
constexpr double kDurationDaysMax = 36500;  // 100 years of simulated time
constexpr double kHoursMax = kDurationDaysMax * 24;
constexpr std::int64_t kFileSizeBytesMax = std::int64_t{1} << 40;
constexpr std::size_t kErrorsMax = 32;  // a file full of mistakes still gives a readable error
constexpr std::size_t kNameBytesMax = 64;
constexpr std::size_t kDescriptionBytesMax = 4096;

// Integral doubles print as integers ("36500", not "3.65e+04"); others round-trip exactly.
std::string format_number(double value) {
  if (std::isfinite(value) && value == std::trunc(value) && std::fabs(value) < 1e15) {
    return std::to_string(static_cast<std::int64_t>(value));
  }
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value);
  LAFS_ASSERT(ec == std::errc());
  return std::string(buf, end);
}

std::string format_number(std::int64_t value) {
  return std::to_string(value);
}

// A bound in a rule: a constant, or another field ("encoding.total (10)").
template <typename T>
struct Bound {
  T value;
  std::string_view field = {};

  std::string text() const {
    if (field.empty()) return format_number(value);
    return std::string(field) + " (" + format_number(value) + ")";
  }
};

// Collects every broken rule so that one run of the validator reports all of them.
class RuleChecker {
 public:
  void fail(std::string_view field, std::string_view rule, const std::string& got) {
    if (errors_.size() >= kErrorsMax) return;
    errors_.push_back(std::string(field) + ": " + std::string(rule) + ", got " + got);
  }

  // lo <= value <= hi. Written so that NaN fails.
  template <typename T>
  bool between(std::string_view field, T value, Bound<T> lo, Bound<T> hi) {
    if (value >= lo.value && value <= hi.value) return true;
    fail(field, "must be between " + lo.text() + " and " + hi.text(), format_number(value));
    return false;
  }

  // 0 < value <= hi.
  bool positive(std::string_view field, double value, double hi) {
    if (value > 0 && value <= hi) return true;
    fail(field, "must be > 0 and <= " + format_number(hi), format_number(value));
    return false;
  }

  bool probability(std::string_view field, double value) {
    return between<double>(field, value, {0}, {1});
  }

  // A mean length of time that must be > 0 whenever the matching interval turns the fault on.
  void duration_when_on(std::string_view field, double hours, std::string_view interval_field,
                        double interval) {
    if (!between<double>(field, hours, {0}, {kHoursMax})) return;
    if (interval > 0 && !(hours > 0)) {
      fail(field,
           "must be > 0 when " + std::string(interval_field) + " > 0 (" + format_number(interval) +
               ")",
           format_number(hours));
    }
  }

  Status finish() const {
    if (errors_.empty()) return Status{};
    std::string message;
    for (const std::string& e : errors_) {
      if (!message.empty()) message += '\n';
      message += e;
    }
    return invalid_argument(std::move(message));
  }

 private:
  std::vector<std::string> errors_;
};

// Turns protobuf's zero-based (line, column) reports into "source:line:col: message".
class LocatedErrors final : public google::protobuf::io::ErrorCollector {
 public:
  explicit LocatedErrors(std::string_view source) : source_(source) {}

  void AddError(int line, google::protobuf::io::ColumnNumber column,
                const std::string& message) override {
    if (errors_.size() >= kErrorsMax) return;
    std::string e = source_;
    if (line >= 0) e += ":" + std::to_string(line + 1) + ":" + std::to_string(column + 1);
    errors_.push_back(e + ": " + message);
  }

  Status to_status() const {
    if (errors_.empty()) return invalid_argument(source_ + ": not a valid scenario");
    std::string message;
    for (const std::string& e : errors_) {
      if (!message.empty()) message += '\n';
      message += e;
    }
    return invalid_argument(std::move(message));
  }

 private:
  std::string source_;
  std::vector<std::string> errors_;
};

bool is_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == '-';
}

// Strict UTF-8 (no overlong forms, surrogates or code points past U+10FFFF): proto3 strings
// must be UTF-8, and protobuf only complains about it later, in a log line, when serializing.
bool is_utf8(std::string_view text) {
  std::size_t i = 0;
  while (i < text.size()) {
    const auto c = static_cast<unsigned char>(text[i]);
    std::size_t len = 0;
    std::uint32_t cp = 0;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xE0) == 0xC0) {
      len = 2, cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3, cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      len = 4, cp = c & 0x07;
    } else {
      return false;
    }
    if (i + len > text.size()) return false;
    for (std::size_t j = 1; j < len; ++j) {
      const auto cc = static_cast<unsigned char>(text[i + j]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    constexpr std::uint32_t kMinForLength[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMinForLength[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += len;
  }
  return true;
}

void check_text(RuleChecker& check, const Scenario& s) {
  const std::string& name = s.name();
  bool name_ok = name.size() <= kNameBytesMax;
  for (char c : name) name_ok = name_ok && is_name_char(c);
  if (!name_ok) {
    // Echo a bounded, printable version: the name itself may be anything.
    std::string shown;
    for (char c : name.substr(0, kNameBytesMax)) shown += (c >= 0x20 && c < 0x7F) ? c : '?';
    if (name.size() > kNameBytesMax) shown += "...";
    check.fail("name", "must be at most 64 characters of [A-Za-z0-9._-]", "\"" + shown + "\"");
  }
  if (s.description().size() > kDescriptionBytesMax) {
    check.fail("description", "must be at most 4096 bytes",
               std::to_string(s.description().size()) + " bytes");
  } else if (!is_utf8(s.description())) {
    check.fail("description", "must be valid UTF-8", "other bytes");
  }
}

// `encoding_ok`: cross-field rules against encoding run only when encoding itself is valid, so
// that one mistake gives one error, not a cascade.
void check_servers(RuleChecker& check, const Scenario& s, bool encoding_ok) {
  const Scenario::Servers& v = s.servers();
  if (check.between<std::int64_t>("servers.count", v.count(), {1}, {100000}) && encoding_ok &&
      v.count() < s.encoding().happy()) {
    check.fail("servers.count",
               "must be at least encoding.happy (" + std::to_string(s.encoding().happy()) + ")",
               std::to_string(v.count()));
  }
  check.between<std::int64_t>("servers.capacity_bytes", v.capacity_bytes(), {1},
                              {std::int64_t{1} << 50});
  check.positive("servers.up_mbps", v.up_mbps(), 1e6);
  check.positive("servers.down_mbps", v.down_mbps(), 1e6);
  check.between<double>("servers.latency_ms_mean", v.latency_ms_mean(), {0}, {60000});
}

void check_churn(RuleChecker& check, const Scenario& s) {
  const Scenario::Churn& v = s.churn();
  check.between<double>("churn.server_lifetime_days_mean", v.server_lifetime_days_mean(), {0},
                        {kDurationDaysMax * 1000});
  check.between<double>("churn.outage_interval_days_mean", v.outage_interval_days_mean(), {0},
                        {kDurationDaysMax});
  check.duration_when_on("churn.outage_duration_hours_mean", v.outage_duration_hours_mean(),
                         "churn.outage_interval_days_mean", v.outage_interval_days_mean());
}

bool check_encoding(RuleChecker& check, const Scenario& s) {
  const Scenario::Encoding& v = s.encoding();
  // Checked outside-in so that one mistake gives one error, not a cascade.
  const bool shares_ok =
      check.between<std::int64_t>("encoding.total", v.total(), {1}, {256}) &&
      check.between<std::int64_t>("encoding.needed", v.needed(), {1},
                                  {v.total(), "encoding.total"}) &&
      check.between<std::int64_t>("encoding.happy", v.happy(), {v.needed(), "encoding.needed"},
                                  {v.total(), "encoding.total"});
  check.between<std::int64_t>("encoding.segment_size_bytes", v.segment_size_bytes(), {1},
                              {std::int64_t{64} << 20});
  return shares_ok;
}

void check_workload(RuleChecker& check, const Scenario& s) {
  const Scenario::Workload& v = s.workload();
  check.between<std::int64_t>("workload.files", v.files(), {0}, {10000000});
  if (check.between<std::int64_t>("workload.file_size_bytes_min", v.file_size_bytes_min(), {0},
                                  {kFileSizeBytesMax})) {
    check.between<std::int64_t>("workload.file_size_bytes_max", v.file_size_bytes_max(),
                                {v.file_size_bytes_min(), "workload.file_size_bytes_min"},
                                {kFileSizeBytesMax});
  }
  check.between<double>("workload.reads_per_day", v.reads_per_day(), {0}, {1e7});
  check.between<std::int64_t>("workload.files_per_directory", v.files_per_directory(), {0},
                              {100000});
}

void check_maintenance(RuleChecker& check, const Scenario& s, bool encoding_ok) {
  const Scenario::Maintenance& v = s.maintenance();
  const Scenario::Encoding& e = s.encoding();
  check.between<double>("maintenance.check_interval_days", v.check_interval_days(), {0},
                        {kDurationDaysMax});
  const std::int64_t below = v.repair_below_shares();
  if (encoding_ok && below != 0 && !(below > e.needed() && below <= e.total())) {
    check.fail("maintenance.repair_below_shares",
               "must be 0 (never repair) or between encoding.needed + 1 (" +
                   std::to_string(e.needed() + std::int64_t{1}) + ") and encoding.total (" +
                   std::to_string(e.total()) + ")",
               std::to_string(below));
  }
  check.between<double>("maintenance.lease_days", v.lease_days(), {0}, {kDurationDaysMax});
  check.between<double>("maintenance.renew_interval_days", v.renew_interval_days(), {0},
                        {kDurationDaysMax});
}

void check_network_faults(RuleChecker& check, const Scenario::Faults& v) {
  check.probability("faults.message_loss", v.message_loss());
  check.probability("faults.duplication", v.duplication());
  check.probability("faults.reorder", v.reorder());
  check.between<double>("faults.reorder_delay_ms_max", v.reorder_delay_ms_max(), {0}, {600000});
  check.between<double>("faults.latency_ms_jitter", v.latency_ms_jitter(), {0}, {600000});
  check.between<double>("faults.partition_interval_days_mean", v.partition_interval_days_mean(),
                        {0}, {kDurationDaysMax});
  check.duration_when_on("faults.partition_duration_hours_mean", v.partition_duration_hours_mean(),
                         "faults.partition_interval_days_mean", v.partition_interval_days_mean());
  check.probability("faults.partition_fraction", v.partition_fraction());
}

void check_node_and_disk_faults(RuleChecker& check, const Scenario::Faults& v) {
  check.between<double>("faults.crash_interval_days_mean", v.crash_interval_days_mean(), {0},
                        {kDurationDaysMax});
  check.duration_when_on("faults.crash_downtime_hours_mean", v.crash_downtime_hours_mean(),
                         "faults.crash_interval_days_mean", v.crash_interval_days_mean());
  check.between<double>("faults.clock_skew_ms_max", v.clock_skew_ms_max(), {0}, {86400000});
  check.between<double>("faults.clock_jump_interval_days_mean", v.clock_jump_interval_days_mean(),
                        {0}, {kDurationDaysMax});
  check.between<double>("faults.clock_jump_ms_max", v.clock_jump_ms_max(), {0}, {86400000});
  check.probability("faults.slow_fraction", v.slow_fraction());
  check.between<double>("faults.slow_factor", v.slow_factor(), {1}, {1000});
  check.probability("faults.crash_loss", v.crash_loss());
  check.probability("faults.crash_torn", v.crash_torn());
  check.between<double>("faults.bit_rot_per_gib_day", v.bit_rot_per_gib_day(), {0}, {1e6});
  check.probability("faults.disk_full", v.disk_full());
}

void check_toy(RuleChecker& check, const Scenario& s) {
  if (!s.has_toy()) return;
  const Scenario::Toy& v = s.toy();
  check.between<std::int64_t>("toy.nodes", v.nodes(), {2}, {100000});
  check.between<double>("toy.requests_per_node_per_day", v.requests_per_node_per_day(), {0}, {1e8});
  check.positive("toy.request_timeout_ms", v.request_timeout_ms(), 3600000);
  check.between<std::int64_t>("toy.message_size_bytes", v.message_size_bytes(), {0}, {1 << 20});
  if (v.nodes() >= 2) {
    check.between<std::int64_t>("toy.peers_per_node", v.peers_per_node(), {1}, {v.nodes() - 1});
  }
}

// Prefixes every line of a multi-line message, so that each error names its file.
Status prefix_lines(const Status& status, std::string_view prefix) {
  std::string out;
  std::string_view rest = status.message();
  while (true) {
    const std::size_t nl = rest.find('\n');
    out += prefix;
    out += ": ";
    out += rest.substr(0, nl);
    if (nl == std::string_view::npos) break;
    out += '\n';
    rest.remove_prefix(nl + 1);
  }
  return Status(status.code(), std::move(out));
}

Result<Scenario> parse_unchecked(std::string_view text, std::string_view source_name) {
  if (text.size() > kScenarioTextBytesMax) {
    return invalid_argument(std::string(source_name) + ": scenario is " +
                            std::to_string(text.size()) + " bytes, more than the limit of " +
                            std::to_string(kScenarioTextBytesMax));
  }
  LocatedErrors errors(source_name);
  google::protobuf::TextFormat::Parser parser;
  parser.RecordErrorsTo(&errors);
  parser.AllowUnknownField(false);
  parser.AllowUnknownExtension(false);
  parser.SetRecursionLimit(16);  // scenarios nest two levels deep
  Scenario scenario;
  // ParseFromString takes a std::string in protobuf 3.21.
  if (!parser.ParseFromString(std::string(text), &scenario)) return errors.to_status();
  apply_scenario_defaults(&scenario);
  return scenario;
}

}  // namespace

#define LAFS_DEFAULT(msg, field, value) \
  if (!(msg)->has_##field()) (msg)->set_##field(value)

void apply_scenario_defaults(Scenario* s) {
  LAFS_DEFAULT(s, seed, 1);
  LAFS_DEFAULT(s, duration_days, 30);

  Scenario::Servers* sv = s->mutable_servers();
  LAFS_DEFAULT(sv, count, 10);
  LAFS_DEFAULT(sv, capacity_bytes, std::int64_t{1} << 40);
  LAFS_DEFAULT(sv, up_mbps, 100);
  LAFS_DEFAULT(sv, down_mbps, 100);
  LAFS_DEFAULT(sv, latency_ms_mean, 20);

  Scenario::Churn* ch = s->mutable_churn();
  LAFS_DEFAULT(ch, server_lifetime_days_mean, 0);
  LAFS_DEFAULT(ch, replace_departed, true);
  LAFS_DEFAULT(ch, outage_interval_days_mean, 0);
  LAFS_DEFAULT(ch, outage_duration_hours_mean, 0);

  Scenario::Encoding* en = s->mutable_encoding();
  LAFS_DEFAULT(en, needed, 3);
  LAFS_DEFAULT(en, happy, 7);
  LAFS_DEFAULT(en, total, 10);
  LAFS_DEFAULT(en, segment_size_bytes, 131072);

  Scenario::Workload* wl = s->mutable_workload();
  LAFS_DEFAULT(wl, files, 100);
  LAFS_DEFAULT(wl, file_size_bytes_min, 4096);
  LAFS_DEFAULT(wl, file_size_bytes_max, 65536);
  LAFS_DEFAULT(wl, reads_per_day, 0);
  LAFS_DEFAULT(wl, files_per_directory, 1000);

  Scenario::Maintenance* mt = s->mutable_maintenance();
  LAFS_DEFAULT(mt, check_interval_days, 30);
  LAFS_DEFAULT(mt, repair_below_shares, 7);
  LAFS_DEFAULT(mt, verify, false);
  LAFS_DEFAULT(mt, lease_days, 31);
  LAFS_DEFAULT(mt, renew_interval_days, 30);

  Scenario::Faults* f = s->mutable_faults();
  LAFS_DEFAULT(f, message_loss, 0);
  LAFS_DEFAULT(f, duplication, 0);
  LAFS_DEFAULT(f, reorder, 0);
  LAFS_DEFAULT(f, reorder_delay_ms_max, 100);
  LAFS_DEFAULT(f, latency_ms_jitter, 0);
  LAFS_DEFAULT(f, partition_interval_days_mean, 0);
  LAFS_DEFAULT(f, partition_duration_hours_mean, 0);
  LAFS_DEFAULT(f, partition_fraction, 0.5);
  LAFS_DEFAULT(f, crash_interval_days_mean, 0);
  LAFS_DEFAULT(f, crash_downtime_hours_mean, 0);
  LAFS_DEFAULT(f, clock_skew_ms_max, 0);
  LAFS_DEFAULT(f, clock_jump_interval_days_mean, 0);
  LAFS_DEFAULT(f, clock_jump_ms_max, 0);
  LAFS_DEFAULT(f, slow_fraction, 0);
  LAFS_DEFAULT(f, slow_factor, 10);
  LAFS_DEFAULT(f, crash_loss, 0);
  LAFS_DEFAULT(f, crash_torn, 0);
  LAFS_DEFAULT(f, bit_rot_per_gib_day, 0);
  LAFS_DEFAULT(f, disk_full, 0);

  if (s->has_toy()) {
    Scenario::Toy* toy = s->mutable_toy();
    LAFS_DEFAULT(toy, nodes, 200);
    LAFS_DEFAULT(toy, requests_per_node_per_day, 1440);
    LAFS_DEFAULT(toy, request_timeout_ms, 1000);
    LAFS_DEFAULT(toy, message_size_bytes, 64);
    LAFS_DEFAULT(toy, peers_per_node, std::min(10, std::max(1, toy->nodes() - 1)));
  }
}

#undef LAFS_DEFAULT

Status validate_scenario(const Scenario& s) {
  RuleChecker check;
  check_text(check, s);
  check.positive("duration_days", s.duration_days(), kDurationDaysMax);
  const bool encoding_ok = check_encoding(check, s);
  check_servers(check, s, encoding_ok);
  check_churn(check, s);
  check_workload(check, s);
  check_maintenance(check, s, encoding_ok);
  check_network_faults(check, s.faults());
  check_node_and_disk_faults(check, s.faults());
  check_toy(check, s);
  return check.finish();
}

Result<Scenario> parse_scenario(std::string_view text, std::string_view source_name) {
  // protobuf reports errors through the collector; this catch only keeps an allocation failure
  // (or a future protobuf that throws) from crossing the module boundary.
  try {
    return parse_unchecked(text, source_name);
  } catch (const std::exception& e) {
    return internal_error(std::string(source_name) + ": parser failed: " + e.what());
  }
}

Result<Scenario> load_scenario(std::string_view text, std::string_view source_name) {
  Result<Scenario> parsed = parse_scenario(text, source_name);
  if (!parsed.ok()) return parsed;
  Status valid = validate_scenario(*parsed);
  if (!valid.is_ok()) return prefix_lines(valid, source_name);
  return parsed;
}

Result<Scenario> load_scenario_file(const std::string& path) {
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(path.c_str(), "rb"),
                                                       &std::fclose);
  if (!file) {
    const int err = errno;
    std::string message = path + ": cannot open: " + std::strerror(err);
    if (err == ENOENT) return not_found(std::move(message));
    return io_error(std::move(message));
  }
  // Read at most one byte past the limit: enough to tell a too-large file from a full one.
  std::string text;
  char buf[16384];
  while (text.size() <= kScenarioTextBytesMax) {
    const std::size_t n = std::fread(buf, 1, sizeof buf, file.get());
    text.append(buf, n);
    if (n < sizeof buf) break;
  }
  if (std::ferror(file.get())) {
    return io_error(path + ": cannot read: " + std::strerror(errno));
  }
  return load_scenario(text, path);
}

std::string scenario_to_text(const Scenario& scenario) {
  std::string out;
  google::protobuf::TextFormat::Printer printer;
  const bool printed = printer.PrintToString(scenario, &out);
  LAFS_ASSERT(printed);
  return out;
}

}  // namespace lafs::sim
