#include "core/client/ring_cache.h"

#include <algorithm>
#include <cstring>

#include "core/runtime/assert.h"

namespace lafs::client {

std::uint64_t ring_prefix(const crypto::Digest& position) {
  std::uint64_t prefix = 0;
  for (std::size_t b = 0; b < 8; ++b) prefix = (prefix << 8) | position[b];
  return prefix;
}

bool RingLess::operator()(const std::pair<std::uint64_t, std::uint32_t>& a,
                          const std::pair<std::uint64_t, std::uint32_t>& b) const {
  if (a.first != b.first) return a.first < b.first;
  const auto pa = crypto::permuted_ring_position(si, server_id(servers[a.second]));
  const auto pb = crypto::permuted_ring_position(si, server_id(servers[b.second]));
  if (pa != pb) return pa < pb;
  return servers[a.second].key < servers[b.second].key;
}

// Keys and storage indexes are hash outputs: their first bytes are a fine hash.
std::size_t RingCache::KeyHash::operator()(const net::PublicKey& k) const {
  std::size_t h = 0;
  std::memcpy(&h, k.data(), sizeof h);
  return h;
}

std::size_t RingCache::SiHash::operator()(const crypto::StorageIndex& si) const {
  std::size_t h = 0;
  std::memcpy(&h, si.data(), sizeof h);
  return h;
}

RingCache::RingCache(std::size_t files_max, std::size_t servers_max)
    : files_max_(files_max), servers_max_(std::max<std::size_t>(servers_max, 1)) {}

std::vector<std::uint64_t> RingCache::prefixes(const crypto::StorageIndex& si,
                                               const std::vector<ServerRef>& servers) {
  std::vector<std::uint64_t> out(servers.size());
  if (files_max_ == 0 || servers.size() > servers_max_) {  // no cache: hash them all
    std::vector<crypto::ServerIdView> views;
    views.reserve(servers.size());
    for (const ServerRef& s : servers) views.push_back(server_id(s));
    const auto positions = crypto::permuted_ring_positions(si, views);
    positions_hashed_ += positions.size();
    for (std::size_t i = 0; i < positions.size(); ++i) out[i] = ring_prefix(positions[i]);
    return out;
  }
  // Callers pass the same server list again and again (it changes when a server comes or
  // goes): then the ids found last time are reused, a comparison instead of a lookup each.
  const bool same_list =
      servers.size() == last_keys_.size() &&
      std::equal(servers.begin(), servers.end(), last_keys_.begin(),
                 [](const ServerRef& s, const net::PublicKey& k) { return s.key == k; });
  if (!same_list) {
    last_keys_.clear();
    last_ids_.clear();
    for (const ServerRef& server : servers) {
      auto it = ids_.find(server.key);
      if (it == ids_.end()) {
        if (keys_.size() >= servers_max_) {  // too many servers seen: start again
          ids_.clear();
          keys_.clear();
          files_.clear();
          lru_.clear();
          last_ids_.clear();
          return prefixes(si, servers);
        }
        it = ids_.emplace(server.key, static_cast<std::uint32_t>(keys_.size())).first;
        keys_.push_back(server.key);
      }
      last_ids_.push_back(it->second);
      last_keys_.push_back(server.key);
    }
  }
  auto found = files_.find(si);
  if (found == files_.end()) {
    if (files_.size() >= files_max_) {
      files_.erase(lru_.back());
      lru_.pop_back();
    }
    lru_.push_front(si);
    found = files_.emplace(si, Entry{{}, lru_.begin()}).first;
  } else if (found->second.lru != lru_.begin()) {
    lru_.splice(lru_.begin(), lru_, found->second.lru);
  }
  Entry& e = found->second;
  if (e.by_id.size() < keys_.size()) {  // servers first seen since: hashed once for this file
    std::vector<crypto::ServerIdView> views;
    views.reserve(keys_.size() - e.by_id.size());
    for (std::size_t id = e.by_id.size(); id < keys_.size(); ++id) {
      views.push_back(crypto::ServerIdView(keys_[id].data(), keys_[id].size()));
    }
    const auto positions = crypto::permuted_ring_positions(si, views);
    positions_hashed_ += positions.size();
    for (const crypto::Digest& p : positions) e.by_id.push_back(ring_prefix(p));
  }
  for (std::size_t i = 0; i < servers.size(); ++i) out[i] = e.by_id[last_ids_[i]];
  return out;
}

std::vector<ServerRef> RingCache::order(const crypto::StorageIndex& si,
                                        std::vector<ServerRef> servers) {
  const std::vector<std::uint64_t> prefix = prefixes(si, servers);
  std::vector<std::pair<std::uint64_t, std::uint32_t>> order(servers.size());
  for (std::size_t i = 0; i < order.size(); ++i) {
    order[i] = {prefix[i], static_cast<std::uint32_t>(i)};
  }
  std::sort(order.begin(), order.end(), RingLess{si, servers});
  std::vector<ServerRef> out;
  out.reserve(servers.size());
  for (const auto& [p, i] : order) out.push_back(std::move(servers[i]));
  return out;
}

RingOrder::RingOrder(RingCache& cache, const crypto::StorageIndex& si,
                     std::vector<ServerRef> servers)
    : si_(si), servers_(std::move(servers)) {
  const std::vector<std::uint64_t> prefix = cache.prefixes(si_, servers_);
  order_.resize(servers_.size());
  for (std::size_t i = 0; i < order_.size(); ++i) {
    order_[i] = {prefix[i], static_cast<std::uint32_t>(i)};
  }
}

const ServerRef& RingOrder::operator[](std::size_t i) const {
  LAFS_ASSERT(i < order_.size());
  if (i >= sorted_) {
    // The next smallest, in order, doubling how far the ring is sorted.
    const std::size_t upto = std::min(order_.size(), std::max(i + 1, 2 * sorted_ + 16));
    std::partial_sort(order_.begin() + static_cast<std::ptrdiff_t>(sorted_),
                      order_.begin() + static_cast<std::ptrdiff_t>(upto), order_.end(),
                      RingLess{si_, servers_});
    sorted_ = upto;
  }
  return servers_[order_[i].second];
}

}  // namespace lafs::client
