// Fuzzing the parsers of the mutable-file and directory formats with arbitrary and mutated
// bytes: each returns a clear error (never crashes, never accepts garbage as a valid object).
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include "core/client/dir_pages.h"
#include "core/client/directory.h"
#include "core/client/mutable_share.h"
#include "net/sim/sim_random.h"

namespace lafs::client {
namespace {

crypto::SigningKey key_of(std::uint8_t b) {
  crypto::SigningSeed seed;
  seed.mutable_view()[0] = b;
  return crypto::SigningKey::from_seed(seed);
}

RC_GTEST_PROP(MutableParsersFuzz, ArbitraryBytesAreNeverAValidShare, ()) {
  const auto keys = crypto::derive_mutable_keys(key_of(1));
  const auto bytes =
      *rc::gen::container<std::vector<std::uint8_t>>(rc::gen::arbitrary<std::uint8_t>());
  const auto shnum = *rc::gen::inRange<std::uint32_t>(0, 4);
  RC_ASSERT(!check_mutable_prefix(keys.storage_index, keys.fingerprint, shnum, bytes).ok());
  RC_ASSERT(!check_mutable_share(keys.storage_index, keys.fingerprint, shnum, bytes).ok());
}

// A valid share with random bytes changed anywhere is refused (every byte of a share is covered
// by the signature, a tree, or must be zero) — except the wrapped signing seed, which only a
// writer opens and checks.
RC_GTEST_PROP(MutableParsersFuzz, MutatedSharesAreRefused, ()) {
  const auto key = key_of(2);
  const auto keys = crypto::derive_mutable_keys(key);
  sim::SimRandom random(*rc::gen::arbitrary<std::uint64_t>());
  const auto size = *rc::gen::inRange<std::size_t>(0, 3000);
  Bytes plain(size, 7);
  const MutableParams p{*rc::gen::inRange<std::uint32_t>(1, 4), 4,
                        *rc::gen::inRange<std::uint64_t>(50, 700), size};
  auto shares = encode_mutable(key, 3, p, plain, random);
  RC_ASSERT(shares.ok());
  const auto shnum = *rc::gen::inRange<std::uint32_t>(0, 4);
  Bytes share = (*shares)[shnum];
  const auto at = *rc::gen::inRange<std::size_t>(0, share.size());
  const auto flip = *rc::gen::inRange<int>(1, 256);
  share[at] = static_cast<std::uint8_t>(share[at] ^ flip);
  const bool in_seed = at >= 176 && at < 208;
  RC_ASSERT(check_mutable_share(keys.storage_index, keys.fingerprint, shnum, share).ok() ==
            in_seed);
}

RC_GTEST_PROP(MutableParsersFuzz, DirectoryPagesAndTablesRefuseGarbage, ()) {
  const auto bytes =
      *rc::gen::container<std::vector<std::uint8_t>>(rc::gen::arbitrary<std::uint8_t>());
  Bytes page = bytes;
  page.resize(kDirPageBytes, 0);
  const auto id = *rc::gen::inRange<std::uint32_t>(0, 3);
  auto node = parse_dir_page(id, page);  // may parse (zeros are an empty leaf off page 0)
  if (node.ok()) {
    auto again = encode_dir_page(id, *node);
    RC_ASSERT(again.ok());
    RC_ASSERT(parse_dir_page(id, *again).ok());
  }
  auto table = DirectoryTable::parse(bytes, std::nullopt);  // protobuf: may be an empty table
  if (table.ok()) {
    for (const auto& [name, e] : table->entries()) RC_ASSERT(normalize_entry_name(name).ok());
  }
  RC_ASSERT(!DirectoryTable::parse_pages(bytes, std::nullopt).ok() ||
            bytes.size() % kDirPageBytes == 0);
}

RC_GTEST_PROP(MutableParsersFuzz, EntryNamesAreCanonicalOrRefused, ()) {
  const auto raw = *rc::gen::container<std::string>(rc::gen::arbitrary<char>());
  auto n = normalize_entry_name(raw);
  if (n.ok()) {
    RC_ASSERT(!n->empty());
    RC_ASSERT(n->size() <= kEntryNameBytesMax);
    RC_ASSERT(n->find('/') == std::string::npos);
    RC_ASSERT(n->find('\0') == std::string::npos);
    auto again = normalize_entry_name(*n);
    RC_ASSERT(again.ok() && *again == *n);  // NFC is idempotent
  } else {
    RC_ASSERT(n.status().code() == ErrorCode::kInvalidArgument);
  }
}

}  // namespace
}  // namespace lafs::client
