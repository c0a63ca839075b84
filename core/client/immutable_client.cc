// Immutable upload and download over the storage protocol (whole files in memory, for now).
#include "core/client/immutable_client.h"

#include <algorithm>
#include <map>
#include <set>
#include <utility>

#include "core/client/placement.h"
#include "core/runtime/when.h"
#include "core/storage/storage_service.h"

namespace lafs::client {
namespace {

storage::StorageIndex to_storage_si(const crypto::StorageIndex& si) {
  storage::StorageIndex out;
  std::copy(si.begin(), si.end(), out.begin());
  return out;
}

storage::LeaseSecretBytes to_bytes32(const crypto::LeaseSecret& s) {
  storage::LeaseSecretBytes out;
  std::copy_n(s.data(), out.size(), out.begin());
  return out;
}

crypto::ServerIdView server_id(const ServerRef& s) {
  return crypto::ServerIdView(s.key.data(), s.key.size());
}

// What one server ended up holding for an upload.
struct ServerOutcome {
  std::vector<std::uint32_t> placed;
  std::uint32_t existing = 0;
  Status status;
};

}  // namespace

std::vector<ServerRef> permuted_servers(const crypto::StorageIndex& si,
                                        std::vector<ServerRef> servers) {
  std::vector<std::pair<crypto::Digest, std::size_t>> order;
  for (std::size_t i = 0; i < servers.size(); ++i) {
    order.push_back({crypto::permuted_ring_position(si, server_id(servers[i])), i});
  }
  std::sort(order.begin(), order.end(), [&](const auto& a, const auto& b) {
    if (a.first != b.first) return a.first < b.first;
    return servers[a.second].key < servers[b.second].key;
  });
  std::vector<ServerRef> out;
  for (const auto& [pos, i] : order) out.push_back(servers[i]);
  return out;
}

namespace {

// Puts `shares` (numbers into `file`) on one server: allocate, write in chunks, close. Shares the
// server already holds count only if their prefix checks against the cap.
Task<ServerOutcome> put_on_server(Env* env, rpc::RpcPool* pool, const ClientSecrets* secrets,
                                  ImmutableClientOptions options, ServerRef server,
                                  const EncodedFile* file, std::vector<std::uint32_t> shares) {
  ServerOutcome out;
  storage::StorageClient sc(pool, rpc::Peer{server.address, server.key}, options.call_timeout);
  const storage::StorageIndex si = to_storage_si(file->storage_index);
  const auto renew = to_bytes32(
      crypto::lease_renew_secret(secrets->lease, file->storage_index, server_id(server)));
  const auto cancel = to_bytes32(
      crypto::lease_cancel_secret(secrets->lease, file->storage_index, server_id(server)));
  // Shares differ in size (the uncle chain is shorter next to padding), and one allocation
  // names one size: one allocate per distinct size.
  std::map<std::uint64_t, std::vector<std::uint32_t>> by_size;
  for (std::uint32_t n : shares) by_size[file->shares[n].size()].push_back(n);
  const cap::ChkVerifyCap vcap = verify_cap_of(file->cap);
  for (const auto& [share_bytes, numbers] : by_size) {
    auto alloc = co_await sc.allocate(si, numbers, share_bytes, renew, cancel);
    if (!alloc.ok()) {
      out.status = alloc.status();
      continue;
    }
    for (std::uint32_t n : alloc->already_have) {
      auto prefix = co_await sc.read(si, n, 0, kSharePrefixBytes);
      if (prefix.ok() && check_share_prefix(vcap, n, *prefix).ok()) {
        out.placed.push_back(n);
        ++out.existing;
      }
    }
    for (const storage::Allocation& a : alloc->allocated) {
      if (a.share_number >= file->shares.size()) continue;
      const Bytes& data = file->shares[a.share_number];
      Status s;
      for (std::size_t off = 0; off < data.size() && s.is_ok(); off += options.write_chunk_bytes) {
        const std::size_t len = std::min(options.write_chunk_bytes, data.size() - off);
        s = co_await sc.write(si, a.share_number, a.upload_id, off,
                              ByteView(data.data() + off, len));
      }
      if (s.is_ok()) s = co_await sc.close(si, a.share_number, a.upload_id);
      if (s.is_ok()) {
        out.placed.push_back(a.share_number);
      } else {
        (void)co_await sc.abort(si, a.share_number, a.upload_id);
        out.status = s;
      }
    }
  }
  (void)env;
  co_return out;
}

// Fetches one whole share: the prefix first (checked against the cap), then the rest.
Task<Result<Bytes>> fetch_share(rpc::RpcPool* pool, ImmutableClientOptions options,
                                ServerRef server, cap::ChkVerifyCap vcap, std::uint32_t share) {
  storage::StorageClient sc(pool, rpc::Peer{server.address, server.key}, options.call_timeout);
  const storage::StorageIndex si = to_storage_si(vcap.storage_index);
  auto prefix = co_await sc.read(si, share, 0, kSharePrefixBytes);
  if (!prefix.ok()) co_return prefix.status();
  auto checked = check_share_prefix(vcap, share, *prefix);
  if (!checked.ok()) co_return checked.status();
  const std::uint64_t total = checked->layout.share_bytes;
  Bytes data = std::move(*prefix);
  if (data.size() > total) data.resize(total);  // a short file's share can be under 532 bytes
  while (data.size() < total) {
    const std::uint64_t want =
        std::min<std::uint64_t>(options.read_chunk_bytes, total - data.size());
    auto more = co_await sc.read(si, share, data.size(), want);
    if (!more.ok()) co_return more.status();
    if (more->empty()) break;  // short: the decoder names it
    data.insert(data.end(), more->begin(), more->end());
  }
  co_return data;
}

// What one server says about a storage index before an upload: its space and read-only flag,
// and which of the file's shares it already holds *and* that check against the cap.
struct Survey {
  bool reachable = false;
  bool read_only = false;
  std::uint64_t available_bytes = 0;
  std::vector<std::uint32_t> verified_existing;
  bool holds_garbage = false;  // shares under this storage index that fail the cap's checks
};

Task<Survey> survey_server(rpc::RpcPool* pool, ImmutableClientOptions options, ServerRef server,
                           cap::ChkVerifyCap vcap) {
  Survey out;
  storage::StorageClient sc(pool, rpc::Peer{server.address, server.key}, options.call_timeout);
  auto version = co_await sc.version();
  if (!version.ok()) co_return out;
  out.reachable = true;
  out.read_only = version->read_only;
  out.available_bytes = version->available_bytes;
  const std::vector<storage::StorageIndex> wanted{to_storage_si(vcap.storage_index)};
  auto held = co_await sc.get_buckets(wanted);
  if (!held.ok() || held->size() != 1) co_return out;
  for (const storage::ShareInfo& info : (*held)[0]) {
    if (info.share_number >= vcap.params.total_shares) continue;
    const storage::StorageIndex si = wanted[0];
    auto prefix = co_await sc.read(si, info.share_number, 0, kSharePrefixBytes);
    // Garbage planted under this storage index does not count (and is not relied on).
    if (prefix.ok() && check_share_prefix(vcap, info.share_number, *prefix).ok()) {
      out.verified_existing.push_back(info.share_number);
    } else {
      out.holds_garbage = true;
    }
  }
  co_return out;
}

}  // namespace

Task<Result<UploadResult>> ImmutableClient::upload(Bytes plaintext, std::vector<ServerRef> servers,
                                                   EncodingParams params, bool convergent) {
  UploadResult result;
  if (plaintext.size() <= cap::kMaxLiteralBytes) {
    result.cap.file = cap::LiteralCap{std::move(plaintext)};
    co_return result;
  }
  if (params.needed < 1 || params.needed > params.total || params.total > 256 ||
      params.segment_size < 1) {
    co_return invalid_argument("upload: bad encoding parameters");
  }
  crypto::FileKey key =
      convergent ? crypto::convergent_key(
                       secrets_->convergence,
                       crypto::ConvergenceParams{params.needed, params.total, params.segment_size},
                       plaintext)
                 : crypto::random_file_key(env_->random());
  auto encoded = encode_immutable(plaintext, key, params);
  if (!encoded.ok()) co_return encoded.status();
  const std::vector<ServerRef> ring = permuted_servers(encoded->storage_index, std::move(servers));
  if (ring.size() < params.happy) {
    co_return unavailable("upload: " + std::to_string(ring.size()) +
                          " storage servers known; happy=" + std::to_string(params.happy) +
                          " needs at least that many distinct servers");
  }
  // Ask every server about space and existing shares, then plan (docs/specs/placement.md).
  const cap::ChkVerifyCap vcap = verify_cap_of(encoded->cap);
  std::vector<Task<Survey>> asks;
  for (const ServerRef& s : ring) asks.push_back(survey_server(pool_, options_, s, vcap));
  const std::vector<Survey> surveys = co_await when_all(env_->executor(), std::move(asks));
  std::uint64_t share_bytes = 0;
  for (const Bytes& sh : encoded->shares)
    share_bytes = std::max<std::uint64_t>(share_bytes, sh.size());
  std::vector<ServerState> states;
  std::vector<std::size_t> ring_index;  // states[i] is ring[ring_index[i]]
  for (std::size_t i = 0; i < ring.size(); ++i) {
    if (!surveys[i].reachable) continue;
    ServerState st;
    st.id = ring[i].key;
    // A server holding garbage under this storage index cannot take those share numbers (shares
    // are immutable): plan around it rather than guess which numbers are blocked.
    st.read_only = surveys[i].read_only || surveys[i].holds_garbage;
    st.available_space_bytes = surveys[i].available_bytes;
    st.existing_shares = surveys[i].verified_existing;
    states.push_back(std::move(st));
    ring_index.push_back(i);
  }
  PlacementParams pp;
  pp.k = params.needed;
  pp.happy = params.happy;
  pp.n = params.total;
  pp.share_size_bytes = share_bytes;
  pp.new_shares_per_server_max = default_new_shares_per_server_max(params.total, params.happy);
  auto plan = plan_placement(pp, states);
  if (!plan.ok()) {
    co_return Status(plan.status().code(), "upload: " + plan.status().message() + " (" +
                                               std::to_string(ring.size()) + " servers known, " +
                                               std::to_string(states.size()) + " reachable)");
  }
  // New shares per server; servers whose existing shares the plan relies on get our lease too
  // (allocate renews leases on shares a server already holds).
  std::map<std::size_t, std::vector<std::uint32_t>> per_server;
  for (const SharePlacement& u : plan->uploads) per_server[u.server_index].push_back(u.share);
  for (const SharePlacement& m : plan->matching) {
    auto& list = per_server[m.server_index];
    if (std::find(list.begin(), list.end(), m.share) == list.end()) list.push_back(m.share);
  }
  std::vector<Task<ServerOutcome>> puts;
  std::vector<std::size_t> put_states;
  for (auto& [idx, shares] : per_server) {
    puts.push_back(
        put_on_server(env_, pool_, secrets_, options_, ring[ring_index[idx]], &*encoded, shares));
    put_states.push_back(idx);
  }
  auto outcomes = co_await when_all(env_->executor(), std::move(puts));
  // Happiness of what is really there now: verified existing shares plus what we wrote.
  std::vector<ServerShares> holdings;
  std::string errors;
  std::size_t placed = 0, existing = 0;
  for (std::size_t i = 0; i < states.size(); ++i) {
    ServerShares h;
    h.server = states[i].id;
    h.shares = states[i].existing_shares;
    holdings.push_back(std::move(h));
  }
  for (std::size_t j = 0; j < outcomes.size(); ++j) {
    auto& h = holdings[put_states[j]].shares;
    for (std::uint32_t n : outcomes[j].placed) {
      if (std::find(h.begin(), h.end(), n) == h.end()) h.push_back(n);
    }
    if (!outcomes[j].status.is_ok() && errors.size() < 1000) {
      errors += "; " + outcomes[j].status.to_string();
    }
  }
  std::set<std::uint32_t> distinct;
  std::size_t servers_with_shares = 0;
  for (const ServerShares& h : holdings) {
    if (!h.shares.empty()) ++servers_with_shares;
    for (std::uint32_t n : h.shares) distinct.insert(n);
    placed += h.shares.size();
  }
  for (const ServerState& st : states) existing += st.existing_shares.size();
  const std::uint32_t happiness = servers_of_happiness(holdings);
  result.servers_used = servers_with_shares;
  result.shares_placed = distinct.size();
  result.shares_existing = existing;
  if (happiness < params.happy) {
    co_return unavailable("upload: happiness " + std::to_string(happiness) + " after writing, " +
                          std::to_string(params.happy) + " needed (" + std::to_string(ring.size()) +
                          " servers known)" + errors);
  }
  (void)placed;
  result.cap.file = encoded->cap;
  co_return result;
}

Task<Result<Bytes>> ImmutableClient::download(cap::Cap cap, std::vector<ServerRef> servers) {
  if (auto* lit = std::get_if<cap::LiteralCap>(&cap.file)) co_return lit->data;
  auto* chk = std::get_if<cap::ChkReadCap>(&cap.file);
  if (chk == nullptr) co_return invalid_argument("download: not an immutable read cap");
  const cap::ChkVerifyCap vcap = verify_cap_of(*chk);
  const std::vector<ServerRef> ring = permuted_servers(vcap.storage_index, std::move(servers));
  // Ask every server which shares it holds (bounded: one batched call each, in parallel).
  std::vector<Task<Result<std::vector<std::vector<storage::ShareInfo>>>>> asks;
  std::vector<std::unique_ptr<storage::StorageClient>> clients;
  // Outlives the lazy tasks below, which hold a reference to it.
  const std::vector<storage::StorageIndex> wanted{to_storage_si(vcap.storage_index)};
  for (const ServerRef& s : ring) {
    clients.push_back(std::make_unique<storage::StorageClient>(pool_, rpc::Peer{s.address, s.key},
                                                               options_.call_timeout));
    asks.push_back(clients.back()->get_buckets(wanted));
  }
  auto held = co_await when_all(env_->executor(), std::move(asks));
  // Candidates in ring order, one server per share number first.
  std::vector<std::pair<std::uint32_t, std::size_t>> candidates;  // share, server index
  std::set<std::uint32_t> seen;
  for (int pass = 0; pass < 2; ++pass) {
    for (std::size_t s = 0; s < held.size(); ++s) {
      if (!held[s].ok() || held[s]->empty()) continue;
      for (const storage::ShareInfo& info : (*held[s])[0]) {
        if (info.share_number >= vcap.params.total_shares) continue;
        const bool first = !seen.contains(info.share_number);
        if ((pass == 0) == first) {
          candidates.push_back({info.share_number, s});
          seen.insert(info.share_number);
        }
      }
    }
  }
  const std::uint32_t k = vcap.params.needed_shares;
  std::map<std::uint32_t, Bytes> got;
  std::map<std::uint32_t, std::size_t> from;  // share -> server it came from
  std::size_t next = 0;
  std::string last_error = "no server holds any share of this file";
  while (true) {
    // Fetch until k distinct share numbers are in hand (or candidates run out).
    std::vector<Task<Result<Bytes>>> fetches;
    std::vector<std::pair<std::uint32_t, std::size_t>> fetching;
    while (got.size() + fetching.size() < k && next < candidates.size()) {
      const auto [share, s] = candidates[next++];
      if (got.contains(share) || std::any_of(fetching.begin(), fetching.end(),
                                             [&](const auto& f) { return f.first == share; })) {
        continue;
      }
      fetching.push_back({share, s});
      fetches.push_back(fetch_share(pool_, options_, ring[s], vcap, share));
    }
    if (fetches.empty()) break;
    auto results = co_await when_all(env_->executor(), std::move(fetches));
    for (std::size_t i = 0; i < results.size(); ++i) {
      if (results[i].ok()) {
        got[fetching[i].first] = std::move(*results[i]);
        from[fetching[i].first] = fetching[i].second;
      } else {
        last_error = results[i].status().to_string();
      }
    }
    if (got.size() < k) continue;
    DecodeReport report;
    auto plain = decode_immutable(*chk, got, &report);
    if (plain.ok()) co_return std::move(*plain);
    last_error = plain.status().message();
    // Set the bad shares aside, tell their servers, and try others.
    for (const auto& [share, why] : report.bad_shares) {
      storage::StorageClient sc(pool_, rpc::Peer{ring[from[share]].address, ring[from[share]].key},
                                options_.call_timeout);
      const storage::StorageIndex bad_si = to_storage_si(vcap.storage_index);
      std::string reason = why;
      (void)co_await sc.advise_corrupt(bad_si, share, std::move(reason));
      got.erase(share);
    }
    if (report.bad_shares.empty()) break;  // nothing to replace: the error stands
  }
  co_return corruption("download: " + std::to_string(got.size()) + " good shares of " +
                       std::to_string(k) + " needed from " + std::to_string(ring.size()) +
                       " servers; last error: " + last_error);
}

}  // namespace lafs::client
