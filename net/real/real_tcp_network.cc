// RealTcpNetwork: connection state lives in a shared ConnState that Asio handlers keep alive; the
// coroutines of send(), receive() and accept() only park on it and are woken through the
// executor (Wakeup), never resumed from inside a handler's call stack. Destroying a parked frame
// unparks it (ParkAwaiter's destructor) and cancels its pending wake-up (Wakeup's destructor); the
// socket's I/O belongs to the ConnState and ends with close().
#include "net/real/real_tcp_network.h"

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <boost/asio/buffer.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/system/error_code.hpp>
#include <charconv>
#include <coroutine>
#include <cstring>
#include <deque>
#include <optional>
#include <utility>
#include <vector>

#include "net/real/asio_access.h"
#include "net/real/tcp_listen.h"
#include "net/real/waiter.h"

namespace lafs::real {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using boost::system::error_code;

namespace {

// Bytes read from the socket per call into the shared read buffer. A frame larger than this is
// read into its own buffer, allocated only once its length has been checked against the limit.
constexpr std::size_t kReadChunkBytes = 64 * 1024;
// Frames handed to one gathered write.
constexpr std::size_t kWriteGatherFramesMax = 64;
// Pause before accepting again after a transient accept error (e.g. out of descriptors).
constexpr auto kAcceptRetryDelay = std::chrono::milliseconds(100);
constexpr std::size_t kLengthPrefixBytes = 4;

struct ParkAwaiter {
  Waiter** slot;
  Waiter waiter;
  bool await_ready() const noexcept { return false; }
  void await_suspend(std::coroutine_handle<> h) {
    LAFS_ASSERT(*slot == nullptr);  // one waiter per slot: one send()/receive()/accept() at a time
    waiter.handle = h;
    *slot = &waiter;
  }
  void await_resume() const noexcept {}
  ~ParkAwaiter() {
    if (*slot == &waiter) *slot = nullptr;
  }
};

std::uint32_t load_be32(const std::uint8_t* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) |
         std::uint32_t{p[3]};
}

std::array<std::uint8_t, 4> be32(std::uint32_t v) {
  return {static_cast<std::uint8_t>(v >> 24), static_cast<std::uint8_t>(v >> 16),
          static_cast<std::uint8_t>(v >> 8), static_cast<std::uint8_t>(v)};
}

Status connect_error(const error_code& ec, const std::string& address) {
  const std::string msg = "connect to " + address + ": " + ec.message();
  if (ec == asio::error::timed_out) return timeout_error(msg);
  if (ec == asio::error::no_descriptors || ec == asio::error::no_buffer_space ||
      ec == asio::error::no_memory) {
    return resource_exhausted(msg);
  }
  if (ec == asio::error::access_denied) return permission_denied(msg);
  return unavailable(msg);  // refused, unreachable, reset: the peer may come back
}

void apply_socket_options(tcp::socket& s, const RealTcpNetworkOptions& o) {
  error_code ignored;  // best effort: a socket without them still works
  if (o.socket_send_buffer_bytes > 0) {
    s.set_option(asio::socket_base::send_buffer_size(o.socket_send_buffer_bytes), ignored);
  }
  if (o.socket_receive_buffer_bytes > 0) {
    s.set_option(asio::socket_base::receive_buffer_size(o.socket_receive_buffer_bytes), ignored);
  }
}

// ---------------------------------------------------------------------------------------------
// One connection's state, shared by the Connection object, the frames of calls on it, and the
// Asio handlers in flight.

struct ConnState : std::enable_shared_from_this<ConnState> {
  struct OutFrame {
    std::array<std::uint8_t, 4> header;
    Bytes body;
    std::size_t cost;
  };

  ConnState(RealExecutor& executor, tcp::socket s, const RealTcpNetworkOptions& o, std::string peer)
      : ex(executor),
        socket(std::move(s)),
        linger_timer(socket.get_executor()),
        options(o),
        peer_address(std::move(peer)),
        rbuf(kReadChunkBytes) {}

  RealExecutor& ex;
  tcp::socket socket;
  asio::steady_timer linger_timer;
  const RealTcpNetworkOptions options;
  const std::string peer_address;

  bool closed = false;      // close() was called: every call fails with Unavailable
  bool socket_open = true;  // the socket is not yet closed
  bool linger_armed = false;

  // Receiving.
  std::deque<Bytes> inbox;
  std::size_t inbox_bytes = 0;     // charged with frame_cost()
  std::optional<Status> read_end;  // why input ended; reported once the inbox is drained
  bool reading = false;            // a read is in flight (into rbuf, or into body)
  Bytes rbuf;                      // fixed size: a read may be in flight into it
  std::size_t rlen = 0;
  Bytes body;  // a large frame being read straight into place
  std::size_t body_filled = 0;
  bool in_body = false;
  Waiter* recv_waiter = nullptr;

  // Sending.
  std::deque<OutFrame> outbox;  // std::deque: elements stay put while a write reads them
  std::size_t outbox_bytes = 0;
  std::optional<Status> write_end;  // why output failed (always Unavailable)
  bool writing = false;
  std::size_t writing_frames = 0;
  std::vector<asio::const_buffer> gather;
  Waiter* send_waiter = nullptr;

  static std::size_t frame_cost(std::size_t payload) { return payload + kFrameOverheadBytes; }

  void start() {
    error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);  // frames are messages: no Nagle delay
    start_read();
  }

  // ---- Receiving ----

  void start_read() {
    if (reading || !socket_open || read_end) return;
    auto self = shared_from_this();
    if (closed) {
      // Lingering after close(): discard input until the peer's FIN.
      rlen = 0;
      in_body = false;
      body = Bytes();
      reading = true;
      socket.async_read_some(asio::buffer(rbuf), [self](const error_code& ec, std::size_t) {
        self->on_linger_read(ec);
      });
      return;
    }
    if (inbox_bytes >= options.receive_buffer_bytes) return;  // receive() resumes reading
    reading = true;
    if (in_body) {
      socket.async_read_some(
          asio::buffer(body.data() + body_filled, body.size() - body_filled),
          [self](const error_code& ec, std::size_t n) { self->on_body_read(ec, n); });
    } else {
      socket.async_read_some(asio::buffer(rbuf.data() + rlen, rbuf.size() - rlen),
                             [self](const error_code& ec, std::size_t n) { self->on_read(ec, n); });
    }
  }

  void on_linger_read(const error_code& ec) {
    reading = false;
    if (ec) {
      finish_close();  // the peer's FIN (or an error): nothing more to wait for
    } else {
      start_read();
    }
  }

  void on_read(const error_code& ec, std::size_t n) {
    reading = false;
    if (closed) return on_linger_read(ec);
    if (ec) return end_input(ec);
    rlen += n;
    parse();
    after_input();
  }

  void on_body_read(const error_code& ec, std::size_t n) {
    reading = false;
    if (closed) return on_linger_read(ec);
    if (ec) return end_input(ec);
    body_filled += n;
    if (body_filled == body.size()) {
      inbox_bytes += frame_cost(body.size());
      inbox.push_back(std::move(body));
      body = Bytes();
      in_body = false;
      body_filled = 0;
    }
    after_input();
  }

  // Cuts whole frames out of rbuf. A length over the limit is a protocol error, found before
  // anything is allocated for it.
  void parse() {
    std::size_t pos = 0;
    while (rlen - pos >= kLengthPrefixBytes) {
      const std::uint32_t len = load_be32(rbuf.data() + pos);
      if (len > options.max_frame_bytes) {
        return protocol_failure("frame of " + std::to_string(len) +
                                " bytes announced; the limit is " +
                                std::to_string(options.max_frame_bytes));
      }
      const std::size_t have = rlen - pos - kLengthPrefixBytes;
      const std::uint8_t* payload = rbuf.data() + pos + kLengthPrefixBytes;
      if (have >= len) {
        inbox_bytes += frame_cost(len);
        inbox.emplace_back(payload, payload + len);
        pos += kLengthPrefixBytes + len;
        continue;
      }
      if (kLengthPrefixBytes + len > rbuf.size()) {
        // Too big for rbuf: read the rest of it straight into its own buffer.
        body.assign(payload, payload + have);
        body.resize(len);
        body_filled = have;
        in_body = true;
        pos = rlen;
      }
      break;
    }
    if (pos > 0) {
      std::memmove(rbuf.data(), rbuf.data() + pos, rlen - pos);
      rlen -= pos;
    }
    LAFS_ASSERT(rlen < rbuf.size() || in_body);
  }

  void after_input() {
    start_read();
    if (!inbox.empty() || read_end) wake(ex, recv_waiter);
  }

  void end_input(const error_code& ec) {
    const bool mid_frame = in_body || rlen > 0;
    if (mid_frame) {
      read_end = unavailable("connection to " + peer_address + " ended in the middle of a frame");
    } else if (ec == asio::error::eof) {
      read_end = unavailable("connection closed by " + peer_address);
    } else {
      read_end = unavailable("receive from " + peer_address + ": " + ec.message());
    }
    in_body = false;
    body = Bytes();  // no read is in flight: we are in its handler
    rlen = 0;
    wake(ex, recv_waiter);
  }

  // The peer broke the framing: report it after the frames that came before, and hang up.
  void protocol_failure(std::string why) {
    read_end = protocol_error(why + " (from " + peer_address + ")");
    if (!write_end) write_end = unavailable("connection to " + peer_address + " closed: " + why);
    finish_close();
    wake(ex, recv_waiter);
    wake(ex, send_waiter);
  }

  // ---- Sending ----

  void enqueue(Bytes frame) {
    const std::size_t cost = frame_cost(frame.size());
    outbox_bytes += cost;
    outbox.push_back(
        OutFrame{be32(static_cast<std::uint32_t>(frame.size())), std::move(frame), cost});
    start_write();
  }

  void start_write() {
    if (writing || outbox.empty() || !socket_open || write_end) return;
    gather.clear();
    writing_frames = std::min(outbox.size(), kWriteGatherFramesMax);
    for (std::size_t i = 0; i < writing_frames; ++i) {
      const OutFrame& f = outbox[i];
      gather.push_back(asio::buffer(f.header));
      if (!f.body.empty()) gather.push_back(asio::buffer(f.body));
    }
    writing = true;
    auto self = shared_from_this();
    asio::async_write(socket, gather,
                      [self](const error_code& ec, std::size_t) { self->on_write(ec); });
  }

  void on_write(const error_code& ec) {
    writing = false;
    if (ec) {
      if (!write_end) write_end = unavailable("send to " + peer_address + ": " + ec.message());
      outbox.clear();  // no write is in flight any more, so the buffers may go
      outbox_bytes = 0;
      wake(ex, send_waiter);
      if (closed) finish_close();
      return;
    }
    for (std::size_t i = 0; i < writing_frames; ++i) {
      outbox_bytes -= outbox.front().cost;
      outbox.pop_front();
    }
    writing_frames = 0;
    wake(ex, send_waiter);
    if (!outbox.empty()) return start_write();
    if (closed && socket_open) begin_linger();
  }

  // ---- Closing ----

  void close() {
    if (closed) return;
    closed = true;
    inbox.clear();
    inbox_bytes = 0;
    wake(ex, recv_waiter);
    wake(ex, send_waiter);
    if (!socket_open) return;
    if (write_end) return finish_close();
    // Frames accepted by send() still go out (as in the simulator), within close_linger.
    linger_armed = true;
    linger_timer.expires_after(options.close_linger);
    auto self = shared_from_this();
    linger_timer.async_wait([self](const error_code& ec) {
      if (!ec) self->finish_close();
    });
    if (!writing && outbox.empty()) begin_linger();
  }

  // Everything queued is with the kernel: send our FIN, then read until the peer's, so that
  // closing with unread input does not turn into a reset that destroys what we just sent.
  void begin_linger() {
    error_code ec;
    socket.shutdown(tcp::socket::shutdown_send, ec);
    if (ec || read_end) return finish_close();
    start_read();
  }

  void finish_close() {
    if (!socket_open) return;
    socket_open = false;
    error_code ignored;
    socket.close(ignored);  // in-flight operations complete with operation_aborted
    if (linger_armed) linger_timer.cancel();
    if (!writing) {
      outbox.clear();
      outbox_bytes = 0;
    }
  }
};

class RealTcpConnection final : public Connection {
 public:
  explicit RealTcpConnection(std::shared_ptr<ConnState> s) : s_(std::move(s)) {}
  ~RealTcpConnection() override { s_->close(); }

  Task<Status> send(Bytes frame) override { return do_send(s_, std::move(frame)); }
  Task<Result<Bytes>> receive() override { return do_receive(s_); }
  void close() override { s_->close(); }
  std::string peer_address() const override { return s_->peer_address; }

 private:
  static Task<Status> do_send(std::shared_ptr<ConnState> s, Bytes frame);
  static Task<Result<Bytes>> do_receive(std::shared_ptr<ConnState> s);
  std::shared_ptr<ConnState> s_;
};

Status closed_status(const ConnState& s) {
  return unavailable("connection to " + s.peer_address + " is closed");
}

Task<Status> RealTcpConnection::do_send(std::shared_ptr<ConnState> s, Bytes frame) {
  if (frame.size() > s->options.max_frame_bytes) {
    co_return invalid_argument("frame of " + std::to_string(frame.size()) +
                               " bytes exceeds the limit of " +
                               std::to_string(s->options.max_frame_bytes));
  }
  const std::size_t cost = ConnState::frame_cost(frame.size());
  // Back-pressure: wait while the buffer is full. A frame larger than the whole buffer goes
  // alone, once the buffer is empty.
  while (!s->closed && !s->write_end && s->outbox_bytes > 0 &&
         s->outbox_bytes + cost > s->options.send_buffer_bytes) {
    co_await ParkAwaiter{&s->send_waiter, {}};
  }
  if (s->closed) co_return closed_status(*s);
  if (s->write_end) co_return *s->write_end;
  s->enqueue(std::move(frame));
  co_return Status{};
}

Task<Result<Bytes>> RealTcpConnection::do_receive(std::shared_ptr<ConnState> s) {
  while (!s->closed && s->inbox.empty() && !s->read_end) {
    co_await ParkAwaiter{&s->recv_waiter, {}};
  }
  if (s->closed) co_return closed_status(*s);
  if (!s->inbox.empty()) {
    Bytes frame = std::move(s->inbox.front());
    s->inbox.pop_front();
    s->inbox_bytes -= ConnState::frame_cost(frame.size());
    s->start_read();  // reading may have paused at the bound
    co_return frame;
  }
  Status end = *s->read_end;
  s->close();  // as in the simulator: once the end is reported, the connection is done
  co_return end;
}

std::shared_ptr<ConnState> make_conn(RealExecutor& ex, tcp::socket socket,
                                     const RealTcpNetworkOptions& options, std::string peer) {
  auto s = std::make_shared<ConnState>(ex, std::move(socket), options, std::move(peer));
  s->start();
  return s;
}

// ---------------------------------------------------------------------------------------------
// Listening

struct ListenerState : std::enable_shared_from_this<ListenerState> {
  ListenerState(RealExecutor& executor, const RealTcpNetworkOptions& o)
      : ex(executor),
        acceptor(AsioAccess::io_context(executor)),
        retry_timer(AsioAccess::io_context(executor)),
        options(o) {}

  RealExecutor& ex;
  tcp::acceptor acceptor;
  asio::steady_timer retry_timer;
  const RealTcpNetworkOptions options;
  std::string address;
  std::deque<tcp::socket> ready;  // accepted, waiting for accept(); at most accept_queue_max
  bool accepting = false;
  bool closed = false;
  Waiter* accept_waiter = nullptr;

  void start_accept() {
    if (accepting || closed || ready.size() >= options.accept_queue_max) return;
    accepting = true;
    auto self = shared_from_this();
    acceptor.async_accept(
        [self](const error_code& ec, tcp::socket s) { self->on_accept(ec, std::move(s)); });
  }

  void on_accept(const error_code& ec, tcp::socket s) {
    accepting = false;
    if (closed) return;  // `s`, if any, closes here
    if (ec) {
      if (ec == asio::error::operation_aborted) return;
      if (ec == asio::error::connection_aborted) return start_accept();  // that client gave up
      // Out of descriptors or memory: retrying at once would spin.
      auto self = shared_from_this();
      retry_timer.expires_after(kAcceptRetryDelay);
      retry_timer.async_wait([self](const error_code& e) {
        if (!e) self->start_accept();
      });
      return;
    }
    ready.push_back(std::move(s));
    wake(ex, accept_waiter);
    start_accept();
  }

  void close() {
    if (closed) return;
    closed = true;
    error_code ignored;
    acceptor.close(ignored);
    retry_timer.cancel();
    ready.clear();  // connections nobody accepted are closed, so their clients learn at once
    wake(ex, accept_waiter);
  }
};

class RealTcpListener final : public Listener {
 public:
  explicit RealTcpListener(std::shared_ptr<ListenerState> s) : s_(std::move(s)) {}
  ~RealTcpListener() override { s_->close(); }

  Task<Result<std::unique_ptr<Connection>>> accept() override { return do_accept(s_); }
  std::string address() const override { return s_->address; }

 private:
  static Task<Result<std::unique_ptr<Connection>>> do_accept(std::shared_ptr<ListenerState> s) {
    for (;;) {
      while (!s->closed && s->ready.empty()) {
        co_await ParkAwaiter{&s->accept_waiter, {}};
      }
      if (s->closed) co_return unavailable("listener on " + s->address + " is closed");
      tcp::socket socket = std::move(s->ready.front());
      s->ready.pop_front();
      s->start_accept();
      error_code ec;
      const tcp::endpoint peer = socket.remote_endpoint(ec);
      if (ec) continue;  // reset before we got to it
      apply_socket_options(socket, s->options);
      co_return std::unique_ptr<Connection>(new RealTcpConnection(
          make_conn(s->ex, std::move(socket), s->options, endpoint_string(peer))));
    }
  }
  std::shared_ptr<ListenerState> s_;
};

// ---------------------------------------------------------------------------------------------
// Connecting

struct ConnectState {
  ConnectState(asio::io_context& io) : socket(io), timer(io) {}
  tcp::socket socket;
  asio::steady_timer timer;
  bool finished = false;  // connected, failed, timed out, or abandoned by the caller
  std::optional<Status> error;
  Waiter* waiter = nullptr;
};

// Lives in the connecting frame: if the frame is destroyed first, the attempt is abandoned and
// its socket and timer cancelled (their handlers hold the state, not the frame).
struct ConnectGuard {
  std::shared_ptr<ConnectState> s;
  ~ConnectGuard() {
    if (s->finished) return;
    s->finished = true;
    error_code ignored;
    s->socket.close(ignored);
    s->timer.cancel();
  }
};

Task<Result<std::unique_ptr<Connection>>> do_connect(RealExecutor* ex,
                                                     RealTcpNetworkOptions options,
                                                     std::string address) {
  Result<TcpAddress> parsed = parse_tcp_address(address, /*allow_port_zero=*/false);
  if (!parsed.ok()) co_return parsed.status();
  error_code ec;
  const asio::ip::address ip = asio::ip::make_address(parsed->host, ec);
  if (ec) co_return invalid_argument("bad address '" + address + "': " + ec.message());
  const tcp::endpoint endpoint(ip, parsed->port);

  auto s = std::make_shared<ConnectState>(AsioAccess::io_context(*ex));
  ConnectGuard guard{s};
  s->socket.open(endpoint.protocol(), ec);
  if (ec) co_return connect_error(ec, address);
  apply_socket_options(s->socket, options);  // before connecting: window scaling is negotiated
  s->socket.async_connect(endpoint, [s, ex, address](const error_code& e) {
    if (s->finished) return;
    s->finished = true;
    s->timer.cancel();
    if (e) s->error = connect_error(e, address);
    wake(*ex, s->waiter);
  });
  s->timer.expires_after(options.connect_timeout);
  s->timer.async_wait([s, ex, address](const error_code& e) {
    if (e || s->finished) return;
    s->finished = true;
    s->error = timeout_error("connect to " + address + " timed out");
    error_code ignored;
    s->socket.close(ignored);
    wake(*ex, s->waiter);
  });
  while (!s->finished) co_await ParkAwaiter{&s->waiter, {}};
  if (s->error) co_return *s->error;
  const tcp::endpoint peer = s->socket.remote_endpoint(ec);
  if (ec) co_return connect_error(ec, address);  // reset between connecting and now
  co_return std::unique_ptr<Connection>(
      new RealTcpConnection(make_conn(*ex, std::move(s->socket), options, endpoint_string(peer))));
}

}  // namespace

// ---------------------------------------------------------------------------------------------

RealTcpNetwork::RealTcpNetwork(RealExecutor& ex, RealTcpNetworkOptions options)
    : ex_(ex), options_(options) {
  LAFS_ASSERT(options_.max_frame_bytes > 0 && options_.max_frame_bytes <= 0xffffffffu);
  LAFS_ASSERT(options_.send_buffer_bytes > 0);
  LAFS_ASSERT(options_.receive_buffer_bytes > 0);
  LAFS_ASSERT(options_.accept_queue_max > 0);
  LAFS_ASSERT(options_.connect_timeout > Duration::zero());
}

Result<std::unique_ptr<Listener>> RealTcpNetwork::listen(std::string address) {
  auto s = std::make_shared<ListenerState>(ex_, options_);
  auto bound = bind_and_listen(s->acceptor, address, options_.listen_backlog, "listen on");
  if (!bound.ok()) return bound.status();
  s->address = *bound;
  s->start_accept();
  return std::unique_ptr<Listener>(new RealTcpListener(std::move(s)));
}

Task<Result<std::unique_ptr<Connection>>> RealTcpNetwork::connect(std::string address) {
  return do_connect(&ex_, options_, std::move(address));
}

// ---------------------------------------------------------------------------------------------

std::string endpoint_string(const tcp::endpoint& ep) {
  const asio::ip::address a = ep.address();
  return format_tcp_address(TcpAddress{a.to_string(), ep.port(), a.is_v6()});
}

Result<std::string> bind_and_listen(tcp::acceptor& a, const std::string& address, int backlog,
                                    const std::string& what) {
  Result<TcpAddress> parsed = parse_tcp_address(address, /*allow_port_zero=*/true);
  if (!parsed.ok()) return parsed.status();
  error_code ec;
  const asio::ip::address ip = asio::ip::make_address(parsed->host, ec);
  if (ec) return invalid_argument("bad address '" + address + "': " + ec.message());
  const tcp::endpoint endpoint(ip, parsed->port);
  auto fail = [&](const error_code& e) -> Status {
    error_code ignored;
    a.close(ignored);
    const std::string msg = what + " " + address + ": " + e.message();
    if (e == asio::error::address_in_use) return already_exists(msg);
    if (e == asio::error::access_denied) return permission_denied(msg);
    if (e == boost::system::errc::address_not_available) return invalid_argument(msg);
    if (e == asio::error::no_descriptors) return resource_exhausted(msg);
    return unavailable(msg);
  };
  a.open(endpoint.protocol(), ec);
  if (ec) return fail(ec);
  // Linux still refuses a second listener on the same port with reuse_address.
  a.set_option(asio::socket_base::reuse_address(true), ec);
  if (ip.is_v6()) a.set_option(asio::ip::v6_only(true), ec);
  a.bind(endpoint, ec);
  if (ec) return fail(ec);
  a.listen(backlog, ec);
  if (ec) return fail(ec);
  const tcp::endpoint local = a.local_endpoint(ec);
  if (ec) return fail(ec);
  return endpoint_string(local);
}

Result<TcpAddress> parse_tcp_address(const std::string& address, bool allow_port_zero) {
  auto bad = [&](const std::string& why) {
    return invalid_argument("bad address '" + address + "': " + why);
  };
  TcpAddress out;
  std::size_t port_at;
  if (!address.empty() && address.front() == '[') {
    const std::size_t close = address.find(']');
    if (close == std::string::npos) return bad("missing ']'");
    if (close + 1 >= address.size() || address[close + 1] != ':') return bad("expected ]:port");
    out.host = address.substr(1, close - 1);
    out.ipv6 = true;
    port_at = close + 2;
    in6_addr a6;
    if (inet_pton(AF_INET6, out.host.c_str(), &a6) != 1) return bad("not an IPv6 address");
  } else {
    const std::size_t colon = address.find(':');
    if (colon == std::string::npos) return bad("expected host:port");
    if (address.find(':', colon + 1) != std::string::npos) {
      return bad("IPv6 addresses are written [address]:port");
    }
    out.host = address.substr(0, colon);
    port_at = colon + 1;
    in_addr a4;
    if (inet_pton(AF_INET, out.host.c_str(), &a4) != 1) {
      return bad(
          "host must be an IPv4 address or a bracketed IPv6 address (names are not resolved)");
    }
  }
  const char* first = address.data() + port_at;
  const char* last = address.data() + address.size();
  unsigned port = 0;
  if (first == last || last - first > 5) return bad("bad port");
  for (const char* p = first; p != last; ++p) {
    if (*p < '0' || *p > '9')
      return bad("bad port");  // from_chars would accept no sign, but be plain
  }
  auto [ptr, err] = std::from_chars(first, last, port);
  if (err != std::errc() || ptr != last || port > 65535) return bad("bad port");
  if (port == 0 && !allow_port_zero) return bad("port 0");
  out.port = static_cast<std::uint16_t>(port);
  return out;
}

std::string format_tcp_address(const TcpAddress& address) {
  const std::string port = std::to_string(address.port);
  return address.ipv6 ? "[" + address.host + "]:" + port : address.host + ":" + port;
}

}  // namespace lafs::real
