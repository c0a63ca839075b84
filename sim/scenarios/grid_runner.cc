#include "sim/scenarios/grid_runner.h"

#include <algorithm>
#include <cmath>
#include <deque>
#include <map>
#include <memory>

#include "core/client/checker.h"
#include "core/client/deep_check.h"
#include "core/client/directory.h"
#include "core/client/immutable_client.h"
#include "core/client/mutable_client.h"
#include "core/storage/storage_service.h"
#include "net/sim/sim_run.h"
#include "net/sim/simulation.h"
#include "sim/scenarios/toy_runner.h"

namespace lafs::sim {

namespace {

constexpr double kNsPerDay = 86'400e9;
constexpr double kNsPerHour = 3'600e9;
constexpr std::uint32_t kStoragePort = 1;
// The server-load series is sampled this often (the check series at every maintenance check).
constexpr Duration kServerSampleInterval = hours(24 * 7);
// Verify-and-repair rounds the liveness phase runs at most before it calls a file stuck.
constexpr int kLivenessRounds = 4;
// The servers' garbage collector walks its leases every lease_days / 8 here, between a day and a
// week (the real default is hourly): capacity planning works in days, and hourly crawls of
// hundreds of servers would dominate. A lapsed share then goes at most an eighth of a lease late.
constexpr double kGcCyclesPerLease = 8;
constexpr Duration kGcCycleMin = hours(24);
constexpr Duration kGcCycleMax = hours(24 * 7);

Duration from_ns(double ns) {
  return Duration(static_cast<std::int64_t>(std::llround(ns)));
}

Duration exponential(SimRandom& rng, double mean_ns) {
  return from_ns(-std::log(1.0 - rng.next_double()) * mean_ns);
}

// A file's contents, made again from its number whenever a read checks them.
// Eight bytes per xorshift step (little-endian), so making and checking a year of reads is cheap.
Bytes contents_of(std::uint64_t file, std::size_t size) {
  Bytes b(size);
  std::uint64_t x = file * 0x9E3779B97F4A7C15ull + 1;
  auto step = [&x] {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
  };
  std::size_t i = 0;
  for (; i + 8 <= size; i += 8) {  // whole words: no bounds test per byte (one store each)
    step();
    for (std::size_t j = 0; j < 8; ++j) b[i + j] = static_cast<std::uint8_t>(x >> (8 * j));
  }
  if (i < size) {
    step();
    for (std::size_t j = 0; i + j < size; ++j) b[i + j] = static_cast<std::uint8_t>(x >> (8 * j));
  }
  return b;
}

struct ServerSlot {
  SimNode* node = nullptr;
  client::ServerRef ref;
  std::unique_ptr<storage::StorageServer> server;  // set while the node runs
  bool departed = false;
};

Task<void> storage_main(SimNode* node, net::NodeKey key, storage::StorageOptions options,
                        ServerSlot* slot) {
  auto s = co_await storage::StorageServer::open(node, options);
  if (!s.ok()) co_return;
  slot->server = std::move(*s);
  struct Clear {
    ServerSlot* slot;
    ~Clear() { slot->server.reset(); }
  } clear{slot};
  node->scope().spawn(slot->server->run_maintenance());
  rpc::RpcServer rpc(node);
  storage::register_storage_methods(rpc, slot->server.get());
  auto l = node->network().listen(node->address(kStoragePort));
  if (!l.ok()) co_return;
  co_await rpc::run_rpc_listener(node, l->get(), &key, &rpc, {});
}

struct FileRecord {
  cap::Cap cap;
  std::size_t size = 0;
};

struct Counters {
  std::uint64_t upload_failures = 0;
  std::uint64_t reads_attempted = 0, reads_succeeded = 0, read_mismatches = 0;
  std::uint64_t maintenance_cycles = 0, renewal_cycles = 0;
  std::uint64_t repairs = 0, repairs_attempted = 0, repair_bytes = 0, leases_renewed = 0;
  std::uint64_t unhealthy_seen = 0, maintenance_errors = 0;
  std::uint64_t servers_departed = 0, servers_added = 0, outages = 0;
  std::uint64_t crashes = 0, partitions = 0, bits_rotted = 0;
  std::uint64_t liveness_rounds = 0, liveness_unhealthy = 0;
};

class GridRun {
 public:
  GridRun(const Scenario& s, std::uint64_t seed, const GridRunOptions& options)
      : s_(s), sim_(options_for(s, seed, options.verbose)) {}

  Result<RunReport> run(const GridRunOptions& options) {
    const auto& sv = s_.servers();
    for (int i = 0; i < sv.count(); ++i) add_server();
    client_node_ = &sim_.add_node("client");
    client_node_->start();
    client_key_.emplace(net::NodeKey::generate(sim_.random()));
    // One client talking to the whole grid keeps its connections, as a real client with a
    // steady load does: each new connection costs a handshake (two Ed25519 signatures and an
    // X25519 exchange), which dominated the runner's time when connections were reaped hourly.
    rpc::RpcPoolOptions po;
    po.connections_max = static_cast<std::size_t>(sv.count()) * 2 + 16;
    po.idle_timeout = hours(24 * 7);
    pool_ = std::make_unique<rpc::RpcPool>(client_node_, &*client_key_, po);
    client_node_->random().fill(secrets_.convergence.mutable_view());
    client_node_->random().fill(secrets_.lease.mutable_view());
    const auto& e = s_.encoding();
    params_ = client::EncodingParams{
        static_cast<std::uint32_t>(e.needed()), static_cast<std::uint32_t>(e.happy()),
        static_cast<std::uint32_t>(e.total()), static_cast<std::uint64_t>(e.segment_size_bytes())};
    // Like the connection pool, the ring cache is sized for a client that keeps coming back
    // to all its files (monthly checks, reads): their rings are hashed once, not every time.
    client::ImmutableClientOptions io;
    io.ring_cache_files = std::max<std::size_t>(
        io.ring_cache_files, 2 * static_cast<std::size_t>(s_.workload().files()));
    immutable_ =
        std::make_unique<client::ImmutableClient>(client_node_, pool_.get(), &secrets_, io);
    mutable_ = std::make_unique<client::MutableClient>(client_node_, pool_.get(), &secrets_);
    client::DirectoryOptions d;
    d.mutable_params = {params_.needed, params_.total, client::kDirPageBytes, 0};
    d.immutable_params = params_;
    d.happy = params_.happy;
    dirs_ = std::make_unique<client::DirectoryClient>(client_node_, mutable_.get(),
                                                      immutable_.get(), d);
    checker_ = std::make_unique<client::Checker>(client_node_, pool_.get(), &secrets_,
                                                 immutable_.get(), mutable_.get());
    deep_ = std::make_unique<client::DeepChecker>(checker_.get(), dirs_.get());
    sim_.loop().run_until(sim_.loop().now() + seconds(1));

    // Day 0: the workload's files, in a tree of directories.
    upload_workload();
    start_churn();
    start_faults();
    client_node_->scope().spawn(maintain());
    checks_.name = "checks";
    checks_.columns = {"day",       "objects_checked", "unrecoverable",
                       "unhealthy", "repairs",         "repair_bytes"};
    for (std::uint32_t i = 0; i <= params_.total; ++i) {
      checks_.columns.push_back("shares_" + std::to_string(i));
    }
    servers_series_.name = "servers";
    servers_series_.columns = {"day",       "servers_live", "servers_up", "bytes_mean",
                               "bytes_min", "bytes_max",    "load_cv"};
    sample_servers();
    schedule_server_samples();
    if (s_.workload().reads_per_day() > 0) client_node_->scope().spawn(read_loop());

    const MonoTime end = MonoTime(from_ns(s_.duration_days() * kNsPerDay));
    for (MonoTime next = sim_.loop().now() + hours(24);; next += hours(24)) {
      sim_.loop().run_until(std::min(next, end));
      if (options.progress) {
        options.progress(static_cast<double>(sim_.loop().now().time_since_epoch().count()) /
                             static_cast<double>(end.time_since_epoch().count()),
                         sim_.loop().events_run());
      }
      if (next >= end) break;
    }
    if (options.liveness) liveness();
    return report(options);
  }

  ~GridRun() {
    // The client's loops go first (they use everything below), then the client objects.
    if (client_node_ != nullptr && client_node_->up()) client_node_->crash(true);
    deep_.reset();
    checker_.reset();
    dirs_.reset();
    mutable_.reset();
    immutable_.reset();
    pool_.reset();
  }

 private:
  static SimulationOptions options_for(const Scenario& s, std::uint64_t seed, bool verbose) {
    SimulationOptions o = simulation_options(s, seed, verbose);
    o.disk.capacity_bytes = static_cast<std::uint64_t>(s.servers().capacity_bytes());
    return o;
  }

  std::vector<client::ServerRef> live() const {
    std::vector<client::ServerRef> out;
    for (const ServerSlot& s : servers_) {
      if (!s.departed) out.push_back(s.ref);
    }
    return out;
  }

  void add_server() {
    const std::size_t i = servers_.size();
    servers_.emplace_back();
    ServerSlot& slot = servers_.back();
    slot.node = &sim_.add_node("s" + std::to_string(i));
    const net::NodeKey key = net::NodeKey::generate(sim_.random());
    slot.ref = client::ServerRef{key.public_key(), slot.node->address(kStoragePort)};
    storage::StorageOptions so;
    if (s_.maintenance().lease_days() > 0) {
      so.lease_duration = from_ns(s_.maintenance().lease_days() * kNsPerDay);
      so.gc.cycle_interval =
          std::clamp(from_ns(s_.maintenance().lease_days() * kNsPerDay / kGcCyclesPerLease),
                     kGcCycleMin, kGcCycleMax);
    } else {
      so.gc.mode = storage::GcOptions::Mode::kOff;  // leases never expire: nothing collected
    }
    so.reserved_bytes = 0;
    slot.node->set_main(
        [key, so, p = &slot](SimNode& self) { return storage_main(&self, key, so, p); });
    slot.node->start();
  }

  double day() {
    return static_cast<double>(sim_.loop().now().time_since_epoch().count()) / kNsPerDay;
  }

  // Bytes stored per live server that is up (read from the simulated disks: an observer, not a
  // client, so the run is not perturbed).
  struct Load {
    std::vector<double> bytes;
    double mean = 0, min = 0, max = 0, cv = 0;
  };
  Load load() {
    std::vector<double> bytes;
    for (const ServerSlot& s : servers_) {
      if (s.departed || !s.node->up()) continue;
      bytes.push_back(static_cast<double>(s.node->sim_disk().used_bytes()));
    }
    return summarize(std::move(bytes));
  }
  static Load summarize(std::vector<double> bytes) {
    Load l;
    l.bytes = std::move(bytes);
    if (l.bytes.empty()) return l;
    l.min = *std::min_element(l.bytes.begin(), l.bytes.end());
    l.max = *std::max_element(l.bytes.begin(), l.bytes.end());
    for (double v : l.bytes) l.mean += v;
    l.mean /= static_cast<double>(l.bytes.size());
    double var = 0;
    for (double v : l.bytes) var += (v - l.mean) * (v - l.mean);
    var /= static_cast<double>(l.bytes.size());
    l.cv = l.mean > 0 ? std::sqrt(var) / l.mean : 0;
    return l;
  }
  void sample_servers() {
    std::size_t alive = 0;
    for (const ServerSlot& s : servers_) alive += s.departed ? 0 : 1;
    const Load l = load();
    servers_series_.rows.push_back({day(), static_cast<double>(alive),
                                    static_cast<double>(l.bytes.size()), l.mean, l.min, l.max,
                                    l.cv});
  }
  void schedule_server_samples() {
    at(kServerSampleInterval, [this] {
      sample_servers();
      schedule_server_samples();
    });
  }

  void at(Duration delay, std::function<void()> fn) {
    sim_.loop().schedule_at(sim_.loop().now() + delay, std::move(fn));
  }
  void start_churn() {
    for (std::size_t i = 0; i < servers_.size(); ++i) schedule_server(i);
  }
  void schedule_server(std::size_t i) {
    const auto& c = s_.churn();
    if (c.server_lifetime_days_mean() > 0) {
      at(exponential(sim_.random(), c.server_lifetime_days_mean() * kNsPerDay), [this, i] {
        ServerSlot& slot = servers_[i];
        if (slot.departed || quiet_) return;
        // Gone for good, with its shares.
        slot.departed = true;
        slot.node->crash(true);
        ++counters_.servers_departed;
        if (s_.churn().replace_departed()) {
          add_server();
          ++counters_.servers_added;
          schedule_server(servers_.size() - 1);
        }
      });
    }
    if (c.outage_interval_days_mean() > 0) {
      schedule_downtime(i, c.outage_interval_days_mean(), c.outage_duration_hours_mean(),
                        &counters_.outages);
    }
    const auto& f = s_.faults();
    if (f.crash_interval_days_mean() > 0) {
      schedule_downtime(i, f.crash_interval_days_mean(), f.crash_downtime_hours_mean(),
                        &counters_.crashes);
    }
  }

  // The scenario's `faults` that the grid applies beyond the network's (loss, duplication,
  // reordering: simulation_options) and the disks' crash losses: crashes of servers
  // (schedule_downtime), partitions cutting a fraction of the servers off from the client, and
  // bit rot in share files. All stop when the run turns quiet (the liveness phase).
  void schedule_partition() {
    const auto& f = s_.faults();
    at(exponential(sim_.random(), f.partition_interval_days_mean() * kNsPerDay), [this] {
      if (quiet_) return;
      for (const ServerSlot& slot : servers_) {
        if (!slot.departed && sim_.random().chance(s_.faults().partition_fraction())) {
          sim_.network().partition(client_node_->host(), slot.node->host());
        }
      }
      ++counters_.partitions;
      at(exponential(sim_.random(), s_.faults().partition_duration_hours_mean() * kNsPerHour),
         [this] {
           sim_.network().heal_all();
           if (!quiet_) schedule_partition();
         });
    });
  }
  void schedule_rot() {
    // Flips per day: the rate per GiB-day times the GiB stored now (at least a byte's worth, so
    // the schedule never divides by zero; an empty grid waits long).
    const Load l = load();
    const double gib = std::max(1.0, l.mean * static_cast<double>(l.bytes.size())) /
                       static_cast<double>(1ull << 30);
    const double per_day = s_.faults().bit_rot_per_gib_day() * gib;
    at(exponential(sim_.random(), kNsPerDay / per_day), [this] {
      if (quiet_) return;
      std::vector<std::size_t> up;
      for (std::size_t i = 0; i < servers_.size(); ++i) {
        if (!servers_[i].departed && servers_[i].node->up()) up.push_back(i);
      }
      if (!up.empty()) {
        ServerSlot& slot = servers_[up[sim_.random().uniform(up.size())]];
        if (slot.node->sim_disk().rot_random_bit("storage/shares/").ok()) ++counters_.bits_rotted;
      }
      schedule_rot();
    });
  }
  void start_faults() {
    const auto& f = s_.faults();
    if (f.partition_interval_days_mean() > 0) schedule_partition();
    if (f.bit_rot_per_gib_day() > 0) schedule_rot();
  }

  // Liveness: faults, churn and outages off, every server up, the network whole; then rounds of
  // verify-and-repair over every file until all are healthy (at most kLivenessRounds).
  void liveness() {
    quiet_ = true;
    sim_.network().heal_all();
    SimNetworkOptions& net = sim_.network().options();
    net.frame_loss = net.frame_duplicate = net.frame_reorder = net.connection_reset = 0;
    net.latency_jitter_max = Duration{0};
    for (ServerSlot& slot : servers_) {
      if (!slot.departed && !slot.node->up()) slot.node->start();
    }
    sim_.loop().run_until(sim_.loop().now() + minutes(1));
    std::vector<cap::Cap> caps;
    for (const FileRecord& f : files_) caps.push_back(f.cap);
    for (int round = 0; round < kLivenessRounds; ++round) {
      ++counters_.liveness_rounds;
      client::DeepCheckOptions o;
      o.check.verify = true;
      o.check.add_lease = true;
      o.repair = true;
      o.repair_options.repair_below_shares = 0;  // anything unhealthy
      std::uint64_t unhealthy = 0;
      client::DeepCheckSink sink = [&](const client::DeepCheckObject& obj) -> Task<Status> {
        // Healthy when checked so, or repaired to health (RepairResult::successful).
        const bool healthy =
            obj.check && (obj.check->healthy || (obj.repair && obj.repair->successful));
        if (!healthy) ++unhealthy;
        co_return Status{};
      };
      auto sum =
          run_task(sim_.loop(), deep_->run_list(caps, live(), params_.happy, o, std::move(sink)));
      counters_.liveness_unhealthy = sum.ok() ? unhealthy : caps.size();
      if (sum.ok() && unhealthy == 0) break;
    }
  }
  // A server going down now and then and coming back with its disk: the churn's outages and the
  // faults' crashes, each its own schedule. `count` counts the times it went down.
  void schedule_downtime(std::size_t i, double interval_days, double downtime_hours,
                         std::uint64_t* count) {
    at(exponential(sim_.random(), interval_days * kNsPerDay),
       [this, i, interval_days, downtime_hours, count] {
         ServerSlot& slot = servers_[i];
         if (slot.departed || quiet_) return;
         if (slot.node->up()) {
           slot.node->crash(sim_.random().chance(0.5));
           ++*count;
         }
         at(exponential(sim_.random(), downtime_hours * kNsPerHour),
            [this, i, interval_days, downtime_hours, count] {
              ServerSlot& slot = servers_[i];
              if (slot.departed || quiet_) return;
              if (!slot.node->up()) slot.node->start();
              schedule_downtime(i, interval_days, downtime_hours, count);
            });
       });
  }

  void upload_workload() {
    const auto& w = s_.workload();
    const auto per_dir = static_cast<std::size_t>(w.files_per_directory());
    std::vector<std::pair<std::string, cap::Cap>> dirs;
    std::vector<std::pair<std::string, cap::Cap>> children;
    auto close_directory = [&] {
      if (children.empty()) return;
      auto made = run_task(sim_.loop(), dirs_->create(live(), std::move(children)));
      children.clear();
      if (made.ok()) {
        dirs.push_back({"d" + std::to_string(dirs.size()), *made});
      } else {
        ++counters_.upload_failures;
      }
    };
    for (std::int64_t f = 0; f < w.files(); ++f) {
      const std::uint64_t lo = static_cast<std::uint64_t>(w.file_size_bytes_min());
      const std::uint64_t hi = static_cast<std::uint64_t>(w.file_size_bytes_max());
      const std::size_t size = static_cast<std::size_t>(lo + sim_.random().uniform(hi - lo + 1));
      const Bytes data = contents_of(static_cast<std::uint64_t>(f), size);
      auto up = run_task(sim_.loop(), immutable_->upload(data, live(), params_));
      if (!up.ok()) {
        ++counters_.upload_failures;
        continue;
      }
      files_.push_back({up->cap, size});
      file_numbers_.push_back(static_cast<std::uint64_t>(f));
      if (per_dir == 0) continue;  // no tree: the client's own list (files_) is all
      children.push_back({"f" + std::to_string(f), up->cap});
      if (children.size() >= per_dir) close_directory();
    }
    if (per_dir == 0) return;
    close_directory();
    auto root = run_task(sim_.loop(), dirs_->create(live(), std::move(dirs)));
    if (root.ok()) {
      root_ = *root;
    } else {
      ++counters_.upload_failures;
    }
  }

  Task<void> maintain() {
    const auto& m = s_.maintenance();
    const double check_days = m.check_interval_days();
    const double renew_days = m.renew_interval_days();
    const bool tree = s_.workload().files_per_directory() > 0;
    if ((tree && !root_) || (check_days <= 0 && renew_days <= 0)) co_return;
    // One schedule at the shorter interval; repair only on check days.
    const double step_days = check_days <= 0   ? renew_days
                             : renew_days <= 0 ? check_days
                                               : std::min(check_days, renew_days);
    double since_check = 0, since_renew = 0;
    for (;;) {
      co_await sleep_for(client_node_->executor(), from_ns(step_days * kNsPerDay));
      since_check += step_days;
      since_renew += step_days;
      const bool check = check_days > 0 && since_check + 1e-9 >= check_days;
      const bool renew = renew_days > 0 && since_renew + 1e-9 >= renew_days;
      if (!check && !renew) continue;
      client::DeepCheckOptions o;
      o.check.add_lease = renew || check;
      o.check.verify = check && m.verify();
      o.repair = check && m.repair_below_shares() > 0;
      o.repair_options.repair_below_shares = static_cast<std::uint32_t>(m.repair_below_shares());
      std::vector<client::ServerRef> servers = live();
      // What the check saw of each file: the share-count distribution over time.
      std::vector<double> shares(params_.total + 1, 0);
      double unrecoverable = 0, unhealthy = 0, checked = 0;
      client::DeepCheckSink sink = [&](const client::DeepCheckObject& obj) -> Task<Status> {
        if (!obj.check || obj.cap.directory) co_return Status{};
        ++checked;
        ++shares[std::min<std::size_t>(obj.check->distinct_shares, params_.total)];
        if (!obj.check->recoverable) ++unrecoverable;
        if (!obj.check->healthy) ++unhealthy;
        co_return Status{};
      };
      Result<client::DeepCheckSummary> sum = unavailable("not run");
      if (tree) {
        sum = co_await deep_->run(*root_, servers, params_.happy, o, sink);
      } else {
        std::vector<cap::Cap> caps;
        for (const FileRecord& f : files_) caps.push_back(f.cap);
        sum = co_await deep_->run_list(std::move(caps), servers, params_.happy, o, sink);
      }
      if (check) {
        since_check = 0;
        ++counters_.maintenance_cycles;
        std::vector<double> row{day(),
                                checked,
                                unrecoverable,
                                unhealthy,
                                sum.ok() ? static_cast<double>(sum->repairs_successful) : 0,
                                sum.ok() ? static_cast<double>(sum->repair_bytes) : 0};
        row.insert(row.end(), shares.begin(), shares.end());
        checks_.rows.push_back(std::move(row));
      }
      if (renew) {
        since_renew = 0;
        ++counters_.renewal_cycles;
      }
      if (!sum.ok()) {
        ++counters_.maintenance_errors;
        continue;
      }
      counters_.repairs += sum->repairs_successful;
      counters_.repairs_attempted += sum->repairs_attempted;
      counters_.repair_bytes += sum->repair_bytes;
      counters_.leases_renewed += sum->leases_renewed;
      counters_.unhealthy_seen += sum->objects_unhealthy;
      counters_.maintenance_errors += sum->errors;
    }
  }

  Task<void> read_loop() {
    const double mean_ns = kNsPerDay / s_.workload().reads_per_day();
    for (;;) {
      co_await sleep_for(client_node_->executor(), exponential(sim_.random(), mean_ns));
      if (files_.empty()) continue;
      const std::size_t i = sim_.random().uniform(files_.size());
      ++counters_.reads_attempted;
      std::vector<client::ServerRef> servers = live();
      const cap::Cap c = files_[i].cap;
      auto got = co_await immutable_->download(c, servers);
      if (!got.ok()) continue;
      if (*got == contents_of(file_numbers_[i], files_[i].size)) {
        ++counters_.reads_succeeded;
      } else {
        ++counters_.read_mismatches;  // never expected: a wrong byte would be a bug
      }
    }
  }

  Result<RunReport> report(const GridRunOptions& options) {
    // Outages end; then what is lost is lost for good.
    for (ServerSlot& s : servers_) {
      if (!s.departed && !s.node->up()) s.node->start();
    }
    sim_.loop().run_until(sim_.loop().now() + minutes(1));
    std::vector<cap::Cap> caps;
    for (const FileRecord& f : files_) caps.push_back(f.cap);
    const std::vector<client::ServerRef> servers = live();
    client::CheckOptions plain;
    auto results = run_task(sim_.loop(), checker_->check_many(caps, servers, params_.happy, plain));
    std::uint64_t lost = 0;
    std::map<std::uint32_t, std::uint64_t> distinct_histogram;
    for (const auto& r : results) {
      if (!r.ok() || !r->recoverable) ++lost;
      if (r.ok()) ++distinct_histogram[r->distinct_shares];
    }
    std::uint64_t stored = 0;
    std::vector<double> per_server;
    for (ServerSlot& s : servers_) {
      if (s.departed || !s.server) continue;
      auto space = run_task(sim_.loop(), s.server->space());
      const double used = space.ok() ? static_cast<double>(space->used_bytes) : 0;
      stored += static_cast<std::uint64_t>(used);
      per_server.push_back(used);
    }
    const Load end = summarize(std::move(per_server));  // by the servers' own account

    RunReport r;
    r.scenario = s_.name();
    r.seed = sim_.seed();
    r.events = sim_.loop().events_run();
    r.simulated_days =
        static_cast<double>(sim_.loop().now().time_since_epoch().count()) / kNsPerDay;
    r.set("files_total", static_cast<std::uint64_t>(files_.size()));
    r.set("files_lost", lost);
    r.set("reads_attempted", counters_.reads_attempted);
    r.set("reads_succeeded", counters_.reads_succeeded);
    r.set("repairs", counters_.repairs);
    r.set("repair_bytes", counters_.repair_bytes);
    r.set("bytes_stored_end", stored);
    r.set("server_load_cv", end.cv);
    r.set("servers_live_end", static_cast<std::uint64_t>(end.bytes.size()));
    r.set("servers_departed", counters_.servers_departed);
    r.set("servers_added", counters_.servers_added);
    r.set("outages", counters_.outages);
    r.set("upload_failures", counters_.upload_failures);
    r.set("read_mismatches", counters_.read_mismatches);
    r.set("maintenance_cycles", counters_.maintenance_cycles);
    r.set("renewal_cycles", counters_.renewal_cycles);
    r.set("repairs_attempted", counters_.repairs_attempted);
    r.set("unhealthy_seen", counters_.unhealthy_seen);
    r.set("leases_renewed", counters_.leases_renewed);
    r.set("maintenance_errors", counters_.maintenance_errors);
    r.set("crashes", counters_.crashes);
    r.set("partitions", counters_.partitions);
    r.set("bits_rotted", counters_.bits_rotted);
    if (options.liveness) {
      r.set("liveness_rounds", counters_.liveness_rounds);
      r.set("liveness_unhealthy", counters_.liveness_unhealthy);
    }
    std::string hist;
    for (const auto& [shares, n] : distinct_histogram) {
      hist += (hist.empty() ? "" : " ") + std::to_string(shares) + ":" + std::to_string(n);
    }
    r.set("share_count_histogram_end", hist);
    const auto net = sim_.network().stats();
    r.set("net_frames_delivered", net.frames_delivered);
    r.set("net_bytes_delivered", net.bytes_delivered);
    r.trace_digest = sim_.trace_digest();
    // The end state as a last sample of each series.
    std::vector<double> last{
        r.simulated_days, static_cast<double>(results.size()), static_cast<double>(lost), 0, 0, 0};
    std::vector<double> shares(params_.total + 1, 0);
    for (const auto& [n, count] : distinct_histogram) {
      shares[std::min<std::size_t>(n, params_.total)] += static_cast<double>(count);
    }
    for (const auto& res : results) {
      if (res.ok() && !res->healthy) ++last[3];
    }
    last.insert(last.end(), shares.begin(), shares.end());
    checks_.rows.push_back(std::move(last));
    sample_servers();
    r.series.push_back(checks_);
    r.series.push_back(servers_series_);
    return r;
  }

  const Scenario& s_;
  // Written by the nodes' frames (stable addresses): declared before the simulation, so that it
  // outlives them.
  std::deque<ServerSlot> servers_;
  Simulation sim_;
  SimNode* client_node_ = nullptr;
  std::optional<net::NodeKey> client_key_;
  std::unique_ptr<rpc::RpcPool> pool_;
  client::ClientSecrets secrets_;
  client::EncodingParams params_;
  std::unique_ptr<client::ImmutableClient> immutable_;
  std::unique_ptr<client::MutableClient> mutable_;
  std::unique_ptr<client::DirectoryClient> dirs_;
  std::unique_ptr<client::Checker> checker_;
  std::unique_ptr<client::DeepChecker> deep_;
  std::optional<cap::Cap> root_;
  std::vector<FileRecord> files_;
  std::vector<std::uint64_t> file_numbers_;
  Counters counters_;
  bool quiet_ = false;     // the liveness phase: no more faults, churn or outages
  Series checks_;          // one row per maintenance check, and the end
  Series servers_series_;  // one row per kServerSampleInterval, and the end
};

}  // namespace

Result<RunReport> run_grid_scenario(const Scenario& scenario, std::uint64_t seed,
                                    const GridRunOptions& options) {
  const auto& e = scenario.encoding();
  if (scenario.servers().count() < 1 || e.needed() < 1 || e.total() < e.needed() || e.happy() < 1 ||
      e.happy() > e.total()) {
    return invalid_argument("the grid workload needs servers.count and encoding");
  }
  GridRun run(scenario, seed, options);
  return run.run(options);
}

}  // namespace lafs::sim
