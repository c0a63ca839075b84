// A simulation: one event loop, one simulated network, and many nodes. Each SimNode is a full
// lafs::Env (clock, network endpoint, disk, KV, random, compute, logger) whose code runs in the
// node's Scope. Crashing a node cuts it off the network, destroys its scope (every task frame),
// and drops or tears whatever its disk and KV had not synced; restarting runs its main task again
// on the surviving disk. Everything random is drawn from streams forked from the one seed.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/env/env.h"
#include "core/runtime/scope.h"
#include "net/sim/sim_clock.h"
#include "net/sim/sim_compute.h"
#include "net/sim/sim_disk.h"
#include "net/sim/sim_kv.h"
#include "net/sim/sim_loop.h"
#include "net/sim/sim_network.h"
#include "net/sim/sim_random.h"

namespace lafs::sim {

class Simulation;

// Log lines of simulated nodes: counted, optionally printed with virtual timestamps.
class SimLogger final : public Logger {
 public:
  SimLogger(const SimLoop& loop, std::string node, const bool* verbose)
      : loop_(loop), node_(std::move(node)), verbose_(verbose) {}
  void log(LogLevel level, std::string_view component, std::string_view message) override;
  std::uint64_t warnings() const { return warnings_; }
  std::uint64_t errors() const { return errors_; }

 private:
  const SimLoop& loop_;
  std::string node_;
  const bool* verbose_;
  std::uint64_t warnings_ = 0;
  std::uint64_t errors_ = 0;
};

class SimNode final : public Env {
 public:
  // The node's main task, started at start() and after every restart.
  using Main = std::function<Task<void>(SimNode&)>;

  SimNode(Simulation& sim, HostId host, std::string name, SimRandom rng);
  SimNode(const SimNode&) = delete;
  SimNode& operator=(const SimNode&) = delete;
  ~SimNode() override;

  Executor& executor() override;
  Clock& clock() override { return clock_; }
  Network& network() override { return *network_; }
  Disk& disk() override { return disk_; }
  KvStore& kv() override { return kv_; }
  Random& random() override { return random_; }
  Compute& compute() override { return compute_; }
  Logger& logger() override { return logger_; }

  const std::string& name() const { return name_; }
  HostId host() const { return host_; }
  bool up() const { return scope_ != nullptr; }
  // Valid while up().
  Scope& scope();
  SimClock& sim_clock() { return clock_; }
  SimDisk& sim_disk() { return disk_; }
  SimKv& sim_kv() { return kv_; }
  // "sim:<name>:<port>", for listening and for peers to connect to.
  std::string address(std::uint32_t port) const;

  void set_main(Main main) { main_ = std::move(main); }
  // Brings the node up and spawns its main task. No-op if up.
  void start();
  // Kills the node: off the network (peers' connections reset when reset_peers, black-holed
  // otherwise), every task destroyed, unsynced disk and KV state lost or torn.
  void crash(bool reset_peers);
  std::uint64_t crashes() const { return crashes_; }

 private:
  Simulation& sim_;
  HostId host_;
  std::string name_;
  SimRandom random_;
  SimClock clock_;
  std::unique_ptr<Network> network_;
  SimDisk disk_;
  SimKv kv_;
  SimCompute compute_;
  SimLogger logger_;
  Main main_;
  std::unique_ptr<Scope> scope_;
  std::uint64_t crashes_ = 0;
};

struct SimulationOptions {
  std::uint64_t seed = 1;
  SimNetworkOptions network;
  SimDiskOptions disk;
  SimKvOptions kv;
  bool verbose = false;  // print node log lines to stderr
};

class Simulation {
 public:
  explicit Simulation(SimulationOptions options);
  Simulation(const Simulation&) = delete;
  Simulation& operator=(const Simulation&) = delete;
  ~Simulation();

  // Adds a node on a new host with the given name (unique, no ':').
  SimNode& add_node(std::string name);
  std::size_t node_count() const { return nodes_.size(); }
  SimNode& node(std::size_t i) { return *nodes_.at(i); }

  SimLoop& loop() { return loop_; }
  SimNetwork& network() { return network_; }
  // A stream for fault schedules and workloads, separate from the nodes' own.
  SimRandom& random() { return random_; }
  const SimulationOptions& options() const { return options_; }

  std::uint64_t seed() const { return options_.seed; }
  std::string trace_digest() { return loop_.trace().hex(); }

 private:
  friend class SimNode;
  SimulationOptions options_;
  SimLoop loop_;
  SimRandom random_;
  SimNetwork network_;
  std::vector<std::unique_ptr<SimNode>> nodes_;
};

}  // namespace lafs::sim
