// The coding matrix that defines lafs's erasure code: Jerasure's Reed-Solomon Vandermonde matrix
// (reed_sol_vandermonde_coding_matrix(k, n-k, 8)), computed here without Jerasure's global state.
#pragma once

#include <cstdint>
#include <vector>

namespace lafs::codec {

// The (n-k) x k coding matrix, row-major: parity block k+j = sum over c of row j, column c times
// data block c in GF(2^8). Requires 1 <= k <= n <= 256 (asserted). Empty when n == k. The
// construction (docs/specs/erasure-code.md) makes every k x k submatrix of [I; M] invertible.
std::vector<std::uint8_t> vandermonde_coding_matrix(int k, int n);

// The full n x k generator [I_k; M], row-major: share s is row s times the data blocks.
std::vector<std::uint8_t> generator_matrix(int k, int n);

}  // namespace lafs::codec
