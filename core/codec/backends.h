// Constructors of the codec backends; ErasureCodec::create validates before calling them.
#pragma once

#include <memory>

#include "core/codec/codec.h"

namespace lafs::codec {

std::unique_ptr<ErasureCodec> make_isal_codec(int k, int n);
std::unique_ptr<ErasureCodec> make_jerasure_codec(int k, int n);
std::unique_ptr<ErasureCodec> make_replication_codec(int n);

}  // namespace lafs::codec
