// Tests of RealTcpNetwork on 127.0.0.1 (and ::1 when available): echo, many connections, large
// frames, back-pressure, closes from either side, refused and timed-out connects, cancellation, and
// peers that break the framing (driven by plain blocking sockets on a helper thread).
#include "net/real/real_tcp_network.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <iterator>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "core/runtime/scope.h"
#include "core/runtime/when.h"
#include "net/real/real_executor.h"
#include "net/real/real_run.h"

// The same helpers as the contract suites (tests/unit/disk_contract.h), without their suites.
#ifndef LAFS_CONTRACT_STATUS_HELPERS
#define LAFS_CONTRACT_STATUS_HELPERS
namespace lafs::contract {
inline Status status_of(const Status& s) {
  return s;
}
template <typename T>
Status status_of(const Result<T>& r) {
  return r.status();
}
}  // namespace lafs::contract
#define LAFS_EXPECT_OK(expr)                                              \
  do {                                                                    \
    const ::lafs::Status lafs_s_ = ::lafs::contract::status_of(expr);     \
    EXPECT_TRUE(lafs_s_.is_ok()) << #expr << ": " << lafs_s_.to_string(); \
  } while (0)
#define LAFS_ASSERT_OK(expr)                                              \
  do {                                                                    \
    const ::lafs::Status lafs_s_ = ::lafs::contract::status_of(expr);     \
    ASSERT_TRUE(lafs_s_.is_ok()) << #expr << ": " << lafs_s_.to_string(); \
  } while (0)
#define LAFS_EXPECT_CODE(expr, want)                                                  \
  do {                                                                                \
    const ::lafs::Status lafs_s_ = ::lafs::contract::status_of(expr);                 \
    EXPECT_EQ(::lafs::error_code_name(lafs_s_.code()), ::lafs::error_code_name(want)) \
        << #expr << ": " << lafs_s_.to_string();                                      \
  } while (0)
#endif  // LAFS_CONTRACT_STATUS_HELPERS

namespace lafs::real {
namespace {

using Clock = std::chrono::steady_clock;

// ---- Coroutine helpers ----

Task<void> echo_connection(std::unique_ptr<Connection> c) {
  for (;;) {
    auto f = co_await c->receive();
    if (!f.ok()) co_return;
    if (!(co_await c->send(std::move(*f))).is_ok()) co_return;
  }
}

Task<void> echo_server(Listener* l, Scope* conns) {
  for (;;) {
    auto c = co_await l->accept();
    if (!c.ok()) co_return;
    conns->spawn(echo_connection(std::move(*c)));
  }
}

// Sends every message and collects the echoes: all sends first when `pipelined`, else one
// round trip per message.
Task<Result<std::vector<std::string>>> echo_client(Network* net, std::string addr,
                                                   std::vector<std::string> msgs, bool pipelined) {
  auto c = co_await net->connect(addr);
  if (!c.ok()) co_return c.status();
  std::vector<std::string> got;
  if (pipelined) {
    for (const auto& m : msgs) LAFS_CO_RETURN_IF_ERROR(co_await (*c)->send(to_bytes(m)));
  }
  for (const auto& m : msgs) {
    if (!pipelined) LAFS_CO_RETURN_IF_ERROR(co_await (*c)->send(to_bytes(m)));
    auto f = co_await (*c)->receive();
    if (!f.ok()) co_return f.status();
    got.push_back(to_string(*f));
  }
  co_return got;
}

struct Received {
  std::vector<std::string> frames;
  std::optional<Status> end;
};

// Accepts one connection and receives until an error.
Task<void> receive_all(Listener* l, Received* out) {
  auto c = co_await l->accept();
  if (!c.ok()) {
    out->end = c.status();
    co_return;
  }
  for (;;) {
    auto f = co_await (*c)->receive();
    if (!f.ok()) {
      out->end = f.status();
      co_return;
    }
    out->frames.push_back(to_string(*f));
  }
}

std::string pattern(std::size_t n, int seed) {
  std::string s(n, '\0');
  for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>((i * 131 + seed) & 0xff);
  return s;
}

std::uint16_t port_of(const std::string& address) {
  auto a = parse_tcp_address(address, true);
  LAFS_ASSERT(a.ok());
  return a->port;
}

// ---- Raw sockets for peers that misbehave ----

int raw_connect(std::uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  LAFS_ASSERT(fd >= 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  ::inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
  LAFS_ASSERT(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  timeval tv{10, 0};  // no test waits this long unless it is broken
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  return fd;
}

void raw_send(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n <= 0) return;  // the server may already have hung up
    data.remove_prefix(static_cast<std::size_t>(n));
  }
}

std::string be32(std::uint32_t v) {
  return {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8),
          static_cast<char>(v)};
}

std::string raw_frame(std::string_view payload) {
  return be32(static_cast<std::uint32_t>(payload.size())) + std::string(payload);
}

// True when the server hung up (EOF or reset) before the receive timeout.
bool raw_wait_closed(int fd) {
  char buf[4096];
  for (;;) {
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n == 0) return true;
    if (n < 0) return errno != EAGAIN && errno != EWOULDBLOCK;
  }
}

// A raw client that connects, sends `bytes`, then either waits for the server to hang up or
// closes at once; runs on its own thread while the test drives the executor.
class RawPeer {
 public:
  RawPeer(std::uint16_t port, std::string bytes, bool wait_for_close)
      : thread_([this, port, bytes = std::move(bytes), wait_for_close] {
          int fd = raw_connect(port);
          raw_send(fd, bytes);
          if (wait_for_close) server_hung_up_ = raw_wait_closed(fd);
          ::close(fd);
        }) {}
  ~RawPeer() { join(); }
  void join() {
    if (thread_.joinable()) thread_.join();
  }
  bool server_hung_up() {
    join();
    return server_hung_up_;
  }

 private:
  bool server_hung_up_ = false;
  std::thread thread_;
};

struct TcpRig {
  explicit TcpRig(RealTcpNetworkOptions o = {}) : net(ex, o) {}
  RealExecutor ex;
  RealTcpNetwork net;
};

// ---- Tests ----

TEST(RealTcp, EchoFramesOfManySizes) {
  TcpRig rig;
  auto l = rig.net.listen("127.0.0.1:0");
  LAFS_ASSERT_OK(l);
  EXPECT_NE(port_of((*l)->address()), 0);
  EXPECT_EQ((*l)->address().rfind("127.0.0.1:", 0), 0u);
  Scope conns(rig.ex);
  Scope server(rig.ex);
  server.spawn(echo_server(l->get(), &conns));
  std::vector<std::string> msgs = {"",
                                   "a",
                                   pattern(1000, 1),
                                   pattern(64 * 1024 - 4, 2),
                                   pattern(64 * 1024, 3),
                                   pattern(1 << 20, 4),
                                   pattern(5 << 20, 5)};
  auto got = run_task(rig.ex, echo_client(&rig.net, (*l)->address(), msgs, false));
  LAFS_ASSERT_OK(got);
  EXPECT_EQ(*got, msgs);
  // Many small frames in flight at once arrive whole and in order.
  std::vector<std::string> small;
  for (int i = 0; i < 2000; ++i) small.push_back(pattern(static_cast<std::size_t>(i % 50), i));
  auto got2 = run_task(rig.ex, echo_client(&rig.net, (*l)->address(), small, true));
  LAFS_ASSERT_OK(got2);
  EXPECT_EQ(*got2, small);
}

TEST(RealTcp, ManyConcurrentConnections) {
  TcpRig rig;
  auto l = rig.net.listen("127.0.0.1:0");
  LAFS_ASSERT_OK(l);
  Scope conns(rig.ex);
  Scope server(rig.ex);
  server.spawn(echo_server(l->get(), &conns));
  constexpr int kClients = 64;
  std::vector<Task<Result<std::vector<std::string>>>> clients;
  std::vector<std::vector<std::string>> want;
  for (int i = 0; i < kClients; ++i) {
    std::vector<std::string> msgs;
    for (int j = 0; j < 20; ++j)
      msgs.push_back("client " + std::to_string(i) + " msg " + std::to_string(j) +
                     pattern(j * 100, i));
    want.push_back(msgs);
    clients.push_back(echo_client(&rig.net, (*l)->address(), std::move(msgs), i % 2 == 0));
  }
  auto results = run_task(rig.ex, when_all(rig.ex, std::move(clients)));
  ASSERT_EQ(results.size(), static_cast<std::size_t>(kClients));
  for (int i = 0; i < kClients; ++i) {
    LAFS_ASSERT_OK(results[i]);
    EXPECT_EQ(*results[i], want[i]) << "client " << i;
  }
}

TEST(RealTcp, FrameLimitOnSend) {
  RealTcpNetworkOptions o;
  o.max_frame_bytes = 256 * 1024;
  TcpRig rig(o);
  auto l = rig.net.listen("127.0.0.1:0");
  LAFS_ASSERT_OK(l);
  Scope conns(rig.ex);
  Scope server(rig.ex);
  server.spawn(echo_server(l->get(), &conns));
  auto at_limit = run_task(
      rig.ex, echo_client(&rig.net, (*l)->address(), {pattern(o.max_frame_bytes, 1)}, false));
  LAFS_ASSERT_OK(at_limit);
  EXPECT_EQ((*at_limit)[0].size(), o.max_frame_bytes);
  auto over = run_task(
      rig.ex, echo_client(&rig.net, (*l)->address(), {pattern(o.max_frame_bytes + 1, 1)}, false));
  LAFS_EXPECT_CODE(over, ErrorCode::kInvalidArgument);
}

TEST(RealTcp, OversizedAnnouncedLengthIsProtocolErrorAfterEarlierFrames) {
  TcpRig rig;
  auto l = rig.net.listen("127.0.0.1:0");
  LAFS_ASSERT_OK(l);
  // 0xfffffff0 bytes announced: far over the limit, and never allocated.
  RawPeer peer(port_of((*l)->address()),
               raw_frame("first") + raw_frame("second") + be32(0xfffffff0u) + "abc", true);
  Received r;
  run_task(rig.ex, receive_all(l->get(), &r));
  EXPECT_EQ(r.frames, (std::vector<std::string>{"first", "second"}));
  ASSERT_TRUE(r.end.has_value());
  EXPECT_EQ(r.end->code(), ErrorCode::kProtocolError) << r.end->to_string();
  EXPECT_TRUE(peer.server_hung_up());
}

TEST(RealTcp, LengthJustOverAConfiguredLimitIsProtocolError) {
  RealTcpNetworkOptions o;
  o.max_frame_bytes = 1024;
  TcpRig rig(o);
  auto l = rig.net.listen("127.0.0.1:0");
  LAFS_ASSERT_OK(l);
  RawPeer peer(port_of((*l)->address()), raw_frame(pattern(1024, 0)) + raw_frame(pattern(1025, 0)),
               true);
  Received r;
  run_task(rig.ex, receive_all(l->get(), &r));
  ASSERT_EQ(r.frames.size(), 1u);
  EXPECT_EQ(r.frames[0], pattern(1024, 0));
  ASSERT_TRUE(r.end.has_value());
  EXPECT_EQ(r.end->code(), ErrorCode::kProtocolError) << r.end->to_string();
  EXPECT_TRUE(peer.server_hung_up());
}

TEST(RealTcp, GarbageIsProtocolError) {
  TcpRig rig;
  auto l = rig.net.listen("127.0.0.1:0");
  LAFS_ASSERT_OK(l);
  RawPeer peer(port_of((*l)->address()), "GET / HTTP/1.1\r\nHost: x\r\n\r\n", true);
  Received r;
  run_task(rig.ex, receive_all(l->get(), &r));
  EXPECT_TRUE(r.frames.empty());
  ASSERT_TRUE(r.end.has_value());
  EXPECT_EQ(r.end->code(), ErrorCode::kProtocolError) << r.end->to_string();
  EXPECT_TRUE(peer.server_hung_up());
}

TEST(RealTcp, TruncatedFrameThenCloseIsUnavailable) {
  TcpRig rig;
  auto l = rig.net.listen("127.0.0.1:0");
  LAFS_ASSERT_OK(l);
  for (std::size_t announced : {100u, 200'000u}) {  // within the read buffer, and beyond it
    SCOPED_TRACE(announced);
    RawPeer peer(port_of((*l)->address()),
                 raw_frame("whole") + be32(static_cast<std::uint32_t>(announced)) + "only ten..",
                 false);
    Received r;
    run_task(rig.ex, receive_all(l->get(), &r));
    EXPECT_EQ(r.frames, std::vector<std::string>{"whole"});
    ASSERT_TRUE(r.end.has_value());
    EXPECT_EQ(r.end->code(), ErrorCode::kUnavailable) << r.end->to_string();
    EXPECT_NE(r.end->message().find("middle of a frame"), std::string::npos);
  }
}

Task<void> send_then_close(Listener* l, std::vector<std::string> frames, Status* result) {
  auto c = co_await l->accept();
  if (!c.ok()) {
    *result = c.status();
    co_return;
  }
  for (auto& f : frames) {
    Status s = co_await (*c)->send(to_bytes(f));
    if (!s.is_ok()) {
      *result = s;
      co_return;
    }
  }
  *result = Status{};
}  // the connection is destroyed here, with frames still queued

Task<Received> connect_and_receive_late(Network* net, Executor* ex, std::string addr) {
  Received r;
  auto c = co_await net->connect(addr);
  if (!c.ok()) {
    r.end = c.status();
    co_return r;
  }
  co_await sleep_for(*ex, milliseconds(100));  // the server has closed by now
  for (;;) {
    auto f = co_await (*c)->receive();
    if (!f.ok()) {
      r.end = f.status();
      co_return r;
    }
    r.frames.push_back(to_string(*f));
  }
}

TEST(RealTcp, PeerCloseDeliversQueuedFramesThenUnavailable) {
  TcpRig rig;
  auto l = rig.net.listen("127.0.0.1:0");
  LAFS_ASSERT_OK(l);
  std::vector<std::string> frames = {"one", pattern(4 << 20, 7), "three"};
  Status sent = internal_error("not run");
  Scope server(rig.ex);
  server.spawn(send_then_close(l->get(), frames, &sent));
  Received r = run_task(rig.ex, connect_and_receive_late(&rig.net, &rig.ex, (*l)->address()));
  LAFS_EXPECT_OK(sent);
  EXPECT_EQ(r.frames, frames);
  ASSERT_TRUE(r.end.has_value());
  EXPECT_EQ(r.end->code(), ErrorCode::kUnavailable) << r.end->to_string();
}

Task<Status> keep_sending(Network* net, std::string addr, int* sent) {
  auto c = co_await net->connect(addr);
  if (!c.ok()) co_return c.status();
  for (;;) {
    Status s = co_await (*c)->send(to_bytes(pattern(16 * 1024, *sent)));
    if (!s.is_ok()) co_return s;
    ++*sent;
  }
}

Task<void> accept_and_close(Listener* l) {
  auto c = co_await l->accept();
  if (c.ok()) (*c)->close();
}

TEST(RealTcp, APeerThatKeepsSendingAfterOurCloseIsCut) {
  RealTcpNetworkOptions o;
  o.close_linger = milliseconds(100);
  TcpRig rig(o);
  auto l = rig.net.listen("127.0.0.1:0");
  LAFS_ASSERT_OK(l);
  Scope server(rig.ex);
  server.spawn(accept_and_close(l->get()));
  int sent = 0;
  const auto t0 = Clock::now();
  Status s = run_task(rig.ex, keep_sending(&rig.net, (*l)->address(), &sent), seconds(30));
  EXPECT_EQ(s.code(), ErrorCode::kUnavailable) << s.to_string();
  EXPECT_LT(Clock::now() - t0, std::chrono::seconds(10));
}

Task<void> receive_into(Connection* c, std::optional<Result<Bytes>>* out) {
  out->emplace(co_await c->receive());
}

Task<void> accept_into(Listener* l, std::unique_ptr<Connection>* out) {
  auto c = co_await l->accept();
  if (c.ok()) *out = std::move(*c);
}

TEST(RealTcp, CloseIsIdempotentAndFailsPendingAndLaterCalls) {
  TcpRig rig;
  auto l = rig.net.listen("127.0.0.1:0");
  LAFS_ASSERT_OK(l);
  std::unique_ptr<Connection> server_side;
  Scope server(rig.ex);
  server.spawn(accept_into(l->get(), &server_side));
  auto c = run_task(rig.ex, rig.net.connect((*l)->address()));
  LAFS_ASSERT_OK(c);
  ASSERT_TRUE(rig.ex.run_until([&] { return server_side != nullptr; }, seconds(10)));
  EXPECT_EQ((*c)->peer_address(), (*l)->address());

  std::optional<Result<Bytes>> pending;
  Scope waiter(rig.ex);
  waiter.spawn(receive_into(c->get(), &pending));
  rig.ex.run_until([] { return false; }, milliseconds(10));
  EXPECT_FALSE(pending.has_value());
  (*c)->close();
  (*c)->close();
  ASSERT_TRUE(rig.ex.run_until([&] { return pending.has_value(); }, seconds(10)));
  LAFS_EXPECT_CODE(*pending, ErrorCode::kUnavailable);
  LAFS_EXPECT_CODE(run_task(rig.ex, (*c)->send(to_bytes("x"))), ErrorCode::kUnavailable);
  LAFS_EXPECT_CODE(run_task(rig.ex, (*c)->receive()), ErrorCode::kUnavailable);
  // The other side sees the close.
  LAFS_EXPECT_CODE(run_task(rig.ex, server_side->receive()), ErrorCode::kUnavailable);
}

Task<void> send_later(Executor* ex, Connection* c, Duration delay, std::string frame) {
  co_await sleep_for(*ex, delay);
  (void)co_await c->send(to_bytes(frame));
}

TEST(RealTcp, CancellingAReceiveLosesNoFrame) {
  TcpRig rig;
  auto l = rig.net.listen("127.0.0.1:0");
  LAFS_ASSERT_OK(l);
  std::unique_ptr<Connection> server_side;
  Scope server(rig.ex);
  server.spawn(accept_into(l->get(), &server_side));
  auto c = run_task(rig.ex, rig.net.connect((*l)->address()));
  LAFS_ASSERT_OK(c);
  ASSERT_TRUE(rig.ex.run_until([&] { return server_side != nullptr; }, seconds(10)));
  {
    std::optional<Result<Bytes>> never;
    Scope cancelled(rig.ex);
    cancelled.spawn(receive_into(c->get(), &never));
    rig.ex.run_until([] { return false; }, milliseconds(10));
    EXPECT_FALSE(never.has_value());
  }  // the parked receive is destroyed
  server.spawn(send_later(&rig.ex, server_side.get(), milliseconds(20), "kept"));
  auto f = run_task(rig.ex, (*c)->receive());
  LAFS_ASSERT_OK(f);
  EXPECT_EQ(to_string(*f), "kept");
}

Task<void> send_numbered(Connection* c, int count, std::size_t size, int* sent) {
  for (int i = 0; i < count; ++i) {
    std::string f = pattern(size, i);
    f.replace(0, 4, be32(static_cast<std::uint32_t>(i)));
    if (!(co_await c->send(to_bytes(f))).is_ok()) co_return;
    ++*sent;
  }
}

Task<void> receive_numbered(Connection* c, int count, std::size_t size, int* received, bool* ok) {
  for (int i = 0; i < count; ++i) {
    auto f = co_await c->receive();
    if (!f.ok()) co_return;
    std::string want = pattern(size, i);
    want.replace(0, 4, be32(static_cast<std::uint32_t>(i)));
    if (to_string(*f) != want) *ok = false;
    ++*received;
  }
}

TEST(RealTcp, SendWaitsWhileThePeerDoesNotRead) {
  RealTcpNetworkOptions o;
  o.send_buffer_bytes = 64 * 1024;
  o.receive_buffer_bytes = 64 * 1024;
  o.socket_send_buffer_bytes = 16 * 1024;
  o.socket_receive_buffer_bytes = 16 * 1024;
  TcpRig rig(o);
  auto l = rig.net.listen("127.0.0.1:0");
  LAFS_ASSERT_OK(l);
  std::unique_ptr<Connection> server_side;
  Scope tasks(rig.ex);
  tasks.spawn(accept_into(l->get(), &server_side));
  auto c = run_task(rig.ex, rig.net.connect((*l)->address()));
  LAFS_ASSERT_OK(c);
  ASSERT_TRUE(rig.ex.run_until([&] { return server_side != nullptr; }, seconds(10)));

  constexpr int kFrames = 400;  // 6.4 MB: far more than every buffer on the way
  constexpr std::size_t kSize = 16 * 1024;
  int sent = 0;
  tasks.spawn(send_numbered(c->get(), kFrames, kSize, &sent));
  rig.ex.run_until([] { return false; }, milliseconds(300));
  EXPECT_GT(sent, 0);
  EXPECT_LT(sent, kFrames) << "send() never waited for the reader";
  const int stalled_at = sent;
  rig.ex.run_until([] { return false; }, milliseconds(100));
  EXPECT_EQ(sent, stalled_at);

  int received = 0;
  bool in_order = true;
  tasks.spawn(receive_numbered(server_side.get(), kFrames, kSize, &received, &in_order));
  ASSERT_TRUE(
      rig.ex.run_until([&] { return sent == kFrames && received == kFrames; }, seconds(60)));
  EXPECT_TRUE(in_order);
}

TEST(RealTcp, ConnectToAClosedPortIsUnavailablePromptly) {
  TcpRig rig;
  std::string address;
  {
    auto l = rig.net.listen("127.0.0.1:0");
    LAFS_ASSERT_OK(l);
    address = (*l)->address();
  }
  const auto t0 = Clock::now();
  auto c = run_task(rig.ex, rig.net.connect(address));
  LAFS_EXPECT_CODE(c, ErrorCode::kUnavailable);
  EXPECT_LT(Clock::now() - t0, std::chrono::seconds(2));
}

// A listening socket whose accept queue is full: Linux drops further SYNs (they are retried by the
// client), so a connect to it neither succeeds nor is refused. Fills the queue with a few
// non-blocking connects that are never accepted.
class FullBacklog {
 public:
  FullBacklog() {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    ::inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    LAFS_ASSERT(::bind(listen_fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    LAFS_ASSERT(::listen(listen_fd_, 0) == 0);
    socklen_t len = sizeof a;
    ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    for (int i = 0; i < 4; ++i) {
      int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
      ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);  // EINPROGRESS
      fillers_.push_back(fd);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ~FullBacklog() {
    for (int fd : fillers_) ::close(fd);
    ::close(listen_fd_);
  }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }

 private:
  int listen_fd_;
  std::uint16_t port_ = 0;
  std::vector<int> fillers_;
};

TEST(RealTcp, ConnectTimesOutWhenNobodyAnswers) {
  RealTcpNetworkOptions o;
  o.connect_timeout = milliseconds(200);
  TcpRig rig(o);
  FullBacklog silent;
  const auto t0 = Clock::now();
  auto c = run_task(rig.ex, rig.net.connect(silent.address()));
  const auto took = Clock::now() - t0;
  LAFS_EXPECT_CODE(c, ErrorCode::kTimeout);
  EXPECT_GE(took, std::chrono::milliseconds(200));
  EXPECT_LT(took, std::chrono::seconds(5));
}

TEST(RealTcp, CancellingAConnectAbandonsIt) {
  TcpRig rig;  // the transport's own timeout (5 s) is not what ends this
  FullBacklog silent;
  const auto t0 = Clock::now();
  auto c = run_task(
      rig.ex, with_timeout(rig.ex, milliseconds(50), rig.net.connect(silent.address()), "connect"));
  LAFS_EXPECT_CODE(c, ErrorCode::kTimeout);
  EXPECT_LT(Clock::now() - t0, std::chrono::seconds(2));
  // Nothing of the abandoned attempt is left to keep the loop busy.
  const auto t1 = Clock::now();
  rig.ex.run();
  EXPECT_LT(Clock::now() - t1, std::chrono::seconds(2));
}

TEST(RealTcp, ListenOnAPortInUseIsAlreadyExists) {
  TcpRig rig;
  auto l = rig.net.listen("127.0.0.1:0");
  LAFS_ASSERT_OK(l);
  LAFS_EXPECT_CODE(rig.net.listen((*l)->address()), ErrorCode::kAlreadyExists);
}

TEST(RealTcp, DestroyingTheListenerFailsAPendingAccept) {
  TcpRig rig;
  auto l = rig.net.listen("127.0.0.1:0");
  LAFS_ASSERT_OK(l);
  Received r;
  Scope server(rig.ex);
  server.spawn(receive_all(l->get(), &r));
  rig.ex.run_until([] { return false; }, milliseconds(10));
  l->reset();
  ASSERT_TRUE(rig.ex.run_until([&] { return r.end.has_value(); }, seconds(10)));
  EXPECT_EQ(r.end->code(), ErrorCode::kUnavailable);
}

TEST(RealTcp, Ipv6Loopback) {
  TcpRig rig;
  // Skipped, not failed, only where the kernel has no IPv6 loopback at all (some containers
  // boot with ipv6.disable=1: no ::1 in /proc/net/if_inet6): there the address family cannot be
  // tested, and IPv4 is covered above. Anywhere else a failure to listen is a failure.
  std::ifstream inet6("/proc/net/if_inet6");
  const std::string table((std::istreambuf_iterator<char>(inet6)),
                          std::istreambuf_iterator<char>());
  if (table.find("00000000000000000000000000000001") == std::string::npos) {
    GTEST_SKIP() << "this kernel has no IPv6 loopback (::1 not in /proc/net/if_inet6)";
  }
  auto l = rig.net.listen("[::1]:0");
  ASSERT_TRUE(l.ok()) << l.status().to_string();
  EXPECT_EQ((*l)->address().rfind("[::1]:", 0), 0u);
  Scope conns(rig.ex);
  Scope server(rig.ex);
  server.spawn(echo_server(l->get(), &conns));
  auto got = run_task(rig.ex, echo_client(&rig.net, (*l)->address(), {"six"}, false));
  LAFS_ASSERT_OK(got);
  EXPECT_EQ(*got, std::vector<std::string>{"six"});
}

TEST(RealTcp, AddressParsing) {
  auto ok = [](const std::string& a, bool zero_ok = false) {
    return parse_tcp_address(a, zero_ok).ok();
  };
  EXPECT_TRUE(ok("127.0.0.1:1"));
  EXPECT_TRUE(ok("0.0.0.0:65535"));
  EXPECT_TRUE(ok("[::1]:80"));
  EXPECT_TRUE(ok("127.0.0.1:0", true));
  for (const char* bad :
       {"", "127.0.0.1", "127.0.0.1:", ":80", "127.0.0.1:0", "127.0.0.1:65536", "127.0.0.1:+80",
        "127.0.0.1:8o", "127.0.0.1:123456", "localhost:80", "1.2.3:80", "::1:80", "[::1]",
        "[::1]80", "[::1:80", "[1.2.3.4]:80", "[::1]:", " 127.0.0.1:80"}) {
    EXPECT_FALSE(ok(bad)) << "'" << bad << "'";
  }
  auto v6 = parse_tcp_address("[::1]:443", false);
  LAFS_ASSERT_OK(v6);
  EXPECT_TRUE(v6->ipv6);
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->port, 443);
  EXPECT_EQ(format_tcp_address(*v6), "[::1]:443");
  EXPECT_EQ(format_tcp_address(TcpAddress{"10.0.0.1", 7, false}), "10.0.0.1:7");

  TcpRig rig;
  LAFS_EXPECT_CODE(rig.net.listen("nonsense"), ErrorCode::kInvalidArgument);
  LAFS_EXPECT_CODE(run_task(rig.ex, rig.net.connect("127.0.0.1:0")), ErrorCode::kInvalidArgument);
  LAFS_EXPECT_CODE(run_task(rig.ex, rig.net.connect("example.com:80")),
                   ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace lafs::real
