// The secure-transport handshake and frame protection, without I/O (secure_channel.h does the
// I/O). Spec and test vectors: docs/specs/handshake.md.
//
//   M1  I -> R  "LAFS" | version=1 | eI                       (37 bytes, clear)
//   M2  R -> I  version=1 | eR | PK_R | sig_R(T2)              (129 bytes, clear)
//   M3  I -> R  seal_c2s(PK_I | sig_I(T3))                     (96 + 16 bytes, first sealed frame)
//
// eI, eR are fresh X25519 keys (crypto_kx, from seeds the Env's Random supplies); T2 =
// H("lafs/handshake/v1/responder" | M1 | eR | PK_R); T3 = H("lafs/handshake/v1/initiator" | M1 |
// M2 | PK_I). Session keys: crypto_kx session keys from (eI, eR), each then bound to
// H("lafs/handshake/v1/session" | M1 | M2) and its direction.
// The initiator refuses an M2 whose PK_R is not the key it expected. M3 travels sealed, so only
// the party that made eI can claim an identity in it (no identity misbinding). Frames are
// ChaCha20-Poly1305-IETF with a per-direction counter as nonce: a replayed, reordered, dropped or
// altered frame fails to open, and the connection is then closed.
#pragma once

#include <openssl/evp.h>
#include <sodium.h>

#include <array>
#include <cstdint>
#include <optional>

#include "core/env/bytes.h"
#include "core/net/node_key.h"
#include "core/runtime/status.h"

namespace lafs::net {

inline constexpr std::uint8_t kHandshakeVersion = 1;
inline constexpr std::size_t kMessage1Bytes = 4 + 1 + 32;
inline constexpr std::size_t kMessage2Bytes = 1 + 32 + 32 + 64;
inline constexpr std::size_t kFrameTagBytes = crypto_aead_chacha20poly1305_ietf_ABYTES;
inline constexpr std::size_t kMessage3Bytes = 32 + 64 + kFrameTagBytes;

using SessionKey = std::array<std::uint8_t, 32>;

// A grid's shared secret: when the nodes of a grid are configured with one, it is mixed into
// every transcript hash and session key (docs/specs/handshake.md, "Grid secret"), so a peer
// without it can neither prove anything to a node of the grid nor read what the node sends.
using GridSecret = std::array<std::uint8_t, 32>;

// Seals and opens the frames of one direction. Counter-based nonces: frames must be opened in
// the order they were sealed, each once.
// Frames above kSmallFrameBytes run on libcrypto, ~2.5x libsodium's ChaCha20-Poly1305 on bulk
// (bench/transport_bench.cc); smaller ones on libsodium, which has no per-call set-up. Both
// are the same RFC 8439 construction (Handshake.KnownAnswer, Handshake.BothAeadPathsAgree).
class FrameCipher {
 public:
  static constexpr std::size_t kSmallFrameBytes = 1024;  // and below: sealed by libsodium

  explicit FrameCipher(const SessionKey& key);
  FrameCipher(const FrameCipher&) = delete;
  FrameCipher& operator=(const FrameCipher&) = delete;
  FrameCipher(FrameCipher&& other) noexcept
      : key_(other.key_), counter_(other.counter_), keyed_(other.keyed_), ctx_(other.ctx_) {
    other.ctx_ = nullptr;
  }
  ~FrameCipher();

  Bytes seal(ByteView plaintext);
  // Corruption when the frame was altered, replayed, reordered or another was dropped.
  Result<Bytes> open(ByteView sealed);
  std::uint64_t counter() const { return counter_; }

 private:
  void init(bool encrypt, const std::uint8_t* nonce);

  SessionKey key_;
  std::uint64_t counter_ = 0;
  bool keyed_ = false;   // ctx_ holds the cipher and key; each frame sets only its nonce
  EVP_CIPHER_CTX* ctx_;  // owned
};

struct SessionCiphers {
  FrameCipher send;
  FrameCipher receive;
};

class InitiatorHandshake {
 public:
  // `ephemeral_seed` must be fresh randomness for every handshake.
  // `grid_secret`, when given, must outlive the handshake.
  InitiatorHandshake(const NodeKey& key, const PublicKey& expected_responder,
                     std::span<const std::uint8_t, 32> ephemeral_seed,
                     const GridSecret* grid_secret = nullptr);
  ~InitiatorHandshake();
  Bytes message1() const;
  // Checks M2 (version, the expected key, the signature — which fails when the responder holds
  // another grid secret, or none where we have one); returns sealed M3. After success,
  // take_ciphers() yields the session (the M3 frame already used counter 0 of `send`).
  Result<Bytes> on_message2(ByteView m2);
  SessionCiphers take_ciphers();

 private:
  const NodeKey& key_;
  PublicKey expected_;
  const GridSecret* grid_secret_;
  std::array<std::uint8_t, 32> eph_pk_{}, eph_sk_{};
  std::optional<SessionCiphers> ciphers_;
};

class ResponderHandshake {
 public:
  ResponderHandshake(const NodeKey& key, std::span<const std::uint8_t, 32> ephemeral_seed,
                     const GridSecret* grid_secret = nullptr);
  ~ResponderHandshake();
  // Checks M1; returns M2.
  Result<Bytes> on_message1(ByteView m1);
  // Opens and checks M3; returns the initiator's proven public key.
  Result<PublicKey> on_message3(ByteView m3);
  SessionCiphers take_ciphers();

 private:
  const NodeKey& key_;
  const GridSecret* grid_secret_;
  std::array<std::uint8_t, 32> eph_pk_{}, eph_sk_{};
  Bytes m1_, m2_;
  std::optional<SessionCiphers> ciphers_;
};

}  // namespace lafs::net
