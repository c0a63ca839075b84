// Env: everything protocol code may touch of the outside world. A node receives one Env and
// passes it (or the narrower pieces) down; nothing in core/ reaches around it. Only bin/ and test
// fixtures choose which Env a node gets: net/real/ for production, net/sim/ for the simulator.
// See docs/env.md.
#pragma once

#include <string_view>

#include "core/env/clock.h"
#include "core/env/compute.h"
#include "core/env/disk.h"
#include "core/env/kv.h"
#include "core/env/network.h"
#include "core/env/random.h"
#include "core/runtime/executor.h"

namespace lafs {

enum class LogLevel { kDebug, kInfo, kWarning, kError };

// Where a node's log lines go. Never log a capability or a secret.
class Logger {
 public:
  virtual ~Logger() = default;
  virtual void log(LogLevel level, std::string_view component, std::string_view message) = 0;
};

class Env {
 public:
  virtual ~Env() = default;
  virtual Executor& executor() = 0;
  virtual Clock& clock() = 0;
  virtual Network& network() = 0;
  virtual Disk& disk() = 0;
  virtual KvStore& kv() = 0;
  virtual Random& random() = 0;
  virtual Compute& compute() = 0;
  virtual Logger& logger() = 0;
};

}  // namespace lafs
