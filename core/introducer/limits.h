// Names and bounds of the introducer protocol (docs/specs/introducer.md). Every field a peer
// sends is checked against these after parsing.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/runtime/time.h"

namespace lafs::introducer {

inline constexpr std::uint32_t kAnnouncementVersion = 1;
inline constexpr std::uint32_t kCacheVersion = 1;

inline constexpr std::size_t kNodeKeyBytes = 32;
inline constexpr std::size_t kSignatureBytes = 64;
inline constexpr std::size_t kNicknameBytesMax = 64;
inline constexpr std::size_t kAddressesMax = 16;
inline constexpr std::size_t kAddressBytesMax = 256;
// A serialized Announcement; comfortably above the largest one the limits above allow.
inline constexpr std::size_t kAnnouncementBytesMax = 8 * 1024;
// A serialized SignedAnnouncement.
inline constexpr std::size_t kSignedAnnouncementBytesMax = kAnnouncementBytesMax + 128;

// Node keys an introducer (and a subscriber) keeps announcements for.
inline constexpr std::size_t kAnnouncementsMax = 10'000;
// Announcements in one poll response: 256 * ~8 KiB stays well under the RPC payload limit.
inline constexpr std::size_t kPollBatchMax = 256;
// Poll pages one subscriber round may fetch (kAnnouncementsMax / kPollBatchMax, rounded up, + 1).
inline constexpr std::size_t kPollPagesMax = kAnnouncementsMax / kPollBatchMax + 2;
// The cache file: every kept announcement at its largest, plus framing.
inline constexpr std::uint64_t kCacheBytesMax =
    std::uint64_t{kAnnouncementsMax} * (kSignedAnnouncementBytesMax + 16) + 64;

inline constexpr std::string_view kMethodPublish = "introducer.publish";
inline constexpr std::string_view kMethodPoll = "introducer.poll";

}  // namespace lafs::introducer
