// Property tests of mutable files in the simulator (issue: mutable files and directories):
//  - one writer, random publishes and reads, storage servers crashing (losing what they had
//    not synced) and restarting, up to n-k down at a read: a read returns the last
//    acknowledged version, or a version a later, unacknowledged publish attempted;
//  - two writers racing read-modify-writes: no lost update, the final contents are those of a
//    publish that reported success, and every read during the race is one whole version;
//  - a writer stopped at a random moment of a publish: the old or the new version is read.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <set>

#include "core/runtime/when.h"
#include "tests/unit/sim_grid.h"

namespace lafs::client {
namespace {

using testing::Grid;

struct Setup {
  MutableParams params;
  std::uint32_t happy = 0;
  std::uint32_t servers = 0;
};

// n >= 2k: the precondition of the crash guarantee (docs/uncoordinated-writes.md).
Setup gen_setup() {
  Setup s;
  s.params.total = *rc::gen::inRange<std::uint32_t>(2, 9);
  s.params.needed = *rc::gen::inRange<std::uint32_t>(1, s.params.total / 2 + 1);
  s.params.segment_size = *rc::gen::inRange<std::uint64_t>(64, 2048);
  s.servers = s.params.total + *rc::gen::inRange<std::uint32_t>(0, 3);
  s.happy = s.params.total;
  return s;
}

Bytes contents_of(const std::string& tag, std::size_t size) {
  Bytes b = testing::pattern(size, static_cast<std::uint32_t>(std::hash<std::string>{}(tag)));
  b.insert(b.begin(), tag.begin(), tag.end());
  b.push_back('|');
  return b;
}

cap::Cap as_cap(const cap::SskWriteCap& w) {
  return cap::Cap{w, false};
}

// Runs the loop until `done()` or a (simulated) minute passes.
template <typename F>
void run_until(Grid& g, F done) {
  const MonoTime limit = g.sim->loop().now() + seconds(60);
  while (!done() && g.sim->loop().now() < limit) {
    g.sim->loop().run_until(g.sim->loop().now() + milliseconds(1));
  }
}

RC_GTEST_PROP(MutableProperty, OneWriterReadsTheLastAcknowledgedVersion, ()) {
  const Setup s = gen_setup();
  Grid g(static_cast<int>(s.servers), *rc::gen::arbitrary<std::uint32_t>());
  const std::size_t max_down = s.params.total - s.params.needed;
  Bytes acked = contents_of("v0", 100);
  auto w = g.run(g.mutable_client->create(acked, g.refs, s.params, s.happy));
  RC_ASSERT(w.ok());
  std::vector<Bytes> attempted;  // publishes since the last acknowledged one that failed
  int acks = 0;
  int failed = 0;
  int reads_with_servers_down = 0;
  const int steps = *rc::gen::inRange(3, 14);
  for (int step = 0; step < steps; ++step) {
    const int op = *rc::gen::inRange(0, 5);
    if (op == 0 || op == 1) {
      // Publish; with op 1, some servers crash while it runs and restart after.
      const Bytes next =
          contents_of("v" + std::to_string(step + 1), *rc::gen::inRange<std::size_t>(0, 6000));
      std::optional<Result<PublishResult>> result;
      Scope scope(g.client_node->executor());
      scope.spawn(lafs::detail::store_into(
          g.mutable_client->publish(*w, next, g.refs, s.params, s.happy), &result));
      std::vector<std::size_t> crashed;
      if (op == 1) {
        g.sim->loop().run_until(g.sim->loop().now() + microseconds(*rc::gen::inRange(0, 20'000)));
        const auto victims = *rc::gen::container<std::set<std::size_t>>(
            *rc::gen::inRange<std::size_t>(0, max_down + 1),
            rc::gen::inRange<std::size_t>(0, s.servers));
        for (std::size_t v : victims) {
          g.server_nodes[v]->crash(true);
          crashed.push_back(v);
        }
      }
      run_until(g, [&] { return result.has_value(); });
      RC_ASSERT(result.has_value());
      for (std::size_t v : crashed) g.restart(v);
      g.sim->loop().run_until(g.sim->loop().now() + milliseconds(10));
      if (result->ok()) {
        acked = next;
        attempted.clear();
        ++acks;
      } else {
        ++failed;
        RC_ASSERT(result->status().code() != ErrorCode::kInternal);
        attempted.push_back(next);
      }
    } else {
      // Read, with up to n-k servers down (only when no failed publish may have replaced
      // the acknowledged version's shares; otherwise all are up).
      std::vector<std::size_t> down;
      if (op >= 3 && attempted.empty()) {
        const auto victims = *rc::gen::container<std::set<std::size_t>>(
            *rc::gen::inRange<std::size_t>(0, max_down + 1),
            rc::gen::inRange<std::size_t>(0, s.servers));
        for (std::size_t v : victims) {
          g.server_nodes[v]->crash(true);
          down.push_back(v);
        }
      }
      reads_with_servers_down += down.empty() ? 0 : 1;
      auto got = g.run(g.mutable_client->retrieve(as_cap(*w), g.refs));
      if (!got.ok()) RC_FAIL("read failed: " + got.status().to_string());
      const bool allowed = got->contents == acked || std::find(attempted.begin(), attempted.end(),
                                                               got->contents) != attempted.end();
      RC_ASSERT(allowed);
      for (std::size_t v : down) g.restart(v);
      g.sim->loop().run_until(g.sim->loop().now() + milliseconds(10));
    }
  }
  RC_TAG(acks > 0 ? "publishes acknowledged" : "no publish acknowledged");
  RC_TAG(failed > 0 ? "some publish failed" : "no publish failed");
  RC_TAG(reads_with_servers_down > 0 ? "read with servers down" : "reads with all up");
}

// Two writers append their tags with read-modify-write while a third node reads.
RC_GTEST_PROP(MutableProperty, TwoRacingWritersNeverLoseAnUpdateOrMixVersions, ()) {
  const Setup s = gen_setup();
  Grid g(static_cast<int>(s.servers), *rc::gen::arbitrary<std::uint32_t>());
  MutableClientOptions o;
  o.modify_attempts_max = 12;
  auto& a = g.add_client("writer-a", o);
  auto& b = g.add_client("writer-b", o);
  auto& reader = g.add_client("reader");
  const Bytes base = to_bytes("base;");
  auto w = g.run(g.mutable_client->create(base, g.refs, s.params, s.happy));
  RC_ASSERT(w.ok());

  std::set<Bytes> produced{base};  // every content any change() returned
  int changes = 0;                 // change() calls: more than the appends means retries
  struct Writer {
    std::string name;
    MutableClient* client;
    int appends;
    std::vector<std::string> succeeded;
    std::vector<Bytes> success_contents;
    int failures = 0;
    bool done = false;
  };
  Writer wa{"a", a.mutable_client.get(), *rc::gen::inRange(1, 4), {}, {}};
  Writer wb{"b", b.mutable_client.get(), *rc::gen::inRange(1, 4), {}, {}};
  auto run_writer = [&](Writer* wr) -> Task<void> {
    for (int i = 0; i < wr->appends; ++i) {
      const std::string tag = wr->name + std::to_string(i) + ";";
      Bytes last;
      MutableClient::Change change = [&](const Bytes& cur) -> Result<Bytes> {
        ++changes;
        Bytes out = cur;
        out.insert(out.end(), tag.begin(), tag.end());
        produced.insert(out);
        last = out;
        return out;
      };
      auto r = co_await wr->client->modify(*w, change, g.refs, s.happy);
      if (r.ok()) {
        wr->succeeded.push_back(tag);
        wr->success_contents.push_back(last);
      } else {
        ++wr->failures;
      }
    }
    wr->done = true;
  };
  std::vector<std::string> read_errors;
  int reads_ok = 0;
  bool stop_reading = false;
  auto run_reader = [&]() -> Task<void> {
    while (!stop_reading) {
      auto got = co_await reader.mutable_client->retrieve(as_cap(*w), g.refs);
      if (got.ok()) {
        ++reads_ok;
        if (!produced.contains(got->contents)) read_errors.push_back("a read saw unknown bytes");
      }
      co_await sleep_for(reader.node->executor(), milliseconds(2));
    }
  };
  Scope sa(a.node->executor());
  Scope sb(b.node->executor());
  Scope sr(reader.node->executor());
  sa.spawn(run_writer(&wa));
  sb.spawn(run_writer(&wb));
  sr.spawn(run_reader());
  run_until(g, [&] { return wa.done && wb.done; });
  RC_ASSERT(wa.done && wb.done);
  stop_reading = true;
  run_until(g, [&] { return sr.size() == 0; });
  RC_ASSERT(read_errors.empty());

  auto final_read = g.run(g.mutable_client->retrieve(as_cap(*w), g.refs));
  RC_ASSERT(final_read.ok());
  const std::string final_text(final_read->contents.begin(), final_read->contents.end());
  // No lost update: every append that reported success is in the final contents.
  for (const Writer* wr : {&wa, &wb}) {
    for (const std::string& tag : wr->succeeded)
      RC_ASSERT(final_text.find(tag) != std::string::npos);
  }
  // The final contents are those of a publish that reported success (when any did).
  std::vector<Bytes> successes = wa.success_contents;
  successes.insert(successes.end(), wb.success_contents.begin(), wb.success_contents.end());
  if (!successes.empty()) {
    RC_ASSERT(std::find(successes.begin(), successes.end(), final_read->contents) !=
              successes.end());
  }
  RC_TAG(wa.failures + wb.failures == 0 ? "all appends succeeded" : "some gave up");
  RC_TAG(changes > wa.appends + wb.appends ? "writers conflicted and retried" : "no conflict");
  RC_TAG(reads_ok > 0 ? "reads during the race" : "no read finished during the race");
}

// A writer stopped (its process killed) at a random moment of a publish: the old or the new
// version is read, whole; the next publish converges every slot to one version.
RC_GTEST_PROP(MutableProperty, AWriterStoppedAnywhereLeavesOldOrNew, ()) {
  const Setup s = gen_setup();
  Grid g(static_cast<int>(s.servers), *rc::gen::arbitrary<std::uint32_t>());
  const Bytes old_contents = contents_of("old", *rc::gen::inRange<std::size_t>(0, 5000));
  const Bytes new_contents = contents_of("new", *rc::gen::inRange<std::size_t>(0, 5000));
  auto w = g.run(g.mutable_client->create(old_contents, g.refs, s.params, s.happy));
  RC_ASSERT(w.ok());
  auto& writer = g.add_client("writer");
  std::optional<Result<PublishResult>> result;
  {
    Scope scope(writer.node->executor());
    scope.spawn(lafs::detail::store_into(
        writer.mutable_client->publish(*w, new_contents, g.refs, s.params, s.happy), &result));
    g.sim->loop().run_until(g.sim->loop().now() + microseconds(*rc::gen::inRange(0, 30'000)));
    scope.cancel();
  }
  RC_TAG(result.has_value() ? "publish finished" : "publish stopped");
  g.sim->loop().run_until(g.sim->loop().now() + milliseconds(50));  // in-flight writes land
  auto got = g.run(g.mutable_client->retrieve(as_cap(*w), g.refs));
  if (!got.ok()) RC_FAIL("read failed: " + got.status().to_string());
  RC_ASSERT(got->contents == old_contents || got->contents == new_contents);
  if (result.has_value() && result->ok()) RC_ASSERT(got->contents == new_contents);

  const Bytes last = contents_of("last", 300);
  auto p = g.run(g.mutable_client->publish(*w, last, g.refs, s.params, s.happy));
  if (!p.ok()) RC_FAIL("next publish failed: " + p.status().to_string());
  const auto r = std::get<cap::SskReadCap>(cap::read_cap(as_cap(*w))->file);
  const ServerMap map = g.run(g.mutable_client->update_servermap(
      crypto::mutable_storage_index(r.read_key), w->fingerprint, g.refs));
  RC_ASSERT(map.versions().size() == 1u);
  auto again = g.run(g.mutable_client->retrieve(as_cap(*w), g.refs));
  RC_ASSERT(again.ok() && again->contents == last);
}

// A read cap's holder cannot write (every server refuses the write enablers it can derive),
// and a verify cap finds and checks shares without reading: no share holds plaintext.
RC_GTEST_PROP(MutableProperty, ReadCapsCannotWriteVerifyCapsCannotRead, ()) {
  const Setup s = gen_setup();
  Grid g(static_cast<int>(s.servers), *rc::gen::arbitrary<std::uint32_t>());
  const Bytes plain = contents_of("secret", *rc::gen::inRange<std::size_t>(64, 5000));
  auto w = g.run(g.mutable_client->create(plain, g.refs, s.params, s.happy));
  RC_ASSERT(w.ok());
  const auto read = std::get<cap::SskReadCap>(cap::read_cap(as_cap(*w))->file);
  const auto verify = std::get<cap::SskVerifyCap>(cap::verify_cap(as_cap(*w))->file);
  for (std::size_t i = 0; i < g.refs.size(); ++i) {
    const auto id = crypto::ServerIdView(g.refs[i].key.data(), g.refs[i].key.size());
    // What a reader can compute: enablers from its read key, or from the storage index.
    const crypto::WriteKey from_read(read.read_key.view());
    crypto::WriteKey from_si;
    std::copy(verify.storage_index.begin(), verify.storage_index.end(),
              from_si.mutable_view().begin());
    const std::array<const crypto::WriteKey*, 2> guesses{&from_read, &from_si};
    for (const crypto::WriteKey* guess : guesses) {
      const auto enabler = crypto::write_enabler(*guess, id);
      storage::WriteEnablerBytes we;
      std::copy_n(enabler.data(), we.size(), we.begin());
      storage::SlotShareWrite write;
      write.share_number = 0;
      write.writes.push_back({0, to_bytes("mine now")});
      std::vector<storage::SlotShareWrite> writes{write};
      if (g.run(g.nodes[i].server->slot_read(verify.storage_index, {}, {{0, 1}}))->empty()) {
        continue;  // no share here: a first write sets the enabler (docs/specs/storage.md)
      }
      auto res = g.run(g.nodes[i].server->slot_write(verify.storage_index, we, {}, {}, writes));
      RC_ASSERT(res.status().code() == ErrorCode::kPermissionDenied);
    }
  }
  auto refused = g.run(g.mutable_client->retrieve(cap::Cap{verify, false}, g.refs));
  RC_ASSERT(refused.status().code() == ErrorCode::kInvalidArgument);
  // What a verifier sees: every share checks out, none contains a window of the plaintext.
  const ServerMap map =
      g.run(g.mutable_client->update_servermap(verify.storage_index, verify.fingerprint, g.refs));
  RC_ASSERT(map.newest_recoverable().has_value());
  const auto window = ByteView(plain).subspan(plain.size() / 2, 24);
  for (const auto& sh : map.shares) {
    RC_ASSERT(sh.header.has_value());
    auto bytes = g.run(g.nodes[0].server->slot_read(verify.storage_index, {}, {{0, 1 << 20}}));
    for (const auto& [shnum, data] : *bytes) {
      RC_ASSERT(check_mutable_share(verify.storage_index, verify.fingerprint, shnum, data[0]).ok());
      RC_ASSERT(std::search(data[0].begin(), data[0].end(), window.begin(), window.end()) ==
                data[0].end());
    }
  }
  auto ok = g.run(g.mutable_client->retrieve(cap::Cap{read, false}, g.refs));
  RC_ASSERT(ok.ok() && ok->contents == plain);
}

// No (key, nonce, counter) encrypts two different plaintexts: every segment of every publish
// (the same contents published again included) has a salt, and so a key, never used before.
RC_GTEST_PROP(MutableProperty, EveryPublishUsesFreshKeystreams, ()) {
  const Setup s = gen_setup();
  Grid g(static_cast<int>(s.servers), *rc::gen::arbitrary<std::uint32_t>());
  const Bytes first = contents_of("0", *rc::gen::inRange<std::size_t>(0, 4000));
  auto w = g.run(g.mutable_client->create(first, g.refs, s.params, s.happy));
  RC_ASSERT(w.ok());
  const auto read = std::get<cap::SskReadCap>(cap::read_cap(as_cap(*w))->file);
  const crypto::StorageIndex si = crypto::mutable_storage_index(read.read_key);
  std::set<crypto::Salt> salts;
  std::size_t segments = 0;
  Bytes contents = first;
  const int publishes = *rc::gen::inRange(1, 6);
  for (int p = 0; p <= publishes; ++p) {
    if (p > 0) {
      if (*rc::gen::inRange(0, 2) == 0) {  // often the very same contents again
        contents = contents_of(std::to_string(p), *rc::gen::inRange<std::size_t>(0, 4000));
      }
      RC_ASSERT(g.run(g.mutable_client->publish(*w, contents, g.refs, s.params, s.happy)).ok());
    }
    const ServerMap map = g.run(g.mutable_client->update_servermap(si, w->fingerprint, g.refs));
    const auto v = map.newest_recoverable();
    RC_ASSERT(v.has_value());
    const MutableHeader* h = map.header_of(*v);
    const auto layout = MutableLayout::make(h->params, h->share_number);
    RC_ASSERT(layout.ok());
    for (const auto& sh : map.shares) {
      if (!sh.header || sh.header->version != *v || sh.share_number != h->share_number) continue;
      const ServerRef& ref = map.servers[sh.server];
      std::size_t idx = 0;
      while (g.refs[idx].key != ref.key) ++idx;
      std::vector<storage::ReadVector> where;
      for (std::uint64_t seg = 0; seg < layout->segment_count; ++seg) {
        where.push_back({layout->salt_offset(seg), crypto::kSaltBytes});
      }
      auto got = g.run(g.nodes[idx].server->slot_read(si, {sh.share_number}, where));
      RC_ASSERT(got.ok() && got->contains(sh.share_number));
      for (std::uint64_t seg = 0; seg < layout->segment_count; ++seg) {
        const Bytes& raw = got->at(sh.share_number)[seg];
        crypto::Salt salt{};
        std::copy_n(raw.begin(), salt.size(), salt.begin());
        RC_ASSERT(salts.insert(salt).second);
        ++segments;
      }
      break;
    }
  }
  RC_ASSERT(salts.size() == segments);
}

// Random ranged writes (inside, across segments, appends, past the tree width, with gaps)
// against a model: every read is the model, and every segment written gets a fresh salt.
RC_GTEST_PROP(MutableProperty, RangedWritesMatchAModel, ()) {
  const Setup s = gen_setup();
  Grid g(static_cast<int>(s.servers), *rc::gen::arbitrary<std::uint32_t>());
  Bytes model = contents_of("base", *rc::gen::inRange<std::size_t>(0, 6000));
  auto w = g.run(g.mutable_client->create(model, g.refs, s.params, s.happy));
  RC_ASSERT(w.ok());
  const auto rcap = std::get<cap::SskReadCap>(cap::read_cap(as_cap(*w))->file);
  const crypto::StorageIndex si = crypto::mutable_storage_index(rcap.read_key);
  std::map<Bytes, Bytes> keystreams;  // salt -> the one plaintext it encrypted
  const int ops = *rc::gen::inRange(1, 8);
  for (int i = 0; i < ops; ++i) {
    const std::uint64_t offset = *rc::gen::inRange<std::uint64_t>(0, model.size() + 300);
    const Bytes data = testing::pattern(*rc::gen::inRange<std::size_t>(1, 3000),
                                        *rc::gen::arbitrary<std::uint32_t>());
    auto p = g.run(g.mutable_client->write_range(*w, offset, data, g.refs, s.happy));
    if (!p.ok()) RC_FAIL("write_range failed: " + p.status().to_string());
    if (model.size() < offset + data.size()) model.resize(offset + data.size(), 0);
    std::copy(data.begin(), data.end(), model.begin() + static_cast<std::ptrdiff_t>(offset));
    auto got = g.run(g.mutable_client->retrieve(as_cap(*w), g.refs));
    RC_ASSERT(got.ok());
    RC_ASSERT(got->contents == model);
    // Each salt (so each segment key) only ever encrypts one plaintext, across all versions.
    const ServerMap map = g.run(g.mutable_client->update_servermap(si, w->fingerprint, g.refs));
    const ServerMap::Share& sh = map.shares.front();
    const MutableHeader& h = *sh.header;
    auto layout = MutableLayout::make(h.params, sh.share_number);
    RC_ASSERT(layout.ok());
    std::size_t idx = 0;
    while (g.refs[idx].key != map.servers[sh.server].key) ++idx;
    for (std::uint64_t first = 0; first < layout->segment_count; first += 64) {
      const std::uint64_t last = std::min<std::uint64_t>(layout->segment_count, first + 64);
      std::vector<storage::ReadVector> where;  // at most 64 vectors a call
      for (std::uint64_t seg = first; seg < last; ++seg)
        where.push_back({layout->salt_offset(seg), crypto::kSaltBytes});
      auto salts = g.run(g.nodes[idx].server->slot_read(si, {sh.share_number}, where));
      RC_ASSERT(salts.ok());
      for (std::uint64_t seg = first; seg < last; ++seg) {
        const Bytes& salt = salts->at(sh.share_number)[seg - first];
        const auto from = static_cast<std::ptrdiff_t>(seg * s.params.segment_size);
        const auto len = static_cast<std::ptrdiff_t>(layout->segment_length(h.params, seg));
        const Bytes plain(model.begin() + from, model.begin() + from + len);
        auto [it, fresh] = keystreams.emplace(salt, plain);
        RC_ASSERT(fresh || it->second == plain);
      }
    }
  }
  RC_TAG(g.mutable_client->stats().ranged_updates > 0 ? "some ranged" : "no ranged");
  RC_TAG(g.mutable_client->stats().full_publishes > 1 ? "some whole" : "no whole");
}

}  // namespace
}  // namespace lafs::client
