// TempDir: mkdtemp to make, nftw (depth first, not following links) to remove.
#include "net/real/temp_dir.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>

#include <cerrno>
#include <cstring>
#include <utility>
#include <vector>

namespace lafs::real {

namespace {

// How many directory descriptors nftw may hold open while walking.
constexpr int kWalkDescriptorsMax = 16;

int remove_entry(const char* path, const struct stat*, int, struct FTW*) {
  ::remove(path);  // best effort: what cannot be removed stays behind in /tmp
  return 0;
}

}  // namespace

Result<TempDir> TempDir::make(const std::string& prefix) {
  std::string pattern = "/tmp/" + prefix + "XXXXXX";
  std::vector<char> buf(pattern.begin(), pattern.end());
  buf.push_back('\0');
  if (::mkdtemp(buf.data()) == nullptr) {
    return io_error("mkdtemp " + pattern + ": " + std::strerror(errno));
  }
  return TempDir(std::string(buf.data()));
}

TempDir::TempDir(TempDir&& other) noexcept : path_(std::exchange(other.path_, {})) {}

TempDir& TempDir::operator=(TempDir&& other) noexcept {
  if (this != &other) {
    remove_all();
    path_ = std::exchange(other.path_, {});
  }
  return *this;
}

TempDir::~TempDir() {
  remove_all();
}

void TempDir::remove_all() {
  if (path_.empty()) return;
  ::nftw(path_.c_str(), remove_entry, kWalkDescriptorsMax, FTW_DEPTH | FTW_PHYS);
  path_.clear();
}

}  // namespace lafs::real
