#include "sim/scenarios/swarm.h"

#include <algorithm>
#include <cmath>

#include "net/sim/sim_random.h"
#include "sim/scenarios/grid_runner.h"
#include "sim/scenarios/scenario_loader.h"
#include "sim/scenarios/sweep.h"

namespace lafs::sim {
namespace {

// The swarm's draws come from a stream of their own, labelled so that it never coincides with the
// simulator's stream for the same seed.
constexpr std::uint64_t kSwarmStreamLabel = 0x5357'4152'4d00'0001ull;  // "SWARM"

double between(SimRandom& r, double lo, double hi) {
  return lo + (hi - lo) * r.next_double();
}

std::uint64_t metric_u64(const RunReport& r, const char* name) {
  const MetricValue* v = r.find(name);
  return v != nullptr && std::holds_alternative<std::uint64_t>(*v) ? std::get<std::uint64_t>(*v)
                                                                   : 0;
}

}  // namespace

Scenario swarm_scenario(std::uint64_t seed) {
  SimRandom r(seed ^ kSwarmStreamLabel);
  Scenario s;
  s.set_name("swarm");
  s.set_description("a swarm seed: a small grid under a fault mix drawn from the seed");
  s.set_seed(seed);
  s.set_duration_days(std::floor(between(r, 8, 25)));

  auto* sv = s.mutable_servers();
  sv->set_count(static_cast<int>(8 + r.uniform(8)));
  sv->set_capacity_bytes(10'000'000'000);
  sv->set_latency_ms_mean(between(r, 1, 40));
  sv->set_up_mbps(100);
  sv->set_down_mbps(100);

  // Servers crash and come back, never depart: their shares survive, so every file must be
  // healthy after the liveness phase.
  auto* c = s.mutable_churn();
  c->set_server_lifetime_days_mean(0);
  c->set_replace_departed(false);
  c->set_outage_interval_days_mean(0);
  c->set_outage_duration_hours_mean(0);

  // k of n with n - k >= 2 (rot may spoil a share between checks), happy in k..n.
  auto* e = s.mutable_encoding();
  const int k = static_cast<int>(1 + r.uniform(3));
  const int n = std::min(k + 2 + static_cast<int>(r.uniform(4)), sv->count() - 1);
  e->set_needed(k);
  e->set_total(n);
  e->set_happy(k + static_cast<int>(r.uniform(static_cast<std::uint64_t>(n - k + 1))));
  e->set_segment_size_bytes(r.chance(0.5) ? 65536 : 131072);

  auto* w = s.mutable_workload();
  w->set_files(static_cast<int>(10 + r.uniform(30)));
  w->set_file_size_bytes_min(r.chance(0.3) ? 0 : 1000);
  w->set_file_size_bytes_max(r.chance(0.5) ? 20000 : 300000);  // multi-segment files sometimes
  w->set_reads_per_day(between(r, 5, 60));
  w->set_files_per_directory(r.chance(0.5) ? 0 : static_cast<int>(5 + r.uniform(20)));

  auto* m = s.mutable_maintenance();
  m->set_check_interval_days(std::floor(between(r, 2, 6)));
  m->set_repair_below_shares(n);  // repair anything missing a share
  m->set_verify(r.chance(0.5));
  if (r.chance(0.5)) {
    m->set_lease_days(0);
    m->set_renew_interval_days(0);
  } else {
    m->set_lease_days(31);
    m->set_renew_interval_days(std::floor(between(r, 3, 10)));
  }

  auto* f = s.mutable_faults();
  if (r.chance(0.5)) f->set_message_loss(between(r, 0, 0.01));
  if (r.chance(0.3)) f->set_duplication(between(r, 0, 0.01));
  if (r.chance(0.3)) {
    f->set_reorder(between(r, 0, 0.05));
    f->set_reorder_delay_ms_max(between(r, 1, 200));
  }
  if (r.chance(0.5)) {
    f->set_partition_interval_days_mean(between(r, 1, 6));
    f->set_partition_duration_hours_mean(between(r, 0.5, 12));
    f->set_partition_fraction(between(r, 0.1, 0.6));
  }
  if (r.chance(0.6)) {
    f->set_crash_interval_days_mean(between(r, 1, 10));
    f->set_crash_downtime_hours_mean(between(r, 0.1, 24));
    f->set_crash_loss(between(r, 0, 0.5));
    f->set_crash_torn(between(r, 0, 0.5));
  }
  if (r.chance(0.4)) f->set_bit_rot_per_gib_day(between(r, 0, 20));
  apply_scenario_defaults(&s);
  return s;
}

std::string swarm_replay_command(std::uint64_t seed) {
  return "lafs-sim swarm --seed " + std::to_string(seed);
}

Result<SwarmOutcome> run_swarm_seed(std::uint64_t seed) {
  Scenario s = swarm_scenario(seed);
  LAFS_RETURN_IF_ERROR(validate_scenario(s));
  GridRunOptions o;
  o.liveness = true;
  auto first = run_grid_scenario(s, seed, o);
  if (!first.ok()) return first.status();
  auto second = run_grid_scenario(s, seed, o);
  if (!second.ok()) return second.status();
  SwarmOutcome out;
  out.report = *first;
  const RunReport& a = *first;
  RunReport b = *second;
  b.wall_seconds = a.wall_seconds;
  if (report_to_json(a) != report_to_json(b)) {
    out.failures.push_back("determinism: two runs of the seed differ (trace digests " +
                           a.trace_digest + " and " + b.trace_digest + ")");
  }
  // The invariants every run has (wrong reads), then the swarm's own.
  for (std::string& f : invariant_failures(a)) out.failures.push_back(std::move(f));
  if (const std::uint64_t stuck = metric_u64(a, "liveness_unhealthy"); stuck > 0) {
    out.failures.push_back("liveness: " + std::to_string(stuck) + " of " +
                           std::to_string(metric_u64(a, "files_total")) +
                           " files not healthy after the faults stopped");
  }
  if (const std::uint64_t lost = metric_u64(a, "files_lost"); lost > 0) {
    out.failures.push_back("durability: " + std::to_string(lost) +
                           " acknowledged files lost though no server departed");
  }
  return out;
}

}  // namespace lafs::sim
