// The production backend: ISA-L's SIMD GF(2^8) dot products fed with the Vandermonde matrix
// (never ISA-L's own gf_gen_rs_matrix, which is not MDS for some shapes), with decode tables
// cached per survivor set.
#include <isa-l/erasure_code.h>

#include <algorithm>
#include <string>
#include <vector>

#include "core/codec/backends.h"
#include "core/codec/decode_cache.h"
#include "core/codec/matrix.h"
#include "core/runtime/assert.h"

namespace lafs::codec {
namespace {

constexpr std::size_t kTableBytesPerCoefficient = 32;  // ec_init_tables expands each to 32 bytes

struct IsalDecodeTables {
  std::vector<int> missing;     // every data share absent from the survivor set, ascending
  std::vector<std::uint8_t> g;  // ec_init_tables of the inverse rows for `missing`, row-major
  std::size_t size_bytes() const { return g.size() + missing.size() * sizeof(int); }
};

class IsalCodec final : public ErasureCodec {
 public:
  IsalCodec(int k, int n)
      : ErasureCodec(CodecKind::kReedSolomon, k, n), generator_(generator_matrix(k, n)) {
    const int m = n - k;
    if (m > 0) {
      encode_tables_.resize(static_cast<std::size_t>(m) * k * kTableBytesPerCoefficient);
      std::vector<std::uint8_t> coding(generator_.begin() + static_cast<std::ptrdiff_t>(k) * k,
                                       generator_.end());
      ec_init_tables(k, m, coding.data(), encode_tables_.data());
    }
  }

 protected:
  void encode_parity(std::size_t block_size, const std::uint8_t* const* data,
                     std::uint8_t* const* parity) override {
    LAFS_ASSERT(block_size > 0 && block_size <= kSegmentSizeBytesMax);
    // ISA-L's signature is not const-correct; it only reads `data`.
    ec_encode_data(static_cast<int>(block_size), k(), n() - k(), encode_tables_.data(),
                   const_cast<std::uint8_t**>(data), const_cast<std::uint8_t**>(parity));
  }

  Status reconstruct_data(std::span<const int> survivors, const std::uint8_t* const* sources,
                          std::span<const int> missing, std::uint8_t* const* targets,
                          std::size_t block_size) override {
    LAFS_ASSERT(survivors.size() == static_cast<std::size_t>(k()));
    const ShareSet key = ShareSet::of(survivors);
    const IsalDecodeTables* t = cache_.find(key);
    if (t != nullptr) {
      ++stats_.decode_table_hits;
    } else {
      Result<IsalDecodeTables> built = build_tables(survivors);
      if (!built.ok()) return built.status();
      t = &cache_.insert(key, std::move(built).value());
      ++stats_.decode_table_builds;
    }
    LAFS_ASSERT(missing.size() <= t->missing.size());
    LAFS_ASSERT(missing.empty() || missing.back() == t->missing[missing.size() - 1]);
    // Rows are laid out one after another, so the first rows' tables serve a prefix of `missing`.
    ec_encode_data(static_cast<int>(block_size), k(), static_cast<int>(missing.size()),
                   const_cast<std::uint8_t*>(t->g.data()), const_cast<std::uint8_t**>(sources),
                   const_cast<std::uint8_t**>(targets));
    return Status{};
  }

 private:
  // Inverts the survivors' rows of the generator; row e of the inverse rebuilds data block e.
  Result<IsalDecodeTables> build_tables(std::span<const int> survivors) const {
    const int k = this->k();
    const auto kk = static_cast<std::size_t>(k);
    std::vector<std::uint8_t> b(kk * kk);
    for (int j = 0; j < k; ++j) {
      std::copy_n(generator_.begin() + static_cast<std::ptrdiff_t>(survivors[j]) * k, k,
                  b.begin() + static_cast<std::ptrdiff_t>(j) * k);
    }
    std::vector<std::uint8_t> inverse(kk * kk);
    if (gf_invert_matrix(b.data(), inverse.data(), k) != 0) {
      return internal_error("erasure code k=" + std::to_string(k) + ", n=" + std::to_string(n()) +
                            ": survivor matrix is singular (the code should be MDS)");
    }
    IsalDecodeTables t;
    const ShareSet present = ShareSet::of(survivors);
    std::vector<std::uint8_t> rows;
    for (int e = 0; e < k; ++e) {
      if (present.contains(e)) continue;
      t.missing.push_back(e);
      rows.insert(rows.end(), inverse.begin() + static_cast<std::ptrdiff_t>(e) * k,
                  inverse.begin() + static_cast<std::ptrdiff_t>(e + 1) * k);
    }
    t.g.resize(t.missing.size() * kk * kTableBytesPerCoefficient);
    if (!t.missing.empty()) {
      ec_init_tables(k, static_cast<int>(t.missing.size()), rows.data(), t.g.data());
    }
    return t;
  }

  std::vector<std::uint8_t> generator_;      // n x k: identity on top of the coding matrix
  std::vector<std::uint8_t> encode_tables_;  // ec_init_tables of the coding rows
  DecodeCache<IsalDecodeTables> cache_;
};

}  // namespace

std::unique_ptr<ErasureCodec> make_isal_codec(int k, int n) {
  return std::make_unique<IsalCodec>(k, n);
}

}  // namespace lafs::codec
