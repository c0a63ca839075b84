// The reference backend: Jerasure's own matrix encode and decoding-matrix routines on the same
// Vandermonde matrix. Slower than ISA-L; kept as the oracle that the fast path is checked against.
// Jerasure keeps process-global GF tables (built lazily) and byte counters, so concurrent use
// from several threads is not safe: production uses the ISA-L backend.
extern "C" {
#include <gf_complete.h>  // included by galois.h outside its extern "C"
}
#include <jerasure.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "core/codec/backends.h"
#include "core/codec/decode_cache.h"
#include "core/codec/matrix.h"
#include "core/runtime/assert.h"

namespace lafs::codec {
namespace {

constexpr int kWordBits = 8;  // GF(2^8)
// gf-complete's SIMD region multiply aborts unless source and destination are equally aligned
// modulo 16; buffers that are not get staged through aligned scratch (slots aligned to 64).
constexpr std::uintptr_t kRegionAlignment = 16;
constexpr std::size_t kStageSlotAlignment = 64;

struct JerasureDecodeTables {
  std::vector<int> decoding_matrix;  // k x k inverse of the survivors' generator rows
  std::vector<int> dm_ids;           // the survivors, as Jerasure device ids (= share numbers)
  std::size_t size_bytes() const { return (decoding_matrix.size() + dm_ids.size()) * sizeof(int); }
};

bool same_alignment(std::span<const std::uint8_t* const> a, std::span<std::uint8_t* const> b) {
  const std::uintptr_t want = reinterpret_cast<std::uintptr_t>(a[0]) % kRegionAlignment;
  for (const std::uint8_t* p : a) {
    if (p != nullptr && reinterpret_cast<std::uintptr_t>(p) % kRegionAlignment != want)
      return false;
  }
  for (const std::uint8_t* p : b) {
    if (p != nullptr && reinterpret_cast<std::uintptr_t>(p) % kRegionAlignment != want)
      return false;
  }
  return true;
}

// Aligned copies of a set of blocks, for when the caller's buffers are not mutually aligned.
class Stage {
 public:
  void reset(std::size_t slots, std::size_t block_size) {
    slot_bytes_ =
        (block_size + kStageSlotAlignment - 1) / kStageSlotAlignment * kStageSlotAlignment;
    buffer_.resize(slots * slot_bytes_ + kStageSlotAlignment);
    const auto base = reinterpret_cast<std::uintptr_t>(buffer_.data());
    offset_ = (kStageSlotAlignment - base % kStageSlotAlignment) % kStageSlotAlignment;
  }
  std::uint8_t* slot(std::size_t i) { return buffer_.data() + offset_ + i * slot_bytes_; }

 private:
  Bytes buffer_;
  std::size_t slot_bytes_ = 0;
  std::size_t offset_ = 0;
};

class JerasureCodec final : public ErasureCodec {
 public:
  JerasureCodec(int k, int n) : ErasureCodec(CodecKind::kReedSolomonJerasure, k, n) {
    for (std::uint8_t c : vandermonde_coding_matrix(k, n)) matrix_.push_back(c);
  }

 protected:
  void encode_parity(std::size_t block_size, const std::uint8_t* const* data,
                     std::uint8_t* const* parity) override {
    const int k = this->k();
    const int m = n() - k;
    LAFS_ASSERT(m > 0 && block_size <= kSegmentSizeBytesMax);
    data_.resize(k);
    for (int i = 0; i < k; ++i) data_[i] = const_cast<std::uint8_t*>(data[i]);  // only read
    coding_.assign(parity, parity + m);
    const bool staged = !same_alignment(std::span(data, k), std::span(parity, m));
    if (staged) {
      stage_.reset(n(), block_size);
      for (int i = 0; i < k; ++i) {
        std::memcpy(stage_.slot(i), data[i], block_size);
        data_[i] = stage_.slot(i);
      }
      for (int j = 0; j < m; ++j) coding_[j] = stage_.slot(k + j);
    }
    jerasure_matrix_encode(k, m, kWordBits, matrix_.data(), as_chars(data_), as_chars(coding_),
                           static_cast<int>(block_size));
    if (staged) {
      for (int j = 0; j < m; ++j) std::memcpy(parity[j], coding_[j], block_size);
    }
  }

  Status reconstruct_data(std::span<const int> survivors, const std::uint8_t* const* sources,
                          std::span<const int> missing, std::uint8_t* const* targets,
                          std::size_t block_size) override {
    const int k = this->k();
    LAFS_ASSERT(survivors.size() == static_cast<std::size_t>(k));
    const JerasureDecodeTables* t = nullptr;
    LAFS_RETURN_IF_ERROR(tables_for(survivors, &t));
    // Jerasure addresses blocks as data device i < k or coding device k+j.
    data_.assign(k, nullptr);
    coding_.assign(n() - k, nullptr);
    const bool staged = !same_alignment(std::span(sources, k), std::span(targets, missing.size()));
    if (staged) stage_.reset(k + missing.size(), block_size);
    for (int j = 0; j < k; ++j) {
      const std::uint8_t* src = sources[j];
      if (staged) {
        std::memcpy(stage_.slot(j), src, block_size);
        src = stage_.slot(j);
      }
      auto* p = const_cast<std::uint8_t*>(src);  // Jerasure only reads survivors
      (survivors[j] < k ? data_[survivors[j]] : coding_[survivors[j] - k]) = p;
    }
    for (std::size_t i = 0; i < missing.size(); ++i) {
      data_[missing[i]] = staged ? stage_.slot(k + i) : targets[i];
    }
    for (std::size_t i = 0; i < missing.size(); ++i) {
      const int e = missing[i];
      jerasure_matrix_dotprod(k, kWordBits, const_cast<int*>(t->decoding_matrix.data()) + e * k,
                              const_cast<int*>(t->dm_ids.data()), e, as_chars(data_),
                              as_chars(coding_), static_cast<int>(block_size));
      if (staged) std::memcpy(targets[i], data_[e], block_size);
    }
    return Status{};
  }

 private:
  static char** as_chars(std::vector<std::uint8_t*>& v) {
    return reinterpret_cast<char**>(v.data());
  }

  Status tables_for(std::span<const int> survivors, const JerasureDecodeTables** out) {
    const ShareSet key = ShareSet::of(survivors);
    if (const JerasureDecodeTables* hit = cache_.find(key)) {
      ++stats_.decode_table_hits;
      *out = hit;
      return Status{};
    }
    const int k = this->k();
    const int m = n() - k;
    std::vector<int> erased(n(), 1);
    for (int s : survivors) erased[s] = 0;
    JerasureDecodeTables t;
    t.decoding_matrix.resize(static_cast<std::size_t>(k) * k);
    t.dm_ids.resize(k);
    if (jerasure_make_decoding_matrix(k, m, kWordBits, matrix_.data(), erased.data(),
                                      t.decoding_matrix.data(), t.dm_ids.data()) != 0) {
      return internal_error("erasure code k=" + std::to_string(k) + ", n=" + std::to_string(n()) +
                            ": Jerasure could not invert the survivor matrix (should be MDS)");
    }
    LAFS_ASSERT(std::equal(t.dm_ids.begin(), t.dm_ids.end(), survivors.begin()));
    *out = &cache_.insert(key, std::move(t));
    ++stats_.decode_table_builds;
    return Status{};
  }

  std::vector<int> matrix_;  // (n-k) x k, as Jerasure wants it
  DecodeCache<JerasureDecodeTables> cache_;
  std::vector<std::uint8_t*> data_;
  std::vector<std::uint8_t*> coding_;
  Stage stage_;
};

}  // namespace

std::unique_ptr<ErasureCodec> make_jerasure_codec(int k, int n) {
  return std::make_unique<JerasureCodec>(k, n);
}

}  // namespace lafs::codec
