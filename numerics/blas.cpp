// blas::gemm on BLIS's typed API (row and column strides per operand), and the choice of
// BLIS's kernel from the CPU's features before BLIS first initialises.
#include "numerics/blas.hpp"

#include <blis.h>
#include <fmt/format.h>

#include <cstdlib>
#include <mutex>
#include <stdexcept>

namespace attncert::blas {
namespace {

struct KernelChoice {
  const char* reason = nullptr;  // nullptr: left to BLIS's own detection (or the user's)
};

// BLIS picks its sub-configuration from cpuid when it first initialises, and reads
// BLIS_ARCH_TYPE (an arch_t number) then. Its table is that of its release: a CPU newer than
// it (a later AMD family, say) falls back to the generic kernel, several times slower. So,
// unless the user set BLIS_ARCH_TYPE, choose by instruction set, which is what the kernels
// need: AVX-512 (F, DQ, BW, VL) → skx; AVX2 + FMA → haswell; else BLIS decides.
// Measured (dgemm 2048³, one thread, an AMD EPYC of family 25): skx and BLIS's own zen3
// choice run dgemm within 5% of each other.
KernelChoice choose_kernel() {
  if (std::getenv("BLIS_ARCH_TYPE") != nullptr) return {};
  __builtin_cpu_init();
  int arch = -1;
  const char* reason = nullptr;
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
      __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl")) {
    arch = BLIS_ARCH_SKX;
    reason = "avx512f/dq/bw/vl";
  } else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
    arch = BLIS_ARCH_HASWELL;
    reason = "avx2+fma";
  }
  if (arch < 0) return {};
  // Before any BLIS call: BLIS reads the variable once, at its initialisation.
  setenv("BLIS_ARCH_TYPE", std::to_string(arch).c_str(), 0);
  return {reason};
}

// The choice, made once, then BLIS initialised with it (bli_arch_query_id reads BLIS's kernel
// table, which only bli_init fills).
const KernelChoice& kernel_choice() {
  static const KernelChoice choice = [] {
    const KernelChoice c = choose_kernel();
    bli_init();
    return c;
  }();
  return choice;
}

template <class T>
void call_blis(dim_t m, dim_t n, dim_t k, T alpha, const T* a, inc_t rsa, inc_t csa, const T* b,
               inc_t rsb, inc_t csb, T beta, T* c, inc_t rsc, inc_t csc) {
  if constexpr (std::is_same_v<T, double>) {
    bli_dgemm(BLIS_NO_TRANSPOSE, BLIS_NO_TRANSPOSE, m, n, k, &alpha, const_cast<T*>(a), rsa, csa,
              const_cast<T*>(b), rsb, csb, &beta, c, rsc, csc);
  } else {
    bli_sgemm(BLIS_NO_TRANSPOSE, BLIS_NO_TRANSPOSE, m, n, k, &alpha, const_cast<T*>(a), rsa, csa,
              const_cast<T*>(b), rsb, csb, &beta, c, rsc, csc);
  }
}

// BLIS checks that a matrix's strides describe non-overlapping rows and columns and aborts
// otherwise; a dimension of extent 1 has no meaningful stride, so give it the other one's
// span (what a contiguous matrix of that shape would have).
void normalise_strides(std::ptrdiff_t rows, std::ptrdiff_t cols, std::ptrdiff_t& rs,
                       std::ptrdiff_t& cs) {
  if (rows == 1 && cols == 1) {
    rs = 1, cs = 1;
  } else if (rows == 1) {
    rs = cs * cols;
  } else if (cols == 1) {
    cs = rs * rows;
  }
  if (rs == 0 || cs == 0) {
    throw std::invalid_argument(fmt::format(
        "blas::gemm: a {}×{} operand with a zero stride (row {}, column {})", rows, cols, rs, cs));
  }
}

}  // namespace

void throw_shape_mismatch(std::ptrdiff_t a_rows, std::ptrdiff_t a_cols, std::ptrdiff_t b_rows,
                          std::ptrdiff_t b_cols, std::ptrdiff_t c_rows, std::ptrdiff_t c_cols) {
  throw std::invalid_argument(fmt::format(
      "blas::gemm: A is {}×{}, B is {}×{}, C is {}×{}; need A m×k, B k×n and C m×n", a_rows,
      a_cols, b_rows, b_cols, c_rows, c_cols));
}

template <class T>
void gemm(std::ptrdiff_t m, std::ptrdiff_t n, std::ptrdiff_t k, T alpha, const T* a,
          std::ptrdiff_t a_row_stride, std::ptrdiff_t a_col_stride, const T* b,
          std::ptrdiff_t b_row_stride, std::ptrdiff_t b_col_stride, T beta, T* c,
          std::ptrdiff_t c_row_stride, std::ptrdiff_t c_col_stride) {
  if (m < 0 || n < 0 || k < 0) throw_shape_mismatch(m, k, k, n, m, n);
  if (m == 0 || n == 0) return;
  normalise_strides(m, n, c_row_stride, c_col_stride);
  if (k == 0) {  // BLIS would do the same; explicit so that no stride of an empty A/B is read
    for (std::ptrdiff_t i = 0; i < m; ++i)
      for (std::ptrdiff_t j = 0; j < n; ++j) {
        T& x = c[i * c_row_stride + j * c_col_stride];
        x = beta == T(0) ? T(0) : beta * x;
      }
    return;
  }
  normalise_strides(m, k, a_row_stride, a_col_stride);
  normalise_strides(k, n, b_row_stride, b_col_stride);
  kernel_choice();
  call_blis<T>(m, n, k, alpha, a, a_row_stride, a_col_stride, b, b_row_stride, b_col_stride,
               beta, c, c_row_stride, c_col_stride);
}

template void gemm<float>(std::ptrdiff_t, std::ptrdiff_t, std::ptrdiff_t, float, const float*,
                          std::ptrdiff_t, std::ptrdiff_t, const float*, std::ptrdiff_t,
                          std::ptrdiff_t, float, float*, std::ptrdiff_t, std::ptrdiff_t);
template void gemm<double>(std::ptrdiff_t, std::ptrdiff_t, std::ptrdiff_t, double, const double*,
                           std::ptrdiff_t, std::ptrdiff_t, const double*, std::ptrdiff_t,
                           std::ptrdiff_t, double, double*, std::ptrdiff_t, std::ptrdiff_t);

std::string configuration() {
  const KernelChoice& choice = kernel_choice();
  const std::string arch = bli_arch_string(bli_arch_query_id());
  std::string text = fmt::format("BLIS {} (serial), sub-configuration {}",
                                 bli_info_get_version_str(), arch);
  if (choice.reason != nullptr) {
    text += fmt::format(", chosen by attncert from the CPU's features ({})", choice.reason);
  } else if (std::getenv("BLIS_ARCH_TYPE") != nullptr) {
    text += fmt::format(", from BLIS_ARCH_TYPE={}", std::getenv("BLIS_ARCH_TYPE"));
  } else {
    text += ", chosen by BLIS's own detection";
  }
  return text;
}

}  // namespace attncert::blas
