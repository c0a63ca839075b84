#include "core/net/handshake.h"

#include <cstring>

namespace lafs::net {

namespace {

constexpr std::uint8_t kMagic[4] = {'L', 'A', 'F', 'S'};
constexpr std::string_view kResponderTag = "lafs/handshake/v1/responder";
constexpr std::string_view kInitiatorTag = "lafs/handshake/v1/initiator";
constexpr std::string_view kSessionTag = "lafs/handshake/v1/session";
constexpr std::string_view kC2sTag = "lafs/handshake/v1/c2s";
constexpr std::string_view kS2cTag = "lafs/handshake/v1/s2c";

using Hash = std::array<std::uint8_t, 32>;

// H(tag | parts... [| grid secret]): BLAKE2b-256 with the tag length-prefixed, so tags cannot run
// into data. The grid secret, when the grid has one, comes last in every transcript hash.
Hash transcript_hash(std::string_view tag, std::initializer_list<ByteView> parts,
                     const GridSecret* grid_secret) {
  crypto_generichash_state st;
  crypto_generichash_init(&st, nullptr, 0, 32);
  const std::uint8_t len = static_cast<std::uint8_t>(tag.size());
  crypto_generichash_update(&st, &len, 1);
  crypto_generichash_update(&st, reinterpret_cast<const std::uint8_t*>(tag.data()), tag.size());
  for (ByteView p : parts) crypto_generichash_update(&st, p.data(), p.size());
  if (grid_secret != nullptr) {
    crypto_generichash_update(&st, grid_secret->data(), grid_secret->size());
  }
  Hash out{};
  crypto_generichash_final(&st, out.data(), out.size());
  return out;
}

// Binds a crypto_kx session key to the transcript and the direction.
SessionKey bind_key(const std::uint8_t* kx_key, std::string_view direction, const Hash& th) {
  SessionKey k{};
  crypto_generichash_state st;
  crypto_generichash_init(&st, kx_key, 32, k.size());
  crypto_generichash_update(&st, reinterpret_cast<const std::uint8_t*>(direction.data()),
                            direction.size());
  crypto_generichash_update(&st, th.data(), th.size());
  crypto_generichash_final(&st, k.data(), k.size());
  return k;
}

SessionCiphers make_ciphers(const std::uint8_t* kx_rx, const std::uint8_t* kx_tx, bool initiator,
                            const Hash& th) {
  SessionKey tx = bind_key(kx_tx, initiator ? kC2sTag : kS2cTag, th);
  SessionKey rx = bind_key(kx_rx, initiator ? kS2cTag : kC2sTag, th);
  SessionCiphers c{FrameCipher(tx), FrameCipher(rx)};
  sodium_memzero(tx.data(), tx.size());
  sodium_memzero(rx.data(), rx.size());
  return c;
}

ByteView view(const auto& a) {
  return ByteView(a.data(), a.size());
}

}  // namespace

namespace {

// See chacha20_cipher() in core/crypto/cipher.cc: a fetched, immutable handle, not node state.
const EVP_CIPHER* chacha20_poly1305() {
  static EVP_CIPHER* const cipher = EVP_CIPHER_fetch(nullptr, "ChaCha20-Poly1305", nullptr);
  LAFS_ASSERT_MSG(cipher != nullptr, "libcrypto has no ChaCha20-Poly1305");
  return cipher;
}

void check(int rc) {
  LAFS_ASSERT_MSG(rc == 1, "libcrypto AEAD call failed");
}

Status frame_failed_authentication(std::uint64_t counter) {
  return corruption("frame " + std::to_string(counter) +
                    " failed authentication (altered, replayed, reordered or one was dropped)");
}

}  // namespace

FrameCipher::FrameCipher(const SessionKey& key) : key_(key), ctx_(EVP_CIPHER_CTX_new()) {
  LAFS_ASSERT(ctx_ != nullptr);
}

// The key schedule is set up by the first frame and kept: later frames give only the nonce (a
// NULL cipher and key keep the context's), which resets the AEAD state. Re-keying every frame
// cost about a tenth of a simulated grid's time (provider context freed and made again).
void FrameCipher::init(bool encrypt, const std::uint8_t* nonce) {
  const EVP_CIPHER* cipher = keyed_ ? nullptr : chacha20_poly1305();
  const std::uint8_t* key = keyed_ ? nullptr : key_.data();
  check(encrypt ? EVP_EncryptInit_ex2(ctx_, cipher, key, nonce, nullptr)
                : EVP_DecryptInit_ex2(ctx_, cipher, key, nonce, nullptr));
  keyed_ = true;
}

FrameCipher::~FrameCipher() {
  sodium_memzero(key_.data(), key_.size());
  EVP_CIPHER_CTX_free(ctx_);  // clears the key copy it holds
}

// Frames are far below 2^31 bytes (the transport's limit is 16 MiB), so int lengths are safe.
// Frames up to kSmallFrameBytes go through libsodium, whose ChaCha20-Poly1305 (the same RFC 8439
// construction, byte for byte: Handshake.BothAeadPathsAgree) has no per-call set-up: below about
// 1 KiB it is ~2x faster than libcrypto's, above it libcrypto's wide SIMD wins (~2.5x at 64 KiB).
Bytes FrameCipher::seal(ByteView plaintext) {
  LAFS_ASSERT_MSG(ctx_ != nullptr, "use of a moved-from FrameCipher");
  LAFS_ASSERT(counter_ < UINT64_MAX);
  LAFS_ASSERT(plaintext.size() < (std::size_t{1} << 31));
  std::array<std::uint8_t, crypto_aead_chacha20poly1305_ietf_NPUBBYTES> nonce{};
  std::memcpy(nonce.data() + 4, &counter_, 8);
  ++counter_;
  Bytes out(plaintext.size() + kFrameTagBytes);
  if (plaintext.size() <= kSmallFrameBytes) {
    LAFS_ASSERT_MSG(crypto_aead_chacha20poly1305_ietf_encrypt_detached(
                        out.data(), out.data() + plaintext.size(), nullptr, plaintext.data(),
                        plaintext.size(), nullptr, 0, nullptr, nonce.data(), key_.data()) == 0,
                    "libsodium AEAD seal failed");
    return out;
  }
  init(/*encrypt=*/true, nonce.data());
  int len = 0;
  if (!plaintext.empty()) {
    check(EVP_EncryptUpdate(ctx_, out.data(), &len, plaintext.data(),
                            static_cast<int>(plaintext.size())));
    LAFS_ASSERT(static_cast<std::size_t>(len) == plaintext.size());
  }
  int tail = 0;
  check(EVP_EncryptFinal_ex(ctx_, out.data() + len, &tail));
  LAFS_ASSERT(tail == 0);
  check(EVP_CIPHER_CTX_ctrl(ctx_, EVP_CTRL_AEAD_GET_TAG, static_cast<int>(kFrameTagBytes),
                            out.data() + plaintext.size()));
  return out;
}

Result<Bytes> FrameCipher::open(ByteView sealed) {
  LAFS_ASSERT_MSG(ctx_ != nullptr, "use of a moved-from FrameCipher");
  if (sealed.size() < kFrameTagBytes) return corruption("sealed frame shorter than its tag");
  LAFS_ASSERT(sealed.size() < (std::size_t{1} << 31));
  std::array<std::uint8_t, crypto_aead_chacha20poly1305_ietf_NPUBBYTES> nonce{};
  std::memcpy(nonce.data() + 4, &counter_, 8);
  const std::size_t n = sealed.size() - kFrameTagBytes;
  Bytes out(n);
  if (n <= kSmallFrameBytes) {
    if (crypto_aead_chacha20poly1305_ietf_decrypt_detached(out.data(), nullptr, sealed.data(), n,
                                                           sealed.data() + n, nullptr, 0,
                                                           nonce.data(), key_.data()) != 0) {
      return frame_failed_authentication(counter_);
    }
    ++counter_;
    return out;
  }
  init(/*encrypt=*/false, nonce.data());
  check(EVP_CIPHER_CTX_ctrl(ctx_, EVP_CTRL_AEAD_SET_TAG, static_cast<int>(kFrameTagBytes),
                            const_cast<std::uint8_t*>(sealed.data() + n)));
  int len = 0;
  if (n > 0) {
    check(EVP_DecryptUpdate(ctx_, out.data(), &len, sealed.data(), static_cast<int>(n)));
    LAFS_ASSERT(static_cast<std::size_t>(len) == n);
  }
  int tail = 0;
  if (EVP_DecryptFinal_ex(ctx_, out.data() + len, &tail) != 1) {
    return frame_failed_authentication(counter_);
  }
  ++counter_;
  return out;
}

InitiatorHandshake::InitiatorHandshake(const NodeKey& key, const PublicKey& expected,
                                       std::span<const std::uint8_t, 32> seed,
                                       const GridSecret* grid_secret)
    : key_(key), expected_(expected), grid_secret_(grid_secret) {
  crypto_kx_seed_keypair(eph_pk_.data(), eph_sk_.data(), seed.data());
}

InitiatorHandshake::~InitiatorHandshake() {
  sodium_memzero(eph_sk_.data(), eph_sk_.size());
}

Bytes InitiatorHandshake::message1() const {
  Bytes m(std::begin(kMagic), std::end(kMagic));
  m.push_back(kHandshakeVersion);
  m.insert(m.end(), eph_pk_.begin(), eph_pk_.end());
  LAFS_ASSERT(m.size() == kMessage1Bytes);
  return m;
}

Result<Bytes> InitiatorHandshake::on_message2(ByteView m2) {
  if (m2.size() != kMessage2Bytes) {
    return protocol_error("handshake message 2 has " + std::to_string(m2.size()) + " bytes, want " +
                          std::to_string(kMessage2Bytes));
  }
  if (m2[0] != kHandshakeVersion) {
    return protocol_error("peer speaks handshake version " + std::to_string(m2[0]) +
                          "; this node speaks " + std::to_string(kHandshakeVersion));
  }
  ByteView eph_r = m2.subspan(1, 32);
  PublicKey pk_r{};
  std::memcpy(pk_r.data(), m2.data() + 33, 32);
  Signature sig_r{};
  std::memcpy(sig_r.data(), m2.data() + 65, 64);
  if (sodium_memcmp(pk_r.data(), expected_.data(), 32) != 0) {
    return permission_denied("peer proved key " + to_hex(view(pk_r)) + ", expected " +
                             to_hex(view(expected_)));
  }
  const Bytes m1 = message1();
  Hash t2 = transcript_hash(kResponderTag, {m1, eph_r, view(pk_r)}, grid_secret_);
  if (!verify_signature(pk_r, view(t2), sig_r)) {
    return permission_denied(
        "peer's handshake signature does not verify: it holds another grid secret (or none), "
        "or it is not a well-behaved lafs node");
  }
  std::array<std::uint8_t, 32> rx{}, tx{};
  if (crypto_kx_client_session_keys(rx.data(), tx.data(), eph_pk_.data(), eph_sk_.data(),
                                    eph_r.data()) != 0) {
    return protocol_error("peer's ephemeral key is unacceptable");
  }
  ciphers_.emplace(make_ciphers(rx.data(), tx.data(), /*initiator=*/true,
                                transcript_hash(kSessionTag, {m1, m2}, grid_secret_)));
  sodium_memzero(rx.data(), rx.size());
  sodium_memzero(tx.data(), tx.size());
  const PublicKey& pk_i = key_.public_key();
  Hash t3 = transcript_hash(kInitiatorTag, {m1, m2, view(pk_i)}, grid_secret_);
  Signature sig_i = key_.sign(view(t3));
  Bytes body(pk_i.begin(), pk_i.end());
  body.insert(body.end(), sig_i.begin(), sig_i.end());
  return ciphers_->send.seal(body);
}

SessionCiphers InitiatorHandshake::take_ciphers() {
  LAFS_ASSERT(ciphers_.has_value());
  SessionCiphers c = std::move(*ciphers_);
  ciphers_.reset();
  return c;
}

ResponderHandshake::ResponderHandshake(const NodeKey& key, std::span<const std::uint8_t, 32> seed,
                                       const GridSecret* grid_secret)
    : key_(key), grid_secret_(grid_secret) {
  crypto_kx_seed_keypair(eph_pk_.data(), eph_sk_.data(), seed.data());
}

ResponderHandshake::~ResponderHandshake() {
  sodium_memzero(eph_sk_.data(), eph_sk_.size());
}

Result<Bytes> ResponderHandshake::on_message1(ByteView m1) {
  if (m1.size() != kMessage1Bytes || std::memcmp(m1.data(), kMagic, 4) != 0) {
    return protocol_error("not a lafs handshake (bad length or magic)");
  }
  if (m1[4] != kHandshakeVersion) {
    return protocol_error("peer speaks handshake version " + std::to_string(m1[4]) +
                          "; this node speaks " + std::to_string(kHandshakeVersion));
  }
  ByteView eph_i = m1.subspan(5, 32);
  std::array<std::uint8_t, 32> rx{}, tx{};
  if (crypto_kx_server_session_keys(rx.data(), tx.data(), eph_pk_.data(), eph_sk_.data(),
                                    eph_i.data()) != 0) {
    return protocol_error("peer's ephemeral key is unacceptable");
  }
  const PublicKey& pk_r = key_.public_key();
  Hash t2 = transcript_hash(kResponderTag, {m1, view(eph_pk_), view(pk_r)}, grid_secret_);
  Signature sig = key_.sign(view(t2));
  Bytes m2;
  m2.push_back(kHandshakeVersion);
  m2.insert(m2.end(), eph_pk_.begin(), eph_pk_.end());
  m2.insert(m2.end(), pk_r.begin(), pk_r.end());
  m2.insert(m2.end(), sig.begin(), sig.end());
  LAFS_ASSERT(m2.size() == kMessage2Bytes);
  m1_.assign(m1.begin(), m1.end());
  m2_ = m2;
  ciphers_.emplace(make_ciphers(rx.data(), tx.data(), /*initiator=*/false,
                                transcript_hash(kSessionTag, {m1_, m2_}, grid_secret_)));
  sodium_memzero(rx.data(), rx.size());
  sodium_memzero(tx.data(), tx.size());
  return m2;
}

Result<PublicKey> ResponderHandshake::on_message3(ByteView m3) {
  LAFS_ASSERT(ciphers_.has_value());
  if (m3.size() != kMessage3Bytes) {
    return protocol_error("handshake message 3 has " + std::to_string(m3.size()) + " bytes, want " +
                          std::to_string(kMessage3Bytes));
  }
  auto body = ciphers_->receive.open(m3);
  if (!body.ok()) {
    return permission_denied(
        "handshake message 3 does not open: the peer holds another grid secret (or none), or "
        "it was altered");
  }
  PublicKey pk_i{};
  std::memcpy(pk_i.data(), body->data(), 32);
  Signature sig{};
  std::memcpy(sig.data(), body->data() + 32, 64);
  Hash t3 = transcript_hash(kInitiatorTag, {m1_, m2_, view(pk_i)}, grid_secret_);
  if (!verify_signature(pk_i, view(t3), sig)) {
    return permission_denied("peer's handshake signature is invalid");
  }
  return pk_i;
}

SessionCiphers ResponderHandshake::take_ciphers() {
  LAFS_ASSERT(ciphers_.has_value());
  SessionCiphers c = std::move(*ciphers_);
  ciphers_.reset();
  return c;
}

}  // namespace lafs::net
