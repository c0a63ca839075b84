// Ring positions remembered per storage index (docs/specs/placement.md, "Permuted ring").
//
// A server's place on a file's ring is a double SHA-256 of the storage index and the server's
// id, so ordering a file's servers hashes every server the client knows: on a grid of hundreds
// of servers that is most of the client's work for checking or reading a small file. A client
// that comes back to the same files (a monthly check, re-reads) keeps here the positions' first
// 8 bytes per (file, server): hashing is then needed only for servers it has not seen before.
// Bounded: at most files_max files (the least recently used is dropped first) and servers_max
// distinct servers (past that everything is forgotten and learnt again).
#pragma once

#include <cstdint>
#include <list>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/client/immutable_client.h"
#include "core/crypto/derive.h"

namespace lafs::client {

class RingCache {
 public:
  RingCache(std::size_t files_max, std::size_t servers_max);
  RingCache(const RingCache&) = delete;
  RingCache& operator=(const RingCache&) = delete;

  // The first 8 bytes (big-endian) of each server's position on si's ring, in `servers` order.
  // Equal to the prefix of crypto::permuted_ring_positions(si, ...) (RingCache.* tests).
  std::vector<std::uint64_t> prefixes(const crypto::StorageIndex& si,
                                      const std::vector<ServerRef>& servers);

  // `servers` in the order of si's ring: permuted_servers(si, servers), from cached positions.
  std::vector<ServerRef> order(const crypto::StorageIndex& si, std::vector<ServerRef> servers);

  std::size_t files() const { return files_.size(); }
  std::uint64_t positions_hashed() const { return positions_hashed_; }

 private:
  struct KeyHash {
    std::size_t operator()(const net::PublicKey& k) const;
  };
  struct SiHash {
    std::size_t operator()(const crypto::StorageIndex& si) const;
  };
  struct Entry {
    std::vector<std::uint64_t> by_id;  // prefix per server id [0, by_id.size())
    std::list<crypto::StorageIndex>::iterator lru;
  };

  std::size_t files_max_;
  std::size_t servers_max_;
  std::unordered_map<net::PublicKey, std::uint32_t, KeyHash> ids_;
  std::vector<net::PublicKey> keys_;  // by id
  std::unordered_map<crypto::StorageIndex, Entry, SiHash> files_;
  std::list<crypto::StorageIndex> lru_;    // most recently used first
  std::vector<net::PublicKey> last_keys_;  // the server list of the last call
  std::vector<std::uint32_t> last_ids_;    // and its servers' ids
  std::uint64_t positions_hashed_ = 0;
};

// The first 8 bytes of a ring position, big-endian: the key the ring is sorted by first.
std::uint64_t ring_prefix(const crypto::Digest& position);

// The permuted ring's order (docs/specs/placement.md) of (position prefix, index into
// `servers`) pairs: by the prefix; on a tie (about never) by the whole position, then the key.
struct RingLess {
  const crypto::StorageIndex& si;
  const std::vector<ServerRef>& servers;
  bool operator()(const std::pair<std::uint64_t, std::uint32_t>& a,
                  const std::pair<std::uint64_t, std::uint32_t>& b) const;
};

// A file's servers in its ring's order, sorted lazily: only as far as they are read (a
// download of a small file reads the first 2k of hundreds, an upload the first n). Same order
// as RingCache::order and permuted_servers.
class RingOrder {
 public:
  RingOrder(RingCache& cache, const crypto::StorageIndex& si, std::vector<ServerRef> servers);
  RingOrder(const RingOrder&) = delete;
  RingOrder& operator=(const RingOrder&) = delete;

  std::size_t size() const { return servers_.size(); }
  // The i-th server of the ring (i < size()).
  const ServerRef& operator[](std::size_t i) const;

 private:
  crypto::StorageIndex si_;
  std::vector<ServerRef> servers_;
  // (position prefix, index into servers_); [0, sorted_) is in ring order and holds the
  // smallest, the rest unordered.
  mutable std::vector<std::pair<std::uint64_t, std::uint32_t>> order_;
  mutable std::size_t sorted_ = 0;
};

}  // namespace lafs::client
