// Shared process plumbing for long-lived `lafs` commands (bin/process_util.h).
#include "bin/process_util.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

namespace lafs::cli {

Status write_file_atomically(const std::string& path, const std::string& content, int mode) {
  const std::string tmp = path + ".tmp";
  // The mode is set at creation, so a secret is never readable by others, not even briefly.
  ::unlink(tmp.c_str());
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) return io_error("open " + tmp + ": " + std::strerror(errno));
  std::size_t done = 0;
  bool ok = true;
  while (done < content.size()) {
    const ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      ok = false;
      break;
    }
    done += static_cast<std::size_t>(n);
  }
  const int saved = errno;
  ok = ok && ::fsync(fd) == 0;
  ::close(fd);
  if (!ok) {
    ::unlink(tmp.c_str());
    return io_error("write " + tmp + ": " + std::strerror(saved != 0 ? saved : errno));
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    return io_error("rename " + tmp + " to " + path + ": " + std::strerror(errno));
  }
  return Status{};
}

Result<std::string> read_small_file(const std::string& path, std::size_t max_bytes) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    const int e = errno;
    if (e == ENOENT) return not_found(path + ": no such file");
    return io_error(path + ": " + std::strerror(e));
  }
  std::string out;
  char buf[4096];
  while (true) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int e = errno;
      ::close(fd);
      return io_error(path + ": " + std::strerror(e));
    }
    if (n == 0) break;
    out.append(buf, static_cast<std::size_t>(n));
    if (out.size() > max_bytes) {
      ::close(fd);
      return invalid_argument(path + ": longer than " + std::to_string(max_bytes) + " bytes");
    }
  }
  ::close(fd);
  return out;
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
