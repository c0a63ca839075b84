// RealEnv: opens the disk and the KV store (the two parts that can fail), then builds the rest.
#include "net/real/real_env.h"

#include <unistd.h>

#include <chrono>
#include <ctime>
#include <utility>

namespace lafs::real {

namespace {

const char* level_name(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return "DEBUG";
    case LogLevel::kInfo:
      return "INFO";
    case LogLevel::kWarning:
      return "WARN";
    case LogLevel::kError:
      return "ERROR";
  }
  return "?";
}

}  // namespace

void StderrLogger::log(LogLevel level, std::string_view component, std::string_view message) {
  if (level < level_min_) return;
  const auto now = std::chrono::system_clock::now();
  const std::time_t secs = std::chrono::system_clock::to_time_t(now);
  const auto millis =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char stamp[32];
  const std::size_t n = std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);
  std::string line(stamp, n);
  line += "." + std::string(millis < 100 ? (millis < 10 ? "00" : "0") : "") +
          std::to_string(millis) + "Z " + level_name(level) + " ";
  line.append(component);
  line += ": ";
  line.append(message);
  line += '\n';
  // Best effort: a logger has nowhere to report its own failure.
  std::size_t done = 0;
  while (done < line.size()) {
    const ssize_t w = ::write(STDERR_FILENO, line.data() + done, line.size() - done);
    if (w <= 0) break;
    done += static_cast<std::size_t>(w);
  }
}

Result<std::unique_ptr<RealEnv>> RealEnv::open(RealEnvOptions options) {
  if (options.data_dir.empty()) return invalid_argument("RealEnv: data_dir is empty");
  if (options.kv_dir.empty()) return invalid_argument("RealEnv: kv_dir is empty");
  Result<std::unique_ptr<PosixDisk>> disk = PosixDisk::open_root(options.data_dir, /*create=*/true);
  if (!disk.ok()) return disk.status();
  Result<std::unique_ptr<RocksKv>> kv = RocksKv::open(options.kv_dir);
  if (!kv.ok()) return kv.status();
  return std::unique_ptr<RealEnv>(new RealEnv(options, std::move(*disk), std::move(*kv)));
}

RealEnv::RealEnv(const RealEnvOptions& options, std::unique_ptr<PosixDisk> disk,
                 std::unique_ptr<RocksKv> kv)
    : clock_(executor_),
      logger_(options.log_level_min),
      network_(executor_, options.network),
      disk_(std::move(disk)),
      kv_(std::move(kv)),
      compute_(executor_, options.compute_threads) {
  // fsyncs on the pool, so a slow one does not stall the executor (and every connection on it).
  disk_->sync_on(&compute_);
}

RealEnv::~RealEnv() = default;

}  // namespace lafs::real
