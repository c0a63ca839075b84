// Signed announcements: what a storage server tells the grid about itself (its Ed25519 node
// key, nickname, addresses, space, version, sequence number). The signature covers the exact
// serialized bytes, under the announcement signature context (HashTag::kAnnouncementSignature),
// so a signature made for anything else can never pass as an announcement. Verification never
// trusts whoever handed the bytes over (introducer, cache file, network).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/env/bytes.h"
#include "core/net/node_key.h"
#include "core/runtime/status.h"
#include "core/runtime/time.h"

namespace lafs::introducer {

namespace pb {
class SignedAnnouncement;
}

struct Announcement {
  std::uint32_t version = 1;
  net::PublicKey node_key{};
  std::string nickname;
  std::vector<std::string> addresses;
  std::uint32_t protocol_version = 1;
  std::uint64_t available_bytes = 0;
  bool read_only = false;
  std::uint64_t sequence_number = 0;
  WallTime issued{};

  std::string key_hex() const { return net::to_hex(node_key); }
  friend bool operator==(const Announcement&, const Announcement&) = default;
};

// An announcement as it travels: the serialized Announcement and its signature. Kept as bytes so
// that it can be forwarded and cached without re-serializing.
struct SignedAnnouncement {
  Bytes body;       // serialized pb::Announcement
  Bytes signature;  // 64 bytes when well formed
};

// Checks every field against its named maximum (limits.h); InvalidArgument names the field.
Status check_limits(const Announcement& a);

// Serializes deterministically and signs with `key`. The announcement's node_key must be `key`'s
// public key and it must pass check_limits; otherwise InvalidArgument.
Result<SignedAnnouncement> sign_announcement(const net::NodeKey& key, const Announcement& a);

// Parses and verifies. Errors: InvalidArgument (does not parse, oversize, bad field),
// ProtocolError (a newer announcement version than this code speaks), Corruption (missing or bad
// signature), PermissionDenied (the node key is not `expected_key`, when given).
Result<Announcement> verify_announcement(const SignedAnnouncement& signed_ann,
                                         std::optional<net::PublicKey> expected_key = std::nullopt);

// Wire conversions. from_proto checks only sizes; verify_announcement does the rest.
void to_proto(const SignedAnnouncement& s, pb::SignedAnnouncement* out);
SignedAnnouncement from_proto(const pb::SignedAnnouncement& p);

// A SignedAnnouncement serialized as one pb::SignedAnnouncement, and back (sizes checked).
Bytes encode_signed(const SignedAnnouncement& s);
Result<SignedAnnouncement> decode_signed(ByteView bytes);

}  // namespace lafs::introducer
