// Simulator throughput: events per second of wall time on one core. The issue's bar is
// 1,000,000 events/s for a small-message workload (docs/performance.md has the figures).
#include <benchmark/benchmark.h>

#include <memory>
#include <vector>

#include "core/runtime/scope.h"
#include "net/sim/sim_loop.h"
#include "net/sim/sim_network.h"
#include "sim/scenarios/scenario_loader.h"
#include "sim/scenarios/toy_runner.h"

namespace lafs::sim {
namespace {

// The bare event loop: schedule and run no-op callbacks, a few pending at a time.
void BM_EventLoopNoop(benchmark::State& state) {
  SimLoop loop;
  std::uint64_t events = 0;
  for (auto _ : state) {
    for (int i = 0; i < 1000; ++i) loop.schedule_at(loop.now() + microseconds(i % 17), [] {});
    events += loop.run();
  }
  state.counters["events_per_s"] =
      benchmark::Counter(static_cast<double>(events), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_EventLoopNoop);

Task<void> pinger(Network* net, std::string addr, int rounds) {
  auto c = co_await net->connect(addr);
  if (!c.ok()) co_return;
  for (int i = 0; i < rounds; ++i) {
    if (!(co_await (*c)->send(Bytes(64, 1))).is_ok()) co_return;
    if (!(co_await (*c)->receive()).ok()) co_return;
  }
}

Task<void> ponger(Listener* l) {
  auto c = co_await l->accept();
  if (!c.ok()) co_return;
  for (;;) {
    auto f = co_await (*c)->receive();
    if (!f.ok()) co_return;
    if (!(co_await (*c)->send(std::move(*f))).is_ok()) co_return;
  }
}

// Small messages: `pairs` connections each ping-ponging 64-byte frames over the simulated
// network (latency, FIFO, windows and trace digest all on). Counts every loop event.
void BM_SmallMessages(benchmark::State& state) {
  const int pairs = static_cast<int>(state.range(0));
  std::uint64_t events = 0, messages = 0;
  for (auto _ : state) {
    SimLoop loop;
    SimNetwork net(loop, SimRandom(7), SimNetworkOptions{});
    std::vector<std::unique_ptr<Network>> eps;
    std::vector<std::unique_ptr<Listener>> listeners;
    Scope scope(loop);
    for (int i = 0; i < pairs; ++i) {
      HostId a = net.add_host("a" + std::to_string(i));
      HostId b = net.add_host("b" + std::to_string(i));
      eps.push_back(net.endpoint(a));
      eps.push_back(net.endpoint(b));
      listeners.push_back(std::move(*eps.back()->listen(net.address(b, 1))));
      scope.spawn(ponger(listeners.back().get()));
      scope.spawn(pinger(eps[eps.size() - 2].get(), net.address(b, 1), 1000));
    }
    events += loop.run();
    messages += net.stats().frames_delivered;
  }
  state.counters["events_per_s"] =
      benchmark::Counter(static_cast<double>(events), benchmark::Counter::kIsRate);
  state.counters["messages_per_s"] =
      benchmark::Counter(static_cast<double>(messages), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_SmallMessages)->Arg(1)->Arg(100);

// The whole toy scenario (200 nodes, faults on) for one simulated hour, through the runner.
void BM_ToyScenarioHour(benchmark::State& state) {
  auto s = load_scenario(R"(
    name: "bench" seed: 1 duration_days: 0.0416666667
    servers { latency_ms_mean: 20 up_mbps: 100 down_mbps: 100 }
    faults { message_loss: 0.01 duplication: 0.005 reorder: 0.02 latency_ms_jitter: 10
             crash_interval_days_mean: 3 crash_downtime_hours_mean: 1 crash_loss: 0.5 }
    toy { nodes: 200 requests_per_node_per_day: 14400 request_timeout_ms: 1000
          message_size_bytes: 64 })",
                         "bench");
  if (!s.ok()) {
    state.SkipWithError(s.status().to_string().c_str());
    return;
  }
  std::uint64_t events = 0;
  for (auto _ : state) {
    auto r = run_toy_scenario(*s, 1, ToyRunOptions{});
    events += r->events;
  }
  state.counters["events_per_s"] =
      benchmark::Counter(static_cast<double>(events), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_ToyScenarioHour)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace lafs::sim
