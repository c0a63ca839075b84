#include "core/client/maintenance.h"

namespace lafs::client {

MaintenanceAgent::MaintenanceAgent(Env* env, DeepChecker* deep, ServerList servers,
                                   std::uint32_t happy, MaintenanceOptions options)
    : env_(env), deep_(deep), servers_(std::move(servers)), happy_(happy), options_(options) {
  LAFS_ASSERT(options_.interval > Duration::zero());
  options_.batch_objects = std::max<std::size_t>(1, options_.batch_objects);
}

Task<void> MaintenanceAgent::run() {
  co_await sleep_for(env_->executor(), options_.first_delay);
  for (;;) {
    const MonoTime started = env_->executor().now();
    if (root_source_) options_.roots = co_await root_source_();
    co_await run_cycle();
    co_await sleep_until(env_->executor(), started + options_.interval);
  }
}

Task<void> MaintenanceAgent::run_cycle() {
  for (const cap::Cap& root : options_.roots) {
    DeepCheckOptions o;
    o.check.verify = options_.verify;
    o.check.add_lease = true;
    o.repair = options_.repair;
    o.repair_options.repair_below_shares = options_.repair_below_shares;
    o.batch_objects = options_.batch_objects;
    o.batch_pause = options_.batch_pause;
    std::vector<ServerRef> servers = servers_();
    DeepCheckSink count = [](const DeepCheckObject&) -> Task<Status> { co_return Status{}; };
    auto done = co_await deep_->run(root, servers, happy_, o, count);
    if (!done.ok()) {
      ++stats_.errors;
      stats_.last_problem = done.status().to_string();
      env_->logger().log(LogLevel::kWarning, "maintenance",
                         "a root could not be checked: " + done.status().to_string());
      continue;
    }
    stats_.objects_checked += done->objects_checked;
    stats_.leases_renewed += done->leases_renewed;
    stats_.unhealthy_seen += done->objects_unhealthy;
    stats_.repairs_attempted += done->repairs_attempted;
    stats_.repairs_successful += done->repairs_successful;
    if (done->errors > 0) {
      stats_.errors += done->errors;
      stats_.last_problem = std::to_string(done->errors) + " objects could not be checked";
    }
    if (done->objects_unhealthy > done->repairs_successful) {
      env_->logger().log(LogLevel::kWarning, "maintenance",
                         std::to_string(done->objects_unhealthy - done->repairs_successful) +
                             " objects remain unhealthy after this cycle");
    }
  }
  ++stats_.cycles;
}

}  // namespace lafs::client
