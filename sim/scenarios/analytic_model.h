// Analytic durability models: what probability theory alone says a file's chance of loss is,
// so that the simulator's measured loss fractions can be checked against them
// (docs/capacity-planning.md, "Analytic models").
//
// - The Tahoe-LAFS reliability model (allmydata/reliability.py, ReliabilityModel.run): a Markov
//   chain over the number of surviving shares, stepped in fixed time quanta, with
//   check-and-repair at a fixed interval. Two variants: `kFaithful` reproduces Tahoe's
//   arithmetic exactly, including its leak (a file that reaches zero shares drops out of the
//   distribution at the next step, so its loss is no longer counted); `kCorrected` keeps that
//   mass in the zero-share state and changes nothing else.
// - The closed form without repair: every share survives a duration T independently with
//   probability e^(-T/L), so the number left is Binomial(n, e^(-T/L)), and the file is lost when
//   fewer than k are left.
//
// Both assume independent, exponentially distributed share lifetimes with mean L (a share dies
// with its server's disk; no correlated failures, no server coming back). Pure functions: no
// I/O, no randomness; the same inputs give bit-identical outputs.
#pragma once

#include <cstdint>
#include <vector>

#include "core/runtime/status.h"

namespace lafs::sim {

// Tahoe's calendar (reliability.py): a year is 365 days and a month 31 days.
inline constexpr std::int64_t kModelSecondsPerDay = 24 * 60 * 60;
inline constexpr std::int64_t kTahoeYearSeconds = 365 * kModelSecondsPerDay;
inline constexpr std::int64_t kTahoeMonthSeconds = 31 * kModelSecondsPerDay;

// Most shares a file may have: the erasure code's limit (core/codec/codec.h, kSharesMax).
inline constexpr int kModelSharesMax = 256;
// Most time steps the Tahoe model runs: each costs O(n^2), so a mistyped step cannot make a
// run take hours (10^6 steps take about half a second for n = 10, about a minute for n = 256).
inline constexpr std::int64_t kModelStepsMax = 1'000'000;
// Longest duration the Tahoe model accepts, in seconds: 1000 of Tahoe's years. Keeps every
// time the model computes far from overflow.
inline constexpr std::int64_t kModelDurationSecondsMax = 1000 * kTahoeYearSeconds;

enum class TahoeModelVariant {
  kFaithful,   // Tahoe's arithmetic, leak included: reproduces its pinned test values
  kCorrected,  // the zero-share state keeps its probability; everything else as kFaithful
};

// The inputs of ReliabilityModel.run, with its defaults (Tahoe's test, test_provisioning.py
// Reliability.test_basic, sets step_seconds to 100000 and keeps the others). Rules, checked by
// validate_tahoe_model: 1 <= k <= repair_below <= n <= kModelSharesMax; lifetime_seconds > 0 (may
// be +infinity: nothing decays); 0 < duration_seconds <= kModelDurationSecondsMax; step_seconds >
// 0; check_interval_seconds > 0; the run must take at most kModelStepsMax steps.
struct TahoeModelParams {
  // Mean lifetime of a share, in seconds: a share survives a step of s seconds with probability
  // e^(-s/lifetime_seconds) (Tahoe's drive_lifetime; exponential, so this is the mean, not the
  // median, which is ln 2 = 0.69 times the mean).
  double lifetime_seconds = 8.0 * static_cast<double>(kTahoeYearSeconds);
  int k = 3;             // shares needed to read the file
  int repair_below = 7;  // Tahoe's R: a check that finds k <= shares < R repairs back to n
  int n = 10;            // shares written
  std::int64_t duration_seconds = 5 * kTahoeYearSeconds;     // Tahoe's report_span
  std::int64_t step_seconds = kTahoeMonthSeconds;            // Tahoe's delta: one time quantum
  std::int64_t check_interval_seconds = kTahoeMonthSeconds;  // Tahoe's check_period
  TahoeModelVariant variant = TahoeModelVariant::kFaithful;
};

struct TahoeModelResult {
  // Decay steps run. Tahoe steps at t = 0, step, 2 step, ... while t < duration + step, and
  // decays at t = 0 too, so this is ceil(duration / step) + 1 and the modelled time,
  // steps * step_seconds, is one to two steps longer than the duration. Both variants keep it.
  std::int64_t steps = 0;
  // Checks run: at the first step whose time is at least check_interval_seconds after the
  // previous check's (the first "previous check" is t = 0).
  std::int64_t checks = 0;
  // P(fewer than k shares) at the end: without repair (Tahoe's P_dead_unmaintained) and with
  // check-and-repair (P_dead_maintained).
  double p_lost_unmaintained = 0;
  double p_lost_maintained = 0;
  // Expected number of repairs, and of shares they create, over the run (with repair).
  double expected_repairs = 0;
  double expected_new_shares = 0;
  // The final distributions: element s is P(s shares left), s = 0..n. Under kFaithful they sum
  // to less than 1 (the leaked mass is missing); under kCorrected to 1 up to rounding.
  std::vector<double> unmaintained_shares;
  std::vector<double> maintained_shares;
};

// OK, or InvalidArgument naming every broken rule, one per line, as "field: rule, got value".
Status validate_tahoe_model(const TahoeModelParams& params);

// Runs the Tahoe model. Errors: those of validate_tahoe_model.
Result<TahoeModelResult> run_tahoe_model(const TahoeModelParams& params);

// The closed form without repair. Rules, checked by binomial_loss_probability:
// 1 <= k <= n <= kModelSharesMax; lifetime_days > 0 (may be +infinity); duration_days >= 0
// and finite.
struct BinomialModelParams {
  int k = 3;                 // shares needed to read the file
  int n = 10;                // shares written
  double lifetime_days = 0;  // mean (exponential) lifetime of a share, in days
  double duration_days = 0;  // how long the file goes without repair, in days
};

// e^(-duration/lifetime): the chance that one share survives the duration. Assumes valid
// params.
double share_survival_probability(const BinomialModelParams& params);

// P(Binomial(n, e^(-duration/lifetime)) < k). Errors: InvalidArgument naming every broken
// rule, one per line.
Result<double> binomial_loss_probability(const BinomialModelParams& params);

}  // namespace lafs::sim
