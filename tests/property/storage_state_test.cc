// State-machine property test of the storage server (rapidcheck rc::state) against a simple
// model, on a simulated node whose crashes lose everything unsynced. Commands: complete
// uploads, uploads left open, reads, test-and-set slot writes (passing, failing, erasing), lease
// adds and cancels, wall-clock jumps both ways, garbage-collection cycles, and crash/restart.
// Checked after every command: nothing acknowledged is ever lost, nothing unacknowledged ever
// appears, leases expire exactly when the model says, and a wall clock jumping backwards never
// deletes a leased share.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>
#include <rapidcheck/state.h>

#include <map>
#include <set>

#include "core/storage/storage_server.h"
#include "net/sim/sim_run.h"
#include "net/sim/simulation.h"

namespace lafs::storage {
namespace {

constexpr Duration kDay = hours(24);
constexpr int kSis = 3;      // storage indexes 0..2 hold immutable shares
constexpr int kSlotSis = 2;  // storage indexes 3..4 hold mutable slots
constexpr int kShares = 3;
constexpr int kClients = 2;

StorageIndex si_of(int i) {
  StorageIndex si{};
  si.fill(static_cast<std::uint8_t>(0x10 + i));
  return si;
}
LeaseSecretBytes renew_of(int client) {
  LeaseSecretBytes s{};
  s.fill(static_cast<std::uint8_t>(1 + client));
  return s;
}
LeaseSecretBytes cancel_of(int client) {
  LeaseSecretBytes s{};
  s.fill(static_cast<std::uint8_t>(101 + client));
  return s;
}

using ShareId = std::pair<int, int>;  // (si, shnum)

struct Model {
  struct Held {
    Bytes data;
    std::map<int, Duration> lease_expiry;  // client -> expiry (wall offset from start)
  };
  std::map<ShareId, Held> held;
  struct Open {
    int client;
    Bytes data;  // what the upload will be given
  };
  std::map<ShareId, Open> open;
  // Mutable slots: current bytes and leases, per (si, shnum), si in kSis..kSis+kSlotSis-1.
  std::map<ShareId, Held> slots;
  Duration now{0};  // wall clock offset from the start
};

struct Sut {
  Sut() {
    sim::SimulationOptions o;
    o.seed = 11;
    o.disk.crash_keep_weight = o.kv.crash_keep_weight = 0;
    o.disk.crash_drop_weight = o.kv.crash_drop_weight = 1;
    o.disk.crash_tear_weight = o.kv.crash_tear_weight = 0;
    sim = std::make_unique<sim::Simulation>(o);
    node = &sim->add_node("server");
    node->start();
    options.lease_duration = kDay * 31;
    options.gc.mode = GcOptions::Mode::kAge;
    options.gc.skew_margin = kDay;
    options.gc.slice_records = 4;
    open();
  }
  template <typename T>
  T run(Task<T> t) {
    return sim::run_task(sim->loop(), std::move(t));
  }
  void open() {
    auto s = run(StorageServer::open(node, options));
    RC_ASSERT(s.ok());
    server = std::move(*s);
  }
  std::unique_ptr<sim::Simulation> sim;
  sim::SimNode* node = nullptr;
  StorageOptions options;
  std::unique_ptr<StorageServer> server;
  std::map<ShareId, std::uint64_t> upload_ids;
};

using Cmd = rc::state::Command<Model, Sut>;

void renew_in_model(Model& m, const ShareId& id, int client, Duration duration) {
  m.held.at(id).lease_expiry[client] = m.now + duration;
}

// Allocates, writes and closes; the model says which shares are already held (the client's
// lease is renewed on them), being uploaded (untouched) or new (stored).
struct Upload : Cmd {
  int si = *rc::gen::inRange(0, kSis);
  int shnum = *rc::gen::inRange(0, kShares);
  int client = *rc::gen::inRange(0, kClients);
  Bytes data =
      *rc::gen::container<Bytes>(*rc::gen::inRange(1, 40), rc::gen::arbitrary<std::uint8_t>());

  void apply(Model& m) const override {
    const ShareId id{si, shnum};
    if (m.held.contains(id)) {
      renew_in_model(m, id, client, kDay * 31);
    } else if (!m.open.contains(id)) {
      m.held[id] = Model::Held{data, {{client, m.now + kDay * 31}}};
    }
  }
  void run(const Model& m, Sut& s) const override {
    const ShareId id{si, shnum};
    auto a = s.run(s.server->allocate(si_of(si), {static_cast<std::uint32_t>(shnum)}, data.size(),
                                      renew_of(client), cancel_of(client), "c"));
    RC_ASSERT(a.ok());
    if (m.held.contains(id)) {
      RC_ASSERT(a->already_have == std::vector<std::uint32_t>{static_cast<std::uint32_t>(shnum)});
      return;
    }
    if (m.open.contains(id)) {
      RC_ASSERT(a->already_have.empty() && a->allocated.empty());
      return;
    }
    RC_ASSERT(a->allocated.size() == 1u);
    const std::uint64_t uid = a->allocated[0].upload_id;
    RC_ASSERT(s.run(s.server->write(si_of(si), shnum, uid, 0, data)).is_ok());
    RC_ASSERT(s.run(s.server->close(si_of(si), shnum, uid)).is_ok());
  }
  void show(std::ostream& os) const override {
    os << "Upload(si " << si << ", sh " << shnum << ", client " << client << ", " << data.size()
       << " bytes)";
  }
};

// The same upload in one call (storage.put): the model is Upload's.
struct Put : Upload {
  void run(const Model& m, Sut& s) const override {
    const ShareId id{si, shnum};
    const auto n = static_cast<std::uint32_t>(shnum);
    std::vector<PutShare> shares{PutShare{n, data}};
    auto p = s.run(
        s.server->put(si_of(si), std::move(shares), renew_of(client), cancel_of(client), "c"));
    RC_ASSERT(p.ok());
    if (m.held.contains(id)) {
      RC_ASSERT(p->already_have == std::vector<std::uint32_t>{n} && p->stored.empty());
    } else if (m.open.contains(id)) {
      RC_ASSERT(p->already_have.empty() && p->stored.empty());
    } else {
      RC_ASSERT(p->already_have.empty() && p->stored == std::vector<std::uint32_t>{n});
    }
  }
  void show(std::ostream& os) const override {
    os << "Put(si " << si << ", sh " << shnum << ", client " << client << ", " << data.size()
       << " bytes)";
  }
};

// Allocates and writes half, leaving the upload open (a client that will never close it).
struct StartUpload : Cmd {
  int si = *rc::gen::inRange(0, kSis);
  int shnum = *rc::gen::inRange(0, kShares);
  int client = *rc::gen::inRange(0, kClients);
  Bytes data =
      *rc::gen::container<Bytes>(*rc::gen::inRange(2, 40), rc::gen::arbitrary<std::uint8_t>());

  void checkPreconditions(const Model& m) const override {
    RC_PRE(!m.held.contains({si, shnum}) && !m.open.contains({si, shnum}));
  }
  void apply(Model& m) const override { m.open[{si, shnum}] = Model::Open{client, data}; }
  void run(const Model&, Sut& s) const override {
    auto a = s.run(s.server->allocate(si_of(si), {static_cast<std::uint32_t>(shnum)}, data.size(),
                                      renew_of(client), cancel_of(client), "c"));
    RC_ASSERT(a.ok());
    RC_ASSERT(a->allocated.size() == 1u);
    const std::uint64_t uid = a->allocated[0].upload_id;
    s.upload_ids[{si, shnum}] = uid;
    RC_ASSERT(s.run(s.server->write(si_of(si), shnum, uid, 0,
                                    Bytes(data.begin(), data.begin() + data.size() / 2)))
                  .is_ok());
  }
  void show(std::ostream& os) const override {
    os << "StartUpload(si " << si << ", sh " << shnum << ")";
  }
};

// Finishes an open upload: writes the rest and closes.
struct FinishUpload : Cmd {
  int pick = *rc::gen::inRange(0, 1000);
  ShareId chosen(const Model& m) const {
    auto it = m.open.begin();
    std::advance(it, pick % m.open.size());
    return it->first;
  }
  void checkPreconditions(const Model& m) const override { RC_PRE(!m.open.empty()); }
  void apply(Model& m) const override {
    const ShareId id = chosen(m);
    const Model::Open o = m.open.at(id);
    m.open.erase(id);
    m.held[id] = Model::Held{o.data, {{o.client, m.now + kDay * 31}}};
  }
  void run(const Model& m, Sut& s) const override {
    const ShareId id = chosen(m);
    const Bytes& data = m.open.at(id).data;
    const std::uint64_t uid = s.upload_ids.at(id);
    const std::size_t half = data.size() / 2;
    RC_ASSERT(s.run(s.server->write(si_of(id.first), id.second, uid, half,
                                    Bytes(data.begin() + half, data.end())))
                  .is_ok());
    RC_ASSERT(s.run(s.server->close(si_of(id.first), id.second, uid)).is_ok());
  }
  void show(std::ostream& os) const override { os << "FinishUpload(" << pick << ")"; }
};

// A test-and-set write to one slot share: the test expects either the model's current bytes
// (passes) or something else (fails and changes nothing). Writing empty data with length 0
// deletes the share.
struct SlotWrite : Cmd {
  int si = kSis + *rc::gen::inRange(0, kSlotSis);
  int shnum = *rc::gen::inRange(0, kShares);
  int client = *rc::gen::inRange(0, kClients);
  bool test_matches = *rc::gen::weightedElement<bool>({{4, true}, {1, false}});
  bool erase = *rc::gen::weightedElement<bool>({{1, true}, {6, false}});
  Bytes data =
      *rc::gen::container<Bytes>(*rc::gen::inRange(1, 40), rc::gen::arbitrary<std::uint8_t>());

  Bytes expected(const Model& m) const {
    auto it = m.slots.find({si, shnum});
    Bytes cur = it == m.slots.end() ? Bytes{} : it->second.data;
    if (!test_matches) cur.push_back(0x77);  // never what is stored
    return cur;
  }
  void apply(Model& m) const override {
    if (!test_matches) return;
    const ShareId id{si, shnum};
    if (erase) {
      m.slots.erase(id);
      return;
    }
    auto& h = m.slots[id];
    h.data = data;
    h.lease_expiry[client] = m.now + kDay * 31;
  }
  void run(const Model& m, Sut& s) const override {
    SlotShareWrite w;
    w.share_number = static_cast<std::uint32_t>(shnum);
    w.tests.push_back({0, expected(m)});
    if (erase) {
      w.new_length = 0;
    } else {
      w.writes.push_back({0, data});
      w.new_length = data.size();
    }
    WriteEnablerBytes we{};
    we.fill(0x42);
    auto r = s.run(s.server->slot_write(si_of(si), we, renew_of(client), cancel_of(client), {w}));
    RC_ASSERT(r.ok());
    RC_ASSERT(r->success == test_matches);
  }
  void show(std::ostream& os) const override {
    os << "SlotWrite(si " << si << ", sh " << shnum << ", client " << client
       << (test_matches ? "" : ", failing test") << (erase ? ", erase" : "") << ")";
  }
};

// Reads every share the model knows of and some it does not: exactly the held ones are there,
// with their bytes.
struct ReadAll : Cmd {
  void run(const Model& m, Sut& s) const override {
    for (int si = 0; si < kSis; ++si) {
      auto buckets = s.run(s.server->get_buckets(si_of(si)));
      RC_ASSERT(buckets.ok());
      std::set<std::uint32_t> got;
      for (const ShareInfo& b : *buckets) got.insert(b.share_number);
      for (int sh = 0; sh < kShares; ++sh) {
        auto it = m.held.find({si, sh});
        auto r = s.run(s.server->read(si_of(si), sh, 0, 100));
        if (it == m.held.end()) {
          RC_ASSERT(!got.contains(sh));
          RC_ASSERT(r.status().code() == ErrorCode::kNotFound);
        } else {
          RC_ASSERT(got.contains(sh));
          RC_ASSERT(r.ok());
          RC_ASSERT(*r == it->second.data);
        }
      }
    }
  }
  void show(std::ostream& os) const override { os << "ReadAll"; }
};

struct ReadSlots : Cmd {
  void run(const Model& m, Sut& s) const override {
    for (int si = kSis; si < kSis + kSlotSis; ++si) {
      auto got = s.run(s.server->slot_read(si_of(si), {}, {{0, 100}}));
      RC_ASSERT(got.ok());
      std::size_t expect = 0;
      for (int sh = 0; sh < kShares; ++sh) {
        auto it = m.slots.find({si, sh});
        if (it == m.slots.end()) {
          RC_ASSERT(!got->contains(sh));
          continue;
        }
        ++expect;
        RC_ASSERT(got->contains(sh));
        RC_ASSERT(got->at(sh).at(0) == it->second.data);
      }
      RC_ASSERT(got->size() == expect);
    }
  }
  void show(std::ostream& os) const override { os << "ReadSlots"; }
};

struct AddLease : Cmd {
  int si = *rc::gen::inRange(0, kSis + kSlotSis);
  int client = *rc::gen::inRange(0, kClients);
  void apply(Model& m) const override {
    for (auto* shares : {&m.held, &m.slots}) {
      for (auto& [id, h] : *shares) {
        if (id.first == si) h.lease_expiry[client] = m.now + kDay * 31;
      }
    }
  }
  void run(const Model& m, Sut& s) const override {
    std::uint32_t expect = 0;
    for (const auto* shares : {&m.held, &m.slots}) {
      for (const auto& [id, h] : *shares) expect += id.first == si ? 1 : 0;
    }
    auto n = s.run(s.server->add_lease(si_of(si), renew_of(client), cancel_of(client)));
    RC_ASSERT(n.ok());
    RC_ASSERT(*n == expect);
  }
  void show(std::ostream& os) const override {
    os << "AddLease(si " << si << ", client " << client << ")";
  }
};

struct CancelLease : Cmd {
  int si = *rc::gen::inRange(0, kSis + kSlotSis);
  int client = *rc::gen::inRange(0, kClients);
  void apply(Model& m) const override {
    for (auto* shares : {&m.held, &m.slots}) {
      for (auto it = shares->begin(); it != shares->end();) {
        if (it->first.first == si) it->second.lease_expiry.erase(client);
        it = (it->first.first == si && it->second.lease_expiry.empty()) ? shares->erase(it)
                                                                        : std::next(it);
      }
    }
  }
  void run(const Model& m, Sut& s) const override {
    std::uint32_t leases = 0, deleted = 0;
    for (const auto* shares : {&m.held, &m.slots}) {
      for (const auto& [id, h] : *shares) {
        if (id.first != si || !h.lease_expiry.contains(client)) continue;
        ++leases;
        deleted += h.lease_expiry.size() == 1 ? 1 : 0;
      }
    }
    auto r = s.run(s.server->cancel_lease(si_of(si), cancel_of(client)));
    if (leases == 0) {
      RC_ASSERT(r.status().code() == ErrorCode::kPermissionDenied);
      return;
    }
    RC_ASSERT(r.ok());
    RC_ASSERT(r->leases_cancelled == leases);
    RC_ASSERT(r->shares_deleted == deleted);
  }
  void show(std::ostream& os) const override {
    os << "CancelLease(si " << si << ", client " << client << ")";
  }
};

struct JumpClock : Cmd {
  int days = *rc::gen::inRange(-60, 40);
  void apply(Model& m) const override { m.now += kDay * days; }
  void run(const Model&, Sut& s) const override { s.node->sim_clock().jump(kDay * days); }
  void show(std::ostream& os) const override { os << "JumpClock(" << days << " days)"; }
};

// A full collector cycle: exactly the shares whose every lease ended more than a day ago go.
struct GcCycle : Cmd {
  void apply(Model& m) const override {
    for (auto* shares : {&m.held, &m.slots}) {
      for (auto it = shares->begin(); it != shares->end();) {
        auto& leases = it->second.lease_expiry;
        std::erase_if(leases, [&](const auto& l) { return l.second + kDay < m.now; });
        it = leases.empty() ? shares->erase(it) : std::next(it);
      }
    }
  }
  void run(const Model&, Sut& s) const override {
    for (int i = 0; i < 1000; ++i) {
      auto done = s.run(s.server->gc_slice());
      RC_ASSERT(done.ok());
      if (*done) return;
    }
    RC_FAIL("the collector never finished a cycle");
  }
  void show(std::ostream& os) const override { os << "GcCycle"; }
};

// The process dies and restarts; unsynced disk and KV state is lost. Open uploads vanish.
struct CrashRestart : Cmd {
  void apply(Model& m) const override { m.open.clear(); }
  void run(const Model&, Sut& s) const override {
    s.server.reset();
    s.node->crash(true);
    s.node->start();
    s.upload_ids.clear();
    s.open();
  }
  void show(std::ostream& os) const override { os << "CrashRestart"; }
};

RC_GTEST_PROP(StorageStateMachine, ServerMatchesModelThroughCrashesClockJumpsAndGc, ()) {
  Model model;
  Sut sut;
  rc::state::check(
      model, sut,
      rc::state::gen::execOneOfWithArgs<Upload, Put, StartUpload, FinishUpload, ReadAll, SlotWrite,
                                        SlotWrite, ReadSlots, AddLease, CancelLease, JumpClock,
                                        GcCycle, CrashRestart>());
}

}  // namespace
}  // namespace lafs::storage
