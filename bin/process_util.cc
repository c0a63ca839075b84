// Shared process plumbing for long-lived `lafs` commands (bin/process_util.h).
#include "bin/process_util.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

namespace lafs::cli {

namespace {

std::string errno_text() {
  return std::strerror(errno);
}

Status fsync_dir(const std::string& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return io_error("open " + dir + ": " + errno_text());
  const bool ok = ::fsync(fd) == 0;
  ::close(fd);
  if (!ok) return io_error("fsync " + dir + ": " + errno_text());
  return Status{};
}

}  // namespace

Status write_file_atomically(const std::string& path, const std::string& content, int mode) {
  // A temporary file of its own in the same directory (mkstemp: mode 0600 from the start, so a
  // secret is never readable by others, not even briefly), synced, renamed over the old file,
  // and the directory synced so that the rename survives a crash.
  const std::size_t slash = path.find_last_of('/');
  const std::string dir =
      slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
  const std::string name = slash == std::string::npos ? path : path.substr(slash + 1);
  std::string temp = dir + "/." + name + ".XXXXXX";
  const int fd = ::mkstemp(temp.data());
  if (fd < 0) return io_error("create a temporary file in " + dir + ": " + errno_text());
  Status st;
  for (std::size_t done = 0; done < content.size() && st.is_ok();) {
    const ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      st = io_error("write " + temp + ": " + errno_text());
    } else {
      done += static_cast<std::size_t>(n);
    }
  }
  if (st.is_ok() && ::fchmod(fd, static_cast<mode_t>(mode)) != 0) {
    st = io_error("chmod " + temp + ": " + errno_text());
  }
  if (st.is_ok() && ::fsync(fd) != 0) st = io_error("fsync " + temp + ": " + errno_text());
  if (::close(fd) != 0 && st.is_ok()) st = io_error("close " + temp + ": " + errno_text());
  if (st.is_ok() && ::rename(temp.c_str(), path.c_str()) != 0) {
    st = io_error("rename " + temp + " to " + path + ": " + errno_text());
  }
  if (!st.is_ok()) {
    ::unlink(temp.c_str());
    return st;
  }
  return fsync_dir(dir);
}

Result<std::string> read_small_file(const std::string& path, std::size_t max_bytes) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return not_found(path + " does not exist");
    return io_error("open " + path + ": " + errno_text());
  }
  std::string out;
  Status st;
  char buf[4096];
  while (true) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      st = io_error("read " + path + ": " + errno_text());
      break;
    }
    if (n == 0) break;
    if (out.size() + static_cast<std::size_t>(n) > max_bytes) {
      st = failed_precondition(path + " is longer than " + std::to_string(max_bytes) + " bytes");
      break;
    }
    out.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  if (!st.is_ok()) return st;
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
