// The trivial reference codec: k = 1 and every block is a copy of the segment. It is the k = 1
// case of the Vandermonde code (whose coding matrix is then all ones), so the two agree.
#include <cstring>

#include "core/codec/backends.h"
#include "core/runtime/assert.h"

namespace lafs::codec {
namespace {

class ReplicationCodec final : public ErasureCodec {
 public:
  explicit ReplicationCodec(int n) : ErasureCodec(CodecKind::kReplication, 1, n) {}

 protected:
  void encode_parity(std::size_t block_size, const std::uint8_t* const* data,
                     std::uint8_t* const* parity) override {
    for (int j = 0; j < n() - 1; ++j) std::memcpy(parity[j], data[0], block_size);
  }

  Status reconstruct_data(std::span<const int> survivors, const std::uint8_t* const* sources,
                          std::span<const int> missing, std::uint8_t* const* targets,
                          std::size_t block_size) override {
    LAFS_ASSERT(survivors.size() == 1 && missing.size() == 1);
    LAFS_ASSERT(missing[0] == 0 && survivors[0] != 0);
    std::memcpy(targets[0], sources[0], block_size);
    return Status{};
  }
};

}  // namespace

std::unique_ptr<ErasureCodec> make_replication_codec(int n) {
  return std::make_unique<ReplicationCodec>(n);
}

}  // namespace lafs::codec
