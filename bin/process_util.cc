// Shared process plumbing for long-lived `lafs` commands (bin/process_util.h).
#include "bin/process_util.h"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

namespace lafs::cli {

Status write_file_atomically(const std::string& path, const std::string& content) {
  const std::string tmp = path + ".tmp";
  FILE* f = std::fopen(tmp.c_str(), "w");
  if (f == nullptr) return io_error("open " + tmp + ": " + std::strerror(errno));
  const bool written = std::fwrite(content.data(), 1, content.size(), f) == content.size() &&
                       std::fflush(f) == 0 && fsync(fileno(f)) == 0;
  const bool closed = std::fclose(f) == 0;
  if (!written || !closed) return io_error("write " + tmp + ": " + std::strerror(errno));
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    return io_error("rename " + tmp + " to " + path + ": " + std::strerror(errno));
  }
  return Status{};
}

Result<net::NodeKey> key_from_seed_hex(const std::string& hex) {
  // A seed is 32 bytes, as a public key is: the same hex parser fits.
  auto seed = net::public_key_from_hex(hex);
  if (!seed.ok()) return invalid_argument("--key-seed: want 64 hex digits");
  return net::NodeKey::from_seed(*seed);
}

Result<EnvHolder> open_env(std::string dir, std::size_t compute_threads) {
  EnvHolder h;
  if (dir.empty()) {
    auto t = real::TempDir::make("lafs-toy-");
    if (!t.ok()) return t.status();
    h.temp.emplace(std::move(*t));
    dir = h.temp->path();
  } else {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) return io_error("create " + dir + ": " + ec.message());
  }
  real::RealEnvOptions o;
  o.data_dir = dir + "/data";
  o.kv_dir = dir + "/kv";
  o.compute_threads = compute_threads;
  auto env = real::RealEnv::open(o);
  if (!env.ok()) return env.status();
  h.env = std::move(*env);
  return h;
}

}  // namespace lafs::cli
