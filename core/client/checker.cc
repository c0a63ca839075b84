#include "core/client/checker.h"

#include <algorithm>
#include <map>
#include <set>

#include "core/client/placement.h"
#include "core/client/ring_cache.h"
#include "core/client/segment_decoder.h"
#include "core/runtime/when.h"
#include "core/storage/limits.h"
#include "core/storage/storage_service.h"

namespace lafs::client {

namespace {

// Judged files at once when checking many (each judge may read headers or whole shares).
constexpr std::size_t kJudgesInFlight = 16;
// Problems kept per check result (a hostile server could name thousands).
constexpr std::size_t kCorruptListedMax = 256;

std::string hex_of(const crypto::StorageIndex& si) {
  return crypto::to_hex(ByteView(si.data(), si.size()));
}

std::string key_hex(const ServerRef& s) {
  return crypto::to_hex(ByteView(s.key.data(), s.key.size()));
}

// Health from the good shares: which servers hold which share numbers.
// A file's good shares by server (index into the server list): only servers holding some.
using GoodShares = std::map<std::size_t, std::set<std::uint32_t>>;

void judge_health(CheckResult& r, const std::vector<ServerRef>& servers,
                  const GoodShares& good_by_server) {
  std::set<std::uint32_t> distinct;
  std::vector<ServerShares> holdings;
  for (const auto& [s, good] : good_by_server) {
    if (good.empty()) continue;
    ++r.good_hosts;
    ServerShares h;
    h.server = servers[s].key;
    for (std::uint32_t share : good) {
      h.shares.push_back(share);
      distinct.insert(share);
      r.share_map[share].push_back(key_hex(servers[s]));
      ++r.shares_found;
    }
    holdings.push_back(std::move(h));
  }
  r.distinct_shares = static_cast<std::uint32_t>(distinct.size());
  r.happiness = servers_of_happiness(holdings);
  r.recoverable = r.needed > 0 && r.distinct_shares >= r.needed;
  const std::uint32_t want_happy = std::min(r.happy, r.servers_responding);
  r.healthy = r.recoverable && r.distinct_shares == r.total && r.happiness >= want_happy;
}

std::string summarize(const CheckResult& r) {
  if (r.is_literal) return "healthy (literal: the file is in its cap)";
  if (r.healthy) return "healthy";
  std::string s = r.recoverable ? "not healthy: " : "unrecoverable: ";
  s += std::to_string(r.distinct_shares) + " of " + std::to_string(r.total) +
       " shares (k=" + std::to_string(r.needed) + ") on " + std::to_string(r.good_hosts) +
       " servers, happiness " + std::to_string(r.happiness) + " (want " +
       std::to_string(std::min(r.happy, r.servers_responding)) + ")";
  if (!r.corrupt.empty()) s += ", " + std::to_string(r.corrupt.size()) + " corrupt";
  s += "; " + std::to_string(r.servers_responding) + " of " + std::to_string(r.servers_queried) +
       " servers answered";
  return s;
}

}  // namespace

// What the servers asked said about one file; only the servers asked are kept (a grid has
// hundreds, a file's listing a few dozen).
struct Checker::Listing {
  std::vector<std::uint32_t> asked;                   // servers asked, in ring order
  std::vector<std::vector<storage::ShareInfo>> held;  // per asked server: its shares of the file
  std::vector<bool> answered;                         // per asked server
  // (server, position in `asked`) of the servers that answered, by server index.
  std::vector<std::pair<std::uint32_t, std::size_t>> answered_by_server() const {
    std::vector<std::pair<std::uint32_t, std::size_t>> out;
    for (std::size_t i = 0; i < asked.size(); ++i) {
      if (answered[i]) out.emplace_back(asked[i], i);
    }
    std::sort(out.begin(), out.end());
    return out;
  }
};

Checker::Checker(Env* env, rpc::RpcPool* pool, const ClientSecrets* secrets,
                 ImmutableClient* immutable, MutableClient* mutable_client, CheckerOptions options)
    : env_(env),
      pool_(pool),
      secrets_(secrets),
      immutable_(immutable),
      mutable_(mutable_client),
      options_(options) {
  options_.batch_max = std::clamp<std::size_t>(options_.batch_max, 1, storage::kBatchMax);
}

Task<std::vector<Checker::Listing>> Checker::list_shares(
    const std::vector<crypto::StorageIndex>& sis,
    const std::vector<std::pair<std::uint32_t, std::uint32_t>>& expect,
    const std::vector<ServerRef>& servers) {
  std::vector<Listing> out(sis.size());
  // Each file's servers in its ring order (permuted_servers', by RingLess), asked a width at a
  // time. Only the front of each ring is kept, sorted as far as the listing has got (most
  // files: the first width); going further sorts afresh from the cached ring positions.
  std::vector<std::vector<std::uint32_t>> fronts(sis.size());
  std::vector<std::pair<std::uint64_t, std::uint32_t>> order;  // (position prefix, server)
  auto ring_at = [&](std::size_t f, std::size_t i) -> std::uint32_t {
    std::vector<std::uint32_t>& front = fronts[f];
    if (i >= front.size()) {
      const std::vector<std::uint64_t> prefix = immutable_->ring_cache().prefixes(sis[f], servers);
      order.resize(prefix.size());
      for (std::size_t j = 0; j < prefix.size(); ++j) {
        order[j] = {prefix[j], static_cast<std::uint32_t>(j)};
      }
      const std::size_t upto = std::min(order.size(), std::max(i + 1, 2 * front.size() + 16));
      std::partial_sort(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(upto),
                        order.end(), RingLess{sis[f], servers});
      front.resize(upto);
      for (std::size_t j = 0; j < upto; ++j) front[j] = order[j].second;
    }
    return front[i];
  };
  // One task per server walks its batches of this round's files; all servers in parallel.
  // (file, position of this server in the file's `asked`)
  using Asked = std::vector<std::pair<std::size_t, std::size_t>>;
  auto ask_server = [](Checker* self, ServerRef server,
                       const std::vector<crypto::StorageIndex>* sis, Asked files,
                       std::vector<Listing>* out) -> Task<void> {
    storage::StorageClient sc(self->pool_, rpc::Peer{server.address, server.key},
                              self->options_.call_timeout);
    for (std::size_t from = 0; from < files.size(); from += self->options_.batch_max) {
      const std::size_t to = std::min(files.size(), from + self->options_.batch_max);
      std::vector<storage::StorageIndex> batch;
      for (std::size_t i = from; i < to; ++i) batch.push_back((*sis)[files[i].first]);
      ++self->stats_.rpcs;
      auto held = co_await sc.get_buckets(batch);
      if (!held.ok() || held->size() != batch.size()) continue;  // this batch: no answer
      for (std::size_t i = from; i < to; ++i) {
        Listing& l = (*out)[files[i].first];
        l.answered[files[i].second] = true;
        l.held[files[i].second] = std::move((*held)[i - from]);
      }
    }
  };
  std::vector<std::size_t> pending(sis.size());
  for (std::size_t f = 0; f < pending.size(); ++f) pending[f] = f;
  while (!pending.empty()) {
    std::vector<Asked> by_server(servers.size());
    for (std::size_t f : pending) {
      Listing& l = out[f];
      const std::size_t width =
          options_.survey_all
              ? servers.size()
              : std::max<std::size_t>(options_.survey_width_min, 2 * std::size_t{expect[f].second});
      const std::size_t to = std::min(servers.size(), l.asked.size() + width);
      for (std::size_t i = l.asked.size(); i < to; ++i) {
        const std::uint32_t s = ring_at(f, i);
        by_server[s].emplace_back(f, l.asked.size());
        l.asked.push_back(s);
        l.held.emplace_back();
        l.answered.push_back(false);
      }
    }
    std::vector<Task<void>> asks;
    for (std::size_t s = 0; s < servers.size(); ++s) {
      if (!by_server[s].empty()) {
        asks.push_back(ask_server(this, servers[s], &sis, std::move(by_server[s]), &out));
      }
    }
    co_await when_all(env_->executor(), std::move(asks));
    // Further along the ring only while it still pays. A file's shares sit near the front of
    // its ring (placed on the first servers that take them, pushed along only by servers that
    // join in front), so: fewer than k shares found (a file is not called lost before every
    // server is asked), or not all n found and the last share found lies within n/2 servers of
    // the end of what was asked (more may follow). A degraded file whose shares all lie well
    // inside the first width costs one width, not two.
    std::vector<std::size_t> next;
    for (std::size_t f : pending) {
      const Listing& l = out[f];
      if (l.asked.size() >= servers.size()) continue;
      const auto [k, n] = expect[f];
      std::set<std::uint32_t> distinct;
      bool found_near_end = false;
      const std::size_t tail = std::max<std::size_t>(1, n / 2);
      for (std::size_t i = 0; i < l.asked.size(); ++i) {
        for (const storage::ShareInfo& info : l.held[i]) {
          distinct.insert(info.share_number);
          if (i + tail >= l.asked.size()) found_near_end = true;
        }
      }
      const bool all_found = n > 0 && distinct.size() >= n;
      if (distinct.size() < k || (found_near_end && !all_found)) next.push_back(f);
    }
    pending = std::move(next);
  }
  co_return out;
}

Task<std::vector<std::uint32_t>> Checker::add_leases(const std::vector<crypto::StorageIndex>& sis,
                                                     const std::vector<Listing>& listings,
                                                     const std::vector<ServerRef>& servers) {
  std::vector<std::uint32_t> leased(sis.size(), 0);
  // Each file's secrets once (not once per server holding it); each server's from those.
  struct FileSecrets {
    crypto::LeaseSecret renew;
    crypto::LeaseSecret cancel;
  };
  std::vector<FileSecrets> secrets;
  secrets.reserve(sis.size());
  for (const crypto::StorageIndex& si : sis) {
    secrets.push_back({crypto::file_renew_secret(secrets_->lease, si),
                       crypto::file_cancel_secret(secrets_->lease, si)});
  }
  // Per server, the files it holds shares of, in batches; servers in parallel.
  auto renew_on = [](Checker* self, ServerRef server, std::vector<std::size_t> files,
                     const std::vector<crypto::StorageIndex>* sis,
                     const std::vector<FileSecrets>* secrets,
                     std::vector<std::uint32_t>* leased) -> Task<void> {
    storage::StorageClient sc(self->pool_, rpc::Peer{server.address, server.key},
                              self->options_.call_timeout);
    for (std::size_t from = 0; from < files.size(); from += self->options_.batch_max) {
      const std::size_t to = std::min(files.size(), from + self->options_.batch_max);
      std::vector<storage::StorageClient::LeaseRequest> batch;
      for (std::size_t i = from; i < to; ++i) {
        const FileSecrets& fs = (*secrets)[files[i]];
        batch.push_back({(*sis)[files[i]],
                         to_bytes32(crypto::server_renew_secret(fs.renew, server_id(server))),
                         to_bytes32(crypto::server_cancel_secret(fs.cancel, server_id(server)))});
      }
      ++self->stats_.rpcs;
      auto counts = co_await sc.add_leases(batch);
      if (counts.ok()) {
        for (std::size_t i = from; i < to; ++i) (*leased)[files[i]] += (*counts)[i - from];
        continue;
      }
      // One target failed (shares gone since the listing): the rest one by one.
      for (std::size_t i = from; i < to; ++i) {
        std::vector<storage::StorageClient::LeaseRequest> one{batch[i - from]};
        ++self->stats_.rpcs;
        auto n = co_await sc.add_leases(one);
        if (n.ok()) (*leased)[files[i]] += (*n)[0];
      }
    }
  };
  std::vector<std::vector<std::size_t>> files_on(servers.size());
  for (std::size_t f = 0; f < sis.size(); ++f) {
    const Listing& l = listings[f];
    for (std::size_t i = 0; i < l.asked.size(); ++i) {
      if (!l.held[i].empty()) files_on[l.asked[i]].push_back(f);
    }
  }
  std::vector<Task<void>> tasks;
  for (std::size_t s = 0; s < servers.size(); ++s) {
    if (!files_on[s].empty()) {
      tasks.push_back(renew_on(this, servers[s], std::move(files_on[s]), &sis, &secrets, &leased));
    }
  }
  co_await when_all(env_->executor(), std::move(tasks));
  co_return leased;
}

Task<CheckResult> Checker::judge_immutable(const cap::ChkVerifyCap& vcap, const Listing& listing,
                                           const std::vector<ServerRef>& servers,
                                           std::uint32_t happy, CheckOptions options) {
  CheckResult r;
  r.storage_index = hex_of(vcap.storage_index);
  r.needed = vcap.params.needed_shares;
  r.total = vcap.params.total_shares;
  r.happy = happy;
  r.servers_queried = static_cast<std::uint32_t>(listing.asked.size());
  GoodShares good;
  for (const auto& [s, i] : listing.answered_by_server()) {
    ++r.servers_responding;
    for (const storage::ShareInfo& info : listing.held[i]) {
      // A share number the file cannot have is not one of its shares (garbage, not counted).
      if (!info.is_mutable && info.share_number < r.total) good[s].insert(info.share_number);
    }
  }
  const storage::StorageIndex ssi = vcap.storage_index;
  if (options.verify) {
    // Every block of every share against its trees: the prefix against the cap, the trailer
    // against the share root, each block against the block tree. Servers in parallel.
    auto verify_server = [](Checker* self, cap::ChkVerifyCap vcap, ServerRef server,
                            std::set<std::uint32_t>* shares,
                            std::vector<CorruptShare>* corrupt) -> Task<void> {
      storage::StorageClient sc(self->pool_, rpc::Peer{server.address, server.key},
                                self->options_.call_timeout);
      const storage::StorageIndex ssi = vcap.storage_index;
      for (auto it = shares->begin(); it != shares->end();) {
        const std::uint32_t share = *it;
        std::string problem;
        ++self->stats_.rpcs;
        auto prefix = co_await sc.read(ssi, share, 0, kSharePrefixBytes);
        std::optional<CheckedPrefix> checked;
        if (!prefix.ok()) {
          problem = "prefix unreadable: " + prefix.status().message();
        } else {
          self->stats_.bytes_read += prefix->size();
          auto c = check_share_prefix(vcap, share, *prefix);
          if (c.ok()) {
            checked = *c;
          } else {
            problem = c.status().message();
          }
        }
        std::unique_ptr<SegmentDecoder> decoder;
        if (checked) {
          auto d = SegmentDecoder::create(std::optional<crypto::FileKey>(), checked->info);
          if (d.ok()) {
            decoder = std::move(*d);
          } else {
            problem = d.status().message();
          }
        }
        if (decoder) {
          // The trailer, then the blocks, a chunk at a time.
          const std::uint64_t t_off = decoder->trailer_offset(share);
          const std::uint64_t t_len = decoder->trailer_bytes(share);
          const std::size_t chunk =
              std::min(self->options_.read_chunk_bytes, storage::kReadBytesMax);
          self->stats_.rpcs += (t_len + chunk - 1) / chunk;
          auto read = co_await read_share_range(&sc, ssi, share, t_off, t_len, chunk);
          Bytes trailer;
          if (!read.ok()) {
            problem = "trailer unreadable: " + read.status().message();
          } else {
            self->stats_.bytes_read += read->size();
            trailer = std::move(*read);
          }
          if (problem.empty()) {
            Status added = decoder->add_share(share, std::move(trailer));
            if (!added.is_ok()) problem = added.message();
          }
          if (problem.empty()) {
            Status tree = decoder->check_ciphertext_tree(share);
            if (!tree.is_ok()) problem = tree.message();
          }
          const ShareLayout& l = decoder->layout(share);
          const std::uint64_t per_read = std::max<std::uint64_t>(
              1, std::min(self->options_.read_chunk_bytes, storage::kReadBytesMax) /
                     std::max<std::uint64_t>(1, l.block_size));
          for (std::uint64_t seg = 0; problem.empty() && seg < l.segment_count; seg += per_read) {
            const std::uint64_t end = std::min(l.segment_count, seg + per_read);
            const std::uint64_t from = l.block_offset(seg);
            const std::uint64_t len = l.block_offset(end - 1) + l.block_length(end - 1) - from;
            ++self->stats_.rpcs;
            auto blocks = co_await sc.read(ssi, share, from, len);
            if (!blocks.ok()) {
              problem = "blocks unreadable: " + blocks.status().message();
              break;
            }
            self->stats_.bytes_read += blocks->size();
            if (blocks->size() != len) {
              problem = "share shorter than its layout";
              break;
            }
            for (std::uint64_t b = seg; b < end && problem.empty(); ++b) {
              Status ok = decoder->check_block(
                  share, b,
                  ByteView(blocks->data() + (l.block_offset(b) - from), l.block_length(b)));
              if (!ok.is_ok()) problem = ok.message();
            }
          }
        }
        if (problem.empty()) {
          ++it;
          continue;
        }
        if (corrupt->size() < kCorruptListedMax) {
          corrupt->push_back(
              {share, crypto::to_hex(ByteView(server.key.data(), server.key.size())), problem});
        }
        std::string reason = "verifier: " + problem;
        ++self->stats_.rpcs;
        (void)co_await sc.advise_corrupt(ssi, share, std::move(reason));
        it = shares->erase(it);
      }
    };
    std::vector<std::vector<CorruptShare>> corrupt(good.size());
    std::vector<Task<void>> verifies;
    std::size_t j = 0;
    for (auto& [s, shares] : good) {
      verifies.push_back(verify_server(this, vcap, servers[s], &shares, &corrupt[j++]));
    }
    co_await when_all(env_->executor(), std::move(verifies));
    for (auto& c : corrupt) {
      for (CorruptShare& one : c) {
        if (r.corrupt.size() < kCorruptListedMax) r.corrupt.push_back(std::move(one));
      }
    }
  }
  judge_health(r, servers, good);
  r.summary = summarize(r);
  co_return r;
}

Task<CheckResult> Checker::judge_mutable(const cap::Cap& cap, const Listing& listing,
                                         const std::vector<ServerRef>& servers, std::uint32_t happy,
                                         CheckOptions options) {
  CheckResult r;
  r.is_mutable = true;
  r.happy = happy;
  r.servers_queried = static_cast<std::uint32_t>(listing.asked.size());
  const auto vcap_any = cap::verify_cap(cap);
  LAFS_ASSERT(vcap_any.has_value());
  const auto& vcap = std::get<cap::SskVerifyCap>(vcap_any->file);
  r.storage_index = hex_of(vcap.storage_index);
  const storage::StorageIndex ssi = vcap.storage_index;
  // Every holder's headers, each checked (signature, fingerprint) before it is believed.
  struct Held {
    std::size_t server;
    MutableHeader header;
  };
  std::vector<Held> held;
  for (const auto& [s, i] : listing.answered_by_server()) {
    ++r.servers_responding;
    if (listing.held[i].empty()) continue;
    storage::StorageClient sc(pool_, rpc::Peer{servers[s].address, servers[s].key},
                              options_.call_timeout);
    const std::vector<std::uint32_t> all;
    const std::vector<storage::ReadVector> vectors{{0, kMutablePrefixBytes}};
    ++stats_.rpcs;
    auto got = co_await sc.slot_read(ssi, all, vectors);
    if (!got.ok()) continue;
    for (const auto& [share, pieces] : *got) {
      if (pieces.empty()) continue;
      stats_.bytes_read += pieces[0].size();
      auto header = check_mutable_prefix(vcap.storage_index, vcap.fingerprint, share, pieces[0]);
      if (header.ok()) {
        held.push_back({s, *header});
      } else if (r.corrupt.size() < kCorruptListedMax) {
        r.corrupt.push_back({share, key_hex(servers[s]), header.status().message()});
      }
    }
  }
  std::map<MutableVersion, std::set<std::uint32_t>> versions;
  std::map<MutableVersion, MutableParams> params_of;
  for (const Held& h : held) {
    versions[h.header.version].insert(h.header.share_number);
    params_of[h.header.version] = h.header.params;
  }
  std::optional<MutableVersion> best;
  for (auto it = versions.rbegin(); it != versions.rend(); ++it) {
    const bool recoverable = it->second.size() >= params_of[it->first].needed;
    r.versions.push_back({it->first, static_cast<std::uint32_t>(it->second.size()), recoverable});
    if (recoverable && !best) best = it->first;
  }
  // The version judged: the newest recoverable one, else the newest seen.
  std::optional<MutableVersion> judged = best;
  if (!judged && !versions.empty()) judged = versions.rbegin()->first;
  GoodShares good;
  if (judged) {
    const MutableParams& p = params_of[*judged];
    r.needed = p.needed;
    r.total = p.total;
    for (const Held& h : held) {
      if (h.header.version == *judged) good[h.server].insert(h.header.share_number);
    }
    if (options.verify) {
      for (auto& [s, shares] : good) {
        storage::StorageClient sc(pool_, rpc::Peer{servers[s].address, servers[s].key},
                                  options_.call_timeout);
        for (auto it = shares.begin(); it != shares.end();) {
          const std::uint32_t share = *it;
          std::string problem;
          auto layout = MutableLayout::make(p, share);
          Bytes whole;
          if (!layout.ok()) {
            problem = layout.status().message();
          }
          while (problem.empty() && whole.size() < layout->share_bytes) {
            const std::uint64_t want =
                std::min<std::uint64_t>(std::min(options_.read_chunk_bytes, storage::kReadBytesMax),
                                        layout->share_bytes - whole.size());
            const std::vector<std::uint32_t> one{share};
            const std::vector<storage::ReadVector> vec{{whole.size(), want}};
            ++stats_.rpcs;
            auto got = co_await sc.slot_read(ssi, one, vec);
            if (!got.ok()) {
              problem = "unreadable: " + got.status().message();
            } else if (!got->contains(share) || got->at(share).empty() ||
                       got->at(share)[0].size() != want) {
              problem = "share shorter than its layout";
            } else {
              stats_.bytes_read += want;
              const Bytes& piece = got->at(share)[0];
              whole.insert(whole.end(), piece.begin(), piece.end());
            }
          }
          if (problem.empty()) {
            auto checked = check_mutable_share(vcap.storage_index, vcap.fingerprint, share, whole);
            if (!checked.ok()) {
              problem = checked.status().message();
            } else if (checked->version != *judged) {
              problem = "changed while being verified";
            }
          }
          if (problem.empty()) {
            ++it;
            continue;
          }
          if (r.corrupt.size() < kCorruptListedMax) {
            r.corrupt.push_back({share, key_hex(servers[s]), problem});
          }
          std::string reason = "verifier: " + problem;
          ++stats_.rpcs;
          (void)co_await sc.advise_corrupt(ssi, share, std::move(reason));
          it = shares.erase(it);
        }
      }
    }
  }
  judge_health(r, servers, good);
  // A newer version than the one judged (a write that did not reach k servers) needs repair.
  if (r.healthy && judged && versions.rbegin()->first != *judged) r.healthy = false;
  r.summary = summarize(r);
  if (versions.size() > 1) r.summary += "; " + std::to_string(versions.size()) + " versions seen";
  co_return r;
}

Task<std::vector<Result<CheckResult>>> Checker::check_many(std::vector<cap::Cap> caps,
                                                           std::vector<ServerRef> servers,
                                                           std::uint32_t happy,
                                                           CheckOptions options) {
  std::vector<Result<CheckResult>> out(caps.size(), Result<CheckResult>(CheckResult{}));
  std::vector<crypto::StorageIndex> sis;
  std::vector<std::size_t> listed;                              // caps[listed[i]] has sis[i]
  std::vector<std::pair<std::uint32_t, std::uint32_t>> expect;  // (k, n) if the cap says
  for (std::size_t i = 0; i < caps.size(); ++i) {
    if (caps[i].is_literal()) {
      CheckResult r;
      r.is_literal = true;
      r.recoverable = r.healthy = true;
      r.summary = summarize(r);
      out[i] = std::move(r);
      continue;
    }
    auto si = cap::storage_index(caps[i]);
    if (!si) {
      out[i] = invalid_argument("check: this cap names no stored file");
      continue;
    }
    sis.push_back(*si);
    listed.push_back(i);
    const auto v = cap::verify_cap(caps[i]);
    const auto* chk = v ? std::get_if<cap::ChkVerifyCap>(&v->file) : nullptr;
    expect.push_back(chk ? std::pair{std::uint32_t{chk->params.needed_shares},
                                     std::uint32_t{chk->params.total_shares}}
                         : std::pair{std::uint32_t{1}, std::uint32_t{0}});
  }
  std::vector<Listing> listings = co_await list_shares(sis, expect, servers);
  std::vector<std::uint32_t> leased(sis.size(), 0);
  if (options.add_lease) leased = co_await add_leases(sis, listings, servers);
  // Judge (headers, verify reads, leases) a bounded number of files at once.
  auto judge = [](Checker* self, const cap::Cap* cap, const Listing* listing,
                  const std::vector<ServerRef>* servers, std::uint32_t happy, CheckOptions options,
                  Result<CheckResult>* out) -> Task<void> {
    if (cap->is_mutable()) {
      *out = co_await self->judge_mutable(*cap, *listing, *servers, happy, options);
      co_return;
    }
    const auto v = cap::verify_cap(*cap);
    const auto* vcap = v ? std::get_if<cap::ChkVerifyCap>(&v->file) : nullptr;
    if (vcap == nullptr) {
      *out = invalid_argument("check: not an immutable or mutable cap");
      co_return;
    }
    *out = co_await self->judge_immutable(*vcap, *listing, *servers, happy, options);
  };
  // (Leases are added above, batched: one call per server per batch of files.)
  options.add_lease = false;
  for (std::size_t from = 0; from < listed.size(); from += kJudgesInFlight) {
    std::vector<Task<void>> judges;
    for (std::size_t i = from; i < std::min(listed.size(), from + kJudgesInFlight); ++i) {
      judges.push_back(
          judge(this, &caps[listed[i]], &listings[i], &servers, happy, options, &out[listed[i]]));
    }
    co_await when_all(env_->executor(), std::move(judges));
  }
  for (std::size_t i = 0; i < listed.size(); ++i) {
    if (out[listed[i]].ok()) out[listed[i]]->leases_renewed = leased[i];
  }
  co_return out;
}

Task<Result<CheckResult>> Checker::check(cap::Cap cap, std::vector<ServerRef> servers,
                                         std::uint32_t happy, CheckOptions options) {
  std::vector<cap::Cap> one{std::move(cap)};
  auto results = co_await check_many(std::move(one), std::move(servers), happy, options);
  co_return std::move(results[0]);
}

Task<Result<RepairResult>> Checker::check_and_repair(cap::Cap cap, std::vector<ServerRef> servers,
                                                     std::uint32_t happy, CheckOptions options,
                                                     RepairOptions repair) {
  RepairResult out;
  auto before = co_await check(cap, servers, happy, options);
  if (!before.ok()) co_return before.status();
  out.before = std::move(*before);
  const CheckResult& b = out.before;
  if (b.healthy || !repair.below_threshold(b)) {
    out.successful = b.healthy;
    if (!b.healthy) {
      out.problem = "not repaired: " + std::to_string(b.distinct_shares) +
                    " shares remain, the threshold is " +
                    std::to_string(repair.repair_below_shares);
    }
    co_return out;
  }
  if (!b.recoverable) {
    out.problem = "unrecoverable: " + std::to_string(b.distinct_shares) + " good shares, " +
                  std::to_string(b.needed) + " needed; nothing can rebuild it";
    co_return out;
  }
  // Happiness can only be asked of servers that answer.
  const std::uint32_t want_happy =
      std::max<std::uint32_t>(1, std::min(happy, b.servers_responding));
  out.attempted = true;
  std::set<ImmutableClient::ShareOnServer> distrusted;
  for (const CorruptShare& c : b.corrupt) {
    for (const ServerRef& s : servers) {
      if (key_hex(s) == c.server) distrusted.insert({s.key, c.share});
    }
  }
  Result<std::pair<std::uint32_t, std::uint64_t>> written = unimplemented("repair");
  if (cap.is_mutable()) {
    const auto* w = std::get_if<cap::SskWriteCap>(&cap.file);
    if (w == nullptr) {
      co_return permission_denied(
          "repairing a mutable file or directory needs its write cap (the write enabler)");
    }
    written = co_await repair_mutable(*w, servers, want_happy, distrusted);
  } else {
    const auto v = cap::verify_cap(cap);
    const auto* vcap = v ? std::get_if<cap::ChkVerifyCap>(&v->file) : nullptr;
    if (vcap == nullptr) co_return invalid_argument("repair: not an immutable cap");
    written = co_await repair_immutable(*vcap, servers, want_happy, distrusted);
  }
  if (written.ok()) {
    out.shares_written = written->first;
    out.bytes_written = written->second;
    stats_.bytes_written += written->second;
  }
  CheckOptions again = options;
  again.add_lease = false;  // done already
  auto after = co_await check(cap, servers, happy, again);
  if (!after.ok()) co_return after.status();
  out.after = std::move(*after);
  out.successful = out.after->healthy;
  if (!written.ok()) {
    out.problem = written.status().message();
  } else if (!out.successful) {
    out.problem = "still " + out.after->summary;
  }
  co_return out;
}

Task<Result<std::pair<std::uint32_t, std::uint64_t>>> Checker::repair_immutable(
    const cap::ChkVerifyCap& vcap, const std::vector<ServerRef>& servers, std::uint32_t happy,
    const std::set<ImmutableClient::ShareOnServer>& distrusted) {
  std::set<ImmutableClient::ShareOnServer> copy = distrusted;
  auto done = co_await immutable_->repair(vcap, servers, happy, std::move(copy));
  if (!done.ok()) co_return done.status();
  co_return std::pair<std::uint32_t, std::uint64_t>(
      static_cast<std::uint32_t>(done->shares_written), done->bytes_written);
}

Task<Result<std::pair<std::uint32_t, std::uint64_t>>> Checker::repair_mutable(
    const cap::SskWriteCap& wcap, const std::vector<ServerRef>& servers, std::uint32_t happy,
    const std::set<ImmutableClient::ShareOnServer>& distrusted) {
  std::set<std::pair<net::PublicKey, std::uint32_t>> copy(distrusted.begin(), distrusted.end());
  auto done = co_await mutable_->repair(wcap, servers, happy, std::move(copy));
  if (!done.ok()) co_return done.status();
  co_return std::pair<std::uint32_t, std::uint64_t>(
      static_cast<std::uint32_t>(done->shares_written), done->bytes_written);
}

}  // namespace lafs::client
