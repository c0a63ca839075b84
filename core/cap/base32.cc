// The strict base32 codec of base32.h: a 5-bit accumulator each way, validation before decoding.
#include "core/cap/base32.h"

#include <cstdint>

#include "core/runtime/assert.h"

namespace lafs::cap {
namespace {

// 0..31 for an alphabet character, -1 otherwise.
int decode_char(char c) {
  if (c >= 'a' && c <= 'z') return c - 'a';
  if (c >= '2' && c <= '7') return 26 + (c - '2');
  return -1;
}

// "'x'" for a printable character, "byte 0x1f" otherwise: error messages stay one line.
std::string describe_char(char c) {
  const auto u = static_cast<unsigned char>(c);
  if (u >= 0x21 && u < 0x7f) return std::string("'") + c + "'";
  static constexpr char kHex[] = "0123456789abcdef";
  return std::string("byte 0x") + kHex[u >> 4] + kHex[u & 0xf];
}

Status check_chars(std::string_view text) {
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (decode_char(c) >= 0) continue;
    const std::string at = " at offset " + std::to_string(i);
    if (c >= 'A' && c <= 'Z') {
      return invalid_argument("uppercase base32 character " + describe_char(c) + at +
                              " (lafs base32 is lowercase)");
    }
    if (c == '=') return invalid_argument("base32 padding '='" + at + " (lafs base32 has none)");
    return invalid_argument("invalid base32 character " + describe_char(c) + at);
  }
  return Status{};
}

}  // namespace

std::string base32_encode(ByteView bytes) {
  std::string out;
  out.reserve(base32_length(bytes.size()));
  std::uint32_t acc = 0;
  int bits = 0;
  for (const std::uint8_t b : bytes) {
    acc = (acc << 8) | b;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out.push_back(kBase32Alphabet[(acc >> bits) & 31]);
    }
  }
  if (bits > 0) out.push_back(kBase32Alphabet[(acc << (5 - bits)) & 31]);
  LAFS_ASSERT(out.size() == base32_length(bytes.size()));
  return out;
}

Status base32_decode_to(std::string_view text, MutableByteView out) {
  const std::size_t rem = text.size() % 8;
  if (rem == 1 || rem == 3 || rem == 6) {
    return invalid_argument("invalid base32 length " + std::to_string(text.size()) +
                            " (no byte string encodes to it)");
  }
  const std::size_t byte_count = text.size() * 5 / 8;
  if (out.size() != byte_count) {
    return invalid_argument("base32 text of " + std::to_string(text.size()) +
                            " characters decodes to " + std::to_string(byte_count) +
                            " bytes, expected " + std::to_string(out.size()));
  }
  LAFS_RETURN_IF_ERROR(check_chars(text));
  std::uint32_t acc = 0;
  int bits = 0;
  std::size_t n = 0;
  for (const char c : text) {
    acc = ((acc << 5) | static_cast<std::uint32_t>(decode_char(c))) & 0xfff;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out[n++] = static_cast<std::uint8_t>(acc >> bits);
    }
  }
  LAFS_ASSERT(n == byte_count);
  LAFS_ASSERT(bits < 5);
  if ((acc & ((1u << bits) - 1)) != 0) {
    return invalid_argument("non-canonical base32: the " + std::to_string(bits) +
                            " unused low bits of the last character are not zero");
  }
  return Status{};
}

Result<Bytes> base32_decode(std::string_view text) {
  Bytes out(text.size() * 5 / 8);
  LAFS_RETURN_IF_ERROR(base32_decode_to(text, out));
  return out;
}

}  // namespace lafs::cap
