#include "net/sim/sim_network.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <deque>
#include <utility>

namespace lafs::sim {

namespace detail {

// A parked coroutine plus the wake-up that resumes it from the loop's top level. Lives in the
// awaiting frame; destroying the frame cancels a pending wake-up.
struct Waiter {
  std::coroutine_handle<> handle;
  Wakeup wakeup;
};

inline void wake(SimLoop& loop, Waiter*& slot) {
  if (slot == nullptr) return;
  Waiter* w = slot;
  slot = nullptr;
  w->wakeup.disarm();
  w->wakeup.arm(loop, w->handle);
}

struct Frame {
  Bytes data;
  std::size_t accounted = 0;  // bytes to credit back to the sender when read
  bool fin = false;
};

// One side of a connection. Shared by the Connection object, the frames of calls on it, and the
// network's per-host registry (weakly).
struct EndState {
  SimNetwork* net = nullptr;
  std::uint64_t id = 0;
  HostId host = 0;
  HostId peer_host = 0;
  std::string peer_address;
  std::weak_ptr<EndState> peer;
  std::deque<Frame> inbox;
  bool closed = false;         // closed or broken locally: every call fails
  bool peer_finished = false;  // FIN seen: receive fails once the inbox is drained
  std::size_t in_flight = 0;   // bytes sent and not yet read by the peer
  MonoTime last_delivery{};    // FIFO: the next in-order frame arrives no earlier
  Waiter* recv_waiter = nullptr;
  Waiter* send_waiter = nullptr;

  ~EndState() {
    if (net != nullptr) net->unregister_end(host, id);  // null once the network is gone
  }
};

struct ListenerState {
  SimNetwork* net = nullptr;
  HostId host = 0;
  std::uint32_t port = 0;
  bool closed = false;
  std::deque<std::shared_ptr<EndState>> backlog;
  Waiter* accept_waiter = nullptr;
};

struct ConnectAttempt {
  std::shared_ptr<EndState> end;  // set on success
  std::optional<Status> error;    // set on refusal
  bool abandoned = false;         // the caller timed out or went away
  Waiter* waiter = nullptr;
};

template <typename Slot>
struct ParkAwaiter {
  Slot* slot;
  Waiter waiter;
  bool await_ready() const noexcept { return false; }
  void await_suspend(std::coroutine_handle<> h) {
    waiter.handle = h;
    *slot = &waiter;
  }
  void await_resume() const noexcept {}
  ~ParkAwaiter() {
    if (*slot == &waiter) *slot = nullptr;
  }
};

}  // namespace detail

using detail::ConnectAttempt;
using detail::EndState;
using detail::Frame;
using detail::ListenerState;

// ---------------------------------------------------------------------------------------------
// Connection

class SimConnection final : public Connection {
 public:
  explicit SimConnection(std::shared_ptr<EndState> end) : end_(std::move(end)) {}
  ~SimConnection() override { close(); }

  Task<Status> send(Bytes frame) override { return do_send(end_, std::move(frame)); }
  Task<Result<Bytes>> receive() override { return do_receive(end_); }
  void close() override {
    if (!end_->closed) end_->net->break_end(end_, /*notify_peer=*/true);
  }
  std::string peer_address() const override { return end_->peer_address; }

 private:
  static Task<Status> do_send(std::shared_ptr<EndState> end, Bytes frame);
  static Task<Result<Bytes>> do_receive(std::shared_ptr<EndState> end);
  std::shared_ptr<EndState> end_;
};

Task<Status> SimConnection::do_send(std::shared_ptr<EndState> end, Bytes frame) {
  SimNetwork& net = *end->net;
  if (frame.size() > net.options_.max_frame_bytes) {
    co_return invalid_argument("frame of " + std::to_string(frame.size()) +
                               " bytes exceeds the limit of " +
                               std::to_string(net.options_.max_frame_bytes));
  }
  // Back-pressure: wait while the peer has not read enough of what we sent.
  while (!end->closed && end->in_flight > 0 &&
         end->in_flight + frame.size() > net.options_.window_bytes) {
    LAFS_ASSERT(end->send_waiter == nullptr);  // one send() at a time
    co_await detail::ParkAwaiter<detail::Waiter*>{&end->send_waiter, {}};
  }
  if (end->closed) co_return unavailable("connection to " + end->peer_address + " is closed");
  net.transmit(end, std::move(frame), /*fin=*/false);
  co_return Status{};
}

Task<Result<Bytes>> SimConnection::do_receive(std::shared_ptr<EndState> end) {
  SimNetwork& net = *end->net;
  while (!end->closed && end->inbox.empty()) {
    LAFS_ASSERT(end->recv_waiter == nullptr);  // one receive() at a time
    co_await detail::ParkAwaiter<detail::Waiter*>{&end->recv_waiter, {}};
  }
  if (end->closed) co_return unavailable("connection to " + end->peer_address + " is closed");
  Frame f = std::move(end->inbox.front());
  end->inbox.pop_front();
  if (f.fin) {
    end->peer_finished = true;
    end->inbox.clear();
    net.break_end(end, /*notify_peer=*/false);
    co_return unavailable("connection closed by " + end->peer_address);
  }
  net.credit(end->peer, f.accounted);
  co_return std::move(f.data);
}

// ---------------------------------------------------------------------------------------------
// Listener

class SimListener final : public Listener {
 public:
  SimListener(std::shared_ptr<ListenerState> state, std::string address)
      : state_(std::move(state)), address_(std::move(address)) {}
  ~SimListener() override { state_->net->close_listener(*state_); }

  Task<Result<std::unique_ptr<Connection>>> accept() override { return do_accept(state_); }
  std::string address() const override { return address_; }

 private:
  static Task<Result<std::unique_ptr<Connection>>> do_accept(std::shared_ptr<ListenerState> s) {
    while (!s->closed && s->backlog.empty()) {
      LAFS_ASSERT(s->accept_waiter == nullptr);
      co_await detail::ParkAwaiter<detail::Waiter*>{&s->accept_waiter, {}};
    }
    if (s->closed) co_return unavailable("listener closed");
    std::shared_ptr<EndState> end = std::move(s->backlog.front());
    s->backlog.pop_front();
    co_return std::unique_ptr<Connection>(new SimConnection(std::move(end)));
  }
  std::shared_ptr<ListenerState> state_;
  std::string address_;
};

// ---------------------------------------------------------------------------------------------
// Endpoint: the Network a node sees.

class SimEndpoint final : public Network {
 public:
  SimEndpoint(SimNetwork& net, HostId host) : net_(net), host_(host) {}

  Result<std::unique_ptr<Listener>> listen(std::string address) override;
  Task<Result<std::unique_ptr<Connection>>> connect(std::string address) override {
    return do_connect(&net_, host_, std::move(address));
  }

 private:
  static Task<Result<std::unique_ptr<Connection>>> do_connect(SimNetwork* net, HostId host,
                                                              std::string address);
  SimNetwork& net_;
  HostId host_;
};

Result<std::unique_ptr<Listener>> SimEndpoint::listen(std::string address) {
  auto parsed = net_.parse_address(address);
  if (!parsed.ok()) return parsed.status();
  auto [host, port] = *parsed;
  if (host != host_) {
    return invalid_argument("cannot listen on " + address + ": not this host (" +
                            net_.host_name(host_) + ")");
  }
  if (!net_.host_up(host_)) return unavailable("host is down");
  if (port == 0) port = net_.next_ephemeral_port_++;
  auto& slot = net_.hosts_[host].listeners[port];
  if (auto existing = slot.lock(); existing && !existing->closed) {
    return already_exists("address in use: " + address);
  }
  auto state = std::make_shared<ListenerState>();
  state->net = &net_;
  state->host = host;
  state->port = port;
  slot = state;
  return std::unique_ptr<Listener>(new SimListener(state, net_.address(host, port)));
}

Task<Result<std::unique_ptr<Connection>>> SimEndpoint::do_connect(SimNetwork* net, HostId host,
                                                                  std::string address) {
  auto parsed = net->parse_address(address);
  if (!parsed.ok()) co_return parsed.status();
  if (!net->host_up(host)) co_return unavailable("host is down");
  auto attempt = std::make_shared<ConnectAttempt>();
  net->start_connect(host, parsed->first, parsed->second, attempt);
  {
    detail::ParkAwaiter<detail::Waiter*> park{&attempt->waiter, {}};
    // The timeout re-uses the same wake-up; a reply disarms it and wakes at once.
    struct Arm {
      detail::ParkAwaiter<detail::Waiter*>* p;
      SimLoop* loop;
      MonoTime deadline;
      bool await_ready() const noexcept { return false; }
      void await_suspend(std::coroutine_handle<> h) {
        p->await_suspend(h);
        p->waiter.wakeup.arm_at(*loop, deadline, h);
      }
      void await_resume() const noexcept {}
    };
    co_await Arm{&park, &net->loop(), net->loop().now() + net->options().connect_timeout};
  }
  if (attempt->end) co_return std::unique_ptr<Connection>(new SimConnection(attempt->end));
  if (attempt->error) co_return *attempt->error;
  attempt->abandoned = true;
  co_return timeout_error("connect to " + address + " timed out");
}

// ---------------------------------------------------------------------------------------------
// SimNetwork

SimNetwork::SimNetwork(SimLoop& loop, SimRandom rng, SimNetworkOptions options)
    : loop_(loop), rng_(rng), options_(options) {}

SimNetwork::~SimNetwork() {
  // Ends may outlive the network inside callbacks still queued on the loop; they must not call
  // back into it when those are destroyed.
  for (Host& h : hosts_) {
    for (auto& [id, weak] : h.ends) {
      if (auto e = weak.lock()) e->net = nullptr;
    }
  }
}

HostId SimNetwork::add_host(std::string name, double up_bps, double down_bps) {
  LAFS_ASSERT(!by_name_.contains(name));
  LAFS_ASSERT(name.find(':') == std::string::npos);
  auto id = static_cast<HostId>(hosts_.size());
  Host h;
  h.name = name;
  h.up_bytes_per_sec = up_bps < 0 ? options_.up_bytes_per_sec : up_bps;
  h.down_bytes_per_sec = down_bps < 0 ? options_.down_bytes_per_sec : down_bps;
  hosts_.push_back(std::move(h));
  by_name_.emplace(std::move(name), id);
  return id;
}

const std::string& SimNetwork::host_name(HostId h) const {
  LAFS_ASSERT(h < hosts_.size());
  return hosts_[h].name;
}

std::unique_ptr<Network> SimNetwork::endpoint(HostId host) {
  LAFS_ASSERT(host < hosts_.size());
  return std::make_unique<SimEndpoint>(*this, host);
}

std::string SimNetwork::address(HostId host, std::uint32_t port) const {
  return "sim:" + host_name(host) + ":" + std::to_string(port);
}

Result<std::pair<HostId, std::uint32_t>> SimNetwork::parse_address(
    const std::string& address) const {
  auto bad = [&](const char* why) {
    return invalid_argument("bad simulated address '" + address + "': " + why);
  };
  if (address.rfind("sim:", 0) != 0) return bad("expected sim:<host>:<port>");
  std::size_t colon = address.rfind(':');
  if (colon <= 4) return bad("missing port");
  std::string name = address.substr(4, colon - 4);
  std::uint32_t port = 0;
  const char* first = address.data() + colon + 1;
  const char* last = address.data() + address.size();
  auto [ptr, ec] = std::from_chars(first, last, port);
  if (ec != std::errc() || ptr != last || first == last || port > 65535) return bad("bad port");
  auto it = by_name_.find(name);
  if (it == by_name_.end()) return bad("no such host");
  return std::make_pair(it->second, port);
}

bool SimNetwork::host_up(HostId host) const {
  LAFS_ASSERT(host < hosts_.size());
  return hosts_[host].up;
}

void SimNetwork::set_host_up(HostId host, bool up, bool reset_peers) {
  LAFS_ASSERT(host < hosts_.size());
  Host& h = hosts_[host];
  if (h.up == up) return;
  h.up = up;
  if (up) return;
  for (auto& [port, weak] : h.listeners) {
    if (auto l = weak.lock()) close_listener(*l);
  }
  h.listeners.clear();
  // Copy: breaking ends may destroy some and so edit the map.
  std::vector<std::shared_ptr<EndState>> ends;
  for (auto& [id, weak] : h.ends) {
    if (auto e = weak.lock()) ends.push_back(std::move(e));
  }
  for (auto& e : ends) break_end(e, reset_peers);
}

void SimNetwork::close_listener(ListenerState& l) {
  l.closed = true;
  // Connections nobody accepted are reset, so their clients learn at once.
  while (!l.backlog.empty()) {
    std::shared_ptr<EndState> e = std::move(l.backlog.front());
    l.backlog.pop_front();
    break_end(e, /*notify_peer=*/true);
  }
  detail::wake(loop_, l.accept_waiter);
}

void SimNetwork::partition(HostId a, HostId b) {
  if (a == b) return;
  partitions_.insert({std::min(a, b), std::max(a, b)});
}
void SimNetwork::heal(HostId a, HostId b) {
  partitions_.erase({std::min(a, b), std::max(a, b)});
}
void SimNetwork::heal_all() {
  partitions_.clear();
}
bool SimNetwork::reachable(HostId a, HostId b) const {
  return partitions_.empty() || !partitions_.contains({std::min(a, b), std::max(a, b)});
}

Duration SimNetwork::draw_uniform(Duration max) {
  if (max.count() <= 0) return Duration(0);
  return Duration(
      static_cast<std::int64_t>(rng_.uniform(static_cast<std::uint64_t>(max.count()) + 1)));
}

Duration SimNetwork::draw_latency() {
  return options_.latency_mean + draw_uniform(options_.latency_jitter_max);
}

std::shared_ptr<EndState> SimNetwork::new_end(HostId host, HostId peer_host,
                                              std::string peer_addr) {
  auto e = std::make_shared<EndState>();
  e->net = this;
  e->id = next_end_id_++;
  e->host = host;
  e->peer_host = peer_host;
  e->peer_address = std::move(peer_addr);
  hosts_[host].ends.emplace(e->id, e);
  return e;
}

void SimNetwork::unregister_end(HostId host, std::uint64_t id) {
  hosts_[host].ends.erase(id);
}

void SimNetwork::break_end(const std::shared_ptr<EndState>& end, bool notify_peer) {
  if (end->closed) return;
  end->closed = true;
  end->inbox.clear();
  detail::wake(loop_, end->recv_waiter);
  detail::wake(loop_, end->send_waiter);
  if (notify_peer) transmit(end, Bytes(), /*fin=*/true);
}

void SimNetwork::credit(const std::weak_ptr<EndState>& sender_weak, std::size_t bytes) {
  if (bytes == 0) return;
  auto sender = sender_weak.lock();
  if (!sender) return;
  LAFS_ASSERT(sender->in_flight >= bytes);
  sender->in_flight -= bytes;
  detail::wake(loop_, sender->send_waiter);
}

void SimNetwork::trace_frame(HostId src, HostId dst, const Bytes& frame) {
  TraceDigest& t = loop_.trace();
  t.add_u64((static_cast<std::uint64_t>(src) << 32) | dst);
  t.add_u64(frame.size());
  t.add_bytes(frame.data(), std::min<std::size_t>(frame.size(), 32));
}

void SimNetwork::transmit(const std::shared_ptr<EndState>& from, Bytes frame, bool fin) {
  ++stats_.frames_sent;
  const HostId src = from->host;
  const HostId dst = from->peer_host;
  const std::size_t size = frame.size();
  if (!fin && rng_.chance(options_.connection_reset)) {
    ++stats_.resets;
    break_end(from, /*notify_peer=*/true);
    return;
  }
  if (!fin && rng_.chance(options_.frame_loss)) {
    ++stats_.frames_dropped;
    return;  // never accounted: the window is unaffected
  }
  Host& s = hosts_[src];
  Host& d = hosts_[dst];
  MonoTime t = std::max(loop_.now(), s.up_busy_until);
  if (s.up_bytes_per_sec > 0)
    t += Duration(static_cast<std::int64_t>(1e9 * size / s.up_bytes_per_sec));
  s.up_busy_until = t;
  t += draw_latency();
  if (d.down_bytes_per_sec > 0) {
    t = std::max(t, d.down_busy_until) +
        Duration(static_cast<std::int64_t>(1e9 * size / d.down_bytes_per_sec));
    d.down_busy_until = t;
  }
  if (!fin && rng_.chance(options_.frame_reorder)) {
    t += draw_uniform(options_.reorder_delay_max);
  } else {
    t = std::max(t, from->last_delivery);
    from->last_delivery = t;
  }
  const bool dup = !fin && rng_.chance(options_.frame_duplicate);
  from->in_flight += size;
  std::weak_ptr<EndState> to = from->peer;
  std::weak_ptr<EndState> weak_from = from;
  if (dup) {
    ++stats_.frames_duplicated;
    loop_.schedule_at(t + microseconds(1), [this, to, weak_from, src, dst, copy = frame] {
      deliver(to, weak_from, src, dst, copy, 0, false);
    });
  }
  loop_.schedule_at(t, [this, to, weak_from, src, dst, f = std::move(frame), size, fin]() mutable {
    deliver(to, weak_from, src, dst, std::move(f), size, fin);
  });
}

void SimNetwork::deliver(std::weak_ptr<EndState> to_weak, std::weak_ptr<EndState> from_weak,
                         HostId src, HostId dst, Bytes frame, std::size_t accounted, bool fin) {
  if (!hosts_[dst].up || !reachable(src, dst)) {
    ++stats_.frames_dropped;  // black hole: the sender learns only through its timeouts
    credit(from_weak, accounted);
    return;
  }
  auto to = to_weak.lock();
  if (!to || to->closed) {
    // The host is up but the connection is gone there (closed, or the process restarted): like
    // TCP, it answers data with a reset.
    ++stats_.frames_dropped;
    credit(from_weak, accounted);
    if (!fin) {
      loop_.schedule_at(loop_.now() + draw_latency(), [this, from_weak] {
        auto from = from_weak.lock();
        if (from && !from->closed && hosts_[from->host].up) {
          ++stats_.resets;
          break_end(from, /*notify_peer=*/false);
        }
      });
    }
    return;
  }
  ++stats_.frames_delivered;
  stats_.bytes_delivered += frame.size();
  trace_frame(src, to->host, frame);
  to->inbox.push_back(Frame{std::move(frame), accounted, fin});
  detail::wake(loop_, to->recv_waiter);
}

void SimNetwork::start_connect(HostId src, HostId dst, std::uint32_t port,
                               std::shared_ptr<ConnectAttempt> attempt) {
  ++stats_.connects;
  std::weak_ptr<ConnectAttempt> weak = attempt;
  loop_.schedule_at(loop_.now() + draw_latency(),
                    [this, src, dst, port, weak] { arrive_syn(src, dst, port, weak); });
}

void SimNetwork::arrive_syn(HostId src, HostId dst, std::uint32_t port,
                            std::weak_ptr<ConnectAttempt> weak) {
  if (!hosts_[dst].up || !reachable(src, dst)) return;  // black hole: the caller times out
  std::shared_ptr<ListenerState> listener;
  if (auto it = hosts_[dst].listeners.find(port); it != hosts_[dst].listeners.end()) {
    listener = it->second.lock();
  }
  const MonoTime reply_at = loop_.now() + draw_latency();
  if (!listener || listener->closed || listener->backlog.size() >= options_.accept_backlog_max) {
    ++stats_.connects_refused;
    loop_.schedule_at(reply_at, [this, weak, dst, port] {
      auto a = weak.lock();
      if (!a || a->abandoned) return;
      a->error = unavailable("connection refused by " + address(dst, port));
      detail::wake(loop_, a->waiter);
    });
    return;
  }
  auto client = new_end(src, dst, address(dst, port));
  auto server = new_end(dst, src, address(src, next_ephemeral_port_++));
  client->peer = server;
  server->peer = client;
  client->last_delivery = reply_at;  // data cannot overtake the handshake
  listener->backlog.push_back(server);
  detail::wake(loop_, listener->accept_waiter);
  loop_.schedule_at(reply_at, [this, weak, client, src] {
    auto a = weak.lock();
    if (!a || a->abandoned || !hosts_[src].up || client->closed) {
      break_end(client, /*notify_peer=*/true);
      return;
    }
    a->end = client;
    detail::wake(loop_, a->waiter);
  });
}

}  // namespace lafs::sim
