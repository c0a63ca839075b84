// A RealEnv whose data and KV directories live in a fresh temporary directory (removed when the
// TempDir goes), for tests of the real Env and of services over it.
#pragma once

#include <memory>
#include <optional>

#include "core/runtime/assert.h"
#include "net/real/real_env.h"
#include "net/real/temp_dir.h"

namespace lafs::testing {

inline void open_temp_real_env(const char* prefix, std::optional<real::TempDir>* dir,
                               std::unique_ptr<real::RealEnv>* env,
                               std::size_t compute_threads = 1) {
  auto d = real::TempDir::make(prefix);
  LAFS_ASSERT_MSG(d.ok(), "cannot make a temporary directory");
  dir->emplace(std::move(*d));
  real::RealEnvOptions o;
  o.data_dir = (*dir)->sub("data");
  o.kv_dir = (*dir)->sub("kv");
  o.compute_threads = compute_threads;
  auto e = real::RealEnv::open(o);
  LAFS_ASSERT_MSG(e.ok(), "cannot open a RealEnv");
  *env = std::move(*e);
}

}  // namespace lafs::testing
