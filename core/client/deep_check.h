// Deep-check: walk a directory tree and check (verify, repair, add or renew leases on) every
// object in it, the directories themselves included, reporting each object as it is done and a
// summary at the end (docs/checker.md). Objects are checked in batches (Checker::check_many), so
// a tree of N files costs about N / batch_objects listing calls per server, not N.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/client/checker.h"
#include "core/client/directory.h"

namespace lafs::client {

struct DeepCheckOptions {
  CheckOptions check;
  bool repair = false;
  RepairOptions repair_options;
  std::size_t batch_objects = 500;         // objects per check_many batch
  Duration batch_pause{0};                 // between batches: a bound on the walk's pace
  std::size_t depth_max = 64;              // deeper directories are reported as errors, not walked
  std::size_t objects_max = 10'000'000;    // the walk stops (with an error) beyond this
  std::size_t unhealthy_paths_max = 1000;  // listed in the summary; the count is always exact
};

// One object of the tree, reported as soon as it is checked.
struct DeepCheckObject {
  std::string path;  // "" for the root, "a/b" below it
  cap::Cap cap;
  std::optional<CheckResult> check;    // set unless `error`
  std::optional<RepairResult> repair;  // when a repair was considered
  std::string error;                   // the object could not be checked (or listed)
};

struct DeepCheckSummary {
  std::uint64_t objects_checked = 0;
  std::uint64_t objects_healthy = 0;
  std::uint64_t objects_unhealthy = 0;  // before any repair
  std::uint64_t objects_unrecoverable = 0;
  std::uint64_t repairs_attempted = 0;
  std::uint64_t repairs_successful = 0;
  std::uint64_t errors = 0;  // objects that could not be checked, directories not listed
  std::uint64_t directories = 0, files = 0;
  std::vector<std::string> unhealthy_paths;  // at most unhealthy_paths_max
  std::uint64_t leases_renewed = 0;
  std::uint64_t repair_bytes = 0;  // share bytes written by repairs
  CheckerStats cost;               // the checker's calls and bytes for this walk
};

// Called for each object in walk order (a directory before its children). An error stops the
// walk (a client that went away).
using DeepCheckSink = std::function<Task<Status>(const DeepCheckObject&)>;

class DeepChecker {
 public:
  // Both must outlive it.
  DeepChecker(Checker* checker, DirectoryClient* directories)
      : checker_(checker), directories_(directories) {}

  // Errors: only the sink's, or the root not being a directory cap (InvalidArgument); every
  // other failure is an object's `error` and counted in the summary.
  Task<Result<DeepCheckSummary>> run(cap::Cap root, std::vector<ServerRef> servers,
                                     std::uint32_t happy, DeepCheckOptions options,
                                     DeepCheckSink sink);
  // The same over a list of objects (each walked if it is a directory), as a client that keeps
  // its caps in its own database maintains them; an object's path is "#" and its index.
  Task<Result<DeepCheckSummary>> run_list(std::vector<cap::Cap> objects,
                                          std::vector<ServerRef> servers, std::uint32_t happy,
                                          DeepCheckOptions options, DeepCheckSink sink);

 private:
  struct Start;
  Task<Result<DeepCheckSummary>> walk(Start start, std::vector<ServerRef> servers,
                                      std::uint32_t happy, DeepCheckOptions options,
                                      DeepCheckSink sink);

  Checker* checker_;
  DirectoryClient* directories_;
};

}  // namespace lafs::client
