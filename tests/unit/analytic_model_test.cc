// Tests of the analytic durability models (sim/scenarios/analytic_model.h): the Tahoe model
// against the values Tahoe-LAFS's own test pins, its corrected variant, the binomial closed form
// against values computed independently, edge cases, and refused parameters.
#include "sim/scenarios/analytic_model.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <numeric>
#include <string>

namespace lafs::sim {
namespace {

constexpr double kInfinity = std::numeric_limits<double>::infinity();
constexpr double kDaysPerTahoeYear = 365;
// Agreement asked of values computed in another order of operations (another program, or the
// closed form against the chain): a few hundred units in the last place.
constexpr double kRelativeTolerance = 1e-12;

// |actual - expected| <= tolerance * |expected|, with both values in the failure message.
::testing::AssertionResult near_relative(double actual, double expected,
                                         double tolerance = kRelativeTolerance) {
  if (std::fabs(actual - expected) <= tolerance * std::fabs(expected)) {
    return ::testing::AssertionSuccess();
  }
  char buf[160];
  std::snprintf(buf, sizeof buf, "%.17g differs from %.17g by %.3g relative", actual, expected,
                (actual - expected) / expected);
  return ::testing::AssertionFailure() << buf;
}

// Tahoe's test (src/allmydata/test/test_provisioning.py, Reliability.test_basic) runs
// ReliabilityModel.run(delta=100000, report_period=3*MONTH, report_span=5*YEAR), every other
// parameter at its default: drive_lifetime 8 years, k=3, R=7, N=10, check_period one month.
TahoeModelParams tahoe_test_params(TahoeModelVariant variant) {
  TahoeModelParams p;
  p.lifetime_seconds = 8.0 * static_cast<double>(kTahoeYearSeconds);
  p.k = 3;
  p.repair_below = 7;
  p.n = 10;
  p.duration_seconds = 5 * kTahoeYearSeconds;
  p.step_seconds = 100'000;
  p.check_interval_seconds = kTahoeMonthSeconds;
  p.variant = variant;
  return p;
}

TahoeModelResult run_ok(const TahoeModelParams& params) {
  Result<TahoeModelResult> r = run_tahoe_model(params);
  EXPECT_TRUE(r.ok()) << r.status().to_string();
  return r.ok() ? *r : TahoeModelResult{};
}

double sum(const std::vector<double>& v) {
  return std::accumulate(v.begin(), v.end(), 0.0);
}

TEST(TahoeModel, FaithfulReproducesTahoesPinnedValues) {
  const TahoeModelResult r = run_ok(tahoe_test_params(TahoeModelVariant::kFaithful));
  // Tahoe's test pins these (to 7 places; these are the full values it printed). Computed here
  // in the same order of operations; they agree to about 1e-15.
  EXPECT_TRUE(near_relative(r.p_lost_unmaintained, 0.033591004555395272));
  EXPECT_TRUE(near_relative(r.p_lost_maintained, 3.2983995819177542e-08));
  // Tahoe's loop decays at t = 0, 100000, ..., 157700000: ceil(157680000 / 100000) + 1 steps.
  EXPECT_EQ(r.steps, 1578);
  // A check each 27 steps (2700000 s >= one month of 2678400 s), the first at step 27.
  EXPECT_EQ(r.checks, 1577 / 27);
  // Tahoe's cumulative_number_of_repairs and cumulative_number_of_new_shares at the last
  // sample (not pinned by its test; from the Python re-implementation).
  EXPECT_TRUE(near_relative(r.expected_repairs, 0.9175452023110594));
  EXPECT_TRUE(near_relative(r.expected_new_shares, 3.699416034555604));
  ASSERT_EQ(r.unmaintained_shares.size(), 11u);
  ASSERT_EQ(r.maintained_shares.size(), 11u);
  // The leak: what reached zero shares before the last step is gone from the distribution.
  EXPECT_LT(sum(r.unmaintained_shares), 1.0 - 1e-4);
}

TEST(TahoeModel, CorrectedKeepsTheMassThatReachesZeroShares) {
  const TahoeModelResult r = run_ok(tahoe_test_params(TahoeModelVariant::kCorrected));
  // Issue 11: "the corrected values are about 0.0340614 and 3.4697e-08". Full values from an
  // independent re-implementation in Python of Tahoe's model with decay[0][0] = 1 (same
  // arithmetic, plain loops instead of Numeric): 0.03406142228586496, 3.4696838393771096e-08.
  EXPECT_TRUE(near_relative(r.p_lost_unmaintained, 0.03406142228586496));
  EXPECT_TRUE(near_relative(r.p_lost_maintained, 3.4696838393771096e-08));
  EXPECT_EQ(r.steps, 1578);
  // Up to rounding: each of the 1578 steps multiplies by rows that sum to 1 within an ulp or so.
  EXPECT_TRUE(near_relative(sum(r.unmaintained_shares), 1.0));
  EXPECT_TRUE(near_relative(sum(r.maintained_shares), 1.0));

  // Without repair the corrected chain is the closed form at the time it models: 1578 steps of
  // 100000 s (python3, decimal at 50 digits: 0.034061422285859844).
  BinomialModelParams b;
  b.k = 3;
  b.n = 10;
  b.lifetime_days = 8 * kDaysPerTahoeYear;
  b.duration_days = 1578.0 * 100'000 / static_cast<double>(kModelSecondsPerDay);
  Result<double> closed = binomial_loss_probability(b);
  ASSERT_TRUE(closed.ok()) << closed.status().to_string();
  EXPECT_TRUE(near_relative(*closed, 0.034061422285859844));
  EXPECT_TRUE(near_relative(r.p_lost_unmaintained, *closed));
}

TEST(TahoeModel, CorrectedDiffersFromFaithfulOnlyInTheZeroShareState) {
  const TahoeModelResult f = run_ok(tahoe_test_params(TahoeModelVariant::kFaithful));
  const TahoeModelResult c = run_ok(tahoe_test_params(TahoeModelVariant::kCorrected));
  for (std::size_t s = 1; s < f.unmaintained_shares.size(); ++s) {
    EXPECT_EQ(c.unmaintained_shares[s], f.unmaintained_shares[s]) << s;
  }
  // What faithful lost is what corrected kept at zero shares (beyond faithful's last step).
  const double leaked = 1.0 - sum(f.unmaintained_shares);
  EXPECT_TRUE(near_relative(c.unmaintained_shares[0] - f.unmaintained_shares[0], leaked, 1e-9));
  EXPECT_GT(c.p_lost_maintained, f.p_lost_maintained);
  EXPECT_EQ(c.checks, f.checks);
}

TEST(TahoeModel, DefaultsAreTahoesAndStepMonthly) {
  const TahoeModelParams defaults;
  EXPECT_EQ(defaults.lifetime_seconds, 8.0 * 365 * 86400);
  EXPECT_EQ(defaults.k, 3);
  EXPECT_EQ(defaults.repair_below, 7);
  EXPECT_EQ(defaults.n, 10);
  EXPECT_EQ(defaults.duration_seconds, 5 * 365 * 86400);
  EXPECT_EQ(defaults.step_seconds, 31 * 86400);
  EXPECT_EQ(defaults.check_interval_seconds, 31 * 86400);
  EXPECT_EQ(defaults.variant, TahoeModelVariant::kFaithful);
  const TahoeModelResult r = run_ok(defaults);
  // ceil(1825 / 31) + 1 steps; a check at every step but the first. Values from the Python
  // re-implementation that reproduces Tahoe's pinned ones.
  EXPECT_EQ(r.steps, 60);
  EXPECT_EQ(r.checks, 59);
  EXPECT_TRUE(near_relative(r.p_lost_unmaintained, 0.036653933285627056));
  EXPECT_TRUE(near_relative(r.p_lost_maintained, 3.315165974280566e-08));
}

TEST(TahoeModel, RepairCountsFollowTheMaintainedChain) {
  const TahoeModelResult r = run_ok(tahoe_test_params(TahoeModelVariant::kCorrected));
  // Each repair makes between n - R + 1 = 4 and n - k = 7 shares.
  EXPECT_GT(r.expected_repairs, 0.0);
  EXPECT_GE(r.expected_new_shares, 4 * r.expected_repairs);
  EXPECT_LE(r.expected_new_shares, 7 * r.expected_repairs);
  // At most one repair per check.
  EXPECT_LE(r.expected_repairs, static_cast<double>(r.checks));
}

TEST(TahoeModel, NothingDecaysWithAnInfiniteLifetime) {
  for (TahoeModelVariant v : {TahoeModelVariant::kFaithful, TahoeModelVariant::kCorrected}) {
    TahoeModelParams p = tahoe_test_params(v);
    p.lifetime_seconds = kInfinity;
    const TahoeModelResult r = run_ok(p);
    EXPECT_EQ(r.p_lost_unmaintained, 0.0);
    EXPECT_EQ(r.p_lost_maintained, 0.0);
    EXPECT_EQ(r.expected_repairs, 0.0);
    EXPECT_EQ(r.unmaintained_shares.back(), 1.0);
    EXPECT_EQ(r.maintained_shares.back(), 1.0);
  }
}

TEST(TahoeModel, RepairBelowKNeverRepairs) {
  TahoeModelParams p = tahoe_test_params(TahoeModelVariant::kCorrected);
  p.repair_below = p.k;
  const TahoeModelResult r = run_ok(p);
  EXPECT_EQ(r.expected_repairs, 0.0);
  EXPECT_EQ(r.expected_new_shares, 0.0);
  EXPECT_EQ(r.p_lost_maintained, r.p_lost_unmaintained);
  EXPECT_EQ(r.maintained_shares, r.unmaintained_shares);
}

TEST(TahoeModel, KEqualsNIsLostAtTheFirstMissingShare) {
  // k = R = n = 4: no repair possible; the file survives only if all four shares do, so the
  // corrected chain gives 1 - p^4, p the survival over the modelled time.
  TahoeModelParams p = tahoe_test_params(TahoeModelVariant::kCorrected);
  p.k = p.repair_below = p.n = 4;
  const TahoeModelResult r = run_ok(p);
  const double p_survive =
      std::exp(-static_cast<double>(r.steps * p.step_seconds) / p.lifetime_seconds);
  EXPECT_TRUE(near_relative(r.p_lost_unmaintained, 1.0 - std::pow(p_survive, 4)));
  EXPECT_EQ(r.p_lost_maintained, r.p_lost_unmaintained);
}

TEST(TahoeModel, MoreFrequentChecksLoseLess) {
  TahoeModelParams p = tahoe_test_params(TahoeModelVariant::kCorrected);
  const double monthly = run_ok(p).p_lost_maintained;
  p.check_interval_seconds = 7 * kModelSecondsPerDay;
  const double weekly = run_ok(p).p_lost_maintained;
  p.check_interval_seconds = 365 * kModelSecondsPerDay;
  const double yearly = run_ok(p).p_lost_maintained;
  EXPECT_LT(weekly, monthly);
  EXPECT_LT(monthly, yearly);
}

TEST(TahoeModel, RefusesInvalidParametersNamingEachOne) {
  struct Case {
    const char* what;
    void (*change)(TahoeModelParams&);
    const char* expected;
  };
  const Case cases[] = {
      {"k 0", [](TahoeModelParams& p) { p.k = 0; }, "k: must be between 1 and n (10), got 0"},
      {"k > n", [](TahoeModelParams& p) { p.k = 11; }, "k: must be between 1 and n (10), got 11"},
      {"n 0", [](TahoeModelParams& p) { p.n = 0; }, "n: must be between 1 and 256, got 0"},
      {"n 257", [](TahoeModelParams& p) { p.n = 257; }, "n: must be between 1 and 256, got 257"},
      {"R < k", [](TahoeModelParams& p) { p.repair_below = 2; },
       "repair_below: must be between k (3, never repair) and n (10), got 2"},
      {"R > n", [](TahoeModelParams& p) { p.repair_below = 11; },
       "repair_below: must be between k (3, never repair) and n (10), got 11"},
      {"lifetime 0", [](TahoeModelParams& p) { p.lifetime_seconds = 0; },
       "lifetime_seconds: must be > 0, got 0"},
      {"lifetime NaN", [](TahoeModelParams& p) { p.lifetime_seconds = std::nan(""); },
       "lifetime_seconds: must be > 0, got nan"},
      {"duration 0", [](TahoeModelParams& p) { p.duration_seconds = 0; },
       "duration_seconds: must be > 0 and <= 31536000000, got 0"},
      {"duration too long",
       [](TahoeModelParams& p) { p.duration_seconds = kModelDurationSecondsMax + 1; },
       "duration_seconds: must be > 0 and <= 31536000000, got 31536000001"},
      {"step 0", [](TahoeModelParams& p) { p.step_seconds = 0; }, "step_seconds: must be > 0"},
      {"too many steps", [](TahoeModelParams& p) { p.step_seconds = 100; },
       "step_seconds: must make at most 1000000 steps of the duration (ceil(duration / step) + "
       "1), got 100 (1576801 steps)"},
      {"check 0", [](TahoeModelParams& p) { p.check_interval_seconds = 0; },
       "check_interval_seconds: must be > 0, got 0"},
  };
  for (const Case& c : cases) {
    TahoeModelParams p = tahoe_test_params(TahoeModelVariant::kFaithful);
    c.change(p);
    Result<TahoeModelResult> r = run_tahoe_model(p);
    ASSERT_FALSE(r.ok()) << c.what;
    EXPECT_EQ(r.status().code(), ErrorCode::kInvalidArgument) << c.what;
    EXPECT_NE(r.status().message().find(c.expected), std::string::npos)
        << c.what << ": " << r.status().message();
    EXPECT_EQ(validate_tahoe_model(p), r.status()) << c.what;
  }
}

TEST(TahoeModel, ReportsEveryBrokenRuleAtOnce) {
  TahoeModelParams p;
  p.k = 0;
  p.lifetime_seconds = -1;
  p.step_seconds = -5;
  p.check_interval_seconds = 0;
  Status s = validate_tahoe_model(p);
  ASSERT_FALSE(s.is_ok());
  EXPECT_EQ(s.message(),
            "lifetime_seconds: must be > 0, got -1\n"
            "k: must be between 1 and n (10), got 0\n"
            "step_seconds: must be > 0, got -5\n"
            "check_interval_seconds: must be > 0, got 0");
}

BinomialModelParams binomial(int k, int n, double lifetime_days, double duration_days) {
  BinomialModelParams p;
  p.k = k;
  p.n = n;
  p.lifetime_days = lifetime_days;
  p.duration_days = duration_days;
  return p;
}

double binomial_ok(const BinomialModelParams& p) {
  Result<double> r = binomial_loss_probability(p);
  EXPECT_TRUE(r.ok()) << r.status().to_string();
  return r.ok() ? *r : std::nan("");
}

// Expected values computed independently with Python's decimal module at 50 digits:
//   from decimal import Decimal as D, getcontext; from math import comb
//   getcontext().prec = 50
//   def p_lost(k, n, L, T):
//       p = (-D(T) / D(L)).exp()
//       return sum(comb(n, i) * p**i * (1 - p)**(n - i) for i in range(k))
//   "%.17g" % p_lost(3, 10, 365 * 8, 1825)   # and so on; D("0.001") for a thousandth of a day
// (computing 1 - p in doubles instead gives 8.514297934463074e-51 for that last one: 4.5e-10 off)
TEST(BinomialModel, MatchesValuesComputedIndependently) {
  // 3-of-10 over 5 years (1825 days), mean lifetimes of 1, 2, 4 and 8 years of 365 days.
  EXPECT_TRUE(near_relative(binomial_ok(binomial(3, 10, 365, 1825)), 0.99996456944513001));
  EXPECT_TRUE(near_relative(binomial_ok(binomial(3, 10, 730, 1825)), 0.95719622954169026));
  EXPECT_TRUE(near_relative(binomial_ok(binomial(3, 10, 1460, 1825)), 0.41957229462515727));
  EXPECT_TRUE(near_relative(binomial_ok(binomial(3, 10, 2920, 1825)), 0.033938319266300164));
  // k = n: lost at the first missing share, 1 - e^(-10 / 2920).
  EXPECT_TRUE(near_relative(binomial_ok(binomial(10, 10, 2920, 1)), 0.0034188000831290102));
  // 1-of-1: 1 - e^(-1/2).
  EXPECT_TRUE(near_relative(binomial_ok(binomial(1, 1, 100, 50)), 0.39346934028736658));
  // Short durations, where 1 - e^(-x) must not be computed by subtracting from 1: one day, and
  // a thousandth of a day (a share dies with probability 3.4e-7; the file needs 8 of 10 to).
  EXPECT_TRUE(near_relative(binomial_ok(binomial(3, 10, 2920, 1)), 8.4974846768157738e-27));
  EXPECT_TRUE(near_relative(binomial_ok(binomial(3, 10, 2920, 0.001)), 8.5142979306254664e-51));
}

TEST(BinomialModel, EdgeCases) {
  EXPECT_EQ(binomial_ok(binomial(3, 10, 2920, 0)), 0.0);          // no time: nothing lost
  EXPECT_EQ(binomial_ok(binomial(3, 10, kInfinity, 1825)), 0.0);  // no decay
  EXPECT_EQ(binomial_ok(binomial(3, 10, 1e-300, 1825)), 1.0);     // everything decays
  EXPECT_EQ(share_survival_probability(binomial(3, 10, 2920, 0)), 1.0);
  EXPECT_TRUE(
      near_relative(share_survival_probability(binomial(3, 10, 2920, 1825)), std::exp(-0.625)));
  // Needing more shares can only lose more.
  double last = 0;
  for (int k = 1; k <= 10; ++k) {
    const double p = binomial_ok(binomial(k, 10, 2920, 1825));
    EXPECT_GT(p, last) << k;
    last = p;
  }
  EXPECT_GT(binomial_ok(binomial(128, 256, 2920, 1825)), 0.0);  // the largest n is computable
}

TEST(BinomialModel, RefusesInvalidParametersNamingEachOne) {
  struct Case {
    BinomialModelParams params;
    const char* expected;
  };
  const Case cases[] = {
      {binomial(0, 10, 2920, 1825), "k: must be between 1 and n (10), got 0"},
      {binomial(11, 10, 2920, 1825), "k: must be between 1 and n (10), got 11"},
      {binomial(3, 257, 2920, 1825), "n: must be between 1 and 256, got 257"},
      {binomial(3, 10, 0, 1825), "lifetime_days: must be > 0, got 0"},
      {binomial(3, 10, -2920, 1825), "lifetime_days: must be > 0, got -2920"},
      {binomial(3, 10, std::nan(""), 1825), "lifetime_days: must be > 0, got nan"},
      {binomial(3, 10, 2920, -1), "duration_days: must be >= 0 and finite, got -1"},
      {binomial(3, 10, 2920, kInfinity), "duration_days: must be >= 0 and finite, got inf"},
      {binomial(3, 10, 2920, std::nan("")), "duration_days: must be >= 0 and finite, got nan"},
  };
  for (const Case& c : cases) {
    Result<double> r = binomial_loss_probability(c.params);
    ASSERT_FALSE(r.ok()) << c.expected;
    EXPECT_EQ(r.status().code(), ErrorCode::kInvalidArgument);
    EXPECT_NE(r.status().message().find(c.expected), std::string::npos) << r.status().message();
  }
}

}  // namespace
}  // namespace lafs::sim
