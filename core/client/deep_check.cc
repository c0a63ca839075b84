#include "core/client/deep_check.h"

#include <deque>
#include <optional>
#include <set>

namespace lafs::client {

namespace {

struct Item {
  std::string path;
  cap::Cap cap;
  std::size_t depth = 0;
};

std::string child_path(const std::string& parent, const std::string& name) {
  return parent.empty() ? name : parent + "/" + name;
}

}  // namespace

struct DeepChecker::Start {
  std::vector<Item> items;
};

Task<Result<DeepCheckSummary>> DeepChecker::run(cap::Cap root, std::vector<ServerRef> servers,
                                                std::uint32_t happy, DeepCheckOptions options,
                                                DeepCheckSink sink) {
  if (!root.directory) co_return invalid_argument("deep-check: the root is not a directory cap");
  Start start{{Item{"", std::move(root), 0}}};
  co_return co_await walk(std::move(start), std::move(servers), happy, std::move(options),
                          std::move(sink));
}

Task<Result<DeepCheckSummary>> DeepChecker::run_list(std::vector<cap::Cap> objects,
                                                     std::vector<ServerRef> servers,
                                                     std::uint32_t happy, DeepCheckOptions options,
                                                     DeepCheckSink sink) {
  Start start;
  for (std::size_t i = 0; i < objects.size(); ++i) {
    start.items.push_back(Item{"#" + std::to_string(i), std::move(objects[i]), 0});
  }
  co_return co_await walk(std::move(start), std::move(servers), happy, std::move(options),
                          std::move(sink));
}

Task<Result<DeepCheckSummary>> DeepChecker::walk(Start start, std::vector<ServerRef> servers,
                                                 std::uint32_t happy, DeepCheckOptions options,
                                                 DeepCheckSink sink) {
  options.batch_objects = std::max<std::size_t>(1, options.batch_objects);
  DeepCheckSummary sum;
  const CheckerStats at_start = checker_->stats();
  std::deque<Item> to_list;    // directories whose children are not yet known
  std::deque<Item> to_check;   // objects waiting for a batch
  std::set<std::string> seen;  // storage indexes met: each object is checked once (and no cycle)
  std::uint64_t objects_met = 0;
  bool stopped = false;  // objects_max reached

  auto emit_error = [&](const Item& item, std::string error) -> Task<Status> {
    ++sum.errors;
    DeepCheckObject o;
    o.path = item.path;
    o.cap = item.cap;
    o.error = std::move(error);
    co_return co_await sink(o);
  };
  auto meet = [&](Item item) {
    if (auto si = cap::storage_index(item.cap)) {
      const std::string key(si->begin(), si->end());
      if (seen.contains(key)) return;  // another path to an object already met
      seen.insert(key);
    }
    if (++objects_met > options.objects_max) {
      stopped = true;
      return;
    }
    if (item.cap.directory) to_list.push_back(item);
    to_check.push_back(std::move(item));
  };
  // The error for a walk cut short names its first object (the root of a tree).
  std::optional<cap::Cap> first;
  if (!start.items.empty()) first = start.items.front().cap;
  for (Item& item : start.items) meet(std::move(item));

  bool first_batch = true;
  while (!to_check.empty() || !to_list.empty()) {
    if (!first_batch && options.batch_pause > Duration::zero()) {
      co_await sleep_for(checker_->env()->executor(), options.batch_pause);
    }
    first_batch = false;
    // Discover until a batch is full (directories are listed as they come).
    while (to_check.size() < options.batch_objects && !to_list.empty()) {
      Item dir = std::move(to_list.front());
      to_list.pop_front();
      if (dir.depth >= options.depth_max) {
        std::string why = "not walked: deeper than " + std::to_string(options.depth_max);
        LAFS_CO_RETURN_IF_ERROR(co_await emit_error(dir, std::move(why)));
        continue;
      }
      auto entries = co_await directories_->list(dir.cap, servers);
      if (!entries.ok()) {
        std::string why = "listing failed: " + entries.status().message();
        LAFS_CO_RETURN_IF_ERROR(co_await emit_error(dir, std::move(why)));
        continue;
      }
      for (const DirectoryEntry& e : *entries) {
        // The strongest cap the walk has: a repair of a mutable child needs its write cap.
        meet(Item{child_path(dir.path, e.name), e.write_cap ? *e.write_cap : e.read_cap,
                  dir.depth + 1});
      }
    }
    // Check one batch.
    std::vector<Item> batch;
    while (!to_check.empty() && batch.size() < options.batch_objects) {
      batch.push_back(std::move(to_check.front()));
      to_check.pop_front();
    }
    std::vector<cap::Cap> caps;
    for (const Item& i : batch) caps.push_back(i.cap);
    auto results = co_await checker_->check_many(std::move(caps), servers, happy, options.check);
    for (std::size_t i = 0; i < batch.size(); ++i) {
      DeepCheckObject o;
      o.path = batch[i].path;
      o.cap = batch[i].cap;
      if (!results[i].ok()) {
        ++sum.errors;
        o.error = results[i].status().message();
        LAFS_CO_RETURN_IF_ERROR(co_await sink(o));
        continue;
      }
      o.check = std::move(*results[i]);
      ++sum.objects_checked;
      if (o.cap.directory) {
        ++sum.directories;
      } else {
        ++sum.files;
      }
      sum.leases_renewed += o.check->leases_renewed;
      if (o.check->healthy) {
        ++sum.objects_healthy;
      } else {
        ++sum.objects_unhealthy;
        if (!o.check->recoverable) ++sum.objects_unrecoverable;
        if (sum.unhealthy_paths.size() < options.unhealthy_paths_max) {
          sum.unhealthy_paths.push_back(o.path);
        }
        // Repair only what the threshold and the shares allow: check_and_repair checks again
        // first, which a file the first check already ruled out need not pay for.
        if (options.repair && options.repair_options.below_threshold(*o.check) &&
            o.check->recoverable) {
          CheckOptions opts = options.check;
          opts.add_lease = false;  // renewed by the check above
          auto repaired = co_await checker_->check_and_repair(o.cap, servers, happy, opts,
                                                              options.repair_options);
          if (repaired.ok()) {
            if (repaired->attempted) ++sum.repairs_attempted;
            if (repaired->attempted && repaired->successful) ++sum.repairs_successful;
            sum.repair_bytes += repaired->bytes_written;
            o.repair = std::move(*repaired);
          } else {
            RepairResult failed;
            failed.before = *o.check;
            failed.problem = repaired.status().message();
            o.repair = std::move(failed);
          }
        }
      }
      LAFS_CO_RETURN_IF_ERROR(co_await sink(o));
    }
  }
  if (stopped) {
    ++sum.errors;
    DeepCheckObject o;
    if (first) o.cap = *first;
    o.error = "the walk stopped at " + std::to_string(options.objects_max) + " objects";
    LAFS_CO_RETURN_IF_ERROR(co_await sink(o));
  }
  const CheckerStats& now = checker_->stats();
  sum.cost.rpcs = now.rpcs - at_start.rpcs;
  sum.cost.bytes_read = now.bytes_read - at_start.bytes_read;
  sum.cost.bytes_written = now.bytes_written - at_start.bytes_written;
  co_return sum;
}

}  // namespace lafs::client
