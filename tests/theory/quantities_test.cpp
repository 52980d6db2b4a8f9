// The one quantity registry (theory/quantity_list.def): every computable row evaluates in its
// tiers, README's list of names is the registry's, and the quantity fixes of issue 16
// (effective_rank of a rank-1 attention matrix, Delta's shape check, the spectral work cap).
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>

#include "numerics/ball.hpp"
#include "numerics/mp.hpp"
#include "theory/quantities.hpp"
#include "theory/spectral_quantities.hpp"

namespace attncert {
namespace {

// q (1×2), K and X (3×2), N = 1: every computable quantity has its data.
Instance full_instance() {
  Instance x;
  x.scalars = {{"T", 0.5}, {"N", 1}, {"d", 2}, {"m", 4}};
  x.arrays["q"] = RowMatrix<double>{{0.5, -1.0}};
  x.arrays["K"] = RowMatrix<double>{{1.0, 0.25}, {-0.5, 2.0}, {0.75, -1.5}};
  x.arrays["X"] = RowMatrix<double>{{0.5, 1.0}, {-1.0, 0.25}, {2.0, -0.5}};
  return x;
}

TEST(QuantityRegistry, EveryComputableQuantityEvaluatesInItsTiersAndBallContainsMp) {
  const Instance x = full_instance();
  for (const Quantity& q : default_quantities().quantities()) {
    if (q.tiers == QuantityTiers::NoTier) {
      EXPECT_THROW(quantity<double>(q.name, x, TierContext<double>{}), std::invalid_argument) << q.name;
      continue;
    }
    const double d = quantity<double>(q.name, x, TierContext<double>{});
    const Ball b = quantity<Ball>(q.name, x, TierContext<Ball>{128});
    EXPECT_TRUE(std::isfinite(d)) << q.name;
    EXPECT_TRUE(b.is_finite()) << q.name;
    // double is accurate to far better than 1e-6 on this well-conditioned 3×2 instance
    // (rank is an interval [certified lower bound, L] in Ball).
    if (q.name != "rank") {
      EXPECT_NEAR(d, b.mid(), 1e-6 * (1 + std::abs(b.mid()))) << q.name;
    }
    if (q.tiers == QuantityTiers::AllTiers) {
      MpPrecision scope(256);
      const Mp m = quantity<Mp>(q.name, x, TierContext<Mp>{256});
      EXPECT_TRUE(b.contains(static_cast<double>(m)) || std::abs(static_cast<double>(m) - b.mid()) <= b.radius() + 1e-30) << q.name;
    } else {
      EXPECT_THROW(quantity<Mp>(q.name, x, TierContext<Mp>{256}), std::invalid_argument) << q.name;
    }
  }
  EXPECT_THROW(quantity<double>("frobnicity", x, TierContext<double>{}), std::invalid_argument);
}

TEST(QuantityRegistry, ComputableQuantitiesAreTheRowsWithAnEvaluator) {
  const std::vector<std::string> c = computable_quantities();
  EXPECT_EQ(c.front(), "alpha_max");
  for (const std::string& name : c) EXPECT_NE(default_quantities().find(name)->tiers, QuantityTiers::NoTier);
  for (const char* name : {"pi", "e", "logits", "q", "K", "X"}) {
    EXPECT_EQ(std::find(c.begin(), c.end(), name), c.end()) << name;
  }
}

// README's "Names:" paragraph lists exactly the registry's names (dtilde_A, … spelled out).
TEST(QuantityRegistry, ReadmeListsExactlyTheRegistrysNames) {
  std::ifstream in(std::string(ATTNCERT_SOURCE_DIR) + "/README.md");
  ASSERT_TRUE(in) << "cannot read README.md";
  std::stringstream text;
  text << in.rdbuf();
  const std::string readme = text.str();
  const std::size_t begin = readme.find("\nNames: ");
  ASSERT_NE(begin, std::string::npos) << "README has no 'Names:' paragraph";
  const std::size_t end = readme.find("\n\n", begin + 1);
  const std::string paragraph = readme.substr(begin, end - begin);
  std::set<std::string> listed;
  const std::regex code("`([A-Za-z_][A-Za-z0-9_]*)`");
  for (auto it = std::sregex_iterator(paragraph.begin(), paragraph.end(), code); it != std::sregex_iterator(); ++it) {
    listed.insert((*it)[1]);
  }
  const std::vector<std::string> names = default_quantities().names();
  EXPECT_EQ(listed, std::set<std::string>(names.begin(), names.end()));
}

// All-ones tokens: P = (1/L)·11ᵀ has singular values (1, 0, 0), so p = (1, 0, 0), entropy 0
// and effective rank exp(0) = 1. It used to be an indeterminate ball (printed "nan").
TEST(Quantities, EffectiveRankOfARankOneAttentionMatrixIsOne) {
  Instance x;
  x.arrays["X"] = RowMatrix<double>::Ones(3, 2);
  const Ball b = quantity<Ball>("effective_rank", x, TierContext<Ball>{128});
  ASSERT_TRUE(b.is_finite());
  EXPECT_TRUE(b.contains(1.0));
  EXPECT_LT(b.radius(), 1e-6);  // the zero singular values are enclosed to ~2^-100
  EXPECT_NEAR(quantity<double>("effective_rank", x, TierContext<double>{}), 1.0, 1e-12);
}

TEST(Quantities, DeltaRefusesAQueryOfAnotherLengthThanTheKeys) {
  Instance x = full_instance();
  x.arrays["q"] = RowMatrix<double>{{1.0, 2.0, 3.0}};  // d = 3, K has 2 columns
  EXPECT_THROW(quantity<Ball>("Delta", x, TierContext<Ball>{64}), std::invalid_argument);
  EXPECT_THROW(quantity<double>("Delta", x, TierContext<double>{}), std::invalid_argument);
}

// -p 1000000 sigma_min ran for minutes; now it is refused at once, naming the cap.
TEST(Quantities, SpectralWorkAboveTheCapIsRefusedAtOnce) {
  Instance x;
  x.arrays["K"] = RowMatrix<double>{{1.0, 0.0}, {0.0, 2.0}, {1.0, 1.0}};
  const auto start = std::chrono::steady_clock::now();
  try {
    (void)quantity<Ball>("sigma_min", x, TierContext<Ball>{1'000'000});
    FAIL() << "no exception";
  } catch (const std::domain_error& e) {
    EXPECT_NE(std::string(e.what()).find("above the cap 2e+10"), std::string::npos) << e.what();
  }
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(1));
  EXPECT_NO_THROW((void)quantity<Ball>("sigma_min", x, TierContext<Ball>{4096}));
}

}  // namespace
}  // namespace attncert
