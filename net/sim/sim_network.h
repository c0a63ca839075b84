// The simulated network: hosts joined by links with latency, bandwidth, loss, duplication,
// reordering, resets and partitions, all drawn from one seeded stream. Each simulated node gets
// a lafs::Network endpoint bound to its host. Frames cross it as bytes, so sizes and bandwidth
// are real; every delivery is folded into the trace digest.
//
// Connection model: like TCP, a connection delivers frames in order, with a bounded window of
// unread bytes per direction (a sender waits when its peer does not read). Unlike TCP, the fault
// knobs can drop, duplicate or reorder individual frames, so that layers above are tested
// against an adversarial network; a partition silently black-holes traffic (peers notice only
// through their timeouts), and a host going down either resets its peers' connections (process
// crash) or black-holes them (power loss).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "core/env/network.h"
#include "net/sim/sim_loop.h"
#include "net/sim/sim_random.h"

namespace lafs::sim {

using HostId = std::uint32_t;

struct SimNetworkOptions {
  Duration latency_mean = milliseconds(1);  // one-way base latency
  Duration latency_jitter_max{0};           // plus a jitter uniform in [0, max]
  double up_bytes_per_sec = 0;              // per-host default; 0 = unlimited
  double down_bytes_per_sec = 0;
  double frame_loss = 0;       // probability a frame silently vanishes
  double frame_duplicate = 0;  // probability a frame is delivered twice
  double frame_reorder = 0;    // probability a frame is delayed past later ones by an extra
  Duration reorder_delay_max = milliseconds(100);  // delay uniform in [0, max]
  double connection_reset = 0;  // probability, per frame, that the connection breaks
  Duration connect_timeout = seconds(5);
  std::size_t max_frame_bytes = kMaxFrameBytesDefault;
  std::size_t window_bytes = 1 << 20;    // unread bytes a sender may have outstanding
  std::size_t accept_backlog_max = 128;  // connections waiting for accept() per listener
};

struct SimNetworkStats {
  std::uint64_t frames_sent = 0;
  std::uint64_t frames_delivered = 0;
  std::uint64_t frames_dropped = 0;  // loss, partitions, dead hosts
  std::uint64_t frames_duplicated = 0;
  std::uint64_t bytes_delivered = 0;
  std::uint64_t connects = 0;
  std::uint64_t connects_refused = 0;
  std::uint64_t resets = 0;
};

namespace detail {
struct EndState;
struct ListenerState;
struct ConnectAttempt;
}  // namespace detail

class SimNetwork {
 public:
  SimNetwork(SimLoop& loop, SimRandom rng, SimNetworkOptions options);
  SimNetwork(const SimNetwork&) = delete;
  SimNetwork& operator=(const SimNetwork&) = delete;
  ~SimNetwork();

  // Adds a host; names are unique. Bandwidths < 0 take the options' defaults.
  HostId add_host(std::string name, double up_bytes_per_sec = -1, double down_bytes_per_sec = -1);
  std::size_t host_count() const { return hosts_.size(); }
  const std::string& host_name(HostId h) const;

  // The Network interface for code running on `host`. It must not outlive the SimNetwork.
  std::unique_ptr<Network> endpoint(HostId host);

  // "sim:<name>:<port>"
  std::string address(HostId host, std::uint32_t port) const;

  // Takes a host down: its listeners close and every connection of it breaks. With
  // reset_peers, peers see the connection close (a killed process); without, their traffic to
  // it is black-holed (power loss). Bringing it up again accepts new connections only.
  void set_host_up(HostId host, bool up, bool reset_peers);
  bool host_up(HostId host) const;

  // Partitions are symmetric and black-hole traffic, including frames already in flight.
  void partition(HostId a, HostId b);
  void heal(HostId a, HostId b);
  void heal_all();
  bool reachable(HostId a, HostId b) const;

  SimNetworkOptions& options() { return options_; }
  const SimNetworkStats& stats() const { return stats_; }
  SimLoop& loop() { return loop_; }

 private:
  friend class SimEndpoint;
  friend class SimConnection;
  friend class SimListener;
  friend struct detail::EndState;

  struct Host {
    std::string name;
    bool up = true;
    double up_bytes_per_sec = 0;
    double down_bytes_per_sec = 0;
    MonoTime up_busy_until{};
    MonoTime down_busy_until{};
    std::map<std::uint32_t, std::weak_ptr<detail::ListenerState>> listeners;
    std::map<std::uint64_t, std::weak_ptr<detail::EndState>> ends;
  };

  Result<std::pair<HostId, std::uint32_t>> parse_address(const std::string& address) const;
  Duration draw_latency();
  Duration draw_uniform(Duration max);
  void transmit(const std::shared_ptr<detail::EndState>& from, Bytes frame, bool fin);
  void deliver(std::weak_ptr<detail::EndState> to_weak, std::weak_ptr<detail::EndState> from_weak,
               HostId src, HostId dst, Bytes frame, std::size_t accounted, bool fin);
  void credit(const std::weak_ptr<detail::EndState>& sender_weak, std::size_t bytes);
  void break_end(const std::shared_ptr<detail::EndState>& end, bool notify_peer);
  void close_listener(detail::ListenerState& l);
  void start_connect(HostId src, HostId dst, std::uint32_t port,
                     std::shared_ptr<detail::ConnectAttempt> attempt);
  void arrive_syn(HostId src, HostId dst, std::uint32_t port,
                  std::weak_ptr<detail::ConnectAttempt> attempt);
  std::shared_ptr<detail::EndState> new_end(HostId host, HostId peer_host, std::string peer_addr);
  void unregister_end(HostId host, std::uint64_t id);
  void trace_frame(HostId src, HostId dst, const Bytes& frame);

  SimLoop& loop_;
  SimRandom rng_;
  SimNetworkOptions options_;
  SimNetworkStats stats_;
  std::vector<Host> hosts_;
  std::map<std::string, HostId> by_name_;
  std::set<std::pair<HostId, HostId>> partitions_;
  std::uint64_t next_end_id_ = 1;
  std::uint32_t next_ephemeral_port_ = 40000;
};

}  // namespace lafs::sim
