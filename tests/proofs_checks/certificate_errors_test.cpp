// certify_instance absorbs only the documented numerical failures of a tier operation
// (std::domain_error, std::runtime_error) as "inconclusive"; a programming error or an input
// error (std::logic_error, e.g. an expression undefined at the instance) propagates.
#include <gtest/gtest.h>

#include <memory>
#include <stdexcept>

#include "proofs_checks/certificate.hpp"
#include "theory/expression_claim.hpp"

namespace attncert {
namespace {

// A claim whose Ball evaluator throws `E`.
template <class E>
class ThrowingClaim final : public Claim {
 public:
  ThrowingClaim() {
    info_.id = "test.throwing";
    space_ = {{{"x", 0, 1, false, false, ""}}, {}};
  }
  const ClaimInfo& info() const override { return info_; }
  const SearchSpace& space() const override { return space_; }
  std::vector<Inequality<double>> evaluate_double(const Instance&) const override { return {}; }
  std::vector<Inequality<Mp>> evaluate_mp(const Instance&, long) const override { return {}; }
  std::vector<Inequality<Ball>> evaluate_ball(const Instance&, long) const override {
    throw E("thrown by the test claim");
  }

 private:
  ClaimInfo info_;
  SearchSpace space_;
};

Instance one_x() {
  Instance x;
  x.scalars = {{"x", 0.5}};
  return x;
}

TEST(CertifyErrors, LogicErrorsPropagateInsteadOfReadingAsInconclusive) {
  EXPECT_THROW(certify_instance(ThrowingClaim<std::logic_error>(), one_x()), std::logic_error);
  EXPECT_THROW(certify_instance(ThrowingClaim<std::out_of_range>(), one_x()), std::out_of_range);
  EXPECT_THROW(certify_instance(ThrowingClaim<std::invalid_argument>(), one_x()), std::invalid_argument);
}

TEST(CertifyErrors, NumericalFailuresAreInconclusiveWithTheirMessage) {
  const InstanceCertificate d = certify_instance(ThrowingClaim<std::domain_error>(), one_x(), CertifyOptions{64, 128});
  EXPECT_EQ(d.status, InstanceStatus::Inconclusive);
  EXPECT_EQ(d.detail, "thrown by the test claim");
  const InstanceCertificate r = certify_instance(ThrowingClaim<std::runtime_error>(), one_x(), CertifyOptions{64, 128});
  EXPECT_EQ(r.status, InstanceStatus::Inconclusive);
}

// log(-1) in a conjecture is an input error naming the sub-expression, not "inconclusive".
TEST(CertifyErrors, AnExpressionCertainlyUndefinedAtTheInstanceIsAnInputError) {
  const auto claim = make_expression_claim("alpha_max <= log(T - 2)", "L in [1, 4], T in [0.5, 1], logits ~ normal(0, 1)");
  Instance x;
  x.scalars = {{"L", 2}, {"T", 1}};
  x.arrays["logits"] = RowMatrix<double>::Zero(1, 2);
  try {
    (void)certify_instance(*claim, x);
    FAIL() << "no exception";
  } catch (const ExpressionDomainError& e) {
    EXPECT_STREQ(e.what(), "log((T - 2)) is undefined: its argument lies in [-1, -1], which is <= 0");
  }
}

}  // namespace
}  // namespace attncert
