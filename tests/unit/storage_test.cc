// Tests of the storage server on a simulated node: every call and every refusal, leases, idle
// uploads, crashes at each step of close, start-up reconciliation, and the storage.* methods
// over RPC including malformed requests.
#include <gtest/gtest.h>

#include "core/proto/storage.pb.h"
#include "core/storage/storage_service.h"
#include "net/sim/sim_run.h"
#include "net/sim/simulation.h"

namespace lafs::storage {
namespace {

using sim::SimNode;
using sim::Simulation;
using sim::SimulationOptions;

#define EXPECT_CODE(expr, c)                                                 \
  do {                                                                       \
    const Status _s = ::lafs::storage::status_of(expr);                      \
    EXPECT_EQ(_s.code(), ErrorCode::c) << #expr << " -> " << _s.to_string(); \
  } while (0)

Status status_of(const Status& s) {
  return s;
}
template <typename T>
Status status_of(const Result<T>& r) {
  return r.status();
}

StorageIndex si_of(std::uint8_t b) {
  StorageIndex si;
  si.fill(b);
  return si;
}
LeaseSecretBytes secret_of(std::uint8_t b) {
  LeaseSecretBytes s;
  s.fill(b);
  return s;
}
Bytes pattern(std::size_t n, std::uint8_t seed) {
  Bytes b(n);
  for (std::size_t i = 0; i < n; ++i) b[i] = static_cast<std::uint8_t>(seed + i * 31);
  return b;
}

SimulationOptions drop_unsynced() {
  SimulationOptions o;
  o.seed = 5;
  o.disk.crash_keep_weight = o.kv.crash_keep_weight = 0;
  o.disk.crash_drop_weight = o.kv.crash_drop_weight = 1;
  o.disk.crash_tear_weight = o.kv.crash_tear_weight = 0;
  return o;
}

struct Rig {
  explicit Rig(StorageOptions o = {}, SimulationOptions so = drop_unsynced())
      : sim(so), options(std::move(o)) {
    node = &sim.add_node("server");
    node->start();
    open();
  }
  template <typename T>
  T run(Task<T> t) {
    return sim::run_task(sim.loop(), std::move(t));
  }
  void open() {
    auto s = run(StorageServer::open(node, options));
    ASSERT_TRUE(s.ok()) << s.status().to_string();
    server = std::move(*s);
  }
  // The process dies (unsynced disk and KV state is lost) and starts again.
  void crash_and_restart() {
    server.reset();
    node->crash(true);
    node->start();
    open();
  }
  Result<AllocateResult> allocate(const StorageIndex& si, std::vector<std::uint32_t> shnums,
                                  std::uint64_t size, std::uint8_t client = 1) {
    return run(server->allocate(si, std::move(shnums), size, secret_of(client),
                                secret_of(client + 100), "client" + std::to_string(client)));
  }
  // Allocates, writes and closes one share; returns the upload's status.
  Status upload(const StorageIndex& si, std::uint32_t shnum, const Bytes& data,
                std::uint8_t client = 1) {
    auto a = allocate(si, {shnum}, data.size(), client);
    if (!a.ok()) return a.status();
    if (a->allocated.size() != 1) return failed_precondition("not allocated");
    const std::uint64_t id = a->allocated[0].upload_id;
    Status s = run(server->write(si, shnum, id, 0, data));
    if (!s.is_ok()) return s;
    return run(server->close(si, shnum, id));
  }
  Result<Bytes> read(const StorageIndex& si, std::uint32_t shnum, std::uint64_t off,
                     std::uint64_t len) {
    return run(server->read(si, shnum, off, len));
  }

  Simulation sim;
  StorageOptions options;
  SimNode* node = nullptr;
  std::unique_ptr<StorageServer> server;
};

TEST(Storage, UploadThenReadBackAndListBuckets) {
  Rig r;
  const Bytes data = pattern(10'000, 7);
  auto a = r.allocate(si_of(1), {0, 3, 7}, data.size());
  ASSERT_TRUE(a.ok()) << a.status().to_string();
  EXPECT_TRUE(a->already_have.empty());
  ASSERT_EQ(a->allocated.size(), 3u);
  for (const Allocation& al : a->allocated) {
    // Written out of order, in pieces.
    ASSERT_TRUE(r.run(r.server->write(si_of(1), al.share_number, al.upload_id, 5000,
                                      Bytes(data.begin() + 5000, data.end())))
                    .is_ok());
    ASSERT_TRUE(r.run(r.server->write(si_of(1), al.share_number, al.upload_id, 0,
                                      Bytes(data.begin(), data.begin() + 5000)))
                    .is_ok());
    ASSERT_TRUE(r.run(r.server->close(si_of(1), al.share_number, al.upload_id)).is_ok());
  }
  auto held = r.run(r.server->get_buckets(si_of(1)));
  ASSERT_TRUE(held.ok());
  ASSERT_EQ(held->size(), 3u);
  EXPECT_EQ((*held)[1].share_number, 3u);
  EXPECT_EQ((*held)[1].share_bytes, data.size());
  auto back = r.read(si_of(1), 7, 0, data.size());
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, data);
  EXPECT_EQ(r.read(si_of(1), 7, 9990, 100).value_or(Bytes{}), Bytes(data.end() - 10, data.end()));
  EXPECT_TRUE(r.read(si_of(1), 7, 10'000, 10)->empty());  // past the end: empty
  EXPECT_TRUE(r.read(si_of(1), 7, 1 << 30, 10)->empty());
  EXPECT_EQ(r.server->stats().shares, 3u);
  EXPECT_EQ(r.run(r.server->space())->used_bytes, 30'000u);
  // A second allocation finds them held and allocates only the new one.
  auto again = r.allocate(si_of(1), {3, 4}, data.size(), 2);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->already_have, std::vector<std::uint32_t>{3});
  ASSERT_EQ(again->allocated.size(), 1u);
  EXPECT_EQ(again->allocated[0].share_number, 4u);
  EXPECT_TRUE(r.run(r.server->get_buckets(si_of(2)))->empty());
}

TEST(Storage, AllocateRefusesBadRequests) {
  Rig r;
  EXPECT_CODE(r.allocate(si_of(1), {}, 100), kInvalidArgument);
  EXPECT_CODE(r.allocate(si_of(1), {256}, 100), kInvalidArgument);
  EXPECT_CODE(r.allocate(si_of(1), {1, 2, 1}, 100), kInvalidArgument);
  EXPECT_CODE(r.allocate(si_of(1), {1}, 0), kInvalidArgument);
  EXPECT_CODE(r.allocate(si_of(1), {1}, kDefaultMaxShareBytes + 1), kInvalidArgument);
  std::vector<std::uint32_t> too_many(257);
  for (std::uint32_t i = 0; i < 257; ++i) too_many[i] = i;
  EXPECT_CODE(r.allocate(si_of(1), too_many, 100), kInvalidArgument);
  EXPECT_EQ(r.server->open_uploads(), 0u);
}

TEST(Storage, ConcurrentUploadOfTheSameShareIsNotAllocatedTwice) {
  Rig r;
  auto a = r.allocate(si_of(1), {0}, 100, 1);
  ASSERT_EQ(a->allocated.size(), 1u);
  auto b = r.allocate(si_of(1), {0, 1}, 100, 2);
  ASSERT_TRUE(b.ok());
  EXPECT_TRUE(b->already_have.empty());
  ASSERT_EQ(b->allocated.size(), 1u);
  EXPECT_EQ(b->allocated[0].share_number, 1u);
}

TEST(Storage, WritesAreCheckedAgainstTheAllocation) {
  Rig r;
  auto a = r.allocate(si_of(1), {0}, 100);
  const std::uint64_t id = a->allocated[0].upload_id;
  EXPECT_CODE(r.run(r.server->write(si_of(1), 0, id, 50, Bytes(51, 1))), kInvalidArgument);
  EXPECT_CODE(r.run(r.server->write(si_of(1), 0, id, UINT64_MAX - 2, Bytes(5, 1))),
              kInvalidArgument);
  EXPECT_CODE(r.run(r.server->write(si_of(1), 0, id + 1, 0, Bytes(5, 1))), kNotFound);
  EXPECT_CODE(r.run(r.server->write(si_of(1), 1, id, 0, Bytes(5, 1))), kNotFound);
  EXPECT_TRUE(r.run(r.server->write(si_of(1), 0, id, 10, Bytes(20, 1))).is_ok());
  // The same bytes again are fine; different ones over written bytes are not.
  EXPECT_TRUE(r.run(r.server->write(si_of(1), 0, id, 15, Bytes(5, 1))).is_ok());
  EXPECT_CODE(r.run(r.server->write(si_of(1), 0, id, 25, Bytes(10, 2))), kFailedPrecondition);
  // Incomplete: close names the first gap.
  Status incomplete = r.run(r.server->close(si_of(1), 0, id));
  EXPECT_EQ(incomplete.code(), ErrorCode::kFailedPrecondition);
  EXPECT_NE(incomplete.message().find("from 0 of 100"), std::string::npos) << incomplete.message();
  EXPECT_TRUE(r.run(r.server->write(si_of(1), 0, id, 0, Bytes(10, 3))).is_ok());
  incomplete = r.run(r.server->close(si_of(1), 0, id));
  EXPECT_NE(incomplete.message().find("from 30 of 100"), std::string::npos) << incomplete.message();
  EXPECT_TRUE(r.run(r.server->write(si_of(1), 0, id, 30, Bytes(70, 4))).is_ok());
  EXPECT_TRUE(r.run(r.server->close(si_of(1), 0, id)).is_ok());
  EXPECT_CODE(r.run(r.server->close(si_of(1), 0, id)), kNotFound);  // closed: gone
  EXPECT_CODE(r.run(r.server->write(si_of(1), 0, id, 0, Bytes(1, 3))), kNotFound);
  auto back = r.read(si_of(1), 0, 0, 100);
  Bytes want(10, 3);
  want.insert(want.end(), 20, 1);
  want.insert(want.end(), 70, 4);
  EXPECT_EQ(*back, want);
}

TEST(Storage, TooManySeparateRangesAreRefused) {
  Rig r;
  auto a = r.allocate(si_of(1), {0}, 4 * kWrittenRangesMax);
  const std::uint64_t id = a->allocated[0].upload_id;
  for (std::size_t i = 0; i < kWrittenRangesMax; ++i) {
    ASSERT_TRUE(r.run(r.server->write(si_of(1), 0, id, 2 * i, Bytes(1, 1))).is_ok());
  }
  EXPECT_CODE(r.run(r.server->write(si_of(1), 0, id, 3 * kWrittenRangesMax, Bytes(1, 1))),
              kResourceExhausted);
  // Filling a gap merges ranges and is still accepted.
  EXPECT_TRUE(r.run(r.server->write(si_of(1), 0, id, 1, Bytes(1, 1))).is_ok());
}

TEST(Storage, ReadRefusals) {
  Rig r;
  EXPECT_CODE(r.read(si_of(1), 0, 0, 10), kNotFound);
  EXPECT_CODE(r.read(si_of(1), 256, 0, 10), kInvalidArgument);
  ASSERT_TRUE(r.upload(si_of(1), 0, pattern(100, 1)).is_ok());
  EXPECT_CODE(r.read(si_of(1), 0, 0, kReadBytesMax + 1), kInvalidArgument);
  // An upload in progress is not readable.
  auto a = r.allocate(si_of(1), {1}, 100);
  ASSERT_TRUE(
      r.run(r.server->write(si_of(1), 1, a->allocated[0].upload_id, 0, Bytes(100, 1))).is_ok());
  EXPECT_CODE(r.read(si_of(1), 1, 0, 10), kNotFound);
}

TEST(Storage, AbortFreesTheUploadAndItsSpace) {
  StorageOptions o;
  o.reserved_bytes = 0;
  Rig r(o);
  const std::uint64_t free_before = r.run(r.server->space())->available_bytes;
  auto a = r.allocate(si_of(1), {0, 1}, 1000);
  EXPECT_EQ(r.run(r.server->space())->available_bytes,
            free_before - 2000 - 2 * kContainerHeaderBytes);
  EXPECT_CODE(r.run(r.server->abort(si_of(1), 0, a->allocated[0].upload_id + 1)), kNotFound);
  EXPECT_TRUE(r.run(r.server->abort(si_of(1), 0, a->allocated[0].upload_id)).is_ok());
  EXPECT_TRUE(r.run(r.server->abort(si_of(1), 1, a->allocated[1].upload_id)).is_ok());
  EXPECT_EQ(r.server->open_uploads(), 0u);
  EXPECT_EQ(r.run(r.server->space())->available_bytes, free_before);
  EXPECT_TRUE(r.run(r.server->get_buckets(si_of(1)))->empty());
  // The shares can be allocated again.
  EXPECT_EQ(r.allocate(si_of(1), {0}, 10)->allocated.size(), 1u);
}

TEST(Storage, ReservedSpaceAndReadOnlyRefuseAllocations) {
  SimulationOptions so = drop_unsynced();
  so.disk.capacity_bytes = 1'000'000;
  StorageOptions o;
  o.reserved_bytes = 400'000;
  Rig r(o, so);
  EXPECT_CODE(r.allocate(si_of(1), {0}, 600'000), kNoSpace);
  auto a = r.allocate(si_of(1), {0}, 300'000);
  ASSERT_TRUE(a.ok()) << a.status().to_string();
  // Allocated-but-unwritten bytes count against the reservation.
  EXPECT_CODE(r.allocate(si_of(2), {0}, 300'000), kNoSpace);
  EXPECT_LT(r.run(r.server->space())->available_bytes, 300'000u);

  StorageOptions ro;
  ro.read_only = true;
  Rig q(ro);
  ASSERT_TRUE(q.server);
  EXPECT_CODE(q.allocate(si_of(1), {0}, 10), kPermissionDenied);
  EXPECT_TRUE(q.run(q.server->space())->read_only);
}

TEST(Storage, OpenUploadsAreBoundedPerClientAndInTotal) {
  StorageOptions o;
  o.uploads_per_peer_max = 3;
  o.uploads_max = 5;
  Rig r(o);
  ASSERT_TRUE(r.allocate(si_of(1), {0, 1, 2}, 10, 1).ok());
  EXPECT_CODE(r.allocate(si_of(2), {0}, 10, 1), kResourceExhausted);
  ASSERT_TRUE(r.allocate(si_of(2), {0, 1}, 10, 2).ok());
  EXPECT_CODE(r.allocate(si_of(3), {0}, 10, 3), kResourceExhausted);
  EXPECT_EQ(r.server->open_uploads(), 5u);
}

Task<void> allocate_into(StorageServer* server, std::optional<Result<AllocateResult>>* out) {
  // Named locals: g++ 12 rejects a braced list as a coroutine argument inside a coroutine.
  const StorageIndex si = si_of(2);
  const LeaseSecretBytes renew = secret_of(1), cancel = secret_of(101);
  std::vector<std::uint32_t> shares{0};
  auto result = co_await server->allocate(si, std::move(shares), 10, renew, cancel, "client1");
  out->emplace(std::move(result));
}
Task<void> abort_into(StorageServer* server, std::uint64_t id, std::optional<Status>* out) {
  const StorageIndex si = si_of(1);
  Status s = co_await server->abort(si, 0, id);
  out->emplace(std::move(s));
}

// The fault sequence behind a fixed bug: allocate kept a reference into the per-client upload
// counts across its disk waits, and an abort by the same client erased that entry meanwhile.
TEST(Storage, AbortDuringAnAllocationOfTheSameClientKeepsCountsRight) {
  SimulationOptions so = drop_unsynced();
  so.disk.metadata_latency = milliseconds(1);
  so.disk.write_latency = milliseconds(1);
  StorageOptions o;
  o.uploads_per_peer_max = 2;
  Rig r(o, so);
  auto first = r.allocate(si_of(1), {0}, 10);
  ASSERT_TRUE(first.ok());
  std::optional<Result<AllocateResult>> second;
  std::optional<Status> aborted;
  r.node->scope().spawn(allocate_into(r.server.get(), &second));
  r.node->scope().spawn(abort_into(r.server.get(), first->allocated[0].upload_id, &aborted));
  r.sim.loop().run_until(r.sim.loop().now() + seconds(1));
  ASSERT_TRUE(second && second->ok() && aborted && aborted->is_ok());
  EXPECT_EQ(r.server->open_uploads(), 1u);
  EXPECT_TRUE(r.allocate(si_of(3), {0}, 10).ok());                 // the client's second
  EXPECT_CODE(r.allocate(si_of(4), {0}, 10), kResourceExhausted);  // and no third
}

TEST(Storage, IdleUploadsExpire) {
  StorageOptions o;
  o.upload_idle_timeout = minutes(10);
  Rig r(o);
  auto a = r.allocate(si_of(1), {0, 1}, 100);
  r.node->scope().spawn(r.server->run_maintenance());
  // Keep share 1 busy; share 0 goes idle.
  for (int i = 0; i < 4; ++i) {
    r.sim.loop().run_until(r.sim.loop().now() + minutes(4));
    ASSERT_TRUE(
        r.run(r.server->write(si_of(1), 1, a->allocated[1].upload_id, i, Bytes(1, 9))).is_ok());
  }
  EXPECT_EQ(r.server->stats().uploads_expired, 1u);
  EXPECT_CODE(r.run(r.server->write(si_of(1), 0, a->allocated[0].upload_id, 0, Bytes(1, 1))),
              kNotFound);
  EXPECT_EQ(r.server->open_uploads(), 1u);
}

// The idle check sleeps while nothing is open, and wakes for an upload opened later.
TEST(Storage, AnUploadOpenedWhileTheIdleCheckSleepsStillExpires) {
  StorageOptions o;
  o.upload_idle_timeout = minutes(10);
  Rig r(o);
  r.node->scope().spawn(r.server->run_maintenance());
  r.sim.loop().run_until(r.sim.loop().now() + hours(5));  // idle: nothing to check
  auto a = r.allocate(si_of(1), {0}, 100);
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(r.server->open_uploads(), 1u);
  r.sim.loop().run_until(r.sim.loop().now() + minutes(20));
  EXPECT_EQ(r.server->stats().uploads_expired, 1u);
  EXPECT_EQ(r.server->open_uploads(), 0u);
  // And again, after sleeping once more.
  r.sim.loop().run_until(r.sim.loop().now() + hours(1));
  ASSERT_TRUE(r.allocate(si_of(2), {0}, 100).ok());
  r.sim.loop().run_until(r.sim.loop().now() + minutes(20));
  EXPECT_EQ(r.server->stats().uploads_expired, 2u);
}

TEST(Storage, LeasesRenewAddAndCancel) {
  Rig r;
  ASSERT_TRUE(r.upload(si_of(1), 0, pattern(50, 1), /*client=*/1).is_ok());
  ASSERT_TRUE(r.upload(si_of(1), 1, pattern(50, 2), /*client=*/1).is_ok());
  // Client 2 adds its own lease on both shares; client 1 renews.
  EXPECT_EQ(r.run(r.server->add_lease(si_of(1), secret_of(2), secret_of(102))).value_or(0), 2u);
  EXPECT_EQ(r.run(r.server->add_lease(si_of(1), secret_of(1), secret_of(101))).value_or(0), 2u);
  EXPECT_EQ(r.run(r.server->add_lease(si_of(9), secret_of(1), secret_of(101))).value_or(9), 0u);
  // A wrong cancel secret changes nothing and says so.
  EXPECT_CODE(r.run(r.server->cancel_lease(si_of(1), secret_of(55))), kPermissionDenied);
  // Client 1 cancels: client 2's lease keeps the shares.
  auto c1 = r.run(r.server->cancel_lease(si_of(1), secret_of(101)));
  ASSERT_TRUE(c1.ok());
  EXPECT_EQ(c1->leases_cancelled, 2u);
  EXPECT_EQ(c1->shares_deleted, 0u);
  EXPECT_EQ(r.run(r.server->get_buckets(si_of(1)))->size(), 2u);
  EXPECT_CODE(r.run(r.server->cancel_lease(si_of(1), secret_of(101))), kPermissionDenied);
  // Client 2 cancels the last leases: the shares are deleted at once.
  auto c2 = r.run(r.server->cancel_lease(si_of(1), secret_of(102)));
  ASSERT_TRUE(c2.ok());
  EXPECT_EQ(c2->shares_deleted, 2u);
  EXPECT_TRUE(r.run(r.server->get_buckets(si_of(1)))->empty());
  EXPECT_CODE(r.read(si_of(1), 0, 0, 10), kNotFound);
  EXPECT_EQ(r.run(r.server->space())->used_bytes, 0u);
  // The leases survive a restart too (checked by a fresh lease set).
  ASSERT_TRUE(r.upload(si_of(2), 0, pattern(50, 1), 3).is_ok());
  r.crash_and_restart();
  EXPECT_CODE(r.run(r.server->cancel_lease(si_of(2), secret_of(55))), kPermissionDenied);
  EXPECT_EQ(r.run(r.server->cancel_lease(si_of(2), secret_of(103)))->shares_deleted, 1u);
}

// Many targets in one call are one synced write: all leases or none.
TEST(Storage, BatchedLeasesAreAllOrNothing) {
  Rig r;
  ASSERT_TRUE(r.upload(si_of(1), 0, pattern(50, 1), /*client=*/1).is_ok());
  ASSERT_TRUE(r.upload(si_of(2), 0, pattern(50, 2), /*client=*/1).is_ok());
  using T = StorageServer::LeaseTarget;
  // The same target twice, and an index holding nothing: one lease each, counted per target.
  auto n = r.run(r.server->add_leases(
      {T{si_of(1), secret_of(5), secret_of(105)}, T{si_of(2), secret_of(5), secret_of(105)},
       T{si_of(3), secret_of(5), secret_of(105)}, T{si_of(1), secret_of(5), secret_of(105)}}));
  ASSERT_TRUE(n.ok()) << n.status().to_string();
  EXPECT_EQ(*n, (std::vector<std::uint32_t>{1, 1, 0, 1}));
  EXPECT_EQ(r.run(r.server->cancel_lease(si_of(1), secret_of(105)))->leases_cancelled, 1u);
  // A target that fails (a lease id taken by other secrets) fails the call: nothing is written.
  LeaseSecretBytes clash = secret_of(1);  // client 1's lease id, other secret bytes
  clash[31] ^= 1;
  EXPECT_CODE(r.run(r.server->add_leases(
                  {T{si_of(1), secret_of(6), secret_of(106)}, T{si_of(2), clash, secret_of(107)}})),
              kPermissionDenied);
  EXPECT_CODE(r.run(r.server->cancel_lease(si_of(1), secret_of(106))), kPermissionDenied);
  // Two new leases with one id in one batch, secrets differing: refused too.
  EXPECT_CODE(r.run(r.server->add_leases(
                  {T{si_of(2), secret_of(8), secret_of(108)}, T{si_of(2),
                                                                [] {
                                                                  LeaseSecretBytes s = secret_of(8);
                                                                  s[31] ^= 1;
                                                                  return s;
                                                                }(),
                                                                secret_of(109)}})),
              kPermissionDenied);
  EXPECT_CODE(r.run(r.server->cancel_lease(si_of(2), secret_of(108))), kPermissionDenied);
}

TEST(Storage, AllocatingHeldSharesAddsTheClientsLease) {
  Rig r;
  ASSERT_TRUE(r.upload(si_of(1), 0, pattern(50, 1), 1).is_ok());
  auto a = r.allocate(si_of(1), {0}, 50, 2);
  EXPECT_EQ(a->already_have, std::vector<std::uint32_t>{0});
  EXPECT_EQ(r.run(r.server->cancel_lease(si_of(1), secret_of(101)))->shares_deleted, 0u);
  EXPECT_EQ(r.run(r.server->cancel_lease(si_of(1), secret_of(102)))->shares_deleted, 1u);
}

Result<PutResult> put(Rig& r, const StorageIndex& si, std::vector<PutShare> shares,
                      std::uint8_t client = 1) {
  return r.run(r.server->put(si, std::move(shares), secret_of(client), secret_of(client + 100),
                             "client" + std::to_string(client)));
}

TEST(Storage, PutStoresWholeSharesDurablyInOneCall) {
  Rig r;
  const Bytes a = pattern(500, 1);
  const Bytes b = pattern(500, 2);
  auto p = put(r, si_of(1), {PutShare{3, a}, PutShare{1, b}});
  ASSERT_TRUE(p.ok()) << p.status().to_string();
  EXPECT_TRUE(p->already_have.empty());
  EXPECT_EQ(p->stored, (std::vector<std::uint32_t>{1, 3}));
  EXPECT_EQ(r.server->stats().puts, 1u);
  r.crash_and_restart();  // unsynced state is dropped: what put acknowledged stays
  EXPECT_EQ(r.read(si_of(1), 3, 0, 500).value_or(Bytes{}), a);
  EXPECT_EQ(r.read(si_of(1), 1, 0, 500).value_or(Bytes{}), b);
  EXPECT_EQ(r.run(r.server->space())->used_bytes, 1000u);
  // Held already: listed, and the second client's lease added (as allocate does).
  auto again = put(r, si_of(1), {PutShare{1, b}}, 2);
  ASSERT_TRUE(again.ok()) << again.status().to_string();
  EXPECT_EQ(again->already_have, std::vector<std::uint32_t>{1});
  EXPECT_TRUE(again->stored.empty());
  EXPECT_EQ(r.run(r.server->cancel_lease(si_of(1), secret_of(101)))->shares_deleted, 1u);  // 3
  EXPECT_TRUE(r.read(si_of(1), 1, 0, 10).ok());
}

TEST(Storage, PutRefusesBadRequestsAndSkipsSharesBeingUploaded) {
  Rig r;
  EXPECT_CODE(put(r, si_of(1), {}), kInvalidArgument);
  EXPECT_CODE(put(r, si_of(1), {PutShare{0, pattern(10, 1)}, PutShare{1, pattern(11, 1)}}),
              kInvalidArgument);  // sizes differ
  const std::size_t half = kWriteBytesMax / 2 + 1;
  EXPECT_CODE(put(r, si_of(1), {PutShare{0, pattern(half, 1)}, PutShare{1, pattern(half, 2)}}),
              kInvalidArgument);  // too many bytes for one call
  EXPECT_CODE(put(r, si_of(1), {PutShare{0, pattern(10, 1)}, PutShare{0, pattern(10, 2)}}),
              kInvalidArgument);  // the same share twice
  EXPECT_CODE(put(r, si_of(1), {PutShare{256, pattern(10, 1)}}), kInvalidArgument);
  EXPECT_CODE(put(r, si_of(1), {PutShare{0, Bytes{}}}), kInvalidArgument);
  EXPECT_EQ(r.server->stats().shares, 0u);
  // Share 0 of si 2 is being uploaded by client 1: a put by client 2 stores only share 1.
  auto open = r.allocate(si_of(2), {0}, 10, 1);
  ASSERT_TRUE(open.ok());
  auto p = put(r, si_of(2), {PutShare{0, pattern(10, 3)}, PutShare{1, pattern(10, 4)}}, 2);
  ASSERT_TRUE(p.ok()) << p.status().to_string();
  EXPECT_TRUE(p->already_have.empty());
  EXPECT_EQ(p->stored, std::vector<std::uint32_t>{1});
  StorageOptions ro;
  ro.read_only = true;
  Rig r2(ro);
  EXPECT_CODE(put(r2, si_of(1), {PutShare{0, pattern(10, 1)}}), kPermissionDenied);
}

TEST(Storage, AcknowledgedSharesSurviveACrashAndUnclosedOnesVanish) {
  Rig r;
  const Bytes data = pattern(5000, 3);
  ASSERT_TRUE(r.upload(si_of(1), 0, data).is_ok());
  auto open = r.allocate(si_of(1), {1}, 5000);
  ASSERT_TRUE(r.run(r.server->write(si_of(1), 1, open->allocated[0].upload_id, 0, data)).is_ok());
  r.crash_and_restart();
  EXPECT_EQ(*r.read(si_of(1), 0, 0, 5000), data);
  auto held = r.run(r.server->get_buckets(si_of(1)));
  ASSERT_EQ(held->size(), 1u);
  EXPECT_EQ(r.server->open_uploads(), 0u);  // the unsynced incoming file is simply gone
  EXPECT_EQ(r.run(r.server->space())->used_bytes, 5000u);
  EXPECT_CODE(r.run(r.server->write(si_of(1), 1, open->allocated[0].upload_id, 0, data)),
              kNotFound);
}

// Uploads left in incoming/ by a crash are removed at start-up, in today's flat layout
// (incoming/<si>.<shnum>) and in the per-index directories servers before 2026-12 made.
TEST(Storage, LeftoverUploadsOfEitherLayoutAreDiscardedAtStartup) {
  Rig r;
  auto a = r.allocate(si_of(1), {3}, 10);
  ASSERT_TRUE(a.ok());
  auto listed = r.run(r.node->disk().list("storage/incoming"));
  ASSERT_TRUE(listed.ok());
  EXPECT_EQ(*listed, std::vector<std::string>{"01010101010101010101010101010101.3"});
  Disk& disk = r.node->disk();
  const std::string old_dir = "storage/incoming/02020202020202020202020202020202";
  ASSERT_TRUE(r.run(disk.mkdir(old_dir)).is_ok());
  for (const std::string& f : {old_dir + "/0", old_dir + "/1"}) {
    auto file = r.run(disk.open(f, OpenOptions{.create = true}));
    ASSERT_TRUE(file.ok());
    ASSERT_TRUE(r.run((*file)->write_at(0, pattern(10, 1))).is_ok());
    ASSERT_TRUE(r.run((*file)->sync()).is_ok());
  }
  ASSERT_TRUE(r.run(disk.sync_dir(old_dir)).is_ok());
  ASSERT_TRUE(r.run(disk.sync_dir("storage/incoming")).is_ok());  // the flat file's name too
  r.crash_and_restart();
  EXPECT_EQ(r.server->stats().incomplete_uploads_discarded, 3u);
  EXPECT_TRUE(r.run(disk.list("storage/incoming")).value_or(std::vector<std::string>{"?"}).empty());
  // Nothing of either is served, and the share can be uploaded afresh.
  EXPECT_TRUE(r.run(r.server->get_buckets(si_of(1)))->empty());
  EXPECT_TRUE(r.upload(si_of(1), 3, pattern(10, 2)).is_ok());
}

// The fault sequence the durability order exists for: the share file reached shares/ but the
// process died before its record was written. It was never acknowledged, so start-up removes it
// and it is never served.
TEST(Storage, ShareFileWithoutRecordIsRemovedAtStartup) {
  Rig r;
  const Bytes data = pattern(100, 1);
  ASSERT_TRUE(r.upload(si_of(1), 0, data).is_ok());
  // Simulate the crash window: remove the record (as if its write never landed).
  WriteBatch b;
  std::string key(1, 's');
  key.append(16, '\x01');
  key.push_back('\0');
  b.del(key);
  ASSERT_TRUE(r.run(r.node->kv().write(std::move(b), true)).is_ok());
  r.crash_and_restart();
  EXPECT_EQ(r.server->stats().orphan_files_removed, 1u);
  EXPECT_CODE(r.read(si_of(1), 0, 0, 100), kNotFound);
  EXPECT_CODE(r.run(r.node->disk().stat("storage/shares/01/01010101010101010101010101010101/0")),
              kNotFound);
}

TEST(Storage, RecordWithoutFileIsDroppedAtStartup) {
  Rig r;
  ASSERT_TRUE(r.upload(si_of(1), 0, pattern(100, 1)).is_ok());
  ASSERT_TRUE(r.upload(si_of(1), 1, pattern(100, 2)).is_ok());
  ASSERT_TRUE(
      r.run(r.node->disk().remove("storage/shares/01/01010101010101010101010101010101/0")).is_ok());
  ASSERT_TRUE(
      r.run(r.node->disk().sync_dir("storage/shares/01/01010101010101010101010101010101")).is_ok());
  r.crash_and_restart();
  EXPECT_EQ(r.server->stats().orphan_records_dropped, 1u);
  auto held = r.run(r.server->get_buckets(si_of(1)));
  ASSERT_EQ(held->size(), 1u);
  EXPECT_EQ((*held)[0].share_number, 1u);
  EXPECT_EQ(r.server->stats().shares, 1u);
}

TEST(Storage, CorruptContainerIsReportedNotServed) {
  Rig r;
  ASSERT_TRUE(r.upload(si_of(1), 0, pattern(100, 1)).is_ok());
  auto f = r.run(r.node->disk().open("storage/shares/01/01010101010101010101010101010101/0", {}));
  ASSERT_TRUE(f.ok());
  ASSERT_TRUE(r.run((*f)->write_at(0, Bytes{'X'})).is_ok());
  EXPECT_CODE(r.read(si_of(1), 0, 0, 10), kCorruption);
}

TEST(Storage, CorruptionAdvisoriesAreRecordedAndBounded) {
  Rig r;
  for (std::size_t i = 0; i < kCorruptionReportsMax + 3; ++i) {
    EXPECT_TRUE(r.run(r.server->advise_corrupt(si_of(1), 2, "peer", "bad hash")).is_ok());
  }
  EXPECT_EQ(r.server->stats().corruption_reports, kCorruptionReportsMax + 3);
  auto stored = r.run(r.node->kv().scan("c", "d", 100));
  EXPECT_EQ(stored->size(), kCorruptionReportsMax);
  EXPECT_CODE(r.run(r.server->advise_corrupt(si_of(1), 300, "peer", "x")), kInvalidArgument);
  EXPECT_CODE(r.run(r.server->advise_corrupt(si_of(1), 1, "peer", std::string(2000, 'x'))),
              kInvalidArgument);
}

TEST(Storage, NewerRecordVersionIsRefusedAtStartup) {
  Rig r;
  ASSERT_TRUE(r.upload(si_of(1), 0, pattern(100, 1)).is_ok());
  pb::ShareRecord rec;
  rec.set_version(kRecordVersion + 1);
  rec.set_share_bytes(100);
  std::string key(1, 's');
  key.append(16, '\x01');
  key.push_back('\0');
  ASSERT_TRUE(r.run(r.node->kv().put(key, rec.SerializeAsString(), true)).is_ok());
  r.server.reset();
  r.node->crash(true);
  r.node->start();
  auto s = r.run(StorageServer::open(r.node, r.options));
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), ErrorCode::kFailedPrecondition);
  EXPECT_NE(s.status().message().find("version 2"), std::string::npos) << s.status().message();
}

// ---- mutable slots ----

WriteEnablerBytes enabler_of(std::uint8_t b) {
  WriteEnablerBytes e;
  e.fill(b);
  return e;
}

SlotShareWrite put(std::uint32_t shnum, Bytes data, std::vector<TestVector> tests = {}) {
  SlotShareWrite w;
  w.share_number = shnum;
  w.tests = std::move(tests);
  w.writes.push_back({0, std::move(data)});
  return w;
}

Result<SlotWriteResult> slot_write(Rig& r, std::vector<SlotShareWrite> shares,
                                   std::uint8_t enabler = 1, std::uint8_t client = 1) {
  return r.run(r.server->slot_write(si_of(5), enabler_of(enabler), secret_of(client),
                                    secret_of(client + 100), std::move(shares)));
}

Bytes slot_bytes(Rig& r, std::uint32_t shnum) {
  auto got = r.run(r.server->slot_read(si_of(5), {shnum}, {{0, 1000}}));
  if (!got.ok() || !got->contains(shnum)) return to_bytes("<missing>");
  return got->at(shnum)[0];
}

TEST(StorageSlot, TestAndSetAcrossSharesIsAllOrNothing) {
  Rig r;
  auto first = slot_write(r, {put(0, to_bytes("seq1-a")), put(1, to_bytes("seq1-b"))});
  ASSERT_TRUE(first.ok()) << first.status().to_string();
  EXPECT_TRUE(first->success);
  EXPECT_EQ(slot_bytes(r, 0), to_bytes("seq1-a"));
  // Share 0's test passes, share 1's fails: nothing is written, and the reply shows share 1.
  auto clash = slot_write(r, {put(0, to_bytes("seq2-a"), {{0, to_bytes("seq1")}}),
                              put(1, to_bytes("seq2-b"), {{0, to_bytes("seq0")}})});
  ASSERT_TRUE(clash.ok());
  EXPECT_FALSE(clash->success);
  EXPECT_EQ(clash->current.at(1), std::vector<Bytes>{to_bytes("seq1")});
  EXPECT_EQ(slot_bytes(r, 0), to_bytes("seq1-a"));
  EXPECT_EQ(slot_bytes(r, 1), to_bytes("seq1-b"));
  // Both pass: both written.
  auto next = slot_write(r, {put(0, to_bytes("seq2-a"), {{0, to_bytes("seq1")}}),
                             put(1, to_bytes("seq2-b"), {{0, to_bytes("seq1")}})});
  ASSERT_TRUE(next.ok() && next->success);
  EXPECT_EQ(slot_bytes(r, 1), to_bytes("seq2-b"));
  // A missing share reads as empty for tests: an empty expectation passes, others fail.
  EXPECT_TRUE(slot_write(r, {put(2, to_bytes("new"), {{0, Bytes{}}})})->success);
  EXPECT_FALSE(slot_write(r, {put(3, to_bytes("new"), {{0, to_bytes("x")}})})->success);
  auto all = r.run(r.server->slot_read(si_of(5), {}, {{0, 3}, {5, 10}}));
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 3u);
  EXPECT_EQ(all->at(0), (std::vector<Bytes>{to_bytes("seq"), to_bytes("a")}));
  EXPECT_EQ(r.server->stats().shares, 3u);
}

// A test vector with a length longer than its expectation: {0, "", 1} means "no such share",
// which a writer uses to create a share only if nobody else created it first.
TEST(StorageSlot, ALengthTestSaysTheShareIsAbsent) {
  Rig r;
  const TestVector absent{0, Bytes{}, 1};
  auto first = slot_write(r, {put(0, to_bytes("mine"), {absent})});
  ASSERT_TRUE(first.ok() && first->success);
  auto second = slot_write(r, {put(0, to_bytes("theirs"), {absent})});
  ASSERT_TRUE(second.ok());
  EXPECT_FALSE(second->success);
  EXPECT_EQ(second->current.at(0), std::vector<Bytes>{to_bytes("m")});
  EXPECT_EQ(slot_bytes(r, 0), to_bytes("mine"));
  // A prefix test with an explicit length still compares that many bytes.
  EXPECT_TRUE(slot_write(r, {put(0, to_bytes("next"), {{0, to_bytes("mi"), 2}})})->success);
  // An expectation longer than the compared length is malformed.
  auto bad = slot_write(r, {put(0, to_bytes("x"), {{0, to_bytes("abc"), 2}})});
  EXPECT_EQ(bad.status().code(), ErrorCode::kInvalidArgument);
}

TEST(StorageSlot, WrongWriteEnablerIsRefused) {
  Rig r;
  ASSERT_TRUE(slot_write(r, {put(0, to_bytes("v1"))}, /*enabler=*/7)->success);
  auto wrong = slot_write(r, {put(0, to_bytes("evil"))}, /*enabler=*/8);
  EXPECT_EQ(wrong.status().code(), ErrorCode::kPermissionDenied);
  EXPECT_NE(wrong.status().message().find("wrong write enabler"), std::string::npos);
  EXPECT_EQ(slot_bytes(r, 0), to_bytes("v1"));
  // Also for a share number not yet written: the enabler belongs to the storage index.
  EXPECT_CODE(slot_write(r, {put(9, to_bytes("evil"))}, 8), kPermissionDenied);
}

TEST(StorageSlot, LengthsExtendTruncateAndZeroDeletes) {
  Rig r;
  ASSERT_TRUE(slot_write(r, {put(0, to_bytes("abcdef"))})->success);
  SlotShareWrite w;
  w.share_number = 0;
  w.writes.push_back({8, to_bytes("XY")});  // past the end: the gap is zeros
  ASSERT_TRUE(slot_write(r, {w})->success);
  Bytes want = to_bytes("abcdef");
  want.push_back(0);
  want.push_back(0);
  want.push_back('X');
  want.push_back('Y');
  EXPECT_EQ(slot_bytes(r, 0), want);
  SlotShareWrite cut;
  cut.share_number = 0;
  cut.new_length = 3;
  ASSERT_TRUE(slot_write(r, {cut})->success);
  EXPECT_EQ(slot_bytes(r, 0), to_bytes("abc"));
  EXPECT_EQ(r.run(r.server->space())->used_bytes, 3u);
  cut.new_length = 0;
  ASSERT_TRUE(slot_write(r, {cut})->success);
  EXPECT_TRUE(r.run(r.server->get_buckets(si_of(5)))->empty());
  EXPECT_EQ(r.server->stats().shares, 0u);
  EXPECT_EQ(r.run(r.server->space())->used_bytes, 0u);
}

TEST(StorageSlot, RefusalsAreSpecific) {
  Rig r;
  EXPECT_CODE(slot_write(r, {}), kInvalidArgument);
  EXPECT_CODE(slot_write(r, {put(256, to_bytes("x"))}), kInvalidArgument);
  EXPECT_CODE(slot_write(r, {put(1, to_bytes("x")), put(1, to_bytes("y"))}), kInvalidArgument);
  SlotShareWrite huge;
  huge.writes.push_back({kMutableShareBytesMax, to_bytes("x")});
  EXPECT_CODE(slot_write(r, {huge}), kInvalidArgument);
  SlotShareWrite many;
  for (std::size_t i = 0; i <= kVectorsMax; ++i) many.tests.push_back({0, {}});
  EXPECT_CODE(slot_write(r, {many}), kInvalidArgument);
  // Mutable and immutable do not mix under one storage index.
  ASSERT_TRUE(r.upload(si_of(5), 0, pattern(10, 1)).is_ok());
  EXPECT_CODE(slot_write(r, {put(1, to_bytes("x"))}), kFailedPrecondition);
  EXPECT_CODE(r.run(r.server->slot_read(si_of(5), {}, {{0, 1}})), kFailedPrecondition);
  ASSERT_TRUE(r.run(r.server->slot_write(si_of(6), enabler_of(1), secret_of(1), secret_of(101),
                                         {put(0, to_bytes("m"))}))
                  ->success);
  EXPECT_CODE(r.allocate(si_of(6), {1}, 10), kFailedPrecondition);
  EXPECT_CODE(r.read(si_of(6), 0, 0, 1), kFailedPrecondition);
  EXPECT_CODE(r.run(r.server->slot_read(si_of(6), {}, {{0, kReadBytesMax + 1}})), kInvalidArgument);

  StorageOptions ro;
  ro.read_only = true;
  Rig q(ro);
  EXPECT_CODE(slot_write(q, {put(0, to_bytes("x"))}), kPermissionDenied);
}

// The fault sequence copy-on-write exists for: the new generation is on disk but the switch
// (the KV batch) fails. The old contents stay current, before and after a restart, and no
// stray generation is left behind.
TEST(StorageSlot, AFailedSwitchLeavesTheOldVersionWhole) {
  Rig r;
  ASSERT_TRUE(slot_write(r, {put(0, to_bytes("old-0")), put(1, to_bytes("old-1"))})->success);
  r.node->sim_kv().set_fail_next(1, ErrorCode::kIoError);
  EXPECT_CODE(slot_write(r, {put(0, to_bytes("new-0")), put(1, to_bytes("new-1"))}), kIoError);
  EXPECT_EQ(slot_bytes(r, 0), to_bytes("old-0"));
  EXPECT_EQ(slot_bytes(r, 1), to_bytes("old-1"));
  // A stray generation from a crash mid-write is removed at start-up.
  auto stray = r.run(r.node->disk().open("storage/shares/05/05050505050505050505050505050505/0.7",
                                         OpenOptions{.create = true}));
  ASSERT_TRUE(stray.ok());
  stray->reset();
  ASSERT_TRUE(
      r.run(r.node->disk().sync_dir("storage/shares/05/05050505050505050505050505050505")).is_ok());
  r.crash_and_restart();
  EXPECT_EQ(r.server->stats().orphan_files_removed, 1u);
  EXPECT_EQ(slot_bytes(r, 0), to_bytes("old-0"));
  EXPECT_EQ(slot_bytes(r, 1), to_bytes("old-1"));
  ASSERT_TRUE(slot_write(r, {put(0, to_bytes("new-0"))})->success);
  r.crash_and_restart();
  EXPECT_EQ(slot_bytes(r, 0), to_bytes("new-0"));
  EXPECT_EQ(r.server->stats().orphan_files_removed, 0u);
  // Small writes to existing shares are applied in place: no new generation.
  auto files = r.run(r.node->disk().list("storage/shares/05/05050505050505050505050505050505"));
  EXPECT_EQ(files.value_or(std::vector<std::string>{}), (std::vector<std::string>{"0.1", "1.1"}));
}

// An in-place write whose journal committed but whose file writes failed (as if the process
// died right after the journal batch) is finished at start-up: the write is all there.
TEST(StorageSlot, AnInPlaceWriteInterruptedAfterItsJournalIsFinishedAtStartUp) {
  Rig r;
  ASSERT_TRUE(slot_write(r, {put(0, to_bytes("aaaaaaaa")), put(1, to_bytes("bbbbbbbb"))})->success);
  SlotShareWrite w0;
  w0.share_number = 0;
  w0.writes.push_back({2, to_bytes("XY")});
  SlotShareWrite w1;
  w1.share_number = 1;
  w1.writes.push_back({0, to_bytes("B")});
  w1.new_length = 3;  // truncates
  // No tests and no growth: the first disk operation after the journal batch is opening the
  // first share to write it. It fails, as if the process had died there.
  r.node->sim_disk().set_fail_next(1, ErrorCode::kIoError);
  EXPECT_CODE(slot_write(r, {w0, w1}), kIoError);
  r.crash_and_restart();
  EXPECT_EQ(r.server->stats().slot_journals_replayed, 1u);
  EXPECT_EQ(slot_bytes(r, 0), to_bytes("aaXYaaaa"));
  EXPECT_EQ(slot_bytes(r, 1), to_bytes("Bbb"));
  // In place, a write past the end zero-fills the gap and lengthens the share.
  SlotShareWrite grow;
  grow.share_number = 0;
  grow.tests.push_back({0, to_bytes("aaXY")});
  grow.writes.push_back({10, to_bytes("tail")});
  ASSERT_TRUE(slot_write(r, {grow})->success);
  EXPECT_EQ(slot_bytes(r, 0),
            Bytes({'a', 'a', 'X', 'Y', 'a', 'a', 'a', 'a', 0, 0, 't', 'a', 'i', 'l'}));
  // And a journal that never committed changes nothing.
  r.node->sim_kv().set_fail_next(1, ErrorCode::kIoError);
  SlotShareWrite w2;
  w2.share_number = 1;
  w2.writes.push_back({0, to_bytes("ZZZ")});
  EXPECT_CODE(slot_write(r, {w2}), kIoError);
  r.crash_and_restart();
  EXPECT_EQ(r.server->stats().slot_journals_replayed, 0u);
  EXPECT_EQ(slot_bytes(r, 1), to_bytes("Bbb"));
  EXPECT_EQ(r.server->stats().in_place_slot_writes, 0u);  // counted since the restart
  // Without a restart: a journal whose application failed is finished by the next write.
  SlotShareWrite w3;
  w3.share_number = 1;
  w3.writes.push_back({1, to_bytes("C")});
  r.node->sim_disk().set_fail_next(1, ErrorCode::kIoError);
  EXPECT_CODE(slot_write(r, {w3}), kIoError);
  SlotShareWrite w4;
  w4.share_number = 1;
  w4.tests.push_back({0, to_bytes("BCb")});  // w3 is in place before w4 is tested
  w4.writes.push_back({2, to_bytes("D")});
  auto after = slot_write(r, {w4});
  ASSERT_TRUE(after.ok());
  EXPECT_TRUE(after->success);
  EXPECT_EQ(slot_bytes(r, 1), to_bytes("BCD"));
}

TEST(StorageSlot, WritesLeaseTheirSharesAndCancelDeletes) {
  Rig r;
  ASSERT_TRUE(slot_write(r, {put(0, to_bytes("a"))}, 1, /*client=*/1)->success);
  ASSERT_TRUE(slot_write(r, {put(0, to_bytes("b"))}, 1, /*client=*/2)->success);
  EXPECT_EQ(r.run(r.server->cancel_lease(si_of(5), secret_of(101)))->shares_deleted, 0u);
  EXPECT_EQ(r.run(r.server->cancel_lease(si_of(5), secret_of(102)))->shares_deleted, 1u);
  EXPECT_TRUE(r.run(r.server->get_buckets(si_of(5)))->empty());
}

// ---- garbage collection ----

constexpr Duration kDay = hours(24);

StorageOptions gc_options(GcOptions::Mode mode = GcOptions::Mode::kAge) {
  StorageOptions o;
  o.lease_duration = kDay * 31;
  o.gc.mode = mode;
  o.gc.skew_margin = kDay;
  o.gc.slice_records = 10;
  return o;
}

// Runs slices until a cycle completes; returns how many slices it took.
int run_gc_cycle(Rig& r) {
  for (int i = 1; i < 10'000; ++i) {
    auto done = r.run(r.server->gc_slice());
    EXPECT_TRUE(done.ok()) << done.status().to_string();
    if (!done.ok() || *done) return i;
  }
  return -1;
}

TEST(StorageGc, AgeModeDeletesSharesWhoseLeasesAllExpired) {
  Rig r(gc_options());
  ASSERT_TRUE(r.upload(si_of(1), 0, pattern(100, 1), 1).is_ok());
  ASSERT_TRUE(r.upload(si_of(2), 0, pattern(100, 2), 1).is_ok());
  r.node->sim_clock().jump(kDay * 20);
  // Share 2 gets a second client's lease twenty days in: it outlives the first by twenty days.
  ASSERT_EQ(r.run(r.server->add_lease(si_of(2), secret_of(7), secret_of(107))).value_or(0), 1u);
  r.node->sim_clock().jump(kDay * 11 + hours(12));  // day 31.5: expired, within the margin
  run_gc_cycle(r);
  EXPECT_EQ(r.server->gc_stats().shares_deleted, 0u);
  r.node->sim_clock().jump(kDay);  // day 32.5: past the margin
  run_gc_cycle(r);
  EXPECT_EQ(r.server->gc_stats().shares_deleted, 1u);
  EXPECT_EQ(r.server->gc_stats().leases_expired, 2u);  // share 1's, and client 1's on share 2
  EXPECT_CODE(r.read(si_of(1), 0, 0, 10), kNotFound);
  EXPECT_TRUE(r.read(si_of(2), 0, 0, 10).ok());
  EXPECT_EQ(r.run(r.server->space())->used_bytes, 100u);
  r.node->sim_clock().jump(kDay * 21);
  run_gc_cycle(r);
  EXPECT_CODE(r.read(si_of(2), 0, 0, 10), kNotFound);
  EXPECT_EQ(r.server->stats().shares, 0u);
}

TEST(StorageGc, AWallClockJumpingBackwardsNeverDeletesALeasedShare) {
  Rig r(gc_options());
  ASSERT_TRUE(r.upload(si_of(1), 0, pattern(100, 1)).is_ok());
  r.node->sim_clock().jump(-kDay * 400);
  run_gc_cycle(r);
  r.node->sim_clock().jump(kDay * 400 + kDay * 30);
  run_gc_cycle(r);
  EXPECT_EQ(r.server->gc_stats().shares_deleted, 0u);
  EXPECT_TRUE(r.read(si_of(1), 0, 0, 10).ok());
}

TEST(StorageGc, CutoffDateModeExpiresLeasesGrantedBeforeTheCutoff) {
  Rig probe;
  const WallTime start = probe.node->clock().wall_now();
  StorageOptions o = gc_options(GcOptions::Mode::kCutoffDate);
  o.gc.cutoff = start + kDay * 5;
  Rig r(o);
  ASSERT_TRUE(r.upload(si_of(1), 0, pattern(100, 1), 1).is_ok());  // granted at day 0
  r.node->sim_clock().jump(kDay * 10);
  ASSERT_TRUE(r.upload(si_of(2), 0, pattern(100, 2), 1).is_ok());  // granted at day 10
  run_gc_cycle(r);
  EXPECT_CODE(r.read(si_of(1), 0, 0, 10), kNotFound);
  EXPECT_TRUE(r.read(si_of(2), 0, 0, 10).ok());
}

// The age mode reads the expiry index, not every lease: only the expired leases are examined.
TEST(StorageGc, AgeModeExaminesOnlyExpiredLeases) {
  Rig r(gc_options());
  for (std::uint8_t i = 0; i < 5; ++i) ASSERT_TRUE(r.upload(si_of(i), 0, pattern(10, i)).is_ok());
  r.node->sim_clock().jump(kDay * 20);
  for (std::uint8_t i = 5; i < 30; ++i) ASSERT_TRUE(r.upload(si_of(i), 0, pattern(10, i)).is_ok());
  r.node->sim_clock().jump(kDay * 12 + hours(12));  // day 32.5: the first five past the margin
  EXPECT_EQ(run_gc_cycle(r), 1);                    // 5 entries < 10 per slice
  EXPECT_EQ(r.server->gc_stats().leases_examined, 5u);
  EXPECT_EQ(r.server->gc_stats().shares_deleted, 5u);
  EXPECT_CODE(r.read(si_of(4), 0, 0, 10), kNotFound);
  EXPECT_TRUE(r.read(si_of(5), 0, 0, 10).ok());
  // A renewed lease's expiry moves: it is not examined when its first term would have ended.
  ASSERT_EQ(r.run(r.server->add_lease(si_of(6), secret_of(1), secret_of(101))).value_or(0), 1u);
  r.node->sim_clock().jump(kDay * 20);  // day 52.5: the other 24 past the margin
  EXPECT_EQ(run_gc_cycle(r), 3);        // 10 + 10 + 4
  EXPECT_EQ(r.server->gc_stats().leases_examined, 5u + 24u);
  EXPECT_TRUE(r.read(si_of(6), 0, 0, 10).ok());
  EXPECT_CODE(r.read(si_of(7), 0, 0, 10), kNotFound);
}

// The cutoff mode walks every lease record; its position survives a restart.
TEST(StorageGc, ProgressSurvivesARestart) {
  Rig r(gc_options(GcOptions::Mode::kCutoffDate));
  for (std::uint8_t i = 0; i < 25; ++i) ASSERT_TRUE(r.upload(si_of(i), 0, pattern(10, i)).is_ok());
  EXPECT_EQ(r.run(r.server->gc_slice()).value_or(true), false);  // leases 0..9
  r.crash_and_restart();
  // Resumes at lease 10: two more slices finish the cycle (from the start it would take three).
  EXPECT_EQ(r.run(r.server->gc_slice()).value_or(true), false);
  EXPECT_EQ(r.run(r.server->gc_slice()).value_or(false), true);
  EXPECT_EQ(r.server->gc_stats().leases_examined, 15u);
}

TEST(StorageGc, ExpiredSharesAreReclaimedWhenAnAllocationWouldNotFit) {
  SimulationOptions so = drop_unsynced();
  so.disk.capacity_bytes = 10'000;
  Rig r(gc_options(), so);
  for (std::uint8_t i = 0; i < 4; ++i) {
    ASSERT_TRUE(r.upload(si_of(i), 0, pattern(2000, i)).is_ok());
  }
  EXPECT_CODE(r.allocate(si_of(9), {0}, 4000), kNoSpace);  // nothing has expired yet
  r.node->sim_clock().jump(kDay * 33);
  auto a = r.allocate(si_of(9), {0}, 4000);
  ASSERT_TRUE(a.ok()) << a.status().to_string();
  EXPECT_EQ(a->allocated.size(), 1u);
  EXPECT_EQ(r.server->gc_stats().reclaimed_on_demand,
            2u);  // soonest-expiring first, only as needed
  EXPECT_EQ(r.server->stats().shares, 2u);
}

// The collector works in slices and reads do not wait for it: with a slow disk and thousands of
// expired shares to delete, a read issued mid-crawl is answered long before the crawl ends.
TEST(StorageGc, ReadsAreServedWhileTheCollectorDeletes) {
  SimulationOptions so = drop_unsynced();
  so.disk.metadata_latency = microseconds(100);
  so.disk.sync_latency = milliseconds(2);
  so.disk.read_latency = microseconds(200);
  StorageOptions o = gc_options();
  o.gc.slice_records = 50;
  o.gc.slice_pause = milliseconds(20);
  Rig r(o, so);
  constexpr int kShares = 1000;
  for (int i = 0; i < kShares; ++i) {
    StorageIndex si = si_of(0);
    si[0] = static_cast<std::uint8_t>(i >> 8);
    si[1] = static_cast<std::uint8_t>(i);
    si[2] = 0xee;
    ASSERT_TRUE(r.upload(si, 0, pattern(64, 1)).is_ok());
  }
  r.node->sim_clock().jump(kDay * 40);
  ASSERT_TRUE(r.upload(si_of(0xaa), 0, pattern(64, 2)).is_ok());  // fresh: must stay
  r.node->scope().spawn(r.server->run_maintenance());
  Duration worst{0};
  int reads = 0;
  while (r.server->gc_stats().cycles == 0) {
    const MonoTime t0 = r.sim.loop().now();
    auto data = r.read(si_of(0xaa), 0, 0, 64);
    ASSERT_TRUE(data.ok()) << data.status().to_string();
    worst = std::max(worst, r.sim.loop().now() - t0);
    ++reads;
    r.sim.loop().run_until(r.sim.loop().now() + milliseconds(50));
  }
  EXPECT_EQ(r.server->gc_stats().shares_deleted, static_cast<std::uint64_t>(kShares));
  EXPECT_GT(reads, 20);                                // the crawl took many slices...
  EXPECT_LT(worst, milliseconds(5)) << worst.count();  // ...and no read waited for one
  EXPECT_TRUE(r.read(si_of(0xaa), 0, 0, 64).ok());
}

// ---- over RPC ----

std::array<std::uint8_t, 32> seed_of(std::uint8_t b) {
  std::array<std::uint8_t, 32> s{};
  s.fill(b);
  return s;
}

Task<void> serve(SimNode* node, StorageServer* server, const net::NodeKey* key) {
  rpc::RpcServer rpc(node);
  register_storage_methods(rpc, server);
  auto l = node->network().listen(node->address(1));
  if (!l.ok()) co_return;
  co_await rpc::run_rpc_listener(node, l->get(), key, &rpc, {});
}

TEST(StorageRpc, UploadReadLeaseAndRefusalsOverTheWire) {
  Rig r;
  const net::NodeKey server_key = net::NodeKey::from_seed(seed_of(1));
  r.node->scope().spawn(serve(r.node, r.server.get(), &server_key));
  SimNode* client = &r.sim.add_node("client");
  client->start();
  const net::NodeKey client_key = net::NodeKey::from_seed(seed_of(2));
  rpc::RpcPool pool(client, &client_key, {});
  StorageClient sc(&pool, rpc::Peer{r.node->address(1), server_key.public_key()}, seconds(10));

  auto v = r.run(sc.version());
  ASSERT_TRUE(v.ok()) << v.status().to_string();
  EXPECT_FALSE(v->read_only);
  EXPECT_EQ(v->max_share_bytes, kDefaultMaxShareBytes);
  const Bytes data = pattern(3000, 5);
  auto a = r.run(sc.allocate(si_of(4), {2, 5}, data.size(), secret_of(1), secret_of(2)));
  ASSERT_TRUE(a.ok()) << a.status().to_string();
  ASSERT_EQ(a->allocated.size(), 2u);
  for (const Allocation& al : a->allocated) {
    ASSERT_TRUE(r.run(sc.write(si_of(4), al.share_number, al.upload_id, 0, data)).is_ok());
    ASSERT_TRUE(r.run(sc.close(si_of(4), al.share_number, al.upload_id)).is_ok());
  }
  auto buckets = r.run(sc.get_buckets({si_of(4), si_of(5)}));
  ASSERT_TRUE(buckets.ok());
  ASSERT_EQ(buckets->size(), 2u);
  EXPECT_EQ((*buckets)[0].size(), 2u);
  EXPECT_TRUE((*buckets)[1].empty());
  EXPECT_EQ(*r.run(sc.read(si_of(4), 5, 100, 50)), Bytes(data.begin() + 100, data.begin() + 150));
  EXPECT_EQ(r.run(sc.add_lease(si_of(4), secret_of(3), secret_of(4))).value_or(0), 2u);
  EXPECT_CODE(r.run(sc.read(si_of(4), 6, 0, 10)), kNotFound);
  EXPECT_CODE(r.run(sc.cancel_lease(si_of(4), secret_of(9))), kPermissionDenied);
  EXPECT_TRUE(r.run(sc.advise_corrupt(si_of(4), 5, "block hash mismatch")).is_ok());
  EXPECT_EQ(r.server->stats().corruption_reports, 1u);
  const std::vector<StorageClient::ShareBytes> whole{{0, ByteView(data)}, {1, ByteView(data)}};
  auto put = r.run(sc.put(si_of(6), whole, secret_of(1), secret_of(2)));
  ASSERT_TRUE(put.ok()) << put.status().to_string();
  EXPECT_EQ(put->stored, (std::vector<std::uint32_t>{0, 1}));
  EXPECT_EQ(*r.run(sc.read(si_of(6), 1, 0, data.size())), data);
  std::vector<StorageIndex> too_many(kBatchMax + 1, si_of(1));
  EXPECT_CODE(r.run(sc.get_buckets(too_many)), kInvalidArgument);

  // Mutable slots over the wire.
  auto sw = r.run(sc.slot_write(si_of(8), WriteEnablerBytes{}, secret_of(1), secret_of(2),
                                {SlotShareWrite{3, {}, {{0, to_bytes("hello")}}, std::nullopt}}));
  ASSERT_TRUE(sw.ok()) << sw.status().to_string();
  EXPECT_TRUE(sw->success);
  auto sr = r.run(sc.slot_read(si_of(8), {}, {{1, 3}}));
  ASSERT_TRUE(sr.ok()) << sr.status().to_string();
  EXPECT_EQ(sr->at(3), std::vector<Bytes>{to_bytes("ell")});
  auto failed_test = r.run(sc.slot_write(si_of(8), WriteEnablerBytes{}, secret_of(1), secret_of(2),
                                         {SlotShareWrite{3, {{0, to_bytes("nope")}}, {}, 0}}));
  ASSERT_TRUE(failed_test.ok());
  EXPECT_FALSE(failed_test->success);
  EXPECT_EQ(failed_test->current.at(3), std::vector<Bytes>{to_bytes("hell")});

  // Malformed requests straight on the wire: each gets a clear InvalidArgument.
  rpc::Peer peer{r.node->address(1), server_key.public_key()};
  auto raw = [&](std::string_view method, const std::string& body) {
    return r.run(pool.call(peer, std::string(method), Bytes(body.begin(), body.end()), seconds(5)));
  };
  EXPECT_CODE(raw(kMethodRead, "\xff\xff garbage"), kInvalidArgument);
  pb::ReadRequest short_si;
  short_si.set_storage_index("abc");
  auto bad = raw(kMethodRead, short_si.SerializeAsString());
  EXPECT_EQ(bad.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("storage index has 3 bytes"), std::string::npos);
  pb::AllocateRequest no_secret;
  no_secret.set_storage_index(std::string(16, 'a'));
  no_secret.add_share_numbers(0);
  no_secret.set_share_bytes(10);
  EXPECT_CODE(raw(kMethodAllocate, no_secret.SerializeAsString()), kInvalidArgument);
  pb::PutRequest bad_put;
  bad_put.set_storage_index(std::string(16, 'a'));
  bad_put.set_renew_secret(std::string(32, 'r'));
  bad_put.set_cancel_secret(std::string(32, 'c'));
  auto* share = bad_put.add_shares();
  share->set_share_number(300);
  share->set_data("x");
  EXPECT_CODE(raw(kMethodPut, bad_put.SerializeAsString()), kInvalidArgument);
  pb::WriteRequest big;
  big.set_storage_index(std::string(16, 'a'));
  big.set_data(std::string(kWriteBytesMax + 1, 'x'));
  EXPECT_CODE(raw(kMethodWrite, big.SerializeAsString()), kInvalidArgument);
  pb::AddLeaseRequest many;
  for (std::size_t i = 0; i <= kBatchMax; ++i) many.add_targets();
  EXPECT_CODE(raw(kMethodAddLease, many.SerializeAsString()), kInvalidArgument);
}

}  // namespace
}  // namespace lafs::storage
