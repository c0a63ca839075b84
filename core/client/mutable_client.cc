#include "core/client/mutable_client.h"

#include <algorithm>

#include "core/client/placement.h"
#include "core/hashtree/hash_tree.h"
#include "core/hashtree/verifier.h"
#include "core/runtime/when.h"
#include "core/storage/limits.h"
#include "core/storage/storage_service.h"

namespace lafs::client {
namespace {

storage::StorageClient client_for(rpc::RpcPool* pool, const ServerRef& s, Duration timeout) {
  return storage::StorageClient(pool, rpc::Peer{s.address, s.key}, timeout);
}

// The keys a cap gives for reading: its read key (none for a verify cap), storage index and
// fingerprint.
struct ReadKeys {
  std::optional<crypto::ReadKey> read_key;
  crypto::StorageIndex si{};
  crypto::Fingerprint fingerprint{};
};

Result<ReadKeys> read_keys_of(const cap::Cap& cap) {
  ReadKeys out;
  if (const auto* w = std::get_if<cap::SskWriteCap>(&cap.file)) {
    out.read_key = crypto::mutable_read_key(w->write_key);
    out.fingerprint = w->fingerprint;
  } else if (const auto* r = std::get_if<cap::SskReadCap>(&cap.file)) {
    out.read_key = r->read_key;
    out.fingerprint = r->fingerprint;
  } else if (const auto* v = std::get_if<cap::SskVerifyCap>(&cap.file)) {
    out.si = v->storage_index;
    out.fingerprint = v->fingerprint;
    return out;
  } else {
    return invalid_argument("not a mutable file cap");
  }
  out.si = crypto::mutable_storage_index(*out.read_key);
  return out;
}

// The version a raw checkstring names (the bytes a server holds at kCheckstringOffset).
std::optional<MutableVersion> parse_checkstring(ByteView raw) {
  if (raw.size() != kCheckstringBytes) return std::nullopt;
  MutableVersion v;
  for (int i = 0; i < 8; ++i) v.seqnum = (v.seqnum << 8) | raw[i];
  std::copy_n(raw.begin() + 8, v.root.size(), v.root.begin());
  return v;
}

// What one server answered to the server map's query.
struct PrefixAnswer {
  bool answered = false;
  std::map<std::uint32_t, Bytes> prefixes;
};

Task<PrefixAnswer> query_prefixes(rpc::RpcPool* pool, ServerRef server, Duration timeout,
                                  crypto::StorageIndex si) {
  PrefixAnswer out;
  auto sc = client_for(pool, server, timeout);
  const std::vector<std::uint32_t> all;
  const std::vector<storage::ReadVector> vectors{{0, kMutablePrefixBytes}};
  auto got = co_await sc.slot_read(si, all, vectors);
  if (!got.ok()) co_return out;
  out.answered = true;
  for (auto& [shnum, data] : *got) {
    if (!data.empty()) out.prefixes[shnum] = std::move(data[0]);
  }
  co_return out;
}

// Reads one whole share (its length from a checked header) in chunks. Every call also reads
// the checkstring: a share replaced between calls is a Conflict (another writer), not damage.
Task<Result<Bytes>> read_share(rpc::RpcPool* pool, ServerRef server, Duration timeout,
                               crypto::StorageIndex si, std::uint32_t shnum,
                               std::uint64_t share_bytes, std::size_t chunk,
                               MutableVersion version) {
  auto sc = client_for(pool, server, timeout);
  Bytes out;
  out.reserve(share_bytes);
  const std::vector<std::uint32_t> wanted{shnum};
  const Bytes expected = checkstring(version);
  while (out.size() < share_bytes) {
    const std::uint64_t len = std::min<std::uint64_t>(chunk, share_bytes - out.size());
    const std::vector<storage::ReadVector> vectors{{out.size(), len},
                                                   {kCheckstringOffset, kCheckstringBytes}};
    auto got = co_await sc.slot_read(si, wanted, vectors);
    if (!got.ok()) co_return got.status();
    auto it = got->find(shnum);
    if (it == got->end() || it->second.size() != 2) co_return not_found("the share is gone");
    if (it->second[1] != expected) {
      co_return conflict("share " + std::to_string(shnum) + " changed version while being read");
    }
    const Bytes& piece = it->second[0];
    if (piece.size() != len) co_return corruption("the share is shorter than its header says");
    out.insert(out.end(), piece.begin(), piece.end());
  }
  co_return out;
}

// One slot to write in a publish: a share number on a server, and what we expect it to hold.
struct SlotTarget {
  std::size_t server = 0;
  std::uint32_t share_number = 0;
  std::optional<Bytes> expected_checkstring;  // nullopt: the share must not exist
  // A ranged update's writes (and the share's new length); empty: the whole share.
  std::vector<storage::WriteVector> vectors;
  std::uint64_t new_length = 0;
};

storage::TestVector test_for(const std::optional<Bytes>& expected) {
  if (!expected) return storage::TestVector{0, Bytes{}, 1};
  return storage::TestVector{kCheckstringOffset, *expected, kCheckstringBytes};
}

enum class SlotOutcome { kWritten, kConflict, kFailed };
struct SlotResult {
  std::uint32_t share_number = 0;
  SlotOutcome outcome = SlotOutcome::kFailed;
  std::string detail;
};

struct WriteContext {
  rpc::RpcPool* pool = nullptr;
  const MutableClientOptions* options = nullptr;
  crypto::StorageIndex si{};
  storage::WriteEnablerBytes enabler{};
  storage::LeaseSecretBytes renew{};
  storage::LeaseSecretBytes cancel{};
  MutableVersion ours;
  MutableClient::Stats* stats = nullptr;
};

// Decides what to do when a slot holds something else than we expected: a version at or above
// our sequence number is another writer's (we lost); anything older is a leftover we may
// overwrite after testing against it.
bool is_conflict(const WriteContext& ctx, ByteView current) {
  auto v = parse_checkstring(current);
  return v.has_value() && v->seqnum >= ctx.ours.seqnum && *v != ctx.ours;
}

// One call: tests, then writes. Returns the call's result.
Task<Result<storage::SlotWriteResult>> slot_call(const WriteContext& ctx, const ServerRef& server,
                                                 std::vector<storage::SlotShareWrite> writes) {
  auto sc = client_for(ctx.pool, server, ctx.options->call_timeout);
  if (ctx.stats != nullptr) {
    for (const auto& w : writes)
      for (const auto& v : w.writes) ctx.stats->bytes_written += v.data.size();
  }
  co_return co_await sc.slot_write(ctx.si, ctx.enabler, ctx.renew, ctx.cancel, writes);
}

// Writes the shares of one server. Small shares go in one call; a share over the chunk size
// goes in several: the first replaces the checkstring with ours (so the half-written share
// is never taken for the old version: its signature no longer matches), the middle ones test
// for our checkstring, the last writes the signed prefix and sets the length.
Task<std::vector<SlotResult>> write_server(WriteContext ctx, ServerRef server,
                                           std::vector<SlotTarget> targets,
                                           const std::vector<Bytes>* shares) {
  std::vector<SlotResult> results;
  const Bytes ours_check = checkstring(ctx.ours);
  std::vector<SlotTarget> small;
  std::vector<SlotTarget> large;
  std::vector<SlotTarget> ranged_alone;
  std::uint64_t small_bytes = 0;
  for (const SlotTarget& t : targets) {
    std::uint64_t size = 0;
    if (t.vectors.empty()) {
      size = (*shares)[t.share_number].size();
    } else {
      for (const auto& v : t.vectors) size += v.data.size();
    }
    if (small_bytes + size <= ctx.options->write_chunk_bytes) {
      small.push_back(t);
      small_bytes += size;
    } else if (!t.vectors.empty()) {
      ranged_alone.push_back(t);  // bounded by update_segments: one call of its own
    } else {
      large.push_back(t);
    }
  }
  // The first call of each group may meet leftovers: test again against what is there now.
  using MakeWrite = std::function<storage::SlotShareWrite(const SlotTarget&)>;
  auto run_first = [&](std::vector<SlotTarget>& group, const MakeWrite& make) -> Task<Status> {
    for (std::uint32_t attempt = 0;; ++attempt) {
      std::vector<storage::SlotShareWrite> writes;
      for (const SlotTarget& t : group) writes.push_back(make(t));
      auto r = co_await slot_call(ctx, server, std::move(writes));
      if (!r.ok()) co_return r.status();
      if (r->success) co_return Status{};
      bool conflict = false;
      std::string detail;
      for (SlotTarget& t : group) {
        auto it = r->current.find(t.share_number);
        if (it == r->current.end() || it->second.empty()) continue;
        const Bytes& now = it->second[0];
        if (t.expected_checkstring ? now == *t.expected_checkstring : now.empty()) continue;
        if (!t.expected_checkstring) {
          // A share appeared where the map saw none: another writer placed it.
          conflict = true;
          detail = "share " + std::to_string(t.share_number) + " was created meanwhile";
          continue;
        }
        if (is_conflict(ctx, now)) {
          conflict = true;
          detail = "share " + std::to_string(t.share_number) + " now holds " +
                   describe(*parse_checkstring(now));
        } else if (!t.vectors.empty()) {
          // A ranged update's writes are deltas against the version the map saw; the slot no
          // longer holds it (a server that lost unsynced writes, a collected share), so they
          // would make a broken share. This slot fails; the version's other slots count.
          co_return unavailable("share " + std::to_string(t.share_number) +
                                " no longer holds the version this ranged update changes");
        } else {
          t.expected_checkstring = now;  // an older leftover: replace it, testing for it
        }
      }
      if (conflict) co_return lafs::conflict(detail);
      if (attempt >= ctx.options->slot_retries_max) {
        co_return lafs::conflict("the shares kept changing under us");
      }
    }
  };

  if (!small.empty()) {
    const MakeWrite whole = [&](const SlotTarget& t) {
      storage::SlotShareWrite w;
      w.share_number = t.share_number;
      w.tests.push_back(test_for(t.expected_checkstring));
      if (!t.vectors.empty()) {
        w.writes = t.vectors;
        w.new_length = t.new_length;
        return w;
      }
      const Bytes& share = (*shares)[t.share_number];
      w.writes.push_back({0, share});
      w.new_length = share.size();
      return w;
    };
    Status s = co_await run_first(small, whole);
    for (const SlotTarget& t : small) {
      results.push_back({t.share_number,
                         s.is_ok()                          ? SlotOutcome::kWritten
                         : s.code() == ErrorCode::kConflict ? SlotOutcome::kConflict
                                                            : SlotOutcome::kFailed,
                         s.is_ok() ? std::string() : s.message()});
    }
  }
  for (const SlotTarget& target : ranged_alone) {
    std::vector<SlotTarget> one{target};
    const MakeWrite ranged = [&](const SlotTarget& t) {
      storage::SlotShareWrite w;
      w.share_number = t.share_number;
      w.tests.push_back(test_for(t.expected_checkstring));
      w.writes = t.vectors;
      w.new_length = t.new_length;
      return w;
    };
    Status s = co_await run_first(one, ranged);
    results.push_back({target.share_number,
                       s.is_ok()                          ? SlotOutcome::kWritten
                       : s.code() == ErrorCode::kConflict ? SlotOutcome::kConflict
                                                          : SlotOutcome::kFailed,
                       s.is_ok() ? std::string() : s.message()});
  }
  for (const SlotTarget& target : large) {
    const Bytes& share = (*shares)[target.share_number];
    const std::size_t chunk = ctx.options->write_chunk_bytes;
    std::vector<SlotTarget> one{target};
    std::uint64_t at = kMutablePrefixBytes;
    const MakeWrite first_chunk = [&](const SlotTarget& t) {
      storage::SlotShareWrite w;
      w.share_number = t.share_number;
      w.tests.push_back(test_for(t.expected_checkstring));
      w.writes.push_back({kCheckstringOffset, ours_check});
      const std::uint64_t len = std::min<std::uint64_t>(chunk, share.size() - at);
      w.writes.push_back({at, Bytes(share.begin() + static_cast<std::ptrdiff_t>(at),
                                    share.begin() + static_cast<std::ptrdiff_t>(at + len))});
      return w;
    };
    Status s = co_await run_first(one, first_chunk);
    if (s.is_ok()) at += std::min<std::uint64_t>(chunk, share.size() - at);
    while (s.is_ok()) {
      storage::SlotShareWrite w;
      w.share_number = target.share_number;
      w.tests.push_back({kCheckstringOffset, ours_check});
      const bool last = at >= share.size();
      if (last) {
        w.writes.push_back({0, Bytes(share.begin(), share.begin() + kMutablePrefixBytes)});
        w.new_length = share.size();
      } else {
        const std::uint64_t len = std::min<std::uint64_t>(chunk, share.size() - at);
        w.writes.push_back({at, Bytes(share.begin() + static_cast<std::ptrdiff_t>(at),
                                      share.begin() + static_cast<std::ptrdiff_t>(at + len))});
        at += len;
      }
      std::vector<storage::SlotShareWrite> writes;
      writes.push_back(std::move(w));
      auto r = co_await slot_call(ctx, server, std::move(writes));
      if (!r.ok()) {
        s = r.status();
      } else if (!r->success) {
        s = lafs::conflict("share " + std::to_string(target.share_number) +
                           " was overwritten while we wrote it");
      } else if (last) {
        break;
      }
    }
    results.push_back({target.share_number,
                       s.is_ok()                          ? SlotOutcome::kWritten
                       : s.code() == ErrorCode::kConflict ? SlotOutcome::kConflict
                                                          : SlotOutcome::kFailed,
                       s.is_ok() ? std::string() : s.message()});
  }
  co_return results;
}

struct WriteEnv {
  Env* env;
  rpc::RpcPool* pool;
  const MutableClientOptions* options;
  const ClientSecrets* secrets;
  const std::function<Task<void>()>* hook;
  MutableClient::Stats* stats;
};

Duration backoff(Random& random, const MutableClientOptions& o, std::uint32_t attempt) {
  const auto base = std::chrono::duration_cast<std::chrono::microseconds>(o.retry_backoff_base);
  const auto cap = std::chrono::duration_cast<std::chrono::microseconds>(o.retry_backoff_max);
  std::int64_t limit = base.count();
  for (std::uint32_t i = 0; i < attempt && limit < cap.count(); ++i) limit *= 2;
  limit = std::min<std::int64_t>(limit, cap.count());
  const auto us = static_cast<std::int64_t>(random.uniform(static_cast<std::uint64_t>(limit) + 1));
  return std::chrono::microseconds(limit / 2 + us / 2);
}

// Writes one version to its targets in two phases (docs/specs/mutable.md section 7): every
// slot but k protected ones of the current version, then those. A Conflict stops it.
Task<Result<PublishResult>> write_version(WriteEnv we, cap::SskWriteCap cap, const ServerMap& map,
                                          MutableVersion ours, std::uint32_t needed,
                                          std::vector<SlotTarget> targets,
                                          const std::vector<Bytes>* shares, std::uint32_t happy) {
  // Crash safety: k slots of the newest recoverable version are written last, so until the
  // new version has its other shares the old one stays recoverable.
  std::set<std::pair<std::size_t, std::uint32_t>> protected_slots;
  if (const auto current = map.newest_recoverable()) {
    const MutableHeader* h = map.header_of(*current);
    std::set<std::uint32_t> chosen;
    std::vector<const ServerMap::Share*> holders;
    for (const auto& s : map.shares) {
      if (s.header && s.header->version == *current) holders.push_back(&s);
    }
    std::stable_sort(holders.begin(), holders.end(),
                     [](const auto* a, const auto* b) { return a->server < b->server; });
    for (const auto* s : holders) {
      if (chosen.size() >= h->params.needed) break;
      if (chosen.insert(s->share_number).second) {
        protected_slots.insert({s->server, s->share_number});
      }
    }
  }

  std::set<std::pair<std::size_t, std::uint32_t>> written;
  std::string failures;
  for (int phase = 1; phase <= 2; ++phase) {
    std::map<std::size_t, std::vector<SlotTarget>> by_server;
    for (const SlotTarget& t : targets) {
      const bool late = protected_slots.contains({t.server, t.share_number});
      if ((phase == 2) == late) by_server[t.server].push_back(t);
    }
    if (phase == 2) {
      if (*we.hook) co_await (*we.hook)();
      std::set<std::uint32_t> distinct, planned;
      for (const auto& w : written) distinct.insert(w.second);
      for (const SlotTarget& t : targets) {
        if (!protected_slots.contains({t.server, t.share_number})) planned.insert(t.share_number);
      }
      // With n < 2k the first phase cannot reach k shares however it goes (k slots stay with the
      // old version): the guarantee is then impossible, and the publish goes on once every
      // planned slot is written (docs/specs/mutable.md section 7). Otherwise a first phase that
      // fell short means servers failed, and replacing the protected slots now could leave
      // neither version recoverable.
      if (!protected_slots.empty() && distinct.size() < needed &&
          distinct.size() < planned.size()) {
        co_return unavailable("published only " + std::to_string(distinct.size()) + " shares of " +
                              describe(ours) + ", fewer than k=" + std::to_string(needed) +
                              "; the previous version was left in place" + failures);
      }
    }
    std::vector<std::size_t> order;
    std::vector<Task<std::vector<SlotResult>>> tasks;
    for (auto& [server, list] : by_server) {
      const ServerRef& ref = map.servers[server];
      WriteContext ctx;
      ctx.pool = we.pool;
      ctx.options = we.options;
      ctx.si = map.storage_index;
      const auto enabler = crypto::write_enabler(cap.write_key, server_id(ref));
      std::copy_n(enabler.data(), ctx.enabler.size(), ctx.enabler.begin());
      ctx.renew = to_bytes32(crypto::lease_renew_secret(we.secrets->lease, ctx.si, server_id(ref)));
      ctx.cancel =
          to_bytes32(crypto::lease_cancel_secret(we.secrets->lease, ctx.si, server_id(ref)));
      ctx.ours = ours;
      ctx.stats = we.stats;
      order.push_back(server);
      tasks.push_back(write_server(std::move(ctx), ref, std::move(list), shares));
    }
    auto results = co_await when_all(we.env->executor(), std::move(tasks));
    std::string conflicts;
    for (std::size_t i = 0; i < order.size(); ++i) {
      for (const SlotResult& r : results[i]) {
        if (r.outcome == SlotOutcome::kWritten) {
          written.insert({order[i], r.share_number});
        } else if (r.outcome == SlotOutcome::kConflict) {
          conflicts += "; " + r.detail;
        } else {
          failures += "; share " + std::to_string(r.share_number) + ": " + r.detail;
        }
      }
    }
    if (!conflicts.empty()) {
      co_return conflict(
          "uncoordinated write: another writer published to this mutable file "
          "while we wrote " +
          describe(ours) + conflicts);
    }
  }

  std::map<std::size_t, ServerShares> holdings;
  for (const auto& [server, shnum] : written) {
    auto& h = holdings[server];
    std::copy_n(map.servers[server].key.begin(), h.server.size(), h.server.begin());
    h.shares.push_back(shnum);
  }
  std::vector<ServerShares> list;
  for (auto& [server, h] : holdings) list.push_back(std::move(h));
  const std::uint32_t happiness = servers_of_happiness(list);
  if (happiness < happy) {
    co_return unavailable("published " + describe(ours) + " to " + std::to_string(written.size()) +
                          " slots on " + std::to_string(holdings.size()) + " servers: happiness " +
                          std::to_string(happiness) + ", need " + std::to_string(happy) + failures);
  }
  co_return PublishResult{ours, written.size(), happiness};
}

}  // namespace

// ---- ServerMap ----

std::map<MutableVersion, std::set<std::uint32_t>> ServerMap::versions() const {
  std::map<MutableVersion, std::set<std::uint32_t>> out;
  for (const Share& s : shares) {
    if (s.header) out[s.header->version].insert(s.share_number);
  }
  return out;
}

const MutableHeader* ServerMap::header_of(const MutableVersion& v) const {
  for (const Share& s : shares) {
    if (s.header && s.header->version == v) return &*s.header;
  }
  return nullptr;
}

std::optional<MutableVersion> ServerMap::newest_recoverable() const {
  const auto vs = versions();
  for (auto it = vs.rbegin(); it != vs.rend(); ++it) {
    const MutableHeader* h = header_of(it->first);
    if (h != nullptr && it->second.size() >= h->params.needed) return it->first;
  }
  return std::nullopt;
}

Result<MutableVersion> ServerMap::newest_recoverable_or_error(std::string_view what) const {
  if (auto v = newest_recoverable()) return *v;
  if (shares.empty()) {
    return not_found("no shares of this " + std::string(what) + " were found on the " +
                     std::to_string(answered_count()) + " servers that answered");
  }
  return unavailable("no recoverable version of this " + std::string(what) + " (" +
                     std::to_string(shares.size()) + " shares seen)");
}

std::optional<MutableVersion> ServerMap::newest_seen() const {
  const auto vs = versions();
  if (vs.empty()) return std::nullopt;
  return vs.rbegin()->first;
}

std::size_t ServerMap::answered_count() const {
  return static_cast<std::size_t>(std::count(answered.begin(), answered.end(), true));
}

// ---- MutableClient ----

Task<ServerMap> MutableClient::update_servermap(crypto::StorageIndex si,
                                                crypto::Fingerprint fingerprint,
                                                std::vector<ServerRef> servers) {
  ServerMap map;
  map.storage_index = si;
  map.fingerprint = fingerprint;
  const std::vector<ServerRef> ring = permuted_servers(si, std::move(servers));
  std::size_t next = 0;
  std::optional<std::size_t> last_with_shares;
  while (next < ring.size()) {
    // Stop once enough servers past the last one with shares said they have none.
    std::size_t empty_run = 0;
    for (std::size_t i = last_with_shares ? *last_with_shares + 1 : 0; i < map.servers.size(); ++i)
      if (map.answered[i]) ++empty_run;
    if (empty_run >= options_.servermap_empty_run) break;
    const std::size_t batch = std::min(options_.servermap_parallel, ring.size() - next);
    std::vector<Task<PrefixAnswer>> asks;
    for (std::size_t i = 0; i < batch; ++i) {
      asks.push_back(query_prefixes(pool_, ring[next + i], options_.call_timeout, si));
    }
    std::vector<PrefixAnswer> answers = co_await when_all(env_->executor(), std::move(asks));
    for (std::size_t i = 0; i < batch; ++i) {
      const std::size_t idx = map.servers.size();
      map.servers.push_back(ring[next + i]);
      map.answered.push_back(answers[i].answered);
      for (auto& [shnum, prefix] : answers[i].prefixes) {
        ServerMap::Share share;
        share.server = idx;
        share.share_number = shnum;
        const std::size_t end =
            std::min<std::size_t>(prefix.size(), kCheckstringOffset + kCheckstringBytes);
        if (prefix.size() > kCheckstringOffset) {
          share.raw_checkstring.assign(prefix.begin() + kCheckstringOffset, prefix.begin() + end);
        }
        auto header = check_mutable_prefix(si, fingerprint, shnum, prefix);
        if (header.ok()) {
          share.header = std::move(*header);
        } else {
          share.problem = header.status().message();
        }
        map.shares.push_back(std::move(share));
        last_with_shares = idx;
      }
    }
    next += batch;
  }
  co_return map;
}

namespace {

// Picks, round by round, distinct share numbers of one version to fetch until k are good: the
// data shares first (decoding them is a copy), then others as fetches fail.
class ShareRounds {
 public:
  ShareRounds(const ServerMap& map, const MutableVersion& version) {
    for (const ServerMap::Share& s : map.shares) {
      if (s.header && s.header->version == version) candidates_.push_back(&s);
    }
    std::stable_sort(candidates_.begin(), candidates_.end(), [](const auto* a, const auto* b) {
      return a->share_number < b->share_number;
    });
  }
  bool exhausted() const { return candidates_.empty(); }
  // Up to needed - good.size() untried shares whose numbers are neither good nor already
  // planned in this round. Another holder of a planned number stays for a later round.
  template <typename Good>
  std::vector<const ServerMap::Share*> next(const Good& good, std::size_t needed) {
    std::vector<const ServerMap::Share*> round;
    std::set<std::uint32_t> planned;
    std::vector<const ServerMap::Share*> rest;
    for (const ServerMap::Share* c : candidates_) {
      if (good.contains(c->share_number)) continue;  // never needed again
      if (planned.contains(c->share_number) || good.size() + round.size() >= needed) {
        rest.push_back(c);
        continue;
      }
      planned.insert(c->share_number);
      round.push_back(c);
    }
    candidates_ = std::move(rest);
    return round;
  }

 private:
  std::vector<const ServerMap::Share*> candidates_;
};

// Fetches and checks shares of `version` until k are good, then decodes.
Task<Result<RetrieveResult>> fetch_version(Env* env, rpc::RpcPool* pool,
                                           const MutableClientOptions& options,
                                           const ServerMap& map, const crypto::ReadKey& read_key,
                                           MutableVersion version) {
  const MutableHeader* header = map.header_of(version);
  LAFS_ASSERT(header != nullptr);
  const MutableParams params = header->params;
  ShareRounds rounds(map, version);
  std::map<std::uint32_t, Bytes> good;
  std::vector<std::string> problems;
  std::size_t changed = 0;
  while (good.size() < params.needed && !rounds.exhausted()) {
    const std::vector<const ServerMap::Share*> round = rounds.next(good, params.needed);
    std::vector<Task<Result<Bytes>>> reads;
    for (const ServerMap::Share* c : round) {
      auto layout = MutableLayout::make(params, c->share_number);
      if (!layout.ok()) co_return layout.status();
      reads.push_back(read_share(pool, map.servers[c->server], options.call_timeout,
                                 map.storage_index, c->share_number, layout->share_bytes,
                                 options.read_chunk_bytes, version));
    }
    auto got = co_await when_all(env->executor(), std::move(reads));
    for (std::size_t i = 0; i < round.size(); ++i) {
      const ServerMap::Share* c = round[i];
      if (!got[i].ok()) {
        if (got[i].status().code() == ErrorCode::kConflict) ++changed;
        problems.push_back("share " + std::to_string(c->share_number) + ": " +
                           got[i].status().message());
        continue;
      }
      auto checked =
          check_mutable_share(map.storage_index, map.fingerprint, c->share_number, *got[i]);
      if (!checked.ok() || checked->version != version || checked->params != params) {
        if (checked.ok()) ++changed;
        problems.push_back(checked.ok() ? "share " + std::to_string(c->share_number) +
                                              " changed version while being read"
                                        : checked.status().message());
        if (!checked.ok()) {
          auto sc = client_for(pool, map.servers[c->server], options.call_timeout);
          (void)co_await sc.advise_corrupt(map.storage_index, c->share_number,
                                           checked.status().message());
        }
        continue;
      }
      good.emplace(c->share_number, std::move(*got[i]));
    }
  }
  if (good.size() < params.needed) {
    std::string msg = "mutable " + describe(version) + ": only " + std::to_string(good.size()) +
                      " of the " + std::to_string(params.needed) + " shares needed are good";
    for (const auto& p : problems) msg += "; " + p;
    // Shares replaced by a newer version while we read: another writer, not damage.
    if (changed > 0) co_return conflict("the file changed while being read: " + msg);
    co_return unavailable(msg);
  }
  auto plain = decode_mutable(read_key, *header, good);
  if (!plain.ok()) co_return plain.status();
  co_return RetrieveResult{std::move(*plain), version, params};
}

// Tries versions newest first; only recoverable-looking ones.
Task<Result<RetrieveResult>> retrieve_from_map(Env* env, rpc::RpcPool* pool,
                                               const MutableClientOptions& options,
                                               const ServerMap& map,
                                               const crypto::ReadKey& read_key) {
  if (map.shares.empty()) {
    co_return not_found("no shares of this mutable file were found on the " +
                        std::to_string(map.answered_count()) + " servers that answered (of " +
                        std::to_string(map.servers.size()) + " asked)");
  }
  const auto versions = map.versions();
  std::string why;
  for (auto it = versions.rbegin(); it != versions.rend(); ++it) {
    const MutableHeader* h = map.header_of(it->first);
    if (it->second.size() < h->params.needed) {
      why += "; " + describe(it->first) + ": " + std::to_string(it->second.size()) + " of " +
             std::to_string(h->params.needed) + " shares found";
      continue;
    }
    auto got = co_await fetch_version(env, pool, options, map, read_key, it->first);
    if (got.ok()) co_return got;
    why += "; " + got.status().message();
  }
  std::size_t bad = 0;
  for (const auto& s : map.shares) bad += s.header ? 0 : 1;
  co_return unavailable("no recoverable version of this mutable file (" +
                        std::to_string(map.shares.size()) + " shares seen, " + std::to_string(bad) +
                        " refused)" + why);
}

}  // namespace

Task<Result<RetrieveResult>> MutableClient::retrieve(cap::Cap cap, std::vector<ServerRef> servers) {
  auto keys = read_keys_of(cap);
  if (!keys.ok()) co_return keys.status();
  if (!keys->read_key) {
    co_return invalid_argument("a verify cap cannot read a mutable file (it has no read key)");
  }
  const ServerMap map = co_await update_servermap(keys->si, keys->fingerprint, std::move(servers));
  co_return co_await retrieve_from_map(env_, pool_, options_, map, *keys->read_key);
}

Task<Result<MutableClient::Snapshot>> MutableClient::snapshot(cap::Cap cap,
                                                              std::vector<ServerRef> servers) {
  auto keys = read_keys_of(cap);
  if (!keys.ok()) co_return keys.status();
  Snapshot snap;
  snap.map = co_await update_servermap(keys->si, keys->fingerprint, std::move(servers));
  const auto newest = snap.map.newest_recoverable_or_error("mutable file");
  if (!newest.ok()) co_return newest.status();
  snap.read_key = keys->read_key;
  snap.version = *newest;
  snap.params = snap.map.header_of(*newest)->params;
  co_return snap;
}

Task<Result<cap::SskWriteCap>> MutableClient::create(Bytes contents, std::vector<ServerRef> servers,
                                                     MutableParams params, std::uint32_t happy) {
  crypto::SigningKey key = crypto::SigningKey::generate(env_->random());
  co_return co_await create_with_key(std::move(key), std::move(contents), std::move(servers),
                                     params, happy);
}

Task<Result<cap::SskWriteCap>> MutableClient::create_with_key(crypto::SigningKey key,
                                                              Bytes contents,
                                                              std::vector<ServerRef> servers,
                                                              MutableParams params,
                                                              std::uint32_t happy) {
  const cap::SskWriteCap cap = cap::ssk_write_cap(key);
  const crypto::MutableKeys keys = crypto::derive_mutable_keys(key);
  const ServerMap map =
      co_await update_servermap(keys.storage_index, keys.fingerprint, std::move(servers));
  auto published = co_await publish_with_map(cap, key, std::move(contents), map, params, happy);
  if (!published.ok()) co_return published.status();
  co_return cap;
}

Task<Result<PublishResult>> MutableClient::publish(cap::SskWriteCap cap, Bytes contents,
                                                   std::vector<ServerRef> servers,
                                                   MutableParams params, std::uint32_t happy,
                                                   std::optional<MutableVersion> expected) {
  const crypto::ReadKey read_key = crypto::mutable_read_key(cap.write_key);
  const crypto::StorageIndex si = crypto::mutable_storage_index(read_key);
  const ServerMap map = co_await update_servermap(si, cap.fingerprint, std::move(servers));
  if (expected && map.newest_recoverable() != expected) {
    const auto now = map.newest_recoverable();
    co_return conflict("uncoordinated write: the file changed since it was read (expected " +
                       describe(*expected) + ", now " +
                       (now ? describe(*now) : std::string("no recoverable version")) + ")");
  }
  const MutableHeader* any = nullptr;
  for (const auto& s : map.shares) {
    if (s.header) any = &*s.header;
  }
  if (any == nullptr) {
    co_return not_found(
        "no good share of this mutable file was found, so its signing key is "
        "unknown (" +
        std::to_string(map.answered_count()) + " servers answered)");
  }
  auto key = unwrap_signing_key(cap.write_key, *any);
  if (!key.ok()) co_return key.status();
  co_return co_await publish_with_map(cap, *key, std::move(contents), map, params, happy);
}

Task<Result<PublishResult>> MutableClient::publish_with_map(const cap::SskWriteCap& cap,
                                                            const crypto::SigningKey& key,
                                                            Bytes contents, const ServerMap& map,
                                                            MutableParams params,
                                                            std::uint32_t happy) {
  params.data_length = contents.size();
  if (happy < 1 || happy > params.total) {
    co_return invalid_argument("happy=" + std::to_string(happy) +
                               " is outside 1..n=" + std::to_string(params.total));
  }
  std::uint64_t highest = 0;
  for (const auto& s : map.shares) {
    if (s.header) highest = std::max(highest, s.header->version.seqnum);
  }
  MutableVersion ours;
  auto shares = encode_mutable(key, highest + 1, params, contents, env_->random(), &ours);
  if (!shares.ok()) co_return shares.status();

  // Every slot that holds a share number we write gets the new share (any version there is
  // replaced, tested against what the map saw); shares nobody holds are placed for happiness.
  std::vector<SlotTarget> targets;
  std::vector<ServerState> states(map.servers.size());
  for (std::size_t i = 0; i < map.servers.size(); ++i) {
    std::copy_n(map.servers[i].key.begin(), states[i].id.size(), states[i].id.begin());
    states[i].available_space_bytes = kMutableShareBytesMax;
    states[i].read_only = !map.answered[i];  // never plan a new share on a silent server
  }
  for (const auto& s : map.shares) {
    if (s.share_number >= params.total) continue;
    targets.push_back({s.server, s.share_number, s.raw_checkstring});
    states[s.server].existing_shares.push_back(s.share_number);
  }
  PlacementParams pp;
  pp.k = params.needed;
  pp.happy = happy;
  pp.n = params.total;
  pp.share_size_bytes = (*shares)[0].size();
  pp.new_shares_per_server_max = default_new_shares_per_server_max(params.total, happy);
  auto plan = plan_placement(pp, states);
  if (!plan.ok()) co_return plan.status();
  for (const SharePlacement& u : plan->uploads) {
    targets.push_back({u.server_index, u.share, std::nullopt});
  }

  ++stats_.full_publishes;
  const WriteEnv we{env_, pool_, &options_, secrets_, &between_phases_for_test, &stats_};
  co_return co_await write_version(we, cap, map, ours, params.needed, std::move(targets), &*shares,
                                   happy);
}

Duration MutableClient::retry_backoff(std::uint32_t attempt) {
  return backoff(env_->random(), options_, attempt);
}

Task<Result<PublishResult>> MutableClient::modify(cap::SskWriteCap cap, Change change,
                                                  std::vector<ServerRef> servers,
                                                  std::uint32_t happy) {
  const crypto::ReadKey read_key = crypto::mutable_read_key(cap.write_key);
  const crypto::StorageIndex si = crypto::mutable_storage_index(read_key);
  Status last;
  for (std::uint32_t attempt = 0; attempt < options_.modify_attempts_max; ++attempt) {
    if (attempt > 0) co_await sleep_for(env_->executor(), retry_backoff(attempt));
    const ServerMap map = co_await update_servermap(si, cap.fingerprint, servers);
    // Only the newest recoverable version: changing an older one would publish over the
    // newer one's slots (their checkstrings are in this map) and lose its update.
    const auto newest = map.newest_recoverable_or_error("mutable file");
    if (!newest.ok()) co_return newest.status();
    auto current = co_await fetch_version(env_, pool_, options_, map, read_key, *newest);
    if (!current.ok() && current.status().code() == ErrorCode::kConflict) {
      last = current.status();
      continue;
    }
    if (!current.ok()) co_return current.status();
    auto next = change(current->contents);
    if (!next.ok()) co_return next.status();
    const MutableHeader* h = map.header_of(current->version);
    auto key = unwrap_signing_key(cap.write_key, *h);
    if (!key.ok()) co_return key.status();
    auto published =
        co_await publish_with_map(cap, *key, std::move(*next), map, current->params, happy);
    if (published.ok() || published.status().code() != ErrorCode::kConflict) co_return published;
    last = published.status();
  }
  co_return conflict("gave up after " + std::to_string(options_.modify_attempts_max) +
                     " attempts: " + last.message());
}

// ---- Segment-level access ----

namespace {

// Reads `vectors` of one share, splitting them into calls within the storage protocol's
// bounds (64 vectors, 4 MiB a call). The result is aligned with `vectors`.
Task<Result<std::vector<Bytes>>> read_vectors(rpc::RpcPool* pool, ServerRef server,
                                              Duration timeout, crypto::StorageIndex si,
                                              std::uint32_t shnum,
                                              std::vector<storage::ReadVector> vectors,
                                              MutableClient::Stats* stats) {
  constexpr std::size_t kVectorsPerCall = 64;
  constexpr std::uint64_t kPieceMax = 1 << 20;
  constexpr std::uint64_t kCallBytesMax = 4 << 20;
  // Pieces: (index into vectors, offset, length).
  struct Piece {
    std::size_t index;
    std::uint64_t offset;
    std::uint64_t length;
  };
  std::vector<Piece> pieces;
  for (std::size_t i = 0; i < vectors.size(); ++i) {
    std::uint64_t at = vectors[i].offset;
    std::uint64_t left = vectors[i].length;
    do {
      const std::uint64_t len = std::min(left, kPieceMax);
      pieces.push_back({i, at, len});
      at += len;
      left -= len;
    } while (left > 0);
  }
  std::vector<Bytes> out(vectors.size());
  auto sc = client_for(pool, server, timeout);
  const std::vector<std::uint32_t> wanted{shnum};
  std::size_t next = 0;
  while (next < pieces.size()) {
    std::vector<storage::ReadVector> call;
    std::uint64_t bytes = 0;
    const std::size_t first = next;
    while (next < pieces.size() && call.size() < kVectorsPerCall &&
           bytes + pieces[next].length <= kCallBytesMax) {
      call.push_back({pieces[next].offset, pieces[next].length});
      bytes += pieces[next].length;
      ++next;
    }
    auto got = co_await sc.slot_read(si, wanted, call);
    if (!got.ok()) co_return got.status();
    auto it = got->find(shnum);
    if (it == got->end() || it->second.size() != call.size()) {
      co_return not_found("share " + std::to_string(shnum) + " is gone");
    }
    for (std::size_t c = 0; c < call.size(); ++c) {
      const Bytes& data = it->second[c];
      if (data.size() != call[c].length) co_return corruption("the share is shorter than expected");
      if (stats != nullptr) stats->bytes_read += data.size();
      Bytes& dst = out[pieces[first + c].index];
      dst.insert(dst.end(), data.begin(), data.end());
    }
  }
  co_return out;
}

crypto::Digest digest_of(ByteView b) {
  crypto::Digest d{};
  std::copy_n(b.begin(), d.size(), d.begin());
  return d;
}

// Checks a block-tree root against the signed share-tree root through the share's chain.
Status check_chain(const MutableHeader& h, const MutableLayout& layout, std::uint32_t shnum,
                   ByteView chain_bytes, const crypto::Digest& block_root) {
  auto verifier = hashtree::IncrementalVerifier::create(crypto::HashTag::kShareTreeNode,
                                                        h.version.root, h.params.total);
  if (!verifier.ok()) return verifier.status();
  std::vector<hashtree::NodeHash> chain;
  for (std::size_t c = 0; c < layout.chain_nodes.size(); ++c) {
    chain.push_back({layout.chain_nodes[c], digest_of(chain_bytes.subspan(c * 32, 32))});
  }
  const hashtree::LeafHash leaf{shnum, block_root};
  LAFS_RETURN_IF_ERROR(verifier->add(chain, {&leaf, 1}));
  if (!verifier->is_leaf_verified(shnum)) return corruption("the chain does not reach the root");
  return Status{};
}

}  // namespace

Task<Result<std::map<std::uint64_t, Bytes>>> MutableClient::read_segments(
    const ServerMap& map, crypto::ReadKey read_key, MutableVersion version,
    std::vector<std::uint64_t> segments) {
  const MutableHeader* header = map.header_of(version);
  if (header == nullptr) co_return invalid_argument("read_segments: version not in the map");
  const MutableParams params = header->params;
  auto l0 = MutableLayout::make(params, 0);
  if (!l0.ok()) co_return l0.status();
  std::set<std::uint64_t> segs(segments.begin(), segments.end());
  if (segs.empty()) co_return std::map<std::uint64_t, Bytes>{};
  for (std::uint64_t seg : segs) {
    if (seg >= l0->segment_count) co_return invalid_argument("read_segments: segment out of range");
  }
  auto shape = hashtree::TreeShape::make(l0->segment_count);
  if (!shape.ok()) co_return shape.status();
  std::vector<std::uint64_t> seg_list(segs.begin(), segs.end());
  const std::vector<std::uint64_t> proof = hashtree::proof_nodes(*shape, seg_list);

  ShareRounds rounds(map, version);
  // share -> (salts by segment, blocks by segment), verified.
  std::map<std::uint32_t, std::map<std::uint64_t, std::pair<crypto::Salt, Bytes>>> good;
  std::vector<std::string> problems;
  std::size_t changed = 0;
  while (good.size() < params.needed && !rounds.exhausted()) {
    const std::vector<const ServerMap::Share*> round = rounds.next(good, params.needed);
    std::vector<Task<Result<std::vector<Bytes>>>> reads;
    std::vector<MutableLayout> layouts;
    for (const ServerMap::Share* c : round) {
      auto l = MutableLayout::make(params, c->share_number);
      if (!l.ok()) co_return l.status();
      std::vector<storage::ReadVector> v;
      v.push_back({l->chain_offset, l->chain_nodes.size() * crypto::kDigestBytes});
      for (std::uint64_t seg : seg_list) {
        v.push_back({l->salt_offset(seg), crypto::kSaltBytes});
        v.push_back({l->block_offset(seg), l->block_length(seg)});
      }
      for (std::uint64_t node : proof) {
        v.push_back({l->node_offset(*shape, node), crypto::kDigestBytes});
      }
      v.push_back({kCheckstringOffset, kCheckstringBytes});  // to tell a new version from damage
      layouts.push_back(std::move(*l));
      reads.push_back(read_vectors(pool_, map.servers[c->server], options_.call_timeout,
                                   map.storage_index, c->share_number, std::move(v), &stats_));
    }
    auto got = co_await when_all(env_->executor(), std::move(reads));
    for (std::size_t r = 0; r < round.size(); ++r) {
      const std::uint32_t shnum = round[r]->share_number;
      if (!got[r].ok()) {
        problems.push_back("share " + std::to_string(shnum) + ": " + got[r].status().message());
        continue;
      }
      const std::vector<Bytes>& parts = *got[r];
      std::map<std::uint64_t, crypto::Digest> leaves;
      std::map<std::uint64_t, std::pair<crypto::Salt, Bytes>> data;
      for (std::size_t i = 0; i < seg_list.size(); ++i) {
        crypto::Salt salt{};
        std::copy_n(parts[1 + 2 * i].begin(), salt.size(), salt.begin());
        leaves[seg_list[i]] = mutable_block_leaf(salt, parts[2 + 2 * i]);
        data[seg_list[i]] = {salt, parts[2 + 2 * i]};
      }
      std::map<std::uint64_t, crypto::Digest> siblings;
      for (std::size_t i = 0; i < proof.size(); ++i) {
        siblings[proof[i]] = digest_of(parts[1 + 2 * seg_list.size() + i]);
      }
      if (parts.back() != checkstring(version)) {
        ++changed;
        problems.push_back("share " + std::to_string(shnum) + " changed version while being read");
        continue;
      }
      auto paths = tree_paths(*shape, leaves, siblings);
      Status ok = paths.ok() ? check_chain(*header, layouts[r], shnum, parts[0], paths->at(0))
                             : paths.status();
      if (!ok.is_ok()) {
        problems.push_back("share " + std::to_string(shnum) + ": " + ok.message());
        continue;
      }
      good[shnum] = std::move(data);
    }
  }
  if (good.size() < params.needed) {
    std::string msg = "mutable " + describe(version) + ": only " + std::to_string(good.size()) +
                      " good shares of the segments, " + std::to_string(params.needed) + " needed";
    for (const auto& p : problems) msg += "; " + p;
    if (changed > 0) co_return conflict("the file changed while being read: " + msg);
    co_return unavailable(msg);
  }
  std::map<std::uint64_t, Bytes> out;
  for (std::uint64_t seg : seg_list) {
    std::map<std::uint32_t, ByteView> blocks;
    for (const auto& [shnum, data] : good) blocks[shnum] = data.at(seg).second;
    const crypto::Salt salt = good.begin()->second.at(seg).first;
    auto plain =
        decode_mutable_segment(read_key, params, l0->segment_length(params, seg), salt, blocks);
    if (!plain.ok()) co_return plain.status();
    out[seg] = std::move(*plain);
  }
  co_return out;
}

Task<Result<PublishResult>> MutableClient::update_segments(cap::SskWriteCap cap,
                                                           const ServerMap& map,
                                                           MutableVersion base,
                                                           SegmentUpdate update,
                                                           std::uint32_t happy) {
  const MutableHeader* header = map.header_of(base);
  if (header == nullptr) co_return invalid_argument("update_segments: base not in the map");
  auto key = unwrap_signing_key(cap.write_key, *header);
  if (!key.ok()) co_return key.status();
  const crypto::ReadKey read_key = crypto::mutable_read_key(cap.write_key);
  const MutableParams old_params = header->params;
  MutableParams params = old_params;
  params.data_length = update.new_length;
  auto old_l0 = MutableLayout::make(old_params, 0);
  auto new_l0 = MutableLayout::make(params, 0);
  if (!old_l0.ok()) co_return old_l0.status();
  if (!new_l0.ok()) co_return new_l0.status();
  // Every segment whose bytes or length change must be given, with its new length.
  for (const auto& [seg, plain] : update.segments) {
    if (seg >= new_l0->segment_count || plain.size() != new_l0->segment_length(params, seg)) {
      co_return invalid_argument("update_segments: segment " + std::to_string(seg) +
                                 " is missing or has the wrong length");
    }
  }
  for (std::uint64_t seg = 0; seg < new_l0->segment_count; ++seg) {
    const bool is_new = seg >= old_l0->segment_count;
    const bool resized =
        !is_new && old_l0->segment_length(old_params, seg) != new_l0->segment_length(params, seg);
    if ((is_new || resized) && !update.segments.contains(seg)) {
      co_return invalid_argument("update_segments: segment " + std::to_string(seg) +
                                 " changes length and must be given");
    }
  }

  // The fast path's conditions.
  bool ranged = update.new_length >= old_params.data_length && !update.segments.empty();
  std::set<std::uint32_t> present;
  for (const auto& sh : map.shares) {
    if (!sh.header || sh.header->version != base) ranged = false;
    if (sh.header && sh.header->version == base) present.insert(sh.share_number);
  }
  if (present.size() != old_params.total) ranged = false;
  std::uint64_t highest = 0;
  for (const auto& sh : map.shares) {
    if (sh.header) highest = std::max(highest, sh.header->version.seqnum);
  }

  std::vector<std::uint64_t> changed;
  for (const auto& [seg, plain] : update.segments) changed.push_back(seg);
  auto old_shape = hashtree::TreeShape::make(old_l0->segment_count);
  auto new_shape = hashtree::TreeShape::make(new_l0->segment_count);
  if (!old_shape.ok() || !new_shape.ok()) co_return internal_error("tree shapes");
  // The siblings of the changed paths in the new tree. None contains a changed or appended
  // leaf, so each is the same subtree in the old tree (same height and position): read there.
  const std::vector<std::uint64_t> proof = hashtree::proof_nodes(*new_shape, changed);
  std::vector<std::uint64_t> proof_old;  // the same nodes in the old shape
  for (std::uint64_t node : proof) {
    const int h = new_shape->height(node);
    const std::uint64_t p = node - ((std::uint64_t{1} << (new_shape->depth() - h)) - 1);
    auto old_node = node_at(*old_shape, h, p);
    if (!old_node || old_shape->is_padding(*old_node)) {
      ranged = false;  // cannot happen for a valid update; be safe
      break;
    }
    proof_old.push_back(*old_node);
  }
  // Leaves whose old hash we need (to recompute the old root), and old leaves that are padding.
  const auto pad_leaf = hashtree::padding_hashes(crypto::HashTag::kBlockTreeNode, 0)[0];
  std::vector<std::uint64_t> old_real;  // changed segments that exist in the old tree
  std::vector<std::uint64_t> old_pad;   // changed segments inside the old width, past its end
  for (std::uint64_t seg : changed) {
    if (seg < old_shape->leaf_count()) {
      old_real.push_back(seg);
    } else if (seg < old_shape->width()) {
      old_pad.push_back(seg);
    }
  }
  // The heights of the partial nodes (ancestors of the last leaf with padding below them): a
  // spine slot that held one before and holds none now is zeroed.
  const auto partial_heights = [](const hashtree::TreeShape& shape) {
    std::set<int> out;
    std::uint64_t node = shape.leaf_node(shape.leaf_count() - 1);
    for (;;) {
      if (!is_complete(shape, node)) out.insert(shape.height(node));
      if (node == 0) break;
      node = hashtree::TreeShape::parent(node);
    }
    return out;
  };
  std::vector<int> zero_spine;
  {
    const std::set<int> before = partial_heights(*old_shape);
    const std::set<int> after = partial_heights(*new_shape);
    for (int h : before)
      if (!after.contains(h)) zero_spine.push_back(h);
  }

  // Per share number: the old nodes needed, read from one slot and checked against the base.
  std::map<std::uint32_t, std::map<std::uint64_t, crypto::Digest>> siblings;  // new-shape ids
  if (ranged) {
    std::vector<std::uint32_t> order;
    std::vector<Task<Result<std::vector<Bytes>>>> reads;
    std::vector<MutableLayout> layouts;
    for (std::uint32_t shnum : present) {
      const ServerMap::Share* slot = nullptr;
      for (const auto& sh : map.shares)
        if (sh.share_number == shnum && slot == nullptr) slot = &sh;
      auto l = MutableLayout::make(old_params, shnum);
      if (!l.ok()) co_return l.status();
      std::vector<storage::ReadVector> v;
      v.push_back({l->chain_offset, l->chain_nodes.size() * crypto::kDigestBytes});
      for (std::uint64_t seg : old_real) {
        v.push_back({l->node_offset(*old_shape, old_shape->leaf_node(seg)), crypto::kDigestBytes});
      }
      for (std::uint64_t node : proof_old) {
        v.push_back({l->node_offset(*old_shape, node), crypto::kDigestBytes});
      }
      order.push_back(shnum);
      layouts.push_back(std::move(*l));
      reads.push_back(read_vectors(pool_, map.servers[slot->server], options_.call_timeout,
                                   map.storage_index, shnum, std::move(v), &stats_));
    }
    auto got = co_await when_all(env_->executor(), std::move(reads));
    for (std::size_t r = 0; r < order.size() && ranged; ++r) {
      if (!got[r].ok()) {
        ranged = false;
        break;
      }
      const std::vector<Bytes>& parts = *got[r];
      std::size_t at = 1;
      std::map<std::uint64_t, crypto::Digest> old_leaves;
      for (std::uint64_t seg : old_real) old_leaves[seg] = digest_of(parts[at++]);
      for (std::uint64_t seg : old_pad) old_leaves[seg] = pad_leaf;
      std::map<std::uint64_t, crypto::Digest> sib_old;
      std::map<std::uint64_t, crypto::Digest> sib_new;
      for (std::size_t i = 0; i < proof.size(); ++i) {
        const crypto::Digest d = digest_of(parts[at++]);
        sib_old[proof_old[i]] = d;
        sib_new[proof[i]] = d;
      }
      // The old root: recomputed along the old paths, or (appending to a full tree) the old
      // root itself, which is then a sibling.
      std::optional<crypto::Digest> old_root;
      if (!old_leaves.empty()) {
        auto old_paths = tree_paths(*old_shape, old_leaves, sib_old);
        if (old_paths.ok()) old_root = old_paths->at(0);
      } else if (sib_old.contains(0)) {
        old_root = sib_old.at(0);
      }
      if (!old_root || !check_chain(*header, layouts[r], order[r], parts[0], *old_root).is_ok()) {
        ranged = false;  // a share's tree is damaged: republish it whole instead
        break;
      }
      siblings[order[r]] = std::move(sib_new);
    }
  }

  if (!ranged) {
    // The slow path: the whole file, changed, republished.
    auto whole = co_await fetch_version(env_, pool_, options_, map, read_key, base);
    if (!whole.ok()) co_return whole.status();
    Bytes contents = std::move(whole->contents);
    contents.resize(update.new_length, 0);
    for (const auto& [seg, plain] : update.segments) {
      std::copy(plain.begin(), plain.end(),
                contents.begin() + static_cast<std::ptrdiff_t>(seg * params.segment_size));
    }
    co_return co_await publish_with_map(cap, *key, std::move(contents), map, old_params, happy);
  }

  // Encode the changed segments; new block roots per share; the new share tree.
  std::map<std::uint64_t, EncodedSegment> encoded;
  for (const auto& [seg, plain] : update.segments) {
    auto e = encode_mutable_segment(read_key, params, plain, env_->random());
    if (!e.ok()) co_return e.status();
    encoded[seg] = std::move(*e);
  }
  std::vector<crypto::Digest> roots(params.total);
  std::map<std::uint32_t, std::map<std::uint64_t, crypto::Digest>> new_paths;
  for (std::uint32_t shnum = 0; shnum < params.total; ++shnum) {
    std::map<std::uint64_t, crypto::Digest> leaves;
    for (const auto& [seg, e] : encoded) leaves[seg] = e.leaves[shnum];
    auto paths = tree_paths(*new_shape, leaves, siblings[shnum]);
    if (!paths.ok()) co_return paths.status();
    roots[shnum] = paths->at(0);
    new_paths[shnum] = std::move(*paths);
  }
  const auto share_tree = hashtree::HashTree::build(crypto::HashTag::kShareTreeNode, roots);
  const MutableVersion ours{highest + 1, share_tree.root()};
  auto prefix = mutable_prefix(*key, ours, params);
  if (!prefix.ok()) co_return prefix.status();

  std::vector<SlotTarget> targets;
  for (const auto& sh : map.shares) {
    auto l = MutableLayout::make(params, sh.share_number);
    if (!l.ok()) co_return l.status();
    // Every piece by offset; touching pieces are merged into one write vector.
    std::map<std::uint64_t, Bytes> pieces;
    Bytes p = *prefix;
    set_prefix_share_number(p, sh.share_number);
    pieces[0] = std::move(p);
    Bytes chain;
    for (std::uint64_t node : l->chain_nodes) {
      const auto& d = share_tree.node(node);
      chain.insert(chain.end(), d.begin(), d.end());
    }
    pieces[l->chain_offset] = std::move(chain);
    for (const auto& [seg, e] : encoded) {
      pieces[l->salt_offset(seg)] = Bytes(e.salt.begin(), e.salt.end());
      pieces[l->block_offset(seg)] = e.blocks[sh.share_number];
    }
    for (const auto& [node, hash] : new_paths[sh.share_number]) {
      pieces[l->node_offset(*new_shape, node)] = Bytes(hash.begin(), hash.end());
    }
    for (int h : zero_spine) {
      pieces[l->spine_offset + static_cast<std::uint64_t>(h) * crypto::kDigestBytes] =
          Bytes(crypto::kDigestBytes, 0);
    }
    SlotTarget t{sh.server, sh.share_number, sh.raw_checkstring, {}, l->share_bytes};
    for (auto& [offset, bytes] : pieces) {
      if (!t.vectors.empty() && t.vectors.back().offset + t.vectors.back().data.size() == offset) {
        t.vectors.back().data.insert(t.vectors.back().data.end(), bytes.begin(), bytes.end());
      } else {
        t.vectors.push_back({offset, std::move(bytes)});
      }
    }
    std::uint64_t vector_bytes = 0;
    for (const auto& v : t.vectors) vector_bytes += v.data.size();
    if (t.vectors.size() > storage::kVectorsMax || vector_bytes > options_.write_chunk_bytes * 4) {
      // Too scattered or too big for one atomic call: republish whole.
      auto whole = co_await fetch_version(env_, pool_, options_, map, read_key, base);
      if (!whole.ok()) co_return whole.status();
      Bytes contents = std::move(whole->contents);
      contents.resize(update.new_length, 0);
      for (const auto& [seg, plain] : update.segments) {
        std::copy(plain.begin(), plain.end(),
                  contents.begin() + static_cast<std::ptrdiff_t>(seg * params.segment_size));
      }
      co_return co_await publish_with_map(cap, *key, std::move(contents), map, old_params, happy);
    }
    targets.push_back(std::move(t));
  }
  ++stats_.ranged_updates;
  const WriteEnv we{env_, pool_, &options_, secrets_, &between_phases_for_test, &stats_};
  const std::vector<Bytes> no_shares;
  co_return co_await write_version(we, cap, map, ours, params.needed, std::move(targets),
                                   &no_shares, happy);
}

Task<Result<PublishResult>> MutableClient::write_range(cap::SskWriteCap cap, std::uint64_t offset,
                                                       Bytes data, std::vector<ServerRef> servers,
                                                       std::uint32_t happy) {
  if (data.empty()) co_return invalid_argument("write_range: no bytes to write");
  if (offset > crypto::kMaxFileBytes || data.size() > crypto::kMaxFileBytes - offset) {
    co_return invalid_argument("write_range: offset " + std::to_string(offset) + " + " +
                               std::to_string(data.size()) + " bytes is past the largest file");
  }
  const crypto::ReadKey read_key = crypto::mutable_read_key(cap.write_key);
  const crypto::StorageIndex si = crypto::mutable_storage_index(read_key);
  Status last;
  for (std::uint32_t attempt = 0; attempt < options_.modify_attempts_max; ++attempt) {
    if (attempt > 0) co_await sleep_for(env_->executor(), retry_backoff(attempt));
    const ServerMap map = co_await update_servermap(si, cap.fingerprint, servers);
    const auto base = map.newest_recoverable_or_error("mutable file");
    if (!base.ok()) co_return base.status();
    const MutableParams old = map.header_of(*base)->params;
    const std::uint64_t seg_size = old.segment_size;
    const std::uint64_t end = offset + data.size();
    const std::uint64_t new_length = std::max(old.data_length, end);
    MutableParams np = old;
    np.data_length = new_length;
    auto nl = MutableLayout::make(np, 0);
    if (!nl.ok()) co_return nl.status();
    auto ol = MutableLayout::make(old, 0);
    if (!ol.ok()) co_return ol.status();
    // Segments to write: those the range covers, the old tail if it grows, and any gap.
    std::set<std::uint64_t> touched;
    const std::uint64_t first = std::min(offset, old.data_length) / seg_size;
    const std::uint64_t last_byte = std::max<std::uint64_t>(end, 1) - 1;
    for (std::uint64_t sgm = first; sgm <= last_byte / seg_size && sgm < nl->segment_count; ++sgm)
      touched.insert(sgm);
    // Old bytes of touched segments that exist: read them.
    std::vector<std::uint64_t> to_read;
    for (std::uint64_t sgm : touched)
      if (sgm < ol->segment_count) to_read.push_back(sgm);
    std::map<std::uint64_t, Bytes> old_segments;
    if (!to_read.empty()) {
      auto got = co_await read_segments(map, read_key, *base, to_read);
      if (!got.ok() && got.status().code() == ErrorCode::kConflict) {
        last = got.status();
        continue;
      }
      if (!got.ok()) co_return got.status();
      old_segments = std::move(*got);
    }
    SegmentUpdate u;
    u.new_length = new_length;
    for (std::uint64_t sgm : touched) {
      Bytes seg = old_segments.contains(sgm) ? old_segments[sgm] : Bytes{};
      seg.resize(nl->segment_length(np, sgm), 0);
      const std::uint64_t seg_start = sgm * seg_size;
      const std::uint64_t from = std::max(seg_start, offset);
      const std::uint64_t to = std::min(seg_start + seg.size(), end);
      for (std::uint64_t b = from; b < to; ++b) seg[b - seg_start] = data[b - offset];
      u.segments[sgm] = std::move(seg);
    }
    auto published = co_await update_segments(cap, map, *base, std::move(u), happy);
    if (published.ok() || published.status().code() != ErrorCode::kConflict) co_return published;
    last = published.status();
  }
  co_return conflict("gave up after " + std::to_string(options_.modify_attempts_max) +
                     " attempts: " + last.message());
}

Task<Result<MutableVersion>> MutableClient::read_range(cap::Cap cap, std::uint64_t offset,
                                                       std::uint64_t length,
                                                       std::vector<ServerRef> servers, Sink sink) {
  AsyncSink async = [&sink](ByteView piece) -> Task<Status> { co_return sink(piece); };
  co_return co_await stream_range(std::move(cap), offset, length, std::move(servers),
                                  std::move(async));
}

Task<Result<MutableVersion>> MutableClient::stream_range(cap::Cap cap, std::uint64_t offset,
                                                         std::uint64_t length,
                                                         std::vector<ServerRef> servers,
                                                         AsyncSink sink) {
  auto snap = co_await snapshot(std::move(cap), std::move(servers));
  if (!snap.ok()) co_return snap.status();
  LAFS_CO_RETURN_IF_ERROR(co_await stream_range(*snap, offset, length, std::move(sink)));
  co_return snap->version;
}

Task<Status> MutableClient::stream_range(const Snapshot& snapshot, std::uint64_t offset,
                                         std::uint64_t length, AsyncSink sink) {
  if (!snapshot.read_key) {
    co_return invalid_argument("a verify cap cannot read a mutable file (it has no read key)");
  }
  const MutableParams& params = snapshot.params;
  const std::uint64_t end =
      std::min(params.data_length, offset + std::min(length, params.data_length));
  if (offset >= end) co_return Status{};
  const std::uint64_t seg_size = params.segment_size;
  const std::uint64_t per_window =
      std::max<std::uint64_t>(1, options_.read_window_bytes / seg_size);
  std::uint64_t seg = offset / seg_size;
  const std::uint64_t last = (end - 1) / seg_size;
  while (seg <= last) {
    std::vector<std::uint64_t> window;
    for (std::uint64_t s = seg; s <= last && window.size() < per_window; ++s) window.push_back(s);
    auto got = co_await read_segments(snapshot.map, *snapshot.read_key, snapshot.version, window);
    if (!got.ok()) co_return got.status();
    for (std::uint64_t s : window) {
      const Bytes& data = got->at(s);
      const std::uint64_t start = s * seg_size;
      const std::uint64_t from = std::max(start, offset) - start;
      const std::uint64_t to = std::min(start + data.size(), end) - start;
      LAFS_CO_RETURN_IF_ERROR(co_await sink(ByteView(data).subspan(from, to - from)));
    }
    seg = window.back() + 1;
  }
  co_return Status{};
}

namespace {

// Hands out recorded salts, in order: encode_mutable then makes the very shares it made the
// first time.
class ReplaySalts final : public Random {
 public:
  explicit ReplaySalts(std::vector<Bytes> salts) : salts_(std::move(salts)) {}
  void fill(std::span<std::uint8_t> out) override {
    if (next_ < salts_.size() && salts_[next_].size() == out.size()) {
      std::copy(salts_[next_].begin(), salts_[next_].end(), out.begin());
    } else {
      std::fill(out.begin(), out.end(), 0);
      overrun_ = true;
    }
    ++next_;
  }
  std::uint64_t next_u64() override {
    overrun_ = true;
    return 0;
  }
  bool exact() const { return !overrun_ && next_ == salts_.size(); }

 private:
  std::vector<Bytes> salts_;
  std::size_t next_ = 0;
  bool overrun_ = false;
};

}  // namespace

Task<Result<PublishResult>> MutableClient::repair(
    cap::SskWriteCap cap, std::vector<ServerRef> servers, std::uint32_t happy,
    std::set<std::pair<net::PublicKey, std::uint32_t>> distrusted) {
  const crypto::ReadKey read_key = crypto::mutable_read_key(cap.write_key);
  const crypto::StorageIndex si = crypto::mutable_storage_index(read_key);
  const ServerMap map = co_await update_servermap(si, cap.fingerprint, servers);
  const auto newest = map.newest_recoverable_or_error("mutable file");
  if (!newest.ok()) co_return newest.status();
  const MutableVersion v = *newest;
  const MutableHeader* h = map.header_of(v);
  const MutableParams params = h->params;
  auto current = co_await fetch_version(env_, pool_, options_, map, read_key, v);
  if (!current.ok()) co_return current.status().with_context("repair");

  // The salts, from one good share of the version (checked by the rebuilt root below).
  auto layout = MutableLayout::make(params, 0);
  if (!layout.ok()) co_return layout.status();
  std::vector<storage::ReadVector> vectors;
  std::vector<Bytes> salts;
  const ServerMap::Share* source = nullptr;
  auto trusted = [&](const ServerMap::Share& s) {
    return !distrusted.contains({map.servers[s.server].key, s.share_number});
  };
  for (const auto& s : map.shares) {
    if (!s.header || s.header->version != v || !trusted(s)) continue;
    auto l = MutableLayout::make(params, s.share_number);
    if (!l.ok()) continue;
    vectors.clear();
    for (std::uint64_t seg = 0; seg < l->segment_count; ++seg) {
      vectors.push_back({l->salt_offset(seg), crypto::kSaltBytes});
    }
    auto got = co_await read_vectors(pool_, map.servers[s.server], options_.call_timeout, si,
                                     s.share_number, vectors, &stats_);
    if (got.ok()) {
      salts = std::move(*got);
      source = &s;
      break;
    }
  }
  if (source == nullptr) co_return unavailable("repair: no server gave the version's salts");
  auto key = unwrap_signing_key(cap.write_key, *h);
  if (!key.ok()) co_return key.status();
  ReplaySalts replay(std::move(salts));
  MutableVersion rebuilt;
  auto shares = encode_mutable(*key, v.seqnum, params, current->contents, replay, &rebuilt);
  if (!shares.ok()) co_return shares.status();
  if (!replay.exact() || rebuilt != v) {
    co_return corruption("repair: the rebuilt shares do not carry " + describe(v) +
                         " (a server gave wrong salts)");
  }

  // Where the version's shares are, and where the missing ones go.
  std::vector<ServerState> states(map.servers.size());
  std::size_t answered = 0;
  for (std::size_t i = 0; i < map.servers.size(); ++i) {
    std::copy_n(map.servers[i].key.begin(), states[i].id.size(), states[i].id.begin());
    states[i].available_space_bytes = kMutableShareBytesMax;
    states[i].read_only = !map.answered[i];
    answered += map.answered[i] ? 1 : 0;
  }
  std::vector<SlotTarget> targets;
  for (const auto& s : map.shares) {
    if (!s.header || s.header->version != v || s.share_number >= params.total) continue;
    // A corrupt copy is rewritten where it is; it then counts as held.
    if (!trusted(s)) targets.push_back({s.server, s.share_number, s.raw_checkstring});
    states[s.server].existing_shares.push_back(s.share_number);
  }
  PlacementParams pp;
  pp.k = params.needed;
  pp.n = params.total;
  pp.happy = static_cast<std::uint32_t>(
      std::clamp<std::size_t>(std::min<std::size_t>(happy, answered), 1, params.total));
  pp.share_size_bytes = (*shares)[0].size();
  pp.new_shares_per_server_max = default_new_shares_per_server_max(params.total, pp.happy);
  auto plan = plan_placement(pp, states);
  if (!plan.ok()) co_return plan.status().with_context("repair");
  for (const SharePlacement& u : plan->uploads) {
    // A slot there holding another version of this share number is replaced, tested against
    // what the map saw; a slot the map saw empty must still be empty.
    std::optional<Bytes> expected;
    for (const auto& s : map.shares) {
      if (s.server == u.server_index && s.share_number == u.share) expected = s.raw_checkstring;
    }
    targets.push_back({u.server_index, u.share, expected});
  }
  if (targets.empty()) co_return PublishResult{v, 0, plan->happiness};
  const WriteEnv we{env_, pool_, &options_, secrets_, &between_phases_for_test, &stats_};
  // Happiness is judged by the caller's check after the repair: the slots written here add to
  // the ones that already hold the version.
  auto written =
      co_await write_version(we, cap, map, v, params.needed, std::move(targets), &*shares, 1);
  if (written.ok()) written->bytes_written = written->shares_written * (*shares)[0].size();
  co_return written;
}

}  // namespace lafs::client
