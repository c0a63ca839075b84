// TempDir: a fresh directory under /tmp (mkdtemp) that is removed with everything in it when the
// object goes. For tests and tools that need a scratch disk or KV store.
#pragma once

#include <string>

#include "core/runtime/status.h"

namespace lafs::real {

class TempDir {
 public:
  // Makes /tmp/<prefix>XXXXXX. Errors: IoError.
  static Result<TempDir> make(const std::string& prefix = "lafs-");

  TempDir(TempDir&& other) noexcept;
  TempDir& operator=(TempDir&& other) noexcept;
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir();

  const std::string& path() const { return path_; }
  // path() + "/" + name
  std::string sub(const std::string& name) const { return path_ + "/" + name; }

 private:
  explicit TempDir(std::string path) : path_(std::move(path)) {}
  void remove_all();
  std::string path_;  // empty once moved from
};

}  // namespace lafs::real
