#include "theory/distance_collapse.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <stdexcept>
#include <type_traits>

#include "numerics/rng.hpp"
#include "numerics/softmax.hpp"
#include "theory/quantities.hpp"

namespace attncert {
namespace {

template <class T>
using Vec = std::vector<T>;

// √(sum of squares). Ball: the square root of the non-negative part (arb_sqrtpos), so a sum of
// squares whose enclosure dips below 0 still gives a finite enclosure of the norm.
template <class T>
T sqrt_nonneg(const T& ss) {
  if constexpr (std::is_same_v<T, Ball>) {
    if (ss.is_zero()) return ss;
    Ball r = ss;
    arb_sqrtpos(r.arb(), ss.arb(), Ball::field_precision(ss, ss, "norm (sqrt)"));
    return r;
  } else {
    using std::sqrt;
    return T(sqrt(ss));
  }
}

template <class T>
T norm(const Vec<T>& v) {
  T ss = T(0);
  for (const T& e : v) ss += e * e;
  return sqrt_nonneg(ss);
}

// x / n for a positive integer n. A Ball that is exact (precision tag 0) has no working
// precision for a division; give it 64 bits (the result is still an enclosure).
template <class T>
T div_int(const T& x, long n) {
  if constexpr (std::is_same_v<T, Ball>) {
    if (x.is_zero()) return x;
    Ball r = x;
    if (r.precision() == Ball::kExact) r.set_precision(64);
    r /= Ball(static_cast<double>(n));
    return r;
  } else {
    return x / T(static_cast<double>(n));
  }
}

template <class T>
T tint(long n) {
  return T(static_cast<double>(n));
}

template <class T>
void check_shapes(std::span<const T> alpha, const TokenMatrix<T>& X, const char* what) {
  if (X.rows < 1 || X.cols < 1 || static_cast<long>(X.data.size()) != X.rows * X.cols) {
    throw std::invalid_argument(fmt::format("{}: token matrix X must be L×d with L, d >= 1 "
                                            "(got {}×{})", what, X.rows, X.cols));
  }
  if (static_cast<long>(alpha.size()) != X.rows) {
    throw std::invalid_argument(fmt::format("{}: {} weights but X has {} rows (need one row per "
                                            "token)", what, alpha.size(), X.rows));
  }
}

std::vector<char> selection_mask(std::span<const std::size_t> selected, long L, const char* what) {
  std::vector<char> in(static_cast<std::size_t>(L), 0);
  for (std::size_t j : selected) {
    if (static_cast<long>(j) >= L) {
      throw std::invalid_argument(fmt::format("{}: selected index {} outside [0, {}]", what, j, L - 1));
    }
    if (in[j]) throw std::invalid_argument(fmt::format("{}: selected index {} repeated", what, j));
    in[j] = 1;
  }
  return in;
}

template <class T>
Vec<T> weighted_row(std::span<const T> alpha, const TokenMatrix<T>& X, long i) {
  Vec<T> y(static_cast<std::size_t>(X.cols));
  for (long c = 0; c < X.cols; ++c) y[static_cast<std::size_t>(c)] = alpha[static_cast<std::size_t>(i)] * X(i, c);
  return y;
}

template <class T>
void add_to(Vec<T>& a, const Vec<T>& b) {
  for (std::size_t c = 0; c < a.size(); ++c) a[c] += b[c];
}

template <class T>
Vec<T> zeros(long d) {
  return Vec<T>(static_cast<std::size_t>(d), T(0));
}

// The three readings from the non-selected rows y_i = α_i x_i (i ∉ I) and the context s.
template <class T>
std::array<T, 3> readings_from(const std::vector<const Vec<T>*>& outside, const Vec<T>& s) {
  const std::size_t d = s.size();
  Vec<T> sum_out(d, T(0));
  T b = T(0);
  Vec<T> diff(d, T(0));
  for (const Vec<T>* y : outside) {
    for (std::size_t c = 0; c < d; ++c) {
      sum_out[c] += (*y)[c];
      diff[c] = (*y)[c] - s[c];
    }
    b += norm(diff);
  }
  Vec<T> a_vec(d, T(0)), c_vec(d, T(0));
  const T m = tint<T>(static_cast<long>(outside.size()));
  for (std::size_t c = 0; c < d; ++c) {
    a_vec[c] = sum_out[c] - s[c];
    c_vec[c] = sum_out[c] - m * s[c];  // Σ_{i∉I}(y_i − s) = Σ y_i − |I^c|·s, exactly
  }
  return {norm(a_vec), b, norm(c_vec)};
}

// Next N-combination of {0..L-1} in lexicographic order; false after the last.
bool next_combination(std::vector<std::size_t>& idx, std::size_t L) {
  const std::size_t n = idx.size();
  for (std::size_t k = n; k-- > 0;) {
    if (idx[k] < L - n + k) {
      ++idx[k];
      for (std::size_t m = k + 1; m < n; ++m) idx[m] = idx[m - 1] + 1;
      return true;
    }
  }
  return false;
}

}  // namespace

std::string_view to_string(DtildeReading r) {
  switch (r) {
    case DtildeReading::A: return "A";
    case DtildeReading::B: return "B";
    case DtildeReading::C: return "C";
  }
  return "?";
}

template <class T>
TokenMatrix<T> instance_tokens(const Instance& x, const TierContext<T>& ctx) {
  if (!x.has_array("X")) {
    throw std::invalid_argument("distance collapse needs the token array 'X' (L×d, one token per row)");
  }
  const auto& a = x.array("X");
  if (a.rows() < 1 || a.cols() < 1) {
    throw std::invalid_argument(fmt::format("token array X is {}×{}; need L, d >= 1", a.rows(), a.cols()));
  }
  TokenMatrix<T> X;
  X.rows = static_cast<long>(a.rows());
  X.cols = static_cast<long>(a.cols());
  X.data.reserve(static_cast<std::size_t>(a.size()));
  for (Eigen::Index i = 0; i < a.rows(); ++i) {
    for (Eigen::Index c = 0; c < a.cols(); ++c) {
      const double v = a(i, c);
      if (!std::isfinite(v)) {
        throw std::domain_error(fmt::format("token array X has a non-finite entry at ({}, {})", i, c));
      }
      X.data.push_back(ctx.from(v));
    }
  }
  return X;
}

long instance_top_n_count(const Instance& x, long L) {
  if (!x.has_scalar("N")) throw std::invalid_argument("d̃ needs the scalar 'N' (size of the selected set)");
  const double n = x.scalar("N");
  if (!(n == std::round(n)) || n < 1 || n > static_cast<double>(L)) {
    throw std::invalid_argument(fmt::format("N = {} must be an integer in [1, L] = [1, {}]", n, L));
  }
  return static_cast<long>(n);
}

std::vector<std::size_t> top_n_indices(std::span<const double> logits, long N) {
  const long L = static_cast<long>(logits.size());
  if (N < 1 || N > L) {
    throw std::invalid_argument(fmt::format("top-N set: N = {} must lie in [1, L] = [1, {}]", N, L));
  }
  for (std::size_t i = 0; i < logits.size(); ++i) {
    if (std::isnan(logits[i])) throw std::domain_error(fmt::format("top-N set: logit {} is NaN", i));
  }
  std::vector<std::size_t> order(logits.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  // Stable: equal logits keep ascending index order, i.e. ties go to the lower index.
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return logits[a] > logits[b]; });
  order.resize(static_cast<std::size_t>(N));
  std::sort(order.begin(), order.end());
  return order;
}

std::vector<std::size_t> instance_top_n(const Instance& x, long N) {
  if (x.has_array("logits")) {
    const auto& a = x.array("logits");
    return top_n_indices(std::span<const double>(a.data(), static_cast<std::size_t>(a.size())), N);
  }
  if (!x.has_array("q") || !x.has_array("K")) {
    throw std::invalid_argument("top-N set: instance has neither 'logits' nor 'q' and 'K' arrays");
  }
  const auto& q = x.array("q");
  const auto& K = x.array("K");
  if (q.size() != K.cols()) {
    throw std::invalid_argument(fmt::format("q has {} entries but K has {} columns", q.size(), K.cols()));
  }
  const long L = static_cast<long>(K.rows());
  if (N < 1 || N > L) {
    throw std::invalid_argument(fmt::format("top-N set: N = {} must lie in [1, L] = [1, {}]", N, L));
  }
  // l_j = qᵀk_j exactly: products and sums of exact balls are exact.
  std::vector<Ball> l;
  l.reserve(static_cast<std::size_t>(L));
  for (long j = 0; j < L; ++j) {
    Ball s(0);
    for (Eigen::Index c = 0; c < K.cols(); ++c) {
      const double qc = q.data()[c], kc = K(j, c);
      if (!std::isfinite(qc) || !std::isfinite(kc)) {
        throw std::domain_error(fmt::format("top-N set: non-finite entry in q or row {} of K", j));
      }
      s += Ball(qc) * Ball(kc);
    }
    l.push_back(std::move(s));
  }
  std::vector<std::size_t> order(static_cast<std::size_t>(L));
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return certainly(l[a] > l[b]); });
  order.resize(static_cast<std::size_t>(N));
  std::sort(order.begin(), order.end());
  return order;
}

template <class T>
T dtilde(DtildeReading reading, std::span<const T> alpha, const TokenMatrix<T>& X,
         std::span<const std::size_t> selected) {
  check_shapes(alpha, X, "d̃");
  const std::vector<char> in = selection_mask(selected, X.rows, "d̃");
  std::vector<Vec<T>> y;
  y.reserve(static_cast<std::size_t>(X.rows));
  Vec<T> s = zeros<T>(X.cols);
  std::vector<const Vec<T>*> outside;
  for (long i = 0; i < X.rows; ++i) y.push_back(weighted_row(alpha, X, i));
  for (long i = 0; i < X.rows; ++i) {
    if (in[static_cast<std::size_t>(i)]) {
      add_to(s, y[static_cast<std::size_t>(i)]);
    } else {
      outside.push_back(&y[static_cast<std::size_t>(i)]);
    }
  }
  return readings_from(outside, s)[static_cast<std::size_t>(reading)];
}

template <class T>
Thm1FixedTerms<T> thm1_fixed_terms(std::span<const T> alpha, const TokenMatrix<T>& X,
                                   std::span<const std::size_t> selected) {
  check_shapes(alpha, X, "Theorem 1 bound");
  const long L = X.rows;
  const long N = static_cast<long>(selected.size());
  if (N < 1 || N > L - 1) {
    throw std::invalid_argument(fmt::format("Theorem 1 bound: N = {} must lie in [1, L − 1] = [1, {}] "
                                            "(d₁ needs a non-selected token)", N, L - 1));
  }
  const std::vector<char> in = selection_mask(selected, L, "Theorem 1 bound");
  T abar = T(0);
  for (std::size_t j : selected) abar += alpha[j];
  // d₁ and M_N: maximise squared norms, one square root each.
  T d1_sq = T(0), m_sq = T(0);
  for (std::size_t j : selected) {
    T ss = T(0);
    for (long c = 0; c < X.cols; ++c) ss += X(static_cast<long>(j), c) * X(static_cast<long>(j), c);
    m_sq = tier_max(m_sq, ss);
    for (long i = 0; i < L; ++i) {
      if (in[static_cast<std::size_t>(i)]) continue;
      T dd = T(0);
      for (long c = 0; c < X.cols; ++c) {
        const T diff = X(i, c) - X(static_cast<long>(j), c);
        dd += diff * diff;
      }
      d1_sq = tier_max(d1_sq, dd);
    }
  }
  Thm1FixedTerms<T> t{abar, sqrt_nonneg(d1_sq), sqrt_nonneg(m_sq), T(0), T(0)};
  const T rest = T(1) - abar;
  const T excess = tint<T>(L - N) * abar - rest;
  t.bound = rest * t.d1 + excess * t.M_N;
  // The root's argument clipped at 0 (the summary does not say what happens below 0).
  t.sqrt_bound = rest * t.d1 + t.M_N * sqrt_nonneg(tier_max(T(0), excess));
  return t;
}

template <class T>
RandomSubsetExpectation<T> expected_over_random_subsets(std::span<const T> alpha,
                                                        const TokenMatrix<T>& X, long N) {
  check_shapes(alpha, X, "E[d̃] over random subsets");
  const long L = X.rows;
  if (L > kMaxEnumerationTokens) {
    throw std::invalid_argument(fmt::format("E[d̃] by enumeration: L = {} exceeds the limit {} "
                                            "(2^L subsets)", L, kMaxEnumerationTokens));
  }
  if (N < 1 || N > L) {
    throw std::invalid_argument(fmt::format("E[d̃] by enumeration: N = {} must lie in [1, L] = [1, {}]", N, L));
  }
  std::vector<Vec<T>> y;
  for (long i = 0; i < L; ++i) y.push_back(weighted_row(alpha, X, i));
  std::array<T, 3> sum{T(0), T(0), T(0)};
  T ctx_sum = T(0);
  long count = 0;
  std::vector<std::size_t> idx(static_cast<std::size_t>(N));
  std::iota(idx.begin(), idx.end(), std::size_t{0});
  std::vector<char> in(static_cast<std::size_t>(L));
  std::vector<const Vec<T>*> outside;
  do {
    std::fill(in.begin(), in.end(), 0);
    Vec<T> s = zeros<T>(X.cols);
    for (std::size_t j : idx) {
      in[j] = 1;
      add_to(s, y[j]);
    }
    outside.clear();
    for (long i = 0; i < L; ++i) {
      if (!in[static_cast<std::size_t>(i)]) outside.push_back(&y[static_cast<std::size_t>(i)]);
    }
    const std::array<T, 3> r = readings_from(outside, s);
    for (std::size_t k = 0; k < 3; ++k) sum[k] += r[k];
    ctx_sum += norm(s);
    ++count;
  } while (next_combination(idx, static_cast<std::size_t>(L)));
  RandomSubsetExpectation<T> e{{div_int(sum[0], count), div_int(sum[1], count), div_int(sum[2], count)},
                               div_int(ctx_sum, count)};
  return e;
}

template <class T>
T thm1_random_jensen_term(std::span<const T> alpha, const TokenMatrix<T>& X, long N) {
  check_shapes(alpha, X, "Theorem 1 (random set) term");
  const long L = X.rows;
  if (L < 2 || N < 1 || N > L) {
    throw std::invalid_argument(fmt::format("Theorem 1 (random set): need L >= 2 and N in [1, L]; got "
                                            "L = {}, N = {}", L, N));
  }
  std::vector<Vec<T>> y;
  Vec<T> total = zeros<T>(X.cols);
  for (long i = 0; i < L; ++i) {
    y.push_back(weighted_row(alpha, X, i));
    add_to(total, y.back());
  }
  T sum = T(0);
  Vec<T> v(static_cast<std::size_t>(X.cols), T(0));
  for (long i = 0; i < L; ++i) {
    const Vec<T>& yi = y[static_cast<std::size_t>(i)];
    for (std::size_t c = 0; c < v.size(); ++c) {
      // (N/(L−1))·Σ_{j≠i} y_j, with Σ_{j≠i} y_j = total − y_i exactly
      v[c] = yi[c] - div_int(tint<T>(N) * (total[c] - yi[c]), L - 1);
    }
    sum += norm(v);
  }
  return div_int(tint<T>(L - N) * sum, L);
}

template <class T>
T weighted_token_norm_sum(std::span<const T> alpha, const TokenMatrix<T>& X) {
  check_shapes(alpha, X, "Σ‖α_i x_i‖");
  T sum = T(0);
  for (long i = 0; i < X.rows; ++i) sum += norm(weighted_row(alpha, X, i));
  return sum;
}

template <class T>
T instance_dtilde(DtildeReading reading, const Instance& x, const TierContext<T>& ctx) {
  const std::vector<T> l = instance_logits(x, ctx);
  const std::vector<T> alpha = softmax<T>(std::span<const T>(l), instance_temperature(x, ctx));
  const TokenMatrix<T> X = instance_tokens(x, ctx);
  if (X.rows != static_cast<long>(alpha.size())) {
    throw std::invalid_argument(fmt::format("token array X has {} rows but there are {} logits", X.rows,
                                            alpha.size()));
  }
  const long N = instance_top_n_count(x, X.rows);
  const std::vector<std::size_t> sel = instance_top_n(x, N);
  return dtilde<T>(reading, std::span<const T>(alpha), X, sel);
}

double expected_dtilde_monte_carlo(DtildeReading reading, std::span<const double> alpha,
                                   const TokenMatrix<double>& X, long N, long samples,
                                   std::uint64_t seed) {
  check_shapes(alpha, X, "Monte Carlo E[d̃]");
  if (N < 1 || N > X.rows || samples < 1) {
    throw std::invalid_argument(fmt::format("Monte Carlo E[d̃]: need N in [1, L] = [1, {}] and samples "
                                            ">= 1; got N = {}, samples = {}", X.rows, N, samples));
  }
  Rng rng(seed);
  double sum = 0;
  for (long k = 0; k < samples; ++k) {
    const std::vector<std::size_t> subset =
        rng.sample_indices(static_cast<std::size_t>(X.rows), static_cast<std::size_t>(N));
    sum += dtilde<double>(reading, alpha, X, subset);
  }
  return sum / static_cast<double>(samples);
}

SearchSpace top_n_space(long max_tokens, long max_dim) {
  const double L = static_cast<double>(max_tokens);
  return SearchSpace{
      {{"L", 2, L, true, false, "number of tokens"},
       {"N", 1, L - 1, true, false, "size of the selected set (kept in [1, L − 1])"},
       {"d", 1, static_cast<double>(max_dim), true, false, "token dimension"},
       {"T", 0.01, 10, false, true, "temperature"}},
      {{"logits", "1", "L", Law::Normal, 0, 3, false, "logits l (α = softmax(l/T))"},
       {"X", "L", "d", Law::Normal, 0, 1, false, "tokens x_i, one per row"}}};
}

void project_top_n(Instance& x) {
  if (!x.has_array("logits") || !x.has_scalar("N")) return;
  const long L = static_cast<long>(x.array("logits").size());
  if (L < 2) return;  // inadmissible; admissible() says so
  long N = std::lround(x.scalar("N"));
  if (N < 1) N = 1;
  if (N > L - 1) N = 1 + (N - 1) % (L - 1);
  x.scalars["N"] = static_cast<double>(N);
}

Tri top_n_admissible(const Instance& x) {
  if (!x.has_array("logits") || !x.has_array("X") || !x.has_scalar("N")) return Tri::False;
  const auto& l = x.array("logits");
  const long L = static_cast<long>(l.size());
  if (L < 2 || x.array("X").rows() != L) return Tri::False;
  for (Eigen::Index i = 0; i < l.size(); ++i) {
    if (!std::isfinite(l.data()[i])) return Tri::False;
  }
  const double N = x.scalar("N");
  return Tri::from_bool(N == std::round(N) && N >= 1 && N <= static_cast<double>(L - 1));
}

std::string one_hot_reason(const Instance& x, long top) {
  if (top_n_admissible(x) != Tri::True || !x.has_scalar("T")) return {};
  const auto& l = x.array("logits");
  const std::span<const double> logits(l.data(), static_cast<std::size_t>(l.size()));
  const std::vector<std::size_t> sel = top_n_indices(logits, top);
  const std::vector<double> alpha = softmax<double>(logits, x.scalar("T"));
  double outside = 0;  // summed directly, not as 1 − Σ_top α: no cancellation
  for (std::size_t j = 0; j < alpha.size(); ++j) {
    if (!std::binary_search(sel.begin(), sel.end(), j)) outside += alpha[j];
  }
  if (!(outside < kOneHotResidualWeight)) return {};
  return fmt::format("one-hot attention: the weight outside the {} largest logits, {:.2g}, is below {:g}",
                     top, outside, kOneHotResidualWeight);
}

DtildeGrowth measure_dtilde_growth(const DtildeGrowthOptions& o) {
  if (o.N < 1 || o.d < 1 || o.trials < 1 || !(o.logit_sd >= 0) || o.lengths.size() < 2) {
    throw std::invalid_argument("d̃ growth: need N, d, trials >= 1, logit_sd >= 0 and at least two lengths");
  }
  DtildeGrowth g;
  g.lengths = o.lengths;
  Rng rng(o.seed);
  for (long L : o.lengths) {
    if (L <= o.N) throw std::invalid_argument(fmt::format("d̃ growth: length {} must exceed N = {}", L, o.N));
    std::array<double, 3> acc{0, 0, 0};
    for (long t = 0; t < o.trials; ++t) {
      std::vector<double> l = rng.normal_vector(static_cast<std::size_t>(L), 0.0, o.logit_sd);
      l[0] += o.sink_logit;
      const std::vector<double> alpha = softmax<double>(std::span<const double>(l), 1.0);
      TokenMatrix<double> X{L, o.d, rng.normal_vector(static_cast<std::size_t>(L * o.d), o.token_mean, 1.0)};
      const std::vector<std::size_t> sel = top_n_indices(l, o.N);
      for (int r = 0; r < 3; ++r) {
        acc[static_cast<std::size_t>(r)] += dtilde<double>(static_cast<DtildeReading>(r), alpha, X, sel);
      }
    }
    for (std::size_t r = 0; r < 3; ++r) g.mean[r].push_back(acc[r] / static_cast<double>(o.trials));
  }
  for (std::size_t r = 0; r < 3; ++r) {
    double sx = 0, sy = 0, sxx = 0, sxy = 0;
    const double n = static_cast<double>(g.lengths.size());
    for (std::size_t k = 0; k < g.lengths.size(); ++k) {
      const double lx = std::log(static_cast<double>(g.lengths[k])), ly = std::log(g.mean[r][k]);
      sx += lx; sy += ly; sxx += lx * lx; sxy += lx * ly;
    }
    g.loglog_slope[r] = (n * sxy - sx * sy) / (n * sxx - sx * sx);
  }
  return g;
}

WeightedTokens weighted_tokens(std::span<const double> alpha, const RowMatrix<double>& X) {
  if (X.rows() < static_cast<Eigen::Index>(alpha.size()) || X.cols() == 0 || alpha.empty()) {
    throw std::invalid_argument(fmt::format(
        "weighted tokens: {} weights need at least as many token rows (X is {}×{})",
        alpha.size(), X.rows(), X.cols()));
  }
  WeightedTokens w;
  const auto n = static_cast<Eigen::Index>(alpha.size());
  w.y = Eigen::Map<const Eigen::VectorXd>(alpha.data(), n).asDiagonal() * X.topRows(n);
  return w;
}

namespace {
// In-set mask and s = Σ_{j∈I} y_j; throws unless the indices are distinct, in range, and leave
// a token out.
std::vector<char> selected_sum(const WeightedTokens& w, std::span<const std::size_t> selected,
                               Eigen::RowVectorXd& s, const char* what) {
  const auto rows = static_cast<std::size_t>(w.y.rows());
  std::vector<char> in(rows, 0);
  s = Eigen::RowVectorXd::Zero(w.y.cols());
  for (std::size_t j : selected) {
    if (j >= rows || in[j])
      throw std::invalid_argument(fmt::format("{}: selected index {} repeated or >= {}", what, j, rows));
    in[j] = 1;
    s += w.y.row(static_cast<Eigen::Index>(j));
  }
  if (selected.empty() || selected.size() >= rows)
    throw std::invalid_argument(fmt::format(
        "{}: {} of {} tokens selected; needs 1 <= N <= L − 1", what, selected.size(), rows));
  return in;
}
}  // namespace

std::array<double, 3> dtilde_readings(const WeightedTokens& w, std::span<const std::size_t> selected) {
  Eigen::RowVectorXd s;
  const std::vector<char> in = selected_sum(w, selected, s, "d̃");
  Eigen::RowVectorXd sum_out = Eigen::RowVectorXd::Zero(w.y.cols());
  double b = 0;
  for (Eigen::Index i = 0; i < w.y.rows(); ++i) {
    if (in[static_cast<std::size_t>(i)]) continue;
    sum_out += w.y.row(i);
    b += (w.y.row(i) - s).norm();
  }
  const double outside = static_cast<double>(w.y.rows()) - static_cast<double>(selected.size());
  return {(sum_out - s).norm(), b, (sum_out - outside * s).norm()};
}

double protocol_distinguishable_fraction(const WeightedTokens& w,
                                         std::span<const std::size_t> selected) {
  Eigen::RowVectorXd s;
  const std::vector<char> in = selected_sum(w, selected, s, "N_s");
  double r = std::numeric_limits<double>::infinity();
  for (Eigen::Index j = 0; j < w.y.rows(); ++j)
    if (!in[static_cast<std::size_t>(j)]) r = std::min(r, (s - w.y.row(j)).norm());
  long inside = 0;
  for (std::size_t i : selected) inside += (w.y.row(static_cast<Eigen::Index>(i)) - s).norm() <= r;
  return static_cast<double>(inside) / static_cast<double>(selected.size());
}

#define ATTNCERT_INSTANTIATE_DISTANCE_COLLAPSE(T)                                                   \
  template TokenMatrix<T> instance_tokens<T>(const Instance&, const TierContext<T>&);              \
  template T dtilde<T>(DtildeReading, std::span<const T>, const TokenMatrix<T>&,                   \
                       std::span<const std::size_t>);                                              \
  template Thm1FixedTerms<T> thm1_fixed_terms<T>(std::span<const T>, const TokenMatrix<T>&,        \
                                                 std::span<const std::size_t>);                    \
  template RandomSubsetExpectation<T> expected_over_random_subsets<T>(std::span<const T>,          \
                                                                      const TokenMatrix<T>&, long); \
  template T thm1_random_jensen_term<T>(std::span<const T>, const TokenMatrix<T>&, long);          \
  template T weighted_token_norm_sum<T>(std::span<const T>, const TokenMatrix<T>&);                \
  template T instance_dtilde<T>(DtildeReading, const Instance&, const TierContext<T>&);
ATTNCERT_INSTANTIATE_DISTANCE_COLLAPSE(double)
ATTNCERT_INSTANTIATE_DISTANCE_COLLAPSE(Mp)
ATTNCERT_INSTANTIATE_DISTANCE_COLLAPSE(Ball)
#undef ATTNCERT_INSTANTIATE_DISTANCE_COLLAPSE

}  // namespace attncert
