// RealTcpNetwork: the production Network. TCP over the RealExecutor's Asio loop, each frame sent as
// a 4-byte big-endian length and the payload. Both directions are bounded: send() waits while the
// connection's send buffer is full (as SimNetwork's window), and a connection stops reading from
// its socket while too many received frames wait for receive(), so TCP pushes back on the peer.
//
// Addresses are literals: "127.0.0.1:4000" or "[::1]:4000" (names are not resolved here).
// Every method runs on the executor's thread; Connections and Listeners must be destroyed before
// the executor.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "core/env/network.h"
#include "core/runtime/status.h"
#include "core/runtime/task.h"
#include "core/runtime/time.h"
#include "net/real/real_executor.h"

namespace lafs::real {

// Bookkeeping charged per queued frame on top of its payload (length prefix, deque slot, heap
// block), so that a flood of empty frames still hits the buffer bounds.
inline constexpr std::size_t kFrameOverheadBytes = 64;

struct RealTcpNetworkOptions {
  Duration connect_timeout = seconds(5);
  std::size_t max_frame_bytes = kMaxFrameBytesDefault;  // at most 2^32 - 1 (the prefix)
  std::size_t send_buffer_bytes = 1 << 20;              // queued frame bytes before send() waits
  std::size_t receive_buffer_bytes = 1 << 20;           // unread frame bytes before reading pauses
  std::size_t accept_queue_max = 128;                   // accepted connections waiting for accept()
  int listen_backlog = 128;                             // the kernel's queue behind that
  // How long a closed connection keeps flushing queued frames and waiting for the peer's FIN
  // before it is cut (closing with unread input would otherwise reset what we just sent).
  Duration close_linger = seconds(2);
  int socket_send_buffer_bytes = 0;     // SO_SNDBUF; 0 keeps the OS default
  int socket_receive_buffer_bytes = 0;  // SO_RCVBUF; 0 keeps the OS default
};

class RealTcpNetwork final : public Network {
 public:
  explicit RealTcpNetwork(RealExecutor& ex, RealTcpNetworkOptions options = {});
  RealTcpNetwork(const RealTcpNetwork&) = delete;
  RealTcpNetwork& operator=(const RealTcpNetwork&) = delete;
  // Connections and listeners made here may outlive the network (not the executor).
  ~RealTcpNetwork() override = default;

  // Port 0 picks a free port; Listener::address() then reports it. Errors: InvalidArgument (bad
  // address, or not one of this host's), AlreadyExists (in use), PermissionDenied, Unavailable.
  Result<std::unique_ptr<Listener>> listen(std::string address) override;
  // Errors: InvalidArgument, Unavailable (refused, unreachable), Timeout (connect_timeout),
  // ResourceExhausted (out of descriptors).
  Task<Result<std::unique_ptr<Connection>>> connect(std::string address) override;

  const RealTcpNetworkOptions& options() const { return options_; }

 private:
  RealExecutor& ex_;
  RealTcpNetworkOptions options_;
};

// A parsed TCP address: an IPv4 literal or an IPv6 literal (written in brackets), and a port.
struct TcpAddress {
  std::string host;  // without brackets
  std::uint16_t port = 0;
  bool ipv6 = false;
};

// Parses "a.b.c.d:port" or "[v6]:port". Errors: InvalidArgument naming the problem (also for
// port 0 unless `allow_port_zero`).
Result<TcpAddress> parse_tcp_address(const std::string& address, bool allow_port_zero);
// The inverse: "host:port", or "[host]:port" for IPv6.
std::string format_tcp_address(const TcpAddress& address);

}  // namespace lafs::real
