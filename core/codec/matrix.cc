// Jerasure's "big Vandermonde distribution matrix" construction, step for step, so that the
// matrix (and so every parity byte) is identical; tests compare it against Jerasure itself.
#include "core/codec/matrix.h"

#include <utility>

#include "core/codec/gf256.h"
#include "core/runtime/assert.h"

namespace lafs::codec {
namespace {

using gf256::mul;

// Rows x cols, row-major. Row 0 is (1, 0, ..., 0), the last row (0, ..., 0, 1), and row i in
// between holds the powers i^0 .. i^(cols-1): evaluation points 0, 1, .., rows-2 and infinity.
std::vector<std::uint8_t> extended_vandermonde(int rows, int cols) {
  std::vector<std::uint8_t> v(static_cast<std::size_t>(rows) * cols, 0);
  v[0] = 1;
  if (rows == 1) return v;
  v[static_cast<std::size_t>(rows - 1) * cols + cols - 1] = 1;
  for (int i = 1; i < rows - 1; ++i) {
    std::uint8_t p = 1;
    for (int j = 0; j < cols; ++j) {
      v[static_cast<std::size_t>(i) * cols + j] = p;
      p = mul(p, static_cast<std::uint8_t>(i));
    }
  }
  return v;
}

// Column operations turn the top cols x cols block into the identity (which keeps every
// cols-row submatrix invertible); then scaling makes the first coding row and column all ones.
void make_systematic(std::vector<std::uint8_t>& d, int rows, int cols) {
  auto at = [&](int r, int c) -> std::uint8_t& {
    return d[static_cast<std::size_t>(r) * cols + c];
  };
  for (int i = 1; i < cols; ++i) {
    int j = i;
    while (j < rows && at(j, i) == 0) ++j;
    LAFS_ASSERT_MSG(j < rows, "Vandermonde matrix has no pivot");  // impossible for rows <= 256
    if (j != i) {
      for (int c = 0; c < cols; ++c) std::swap(at(i, c), at(j, c));
    }
    if (at(i, i) != 1) {
      const std::uint8_t s = gf256::inv(at(i, i));
      for (int r = 0; r < rows; ++r) at(r, i) = mul(s, at(r, i));
    }
    for (int c = 0; c < cols; ++c) {
      const std::uint8_t e = at(i, c);
      if (c == i || e == 0) continue;
      for (int r = 0; r < rows; ++r) at(r, c) ^= mul(e, at(r, i));
    }
  }
  for (int c = 0; c < cols; ++c) {
    const std::uint8_t e = at(cols, c);
    if (e == 1) continue;
    const std::uint8_t s = gf256::inv(e);
    for (int r = cols; r < rows; ++r) at(r, c) = mul(s, at(r, c));
  }
  for (int r = cols + 1; r < rows; ++r) {
    const std::uint8_t e = at(r, 0);
    if (e == 1) continue;
    const std::uint8_t s = gf256::inv(e);
    for (int c = 0; c < cols; ++c) at(r, c) = mul(at(r, c), s);
  }
}

}  // namespace

std::vector<std::uint8_t> vandermonde_coding_matrix(int k, int n) {
  LAFS_ASSERT(k >= 1);
  LAFS_ASSERT(k <= n && n <= 256);
  if (n == k) return {};
  std::vector<std::uint8_t> d = extended_vandermonde(n, k);
  make_systematic(d, n, k);
  return std::vector<std::uint8_t>(d.begin() + static_cast<std::ptrdiff_t>(k) * k, d.end());
}

std::vector<std::uint8_t> generator_matrix(int k, int n) {
  std::vector<std::uint8_t> g(static_cast<std::size_t>(n) * k, 0);
  for (int i = 0; i < k; ++i) g[static_cast<std::size_t>(i) * k + i] = 1;
  const std::vector<std::uint8_t> m = vandermonde_coding_matrix(k, n);
  std::copy(m.begin(), m.end(), g.begin() + static_cast<std::ptrdiff_t>(k) * k);
  return g;
}

}  // namespace lafs::codec
