// The analytic durability models (analytic_model.h). The Tahoe model follows the arithmetic of
// allmydata/reliability.py step by step, in the same order of operations, so that it reproduces
// Tahoe's pinned test values to the last few bits; comments name the Python it mirrors.
#include "sim/scenarios/analytic_model.h"

#include <charconv>
#include <cmath>
#include <cstddef>
#include <string>
#include <string_view>
#include <utility>

namespace lafs::sim {
namespace {

// Shortest round-trip form ("8", "0.5", "1e+20"), or "inf", "-inf", "nan".
std::string format_number(double value) {
  if (!std::isfinite(value)) return std::isnan(value) ? "nan" : (value > 0 ? "inf" : "-inf");
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value);
  LAFS_ASSERT(ec == std::errc());
  return std::string(buf, end);
}

// Collects every broken rule, so that one call reports all of them.
class RuleChecker {
 public:
  void fail(std::string_view field, std::string_view rule, const std::string& got) {
    if (!message_.empty()) message_ += '\n';
    message_ += std::string(field) + ": " + std::string(rule) + ", got " + got;
  }

  // The share counts: 1 <= k <= n <= kModelSharesMax. False if any is broken.
  bool shares(int k, int n) {
    const bool n_ok = n >= 1 && n <= kModelSharesMax;
    if (!n_ok) {
      fail("n", "must be between 1 and " + std::to_string(kModelSharesMax), std::to_string(n));
    }
    if (!(k >= 1 && (!n_ok || k <= n))) {
      fail("k", n_ok ? "must be between 1 and n (" + std::to_string(n) + ")" : "must be >= 1",
           std::to_string(k));
      return false;
    }
    return n_ok;
  }

  // A mean lifetime: > 0, +infinity allowed (nothing decays). Written so that NaN fails.
  void lifetime(std::string_view field, double value) {
    if (!(value > 0)) fail(field, "must be > 0", format_number(value));
  }

  Status finish() const {
    if (message_.empty()) return Status{};
    return invalid_argument(message_);
  }

 private:
  std::string message_;
};

// Steps Tahoe's loop `for t in range(0, report_span + delta, delta)` runs:
// ceil(duration / step) + 1, computed without overflow.
std::int64_t tahoe_steps(std::int64_t duration_seconds, std::int64_t step_seconds) {
  return duration_seconds / step_seconds + (duration_seconds % step_seconds != 0 ? 1 : 0) + 1;
}

// The number of ways to choose i of n, as Tahoe's statistics.binomial_coeff computes it: a
// running product in doubles, floored after each division. Exact while the products stay below
// 2^53, which covers every encoding in use by far (for n = 10 the largest is 1260); beyond
// that it rounds, by a few units in the last place, as Tahoe's does.
double binomial_coefficient(int n, int i) {
  if (i > n - i) i = n - i;
  double c = 1.0;
  for (int j = 1; j <= i; ++j) c = std::floor(c * static_cast<double>(n - i + j) / j);
  return c;
}

// decay[s][e]: P(e shares left after one step | s shares before), lower triangular, stored
// row by row ((n + 1) x (n + 1)). Tahoe's build_decay_matrix: row s > 0 is the Binomial(s, p)
// mass function, each term computed as pow(p, e) * pow(1 - p, s - e) * C(s, e)
// (statistics.binomial_distribution_pmf); row 0 is all zeros there, which is the leak.
std::vector<double> decay_matrix(int n, double p_survive, TahoeModelVariant variant) {
  const std::size_t width = static_cast<std::size_t>(n) + 1;
  std::vector<double> decay(width * width, 0.0);
  if (variant == TahoeModelVariant::kCorrected) decay[0] = 1.0;  // zero shares stay zero
  for (int s = 1; s <= n; ++s) {
    for (int e = 0; e <= s; ++e) {
      decay[static_cast<std::size_t>(s) * width + static_cast<std::size_t>(e)] =
          std::pow(p_survive, e) * std::pow(1.0 - p_survive, s - e) * binomial_coefficient(s, e);
    }
  }
  return decay;
}

// state <- state x decay (a row vector times the matrix), each sum in ascending start state as
// the matrix product in Tahoe does it.
void apply_decay(const std::vector<double>& decay, std::vector<double>& state,
                 std::vector<double>& scratch) {
  const std::size_t width = state.size();
  for (std::size_t e = 0; e < width; ++e) {
    double sum = 0.0;
    for (std::size_t s = e; s < width; ++s) sum += state[s] * decay[s * width + e];
    scratch[e] = sum;
  }
  state.swap(scratch);
}

// Sum of state[lo..hi): Tahoe's dot products with 0/1 masks (DEAD, REPAIRp).
double mass(const std::vector<double>& state, int lo, int hi) {
  double sum = 0.0;
  for (int s = lo; s < hi; ++s) sum += state[static_cast<std::size_t>(s)];
  return sum;
}

}  // namespace

Status validate_tahoe_model(const TahoeModelParams& params) {
  RuleChecker check;
  check.lifetime("lifetime_seconds", params.lifetime_seconds);
  if (check.shares(params.k, params.n) &&
      !(params.repair_below >= params.k && params.repair_below <= params.n)) {
    check.fail("repair_below",
               "must be between k (" + std::to_string(params.k) + ", never repair) and n (" +
                   std::to_string(params.n) + ")",
               std::to_string(params.repair_below));
  }
  const bool duration_ok =
      params.duration_seconds > 0 && params.duration_seconds <= kModelDurationSecondsMax;
  if (!duration_ok) {
    check.fail("duration_seconds", "must be > 0 and <= " + std::to_string(kModelDurationSecondsMax),
               std::to_string(params.duration_seconds));
  }
  if (!(params.step_seconds > 0)) {
    check.fail("step_seconds", "must be > 0", std::to_string(params.step_seconds));
  } else if (duration_ok) {
    const std::int64_t steps = tahoe_steps(params.duration_seconds, params.step_seconds);
    if (steps > kModelStepsMax) {
      check.fail("step_seconds",
                 "must make at most " + std::to_string(kModelStepsMax) +
                     " steps of the duration (ceil(duration / step) + 1)",
                 std::to_string(params.step_seconds) + " (" + std::to_string(steps) + " steps)");
    }
  }
  if (!(params.check_interval_seconds > 0)) {
    check.fail("check_interval_seconds", "must be > 0",
               std::to_string(params.check_interval_seconds));
  }
  return check.finish();
}

Result<TahoeModelResult> run_tahoe_model(const TahoeModelParams& params) {
  LAFS_RETURN_IF_ERROR(validate_tahoe_model(params));
  const int k = params.k;
  const int n = params.n;
  const std::size_t width = static_cast<std::size_t>(n) + 1;

  // p_in_period: exp(-1.0 * period / avg_lifetime).
  const double p_survive =
      std::exp(-1.0 * static_cast<double>(params.step_seconds) / params.lifetime_seconds);
  const std::vector<double> decay = decay_matrix(n, p_survive, params.variant);

  TahoeModelResult result;
  result.steps = tahoe_steps(params.duration_seconds, params.step_seconds);
  std::vector<double> unmaintained(width, 0.0);
  unmaintained[static_cast<std::size_t>(n)] = 1.0;  // START: all n shares
  std::vector<double> maintained = unmaintained;
  std::vector<double> scratch(width, 0.0);

  // Tahoe compares `t - last_check > check_period - 1` on whole seconds, i.e. >= the interval.
  std::int64_t last_check = 0;
  for (std::int64_t i = 0; i < result.steps; ++i) {
    const std::int64_t t = i * params.step_seconds;
    apply_decay(decay, unmaintained, scratch);
    apply_decay(decay, maintained, scratch);
    if (t - last_check < params.check_interval_seconds) continue;
    last_check = t;
    ++result.checks;
    // A check that finds k <= s < R shares repairs back to n (build_repair_matrix); below k
    // the file is lost and stays so, from R up it is left alone.
    result.expected_repairs += mass(maintained, k, params.repair_below);
    double new_shares = 0.0;
    for (int s = k; s < params.repair_below; ++s) {
      new_shares += maintained[static_cast<std::size_t>(s)] * static_cast<double>(n - s);
    }
    result.expected_new_shares += new_shares;
    // state x repair, summed in ascending start state like the matrix product.
    double repaired_to_n = 0.0;
    for (int s = k; s < params.repair_below; ++s) {
      repaired_to_n += maintained[static_cast<std::size_t>(s)];
      maintained[static_cast<std::size_t>(s)] = 0.0;
    }
    maintained[static_cast<std::size_t>(n)] =
        repaired_to_n + maintained[static_cast<std::size_t>(n)];
  }

  result.p_lost_unmaintained = mass(unmaintained, 0, k);
  result.p_lost_maintained = mass(maintained, 0, k);
  result.unmaintained_shares = std::move(unmaintained);
  result.maintained_shares = std::move(maintained);
  return result;
}

double share_survival_probability(const BinomialModelParams& params) {
  return std::exp(-params.duration_days / params.lifetime_days);
}

Result<double> binomial_loss_probability(const BinomialModelParams& params) {
  RuleChecker check;
  check.shares(params.k, params.n);
  check.lifetime("lifetime_days", params.lifetime_days);
  if (!(params.duration_days >= 0 && std::isfinite(params.duration_days))) {
    check.fail("duration_days", "must be >= 0 and finite", format_number(params.duration_days));
  }
  LAFS_RETURN_IF_ERROR(check.finish());

  const double ratio = params.duration_days / params.lifetime_days;
  const double p_survive = std::exp(-ratio);
  // 1 - e^(-x) without the cancellation of subtracting from 1: for short durations the chance
  // of losing a share is tiny and the loss probability is a power of it.
  const double p_die = -std::expm1(-ratio);
  // Every term is >= 0, so the sum has no cancellation either.
  double sum = 0.0;
  for (int i = 0; i < params.k; ++i) {
    sum +=
        binomial_coefficient(params.n, i) * std::pow(p_survive, i) * std::pow(p_die, params.n - i);
  }
  return sum;
}

}  // namespace lafs::sim
