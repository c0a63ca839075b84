// A small LRU cache of decode tables keyed by the set of surviving shares. A download normally
// keeps one survivor set for every segment, so rebuilding tables per segment (7x the cost at
// k=29) is avoided with a handful of entries.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <utility>
#include <vector>

#include "core/runtime/assert.h"

namespace lafs::codec {

// The bounds: entries, and bytes of table data. The largest table set (k=128, 128 lost data
// blocks) is 512 KiB, so the byte bound still leaves room for several patterns.
inline constexpr std::size_t kDecodeCacheEntriesMax = 16;
inline constexpr std::size_t kDecodeCacheBytesMax = std::size_t{4} << 20;

// A set of share numbers below 256.
class ShareSet {
 public:
  static ShareSet of(std::span<const int> shares) {
    ShareSet s;
    for (int x : shares) s.add(x);
    return s;
  }
  void add(int share) {
    LAFS_ASSERT(share >= 0 && share < 256);
    bits_[share / 64] |= std::uint64_t{1} << (share % 64);
  }
  bool contains(int share) const { return (bits_[share / 64] >> (share % 64)) & 1; }
  friend bool operator==(const ShareSet&, const ShareSet&) = default;

 private:
  std::array<std::uint64_t, 4> bits_{};
};

// V must provide size_bytes(). Not thread-safe: a codec instance belongs to one caller at a time.
template <typename V>
class DecodeCache {
 public:
  // The cached value for `survivors`, or nullptr. A hit marks the entry most recently used.
  V* find(const ShareSet& survivors) {
    for (Entry& e : entries_) {
      if (e.key == survivors) {
        e.last_use = ++tick_;
        return &e.value;
      }
    }
    return nullptr;
  }

  // Inserts (the key must be absent), evicting least recently used entries to stay within both
  // bounds; the new entry itself is always kept.
  V& insert(const ShareSet& survivors, V value) {
    LAFS_ASSERT(find(survivors) == nullptr);
    bytes_ += value.size_bytes();
    entries_.push_back(Entry{survivors, std::move(value), ++tick_});
    while (entries_.size() > kDecodeCacheEntriesMax ||
           (bytes_ > kDecodeCacheBytesMax && entries_.size() > 1)) {
      evict_oldest();
    }
    LAFS_ASSERT(entries_.size() <= kDecodeCacheEntriesMax);
    return entries_.back().value;
  }

  std::size_t size() const { return entries_.size(); }
  std::size_t bytes() const { return bytes_; }

 private:
  struct Entry {
    ShareSet key;
    V value;
    std::uint64_t last_use = 0;
  };

  void evict_oldest() {
    // The newest entry is last and has the highest tick, so it is never chosen.
    std::size_t oldest = 0;
    for (std::size_t i = 1; i < entries_.size(); ++i) {
      if (entries_[i].last_use < entries_[oldest].last_use) oldest = i;
    }
    LAFS_ASSERT(oldest + 1 < entries_.size());
    bytes_ -= entries_[oldest].value.size_bytes();
    entries_.erase(entries_.begin() + static_cast<std::ptrdiff_t>(oldest));
  }

  std::vector<Entry> entries_;  // at most kDecodeCacheEntriesMax (+1 while inserting)
  std::size_t bytes_ = 0;
  std::uint64_t tick_ = 0;
};

}  // namespace lafs::codec
