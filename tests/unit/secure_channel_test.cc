// Tests of the secure transport on the simulator: the handshake proves keys, frames are
// protected, and every kind of tampering or stalling is refused within a deadline.
#include <gtest/gtest.h>
#include <sodium.h>

#include <cstring>

#include "core/net/handshake.h"
#include "core/net/secure_channel.h"
#include "core/runtime/when.h"
#include "net/sim/sim_run.h"
#include "net/sim/simulation.h"
#include "tests/unit/tamper_connection.h"

namespace lafs::net {
namespace {

using sim::SimNode;
using sim::Simulation;

std::array<std::uint8_t, 32> seed_of(std::uint8_t b) {
  std::array<std::uint8_t, 32> s{};
  s.fill(b);
  return s;
}

using testing::Tamper;

struct Rig {
  Rig() : sim(sim::SimulationOptions{}) {
    server = &sim.add_node("server");
    client = &sim.add_node("client");
    server->start();
    client->start();
    server_key.emplace(NodeKey::from_seed(seed_of(1)));
    client_key.emplace(NodeKey::from_seed(seed_of(2)));
    listener = std::move(*server->network().listen(server->address(1)));
  }
  Simulation sim;
  SimNode* server;
  SimNode* client;
  std::optional<NodeKey> server_key, client_key;
  std::unique_ptr<Listener> listener;
  // What the server side saw, filled by serve().
  std::vector<std::string> server_log;
};

// Accepts one connection, handshakes, then logs every frame (or the error that ended it).
Task<void> serve(Rig* r, SecureOptions options) {
  auto raw = co_await r->listener->accept();
  if (!raw.ok()) co_return;
  auto conn =
      co_await secure_server_handshake(r->server, std::move(*raw), &*r->server_key, options);
  if (!conn.ok()) {
    r->server_log.push_back("handshake: " + conn.status().to_string());
    co_return;
  }
  r->server_log.push_back("peer " + to_hex((*conn)->peer_key()));
  for (;;) {
    auto f = co_await (*conn)->receive();
    if (!f.ok()) {
      r->server_log.push_back("recv: " + f.status().to_string());
      co_return;
    }
    r->server_log.push_back(to_string(*f));
    if (!(co_await (*conn)->send(std::move(*f))).is_ok()) co_return;
  }
}

Task<Result<std::string>> client_exchange(Rig* r, PublicKey expected, Tamper::Mode mode, int target,
                                          std::vector<std::string> msgs,
                                          SecureOptions options = {}) {
  auto raw = co_await r->client->network().connect(r->server->address(1));
  if (!raw.ok()) co_return raw.status();
  auto tampered = std::make_unique<Tamper>(std::move(*raw), mode, target);
  auto conn = co_await secure_client_handshake(r->client, std::move(tampered), &*r->client_key,
                                               expected, options);
  if (!conn.ok()) co_return conn.status();
  std::string echoed;
  for (auto& m : msgs) {
    LAFS_CO_RETURN_IF_ERROR(co_await (*conn)->send(to_bytes(m)));
  }
  for (std::size_t i = 0; i < msgs.size(); ++i) {
    auto f = co_await with_timeout(r->client->executor(), seconds(5), (*conn)->receive(), "echo");
    if (!f.ok()) co_return f.status();
    echoed += to_string(*f);
  }
  co_return echoed;
}

TEST(SecureChannel, HandshakeProvesBothKeysAndFramesRoundTrip) {
  Rig r;
  r.server->scope().spawn(serve(&r, {}));
  auto out = sim::run_task(r.sim.loop(), client_exchange(&r, r.server_key->public_key(),
                                                         Tamper::Mode::kNone, 0, {"a", "bc"}));
  ASSERT_TRUE(out.ok()) << out.status().to_string();
  EXPECT_EQ(*out, "abc");
  ASSERT_FALSE(r.server_log.empty());
  EXPECT_EQ(r.server_log[0], "peer " + to_hex(r.client_key->public_key()));
}

TEST(SecureChannel, WrongExpectedKeyIsRefused) {
  Rig r;
  r.server->scope().spawn(serve(&r, {}));
  NodeKey other = NodeKey::from_seed(seed_of(9));
  auto out = sim::run_task(r.sim.loop(),
                           client_exchange(&r, other.public_key(), Tamper::Mode::kNone, 0, {"x"}));
  EXPECT_EQ(out.status().code(), ErrorCode::kPermissionDenied) << out.status().to_string();
}

GridSecret grid_secret_of(std::uint8_t b) {
  GridSecret g{};
  g.fill(b);
  return g;
}

TEST(SecureChannel, PeersSharingTheGridSecretConnect) {
  Rig r;
  SecureOptions o;
  o.grid_secret = grid_secret_of(7);
  r.server->scope().spawn(serve(&r, o));
  auto out = sim::run_task(r.sim.loop(), client_exchange(&r, r.server_key->public_key(),
                                                         Tamper::Mode::kNone, 0, {"ok"}, o));
  ASSERT_TRUE(out.ok()) << out.status().to_string();
  EXPECT_EQ(*out, "ok");
}

// A client that does not hold the grid's secret (none, or another grid's) learns nothing and
// gets a clear refusal; a server without the secret is refused by a client that has one.
TEST(SecureChannel, APeerWithoutTheGridSecretIsRefused) {
  struct Case {
    std::optional<GridSecret> server, client;
  };
  for (const Case& c :
       {Case{grid_secret_of(7), std::nullopt}, Case{grid_secret_of(7), grid_secret_of(8)},
        Case{std::nullopt, grid_secret_of(7)}}) {
    Rig r;
    SecureOptions so, co;
    so.grid_secret = c.server;
    co.grid_secret = c.client;
    r.server->scope().spawn(serve(&r, so));
    auto out = sim::run_task(r.sim.loop(), client_exchange(&r, r.server_key->public_key(),
                                                           Tamper::Mode::kNone, 0, {"x"}, co));
    EXPECT_EQ(out.status().code(), ErrorCode::kPermissionDenied) << out.status().to_string();
    EXPECT_NE(out.status().message().find("grid secret"), std::string::npos);
    r.sim.loop().run_until(r.sim.loop().now() + seconds(30));
    ASSERT_EQ(r.server_log.size(), 1u);
    EXPECT_EQ(r.server_log[0].rfind("handshake: ", 0), 0u) << r.server_log[0];
  }
}

// The responder checks too: an initiator that ignores the failed check of M2 and sends M3
// anyway, sealed under keys bound to another secret, is refused.
TEST(Handshake, ResponderRefusesMessage3BoundToAnotherGridSecret) {
  const NodeKey ki = NodeKey::from_seed(seed_of(1));
  const NodeKey kr = NodeKey::from_seed(seed_of(2));
  const GridSecret s = grid_secret_of(5), t = grid_secret_of(6);
  InitiatorHandshake init(ki, kr.public_key(), seed_of(3), &s);
  ResponderHandshake honest(kr, seed_of(4), &s);
  ResponderHandshake other(kr, seed_of(4), &t);
  const Bytes m1 = init.message1();
  auto m2 = honest.on_message1(m1);
  ASSERT_TRUE(m2.ok());
  ASSERT_TRUE(other.on_message1(m1).ok());
  auto m3 = init.on_message2(*m2);
  ASSERT_TRUE(m3.ok()) << m3.status().to_string();
  EXPECT_TRUE(honest.on_message3(*m3).ok());
  auto refused = other.on_message3(*m3);
  EXPECT_EQ(refused.status().code(), ErrorCode::kPermissionDenied);
  EXPECT_NE(refused.status().message().find("grid secret"), std::string::npos);
}

TEST(SecureChannel, TamperedFramesCloseTheConnection) {
  // Frame 0 is M1, frame 1 is M3 (sealed), frames 2.. are data.
  struct Case {
    Tamper::Mode mode;
    int target;
    const char* server_sees;
  };
  for (Case c : {Case{Tamper::Mode::kFlipBit, 0, "handshake"},
                 Case{Tamper::Mode::kFlipBit, 1, "handshake: PermissionDenied"},
                 Case{Tamper::Mode::kFlipBit, 3, "failed authentication"},
                 Case{Tamper::Mode::kReplay, 2, "failed authentication"},
                 Case{Tamper::Mode::kSwapWithNext, 2, "failed authentication"},
                 Case{Tamper::Mode::kDrop, 2, "failed authentication"}}) {
    Rig r;
    r.server->scope().spawn(serve(&r, {}));
    auto out = sim::run_task(r.sim.loop(), client_exchange(&r, r.server_key->public_key(), c.mode,
                                                           c.target, {"m0", "m1", "m2"}));
    EXPECT_FALSE(out.ok()) << "mode " << static_cast<int>(c.mode) << " target " << c.target;
    r.sim.loop().run_until(r.sim.loop().now() + seconds(30));
    ASSERT_FALSE(r.server_log.empty());
    EXPECT_NE(r.server_log.back().find(c.server_sees), std::string::npos)
        << "mode " << static_cast<int>(c.mode) << ": " << r.server_log.back();
  }
}

TEST(SecureChannel, PeerThatNeverFinishesTheHandshakeTimesOut) {
  Rig r;
  SecureOptions o;
  o.handshake_timeout = seconds(3);
  // The server accepts and handshakes; the client connects raw and says nothing.
  r.server->scope().spawn(serve(&r, o));
  auto raw = sim::run_task(r.sim.loop(), r.client->network().connect(r.server->address(1)));
  ASSERT_TRUE(raw.ok());
  const MonoTime start = r.sim.loop().now();
  r.sim.loop().run_until(start + seconds(10));
  ASSERT_EQ(r.server_log.size(), 1u);
  EXPECT_NE(r.server_log[0].find("Timeout"), std::string::npos) << r.server_log[0];
  // And a server that never answers: the client gives up at its deadline.
  auto silent = std::move(*r.server->network().listen(r.server->address(2)));
  auto out =
      sim::run_task(r.sim.loop(), secure_connect(r.client, r.server->address(2), &*r.client_key,
                                                 r.server_key->public_key(), o));
  EXPECT_EQ(out.status().code(), ErrorCode::kTimeout);
}

TEST(SecureChannel, GarbageInsteadOfHandshakeIsRefused) {
  Rig r;
  r.server->scope().spawn(serve(&r, {}));
  sim::run_task(r.sim.loop(), [](Rig* rig) -> Task<void> {
    auto raw = co_await rig->client->network().connect(rig->server->address(1));
    if (raw.ok()) (void)co_await (*raw)->send(to_bytes("GET / HTTP/1.1\r\n\r\n"));
    co_await sleep_for(rig->client->executor(), seconds(1));
  }(&r));
  ASSERT_EQ(r.server_log.size(), 1u);
  EXPECT_NE(r.server_log[0].find("not a lafs handshake"), std::string::npos) << r.server_log[0];
}

// Known-answer test: the handshake bytes for fixed seeds. These values are in
// docs/specs/handshake.md; a change here is a change of wire format.
// Small frames are sealed by libsodium, larger ones by libcrypto: both must be RFC 8439
// ChaCha20-Poly1305 with the counter nonce, byte for byte, in any order of sizes. The reference
// is libsodium's one-shot call with the nonce written out here.
TEST(Handshake, BothAeadPathsAgree) {
  SessionKey key;
  for (std::size_t i = 0; i < key.size(); ++i) key[i] = static_cast<std::uint8_t>(7 * i + 1);
  FrameCipher sender(key);
  FrameCipher receiver(key);
  const std::size_t small = FrameCipher::kSmallFrameBytes;
  std::uint64_t counter = 0;
  for (std::size_t size : {std::size_t{0}, std::size_t{1}, small - 1, small, small + 1,
                           std::size_t{5000}, std::size_t{3}, std::size_t{70000}, small}) {
    SCOPED_TRACE(size);
    Bytes plain(size);
    for (std::size_t i = 0; i < size; ++i) plain[i] = static_cast<std::uint8_t>(i * 31 + size);
    std::array<std::uint8_t, crypto_aead_chacha20poly1305_ietf_NPUBBYTES> nonce{};
    std::memcpy(nonce.data() + 4, &counter, 8);
    ++counter;
    Bytes want(size + kFrameTagBytes);
    unsigned long long len = 0;
    ASSERT_EQ(
        crypto_aead_chacha20poly1305_ietf_encrypt(want.data(), &len, plain.data(), size, nullptr, 0,
                                                  nullptr, nonce.data(), key.data()),
        0);
    const Bytes sealed = sender.seal(plain);
    EXPECT_EQ(sealed, want);
    auto opened = receiver.open(sealed);
    ASSERT_TRUE(opened.ok()) << opened.status().to_string();
    EXPECT_EQ(*opened, plain);
  }
  // A flipped bit in the body or the tag fails on either path.
  for (std::size_t size : {std::size_t{40}, small + 200}) {
    for (bool in_tag : {false, true}) {
      FrameCipher a(key);
      FrameCipher b(key);
      Bytes sealed = a.seal(Bytes(size, 9));
      sealed[in_tag ? size + 3 : size / 2] ^= 0x10;
      auto opened = b.open(sealed);
      ASSERT_FALSE(opened.ok());
      EXPECT_EQ(opened.status().code(), ErrorCode::kCorruption);
      EXPECT_EQ(b.counter(), 0u);  // nothing consumed: the connection is then closed
    }
  }
}

TEST(Handshake, KnownAnswer) {
  NodeKey ki = NodeKey::from_seed(seed_of(1));
  NodeKey kr = NodeKey::from_seed(seed_of(2));
  InitiatorHandshake init(ki, kr.public_key(), seed_of(3));
  ResponderHandshake resp(kr, seed_of(4));
  Bytes m1 = init.message1();
  auto m2 = resp.on_message1(m1);
  ASSERT_TRUE(m2.ok());
  auto m3 = init.on_message2(*m2);
  ASSERT_TRUE(m3.ok());
  auto peer = resp.on_message3(*m3);
  ASSERT_TRUE(peer.ok());
  EXPECT_EQ(*peer, ki.public_key());
  SessionCiphers ci = init.take_ciphers(), cr = resp.take_ciphers();
  Bytes frame = ci.send.seal(to_bytes("hello"));
  auto opened = cr.receive.open(frame);
  ASSERT_TRUE(opened.ok());
  EXPECT_EQ(to_string(*opened), "hello");
  EXPECT_EQ(to_hex(ki.public_key()),
            "8a88e3dd7409f195fd52db2d3cba5d72ca6709bf1d94121bf3748801b40f6f5c");
  EXPECT_EQ(to_hex(m1),
            "4c4146530185788f6e8c1818fd4314b841a87ffb91af60d95aa98338496cd17ba1cbf1532b");
  EXPECT_EQ(
      to_hex(*m2),
      "015fd61ddf41b10f75d39b50e9a30228c7fee22cc8afdb1780e48612babf8ebe118139770ea87d175f56a35466c3"
      "4c7ecccb8d8a91b4ee37a25df60f5b8fc9b394ce71544e6293e5eaf3c168daa5393b85ffe74795de71549c7e1301"
      "a4df789f4aae600ddf46dfb2f443f9c49283c1bb7f9f0cf65c71fd06e2af1ad20f53500e05");
  EXPECT_EQ(to_hex(*m3),
            "cb559e7d6a04e1e4a9923f8c1bfea866af7ea4bb0771ab529d6deddcd911a60b5d7ae16a20bf61ecc3638e"
            "4c01ea3fa2838c14b606ed20f46bf98cf0361d7cb33e6d7234f8fa6663127ebadd99162f4958344d46aa13"
            "c205e9dc549e018722369a53a95e1a43af1a57f3a70daba2a373");
  EXPECT_EQ(to_hex(frame), "1893f7eb09356a867be3785bb8b0b9da990668cb47");
}

}  // namespace
}  // namespace lafs::net
