// Immutable upload and download over the storage protocol (whole files in memory, for now).
#include "core/client/immutable_client.h"

#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <utility>

#include "core/client/placement.h"
#include "core/client/ring_cache.h"
#include "core/client/segment_decoder.h"
#include "core/runtime/scope.h"
#include "core/runtime/when.h"
#include "core/storage/storage_service.h"

namespace lafs::client {

std::vector<ServerRef> permuted_servers(const crypto::StorageIndex& si,
                                        std::vector<ServerRef> servers) {
  return RingCache(/*files_max=*/0, /*servers_max=*/0).order(si, std::move(servers));
}

ImmutableClient::ImmutableClient(Env* env, rpc::RpcPool* pool, const ClientSecrets* secrets,
                                 ImmutableClientOptions options)
    : env_(env),
      pool_(pool),
      secrets_(secrets),
      options_(options),
      ring_cache_(
          std::make_unique<RingCache>(options.ring_cache_files, options.ring_cache_servers)) {}

ImmutableClient::~ImmutableClient() = default;

namespace {

// Bytes [from, from + length) of `all`, or nothing when they are not all in it.
std::optional<Bytes> slice(const Bytes& all, std::uint64_t from, std::uint64_t length) {
  if (from > all.size() || length > all.size() - from) return std::nullopt;
  return Bytes(all.begin() + static_cast<std::ptrdiff_t>(from),
               all.begin() + static_cast<std::ptrdiff_t>(from + length));
}

// What one server says about a storage index before an upload: its space and read-only flag,
// and the shares it already holds that look like this file's (header and parameters match; the
// extension block hash is compared once ours is known).
struct Survey {
  bool reachable = false;
  bool read_only = false;
  std::uint64_t available_bytes = 0;
  std::map<std::uint32_t, crypto::Digest> existing;  // share -> its extension block hash
  bool holds_garbage = false;  // shares under this storage index that cannot be this file's
};

Task<Survey> survey_server(ImmutableClient* client, rpc::RpcPool* pool,
                           ImmutableClientOptions options, ServerRef server,
                           crypto::StorageIndex si, ExtensionInfo mine,
                           std::optional<crypto::Digest> known_hash) {
  Survey out;
  storage::StorageClient sc(pool, rpc::Peer{server.address, server.key}, options.call_timeout);
  auto version = co_await client->server_info(sc, server.key);
  if (!version.ok()) co_return out;
  const std::vector<storage::StorageIndex> wanted{si};
  auto held = co_await sc.get_buckets(wanted);
  // Reachable means answering now: the space answer may come from the cache.
  if (!held.ok() || held->size() != 1) co_return out;
  out.reachable = true;
  out.read_only = version->read_only;
  out.available_bytes = version->available_bytes;
  for (const storage::ShareInfo& info : (*held)[0]) {
    if (info.share_number >= mine.total) {
      out.holds_garbage = true;
      continue;
    }
    auto prefix = co_await sc.read(si, info.share_number, 0, kSharePrefixBytes);
    bool plausible = false;
    if (prefix.ok()) {
      auto peeked = peek_share_prefix(info.share_number, *prefix);
      plausible = peeked.ok() && peeked->info.needed == mine.needed &&
                  peeked->info.total == mine.total &&
                  peeked->info.segment_size == mine.segment_size &&
                  peeked->info.file_size == mine.file_size &&
                  (!known_hash || peeked->extension_hash == *known_hash);
      if (plausible) out.existing[info.share_number] = peeked->extension_hash;
    }
    // Garbage planted under this storage index does not count and is not relied on.
    if (!plausible) out.holds_garbage = true;
  }
  co_return out;
}

}  // namespace

Task<Result<storage::SpaceInfo>> ImmutableClient::server_info(storage::StorageClient& sc,
                                                              const net::PublicKey& key) {
  const MonoTime now = env_->executor().now();
  auto it = server_info_.find(key);
  if (it != server_info_.end() && now - it->second.at < options_.server_info_ttl) {
    co_return it->second.info;
  }
  auto version = co_await sc.version();
  if (!version.ok()) {
    server_info_.erase(key);
    co_return version.status();
  }
  if (server_info_.size() >= options_.server_info_max && !server_info_.contains(key)) {
    auto oldest =
        std::min_element(server_info_.begin(), server_info_.end(),
                         [](const auto& a, const auto& b) { return a.second.at < b.second.at; });
    server_info_.erase(oldest);
  }
  server_info_[key] = KnownInfo{env_->executor().now(), *version};
  co_return *version;
}

namespace {

// One share being written to one server.
struct OpenShare {
  std::size_t server = 0;  // index into the ring
  std::uint32_t share = 0;
  std::uint64_t upload_id = 0;
  Bytes pending;                 // blocks not yet sent
  std::uint64_t pending_at = 0;  // share offset of pending[0]
  Status status;                 // first failure; the share is then abandoned
};

// Sends one chunk of a share's blocks; runs detached in the upload's write scope, so the
// encoder goes on with the next segments meanwhile.
Task<void> send_chunk(storage::StorageClient* sc, crypto::StorageIndex si, OpenShare* o,
                      Bytes bytes, std::uint64_t at) {
  if (!o->status.is_ok()) co_return;
  Status s = co_await sc->write(si, o->share, o->upload_id, at, bytes);
  if (!s.is_ok() && o->status.is_ok()) o->status = s;
}

// Writes the share's held-back last blocks (if any), its trailer and its prefix, joining the
// pieces that touch (a small share goes in one call), in chunks; then closes the share.
Task<Status> write_rest(storage::StorageClient* sc, crypto::StorageIndex si, OpenShare* o,
                        Bytes trailer, std::uint64_t trailer_at, Bytes prefix, std::size_t chunk) {
  if (!o->status.is_ok()) co_return o->status;
  std::vector<std::pair<std::uint64_t, Bytes>> regions;  // (offset, bytes), in writing order
  if (!o->pending.empty()) regions.push_back({o->pending_at, std::move(o->pending)});
  if (!regions.empty() && regions.back().first + regions.back().second.size() == trailer_at) {
    regions.back().second.insert(regions.back().second.end(), trailer.begin(), trailer.end());
  } else {
    regions.push_back({trailer_at, std::move(trailer)});
  }
  if (regions.size() == 1 && regions[0].first == prefix.size()) {
    prefix.insert(prefix.end(), regions[0].second.begin(), regions[0].second.end());
    regions[0] = {0, std::move(prefix)};
  } else {
    regions.push_back({0, std::move(prefix)});  // last, as before the pieces were joined
  }
  for (const auto& [at, bytes] : regions) {
    for (std::size_t off = 0; off < bytes.size(); off += chunk) {
      const std::size_t len = std::min(chunk, bytes.size() - off);
      Status s = co_await sc->write(si, o->share, o->upload_id, at + off,
                                    ByteView(bytes.data() + off, len));
      if (!s.is_ok()) {
        o->status = s;
        co_return s;
      }
    }
  }
  Status s = co_await sc->close(si, o->share, o->upload_id);
  if (!s.is_ok()) o->status = s;
  co_return s;
}

using Wanted = std::map<std::size_t, std::map<std::uint64_t, std::vector<std::uint32_t>>>;

// This client's (renew, cancel) lease secrets for file `si` on `server`.
std::pair<storage::LeaseSecretBytes, storage::LeaseSecretBytes> lease_secrets(
    const ClientSecrets& secrets, const crypto::StorageIndex& si, const ServerRef& server) {
  return {to_bytes32(crypto::lease_renew_secret(secrets.lease, si, server_id(server))),
          to_bytes32(crypto::lease_cancel_secret(secrets.lease, si, server_id(server)))};
}

Task<Result<storage::PutResult>> put_on(rpc::RpcPool* pool, ServerRef server, Duration timeout,
                                        crypto::StorageIndex si,
                                        std::vector<storage::StorageClient::ShareBytes> shares,
                                        storage::LeaseSecretBytes renew,
                                        storage::LeaseSecretBytes cancel) {
  storage::StorageClient sc(pool, rpc::Peer{server.address, server.key}, timeout);
  co_return co_await sc.put(si, shares, renew, cancel);
}

// The one-segment path of an upload pass: the segment encoded and the encoder finished first,
// then each server's shares sent whole, one storage.put per server and share size (split so
// that a call carries at most `chunk` bytes), servers in parallel. Stored shares join `open`
// (closed already); failures are added to `errors`.
Task<Result<ImmutableEncoder::Finished>> put_whole(Env* env, rpc::RpcPool* pool,
                                                   const ClientSecrets* secrets, Duration timeout,
                                                   ImmutableEncoder* enc, ByteSource* source,
                                                   const RingOrder* ring, const Wanted* wanted,
                                                   std::size_t chunk, std::vector<OpenShare>* open,
                                                   std::string* errors) {
  const crypto::StorageIndex si = enc->storage_index();
  auto piece = co_await source->read(0, enc->segment_length(0));
  if (!piece.ok()) co_return piece.status();
  auto blocks = enc->encode_segment(*piece);
  if (!blocks.ok()) co_return blocks.status();
  // share = prefix | the one block | trailer (docs/specs/immutable.md); the block goes in now,
  // the prefix and trailer once the encoder is finished.
  std::map<std::uint32_t, Bytes> bodies;
  for (const auto& [r, by_size] : *wanted) {
    for (const auto& [size, numbers] : by_size) {
      for (std::uint32_t n : numbers) {
        const ShareLayout& l = enc->layout(n);
        const Bytes& block = (**blocks)[n];
        if (l.blocks_offset + block.size() != l.block_tree_offset) {
          co_return internal_error("upload: share " + std::to_string(n) +
                                   " layout does not fit one block");
        }
        Bytes& body = bodies[n];
        body.reserve(l.share_bytes);
        body.resize(l.blocks_offset);
        body.insert(body.end(), block.begin(), block.end());
      }
    }
  }
  auto finished = enc->finish();
  if (!finished.ok()) co_return finished.status();
  for (auto& [n, body] : bodies) {
    const Bytes& prefix = finished->prefixes[n];
    const Bytes& trailer = finished->trailers[n];
    if (prefix.size() != enc->layout(n).blocks_offset ||
        body.size() + trailer.size() != enc->layout(n).share_bytes) {
      co_return internal_error("upload: share " + std::to_string(n) + " pieces do not fit");
    }
    std::copy(prefix.begin(), prefix.end(), body.begin());
    body.insert(body.end(), trailer.begin(), trailer.end());
  }
  std::vector<std::size_t> call_server;
  std::vector<Task<Result<storage::PutResult>>> calls;
  for (const auto& [r, by_size] : *wanted) {
    const ServerRef& server = (*ring)[r];
    const auto [renew, cancel] = lease_secrets(*secrets, si, server);
    for (const auto& [size, numbers] : by_size) {
      std::vector<storage::StorageClient::ShareBytes> batch;
      std::size_t bytes = 0;
      for (std::size_t i = 0; i < numbers.size(); ++i) {
        batch.push_back({numbers[i], ByteView(bodies[numbers[i]])});
        bytes += size;
        if (i + 1 == numbers.size() || bytes + size > chunk) {
          calls.push_back(put_on(pool, server, timeout, si, std::move(batch), renew, cancel));
          call_server.push_back(r);
          batch.clear();
          bytes = 0;
        }
      }
    }
  }
  auto results = co_await when_all(env->executor(), std::move(calls));
  for (std::size_t i = 0; i < results.size(); ++i) {
    if (!results[i].ok()) {
      if (errors->size() < 1000) *errors += "; " + results[i].status().to_string();
      continue;
    }
    for (std::uint32_t n : results[i]->stored) {
      OpenShare o;
      o.server = call_server[i];
      o.share = n;
      open->push_back(std::move(o));
    }
  }
  co_return finished;
}

}  // namespace

// One pass of the streaming upload. With `known_hash` (a second pass, after garbage was found
// under the storage index), existing shares are checked fully before they are relied on.
struct ImmutableClient::Pass {
  Status status;
  UploadResult result;
  bool garbage_found = false;
  crypto::Digest extension_hash{};
};

Task<Result<Bytes>> MemorySource::read(std::uint64_t offset, std::size_t length) {
  if (offset > data_.size() || length > data_.size() - offset) {
    co_return invalid_argument("read past the end of the source");
  }
  co_return Bytes(data_.begin() + static_cast<std::ptrdiff_t>(offset),
                  data_.begin() + static_cast<std::ptrdiff_t>(offset + length));
}

Task<ImmutableClient::Pass> ImmutableClient::upload_pass(
    ByteSource* source, std::unique_ptr<ImmutableEncoder> encoder, const RingOrder* ring_in,
    EncodingParams params, std::optional<crypto::Digest> known_hash,
    const std::set<ShareOnServer>* distrusted) {
  Pass pass;
  const RingOrder& ring = *ring_in;
  ImmutableEncoder& enc = *encoder;
  const crypto::StorageIndex si = enc.storage_index();
  ExtensionInfo mine;
  mine.needed = params.needed;
  mine.total = params.total;
  mine.segment_size = params.segment_size;
  mine.file_size = source->size();

  // 1. Ask the first n servers of the ring about space and existing shares (as Tahoe asks about
  // n), and plan; ask more (the width doubling) only while fewer than n of those asked can hold
  // a share, or the plan cannot reach happiness: so a share goes to another server rather
  // than doubling up when one of the first n is down or full. A grid of hundreds of servers
  // costs an upload about n surveys, not hundreds.
  std::uint64_t share_bytes = 0;
  for (std::uint32_t i = 0; i < params.total; ++i) {
    share_bytes = std::max(share_bytes, enc.layout(i).share_bytes);
  }
  PlacementParams pp;
  pp.k = params.needed;
  pp.happy = params.happy;
  pp.n = params.total;
  pp.share_size_bytes = share_bytes;
  pp.new_shares_per_server_max = default_new_shares_per_server_max(params.total, params.happy);
  std::vector<Survey> surveys(ring.size());
  std::size_t surveyed = 0;
  std::size_t width = std::max<std::size_t>(options_.survey_width_min, params.total);
  std::vector<ServerState> states;
  std::vector<std::size_t> ring_index;  // states[i] is ring[ring_index[i]]
  Result<PlacementPlan> plan = unavailable("no server surveyed");
  for (;;) {
    const std::size_t to = std::min(ring.size(), width);
    std::vector<Task<Survey>> asks;
    for (std::size_t i = surveyed; i < to; ++i) {
      asks.push_back(survey_server(this, pool_, options_, ring[i], si, mine, known_hash));
    }
    std::vector<Survey> got = co_await when_all(env_->executor(), std::move(asks));
    for (std::size_t i = surveyed; i < to; ++i) {
      surveys[i] = std::move(got[i - surveyed]);
      if (distrusted == nullptr) continue;
      // Shares a verifier found corrupt: not relied on; their servers (which cannot take that
      // share number again: shares are immutable) take no new share.
      for (auto it = surveys[i].existing.begin(); it != surveys[i].existing.end();) {
        if (distrusted->contains({ring[i].key, it->first})) {
          surveys[i].holds_garbage = true;
          it = surveys[i].existing.erase(it);
        } else {
          ++it;
        }
      }
    }
    surveyed = to;
    states.clear();
    ring_index.clear();
    std::size_t usable = 0;         // servers that hold a share of ours or can take one
    std::set<std::uint32_t> found;  // our shares found on them
    for (std::size_t i = 0; i < surveyed; ++i) {
      if (!surveys[i].reachable) continue;
      const Survey& sv = surveys[i];
      for (const auto& [n, h] : sv.existing) found.insert(n);
      if (!sv.existing.empty() ||
          (!sv.read_only && !sv.holds_garbage &&
           sv.available_bytes >= share_bytes + storage::kContainerHeaderBytes)) {
        ++usable;
      }
      ServerState st;
      st.id = ring[i].key;
      // A server holding garbage under this storage index cannot take those share numbers
      // (shares are immutable): plan around it rather than guess which numbers are blocked.
      st.read_only = surveys[i].read_only || surveys[i].holds_garbage;
      st.available_space_bytes = surveys[i].available_bytes;
      for (const auto& [n, h] : surveys[i].existing) st.existing_shares.push_back(n);
      states.push_back(std::move(st));
      ring_index.push_back(i);
    }
    plan = plan_placement(pp, states);
    // Widen while the plan falls short of happiness or leaves shares unplaced, or would have to
    // put two shares on one server for want of servers asked. A file already partly here (some
    // of its shares among those asked, not all) is asked about up to 2n: servers that joined
    // in front push its shares along the ring, and the rest are likely just beyond.
    const bool partly_here =
        !found.empty() && found.size() < params.total && surveyed < 2 * std::size_t{params.total};
    const bool short_of_servers =
        usable < params.total || partly_here ||
        (!plan.ok() ? plan.status().code() == ErrorCode::kUnavailable : !plan->unplaced.empty());
    if (!short_of_servers || surveyed >= ring.size()) break;
    width = std::min(ring.size(), 2 * width);
  }
  if (!plan.ok()) {
    pass.status = Status(plan.status().code(),
                         "upload: " + plan.status().message() + " (" + std::to_string(ring.size()) +
                             " servers known, " + std::to_string(surveyed) + " asked, " +
                             std::to_string(states.size()) + " reachable)");
    co_return pass;
  }

  // 2. Allocate the new shares, one allocate per server and share size.
  std::vector<std::unique_ptr<storage::StorageClient>> clients(ring.size());
  auto client_for = [&](std::size_t r) -> storage::StorageClient* {
    if (!clients[r]) {
      clients[r] = std::make_unique<storage::StorageClient>(
          pool_, rpc::Peer{ring[r].address, ring[r].key}, options_.call_timeout);
    }
    return clients[r].get();
  };
  Wanted wanted;
  for (const SharePlacement& u : plan->uploads) {
    wanted[ring_index[u.server_index]][enc.layout(u.share).share_bytes].push_back(u.share);
  }
  std::vector<OpenShare> open;
  std::string errors;
  const std::size_t chunk = std::min(options_.write_chunk_bytes, storage::kWriteBytesMax);
  Result<ImmutableEncoder::Finished> finished = internal_error("upload: not encoded");
  if (enc.segment_count() == 1 && share_bytes <= std::min(chunk, options_.put_whole_max)) {
    // 2'. A one-segment file whose shares each fit a call: encoded first, then each server's
    // shares sent whole (storage.put: allocate, write and close in one call), servers in
    // parallel. Most files of a busy grid are small: 1 call per server instead of 3.
    finished = co_await put_whole(env_, pool_, secrets_, options_.call_timeout, &enc, source, &ring,
                                  &wanted, chunk, &open, &errors);
    if (!finished.ok()) {
      pass.status = finished.status();
      co_return pass;
    }
  } else {
    for (const auto& [r, by_size] : wanted) {
      const auto [renew, cancel] = lease_secrets(*secrets_, si, ring[r]);
      for (const auto& [size, numbers] : by_size) {
        auto alloc = co_await client_for(r)->allocate(si, numbers, size, renew, cancel);
        if (!alloc.ok()) {
          if (errors.size() < 1000) errors += "; " + alloc.status().to_string();
          continue;
        }
        for (const storage::Allocation& a : alloc->allocated) {
          OpenShare o;
          o.server = r;
          o.share = a.share_number;
          o.upload_id = a.upload_id;
          o.pending_at = kSharePrefixBytes;
          open.push_back(std::move(o));
        }
      }
    }

    // 3. Stream the segments: each share's blocks are sent once about write_chunk_bytes have
    // gathered, all shares in parallel, while the encoder goes on; at most kChunksInFlight chunks
    // per open share are outstanding, so memory is bounded by (kChunksInFlight + 1) chunks per
    // open share plus one segment.
    constexpr std::size_t kChunksInFlight = 2;
    Scope writes(env_->executor());
    for (std::uint64_t s = 0; s < enc.segment_count(); ++s) {
      const std::uint64_t offset = s * params.segment_size;
      auto piece = co_await source->read(offset, enc.segment_length(s));
      if (!piece.ok()) {
        pass.status = piece.status();
        co_return pass;
      }
      auto blocks = enc.encode_segment(*piece);
      if (!blocks.ok()) {
        pass.status = blocks.status();
        co_return pass;
      }
      const bool last = s + 1 == enc.segment_count();
      for (OpenShare& o : open) {
        if (!o.status.is_ok()) continue;
        const Bytes& b = (**blocks)[o.share];
        o.pending.insert(o.pending.end(), b.begin(), b.end());
        // The last blocks wait for the trees (and the prefix) when together they fit one call.
        const ShareLayout& l = enc.layout(o.share);
        const std::uint64_t rest = o.pending.size() + (l.share_bytes - l.block_tree_offset) +
                                   (o.pending_at == kSharePrefixBytes ? kSharePrefixBytes : 0);
        if (last && rest <= chunk) continue;
        if (o.pending.size() + b.size() > chunk || last) {
          co_await writes.wait_until_at_most(kChunksInFlight * open.size() - 1);
          Bytes out;
          out.swap(o.pending);
          const std::uint64_t at = o.pending_at;
          o.pending_at += out.size();
          writes.spawn(send_chunk(client_for(o.server), si, &o, std::move(out), at));
        }
      }
    }
    co_await writes.join();
    // 4. Trees and prefix, then close.
    finished = enc.finish();
    if (!finished.ok()) {
      pass.status = finished.status();
      co_return pass;
    }
    std::vector<Task<Status>> closes;
    for (OpenShare& o : open) {
      closes.push_back(write_rest(client_for(o.server), si, &o, finished->trailers[o.share],
                                  enc.layout(o.share).block_tree_offset,
                                  finished->prefixes[o.share], chunk));
    }
    (void)co_await when_all(env_->executor(), std::move(closes));
    for (OpenShare& o : open) {
      if (!o.status.is_ok()) {
        (void)co_await client_for(o.server)->abort(si, o.share, o.upload_id);
        if (errors.size() < 1000) errors += "; " + o.status.to_string();
      }
    }
  }  // streamed
  pass.extension_hash = finished->cap.extension_hash;

  // 5. What is really there: our closed shares, and existing ones whose extension block is ours.
  // (Only servers asked can hold any: the ring is not sorted further.)
  std::map<std::size_t, std::vector<std::uint32_t>> held_by;  // ring index -> shares
  std::size_t existing = 0;
  std::vector<std::size_t> existing_servers;
  for (std::size_t r = 0; r < surveyed; ++r) {
    bool relied = false;
    for (const auto& [n, h] : surveys[r].existing) {
      if (h != pass.extension_hash) {
        pass.garbage_found = true;  // looked like ours, is not: plan again knowing the hash
        continue;
      }
      held_by[r].push_back(n);
      ++existing;
      relied = true;
    }
    if (relied) existing_servers.push_back(r);
  }
  if (pass.garbage_found && !known_hash) co_return pass;
  for (const OpenShare& o : open) {
    if (!o.status.is_ok()) continue;
    held_by[o.server].push_back(o.share);
    ++pass.result.shares_written;
    pass.result.bytes_written += enc.layout(o.share).share_bytes;
  }
  // Existing shares we rely on get our lease.
  for (std::size_t r : existing_servers) {
    const auto [renew, cancel] = lease_secrets(*secrets_, si, ring[r]);
    (void)co_await client_for(r)->add_lease(si, renew, cancel);
  }
  std::vector<ServerShares> holdings;
  std::set<std::uint32_t> distinct;
  for (auto& [r, shares] : held_by) {
    for (std::uint32_t n : shares) distinct.insert(n);
    holdings.push_back(ServerShares{ring[r].key, std::move(shares)});
  }
  const std::size_t servers_with_shares = holdings.size();
  const std::uint32_t happiness = servers_of_happiness(holdings);
  pass.result.servers_used = servers_with_shares;
  pass.result.shares_placed = distinct.size();
  pass.result.shares_existing = existing;
  if (happiness < params.happy) {
    pass.status = unavailable("upload: happiness " + std::to_string(happiness) +
                              " after writing, " + std::to_string(params.happy) + " needed (" +
                              std::to_string(ring.size()) + " servers known)" + errors);
    co_return pass;
  }
  pass.result.cap.file = finished->cap;
  co_return pass;
}

Task<Result<UploadResult>> ImmutableClient::upload(Bytes plaintext, std::vector<ServerRef> servers,
                                                   EncodingParams params, bool convergent) {
  MemorySource source(plaintext);
  co_return co_await upload_from(&source, std::move(servers), params, convergent);
}

Task<Result<UploadResult>> ImmutableClient::upload_from(ByteSource* source,
                                                        std::vector<ServerRef> servers,
                                                        EncodingParams params, bool convergent) {
  UploadResult result;
  const std::uint64_t size = source->size();
  if (size <= cap::kMaxLiteralBytes) {
    auto all = co_await source->read(0, size);
    if (!all.ok()) co_return all.status();
    result.cap.file = cap::LiteralCap{std::move(*all)};
    co_return result;
  }
  if (params.needed < 1 || params.needed > params.total || params.total > 256 ||
      params.segment_size < 1 || params.happy < 1 || params.happy > params.total) {
    co_return invalid_argument("upload: bad encoding parameters");
  }
  crypto::FileKey key;
  if (convergent) {
    // The key pass: the whole plaintext through the convergent-key hash, a chunk at a time.
    crypto::ConvergentKeyHasher hasher(
        secrets_->convergence,
        crypto::ConvergenceParams{params.needed, params.total, params.segment_size});
    constexpr std::size_t kKeyPassChunk = 1 << 20;
    for (std::uint64_t at = 0; at < size; at += kKeyPassChunk) {
      auto piece = co_await source->read(at, std::min<std::uint64_t>(kKeyPassChunk, size - at));
      if (!piece.ok()) co_return piece.status();
      hasher.update(*piece);
    }
    key = hasher.finish();
  } else {
    key = crypto::random_file_key(env_->random());
  }
  const RingOrder ring(*ring_cache_, crypto::immutable_storage_index(key), std::move(servers));
  if (ring.size() < params.happy) {
    co_return unavailable("upload: " + std::to_string(ring.size()) +
                          " storage servers known; happy=" + std::to_string(params.happy) +
                          " needs at least that many distinct servers");
  }
  std::optional<crypto::Digest> no_hash;
  auto encoder = ImmutableEncoder::create(key, params, size);
  if (!encoder.ok()) co_return encoder.status();
  Pass first = co_await upload_pass(source, std::move(*encoder), &ring, params, no_hash);
  if (first.garbage_found) {
    // Shares that looked like ours were not: encode again, now checking existing shares fully.
    std::optional<crypto::Digest> known = first.extension_hash;
    auto again = ImmutableEncoder::create(key, params, size);
    if (!again.ok()) co_return again.status();
    Pass second = co_await upload_pass(source, std::move(*again), &ring, params, known);
    if (!second.status.is_ok()) co_return second.status;
    co_return std::move(second.result);
  }
  if (!first.status.is_ok()) co_return first.status;
  co_return std::move(first.result);
}

Task<Result<Bytes>> ImmutableClient::download(cap::Cap cap, std::vector<ServerRef> servers) {
  Bytes out;
  // A named sink, not a temporary in the co_await (docs/decisions/0016).
  Sink sink = [&out](ByteView piece) {
    out.insert(out.end(), piece.begin(), piece.end());
    return Status{};
  };
  Status s =
      co_await download_range(std::move(cap), std::move(servers), 0, UINT64_MAX, std::move(sink));
  if (!s.is_ok()) co_return s;
  co_return out;
}

namespace {}  // namespace

// Reads [offset, offset + length) of a share in chunks.
Task<Result<Bytes>> read_share_range(storage::StorageClient* sc, storage::StorageIndex si,
                                     std::uint32_t share, std::uint64_t offset,
                                     std::uint64_t length, std::size_t chunk) {
  Bytes out;
  out.reserve(length);
  while (out.size() < length) {
    const std::uint64_t want = std::min<std::uint64_t>(chunk, length - out.size());
    auto r = co_await sc->read(si, share, offset + out.size(), want);
    if (!r.ok()) co_return r.status();
    out.insert(out.end(), r->begin(), r->end());
    if (r->size() != want) {
      co_return corruption("share " + std::to_string(share) + " is shorter than its layout");
    }
  }
  co_return out;
}

Task<Status> ImmutableClient::download_range(cap::Cap cap, std::vector<ServerRef> servers,
                                             std::uint64_t offset, std::uint64_t length,
                                             Sink sink) {
  AsyncSink async = [&sink](ByteView piece) -> Task<Status> { co_return sink(piece); };
  co_return co_await stream_range(std::move(cap), std::move(servers), offset, length,
                                  std::move(async));
}

Task<Status> ImmutableClient::stream_range(cap::Cap cap, std::vector<ServerRef> servers,
                                           std::uint64_t offset, std::uint64_t length,
                                           AsyncSink sink) {
  if (auto* lit = std::get_if<cap::LiteralCap>(&cap.file)) {
    const std::uint64_t size = lit->data.size();
    const std::uint64_t from = std::min(offset, size);
    const std::uint64_t n = std::min(length, size - from);
    co_return co_await sink(ByteView(lit->data.data() + from, n));
  }
  auto* chk = std::get_if<cap::ChkReadCap>(&cap.file);
  if (chk == nullptr) co_return invalid_argument("download: not an immutable read cap");
  const cap::ChkVerifyCap vcap = verify_cap_of(*chk);
  const std::optional<crypto::FileKey> key = chk->key;
  co_return co_await stream_verified(vcap, key, std::move(servers), offset, length,
                                     std::move(sink));
}

Task<Status> ImmutableClient::stream_verified(cap::ChkVerifyCap vcap,
                                              std::optional<crypto::FileKey> key,
                                              std::vector<ServerRef> servers, std::uint64_t offset,
                                              std::uint64_t length, AsyncSink sink) {
  const std::uint64_t size = vcap.params.size_bytes;
  if (offset >= size || length == 0) co_return Status{};
  length = std::min(length, size - offset);
  const RingOrder ring(*ring_cache_, vcap.storage_index, std::move(servers));
  const storage::StorageIndex ssi = vcap.storage_index;
  // Made when a server is first asked: most servers of a large grid never are.
  std::vector<std::unique_ptr<storage::StorageClient>> clients(ring.size());
  std::vector<std::unique_ptr<storage::StorageClient>> block_clients(ring.size());  // shorter
  auto client = [&](std::size_t s) {
    if (!clients[s]) {
      clients[s] = std::make_unique<storage::StorageClient>(
          pool_, rpc::Peer{ring[s].address, ring[s].key}, options_.call_timeout);
    }
    return clients[s].get();
  };
  auto block_client = [&](std::size_t s) {
    if (!block_clients[s]) {
      block_clients[s] = std::make_unique<storage::StorageClient>(
          pool_, rpc::Peer{ring[s].address, ring[s].key}, options_.block_read_timeout);
    }
    return block_clients[s].get();
  };
  // Which shares the servers hold (one batched call each, in parallel): the first ones of the
  // ring first (first_width below), more only if those cannot give k good shares. Candidates in
  // ring order, each share number's first holder before second copies.
  struct Candidate {
    std::uint32_t share = 0;
    std::size_t server = 0;
    std::uint64_t bytes = 0;  // the share's size as the server tells it
  };
  std::vector<Candidate> candidates;
  std::set<std::uint32_t> seen;
  std::size_t asked = 0;
  auto discover = [&](std::size_t to) -> Task<void> {
    to = std::min(to, ring.size());
    const std::vector<storage::StorageIndex> wanted{ssi};
    std::vector<Task<Result<std::vector<std::vector<storage::ShareInfo>>>>> asks;
    for (std::size_t s = asked; s < to; ++s) asks.push_back(client(s)->get_buckets(wanted));
    auto held = co_await when_all(env_->executor(), std::move(asks));
    for (int pass = 0; pass < 2; ++pass) {
      for (std::size_t i = 0; i < held.size(); ++i) {
        if (!held[i].ok() || held[i]->size() != 1) continue;
        for (const storage::ShareInfo& info : (*held[i])[0]) {
          if (info.share_number >= vcap.params.total_shares) continue;
          const bool first = !seen.contains(info.share_number);
          if ((pass == 0) == first) {
            candidates.push_back({info.share_number, asked + i, info.share_bytes});
            seen.insert(info.share_number);
          }
        }
      }
    }
    asked = to;
  };
  const std::size_t first_width = std::max<std::size_t>(options_.download_survey_width_min,
                                                        2 * std::size_t{vcap.params.needed_shares});
  co_await discover(first_width);
  const std::uint32_t k = vcap.params.needed_shares;
  // Small shares read whole by fill(): the copy of an active share and the server it came from
  // (a copy from another server than the share's active one is not used).
  std::map<std::uint32_t, std::pair<std::size_t, Bytes>> whole;
  auto slice_of_whole = [&](std::uint32_t share, std::size_t s, std::uint64_t from,
                            std::uint64_t length) -> std::optional<Bytes> {
    auto it = whole.find(share);
    if (it == whole.end() || it->second.first != s) return std::nullopt;
    return slice(it->second.second, from, length);
  };
  std::unique_ptr<SegmentDecoder> decoder;
  std::map<std::uint32_t, std::size_t> active;  // share -> server it is read from
  std::size_t next = 0;
  std::string problems;
  auto note = [&problems](const std::string& what) {
    if (problems.size() < 2000) problems += "; " + what;
  };
  // Servers that timed out, failed or served bytes that fail the cap: not asked again in this
  // download, so each lying or silent server costs at most one call deadline.
  std::set<std::size_t> failed_servers;
  // Brings shares in (prefix and trailer checked) until k are usable or candidates run out.
  auto fill = [&]() -> Task<void> {
    while (active.size() < k) {
      if (next >= candidates.size()) {
        if (asked >= ring.size()) break;
        // The first servers were not enough: ask as many again (then twice that, ...).
        co_await discover(asked + std::max(asked, first_width));
        continue;
      }
      const auto [share, s, share_bytes] = candidates[next++];
      if (active.contains(share)) continue;      // a second copy of a share already in use
      if (failed_servers.contains(s)) continue;  // timed out or lied once: not asked again
      // A small share is read whole, in one call; the checks below are the same as for pieces,
      // and it is kept (for the trailer and the blocks) only once they pass.
      std::optional<Bytes> all;
      Result<Bytes> prefix = unavailable("not read");
      if (share_bytes > 0 && share_bytes <= options_.whole_share_read_max) {
        prefix = co_await client(s)->read(ssi, share, 0, share_bytes);
        if (prefix.ok()) {
          all = std::move(*prefix);
          prefix =
              Bytes(all->begin(), all->begin() + static_cast<std::ptrdiff_t>(std::min<std::size_t>(
                                                     all->size(), kSharePrefixBytes)));
        }
      } else {
        prefix = co_await client(s)->read(ssi, share, 0, kSharePrefixBytes);
      }
      if (!prefix.ok()) {
        note(prefix.status().to_string());
        failed_servers.insert(s);
        continue;
      }
      auto checked = check_share_prefix(vcap, share, *prefix);
      if (!checked.ok()) {
        note(checked.status().message());
        failed_servers.insert(s);
        continue;
      }
      if (!decoder) {
        auto d = SegmentDecoder::create(key, checked->info);
        if (!d.ok()) {
          note(d.status().message());
          continue;
        }
        decoder = std::move(*d);
      }
      Result<Bytes> trailer = unavailable("not read");
      const std::uint64_t trailer_at = decoder->trailer_offset(share);
      const std::uint64_t trailer_bytes = decoder->trailer_bytes(share);
      if (auto part = all ? slice(*all, trailer_at, trailer_bytes) : std::nullopt) {
        trailer = std::move(*part);
      } else {
        trailer = co_await read_share_range(client(s), ssi, share, trailer_at, trailer_bytes,
                                            options_.read_chunk_bytes);
      }
      if (!trailer.ok()) {
        note(trailer.status().to_string());
        failed_servers.insert(s);
        continue;
      }
      Status added = decoder->add_share(share, std::move(*trailer));
      if (!added.is_ok()) {
        note(added.message());
        std::string reason = added.message();
        (void)co_await client(s)->advise_corrupt(ssi, share, std::move(reason));
        continue;
      }
      active[share] = s;
      if (all) {
        whole[share] = {s, std::move(*all)};
      } else {
        whole.erase(share);
      }
    }
  };
  co_await fill();
  if (!decoder || active.size() < k) {
    co_return corruption("download: " + std::to_string(active.size()) + " good shares of " +
                         std::to_string(k) + " needed from " + std::to_string(ring.size()) +
                         " servers" + (candidates.empty() ? "; no server holds any share" : "") +
                         problems);
  }
  const ExtensionInfo& info = decoder->info();
  const std::uint64_t first_seg = offset / info.segment_size;
  const std::uint64_t last_seg = (offset + length - 1) / info.segment_size;
  const std::uint64_t block = decoder->layout(0).block_size;
  const std::uint64_t window =
      std::max<std::uint64_t>(1, options_.read_chunk_bytes / std::max<std::uint64_t>(block, 1));
  // The next window is fetched while the current one is decoded (one window ahead).
  struct Prefetch {
    std::uint64_t seg = 0;
    std::map<std::uint32_t, std::size_t> from;  // the active set it was fetched from
    std::map<std::uint32_t, std::optional<Result<Bytes>>> results;
  };
  Prefetch ahead;
  bool have_ahead = false;
  Scope prefetch(env_->executor());  // after `ahead`: destroyed (cancelled) first
  auto start_prefetch = [&](std::uint64_t from_seg) {
    const std::uint64_t to_seg = std::min(last_seg + 1, from_seg + window);
    ahead.seg = from_seg;
    ahead.from = active;
    ahead.results.clear();
    for (const auto& [share, s] : active) {
      const ShareLayout& l = decoder->layout(share);
      const std::uint64_t from = l.block_offset(from_seg);
      const std::uint64_t to = l.block_offset(to_seg - 1) + l.block_length(to_seg - 1);
      if (auto part = slice_of_whole(share, s, from, to - from)) {
        ahead.results[share] = Result<Bytes>(std::move(*part));
        continue;
      }
      prefetch.spawn(lafs::detail::store_into(
          read_share_range(block_client(s), ssi, share, from, to - from, options_.read_chunk_bytes),
          &ahead.results[share]));
    }
    have_ahead = true;
  };
  std::uint64_t seg = first_seg;
  while (seg <= last_seg) {
    const std::uint64_t end = std::min(last_seg + 1, seg + window);
    // The blocks of segments [seg, end) from each active share: prefetched, or fetched now.
    if (!have_ahead || ahead.seg != seg || ahead.from != active) {
      co_await prefetch.join();
      start_prefetch(seg);
    }
    co_await prefetch.join();
    have_ahead = false;
    std::map<std::uint32_t, Bytes> windows;
    for (auto& [share, result] : ahead.results) {
      if (result && result->ok()) {
        windows[share] = std::move(**result);
      } else {
        note(result ? result->status().to_string() : std::string("read cancelled"));
        // Unreachable, too slow or short: this server is done for this download.
        if (auto it = active.find(share); it != active.end()) {
          failed_servers.insert(it->second);
          active.erase(it);
        }
      }
    }
    if (end <= last_seg && active.size() >= k) start_prefetch(end);
    bool retry = false;
    for (std::uint64_t s = seg; s < end && !retry; ++s) {
      std::map<std::uint32_t, ByteView> blocks;
      for (const auto& [share, bytes] : windows) {
        const ShareLayout& l = decoder->layout(share);
        blocks[share] =
            ByteView(bytes.data() + (l.block_offset(s) - l.block_offset(seg)), l.block_length(s));
      }
      auto plain = decoder->decode_segment(s, blocks);
      if (!plain.ok()) {
        // Tell the servers of the shares that failed, drop them, bring in others, redo from s.
        note(plain.status().message());
        for (std::uint32_t bad : decoder->bad_shares()) {
          auto it = active.find(bad);
          if (it == active.end()) continue;
          std::string reason = "block of segment " + std::to_string(s) +
                               " or the share's copy of the ciphertext tree fails its hash tree";
          (void)co_await client(it->second)->advise_corrupt(ssi, bad, std::move(reason));
          active.erase(it);
        }
        const std::size_t before = active.size();
        co_await fill();
        if (active.size() < k || (active.size() == before && windows.size() >= k)) {
          co_return corruption("download: cannot rebuild segment " + std::to_string(s) + ": " +
                               std::to_string(active.size()) + " good shares of " +
                               std::to_string(k) + " needed" + problems);
        }
        co_await prefetch.join();
        have_ahead = false;
        seg = s;
        retry = true;
        break;
      }
      const std::uint64_t seg_start = s * info.segment_size;
      const std::uint64_t from = std::max(offset, seg_start) - seg_start;
      const std::uint64_t to = std::min(offset + length, seg_start + plain->size()) - seg_start;
      LAFS_CO_RETURN_IF_ERROR(co_await sink(ByteView(plain->data() + from, to - from)));
    }
    if (!retry) {
      if (active.size() < k) {
        co_await prefetch.join();
        have_ahead = false;
        co_await fill();
        if (active.size() < k) {
          co_return corruption("download: " + std::to_string(active.size()) + " good shares of " +
                               std::to_string(k) + " needed" + problems);
        }
      }
      seg = end;
    }
  }
  co_return Status{};
}

namespace {

// The repairer's plumbing: a verified download pushes ciphertext in, the upload pass pulls
// segments out, with at most `capacity` bytes buffered between them.
class CiphertextPipe final : public ByteSource {
 public:
  CiphertextPipe(Executor& ex, std::uint64_t size, std::size_t capacity)
      : size_(size), capacity_(capacity), data_(ex), space_(ex) {}
  std::uint64_t size() const override { return size_; }

  Task<Status> push(ByteView piece) {
    while (buffer_.size() >= capacity_ && !closed_) {
      space_.reset();
      co_await space_.wait();
    }
    if (closed_) co_return unavailable("repair: the upload stopped reading");
    buffer_.insert(buffer_.end(), piece.begin(), piece.end());
    data_.set();
    co_return Status{};
  }
  void finish(Status status) {
    finished_ = true;
    status_ = std::move(status);
    data_.set();
  }
  void close() {
    closed_ = true;
    space_.set();
  }

  Task<Result<Bytes>> read(std::uint64_t offset, std::size_t length) override {
    if (offset != consumed_) co_return invalid_argument("repair: ciphertext is read in order");
    while (buffer_.size() < length) {
      if (finished_) {
        if (!status_.is_ok()) co_return status_;
        co_return corruption("repair: the ciphertext ended early");
      }
      data_.reset();
      co_await data_.wait();
    }
    Bytes out(buffer_.begin(), buffer_.begin() + static_cast<std::ptrdiff_t>(length));
    buffer_.erase(buffer_.begin(), buffer_.begin() + static_cast<std::ptrdiff_t>(length));
    consumed_ += length;
    space_.set();
    co_return out;
  }

 private:
  std::uint64_t size_;
  std::size_t capacity_;
  Bytes buffer_;
  std::uint64_t consumed_ = 0;
  bool finished_ = false, closed_ = false;
  Status status_;
  Event data_, space_;
};

Task<void> feed_ciphertext(ImmutableClient* client, cap::ChkVerifyCap vcap,
                           std::vector<ServerRef> servers, CiphertextPipe* pipe) {
  ImmutableClient::AsyncSink sink = [pipe](ByteView piece) -> Task<Status> {
    co_return co_await pipe->push(piece);
  };
  const std::uint64_t size = vcap.params.size_bytes;
  const std::optional<crypto::FileKey> no_key;
  Status s = co_await client->stream_verified(vcap, no_key, std::move(servers), 0, size, sink);
  pipe->finish(s);
}

}  // namespace

Task<Result<UploadResult>> ImmutableClient::repair(cap::ChkVerifyCap vcap,
                                                   std::vector<ServerRef> servers,
                                                   std::uint32_t happy,
                                                   std::set<ShareOnServer> distrusted) {
  std::vector<ServerRef> all = servers;  // for the download that feeds the re-encoding
  const RingOrder ring(*ring_cache_, vcap.storage_index, std::move(servers));
  const storage::StorageIndex ssi = vcap.storage_index;
  // The encoding parameters, from the first share whose prefix matches the cap.
  std::optional<ExtensionInfo> info;
  for (std::size_t r = 0; r < ring.size() && !info; ++r) {
    storage::StorageClient sc(pool_, rpc::Peer{ring[r].address, ring[r].key},
                              options_.call_timeout);
    const std::vector<storage::StorageIndex> wanted{ssi};
    auto held = co_await sc.get_buckets(wanted);
    if (!held.ok() || held->size() != 1) continue;
    for (const storage::ShareInfo& si : (*held)[0]) {
      if (si.share_number >= vcap.params.total_shares) continue;
      if (distrusted.contains({ring[r].key, si.share_number})) continue;
      auto prefix = co_await sc.read(ssi, si.share_number, 0, kSharePrefixBytes);
      if (!prefix.ok()) break;
      auto checked = check_share_prefix(vcap, si.share_number, *prefix);
      if (checked.ok()) {
        info = checked->info;
        break;
      }
    }
  }
  if (!info) co_return corruption("repair: no server holds a good share of this file");
  EncodingParams params{info->needed, std::min(happy, info->total), info->total,
                        info->segment_size};
  auto encoder =
      ImmutableEncoder::create_for_ciphertext(vcap.storage_index, params, info->file_size);
  if (!encoder.ok()) co_return encoder.status();
  CiphertextPipe pipe(env_->executor(), info->file_size,
                      static_cast<std::size_t>(2 * info->segment_size) + options_.read_chunk_bytes);
  Scope producer(env_->executor());
  producer.spawn(feed_ciphertext(this, vcap, std::move(all), &pipe));
  const std::optional<crypto::Digest> known = vcap.extension_hash;
  Pass pass = co_await upload_pass(&pipe, std::move(*encoder), &ring, params, known, &distrusted);
  pipe.close();
  co_await producer.join();
  if (!pass.status.is_ok()) co_return pass.status.with_context("repair");
  if (pass.extension_hash != vcap.extension_hash) {
    // Cannot happen while the ciphertext is verified and the code is deterministic.
    co_return corruption("repair: the regenerated shares do not match the cap");
  }
  pass.result.cap = cap::Cap{vcap, false};
  co_return std::move(pass.result);
}

}  // namespace lafs::client
