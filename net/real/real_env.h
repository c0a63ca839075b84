// RealEnv: the production Env, bundling the Asio executor, clocks, TCP, the POSIX disk, RocksDB,
// OS randomness, the compute pool and a stderr logger. Only bin/ and test fixtures make one.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "core/env/env.h"
#include "core/runtime/status.h"
#include "net/real/posix_disk.h"
#include "net/real/real_clock.h"
#include "net/real/real_executor.h"
#include "net/real/real_random.h"
#include "net/real/real_tcp_network.h"
#include "net/real/rocks_kv.h"
#include "net/real/thread_pool_compute.h"

namespace lafs::real {

struct RealEnvOptions {
  std::string data_dir;             // the Disk's root; created (one level) when missing
  std::string kv_dir;               // the RocksDB directory; created when missing
  std::size_t compute_threads = 0;  // 0: one per hardware thread
  RealTcpNetworkOptions network;
  LogLevel log_level_min = LogLevel::kInfo;
};

// Writes "2026-01-01T00:00:00.123Z WARN component: message" lines to stderr, one write(2) each
// so that lines from several processes sharing a terminal do not interleave mid-line.
class StderrLogger final : public Logger {
 public:
  explicit StderrLogger(LogLevel level_min) : level_min_(level_min) {}
  void log(LogLevel level, std::string_view component, std::string_view message) override;

 private:
  LogLevel level_min_;
};

class RealEnv final : public Env {
 public:
  // Errors: InvalidArgument (a directory option is empty), and whatever PosixDisk::open_root and
  // RocksKv::open report.
  static Result<std::unique_ptr<RealEnv>> open(RealEnvOptions options);

  RealEnv(const RealEnv&) = delete;
  RealEnv& operator=(const RealEnv&) = delete;
  // Destroy every scope and connection using this Env first.
  ~RealEnv() override;

  Executor& executor() override { return executor_; }
  Clock& clock() override { return clock_; }
  Network& network() override { return network_; }
  Disk& disk() override { return *disk_; }
  KvStore& kv() override { return *kv_; }
  Random& random() override { return random_; }
  Compute& compute() override { return compute_; }
  Logger& logger() override { return logger_; }

  RealExecutor& real_executor() { return executor_; }

 private:
  RealEnv(const RealEnvOptions& options, std::unique_ptr<PosixDisk> disk,
          std::unique_ptr<RocksKv> kv);

  // Declaration order is destruction order reversed: the executor outlives everything on it.
  RealExecutor executor_;
  RealClock clock_;
  RealRandom random_;
  StderrLogger logger_;
  RealTcpNetwork network_;
  std::unique_ptr<PosixDisk> disk_;
  std::unique_ptr<RocksKv> kv_;
  ThreadPoolCompute compute_;
};

}  // namespace lafs::real
