// Announcement encoding, limits, signing and verification (docs/specs/introducer.md).
#include "core/introducer/announcement.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>

#include <algorithm>

#include "core/crypto/hash.h"
#include "core/crypto/sign.h"
#include "core/introducer/limits.h"
#include "core/proto/introducer.pb.h"

namespace lafs::introducer {
namespace {

std::string deterministic_bytes(const google::protobuf::MessageLite& m) {
  std::string out;
  {
    google::protobuf::io::StringOutputStream raw(&out);
    google::protobuf::io::CodedOutputStream coded(&raw);
    coded.SetSerializationDeterministic(true);
    m.SerializeWithCachedSizes(&coded);
  }
  return out;
}

Status too_long(std::string_view field, std::size_t got, std::size_t max) {
  return invalid_argument("announcement " + std::string(field) + " has " + std::to_string(got) +
                          " bytes; at most " + std::to_string(max));
}

}  // namespace

Status check_limits(const Announcement& a) {
  if (a.nickname.size() > kNicknameBytesMax) {
    return too_long("nickname", a.nickname.size(), kNicknameBytesMax);
  }
  if (a.addresses.size() > kAddressesMax) {
    return invalid_argument("announcement has " + std::to_string(a.addresses.size()) +
                            " addresses; at most " + std::to_string(kAddressesMax));
  }
  for (const std::string& addr : a.addresses) {
    if (addr.empty()) return invalid_argument("announcement has an empty address");
    if (addr.size() > kAddressBytesMax) return too_long("address", addr.size(), kAddressBytesMax);
  }
  if (a.version == 0) return invalid_argument("announcement version 0 is not valid");
  return Status{};
}

Result<SignedAnnouncement> sign_announcement(const net::NodeKey& key, const Announcement& a) {
  LAFS_RETURN_IF_ERROR(check_limits(a));
  if (a.node_key != key.public_key()) {
    return invalid_argument("announcement names key " + a.key_hex() + " but is signed by " +
                            net::to_hex(key.public_key()));
  }
  pb::Announcement m;
  m.set_version(a.version);
  m.set_node_key(std::string(a.node_key.begin(), a.node_key.end()));
  m.set_nickname(a.nickname);
  for (const std::string& addr : a.addresses) m.add_addresses(addr);
  m.set_protocol_version(a.protocol_version);
  m.set_available_bytes(a.available_bytes);
  m.set_read_only(a.read_only);
  m.set_sequence_number(a.sequence_number);
  m.set_issued_unix_ns(a.issued.time_since_epoch().count());
  m.ByteSizeLong();  // caches sizes for SerializeWithCachedSizes
  const std::string body = deterministic_bytes(m);
  if (body.size() > kAnnouncementBytesMax) {
    return too_long("serialized form", body.size(), kAnnouncementBytesMax);
  }
  SignedAnnouncement out;
  out.body = to_bytes(body);
  const auto block = crypto::tag_block(crypto::HashTag::kAnnouncementSignature);
  Bytes message(block.begin(), block.end());
  message.insert(message.end(), out.body.begin(), out.body.end());
  const net::Signature sig = key.sign(message);
  out.signature.assign(sig.begin(), sig.end());
  LAFS_ASSERT(out.signature.size() == kSignatureBytes);
  return out;
}

Result<Announcement> verify_announcement(const SignedAnnouncement& s,
                                         std::optional<net::PublicKey> expected_key) {
  if (s.body.size() > kAnnouncementBytesMax) {
    return too_long("serialized form", s.body.size(), kAnnouncementBytesMax);
  }
  if (s.signature.empty()) return corruption("announcement is not signed");
  if (s.signature.size() != kSignatureBytes) {
    return corruption("announcement signature has " + std::to_string(s.signature.size()) +
                      " bytes, want " + std::to_string(kSignatureBytes));
  }
  pb::Announcement m;
  if (!m.ParseFromArray(s.body.data(), static_cast<int>(s.body.size()))) {
    return invalid_argument("announcement does not parse");
  }
  if (m.version() > kAnnouncementVersion) {
    return protocol_error("announcement version " + std::to_string(m.version()) +
                          " is newer than this node speaks (" +
                          std::to_string(kAnnouncementVersion) + ")");
  }
  if (m.node_key().size() != kNodeKeyBytes) {
    return invalid_argument("announcement node key has " + std::to_string(m.node_key().size()) +
                            " bytes, want " + std::to_string(kNodeKeyBytes));
  }
  Announcement a;
  a.version = m.version();
  std::copy(m.node_key().begin(), m.node_key().end(), a.node_key.begin());
  a.nickname = m.nickname();
  a.addresses.assign(m.addresses().begin(), m.addresses().end());
  a.protocol_version = m.protocol_version();
  a.available_bytes = m.available_bytes();
  a.read_only = m.read_only();
  a.sequence_number = m.sequence_number();
  a.issued = WallTime(Duration(m.issued_unix_ns()));
  LAFS_RETURN_IF_ERROR(check_limits(a));
  if (expected_key.has_value() && *expected_key != a.node_key) {
    return permission_denied("announcement names key " + a.key_hex() + ", expected " +
                             net::to_hex(*expected_key));
  }
  crypto::Signature sig{};
  std::copy(s.signature.begin(), s.signature.end(), sig.begin());
  LAFS_RETURN_IF_ERROR(
      crypto::verify_signature(a.node_key, crypto::HashTag::kAnnouncementSignature, s.body, sig));
  return a;
}

void to_proto(const SignedAnnouncement& s, pb::SignedAnnouncement* out) {
  out->set_announcement(to_string(s.body));
  out->set_signature(to_string(s.signature));
}

SignedAnnouncement from_proto(const pb::SignedAnnouncement& p) {
  return SignedAnnouncement{to_bytes(p.announcement()), to_bytes(p.signature())};
}

Bytes encode_signed(const SignedAnnouncement& s) {
  pb::SignedAnnouncement p;
  to_proto(s, &p);
  return to_bytes(p.SerializeAsString());
}

Result<SignedAnnouncement> decode_signed(ByteView bytes) {
  if (bytes.size() > kSignedAnnouncementBytesMax) {
    return too_long("signed form", bytes.size(), kSignedAnnouncementBytesMax);
  }
  pb::SignedAnnouncement p;
  if (!p.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return invalid_argument("signed announcement does not parse");
  }
  return from_proto(p);
}

}  // namespace lafs::introducer
