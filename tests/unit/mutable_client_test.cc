// Mutable files through simulated storage servers: create, retrieve, publish, modify; caps'
// authority; lying servers; a writer stopped between the publish phases; large shares.
#include <gtest/gtest.h>

#include "core/runtime/event.h"
#include "core/runtime/when.h"
#include "tests/unit/sim_grid.h"

namespace lafs::client {
namespace {

using testing::Grid;

constexpr std::uint32_t kHappy = 7;
const MutableParams kParams{3, 10, 4096, 0};

cap::Cap as_cap(const cap::SskWriteCap& w) {
  return cap::Cap{w, false};
}
cap::Cap read_of(const cap::SskWriteCap& w) {
  return *cap::read_cap(as_cap(w));
}

Bytes retrieve(Grid& g, const cap::Cap& c) {
  auto got = g.run(g.mutable_client->retrieve(c, g.refs));
  EXPECT_TRUE(got.ok()) << got.status().to_string();
  return got.ok() ? got->contents : to_bytes("<error>");
}

cap::SskWriteCap create(Grid& g, Bytes contents, MutableParams params = kParams,
                        std::uint32_t happy = kHappy) {
  auto w = g.run(g.mutable_client->create(std::move(contents), g.refs, params, happy));
  EXPECT_TRUE(w.ok()) << w.status().to_string();
  return w.ok() ? *w : cap::SskWriteCap{};
}

TEST(MutableClient, CreateRetrievePublishModify) {
  Grid g(10);
  const auto w = create(g, to_bytes("first version"));
  EXPECT_EQ(retrieve(g, as_cap(w)), to_bytes("first version"));
  EXPECT_EQ(retrieve(g, read_of(w)), to_bytes("first version"));
  auto verify = g.run(g.mutable_client->retrieve(*cap::verify_cap(as_cap(w)), g.refs));
  EXPECT_EQ(verify.status().code(), ErrorCode::kInvalidArgument);

  auto p = g.run(g.mutable_client->publish(w, to_bytes("second"), g.refs, kParams, kHappy));
  ASSERT_TRUE(p.ok()) << p.status().to_string();
  EXPECT_EQ(p->version.seqnum, 2u);
  EXPECT_EQ(p->shares_written, 10u);
  EXPECT_EQ(p->happiness, 10u);
  EXPECT_EQ(retrieve(g, read_of(w)), to_bytes("second"));

  auto m = g.run(g.mutable_client->modify(
      w,
      [](const Bytes& b) -> Result<Bytes> {
        Bytes out = b;
        out.push_back('!');
        return out;
      },
      g.refs, kHappy));
  ASSERT_TRUE(m.ok()) << m.status().to_string();
  EXPECT_EQ(m->version.seqnum, 3u);
  auto got = g.run(g.mutable_client->retrieve(as_cap(w), g.refs));
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->contents, to_bytes("second!"));
  EXPECT_EQ(got->version, m->version);

  // Publishing against a version that is no longer current is an uncoordinated write.
  auto stale =
      g.run(g.mutable_client->publish(w, to_bytes("late"), g.refs, kParams, kHappy, p->version));
  EXPECT_EQ(stale.status().code(), ErrorCode::kConflict);
  EXPECT_NE(stale.status().message().find("uncoordinated write"), std::string::npos);
  EXPECT_EQ(retrieve(g, as_cap(w)), to_bytes("second!"));
}

TEST(MutableClient, EmptyAndMissingFiles) {
  Grid g(5);
  const auto w = create(g, Bytes{}, {2, 5, 100, 0}, 4);
  EXPECT_EQ(retrieve(g, as_cap(w)), Bytes{});
  // A cap nobody published: NotFound, not an empty file.
  crypto::SigningSeed seed;
  seed.mutable_view()[0] = 9;
  const auto nobody = cap::ssk_write_cap(crypto::SigningKey::from_seed(seed));
  auto got = g.run(g.mutable_client->retrieve(as_cap(nobody), g.refs));
  EXPECT_EQ(got.status().code(), ErrorCode::kNotFound);
  auto pub = g.run(g.mutable_client->publish(nobody, to_bytes("x"), g.refs, kParams, kHappy));
  EXPECT_EQ(pub.status().code(), ErrorCode::kNotFound);
}

// A read cap's holder cannot write: the write enabler comes from the write key, which the read
// key does not yield; servers refuse anything else and the file is unchanged.
TEST(MutableClient, AReadCapNeverAllowsAWrite) {
  Grid g(4);
  const auto w = create(g, to_bytes("owned"), {2, 4, 100, 0}, 3);
  const auto r = std::get<cap::SskReadCap>(read_of(w).file);
  const crypto::StorageIndex si = crypto::mutable_storage_index(r.read_key);
  for (std::size_t i = 0; i < g.refs.size(); ++i) {
    const crypto::WriteKey guess(r.read_key.view());  // the best a reader can try
    const auto enabler = crypto::write_enabler(
        guess, crypto::ServerIdView(g.refs[i].key.data(), g.refs[i].key.size()));
    storage::WriteEnablerBytes we;
    std::copy_n(enabler.data(), we.size(), we.begin());
    storage::LeaseSecretBytes secret{};
    storage::SlotShareWrite write;
    write.share_number = static_cast<std::uint32_t>(i);
    write.writes.push_back({0, to_bytes("overwritten")});
    std::vector<storage::SlotShareWrite> writes{write};
    auto res = g.run(g.nodes[i].server->slot_write(si, we, secret, secret, writes));
    EXPECT_EQ(res.status().code(), ErrorCode::kPermissionDenied);
  }
  EXPECT_EQ(retrieve(g, read_of(w)), to_bytes("owned"));
}

// Servers that return altered or foreign shares: a bad signature, a forged higher sequence
// number, a share signed by another key, a stale old version. All are ignored; the read
// returns the current version and the next publish replaces them.
TEST(MutableClient, LyingServersSharesAreIgnoredNeverBelieved) {
  Grid g(10);
  const auto w = create(g, to_bytes("version one"));
  const auto keys_si = std::get<cap::SskReadCap>(read_of(w).file);
  const crypto::StorageIndex si = crypto::mutable_storage_index(keys_si.read_key);
  // Keep server 0's shares of version 1, to replay them later.
  auto old = g.run(g.nodes[0].server->slot_read(si, {}, {{0, 1 << 20}}));
  ASSERT_TRUE(old.ok() && !old->empty());
  ASSERT_TRUE(
      g.run(g.mutable_client->publish(w, to_bytes("version two"), g.refs, kParams, kHappy)).ok());

  auto plant = [&](std::size_t server, std::uint32_t shnum, Bytes bytes) {
    const auto enabler = crypto::write_enabler(
        w.write_key, crypto::ServerIdView(g.refs[server].key.data(), g.refs[server].key.size()));
    storage::WriteEnablerBytes we;
    std::copy_n(enabler.data(), we.size(), we.begin());
    storage::LeaseSecretBytes secret{};
    storage::SlotShareWrite write;
    write.share_number = shnum;
    write.new_length = bytes.size();
    write.writes.push_back({0, std::move(bytes)});
    std::vector<storage::SlotShareWrite> writes{write};
    auto res = g.run(g.nodes[server].server->slot_write(si, we, secret, secret, writes));
    ASSERT_TRUE(res.ok() && res->success);
  };
  auto current_share = [&](std::size_t server) {
    auto got = g.run(g.nodes[server].server->slot_read(si, {}, {{0, 1 << 20}}));
    EXPECT_TRUE(got.ok() && !got->empty());
    return std::pair{got->begin()->first, got->begin()->second[0]};
  };
  // 1: a forged higher sequence number (the signature no longer matches).
  {
    auto [shnum, bytes] = current_share(1);
    bytes[16 + 7] = 0x7f;
    plant(1, shnum, bytes);
  }
  // 2: a bad signature on otherwise current bytes.
  {
    auto [shnum, bytes] = current_share(2);
    bytes[150] ^= 0x10;
    plant(2, shnum, bytes);
  }
  // 3: a well-signed share of another file, claiming sequence number 1000.
  {
    crypto::SigningSeed seed;
    seed.mutable_view()[0] = 0x42;
    const auto other = crypto::SigningKey::from_seed(seed);
    sim::SimRandom random(3);
    auto foreign = encode_mutable(other, 1000, {3, 10, 4096, 5}, as_bytes("evil!"), random);
    ASSERT_TRUE(foreign.ok());
    auto [shnum, bytes] = current_share(3);
    plant(3, shnum, (*foreign)[shnum]);
  }
  // 4: the stale version 1 share replayed.
  plant(0, old->begin()->first, old->begin()->second[0]);

  const ServerMap map = g.run(g.mutable_client->update_servermap(si, w.fingerprint, g.refs));
  std::size_t refused = 0;
  for (const auto& s : map.shares) refused += s.header ? 0 : 1;
  EXPECT_EQ(refused, 3u);
  ASSERT_TRUE(map.newest_recoverable().has_value());
  EXPECT_EQ(map.newest_recoverable()->seqnum, 2u);
  EXPECT_EQ(retrieve(g, read_of(w)), to_bytes("version two"));

  // The next publish replaces every one of them: all ten slots hold version 3.
  auto p = g.run(g.mutable_client->publish(w, to_bytes("three"), g.refs, kParams, kHappy));
  ASSERT_TRUE(p.ok()) << p.status().to_string();
  const ServerMap after = g.run(g.mutable_client->update_servermap(si, w.fingerprint, g.refs));
  ASSERT_EQ(after.shares.size(), 10u);
  for (const auto& s : after.shares) {
    ASSERT_TRUE(s.header.has_value()) << s.problem;
    EXPECT_EQ(s.header->version, p->version);
  }
}

// A writer stopped after phase 1 (every share but k slots of the old version written): both
// versions are recoverable, a read returns one of them whole, and the next publish converges.
TEST(MutableClient, AWriterStoppedBetweenPhasesLeavesBothVersionsRecoverable) {
  Grid g(10);
  const auto w = create(g, to_bytes("old contents"));
  auto& writer = g.add_client("writer");
  Event never(writer.node->executor());
  bool reached = false;
  writer.mutable_client->between_phases_for_test = [&]() -> Task<void> {
    reached = true;
    co_await never.wait();
  };
  std::optional<Result<PublishResult>> result;
  {
    Scope scope(writer.node->executor());
    scope.spawn(lafs::detail::store_into(
        writer.mutable_client->publish(w, to_bytes("new contents"), g.refs, kParams, kHappy),
        &result));
    for (int i = 0; i < 1000 && !reached; ++i) {
      g.sim->loop().run_until(g.sim->loop().now() + milliseconds(5));
    }
    ASSERT_TRUE(reached);
    scope.cancel();
  }
  EXPECT_FALSE(result.has_value());
  const auto r = std::get<cap::SskReadCap>(read_of(w).file);
  const crypto::StorageIndex si = crypto::mutable_storage_index(r.read_key);
  const ServerMap map = g.run(g.mutable_client->update_servermap(si, w.fingerprint, g.refs));
  const auto versions = map.versions();
  ASSERT_EQ(versions.size(), 2u);
  EXPECT_EQ(versions.begin()->second.size(), 3u);   // the old version's protected k
  EXPECT_EQ(versions.rbegin()->second.size(), 7u);  // the new version's other n - k
  EXPECT_EQ(retrieve(g, read_of(w)), to_bytes("new contents"));
  // Another writer's publish converges every slot to one version.
  auto p = g.run(g.mutable_client->publish(w, to_bytes("final"), g.refs, kParams, kHappy));
  ASSERT_TRUE(p.ok()) << p.status().to_string();
  EXPECT_EQ(p->version.seqnum, 3u);
  const ServerMap after = g.run(g.mutable_client->update_servermap(si, w.fingerprint, g.refs));
  EXPECT_EQ(after.versions().size(), 1u);
  EXPECT_EQ(retrieve(g, read_of(w)), to_bytes("final"));
}

// Shares larger than one write call go in chunks; a reader never takes a half-written share
// for a version.
TEST(MutableClient, LargeSharesAreWrittenInChunks) {
  Grid g(6);
  MutableClientOptions o;
  o.write_chunk_bytes = 8192;
  o.read_chunk_bytes = 5000;
  auto& writer = g.add_client("writer", o);
  const MutableParams params{2, 6, 16384, 0};
  const Bytes big = testing::pattern(200'000, 1);
  auto w = g.run(writer.mutable_client->create(big, g.refs, params, 4));
  ASSERT_TRUE(w.ok()) << w.status().to_string();
  EXPECT_EQ(retrieve(g, as_cap(*w)), big);
  const Bytes bigger = testing::pattern(300'000, 2);
  auto p = g.run(writer.mutable_client->publish(*w, bigger, g.refs, params, 4));
  ASSERT_TRUE(p.ok()) << p.status().to_string();
  EXPECT_EQ(retrieve(g, as_cap(*w)), bigger);
  const Bytes smaller = testing::pattern(10, 3);
  ASSERT_TRUE(g.run(writer.mutable_client->publish(*w, smaller, g.refs, params, 4)).ok());
  EXPECT_EQ(retrieve(g, as_cap(*w)), smaller);
}

TEST(MutableClient, TooFewServersIsAClearError) {
  Grid g(10);
  for (int i = 0; i < 5; ++i) g.server_nodes[i]->crash(true);
  auto w = g.run(g.mutable_client->create(to_bytes("x"), g.refs, kParams, kHappy));
  ASSERT_FALSE(w.ok());
  EXPECT_EQ(w.status().code(), ErrorCode::kUnavailable);
  EXPECT_NE(w.status().message().find("need"), std::string::npos) << w.status().to_string();
}

// Ranged writes touch only their segments: the bytes sent are a small fraction of the shares,
// every read returns exactly the model's bytes, and appends below the tree width stay ranged.
TEST(MutableRanged, WriteRangeTouchesOnlyItsSegments) {
  Grid g(10);
  const MutableParams params{3, 10, 4096, 0};
  Bytes model = testing::pattern(100'000, 1);  // 25 segments, width 32
  auto w = g.run(g.mutable_client->create(model, g.refs, params, 7));
  ASSERT_TRUE(w.ok()) << w.status().to_string();
  const cap::Cap c{*w, false};
  const auto before = g.mutable_client->stats();
  const Bytes patch = to_bytes("patched bytes in the middle");
  auto p = g.run(g.mutable_client->write_range(*w, 50'000, patch, g.refs, 7));
  ASSERT_TRUE(p.ok()) << p.status().to_string();
  std::copy(patch.begin(), patch.end(), model.begin() + 50'000);
  const auto after = g.mutable_client->stats();
  EXPECT_EQ(after.ranged_updates, before.ranged_updates + 1);
  EXPECT_EQ(after.full_publishes, before.full_publishes);
  // One segment: ~1.4 KiB of block per share, plus prefix, chain and tree path; far below the
  // ~34 KiB a whole share would be.
  EXPECT_LT(after.bytes_written - before.bytes_written, 10u * 3000u);
  auto got = g.run(g.mutable_client->retrieve(c, g.refs));
  ASSERT_TRUE(got.ok()) << got.status().to_string();
  EXPECT_EQ(got->contents, model);
  EXPECT_EQ(got->version, p->version);

  // Across a segment boundary, and an append that stays below the width (25 -> 27 segments).
  const Bytes across(5000, 'x');
  ASSERT_TRUE(g.run(g.mutable_client->write_range(*w, 8000, across, g.refs, 7)).ok());
  std::copy(across.begin(), across.end(), model.begin() + 8000);
  const Bytes tail(8000, 't');
  ASSERT_TRUE(g.run(g.mutable_client->write_range(*w, model.size(), tail, g.refs, 7)).ok());
  model.insert(model.end(), tail.begin(), tail.end());
  EXPECT_EQ(g.mutable_client->stats().full_publishes, before.full_publishes);
  EXPECT_EQ(g.run(g.mutable_client->retrieve(c, g.refs))->contents, model);

  // An append past a power of two (27 -> 37 segments: the tree gets deeper) is still ranged:
  // records are appended, nothing moves. It writes about the appended bytes, not the file.
  const Bytes big(40'000, 'b');
  const auto before_big = g.mutable_client->stats();
  ASSERT_TRUE(g.run(g.mutable_client->write_range(*w, model.size(), big, g.refs, 7)).ok());
  model.insert(model.end(), big.begin(), big.end());
  EXPECT_EQ(g.mutable_client->stats().full_publishes, before.full_publishes);
  EXPECT_LT(g.mutable_client->stats().bytes_written - before_big.bytes_written,
            10u * (40'000u / 3 + 11 * 100 + 4000));
  EXPECT_EQ(g.run(g.mutable_client->retrieve(c, g.refs))->contents, model);

  // A write beyond the end zero-fills the gap.
  ASSERT_TRUE(
      g.run(g.mutable_client->write_range(*w, model.size() + 10, to_bytes("z"), g.refs, 7)).ok());
  model.resize(model.size() + 10, 0);
  model.push_back('z');
  EXPECT_EQ(g.run(g.mutable_client->retrieve(c, g.refs))->contents, model);
}

TEST(MutableRanged, ReadSegmentsChecksEveryBlockAndFallsBackToOtherShares) {
  Grid g(6);
  const MutableParams params{2, 6, 1000, 0};
  const Bytes model = testing::pattern(10'000, 2);
  auto w = g.run(g.mutable_client->create(model, g.refs, params, 4));
  ASSERT_TRUE(w.ok());
  const auto r = std::get<cap::SskReadCap>(cap::read_cap(cap::Cap{*w, false})->file);
  const crypto::StorageIndex si = crypto::mutable_storage_index(r.read_key);
  ServerMap map = g.run(g.mutable_client->update_servermap(si, w->fingerprint, g.refs));
  const auto v = *map.newest_recoverable();
  // Damage segment 3's block in shares 0 and 1 (the data shares a reader prefers).
  for (const auto& sh : map.shares) {
    if (sh.share_number > 1) continue;
    std::size_t idx = 0;
    while (g.refs[idx].key != map.servers[sh.server].key) ++idx;
    auto layout = MutableLayout::make(sh.header->params, sh.share_number);
    auto cur = g.run(g.nodes[idx].server->slot_read(si, {sh.share_number}, {{0, 1 << 20}}));
    Bytes bytes = cur->at(sh.share_number)[0];
    bytes[layout->block_offset(3) + 7] ^= 0x40;
    const auto enabler = crypto::write_enabler(
        w->write_key, crypto::ServerIdView(g.refs[idx].key.data(), g.refs[idx].key.size()));
    storage::WriteEnablerBytes we;
    std::copy_n(enabler.data(), we.size(), we.begin());
    storage::SlotShareWrite write;
    write.share_number = sh.share_number;
    write.writes.push_back({0, bytes});
    std::vector<storage::SlotShareWrite> writes{write};
    ASSERT_TRUE(g.run(g.nodes[idx].server->slot_write(si, we, {}, {}, writes))->success);
  }
  auto got = g.run(g.mutable_client->read_segments(map, r.read_key, v, {3, 9}));
  ASSERT_TRUE(got.ok()) << got.status().to_string();
  EXPECT_EQ(got->at(3), Bytes(model.begin() + 3000, model.begin() + 4000));
  EXPECT_EQ(got->at(9), Bytes(model.begin() + 9000, model.end()));
  EXPECT_EQ(g.run(g.mutable_client->read_segments(map, r.read_key, v, {10})).status().code(),
            ErrorCode::kInvalidArgument);
}

// Found by DirectoryProperty.TwoEditorsAtOnceLoseNothing: a reader holding a server map whose
// version another writer then replaced got "Unavailable: only 0 good shares", which made a
// directory edit fail instead of retrying. Reading a replaced version is a Conflict.
TEST(MutableRanged, ReadingAVersionReplacedSinceTheMapIsAConflict) {
  Grid g(6);
  const MutableParams params{2, 6, 1000, 0};
  auto w = g.run(g.mutable_client->create(testing::pattern(5000, 1), g.refs, params, 4));
  ASSERT_TRUE(w.ok());
  const auto r = std::get<cap::SskReadCap>(cap::read_cap(cap::Cap{*w, false})->file);
  const crypto::StorageIndex si = crypto::mutable_storage_index(r.read_key);
  const ServerMap stale = g.run(g.mutable_client->update_servermap(si, w->fingerprint, g.refs));
  const auto v1 = *stale.newest_recoverable();
  auto& other = g.add_client("other");
  ASSERT_TRUE(
      g.run(other.mutable_client->publish(*w, testing::pattern(5000, 2), g.refs, params, 4)).ok());
  auto got = g.run(g.mutable_client->read_segments(stale, r.read_key, v1, {2}));
  EXPECT_EQ(got.status().code(), ErrorCode::kConflict) << got.status().to_string();
  // modify() started from the stale state simply retries and succeeds.
  auto m = g.run(g.mutable_client->modify(
      *w, [](const Bytes& b) -> Result<Bytes> { return b; }, g.refs, 4));
  EXPECT_TRUE(m.ok()) << m.status().to_string();
}

// A large mutable file read as a stream: only the covered segments are fetched, a window at a
// time, and any range comes back exactly.
TEST(MutableRanged, ReadRangeStreamsWindowsOfSegments) {
  Grid g(6);
  MutableClientOptions o;
  o.read_window_bytes = 3 * 1000;  // three segments a round
  auto& reader = g.add_client("reader", o);
  const MutableParams params{2, 6, 1000, 0};
  const Bytes model = testing::pattern(25'500, 9);
  auto w = g.run(g.mutable_client->create(model, g.refs, params, 4));
  ASSERT_TRUE(w.ok());
  const cap::Cap rc = *cap::read_cap(cap::Cap{*w, false});
  for (auto [offset, length] : std::vector<std::pair<std::uint64_t, std::uint64_t>>{
           {0, 25'500}, {0, 1}, {999, 2}, {12'345, 6'789}, {25'000, 10'000}, {30'000, 5}}) {
    Bytes out;
    std::size_t calls = 0;
    const MutableClient::Sink sink = [&](ByteView b) {
      out.insert(out.end(), b.begin(), b.end());
      ++calls;
      return Status{};
    };
    const auto before = reader.mutable_client->stats().bytes_read;
    auto v = g.run(reader.mutable_client->read_range(rc, offset, length, g.refs, sink));
    ASSERT_TRUE(v.ok()) << v.status().to_string();
    const std::uint64_t from = std::min<std::uint64_t>(offset, model.size());
    const std::uint64_t to = std::min<std::uint64_t>(offset + length, model.size());
    EXPECT_EQ(out, Bytes(model.begin() + from, model.begin() + to)) << offset;
    // Only the segments in range are read (k blocks of 500 bytes each, plus tree nodes).
    const std::uint64_t segments = to > from ? (to - 1) / 1000 - from / 1000 + 1 : 0;
    EXPECT_LE(reader.mutable_client->stats().bytes_read - before, segments * 2 * 2000 + 4000);
    if (length == 25'500) EXPECT_EQ(calls, 26u);
  }
  // The sink's error stops the read.
  const MutableClient::Sink failing = [](ByteView) { return io_error("disk full"); };
  auto stopped = g.run(reader.mutable_client->read_range(rc, 0, 25'500, g.refs, failing));
  EXPECT_EQ(stopped.status().code(), ErrorCode::kIoError);
}

}  // namespace
}  // namespace lafs::client

namespace lafs::client {
namespace {

struct Planter {
  Grid& g;
  cap::SskWriteCap w;
  crypto::StorageIndex si{};
  std::size_t index_of(const ServerRef& ref) {
    std::size_t idx = 0;
    while (g.refs[idx].key != ref.key) ++idx;
    return idx;
  }
  Bytes read(std::size_t idx, std::uint32_t shnum) {
    auto got = g.run(g.nodes[idx].server->slot_read(si, {shnum}, {{0, 1 << 20}}));
    return got.ok() && got->contains(shnum) ? got->at(shnum)[0] : Bytes{};
  }
  void write(std::size_t idx, std::uint32_t shnum, Bytes bytes) {
    const auto enabler = crypto::write_enabler(
        w.write_key, crypto::ServerIdView(g.refs[idx].key.data(), g.refs[idx].key.size()));
    storage::WriteEnablerBytes we;
    std::copy_n(enabler.data(), we.size(), we.begin());
    storage::SlotShareWrite write;
    write.share_number = shnum;
    write.new_length = bytes.size();
    write.writes.push_back({0, std::move(bytes)});
    std::vector<storage::SlotShareWrite> writes{write};
    auto r = g.run(g.nodes[idx].server->slot_write(si, we, {}, {}, writes));
    ASSERT_TRUE(r.ok() && r->success);
  }
};

// Review finding: modify() fell back to an older version when the newest one could not be
// fetched, and published its change over the newest one's slots: a lost update. Scripted: the
// newest version's shares are all damaged (headers intact, so it is still the newest in the
// map); modify must fail rather than build on the older version.
TEST(MutableClient, ModifyNeverBuildsOnAnOlderVersion) {
  Grid g(10);
  auto w = g.run(g.mutable_client->create(to_bytes("v1"), g.refs, kParams, kHappy));
  ASSERT_TRUE(w.ok());
  for (int i = 7; i < 10; ++i) g.server_nodes[i]->crash(true);
  ASSERT_TRUE(g.run(g.mutable_client->publish(*w, to_bytes("v2 -- the update to keep"), g.refs,
                                              kParams, kHappy))
                  .ok());
  for (int i = 7; i < 10; ++i) g.restart(i);  // they still hold v1's shares
  g.sim->loop().run_until(g.sim->loop().now() + milliseconds(10));
  const auto r = std::get<cap::SskReadCap>(cap::read_cap(cap::Cap{*w, false})->file);
  Planter p{g, *w, crypto::mutable_storage_index(r.read_key)};
  const ServerMap map = g.run(g.mutable_client->update_servermap(p.si, w->fingerprint, g.refs));
  const auto v2 = *map.newest_recoverable();
  ASSERT_EQ(v2.seqnum, 2u);
  for (const auto& sh : map.shares) {
    if (sh.header->version != v2) continue;
    const std::size_t idx = p.index_of(map.servers[sh.server]);
    Bytes bytes = p.read(idx, sh.share_number);
    bytes.back() ^= 0x01;  // the last block's last byte: the header still checks out
    p.write(idx, sh.share_number, bytes);
  }
  auto m = g.run(g.mutable_client->modify(
      *w,
      [](const Bytes& b) -> Result<Bytes> {
        Bytes out = b;
        out.push_back('+');
        return out;
      },
      g.refs, kHappy));
  EXPECT_FALSE(m.ok());
  const ServerMap after = g.run(g.mutable_client->update_servermap(p.si, w->fingerprint, g.refs));
  EXPECT_EQ(after.newest_seen()->seqnum, 2u);  // nothing was published over v2
}

// Review finding: a ranged update re-tested a slot that no longer held its base version and
// wrote its deltas over whatever was there, leaving a broken share counted as written.
TEST(MutableRanged, ASlotThatLostTheBaseIsNotPatched) {
  Grid g(6);
  const MutableParams params{2, 6, 1000, 0};
  auto w = g.run(g.mutable_client->create(testing::pattern(8000, 1), g.refs, params, 4));
  ASSERT_TRUE(w.ok());
  const auto r = std::get<cap::SskReadCap>(cap::read_cap(cap::Cap{*w, false})->file);
  Planter p{g, *w, crypto::mutable_storage_index(r.read_key)};
  ServerMap map0 = g.run(g.mutable_client->update_servermap(p.si, w->fingerprint, g.refs));
  const auto& victim = map0.shares[0];
  const std::size_t idx = p.index_of(map0.servers[victim.server]);
  const Bytes v1_share = p.read(idx, victim.share_number);
  ASSERT_TRUE(
      g.run(g.mutable_client->publish(*w, testing::pattern(8000, 2), g.refs, params, 4)).ok());
  const ServerMap map = g.run(g.mutable_client->update_servermap(p.si, w->fingerprint, g.refs));
  const auto base = *map.newest_recoverable();
  // Between the phases (after the ranged reads), the victim slot — one of the k protected
  // slots, written in phase 2 — goes back to version 1, as a server that lost its unsynced
  // writes would.
  ASSERT_EQ(victim.server, 0u);  // ring position 0: protected
  const auto enabler = crypto::write_enabler(
      w->write_key, crypto::ServerIdView(g.refs[idx].key.data(), g.refs[idx].key.size()));
  storage::WriteEnablerBytes we;
  std::copy_n(enabler.data(), we.size(), we.begin());
  storage::SlotShareWrite restore;
  restore.share_number = victim.share_number;
  restore.new_length = v1_share.size();
  restore.writes.push_back({0, v1_share});
  g.mutable_client->between_phases_for_test = [&]() -> Task<void> {
    std::vector<storage::SlotShareWrite> writes{restore};
    const storage::LeaseSecretBytes none{};
    auto r = co_await g.nodes[idx].server->slot_write(p.si, we, none, none, writes);
    EXPECT_TRUE(r.ok() && r->success);
  };
  MutableClient::SegmentUpdate u;
  u.segments[3] = Bytes(1000, 'u');
  u.new_length = 8000;
  auto res = g.run(g.mutable_client->update_segments(*w, map, base, u, 4));
  ASSERT_TRUE(res.ok()) << res.status().to_string();
  EXPECT_EQ(res->shares_written, 5u);
  EXPECT_EQ(g.mutable_client->stats().ranged_updates, 1u);
  g.mutable_client->between_phases_for_test = nullptr;
  const ServerMap after = g.run(g.mutable_client->update_servermap(p.si, w->fingerprint, g.refs));
  for (const auto& sh : after.shares) {
    ASSERT_TRUE(sh.header.has_value()) << sh.problem;  // no broken mix anywhere
    const Bytes share = p.read(p.index_of(after.servers[sh.server]), sh.share_number);
    EXPECT_TRUE(check_mutable_share(p.si, w->fingerprint, sh.share_number, share).ok());
  }
}

// Review finding: a second holder of a share number was skipped for good when the first
// holder's copy was bad. Scripted with k=1: share 0 on two servers, the first copy damaged,
// share 1 gone; the read uses the second copy.
TEST(MutableClient, AnotherHolderOfTheSameShareIsTried) {
  Grid g(4);
  const MutableParams params{1, 2, 1000, 0};
  auto w = g.run(g.mutable_client->create(to_bytes("only share 0 survives"), g.refs, params, 2));
  ASSERT_TRUE(w.ok());
  const auto r = std::get<cap::SskReadCap>(cap::read_cap(cap::Cap{*w, false})->file);
  Planter p{g, *w, crypto::mutable_storage_index(r.read_key)};
  const ServerMap map = g.run(g.mutable_client->update_servermap(p.si, w->fingerprint, g.refs));
  std::size_t holder0 = 0, holder1 = 0;
  for (const auto& sh : map.shares) {
    (sh.share_number == 0 ? holder0 : holder1) = p.index_of(map.servers[sh.server]);
  }
  const Bytes share0 = p.read(holder0, 0);
  // A copy of share 0 on a server that holds nothing of this file.
  std::size_t spare = 0;
  while (spare == holder0 || spare == holder1) ++spare;
  p.write(spare, 0, share0);
  p.write(holder1, 1, Bytes{});  // share 1 gone (length 0 deletes)
  // Damage whichever copy of share 0 the map lists first.
  const ServerMap two = g.run(g.mutable_client->update_servermap(p.si, w->fingerprint, g.refs));
  std::size_t first = SIZE_MAX;
  for (const auto& sh : two.shares)
    if (sh.share_number == 0 && first == SIZE_MAX) first = p.index_of(two.servers[sh.server]);
  Bytes bad = share0;
  bad.back() ^= 0x01;
  p.write(first, 0, bad);
  auto got = g.run(g.mutable_client->retrieve(cap::Cap{*w, false}, g.refs));
  ASSERT_TRUE(got.ok()) << got.status().to_string();
  EXPECT_EQ(got->contents, to_bytes("only share 0 survives"));
}

}  // namespace
}  // namespace lafs::client
