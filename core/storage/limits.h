// Names and bounds of the storage protocol (docs/specs/storage.md). Every bytes or repeated
// field a peer sends is checked against these after parsing.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/runtime/time.h"

namespace lafs::storage {

inline constexpr std::uint32_t kProtocolVersion = 1;
inline constexpr std::uint32_t kRecordVersion = 1;  // ShareRecord, LeaseRecord, CorruptionRecord
inline constexpr std::uint32_t kContainerVersion = 1;

inline constexpr std::size_t kStorageIndexBytes = 16;
inline constexpr std::size_t kLeaseSecretBytes = 32;
inline constexpr std::uint32_t kShareNumbersMax = 256;  // share numbers are 0..255
inline constexpr std::size_t kBatchMax = 1000;          // storage indexes per batched call
inline constexpr std::size_t kWriteBytesMax = 4 << 20;  // data of one storage.write
inline constexpr std::size_t kReadBytesMax = 4 << 20;   // data of one storage.read
inline constexpr std::size_t kReasonBytesMax = 1024;    // advise_corrupt reason
inline constexpr std::size_t kReporterBytesMax = 128;
inline constexpr std::size_t kCorruptionReportsMax = 16;  // kept per share; later ones counted
// Separate written ranges of one upload before writes are refused: honest uploads write in order
// and have one range; this bounds what a client can make the server track.
inline constexpr std::size_t kWrittenRangesMax = 1024;

inline constexpr std::uint64_t kDefaultMaxShareBytes = std::uint64_t{64} << 30;
inline constexpr Duration kDefaultLeaseDuration = hours(24 * 31);

// Test or write vectors per share in one slot request, and read vectors per slot read.
inline constexpr std::size_t kVectorsMax = 64;
// A mutable share is at most this (large writes rewrite it whole, copy-on-write).
inline constexpr std::uint64_t kMutableShareBytesMax = std::uint64_t{64} << 20;
// A slot write to existing shares whose data totals at most this is applied in place through
// a journal (the write itself, in one synced KV record); larger ones rewrite whole shares.
inline constexpr std::uint64_t kInPlaceWriteBytesMax = std::uint64_t{1} << 20;

// Bytes before a share's data in its container file.
inline constexpr std::size_t kContainerHeaderBytes = 32;

inline constexpr std::string_view kMethodVersion = "storage.version";
inline constexpr std::string_view kMethodAllocate = "storage.allocate";
inline constexpr std::string_view kMethodWrite = "storage.write";
inline constexpr std::string_view kMethodPut = "storage.put";
inline constexpr std::string_view kMethodClose = "storage.close";
inline constexpr std::string_view kMethodAbort = "storage.abort";
inline constexpr std::string_view kMethodGetBuckets = "storage.get_buckets";
inline constexpr std::string_view kMethodRead = "storage.read";
inline constexpr std::string_view kMethodAddLease = "storage.add_lease";
inline constexpr std::string_view kMethodCancelLease = "storage.cancel_lease";
inline constexpr std::string_view kMethodAdviseCorrupt = "storage.advise_corrupt";
inline constexpr std::string_view kMethodSlotRead = "storage.slot_read";
inline constexpr std::string_view kMethodSlotWrite = "storage.slot_write";

}  // namespace lafs::storage
