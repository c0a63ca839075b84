#include "net/sim/simulation.h"

#include <cstdio>

namespace lafs::sim {

namespace {
// Labels for forking the seed's streams: stable, so adding a node does not reshuffle others.
constexpr std::uint64_t kStreamNetwork = 1;
constexpr std::uint64_t kStreamWorkload = 2;
constexpr std::uint64_t kStreamNodeBase = 1'000;
constexpr std::uint64_t kStreamDiskBase = 1'000'000'000;
}  // namespace

void SimLogger::log(LogLevel level, std::string_view component, std::string_view message) {
  if (level == LogLevel::kWarning) ++warnings_;
  if (level == LogLevel::kError) ++errors_;
  if (!*verbose_) return;
  static const char* kNames[] = {"debug", "info", "warn", "error"};
  std::fprintf(stderr, "[%.6f] %s %s %.*s: %.*s\n", to_seconds_f(loop_.now().time_since_epoch()),
               node_.c_str(), kNames[static_cast<int>(level)], static_cast<int>(component.size()),
               component.data(), static_cast<int>(message.size()), message.data());
}

SimNode::SimNode(Simulation& sim, HostId host, std::string name, SimRandom rng)
    : sim_(sim),
      host_(host),
      name_(std::move(name)),
      random_(rng),
      clock_(sim.loop_),
      network_(sim.network_.endpoint(host)),
      disk_(sim.loop_, SimRandom(rng.next_u64() ^ (kStreamDiskBase + host)), sim.options_.disk),
      kv_(sim.loop_, SimRandom(rng.next_u64() ^ (kStreamDiskBase * 2 + host)), sim.options_.kv),
      logger_(sim.loop_, name_, &sim.options_.verbose) {}

SimNode::~SimNode() {
  // Tasks first: their destructors may still use the disk and network.
  scope_.reset();
}

Executor& SimNode::executor() {
  return sim_.loop_;
}

Scope& SimNode::scope() {
  LAFS_ASSERT(scope_ != nullptr);
  return *scope_;
}

std::string SimNode::address(std::uint32_t port) const {
  return sim_.network_.address(host_, port);
}

void SimNode::start() {
  if (up()) return;
  sim_.network_.set_host_up(host_, true, false);
  scope_ = std::make_unique<Scope>(sim_.loop_);
  if (main_) scope_->spawn(main_(*this));
}

void SimNode::crash(bool reset_peers) {
  if (!up()) return;
  ++crashes_;
  sim_.network_.set_host_up(host_, false, reset_peers);
  scope_.reset();  // destroys every frame; connections are already cut
  disk_.crash();
  kv_.crash();
  sim_.loop_.trace().add_u64(0xC1A5'0000'0000'0000ULL | host_);
}

Simulation::Simulation(SimulationOptions options)
    : options_(options),
      random_(SimRandom(options.seed).fork(kStreamWorkload)),
      network_(loop_, SimRandom(options.seed).fork(kStreamNetwork), options.network) {}

Simulation::~Simulation() {
  // Stop every node before the network and loop they use go away.
  for (auto& n : nodes_) n.reset();
}

SimNode& Simulation::add_node(std::string name) {
  HostId host = network_.add_host(name);
  SimRandom rng = SimRandom(options_.seed).fork(kStreamNodeBase + host);
  nodes_.push_back(std::make_unique<SimNode>(*this, host, std::move(name), rng));
  return *nodes_.back();
}

}  // namespace lafs::sim
