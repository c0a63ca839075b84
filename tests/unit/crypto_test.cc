// Unit tests of core/crypto: tagged hashes, the stream cipher, secrets, Ed25519 and the key
// derivation chains. The known-answer values are the ones in docs/specs/crypto.md; if one of
// these fails, a format changed: that needs a new tag or version, not a new expected value.
#include <gtest/gtest.h>
#include <sodium.h>

#include <cstring>
#include <new>
#include <set>
#include <string>
#include <vector>

#include "core/crypto/cipher.h"
#include "core/crypto/derive.h"
#include "core/crypto/hash.h"
#include "core/crypto/secret.h"
#include "core/crypto/sign.h"
#include "net/sim/sim_random.h"

namespace lafs::crypto {
namespace {

Bytes hex(std::string_view s) {
  Bytes b;
  EXPECT_TRUE(from_hex(s, &b)) << s;
  return b;
}

// 0x00, 0x01, ... : the fixed inputs of the known-answer tests.
template <std::size_t N>
std::array<std::uint8_t, N> counting(std::uint8_t start) {
  std::array<std::uint8_t, N> a;
  for (std::size_t i = 0; i < N; ++i) a[i] = static_cast<std::uint8_t>(start + i);
  return a;
}
template <std::size_t N>
SecretBytes<N> counting_secret(std::uint8_t start) {
  const auto a = counting<N>(start);
  return SecretBytes<N>(ByteView(a));
}

// SHA-256d(tag_block || m) computed with libsodium's independent SHA-256: the construction in
// the spec, checked against a second implementation.
Digest reference_tagged_hash(HashTag tag, ByteView m) {
  const auto block = tag_block(tag);
  crypto_hash_sha256_state st;
  crypto_hash_sha256_init(&st);
  crypto_hash_sha256_update(&st, block.data(), block.size());
  crypto_hash_sha256_update(&st, m.data(), m.size());
  Digest inner, outer;
  crypto_hash_sha256_final(&st, inner.data());
  crypto_hash_sha256(outer.data(), inner.data(), inner.size());
  return outer;
}

// ---- Tagged hashes ----

TEST(CryptoHash, TagNamesAreDistinctVersionedAndFitTheBlock) {
  std::set<std::string_view> names;
  for (std::size_t i = 0; i < kHashTagCount; ++i) {
    const auto name = hash_tag_name(static_cast<HashTag>(i));
    EXPECT_TRUE(name.starts_with("lafs-v1/")) << name;
    EXPECT_LE(name.size(), kMaxTagNameBytes) << name;
    EXPECT_TRUE(names.insert(name).second) << "duplicate " << name;
  }
}

TEST(CryptoHash, TagBlockIsLengthPrefixedAndZeroPadded) {
  const auto block = tag_block(HashTag::kBlockLeaf);
  const std::string_view name = "lafs-v1/block-leaf";
  EXPECT_EQ(block[0], name.size());
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(block.data() + 1), name.size()), name);
  for (std::size_t i = 1 + name.size(); i < block.size(); ++i) EXPECT_EQ(block[i], 0) << i;
}

// Every tag pinned: H_tag("lafs") (docs/specs/crypto.md, "Known answers: tags").
TEST(CryptoHash, KnownAnswersForEveryTag) {
  const char* kExpected[kHashTagCount] = {
      "b53f0e7101060c30015faaa70c813ff4f9b72ecfa6759b25037143bd436121f7",  // lafs-v1/immutable/convergent-key
      "9ba54e1e84081b5a98f9bf16ba3fdf4f3997488f71a43fc45e117f69e697cd16",  // lafs-v1/immutable/storage-index
      "f2722c0a736b32987654a845a4e542a0cc49085da405dceeb1141ad41f9f0fee",  // lafs-v1/immutable/ciphertext-segment
      "23e947e53bf4b781f9a6e52d63ddfa24c291759e168f0764aca6ab63cd4ab5e4",  // lafs-v1/immutable/ciphertext-tree-node
      "df144cebeaa2da1e427a673f96e3c34be80f732ba8fdec1ff467b2948a3e53ff",  // lafs-v1/block-leaf
      "8e5d3d5e94e9ae37e87847ccfb22ea4163d9cb960128ba55ce1bee7eb09cf60b",  // lafs-v1/block-tree-node
      "53a68df6fb73269cc3c2226ed1f66020d86b7d553fe63981b1f48d42009aff0f",  // lafs-v1/share-tree-node
      "d8171826d77d10b6147429552deec49f13dcff7cbfd58a9cf12b9cb5555d7c73",  // lafs-v1/immutable/extension-block
      "fa309fbcd102cf311c9710f62e0658b85d56de94afc6f511e2b7cf47dddeedf1",  // lafs-v1/mutable/write-key
      "a7aa0715aa96668323a1349fa9b0dc5ddf0a90be6724e5cf36dd8151d39c8002",  // lafs-v1/mutable/read-key
      "1a87b812e576484216ce4f8719bc151ea7912fe435586a3202453d5efa58ed92",  // lafs-v1/mutable/storage-index
      "9bf30a168cccc39ff02938fa9097d1b12c74d25c181c4c77b7f823129466ee2e",  // lafs-v1/mutable/verifying-key-fingerprint
      "28168115750f7b618d2c3c4aa06dff351273e4cedd90e2e8b7510d0221e03c8e",  // lafs-v1/mutable/write-enabler
      "b479c06e3e2bd7f561b7106b7b1b31861fe552ad52f3a539916e00a2e3db7dbf",  // lafs-v1/mutable/data-key
      "4bdacaf0ba8753e82cc03e2b9a8511c5ac633f26970cf6003d28cff8641050f7",  // lafs-v1/mutable/signing-key-wrap
      "1b223dc5caefbb5637a32e1e37a31b58067396698d3ff567eaaebbe5b84e6725",  // lafs-v1/mutable/header-signature
      "3b11474eadbbe9760724fac49847c4dfa02be11695a4b36e05e6c63153658c93",  // lafs-v1/mutable/block-leaf
      "b102898fcd133ed3b634606157c13a813f05d79444dc6186a1feb1f1e6d0132a",  // lafs-v1/directory/entry-key
      "b2ce9d3c8dcceade411b53cdb4acb38ff3c26a0122534c988bbeb2d27d2e9dd9",  // lafs-v1/lease/renew-file
      "f44f90f2af87e608dd1bce5903773173821f258a478d826835b2afb46911cd83",  // lafs-v1/lease/renew-server
      "f2215c2a23a6602efc740dd2875833a2ab0ce9be5a8e6bf7895e98d52c118adc",  // lafs-v1/lease/cancel-file
      "19eb3d71ce6d9dcb5d13082c7bbf5c3cbea310800c759ae64bcea274c0eb6d49",  // lafs-v1/lease/cancel-server
      "72c2be8dfaeba72a26ff043a44ce14dbc7b7a791370a10f8e3fbec9fece3c202",  // lafs-v1/placement/permuted-ring
      "f3a6ba21b3909d334772edc3392b2a093e2519a57d47d70f2c28b4fd79bd9da9",  // lafs-v1/net/handshake
      "de09198bc2a3b12f458bbc9dc26ae7c477d10ee7ade1f46894bc951c56dd0d88",  // lafs-v1/introducer/announcement-signature
      "7b28e82efb017941c91dd92e112a5243a59419ef69cd7571ae2fab84d82dcfd6",  // lafs-v1/hashtree/padding
  };
  for (std::size_t i = 0; i < kHashTagCount; ++i) {
    const auto tag = static_cast<HashTag>(i);
    const Digest d = tagged_hash(tag, as_bytes("lafs"));
    EXPECT_EQ(d, reference_tagged_hash(tag, as_bytes("lafs"))) << hash_tag_name(tag);
    EXPECT_EQ(to_hex(d), kExpected[i])
        << "| `" << hash_tag_name(tag) << "` | `" << to_hex(d) << "` |";
  }
}

TEST(CryptoHash, EmptyInputKnownAnswer) {
  const Digest d = tagged_hash(HashTag::kHashTreePadding, {});
  EXPECT_EQ(d, reference_tagged_hash(HashTag::kHashTreePadding, {}));
  EXPECT_EQ(to_hex(d), "f45e42a6bc5f56679b0fb66ccf08d019d73343f6b6985843ec9e15f481aefa13");
}

TEST(CryptoHash, StreamingEqualsOneShotAndFinishResets) {
  Bytes data(100000);
  for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<std::uint8_t>(i * 7);
  const Digest one = tagged_hash(HashTag::kBlockLeaf, data);
  Hasher h(HashTag::kBlockLeaf);
  h.update(ByteView(data).first(1))
      .update(ByteView(data).subspan(1, 65))
      .update(ByteView(data).subspan(66));
  EXPECT_EQ(h.finish(), one);
  // finish() leaves the hasher ready for the same tag.
  EXPECT_EQ(h.update(data).finish(), one);
  h.reset(HashTag::kCiphertextSegment);
  EXPECT_EQ(h.update(data).finish(), tagged_hash(HashTag::kCiphertextSegment, data));
  EXPECT_NE(tagged_hash(HashTag::kCiphertextSegment, data), one);
}

TEST(CryptoHash, FieldEncodingsAreBigEndianAndLengthPrefixed) {
  Hasher a(HashTag::kHandshake);
  a.update_u32(0x01020304).update_u64(0x05060708090a0b0cULL).update_field(as_bytes("xy"));
  const Bytes expected = hex("0102030405060708090a0b0c0000000000000002" + to_hex(as_bytes("xy")));
  EXPECT_EQ(a.finish(), tagged_hash(HashTag::kHandshake, expected));
}

TEST(CryptoHash, MovedHasherKeepsItsState) {
  Hasher a(HashTag::kBlockLeaf);
  a.update(as_bytes("ab"));
  Hasher b(std::move(a));
  b.update(as_bytes("c"));
  EXPECT_EQ(b.finish(), tagged_hash(HashTag::kBlockLeaf, as_bytes("abc")));
  Hasher c(HashTag::kExtensionBlock);
  c = std::move(b);
  EXPECT_EQ(c.tag(), HashTag::kBlockLeaf);
}

TEST(CryptoHash, TwoPartFormEqualsConcatenation) {
  EXPECT_EQ(tagged_hash2(HashTag::kBlockTreeNode, as_bytes("left"), as_bytes("right")),
            tagged_hash(HashTag::kBlockTreeNode, as_bytes("leftright")));
}

TEST(CryptoHash, HexRoundTripAndRejects) {
  Bytes b;
  EXPECT_TRUE(from_hex("00ff7A", &b));
  EXPECT_EQ(b, (Bytes{0x00, 0xff, 0x7a}));
  EXPECT_EQ(to_hex(b), "00ff7a");
  EXPECT_FALSE(from_hex("0", &b));
  EXPECT_FALSE(from_hex("zz", &b));
}

// ---- Stream cipher ----

// libsodium's crypto_stream_chacha20 is the same cipher (64-bit nonce, 64-bit counter): an
// independent implementation to check ours against at any offset.
Bytes reference_keystream(const StreamKey& key, const StreamNonce& nonce, std::uint64_t offset,
                          std::size_t n) {
  const std::uint64_t block = offset / 64;
  const std::size_t skip = offset % 64;
  if (skip + n == 0) return {};  // libsodium's pointers must not be null, as empty vectors' are
  Bytes zeros(skip + n, 0), out(skip + n);
  crypto_stream_chacha20_xor_ic(out.data(), zeros.data(), zeros.size(), nonce.data(), block,
                                key.data());
  return Bytes(out.begin() + static_cast<std::ptrdiff_t>(skip), out.end());
}

Bytes keystream(const StreamKey& key, const StreamNonce& nonce, std::uint64_t offset,
                std::size_t n) {
  Bytes b(n, 0);
  EXPECT_TRUE(xor_at(key, nonce, offset, b).is_ok());
  return b;
}

TEST(CryptoCipher, ZeroKeyZeroNonceKnownAnswer) {
  // Bernstein's ChaCha20 (20 rounds), all-zero key and nonce: the published first 64 bytes.
  const StreamKey key;
  const StreamNonce nonce{};
  EXPECT_EQ(to_hex(keystream(key, nonce, 0, 64)),
            "76b8e0ada0f13d90405d6ae55386bd28bdd219b8a08ded1aa836efcc8b770dc7"
            "da41597c5157488d7724e03fb8d84a376a43b8f41518a11cc387b669b2ee6586");
}

TEST(CryptoCipher, KnownAnswerAtOffset) {
  const StreamKey key = counting_secret<32>(0);
  const StreamNonce nonce = counting<8>(0x40);
  EXPECT_EQ(to_hex(keystream(key, nonce, 1000003, 32)),
            "79f79c0b0a3ac5f4c3a1bcc2f87923cb2b30569275f84b3409e94687c0980e71");
}

TEST(CryptoCipher, MatchesReferenceAtAwkwardOffsets) {
  const StreamKey key = counting_secret<32>(7);
  const StreamNonce nonce = counting<8>(9);
  const std::uint64_t wrap = (std::uint64_t{1} << 32) * 64;  // the low counter word wraps here
  for (std::uint64_t offset :
       {std::uint64_t{0}, std::uint64_t{1}, std::uint64_t{63}, std::uint64_t{64}, std::uint64_t{65},
        std::uint64_t{131072 * 5 + 17}, wrap - 64, wrap - 100, wrap - 1, wrap, wrap + 3,
        3 * wrap - 5, kMaxStreamBytes - 300}) {
    for (std::size_t n : {std::size_t{0}, std::size_t{1}, std::size_t{64}, std::size_t{200}}) {
      if (offset + n > kMaxStreamBytes) continue;
      EXPECT_EQ(keystream(key, nonce, offset, n), reference_keystream(key, nonce, offset, n))
          << "offset " << offset << " n " << n;
    }
  }
}

TEST(CryptoCipher, RoundTripsInPlaceAndOutOfPlace) {
  const StreamKey key = counting_secret<32>(1);
  const StreamNonce nonce{};
  const Bytes plain = to_bytes("attack at dawn, from offset 12345");
  Bytes ct(plain.size());
  StreamCipher cipher;
  ASSERT_TRUE(cipher.xor_at(key, nonce, 12345, plain, ct).is_ok());
  EXPECT_NE(ct, plain);
  Bytes back = ct;
  ASSERT_TRUE(cipher.xor_at(key, nonce, 12345, back).is_ok());
  EXPECT_EQ(back, plain);
}

TEST(CryptoCipher, DifferentKeysOrNoncesGiveDifferentStreams) {
  const StreamKey k1 = counting_secret<32>(1), k2 = counting_secret<32>(2);
  const StreamNonce n1{}, n2 = counting<8>(1);
  EXPECT_NE(keystream(k1, n1, 0, 64), keystream(k2, n1, 0, 64));
  EXPECT_NE(keystream(k1, n1, 0, 64), keystream(k1, n2, 0, 64));
}

TEST(CryptoCipher, EnforcesTheMaximumStreamLength) {
  const StreamKey key;
  const StreamNonce nonce{};
  Bytes b(10, 0xaa);
  EXPECT_TRUE(xor_at(key, nonce, kMaxStreamBytes - 10, b).is_ok());
  Bytes c(11, 0xaa);
  const Status s = xor_at(key, nonce, kMaxStreamBytes - 10, c);
  EXPECT_EQ(s.code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(s.message().find("maximum stream length"), std::string::npos) << s.to_string();
  EXPECT_EQ(c, Bytes(11, 0xaa));  // nothing written
  EXPECT_EQ(xor_at(key, nonce, UINT64_MAX, b).code(), ErrorCode::kInvalidArgument);
  Bytes empty;
  EXPECT_TRUE(xor_at(key, nonce, kMaxStreamBytes, empty).is_ok());
  EXPECT_EQ(kMaxFileBytes, std::uint64_t{1} << 60);
}

// ---- Secrets ----

TEST(CryptoSecret, ComparesByValue) {
  const auto a = counting_secret<32>(0), b = counting_secret<32>(0), c = counting_secret<32>(1);
  EXPECT_TRUE(a == b);
  EXPECT_FALSE(a == c);
  EXPECT_TRUE(SecretBytes<4>() == SecretBytes<4>());
}

TEST(CryptoSecret, FromBytesChecksTheLength) {
  const Bytes short_input(31, 1);
  auto r = SecretBytes<32>::from_bytes(short_input);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("32 bytes, got 31"), std::string::npos);
  EXPECT_TRUE(SecretBytes<31>::from_bytes(short_input).ok());
}

TEST(CryptoSecret, MoveWipesTheSource) {
  auto a = counting_secret<32>(1);
  const auto copy = a;
  SecretBytes<32> b(std::move(a));
  EXPECT_TRUE(b == copy);
  EXPECT_TRUE(a == SecretBytes<32>());  // NOLINT(bugprone-use-after-move): that is the test
  SecretBytes<32> c;
  c = std::move(b);
  EXPECT_TRUE(c == copy);
  EXPECT_TRUE(b == SecretBytes<32>());  // NOLINT(bugprone-use-after-move)
}

TEST(CryptoSecret, DestructorWipes) {
  alignas(SecretBytes<32>) unsigned char storage[sizeof(SecretBytes<32>)];
  auto* s = new (storage) SecretBytes<32>(counting_secret<32>(1));
  EXPECT_NE(storage[5], 0);
  s->~SecretBytes();
  for (unsigned char byte : storage) EXPECT_EQ(byte, 0);
}

TEST(CryptoSecret, RandomSecretDrawsFromTheEnvRandom) {
  sim::SimRandom r1(42), r2(42), r3(43);
  const auto a = random_secret<32>(r1), b = random_secret<32>(r2), c = random_secret<32>(r3);
  EXPECT_TRUE(a == b);  // replayable in the simulator
  EXPECT_FALSE(a == c);
  EXPECT_FALSE(a == SecretBytes<32>());
}

// ---- Ed25519 ----

// RFC 8032, section 7.1, TEST 1.
constexpr char kRfc8032Seed[] = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";
constexpr char kRfc8032Public[] =
    "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";

SigningKey rfc8032_key() {
  return SigningKey::from_seed(SigningSeed(hex(kRfc8032Seed)));
}

TEST(CryptoSign, KeyFromSeedMatchesRfc8032) {
  const SigningKey key = rfc8032_key();
  EXPECT_EQ(to_hex(key.verifying_key()), kRfc8032Public);
  EXPECT_TRUE(key.seed() == SigningSeed(hex(kRfc8032Seed)));
}

TEST(CryptoSign, GenerateIsDeterministicUnderASeededRandom) {
  sim::SimRandom r1(7), r2(7);
  EXPECT_EQ(SigningKey::generate(r1).verifying_key(), SigningKey::generate(r2).verifying_key());
}

TEST(CryptoSign, SignatureKnownAnswerAndVerify) {
  const SigningKey key = rfc8032_key();
  const Signature sig = key.sign(HashTag::kMutableHeaderSignature, as_bytes("header v1"));
  EXPECT_EQ(to_hex(sig),
            "cc2b1291f469e775a016db5190f654189d7cfc91ac7ef3dfc136acde32c5519295f4a89a8cf35794f419e4"
            "5483a46e35156d3a5d1a41abadd9b0ef591dc41e09");
  EXPECT_TRUE(verify_signature(key.verifying_key(), HashTag::kMutableHeaderSignature,
                               as_bytes("header v1"), sig)
                  .is_ok());
}

TEST(CryptoSign, RejectsWrongPurposeMessageKeyOrSignature) {
  const SigningKey key = rfc8032_key();
  const auto msg = as_bytes("announcement");
  const Signature sig = key.sign(HashTag::kAnnouncementSignature, msg);
  EXPECT_EQ(
      verify_signature(key.verifying_key(), HashTag::kMutableHeaderSignature, msg, sig).code(),
      ErrorCode::kCorruption);
  EXPECT_EQ(verify_signature(key.verifying_key(), HashTag::kAnnouncementSignature,
                             as_bytes("announcemenT"), sig)
                .code(),
            ErrorCode::kCorruption);
  sim::SimRandom r(1);
  EXPECT_FALSE(verify_signature(SigningKey::generate(r).verifying_key(),
                                HashTag::kAnnouncementSignature, msg, sig)
                   .is_ok());
  for (std::size_t bit = 0; bit < sig.size() * 8; bit += 37) {
    Signature bad = sig;
    bad[bit / 8] ^= static_cast<std::uint8_t>(1u << (bit % 8));
    EXPECT_FALSE(
        verify_signature(key.verifying_key(), HashTag::kAnnouncementSignature, msg, bad).is_ok())
        << bit;
  }
  // A plain Ed25519 signature over the bare message (no purpose) is not accepted either.
  Signature bare{};
  SecretBytes<64> sk;
  VerifyingKey pk;
  crypto_sign_seed_keypair(pk.data(), sk.mutable_view().data(), key.seed().data());
  crypto_sign_detached(bare.data(), nullptr, msg.data(), msg.size(), sk.data());
  EXPECT_FALSE(
      verify_signature(key.verifying_key(), HashTag::kAnnouncementSignature, msg, bare).is_ok());
}

// ---- Derivation chains (docs/specs/crypto.md, "Known answers: derivations") ----

const ConvergenceParams kParams{3, 10, 131072};

TEST(CryptoDerive, ImmutableKnownAnswers) {
  const ConvergenceSecret secret = counting_secret<32>(0);
  const FileKey key = convergent_key(secret, kParams, as_bytes("lafs known-answer plaintext"));
  EXPECT_EQ(to_hex(key.view()), "f8b339ca8024ea285ba9a3be00315e3296d4bf181fcb57d6af8800c12570f275");
  EXPECT_EQ(to_hex(immutable_storage_index(key)), "7a1c7dc06580de150b9c7fbcf3369a5d");
}

TEST(CryptoDerive, ConvergentKeyIsTheSpecifiedHash) {
  const ConvergenceSecret secret = counting_secret<32>(0);
  const auto plain = as_bytes("p");
  const Bytes encoded =
      hex(to_hex(secret.view()) + "00000003" + "0000000a" + "0000000000020000" + to_hex(plain));
  EXPECT_EQ(to_hex(convergent_key(secret, kParams, plain).view()),
            to_hex(tagged_hash(HashTag::kConvergentKey, encoded)));
  const Digest si = tagged_hash(HashTag::kImmutableStorageIndex, secret.view());
  EXPECT_EQ(to_hex(immutable_storage_index(FileKey(ByteView(secret.view())))),
            to_hex(ByteView(si).first(16)));
}

TEST(CryptoDerive, ConvergentKeyDependsOnEveryInput) {
  const ConvergenceSecret s1 = counting_secret<32>(0), s2 = counting_secret<32>(1);
  const auto p = as_bytes("same plaintext");
  const FileKey base = convergent_key(s1, kParams, p);
  EXPECT_TRUE(base == convergent_key(s1, kParams, p));
  EXPECT_FALSE(base == convergent_key(s2, kParams, p));
  EXPECT_FALSE(base == convergent_key(s1, {2, 10, 131072}, p));
  EXPECT_FALSE(base == convergent_key(s1, {3, 9, 131072}, p));
  EXPECT_FALSE(base == convergent_key(s1, {3, 10, 65536}, p));
  EXPECT_FALSE(base == convergent_key(s1, kParams, as_bytes("same plaintexT")));
  // Streaming in pieces is the same key.
  ConvergentKeyHasher h(s1, kParams);
  h.update(p.first(4)).update(p.subspan(4));
  EXPECT_TRUE(h.finish() == base);
}

TEST(CryptoDerive, RandomFileKeyComesFromTheEnvRandom) {
  sim::SimRandom r1(5), r2(5);
  EXPECT_TRUE(random_file_key(r1) == random_file_key(r2));
}

TEST(CryptoDerive, MutableKnownAnswers) {
  const SigningKey key = rfc8032_key();
  const MutableKeys k = derive_mutable_keys(key);
  EXPECT_EQ(to_hex(k.write_key.view()),
            "f77c46893d34544b0c5611075324e4e98ac76d341de8d1beb8d8dcdc91973732");
  EXPECT_EQ(to_hex(k.read_key.view()),
            "1a9f4f8e34ccc7a936fd917f664b779aa9da6920cf784761167604f64fe12f78");
  EXPECT_EQ(to_hex(k.storage_index), "1327807f7869cb52e368650442088541");
  EXPECT_EQ(to_hex(k.fingerprint),
            "09bb6756874400894eb8bde7c1b20eb0eeb8787868fa06e2e58d6b401768a790");
  const auto server = counting<32>(0x20);
  EXPECT_EQ(to_hex(write_enabler(k.write_key, server).view()),
            "a3a5b2ee0310e89f603f3c25642a122ee5c4ca0eb6bafde77309469e2eb27153");
  const Salt salt = counting<16>(0x80);
  EXPECT_EQ(to_hex(mutable_data_key(k.read_key, salt).view()),
            "bf4831f6c818cf9a6f6d720983b5c60665e694778b25eeed667685da133596a8");
  EXPECT_EQ(to_hex(signing_key_wrap_key(k.write_key).view()),
            "c27876eec5bff817b3d749c81b358e567f97341cd58ffb34fc6ee8dec2ba09ad");
  EXPECT_EQ(to_hex(directory_entry_key(k.write_key, salt).view()),
            "1b20d6ae5b01d0bbc871d4016e306e7f277011f7ea66d7f63292e8773e3365ab");
}

TEST(CryptoDerive, MutableChainIsStepByStep) {
  const SigningKey key = rfc8032_key();
  const MutableKeys k = derive_mutable_keys(key);
  EXPECT_TRUE(k.write_key == mutable_write_key(key.seed()));
  EXPECT_TRUE(k.read_key == mutable_read_key(k.write_key));
  EXPECT_EQ(k.storage_index, mutable_storage_index(k.read_key));
  EXPECT_EQ(k.fingerprint, verifying_key_fingerprint(key.verifying_key()));
  EXPECT_EQ(k.fingerprint, tagged_hash(HashTag::kVerifyingKeyFingerprint, key.verifying_key()));
  // Each step differs from the one before, and from the immutable derivation of the same bytes.
  EXPECT_NE(to_hex(k.write_key.view()), to_hex(k.read_key.view()));
  EXPECT_NE(k.storage_index, immutable_storage_index(FileKey(ByteView(k.read_key.view()))));
  // Write enablers differ per server.
  EXPECT_FALSE(write_enabler(k.write_key, counting<32>(0)) ==
               write_enabler(k.write_key, counting<32>(1)));
}

TEST(CryptoDerive, LeaseKnownAnswers) {
  const LeaseSecret client = counting_secret<32>(0x60);
  const StorageIndex si = counting<16>(0xa0);
  const auto server = counting<32>(0x20);
  EXPECT_EQ(to_hex(lease_renew_secret(client, si, server).view()),
            "43cac92882cf3edaa33db1380f64d06f3afbdd1533b80c96f5566ac83d43178b");
  EXPECT_EQ(to_hex(lease_cancel_secret(client, si, server).view()),
            "e855d97c09740ac218144140fde59063c7846d3067c5cea2a05cfaffe8dbfcf9");
  EXPECT_EQ(to_hex(permuted_ring_position(si, server)),
            "29cc8e93a4b161b52df8e17ade42d74c0f22194700f1a69dcf053d78a5be71a1");
}

// The batch path (a prepared low-level SHA-256 midstate) gives the Hasher path's bytes: the known
// answer above, and one-by-one positions for servers of every id byte.
TEST(CryptoDerive, RingPositionsMatchOneByOne) {
  const StorageIndex si = counting<16>(0xa0);
  const auto known = counting<32>(0x20);
  std::vector<std::array<std::uint8_t, 32>> ids{known};
  for (int i = 0; i < 300; ++i) ids.push_back(counting<32>(static_cast<std::uint8_t>(i * 7)));
  std::vector<ServerIdView> views;
  for (const auto& id : ids) views.emplace_back(id.data(), id.size());
  const std::vector<Digest> batch = permuted_ring_positions(si, views);
  ASSERT_EQ(batch.size(), ids.size());
  EXPECT_EQ(to_hex(batch[0]), "29cc8e93a4b161b52df8e17ade42d74c0f22194700f1a69dcf053d78a5be71a1");
  for (std::size_t i = 0; i < ids.size(); ++i) {
    EXPECT_EQ(batch[i], permuted_ring_position(si, views[i])) << i;
  }
  EXPECT_TRUE(permuted_ring_positions(si, {}).empty());
}

TEST(CryptoDerive, LeaseSecretsComposeAndSeparate) {
  const LeaseSecret client = counting_secret<32>(0x60);
  const StorageIndex si = counting<16>(0xa0), si2 = counting<16>(0xa1);
  const auto s1 = counting<32>(0x20), s2 = counting<32>(0x21);
  EXPECT_TRUE(lease_renew_secret(client, si, s1) ==
              server_renew_secret(file_renew_secret(client, si), s1));
  EXPECT_TRUE(lease_cancel_secret(client, si, s1) ==
              server_cancel_secret(file_cancel_secret(client, si), s1));
  EXPECT_FALSE(lease_renew_secret(client, si, s1) == lease_cancel_secret(client, si, s1));
  EXPECT_FALSE(lease_renew_secret(client, si, s1) == lease_renew_secret(client, si, s2));
  EXPECT_FALSE(lease_renew_secret(client, si, s1) == lease_renew_secret(client, si2, s1));
}

}  // namespace
}  // namespace lafs::crypto
