// Lowercase RFC 4648 base32 without padding: the text encoding of every binary field of a cap.
// Strict on input, so that every accepted string is the one canonical encoding of its bytes.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "core/env/bytes.h"
#include "core/runtime/status.h"

namespace lafs::cap {

// RFC 4648 section 6, lowercased: "abcdefghijklmnopqrstuvwxyz234567". Each character carries 5
// bits; the last character of a string whose bit count is not a multiple of 5 carries the final
// bits in its high end and zeros below (the unused bits). No '=' padding.
inline constexpr std::string_view kBase32Alphabet = "abcdefghijklmnopqrstuvwxyz234567";

// ceil(8 * byte_count / 5): 16 bytes -> 26 characters, 32 bytes -> 52.
constexpr std::size_t base32_length(std::size_t byte_count) {
  return (byte_count * 8 + 4) / 5;
}

std::string base32_encode(ByteView bytes);

// Decodes `text`, refusing with InvalidArgument (the message names the problem and its offset):
// a length no byte string encodes to (length mod 8 of 1, 3 or 6), an uppercase letter, '=' padding,
// any other character outside the alphabet, or nonzero unused bits in the last character (a
// non-canonical encoding: two strings would decode to the same bytes).
Result<Bytes> base32_decode(std::string_view text);

// The same checks, decoding into `out`, which must be exactly as long as `text` decodes to
// (InvalidArgument naming both lengths otherwise). For secrets: decode straight into a
// SecretBytes so that no unwiped copy of the key is left behind.
Status base32_decode_to(std::string_view text, MutableByteView out);

}  // namespace lafs::cap
