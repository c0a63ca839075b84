// The secure transport over real TCP on 127.0.0.1 (RealEnv): the same properties as
// secure_channel_test.cc shows in the simulator — a wrong expected key, a replayed, reordered,
// dropped or altered frame, and a peer that stalls the handshake are each refused, and within a
// deadline (handshake_timeout plus generous slack; no performance assertions).
#include <gtest/gtest.h>

#include <array>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/net/handshake.h"
#include "core/net/secure_channel.h"
#include "core/runtime/when.h"
#include "net/real/real_env.h"
#include "net/real/real_run.h"
#include "net/real/temp_dir.h"
#include "tests/unit/tamper_connection.h"
#include "tests/unit/temp_real_env.h"

namespace lafs::net {
namespace {

// How much later than its deadline a refusal may arrive on a loaded CI machine.
constexpr Duration kSlack = seconds(3);
constexpr Duration kHandshakeTimeout = seconds(1);

std::array<std::uint8_t, 32> seed_of(std::uint8_t b) {
  std::array<std::uint8_t, 32> s{};
  s.fill(b);
  return s;
}

using testing::Tamper;

// One RealEnv (client and server share its executor: both ends still cross the kernel's TCP).
struct Rig {
  Rig() {
    testing::open_temp_real_env("lafs-secure-", &dir, &env);
    server_key.emplace(NodeKey::from_seed(seed_of(1)));
    client_key.emplace(NodeKey::from_seed(seed_of(2)));
    auto l = env->network().listen("127.0.0.1:0");
    LAFS_ASSERT(l.ok());
    listener = std::move(*l);
    address = listener->address();
    options.handshake_timeout = kHandshakeTimeout;
  }
  ~Rig() {
    scope.reset();  // frames first: they hold connections of this env
    listener.reset();
  }
  real::RealExecutor& ex() { return env->real_executor(); }
  MonoTime now() { return env->executor().now(); }
  // Runs the loop until the server has logged `n` lines or `limit` passed.
  bool wait_for_server_log(std::size_t n, Duration limit) {
    return ex().run_until([&] { return server_log.size() >= n; }, limit);
  }

  std::optional<real::TempDir> dir;
  std::unique_ptr<real::RealEnv> env;
  std::optional<NodeKey> server_key, client_key;
  std::unique_ptr<Listener> listener;
  std::string address;
  SecureOptions options;
  // What the server side saw, filled by serve(), and when its last line came.
  std::vector<std::string> server_log;
  MonoTime server_log_at{};
  std::optional<Scope> scope;
};

void log_server(Rig* r, std::string line) {
  r->server_log.push_back(std::move(line));
  r->server_log_at = r->now();
}

// Accepts one connection, handshakes, then echoes every frame, logging each (or the error that
// ended it).
Task<void> serve(Rig* r) {
  auto raw = co_await r->listener->accept();
  if (!raw.ok()) co_return;
  auto conn =
      co_await secure_server_handshake(r->env.get(), std::move(*raw), &*r->server_key, r->options);
  if (!conn.ok()) {
    log_server(r, "handshake: " + conn.status().to_string());
    co_return;
  }
  log_server(r, "peer " + to_hex((*conn)->peer_key()));
  for (;;) {
    auto f = co_await (*conn)->receive();
    if (!f.ok()) {
      log_server(r, "recv: " + f.status().to_string());
      co_return;
    }
    log_server(r, to_string(*f));
    if (!(co_await (*conn)->send(std::move(*f))).is_ok()) co_return;
  }
}

// True once the server logged why its side ended.
bool server_ended(const Rig& r) {
  return !r.server_log.empty() && (r.server_log.back().rfind("recv: ", 0) == 0 ||
                                   r.server_log.back().rfind("handshake: ", 0) == 0);
}

void start_server(Rig* r) {
  r->scope.emplace(r->env->executor());
  r->scope->spawn(serve(r));
}

// Connects through a Tamper, handshakes, sends `msgs` and reads their echoes (each read bounded).
Task<Result<std::string>> client_exchange(Rig* r, PublicKey expected, Tamper::Mode mode, int target,
                                          std::vector<std::string> msgs) {
  auto raw = co_await r->env->network().connect(r->address);
  if (!raw.ok()) co_return raw.status();
  auto tampered = std::make_unique<Tamper>(std::move(*raw), mode, target);
  auto conn = co_await secure_client_handshake(r->env.get(), std::move(tampered), &*r->client_key,
                                               expected, r->options);
  if (!conn.ok()) co_return conn.status();
  for (auto& m : msgs) {
    LAFS_CO_RETURN_IF_ERROR(co_await (*conn)->send(to_bytes(m)));
  }
  std::string echoed;
  for (std::size_t i = 0; i < msgs.size(); ++i) {
    auto f = co_await with_timeout(r->env->executor(), kHandshakeTimeout + kSlack,
                                   (*conn)->receive(), "echo");
    if (!f.ok()) co_return f.status();
    echoed += to_string(*f);
  }
  co_return echoed;
}

TEST(RealSecure, HandshakeProvesBothKeysAndFramesRoundTrip) {
  Rig r;
  start_server(&r);
  auto out = real::run_task(r.ex(), client_exchange(&r, r.server_key->public_key(),
                                                    Tamper::Mode::kNone, 0, {"a", "bc", "def"}));
  ASSERT_TRUE(out.ok()) << out.status().to_string();
  EXPECT_EQ(*out, "abcdef");
  ASSERT_FALSE(r.server_log.empty());
  EXPECT_EQ(r.server_log[0], "peer " + to_hex(r.client_key->public_key()));
}

TEST(RealSecure, WrongExpectedKeyIsRefusedWithinTheDeadline) {
  Rig r;
  start_server(&r);
  const NodeKey other = NodeKey::from_seed(seed_of(9));
  const MonoTime start = r.now();
  auto out = real::run_task(r.ex(), secure_connect(r.env.get(), r.address, &*r.client_key,
                                                   other.public_key(), r.options));
  EXPECT_EQ(out.status().code(), ErrorCode::kPermissionDenied) << out.status().to_string();
  EXPECT_NE(out.status().message().find(to_hex(other.public_key())), std::string::npos)
      << out.status().to_string();
  EXPECT_LT(r.now() - start, kHandshakeTimeout + kSlack);
  // The server learns at once too: the client hung up instead of sending M3.
  ASSERT_TRUE(r.wait_for_server_log(1, kHandshakeTimeout + kSlack));
  EXPECT_EQ(r.server_log[0].rfind("handshake: ", 0), 0u) << r.server_log[0];
  EXPECT_LT(r.server_log_at - start, kHandshakeTimeout + kSlack);
}

TEST(RealSecure, TamperedFramesAreRefusedAndTheConnectionClosed) {
  // Frame 0 is M1, frame 1 is M3 (sealed), frames 2.. are data.
  struct Case {
    Tamper::Mode mode;
    int target;
    const char* server_sees;
  };
  for (Case c : {Case{Tamper::Mode::kFlipBit, 0, "handshake: Unavailable"},
                 Case{Tamper::Mode::kFlipBit, 1, "handshake: PermissionDenied"},
                 Case{Tamper::Mode::kFlipBit, 2, "failed authentication"},
                 Case{Tamper::Mode::kFlipBit, 3, "failed authentication"},
                 Case{Tamper::Mode::kReplay, 2, "failed authentication"},
                 Case{Tamper::Mode::kReplay, 1, "failed authentication"},
                 Case{Tamper::Mode::kSwapWithNext, 2, "failed authentication"},
                 Case{Tamper::Mode::kDrop, 2, "failed authentication"}}) {
    SCOPED_TRACE("mode " + std::to_string(static_cast<int>(c.mode)) + " target " +
                 std::to_string(c.target));
    Rig r;
    start_server(&r);
    const MonoTime start = r.now();
    auto out = real::run_task(r.ex(), client_exchange(&r, r.server_key->public_key(), c.mode,
                                                      c.target, {"m0", "m1", "m2"}));
    // The client learns by a refusal or a closed connection, not by its read deadline.
    ASSERT_FALSE(out.ok()) << *out;
    EXPECT_NE(out.status().code(), ErrorCode::kTimeout) << out.status().to_string();
    EXPECT_LT(r.now() - start, kHandshakeTimeout + kSlack);
    ASSERT_TRUE(r.wait_for_server_log(1, kHandshakeTimeout + kSlack));
    r.ex().run_until([&] { return server_ended(r); }, kHandshakeTimeout + kSlack);
    ASSERT_TRUE(server_ended(r));
    EXPECT_NE(r.server_log.back().find(c.server_sees), std::string::npos) << r.server_log.back();
    EXPECT_LT(r.server_log_at - start, kHandshakeTimeout + kSlack);
    // No tampered frame was ever delivered as data.
    for (const auto& line : r.server_log) {
      EXPECT_TRUE(line == "m0" || line == "m1" || line == "m2" || line.rfind("peer ", 0) == 0 ||
                  line.find(':') != std::string::npos)
          << line;
    }
  }
}

// A client that connects and then says nothing (or stops after M1): the server drops it at its
// handshake deadline, and the client sees the connection close.
Task<Result<Bytes>> stall_client(Rig* r, bool send_m1) {
  auto raw = co_await r->env->network().connect(r->address);
  if (!raw.ok()) co_return raw.status();
  if (send_m1) {
    const std::array<std::uint8_t, 32> eph = seed_of(7);
    InitiatorHandshake hs(*r->client_key, r->server_key->public_key(), eph);
    LAFS_CO_RETURN_IF_ERROR(co_await (*raw)->send(hs.message1()));
    auto m2 = co_await (*raw)->receive();  // the server answers M1, then waits for M3
    if (!m2.ok()) co_return m2.status();
    if (m2->size() != kMessage2Bytes) co_return internal_error("M2 has the wrong size");
  }
  co_return co_await with_timeout(r->env->executor(), kHandshakeTimeout + 2 * kSlack,
                                  (*raw)->receive(), "waiting for the server to hang up");
}

TEST(RealSecure, PeerThatNeverFinishesTheHandshakeIsDroppedAtTheDeadline) {
  for (bool send_m1 : {false, true}) {
    SCOPED_TRACE(send_m1 ? "stalls after M1" : "stalls before M1");
    Rig r;
    start_server(&r);
    const MonoTime start = r.now();
    auto out = real::run_task(r.ex(), stall_client(&r, send_m1));
    const Duration took = r.now() - start;
    EXPECT_EQ(out.status().code(), ErrorCode::kUnavailable) << out.status().to_string();
    EXPECT_GE(took, kHandshakeTimeout - milliseconds(50));  // not before the deadline...
    EXPECT_LT(took, kHandshakeTimeout + kSlack);            // ...and not long after it
    ASSERT_TRUE(r.wait_for_server_log(1, kSlack));
    EXPECT_NE(r.server_log[0].find("Timeout"), std::string::npos) << r.server_log[0];
  }
}

// A server that accepts and never answers: the client gives up at its deadline.
TEST(RealSecure, SilentServerTimesOutTheClient) {
  Rig r;  // nobody accepts on r.listener: the kernel completes the TCP connect, then silence
  const MonoTime start = r.now();
  auto out = real::run_task(r.ex(), secure_connect(r.env.get(), r.address, &*r.client_key,
                                                   r.server_key->public_key(), r.options));
  EXPECT_EQ(out.status().code(), ErrorCode::kTimeout) << out.status().to_string();
  EXPECT_GE(r.now() - start, kHandshakeTimeout - milliseconds(50));
  EXPECT_LT(r.now() - start, kHandshakeTimeout + kSlack);
}

TEST(RealSecure, GarbageInsteadOfAHandshakeIsRefused) {
  Rig r;
  start_server(&r);
  const MonoTime start = r.now();
  auto out = real::run_task(r.ex(), [](Rig* rig) -> Task<Result<Bytes>> {
    auto raw = co_await rig->env->network().connect(rig->address);
    if (!raw.ok()) co_return raw.status();
    LAFS_CO_RETURN_IF_ERROR(co_await (*raw)->send(to_bytes("GET / HTTP/1.1\r\n\r\n")));
    co_return co_await with_timeout(rig->env->executor(), kHandshakeTimeout + kSlack,
                                    (*raw)->receive(), "waiting for the server to hang up");
  }(&r));
  EXPECT_EQ(out.status().code(), ErrorCode::kUnavailable) << out.status().to_string();
  EXPECT_LT(r.now() - start, kHandshakeTimeout);  // refused on sight, not at the deadline
  ASSERT_TRUE(r.wait_for_server_log(1, kSlack));
  EXPECT_NE(r.server_log[0].find("not a lafs handshake"), std::string::npos) << r.server_log[0];
}

}  // namespace
}  // namespace lafs::net
