#include "sim/scenarios/toy_runner.h"

#include <algorithm>
#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "core/toy/counter_service.h"
#include "net/sim/simulation.h"

namespace lafs::sim {

namespace {

constexpr std::uint32_t kToyPort = 1;
constexpr double kNsPerDay = 86'400e9;
constexpr double kNsPerHour = 3'600e9;
constexpr double kNsPerMs = 1e6;

Duration from_ns(double ns) {
  return Duration(static_cast<std::int64_t>(ns));
}

Duration exponential(SimRandom& rng, double mean_ns) {
  return from_ns(-std::log(1.0 - rng.next_double()) * mean_ns);
}

// Everything a run keeps outside the nodes, so it survives their crashes.
struct ToyWorld {
  std::vector<net::NodeKey> keys;
  std::vector<toy::CounterServerStats> servers;
  std::vector<toy::CounterClientStats> clients;
  std::uint64_t partitions = 0;
  std::uint64_t clock_jumps = 0;
};

Task<void> toy_node_main(SimNode* node, net::NodeKey key, std::vector<rpc::Peer> peers,
                         toy::CounterClientOptions options, toy::CounterServerStats* server,
                         toy::CounterClientStats* client) {
  node->scope().spawn(
      toy::run_counter_server(node, node->address(kToyPort), key, {}, server, nullptr));
  co_await toy::run_counter_client(node, key, std::move(peers), options, client);
}

// `count` distinct random peers of node `self`.
std::vector<rpc::Peer> choose_peers(Simulation& sim, const ToyWorld& w, std::size_t self,
                                    int count) {
  const std::size_t n = sim.node_count();
  std::vector<std::size_t> others;
  for (std::size_t j = 0; j < n; ++j) {
    if (j != self) others.push_back(j);
  }
  std::vector<rpc::Peer> peers;
  for (int k = 0; k < count && !others.empty(); ++k) {
    const std::size_t pick = sim.random().uniform(others.size());
    const std::size_t j = others[pick];
    others[pick] = others.back();
    others.pop_back();
    peers.push_back(rpc::Peer{sim.node(j).address(kToyPort), w.keys[j].public_key()});
  }
  return peers;
}

// Fault schedules: plain loop callbacks that re-arm themselves, all drawing from the
// simulation's workload stream so they are part of the seed's determinism.
class FaultDriver {
 public:
  FaultDriver(Simulation& sim, const Scenario& s, ToyWorld& world)
      : sim_(sim), f_(s.faults()), world_(world) {}

  void start() {
    for (std::size_t i = 0; i < sim_.node_count(); ++i) {
      if (f_.crash_interval_days_mean() > 0) schedule_crash(i);
      if (f_.clock_jump_interval_days_mean() > 0) schedule_jump(i);
    }
    if (f_.partition_interval_days_mean() > 0) schedule_partition();
  }

 private:
  void at(Duration delay, std::function<void()> fn) {
    sim_.loop().schedule_at(sim_.loop().now() + delay, std::move(fn));
  }
  void schedule_crash(std::size_t i) {
    at(exponential(sim_.random(), f_.crash_interval_days_mean() * kNsPerDay), [this, i] {
      // Half the crashes are process kills (peers see resets), half power losses (silence).
      sim_.node(i).crash(/*reset_peers=*/sim_.random().chance(0.5));
      at(exponential(sim_.random(), f_.crash_downtime_hours_mean() * kNsPerHour), [this, i] {
        sim_.node(i).start();
        schedule_crash(i);
      });
    });
  }
  void schedule_jump(std::size_t i) {
    at(exponential(sim_.random(), f_.clock_jump_interval_days_mean() * kNsPerDay), [this, i] {
      const double max_ns = f_.clock_jump_ms_max() * kNsPerMs;
      sim_.node(i).sim_clock().jump(from_ns((sim_.random().next_double() * 2 - 1) * max_ns));
      ++world_.clock_jumps;
      schedule_jump(i);
    });
  }
  void schedule_partition() {
    at(exponential(sim_.random(), f_.partition_interval_days_mean() * kNsPerDay), [this] {
      std::vector<HostId> cut, rest;
      for (std::size_t i = 0; i < sim_.node_count(); ++i) {
        (sim_.random().chance(f_.partition_fraction()) ? cut : rest).push_back(sim_.node(i).host());
      }
      for (HostId a : cut) {
        for (HostId b : rest) sim_.network().partition(a, b);
      }
      ++world_.partitions;
      at(exponential(sim_.random(), f_.partition_duration_hours_mean() * kNsPerHour), [this] {
        sim_.network().heal_all();
        schedule_partition();
      });
    });
  }

  Simulation& sim_;
  const Scenario::Faults& f_;
  ToyWorld& world_;
};

void fill_report(const Scenario& s, Simulation& sim, const ToyWorld& w, RunReport* r) {
  std::uint64_t attempted = 0, succeeded = 0, timed_out = 0, failed = 0, violations = 0;
  std::uint64_t increments = 0, crashes = 0;
  std::string first_violation;
  for (const auto& c : w.clients) {
    attempted += c.attempted;
    succeeded += c.succeeded;
    timed_out += c.timed_out;
    failed += c.failed;
    violations += c.violations;
    if (first_violation.empty() && !c.violation_messages.empty()) {
      first_violation = c.violation_messages.front();
    }
  }
  for (const auto& sv : w.servers) increments += sv.increments;
  for (std::size_t i = 0; i < sim.node_count(); ++i) crashes += sim.node(i).crashes();
  const auto& net = sim.network().stats();
  r->set("toy_nodes", static_cast<std::uint64_t>(sim.node_count()));
  r->set("toy_requests_attempted", attempted);
  r->set("toy_requests_succeeded", succeeded);
  r->set("toy_requests_timed_out", timed_out);
  r->set("toy_requests_failed", failed);
  r->set("toy_server_increments", increments);
  r->set("toy_violations", violations);
  if (!first_violation.empty()) r->set("toy_first_violation", first_violation);
  r->set("node_crashes", crashes);
  r->set("partitions", w.partitions);
  r->set("clock_jumps", w.clock_jumps);
  r->set("net_frames_sent", net.frames_sent);
  r->set("net_frames_delivered", net.frames_delivered);
  r->set("net_frames_dropped", net.frames_dropped);
  r->set("net_frames_duplicated", net.frames_duplicated);
  r->set("net_bytes_delivered", net.bytes_delivered);
  r->set("net_connects", net.connects);
  r->set("net_connects_refused", net.connects_refused);
  r->set("net_resets", net.resets);
  (void)s;
}

}  // namespace

SimulationOptions simulation_options(const Scenario& s, std::uint64_t seed, bool verbose) {
  const auto& f = s.faults();
  SimulationOptions o;
  o.seed = seed;
  o.verbose = verbose;
  o.network.latency_mean = from_ns(s.servers().latency_ms_mean() * kNsPerMs);
  o.network.latency_jitter_max = from_ns(f.latency_ms_jitter() * kNsPerMs);
  o.network.up_bytes_per_sec = s.servers().up_mbps() * 1e6 / 8;
  o.network.down_bytes_per_sec = s.servers().down_mbps() * 1e6 / 8;
  o.network.frame_loss = f.message_loss();
  o.network.frame_duplicate = f.duplication();
  o.network.frame_reorder = f.reorder();
  o.network.reorder_delay_max = from_ns(f.reorder_delay_ms_max() * kNsPerMs);
  // Each unsynced write is lost with crash_loss; a lost write is torn with crash_torn.
  o.disk.crash_keep_weight = 1 - f.crash_loss();
  o.disk.crash_drop_weight = f.crash_loss() * (1 - f.crash_torn());
  o.disk.crash_tear_weight = f.crash_loss() * f.crash_torn();
  o.kv.crash_keep_weight = o.disk.crash_keep_weight;
  o.kv.crash_drop_weight = o.disk.crash_drop_weight;
  o.kv.crash_tear_weight = o.disk.crash_tear_weight;
  return o;
}

Result<RunReport> run_toy_scenario(const Scenario& s, std::uint64_t seed,
                                   const ToyRunOptions& options) {
  if (!s.has_toy()) {
    return unimplemented(
        "this scenario has no `toy` block; the grid workload (servers, workload, maintenance) "
        "is not built yet — it comes with the immutable-files and lafs-sim issues");
  }
  const auto& t = s.toy();
  const std::size_t n = static_cast<std::size_t>(t.nodes());
  Simulation sim(simulation_options(s, seed, options.verbose));
  ToyWorld world;
  world.servers.resize(n);
  world.clients.resize(n);
  for (std::size_t i = 0; i < n; ++i) {
    sim.add_node("n" + std::to_string(i));
    world.keys.push_back(net::NodeKey::generate(sim.random()));
  }
  toy::CounterClientOptions copts;
  copts.mean_interval =
      from_ns(t.requests_per_node_per_day() > 0 ? kNsPerDay / t.requests_per_node_per_day() : 1e30);
  copts.timeout = from_ns(t.request_timeout_ms() * kNsPerMs);
  copts.payload_bytes = static_cast<std::size_t>(t.message_size_bytes());
  // Long-lived connections to every peer, as a grid client keeps to its servers.
  copts.pool.connections_max = static_cast<std::size_t>(t.peers_per_node());
  copts.pool.idle_timeout = hours(24 * 365);
  const double skew_ns = s.faults().clock_skew_ms_max() * kNsPerMs;
  for (std::size_t i = 0; i < n; ++i) {
    std::vector<rpc::Peer> peers = choose_peers(sim, world, i, t.peers_per_node());
    SimNode& node = sim.node(i);
    node.sim_clock().set_offset(from_ns((sim.random().next_double() * 2 - 1) * skew_ns));
    node.set_main([key = world.keys[i], peers = std::move(peers), copts, srv = &world.servers[i],
                   cli = &world.clients[i]](SimNode& self) {
      return toy_node_main(&self, key, peers, copts, srv, cli);
    });
    node.start();
  }
  FaultDriver faults(sim, s, world);
  faults.start();

  const MonoTime end = MonoTime(from_ns(s.duration_days() * kNsPerDay));
  const Duration slice = hours(1);
  for (MonoTime t_next = MonoTime() + slice;; t_next += slice) {
    sim.loop().run_until(std::min(t_next, end));
    if (options.progress) {
      options.progress(static_cast<double>(sim.loop().now().time_since_epoch().count()) /
                           static_cast<double>(end.time_since_epoch().count()),
                       sim.loop().events_run());
    }
    if (t_next >= end) break;
  }
  RunReport r;
  r.scenario = s.name();
  r.seed = seed;
  r.events = sim.loop().events_run();
  r.simulated_days = static_cast<double>(sim.loop().now().time_since_epoch().count()) / kNsPerDay;
  fill_report(s, sim, world, &r);
  r.trace_digest = sim.trace_digest();
  return r;
}

}  // namespace lafs::sim
