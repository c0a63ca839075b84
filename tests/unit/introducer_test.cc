// Tests of the introducer on simulated nodes: publishing and subscribing, forged and unsigned
// announcements (from a lying introducer or a bad publisher), sequence-number ordering, an
// introducer crash with clients working from their caches and everyone reconnecting within the
// backoff bound, oversized fields, and a fuzz-style check of announcement parsing.
#include <gtest/gtest.h>

#include <random>

#include "core/crypto/hash.h"
#include "core/introducer/introducer_server.h"
#include "core/introducer/publisher.h"
#include "core/introducer/subscriber.h"
#include "core/proto/introducer.pb.h"
#include "net/sim/sim_run.h"
#include "net/sim/simulation.h"

namespace lafs::introducer {
namespace {

using sim::SimNode;
using sim::Simulation;
using sim::SimulationOptions;

net::NodeKey key_of(std::uint8_t b) {
  std::array<std::uint8_t, 32> s{};
  s.fill(b);
  return net::NodeKey::from_seed(s);
}

Announcement ann_for(const net::NodeKey& key, std::string nickname, std::uint64_t seq) {
  Announcement a;
  a.node_key = key.public_key();
  a.nickname = std::move(nickname);
  a.addresses = {"sim:x:1", "tcp:127.0.0.1:7000"};
  a.available_bytes = 1 << 30;
  a.sequence_number = seq;
  a.issued = from_unix_seconds(1'700'000'000);
  return a;
}

SignedAnnouncement signed_ok(const net::NodeKey& key, std::string nickname, std::uint64_t seq) {
  auto s = sign_announcement(key, ann_for(key, std::move(nickname), seq));
  LAFS_ASSERT(s.ok());
  return *s;
}

// Signs arbitrary body bytes the way sign_announcement does, to build hostile announcements.
SignedAnnouncement sign_raw(const net::NodeKey& key, const pb::Announcement& m) {
  SignedAnnouncement s;
  s.body = to_bytes(m.SerializeAsString());
  const auto block = crypto::tag_block(crypto::HashTag::kAnnouncementSignature);
  Bytes msg(block.begin(), block.end());
  msg.insert(msg.end(), s.body.begin(), s.body.end());
  const auto sig = key.sign(msg);
  s.signature.assign(sig.begin(), sig.end());
  return s;
}

pb::Announcement body_of(const SignedAnnouncement& s) {
  pb::Announcement m;
  LAFS_ASSERT(m.ParseFromArray(s.body.data(), static_cast<int>(s.body.size())));
  return m;
}

TEST(Announcement, SignsAndVerifies) {
  const net::NodeKey k = key_of(1);
  const Announcement a = ann_for(k, "alpha", 7);
  auto s = sign_announcement(k, a);
  ASSERT_TRUE(s.ok()) << s.status().to_string();
  auto back = verify_announcement(*s, k.public_key());
  ASSERT_TRUE(back.ok()) << back.status().to_string();
  EXPECT_EQ(*back, a);
  // Deterministic: signing the same announcement gives the same bytes.
  EXPECT_EQ(sign_announcement(k, a)->body, s->body);
  auto wire = decode_signed(encode_signed(*s));
  ASSERT_TRUE(wire.ok());
  EXPECT_TRUE(verify_announcement(*wire).ok());
}

TEST(Announcement, RefusesBadSignaturesKeysAndVersions) {
  const net::NodeKey k = key_of(1), other = key_of(2);
  SignedAnnouncement s = signed_ok(k, "alpha", 1);

  SignedAnnouncement unsigned_ann{s.body, {}};
  auto r = verify_announcement(unsigned_ann);
  EXPECT_EQ(r.status().code(), ErrorCode::kCorruption);
  EXPECT_NE(r.status().message().find("not signed"), std::string::npos);

  SignedAnnouncement flipped = s;
  flipped.signature[10] ^= 1;
  EXPECT_EQ(verify_announcement(flipped).status().code(), ErrorCode::kCorruption);

  SignedAnnouncement short_sig{s.body, Bytes(s.signature.begin(), s.signature.begin() + 63)};
  EXPECT_EQ(verify_announcement(short_sig).status().code(), ErrorCode::kCorruption);

  pb::Announcement m = body_of(s);
  m.set_nickname("mallory");
  SignedAnnouncement tampered{to_bytes(m.SerializeAsString()), s.signature};
  EXPECT_EQ(verify_announcement(tampered).status().code(), ErrorCode::kCorruption);

  // Signed by another key while naming k.
  EXPECT_EQ(verify_announcement(sign_raw(other, body_of(s))).status().code(),
            ErrorCode::kCorruption);
  // Signed without the announcement context: a signature made for another purpose.
  const auto raw_sig = k.sign(s.body);
  SignedAnnouncement no_context{s.body, Bytes(raw_sig.begin(), raw_sig.end())};
  EXPECT_EQ(verify_announcement(no_context).status().code(), ErrorCode::kCorruption);

  EXPECT_EQ(verify_announcement(s, other.public_key()).status().code(),
            ErrorCode::kPermissionDenied);

  pb::Announcement newer = body_of(s);
  newer.set_version(kAnnouncementVersion + 1);
  EXPECT_EQ(verify_announcement(sign_raw(k, newer)).status().code(), ErrorCode::kProtocolError);

  pb::Announcement short_key = body_of(s);
  short_key.set_node_key("abc");
  EXPECT_EQ(verify_announcement(sign_raw(k, short_key)).status().code(),
            ErrorCode::kInvalidArgument);

  EXPECT_FALSE(sign_announcement(k, ann_for(other, "x", 1)).ok());  // key does not match
}

TEST(Announcement, OversizedFieldsAreRefusedWithAClearError) {
  const net::NodeKey k = key_of(1);
  Announcement a = ann_for(k, std::string(kNicknameBytesMax + 1, 'n'), 1);
  auto s = sign_announcement(k, a);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(s.status().message().find("nickname has 65 bytes; at most 64"), std::string::npos)
      << s.status().to_string();

  a = ann_for(k, "ok", 1);
  a.addresses.assign(kAddressesMax + 1, "sim:a:1");
  EXPECT_NE(sign_announcement(k, a).status().message().find("17 addresses; at most 16"),
            std::string::npos);
  a.addresses = {std::string(kAddressBytesMax + 1, 'a')};
  EXPECT_NE(sign_announcement(k, a).status().message().find("address has 257 bytes"),
            std::string::npos);

  // The same limits hold for what arrives signed (limits are checked after parsing).
  pb::Announcement m = body_of(signed_ok(k, "ok", 1));
  m.set_nickname(std::string(1000, 'n'));
  auto v = verify_announcement(sign_raw(k, m));
  EXPECT_EQ(v.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(v.status().message().find("nickname"), std::string::npos);
  m = body_of(signed_ok(k, "ok", 1));
  for (int i = 0; i < 40; ++i) m.add_addresses("sim:a:1");
  EXPECT_EQ(verify_announcement(sign_raw(k, m)).status().code(), ErrorCode::kInvalidArgument);
  // Oversized as a whole, before parsing.
  SignedAnnouncement huge{Bytes(kAnnouncementBytesMax + 1, 0), Bytes(64, 0)};
  EXPECT_EQ(verify_announcement(huge).status().code(), ErrorCode::kInvalidArgument);
  EXPECT_FALSE(decode_signed(Bytes(kSignedAnnouncementBytesMax + 1, 0)).ok());
}

// Random and mutated bytes never crash the parser and never verify.
TEST(Announcement, FuzzedBytesNeverCrashNeverVerify) {
  const net::NodeKey k = key_of(3);
  const SignedAnnouncement good = signed_ok(k, "fuzz", 42);
  const Bytes wire = encode_signed(good);
  std::mt19937_64 rng(20240601);  // fixed: the test is reproducible
  int verified = 0;
  for (int iter = 0; iter < 3000; ++iter) {
    Bytes b = wire;
    switch (rng() % 5) {
      case 0:  // bit flips
        for (int f = 0, n = 1 + rng() % 4; f < n; ++f) b[rng() % b.size()] ^= 1 << (rng() % 8);
        break;
      case 1:  // truncation
        b.resize(rng() % b.size());
        break;
      case 2:  // inserted random bytes
        b.insert(b.begin() + static_cast<long>(rng() % b.size()), 1 + rng() % 8,
                 static_cast<std::uint8_t>(rng()));
        break;
      case 3:  // entirely random
        b.resize(rng() % 400);
        for (auto& x : b) x = static_cast<std::uint8_t>(rng());
        break;
      default: {  // body mutated under the original signature
        SignedAnnouncement s = good;
        s.body[rng() % s.body.size()] ^= 1 << (rng() % 8);
        b = encode_signed(s);
      }
    }
    auto s = decode_signed(b);
    if (!s.ok()) continue;
    auto v = verify_announcement(*s);
    if (v.ok()) {
      ++verified;
      // Only a mutation of the outer framing that left body and signature intact may verify.
      EXPECT_EQ(s->body, good.body);
      EXPECT_EQ(s->signature, good.signature);
    }
  }
  EXPECT_LT(verified, 3000);
}

// ---- On the simulator ----

SimulationOptions drop_unsynced() {
  SimulationOptions o;
  o.seed = 11;
  o.disk.crash_keep_weight = o.kv.crash_keep_weight = 0;
  o.disk.crash_drop_weight = o.kv.crash_drop_weight = 1;
  o.disk.crash_tear_weight = o.kv.crash_tear_weight = 0;
  return o;
}

template <typename T>
struct ClearOnExit {
  T** slot;
  ~ClearOnExit() { *slot = nullptr; }
};

constexpr std::uint8_t kIntroducerSeed = 1;

struct IntroNode {
  rpc::RpcServer rpc;
  IntroducerServer server;
};

Task<void> introducer_main(SimNode* node, IntroducerServer** out) {
  const net::NodeKey key = key_of(kIntroducerSeed);
  IntroNode s{rpc::RpcServer(node), IntroducerServer(node)};
  s.server.register_methods(s.rpc);
  auto l = node->network().listen(node->address(1));
  if (!l.ok()) co_return;
  std::unique_ptr<Listener> listener = std::move(*l);
  *out = &s.server;
  ClearOnExit<IntroducerServer> clear{out};
  co_await rpc::run_rpc_listener(node, listener.get(), &key, &s.rpc, {});
}

// A lying introducer: answers every poll with `canned` (whatever bytes it was given).
Task<Result<Bytes>> canned_reply(Bytes b) {
  co_return b;
}
Task<void> liar_main(SimNode* node, Bytes canned) {
  const net::NodeKey key = key_of(kIntroducerSeed);
  rpc::RpcServer rpc(node);
  rpc.add_method(std::string(kMethodPoll),
                 [canned](Bytes, rpc::CallContext) { return canned_reply(canned); });
  auto l = node->network().listen(node->address(1));
  if (!l.ok()) co_return;
  std::unique_ptr<Listener> listener = std::move(*l);
  co_await rpc::run_rpc_listener(node, listener.get(), &key, &rpc, {});
}

Task<void> server_main(SimNode* node, std::uint8_t seed, rpc::Peer intro, PublisherOptions o,
                       Publisher** out) {
  const net::NodeKey key = key_of(seed);
  rpc::RpcPool pool(node, &key, {});
  Announcement a;
  a.nickname = node->name();
  a.addresses = {node->address(2)};
  a.available_bytes = 1000u * seed;
  Publisher pub(node, &pool, intro, &key, a, o);
  *out = &pub;
  ClearOnExit<Publisher> clear{out};
  co_await pub.run();
}

Task<void> client_main(SimNode* node, rpc::Peer intro, SubscriberOptions o, Subscriber** out,
                       Status* loaded) {
  const net::NodeKey key = key_of(200);
  rpc::RpcPool pool(node, &key, {});
  Subscriber sub(node, &pool, intro, o);
  *out = &sub;
  ClearOnExit<Subscriber> clear{out};
  *loaded = co_await sub.load_cache();
  co_await sub.run();
}

struct Grid {
  explicit Grid(int servers, bool lying = false, Bytes canned = {}) : sim(drop_unsynced()) {
    intro_node = &sim.add_node("introducer");
    if (lying) {
      intro_node->set_main([canned](SimNode& self) { return liar_main(&self, canned); });
    } else {
      intro_node->set_main(
          [slot = &introducer](SimNode& self) { return introducer_main(&self, slot); });
    }
    intro_node->start();
    const rpc::Peer intro = introducer_peer();
    pub_opts.republish_interval = seconds(60);
    pub_opts.backoff = BackoffOptions{seconds(1), seconds(20)};
    sub_opts.poll_interval = seconds(5);
    sub_opts.backoff = BackoffOptions{seconds(1), seconds(20)};
    publishers.resize(servers, nullptr);
    for (int i = 0; i < servers; ++i) {
      SimNode* n = &sim.add_node("s" + std::to_string(i));
      const auto seed = static_cast<std::uint8_t>(10 + i);
      n->set_main([seed, intro, o = pub_opts, slot = &publishers[i]](SimNode& self) {
        return server_main(&self, seed, intro, o, slot);
      });
      n->start();
      server_nodes.push_back(n);
    }
    client_node = &sim.add_node("client");
    client_node->set_main([intro, o = sub_opts, slot = &client, st = &loaded](SimNode& self) {
      return client_main(&self, intro, o, slot, st);
    });
    client_node->start();
  }
  rpc::Peer introducer_peer() {
    return rpc::Peer{intro_node->address(1), key_of(kIntroducerSeed).public_key()};
  }
  void run_for(Duration d) { sim.loop().run_until(sim.loop().now() + d); }

  // Written by the nodes' frames as they die, so declared before (destroyed after) the sim.
  IntroducerServer* introducer = nullptr;
  std::vector<Publisher*> publishers;
  Subscriber* client = nullptr;
  Status loaded;
  PublisherOptions pub_opts;
  SubscriberOptions sub_opts;
  Simulation sim;
  SimNode* intro_node = nullptr;
  SimNode* client_node = nullptr;
  std::vector<SimNode*> server_nodes;
};

TEST(Introducer, SeveralServersPublishAndAClientSeesThemAll) {
  Grid g(5);
  g.run_for(seconds(10));
  ASSERT_NE(g.introducer, nullptr);
  ASSERT_NE(g.client, nullptr);
  EXPECT_EQ(g.introducer->size(), 5u);
  ASSERT_EQ(g.client->servers().size(), 5u);
  for (int i = 0; i < 5; ++i) {
    const std::string hex = net::to_hex(key_of(static_cast<std::uint8_t>(10 + i)).public_key());
    ASSERT_EQ(g.client->servers().count(hex), 1u);
    const Announcement& a = g.client->servers().at(hex);
    EXPECT_EQ(a.nickname, "s" + std::to_string(i));
    EXPECT_EQ(a.addresses, std::vector<std::string>{g.server_nodes[i]->address(2)});
    EXPECT_EQ(a.available_bytes, 1000u * (10 + i));
  }
  EXPECT_EQ(g.client->stats().dropped_bad, 0u);
  EXPECT_GE(g.client->stats().cache_writes, 1u);

  // A change is published at once and replaces the older announcement everywhere.
  std::vector<std::string> seen;
  g.client->on_change([&seen](const Announcement& a) { seen.push_back(a.nickname); });
  Announcement a = g.publishers[2]->current();
  a.nickname = "renamed";
  a.read_only = true;
  g.publishers[2]->update(a);
  g.run_for(seconds(10));
  const std::string hex2 = net::to_hex(key_of(12).public_key());
  EXPECT_EQ(g.client->servers().at(hex2).nickname, "renamed");
  EXPECT_TRUE(g.client->servers().at(hex2).read_only);
  EXPECT_EQ(seen, std::vector<std::string>{"renamed"});
  EXPECT_EQ(g.client->servers().size(), 5u);
}

TEST(Introducer, LyingIntroducerCannotSlipInForgedOrUnsignedAnnouncements) {
  const net::NodeKey a = key_of(10), b = key_of(11);
  const SignedAnnouncement good = signed_ok(a, "good", 5);
  pb::Announcement m = body_of(good);
  m.set_nickname("forged");
  const SignedAnnouncement forged{to_bytes(m.SerializeAsString()), good.signature};
  const SignedAnnouncement unsigned_ann{signed_ok(b, "nosig", 5).body, {}};
  const SignedAnnouncement wrong_signer = sign_raw(b, body_of(signed_ok(a, "by-b", 9)));
  pb::PollResponse r;
  r.set_instance(77);
  r.set_generation(4);
  for (const SignedAnnouncement* s : {&forged, &good, &unsigned_ann, &wrong_signer}) {
    to_proto(*s, r.add_announcements());
  }
  Grid g(0, /*lying=*/true, to_bytes(r.SerializeAsString()));
  g.run_for(seconds(12));
  ASSERT_NE(g.client, nullptr);
  ASSERT_EQ(g.client->servers().size(), 1u);
  EXPECT_EQ(g.client->servers().begin()->second.nickname, "good");
  EXPECT_EQ(g.client->servers().begin()->second.sequence_number, 5u);
  EXPECT_GE(g.client->stats().dropped_bad, 3u);
  EXPECT_EQ(g.client->stats().dropped_bad % 3, 0u);  // three per poll, every poll
}

TEST(Introducer, BadPublishersAreRefused) {
  Simulation sim(drop_unsynced());
  SimNode& n = sim.add_node("introducer");
  n.start();
  IntroducerServer server(&n);
  const net::NodeKey a = key_of(10), b = key_of(11);
  const std::string a_hex = net::to_hex(a.public_key());
  SignedAnnouncement unsigned_ann = signed_ok(a, "x", 1);
  unsigned_ann.signature.clear();
  EXPECT_EQ(server.publish(unsigned_ann, "").status().code(), ErrorCode::kCorruption);
  SignedAnnouncement bad = signed_ok(a, "x", 1);
  bad.signature[0] ^= 0x80;
  EXPECT_EQ(server.publish(bad, "").status().code(), ErrorCode::kCorruption);
  // A node may publish only for itself.
  EXPECT_EQ(server.publish(signed_ok(a, "x", 1), net::to_hex(b.public_key())).status().code(),
            ErrorCode::kPermissionDenied);
  EXPECT_EQ(server.size(), 0u);
  EXPECT_EQ(server.stats().refused, 3u);
  EXPECT_TRUE(server.publish(signed_ok(a, "x", 1), a_hex).ok());
  EXPECT_EQ(server.size(), 1u);
}

TEST(Introducer, NewerSequenceNumbersReplaceOlderNeverTheReverse) {
  Simulation sim(drop_unsynced());
  SimNode& n = sim.add_node("introducer");
  n.start();
  IntroducerServer server(&n);
  const net::NodeKey a = key_of(10);
  auto p5 = server.publish(signed_ok(a, "five", 5), "");
  ASSERT_TRUE(p5.ok() && p5->accepted);
  auto p3 = server.publish(signed_ok(a, "three", 3), "");
  ASSERT_TRUE(p3.ok());
  EXPECT_FALSE(p3->accepted);
  EXPECT_EQ(p3->stored_sequence, 5u);
  auto same = server.publish(signed_ok(a, "five", 5), "");  // a refresh
  EXPECT_TRUE(same.ok() && same->accepted);
  auto clash = server.publish(signed_ok(a, "other-five", 5), "");  // same number, new content
  EXPECT_FALSE(clash->accepted);
  auto p9 = server.publish(signed_ok(a, "nine", 9), "");
  EXPECT_TRUE(p9->accepted);
  PollOutcome all = server.poll(0, 0);
  ASSERT_EQ(all.announcements.size(), 1u);
  EXPECT_EQ(verify_announcement(all.announcements[0])->nickname, "nine");
  // Nothing new since that generation; a restarted (other) instance id gets everything.
  EXPECT_TRUE(server.poll(all.instance, all.generation).announcements.empty());
  EXPECT_EQ(server.poll(all.instance + 1, all.generation).announcements.size(), 1u);

  // The subscriber applies the same rule to whatever it is handed.
  Subscriber sub(&n, nullptr, rpc::Peer{}, {});
  EXPECT_TRUE(sub.offer(signed_ok(a, "seven", 7)).is_ok());
  EXPECT_EQ(sub.offer(signed_ok(a, "six", 6)).code(), ErrorCode::kAlreadyExists);
  EXPECT_EQ(sub.offer(signed_ok(a, "seven-again", 7)).code(), ErrorCode::kAlreadyExists);
  EXPECT_EQ(sub.servers().at(net::to_hex(a.public_key())).nickname, "seven");
  EXPECT_TRUE(sub.offer(signed_ok(a, "eight", 8)).is_ok());
  EXPECT_EQ(sub.servers().at(net::to_hex(a.public_key())).nickname, "eight");
  EXPECT_EQ(sub.stats().dropped_older, 2u);
}

TEST(Introducer, PollIsPagedAndBoundedAndTheTableIsBounded) {
  Simulation sim(drop_unsynced());
  SimNode& n = sim.add_node("introducer");
  n.start();
  IntroducerOptions o;
  o.announcements_max = kPollBatchMax + 10;
  IntroducerServer server(&n, o);
  for (std::size_t i = 0; i < o.announcements_max; ++i) {
    std::array<std::uint8_t, 32> seed{};
    seed[0] = static_cast<std::uint8_t>(i);
    seed[1] = static_cast<std::uint8_t>(i >> 8);
    const net::NodeKey k = net::NodeKey::from_seed(seed);
    ASSERT_TRUE(server.publish(signed_ok(k, "n", 1), "").ok());
  }
  EXPECT_EQ(server.publish(signed_ok(key_of(250), "late", 1), "").status().code(),
            ErrorCode::kResourceExhausted);
  PollOutcome first = server.poll(0, 0);
  EXPECT_EQ(first.announcements.size(), kPollBatchMax);
  EXPECT_TRUE(first.more);
  PollOutcome second = server.poll(first.instance, first.generation);
  EXPECT_EQ(second.announcements.size(), 10u);
  EXPECT_FALSE(second.more);
  // Once the oldest are stale, a new node may take a place.
  sim.loop().run_until(sim.loop().now() + o.stale_after + seconds(1));
  EXPECT_TRUE(server.publish(signed_ok(key_of(250), "late", 1), "").ok());
  EXPECT_EQ(server.stats().evicted, 1u);
  EXPECT_EQ(server.size(), o.announcements_max);
}

TEST(Introducer, CrashKeepsClientsOnTheirCacheAndEveryoneReconnectsWithBoundedBackoff) {
  Grid g(3);
  g.run_for(seconds(10));
  ASSERT_EQ(g.client->servers().size(), 3u);
  ASSERT_GE(g.client->stats().cache_writes, 1u);

  // The introducer dies; then the client restarts while it is down.
  g.intro_node->crash(/*reset_peers=*/true);
  g.run_for(seconds(30));
  g.client_node->crash(/*reset_peers=*/true);
  g.client_node->start();
  g.run_for(seconds(1));
  ASSERT_NE(g.client, nullptr);
  EXPECT_TRUE(g.loaded.is_ok()) << g.loaded.to_string();
  EXPECT_EQ(g.client->stats().cache_loaded, 3u);
  EXPECT_EQ(g.client->servers().size(), 3u);  // working from the cache

  // Down for five minutes: everyone backs off, never beyond the bound.
  g.run_for(minutes(5));
  EXPECT_GE(g.client->consecutive_failures(), 5u);
  EXPECT_LE(g.client->stats().delay_max, g.sub_opts.backoff.max);
  EXPECT_GE(g.client->stats().delay_max, g.sub_opts.backoff.max / 2);
  for (Publisher* p : g.publishers) {
    ASSERT_NE(p, nullptr);
    EXPECT_GE(p->stats().failures, 1u);
    EXPECT_LE(p->stats().delay_max, g.pub_opts.backoff.max);
  }

  // The introducer returns empty; within one backoff bound (plus a call) everyone is back.
  g.intro_node->start();
  g.run_for(g.pub_opts.backoff.max + g.pub_opts.call_timeout + seconds(2));
  ASSERT_NE(g.introducer, nullptr);
  EXPECT_EQ(g.introducer->size(), 3u);
  g.run_for(g.sub_opts.backoff.max + g.sub_opts.call_timeout);
  EXPECT_EQ(g.client->consecutive_failures(), 0u);
  EXPECT_EQ(g.client->servers().size(), 3u);
  for (Publisher* p : g.publishers) EXPECT_EQ(p->stats().instances_seen, 2u);

  // And changes flow again.
  Announcement a = g.publishers[0]->current();
  a.available_bytes = 5;
  g.publishers[0]->update(a);
  g.run_for(seconds(10));
  EXPECT_EQ(g.client->servers().at(net::to_hex(key_of(10).public_key())).available_bytes, 5u);
}

TEST(Introducer, PublisherRestartStillAdvancesTheSequenceNumber) {
  Grid g(1);
  g.run_for(seconds(10));
  const std::string hex = net::to_hex(key_of(10).public_key());
  const std::uint64_t before = g.client->servers().at(hex).sequence_number;
  // The server restarts with its wall clock set back an hour: the persisted number still wins.
  g.server_nodes[0]->crash(true);
  g.server_nodes[0]->sim_clock().jump(-hours(1));
  g.server_nodes[0]->start();
  g.run_for(seconds(1));
  Announcement a = g.publishers[0]->current();
  a.nickname = "after-restart";
  g.publishers[0]->update(a);
  g.run_for(seconds(10));
  EXPECT_EQ(g.client->servers().at(hex).nickname, "after-restart");
  EXPECT_GT(g.client->servers().at(hex).sequence_number, before);
}

TEST(Introducer, CorruptCacheIsReportedAndTheClientStartsEmpty) {
  Grid g(2);
  g.run_for(seconds(10));
  ASSERT_EQ(g.client->servers().size(), 2u);
  g.client_node->crash(true);
  // Overwrite the cache with garbage (synced), as bit rot or a bad editor might.
  auto garbage = [](SimNode* n) -> Task<Status> {
    OpenOptions oo;
    oo.create = true;
    oo.truncate = true;
    auto f = co_await n->disk().open("introducer_cache.pb", oo);
    if (!f.ok()) co_return f.status();
    Bytes junk(100, 0xff);
    ByteView view(junk);
    LAFS_CO_RETURN_IF_ERROR(co_await (*f)->write_at(0, view));
    co_return co_await (*f)->sync();
  };
  ASSERT_TRUE(sim::run_task(g.sim.loop(), garbage(g.client_node)).is_ok());
  g.client_node->start();
  g.run_for(milliseconds(1));
  EXPECT_EQ(g.loaded.code(), ErrorCode::kCorruption) << g.loaded.to_string();
  g.run_for(seconds(10));
  EXPECT_EQ(g.client->servers().size(), 2u);  // refilled from the introducer
}

}  // namespace
}  // namespace lafs::introducer
