// Node management (docs/running-a-grid.md): `lafs create-introducer`, `create-node`, `run` and
// `grid`. A node directory:
//
//   node.cfg            the configuration (core/node/config.h lists every key)
//   node.pid            the running node's process id (removed at a clean stop)
//   node.port           the node-to-node address it bound (reused at the next start)
//   node.url            the web gateway's URL (client nodes), read by the CLI
//   logs/               node.log when run by `lafs grid`
//   storage/ db/ tmp/   shares, the key-value store (leases, journals), spooled uploads
//   private/ (0700)     node.key; on the introducer grid.secret and introducer.address (the
//                       grid's address to hand out); elsewhere introducer (that address);
//                       on clients convergence.secret, lease.secret, aliases
#include <fcntl.h>
#include <malloc.h>
#include <signal.h>
#include <sodium.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "bin/commands.h"
#include "bin/process_util.h"
#include "core/node/config.h"
#include "core/node/node.h"
#include "core/node/web_api.h"
#include "net/real/http_server.h"
#include "net/real/real_env.h"
#include "net/real/real_run.h"

namespace lafs::cli {
namespace {

namespace fs = std::filesystem;

// How long `lafs grid` waits for a started node to report its address, and for a stopped one
// to exit before it is killed.
constexpr auto kNodeStartTimeout = std::chrono::seconds(60);
constexpr auto kNodeStopTimeout = std::chrono::seconds(15);
// A node of `lafs grid` that exits unexpectedly is restarted after this pause, at most this many
// times in a row without a minute of running in between.
constexpr auto kRestartDelay = std::chrono::seconds(1);
constexpr int kRestartsInARowMax = 5;
constexpr int kServersMax = 64;

std::string path_in(const std::string& dir, const std::string& name) {
  return (fs::path(dir) / name).string();
}

Status fail_with(const std::string& what, const std::error_code& ec) {
  return io_error(what + ": " + ec.message());
}

std::array<std::uint8_t, 32> random_secret() {
  std::array<std::uint8_t, 32> s{};
  randombytes_buf(s.data(), s.size());
  return s;
}

Status write_secret(const std::string& dir, const std::string& name,
                    std::span<const std::uint8_t, 32> secret) {
  return write_file_atomically(path_in(dir, "private/" + name), node::format_secret_file(secret),
                               0600);
}

// Makes a new node directory: refuses one that exists and is not empty.
Status make_node_dir(const std::string& dir) {
  std::error_code ec;
  if (fs::exists(dir, ec) && !fs::is_empty(dir, ec)) {
    return already_exists(dir + " exists and is not empty: choose a new directory");
  }
  fs::create_directories(path_in(dir, "private"), ec);
  if (ec) return fail_with("create " + dir, ec);
  fs::create_directories(path_in(dir, "logs"), ec);
  if (ec) return fail_with("create " + dir + "/logs", ec);
  if (::chmod(path_in(dir, "private").c_str(), 0700) != 0) {
    return io_error("chmod " + dir + "/private: " + std::strerror(errno));
  }
  return Status{};
}

Status create_introducer(const std::string& dir, node::NodeConfig config) {
  if (sodium_init() < 0) return internal_error("libsodium failed to initialise");
  config.introducer = true;
  config.storage = false;
  config.client = false;
  config.web_listen.clear();
  if (config.nickname.empty()) config.nickname = "introducer";
  LAFS_RETURN_IF_ERROR(make_node_dir(dir));
  LAFS_RETURN_IF_ERROR(write_secret(dir, "node.key", random_secret()));
  LAFS_RETURN_IF_ERROR(write_secret(dir, "grid.secret", random_secret()));
  return write_file_atomically(path_in(dir, "node.cfg"), node::format_node_config(config));
}

Status create_node(const std::string& dir, node::NodeConfig config,
                   const node::IntroducerAddress& introducer) {
  if (sodium_init() < 0) return internal_error("libsodium failed to initialise");
  if (!config.storage && !config.client) {
    return invalid_argument("a node needs the storage role, the client role or both");
  }
  if (config.nickname.empty()) config.nickname = fs::path(dir).filename().string();
  LAFS_RETURN_IF_ERROR(make_node_dir(dir));
  LAFS_RETURN_IF_ERROR(write_secret(dir, "node.key", random_secret()));
  LAFS_RETURN_IF_ERROR(write_secret(dir, "convergence.secret", random_secret()));
  LAFS_RETURN_IF_ERROR(write_secret(dir, "lease.secret", random_secret()));
  LAFS_RETURN_IF_ERROR(write_file_atomically(path_in(dir, "private/introducer"),
                                             node::format_introducer_address(introducer) + "\n",
                                             0600));
  return write_file_atomically(path_in(dir, "node.cfg"), node::format_node_config(config));
}

Result<node::NodeConfig> load_config(const std::string& dir) {
  const std::string file = path_in(dir, std::string(node::kConfigFileName));
  auto text = read_small_file(file, node::kIniBytesMax);
  if (!text.ok()) {
    if (text.status().code() == ErrorCode::kNotFound) {
      return not_found(file + ": no such file: is " + dir +
                       " a node directory? (make one with "
                       "lafs create-node or lafs create-introducer)");
    }
    return text.status();
  }
  auto ini = node::IniFile::parse(*text, file);
  if (!ini.ok()) return ini.status();
  return node::parse_node_config(*ini);
}

Result<std::array<std::uint8_t, 32>> load_secret(const std::string& dir, const std::string& name) {
  const std::string file = path_in(dir, "private/" + name);
  auto text = read_small_file(file, 1024);
  if (!text.ok()) return text.status();
  return node::parse_secret_file(*text, file);
}

Result<node::NodeSecrets> load_secrets(const std::string& dir, const node::NodeConfig& config) {
  node::NodeSecrets s;
  LAFS_ASSIGN_OR_RETURN(s.node_key_seed, load_secret(dir, "node.key"));
  if (config.introducer) {
    // The introducer defines its grid's secret; every other node takes it from the introducer
    // address it was given, so re-pointing a node is one file.
    auto grid = load_secret(dir, "grid.secret");
    if (grid.ok()) {
      s.grid_secret = *grid;
    } else if (grid.status().code() != ErrorCode::kNotFound) {
      return grid.status();
    }
  }
  if (config.client) {
    LAFS_ASSIGN_OR_RETURN(auto conv, load_secret(dir, "convergence.secret"));
    LAFS_ASSIGN_OR_RETURN(auto lease, load_secret(dir, "lease.secret"));
    std::copy(conv.begin(), conv.end(), s.client.convergence.mutable_view().begin());
    std::copy(lease.begin(), lease.end(), s.client.lease.mutable_view().begin());
  }
  if (!config.introducer) {
    const std::string file = path_in(dir, "private/introducer");
    LAFS_ASSIGN_OR_RETURN(std::string text, read_small_file(file, 4096));
    auto a = node::parse_introducer_address(text);
    if (!a.ok()) return invalid_argument(file + ": " + a.status().message());
    s.introducer = *a;
    s.grid_secret = a->grid_secret;
  }
  return s;
}

// The PID file, locked for the life of the process: a second `lafs run` on the same directory
// fails to take the lock, whatever the file says, and a stale file (a crash, a reboot) is simply
// taken over. Returns the open descriptor, which must stay open.
Result<int> take_pid_file(const std::string& dir) {
  const std::string file = path_in(dir, "node.pid");
  const int fd = ::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return io_error(file + ": " + std::strerror(errno));
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    char buf[32] = {};
    const ssize_t n = ::pread(fd, buf, sizeof buf - 1, 0);
    ::close(fd);
    std::string pid = n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : "?";
    while (!pid.empty() && (pid.back() == '\n' || pid.back() == '\r')) pid.pop_back();
    return already_exists("a node is already running in " + dir + " (pid " + pid + ", " + file +
                          ")");
  }
  const std::string text = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd, 0) != 0 ||
      ::pwrite(fd, text.data(), text.size(), 0) != static_cast<ssize_t>(text.size())) {
    const int e = errno;
    ::close(fd);
    return io_error(file + ": " + std::strerror(e));
  }
  return fd;
}

// Removes the PID file while still holding its lock, then releases it.
void release_pid_file(const std::string& dir, int fd) {
  ::unlink(path_in(dir, "node.pid").c_str());
  ::close(fd);
}

void clear_spool(const std::string& dir) {
  std::error_code ec;
  fs::remove_all(path_in(dir, "tmp"), ec);  // uploads a previous run did not finish
}

// glibc serves allocations over 128 KiB with fresh mmap()s and returns them at free(): the
// data path's ~0.5 MiB chunks then cost page faults and zeroing on every use (~12% of an
// upload's CPU in perf). Keeping them in the heap, in at most two arenas (the compute pool's
// threads would each grow their own): downloads ~30% faster through the gateway and uploads up
// to ~30% (docs/performance.md), peak RSS unchanged.
void tune_malloc() {
  ::mallopt(M_MMAP_THRESHOLD, 32 << 20);
  ::mallopt(M_TRIM_THRESHOLD, 128 << 20);
  ::mallopt(M_ARENA_MAX, 2);
}

int run_node(const std::string& dir) {
  tune_malloc();
  SignalWatcher::block();
  auto config = load_config(dir);
  if (!config.ok()) {
    std::cerr << "lafs run: " << config.status().message() << "\n";
    return 2;
  }
  auto secrets = load_secrets(dir, *config);
  if (!secrets.ok()) {
    std::cerr << "lafs run: " << secrets.status().message() << "\n";
    return 2;
  }
  auto pid_fd = take_pid_file(dir);
  if (!pid_fd.ok()) {
    std::cerr << "lafs run: " << pid_fd.status().message() << "\n";
    return 1;
  }
  clear_spool(dir);
  real::RealEnvOptions eo;
  eo.data_dir = dir;
  eo.kv_dir = path_in(dir, "db");
  eo.log_level_min = config->log_level;
  auto env = real::RealEnv::open(eo);
  if (!env.ok()) {
    std::cerr << "lafs run: " << env.status().to_string() << "\n";
    release_pid_file(dir, *pid_fd);
    return 1;
  }
  int rc = 0;
  {
    real::RealEnv& e = **env;
    SignalWatcher watcher(e.real_executor());
    node::Node n(&e, *config, *secrets);
    std::optional<std::string> preferred;
    if (auto port = read_small_file(path_in(dir, "node.port"), 256); port.ok()) {
      std::string p = *port;
      while (!p.empty() && (p.back() == '\n' || p.back() == '\r')) p.pop_back();
      if (!p.empty()) preferred = p;
    }
    Status started = real::run_task(e.real_executor(), n.start(preferred));
    std::unique_ptr<node::WebApi> api;
    std::unique_ptr<real::HttpServer> http;
    if (started.is_ok() && !n.listen_address().empty()) {
      started = write_file_atomically(path_in(dir, "node.port"), n.listen_address() + "\n");
    }
    if (started.is_ok() && n.introducer_address()) {
      started = write_file_atomically(
          path_in(dir, "private/introducer.address"),
          node::format_introducer_address(*n.introducer_address()) + "\n", 0600);
    }
    if (started.is_ok() && n.client() != nullptr && !config->web_listen.empty()) {
      node::WebApiOptions wo;
      wo.upload_bytes_max = config->upload_bytes_max;
      api = std::make_unique<node::WebApi>(&n, wo);
      real::HttpServerOptions ho;
      ho.body_bytes_max = config->upload_bytes_max;
      http = std::make_unique<real::HttpServer>(e.real_executor(), e.logger(), api.get(), ho);
      auto bound = http->listen(config->web_listen);
      if (!bound.ok()) {
        started = bound.status().with_context("web gateway [client] web.listen");
      } else {
        // The names this gateway answers to (DNS rebinding): its address, localhost on
        // loopback, and [client] web.hosts. Bound to a wildcard address without web.hosts,
        // there is no name to check against: say so.
        std::vector<std::string>& hosts = api->allowed_hosts();
        const std::string port = bound->substr(bound->rfind(':') + 1);
        const bool wildcard = bound->rfind("0.0.0.0:", 0) == 0 || bound->rfind("[::]:", 0) == 0;
        if (!wildcard) hosts.push_back(*bound);
        if (bound->rfind("127.", 0) == 0 || bound->rfind("[::1]:", 0) == 0) {
          hosts.push_back("localhost:" + port);
        }
        hosts.insert(hosts.end(), config->web_hosts.begin(), config->web_hosts.end());
        if (wildcard && config->web_hosts.empty()) {
          hosts.clear();
          e.logger().log(LogLevel::kWarning, "web",
                         "the gateway listens on a wildcard address and [client] web.hosts is "
                         "empty: Host headers are not checked (DNS rebinding is possible)");
        }
        started = write_file_atomically(path_in(dir, "node.url"), "http://" + *bound + "/\n");
        if (started.is_ok()) std::cout << "web gateway: http://" << *bound << "/" << std::endl;
      }
    }
    if (!started.is_ok()) {
      std::cerr << "lafs run: " << started.to_string() << "\n";
      rc = 1;
    } else {
      std::cout << "node " << config->nickname << " running";
      if (!n.listen_address().empty()) std::cout << ", listening on " << n.listen_address();
      std::cout << " (pid " << ::getpid() << ")" << std::endl;
      e.logger().log(LogLevel::kInfo, "node", "started " + config->nickname);
      Scope scope(e.executor());
      scope.spawn(n.run());
      if (http) scope.spawn(http->run());
      e.real_executor().run_until([&] { return watcher.signalled(); });
      e.logger().log(LogLevel::kInfo, "node", "stopping on signal");
      if (http) http->close();
      scope.cancel();
      std::cout << "stopped" << std::endl;
    }
  }
  release_pid_file(dir, *pid_fd);
  return rc;
}

// ---- lafs grid ----

struct Child {
  std::string name;
  std::string dir;
  pid_t pid = -1;
  int restarts_in_a_row = 0;
  std::chrono::steady_clock::time_point started{};
};

// Starts `lafs run DIR` with its output appended to DIR/logs/node.log, in its own process group
// (Ctrl-C reaches the grid, which stops the nodes in order) and dying with the grid.
Result<pid_t> spawn_node(const std::string& dir) {
  std::error_code exe_error;
  const std::string exe = fs::read_symlink("/proc/self/exe", exe_error).string();
  if (exe_error) return io_error("/proc/self/exe: " + exe_error.message());
  const std::string log = path_in(dir, "logs/node.log");
  std::error_code ec;
  fs::create_directories(path_in(dir, "logs"), ec);
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) return io_error(std::string("fork: ") + std::strerror(errno));
  if (pid == 0) {
    // Async-signal-safe calls only from here to exec.
    sigset_t all;
    sigemptyset(&all);
    ::sigprocmask(SIG_SETMASK, &all, nullptr);
    ::setpgid(0, 0);
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (::getppid() != parent) ::_exit(127);
    const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
      ::dup2(fd, 1);
      ::dup2(fd, 2);
      ::close(fd);
    }
    const int devnull = ::open("/dev/null", O_RDONLY);
    if (devnull >= 0) ::dup2(devnull, 0);
    const char* argv[] = {exe.c_str(), "run", dir.c_str(), nullptr};
    ::execv(exe.c_str(), const_cast<char* const*>(argv));
    ::_exit(127);
  }
  return pid;
}

bool stop_requested() {
  sigset_t pending;
  sigemptyset(&pending);
  ::sigpending(&pending);
  return sigismember(&pending, SIGINT) == 1 || sigismember(&pending, SIGTERM) == 1;
}

// Starts the node and waits until `ready_file` exists (written by the node once it is up), the
// child still running and no Ctrl-C pending.
Status start_child(Child& c, const std::string& ready_file) {
  ::unlink(ready_file.c_str());
  LAFS_ASSIGN_OR_RETURN(c.pid, spawn_node(c.dir));
  c.started = std::chrono::steady_clock::now();
  const auto deadline = c.started + kNodeStartTimeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (read_small_file(ready_file, 4096).ok()) return Status{};
    int status = 0;
    if (::waitpid(c.pid, &status, WNOHANG) == c.pid) {
      c.pid = -1;  // reaped: its pid may belong to someone else from now on
      return unavailable(c.name + " exited before it was ready (see " + c.dir + "/logs/node.log)");
    }
    if (stop_requested()) return cancelled("stopped by a signal while " + c.name + " started");
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return timeout_error(c.name + " did not report " + ready_file + " within " +
                       std::to_string(kNodeStartTimeout.count()) + " s");
}

void stop_child(Child& c) {
  if (c.pid <= 0) return;
  ::kill(c.pid, SIGTERM);
  const auto deadline = std::chrono::steady_clock::now() + kNodeStopTimeout;
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    const pid_t r = ::waitpid(c.pid, &status, WNOHANG);
    if (r == c.pid || (r < 0 && errno == ECHILD)) {
      c.pid = -1;
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  std::cerr << "lafs grid: " << c.name << " did not stop within " << kNodeStopTimeout.count()
            << " s; killing it\n";
  ::kill(c.pid, SIGKILL);
  int status = 0;
  ::waitpid(c.pid, &status, 0);
  c.pid = -1;
}

struct GridArgs {
  std::string dir;
  int servers = 5;
  int needed = 0, happy = 0, total = 0;  // 0: fit to the servers
  std::string web_listen = "127.0.0.1:3456";
  std::string reserved_space = "0";
};

// Encoding that fits N servers: n = min(10, N) shares, k <= n/2 (so a mutable publish keeps its
// crash guarantee), happy one below n so one server may be down (3-of-10 happy 7 at N >= 10).
client::EncodingParams fit_encoding(int servers, const GridArgs& a) {
  client::EncodingParams e;
  const int n = std::min(10, servers);
  e.total = static_cast<std::uint32_t>(a.total > 0 ? a.total : n);
  const int k = std::max(1, std::min(3, static_cast<int>(e.total) / 2));
  e.needed = static_cast<std::uint32_t>(a.needed > 0 ? a.needed : k);
  const int happy =
      std::min(7, std::max(static_cast<int>(e.needed), static_cast<int>(e.total) - 1));
  e.happy = static_cast<std::uint32_t>(a.happy > 0 ? a.happy : happy);
  return e;
}

Status rewrite_introducer(const std::string& dir, const std::string& address) {
  return write_file_atomically(path_in(dir, "private/introducer"), address, 0600);
}

int run_grid(const GridArgs& a) {
  if (a.servers < 1 || a.servers > kServersMax) {
    std::cerr << "lafs grid: --servers: want 1.." << kServersMax << "\n";
    return 2;
  }
  const client::EncodingParams enc = fit_encoding(a.servers, a);
  if (!(1 <= enc.needed && enc.needed <= enc.happy && enc.happy <= enc.total && enc.total <= 256)) {
    std::cerr << "lafs grid: want 1 <= needed <= happy <= total <= 256, have " << enc.needed << ", "
              << enc.happy << ", " << enc.total << "\n";
    return 2;
  }
  if (static_cast<int>(enc.happy) > a.servers) {
    std::cerr << "lafs grid: happy=" << enc.happy << " needs at least that many servers; have "
              << a.servers << "\n";
    return 2;
  }
  auto reserved = node::parse_size(a.reserved_space);
  if (!reserved.ok()) {
    std::cerr << "lafs grid: --reserved-space: " << reserved.status().message() << "\n";
    return 2;
  }
  // SIGINT, SIGTERM and SIGCHLD are taken synchronously below.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGCHLD);
  ::sigprocmask(SIG_BLOCK, &set, nullptr);

  std::error_code ec;
  fs::create_directories(a.dir, ec);
  if (ec) {
    std::cerr << "lafs grid: create " << a.dir << ": " << ec.message() << "\n";
    return 1;
  }
  // One `lafs grid` per directory: a second one would restart (and so disturb) the first's nodes.
  const std::string lock_file = path_in(a.dir, "grid.lock");
  const int lock_fd = ::open(lock_file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (lock_fd < 0 || ::flock(lock_fd, LOCK_EX | LOCK_NB) != 0) {
    std::cerr << "lafs grid: " << a.dir << " is in use by another lafs grid (" << lock_file
              << ")\n";
    return 1;
  }
  std::vector<Child> children;
  auto stop_all = [&] {
    for (auto it = children.rbegin(); it != children.rend(); ++it) stop_child(*it);
  };
  auto fail = [&](const Status& s) {
    std::cerr << "lafs grid: " << s.to_string() << "\n";
    stop_all();
    return 1;
  };

  // The introducer first: the others need its address, which has its port.
  Child intro{"introducer", path_in(a.dir, "introducer")};
  if (!fs::exists(path_in(intro.dir, "node.cfg"), ec)) {
    node::NodeConfig ic;
    Status s = create_introducer(intro.dir, ic);
    if (!s.is_ok()) return fail(s);
  }
  children.push_back(intro);
  {
    Status s = start_child(children.back(), path_in(intro.dir, "private/introducer.address"));
    if (!s.is_ok()) return fail(s);
  }
  auto addr_text = read_small_file(path_in(intro.dir, "private/introducer.address"), 4096);
  if (!addr_text.ok()) return fail(addr_text.status());
  auto addr = node::parse_introducer_address(*addr_text);
  if (!addr.ok()) return fail(addr.status());

  for (int i = 0; i < a.servers; ++i) {
    Child c{"storage-" + std::to_string(i), path_in(a.dir, "storage-" + std::to_string(i))};
    if (!fs::exists(path_in(c.dir, "node.cfg"), ec)) {
      node::NodeConfig sc;
      sc.storage = true;
      sc.reserved_space = *reserved;
      sc.nickname = c.name;
      Status s = create_node(c.dir, sc, *addr);
      if (!s.is_ok()) return fail(s);
    } else {
      Status s = rewrite_introducer(c.dir, *addr_text);
      if (!s.is_ok()) return fail(s);
    }
    children.push_back(c);
    Status s = start_child(children.back(), path_in(c.dir, "node.port"));
    if (!s.is_ok()) return fail(s);
  }

  Child client{"client", path_in(a.dir, "client")};
  if (!fs::exists(path_in(client.dir, "node.cfg"), ec)) {
    node::NodeConfig cc;
    cc.client = true;
    cc.nickname = "client";
    cc.web_listen = a.web_listen;
    cc.encoding.needed = enc.needed;
    cc.encoding.happy = enc.happy;
    cc.encoding.total = enc.total;
    Status s = create_node(client.dir, cc, *addr);
    if (!s.is_ok()) return fail(s);
  } else {
    // Reused: the introducer's address may have changed, and the encoding follows --servers
    // and the flags of this run.
    auto cfg = load_config(client.dir);
    if (!cfg.ok()) return fail(cfg.status());
    cfg->encoding.needed = enc.needed;
    cfg->encoding.happy = enc.happy;
    cfg->encoding.total = enc.total;
    cfg->web_listen = a.web_listen;
    Status s =
        write_file_atomically(path_in(client.dir, "node.cfg"), node::format_node_config(*cfg));
    if (s.is_ok()) s = rewrite_introducer(client.dir, *addr_text);
    if (!s.is_ok()) return fail(s);
  }
  children.push_back(client);
  {
    Status s = start_child(children.back(), path_in(client.dir, "node.url"));
    if (!s.is_ok()) return fail(s);
  }
  auto url = read_small_file(path_in(client.dir, "node.url"), 4096);
  std::string u = url.ok() ? *url : "";
  while (!u.empty() && u.back() == '\n') u.pop_back();
  std::cout << "grid running in " << a.dir << ": an introducer, " << a.servers
            << " storage nodes and a client, encoding " << enc.needed << "-of-" << enc.total
            << " (happy " << enc.happy << ")\n"
            << "web gateway: " << u << "\n"
            << "CLI: export LAFS_NODE_DIR=" << client.dir << " (or lafs COMMAND -d " << client.dir
            << " ...)\n"
            << "Ctrl-C stops the grid." << std::endl;

  // Supervise: restart a node that died (a crash, a kill -9), stop everything on a signal.
  while (true) {
    const timespec poll{0, 200'000'000};
    const int sig = ::sigtimedwait(&set, nullptr, &poll);
    if (sig == SIGINT || sig == SIGTERM) break;
    for (Child& c : children) {
      if (c.pid <= 0) continue;
      int status = 0;
      if (::waitpid(c.pid, &status, WNOHANG) != c.pid) continue;
      std::string how = WIFSIGNALED(status) ? "killed by signal " + std::to_string(WTERMSIG(status))
                                            : "exited with " + std::to_string(WEXITSTATUS(status));
      c.pid = -1;
      if (std::chrono::steady_clock::now() - c.started > std::chrono::minutes(1)) {
        c.restarts_in_a_row = 0;
      }
      if (++c.restarts_in_a_row > kRestartsInARowMax) {
        std::cerr << "lafs grid: " << c.name << " " << how << "; it failed " << kRestartsInARowMax
                  << " times in a row, not restarting it (see " << c.dir << "/logs/node.log)"
                  << std::endl;
        continue;
      }
      std::cerr << "lafs grid: " << c.name << " " << how << "; restarting it" << std::endl;
      std::this_thread::sleep_for(kRestartDelay);
      auto pid = spawn_node(c.dir);
      if (pid.ok()) {
        c.pid = *pid;
        c.started = std::chrono::steady_clock::now();
      } else {
        std::cerr << "lafs grid: could not restart " << c.name << ": " << pid.status().to_string()
                  << "; it stays stopped" << std::endl;
      }
    }
  }
  std::cout << "stopping the grid" << std::endl;
  stop_all();
  std::cout << "stopped" << std::endl;
  return 0;
}

// Reads an introducer address from --introducer (or stdin when "-", or a file).
Result<node::IntroducerAddress> introducer_from(const std::string& arg, const std::string& file) {
  std::string text = arg;
  if (!file.empty()) {
    LAFS_ASSIGN_OR_RETURN(text, read_small_file(file, 4096));
  } else if (arg == "-") {
    std::getline(std::cin, text);
  }
  if (text.empty()) {
    return invalid_argument(
        "a node needs its grid's introducer address: --introducer ADDRESS, --introducer - "
        "(stdin) or --introducer-file FILE (the introducer writes it to "
        "private/introducer.address)");
  }
  return node::parse_introducer_address(text);
}

}  // namespace

void add_node_commands(CLI::App& app) {
  struct CreateArgs {
    std::string dir, nickname, listen = "127.0.0.1:0", advertise, web_listen = "127.0.0.1:3456";
    std::string introducer, introducer_file, reserved_space = "1G";
    bool no_storage = false, no_client = false;
    std::uint32_t needed = 3, happy = 7, total = 10;
  };
  auto ci = std::make_shared<CreateArgs>();
  auto* intro =
      app.add_subcommand("create-introducer", "Make the node directory of a grid's introducer");
  intro->add_option("DIR", ci->dir, "The new node directory")->required();
  intro->add_option("--nickname", ci->nickname, "Name shown in status pages");
  intro->add_option("--listen", ci->listen, "host:port for nodes to connect to (port 0: any)");
  intro->add_option("--advertise", ci->advertise, "host:port to tell nodes (when it differs)");
  intro->callback([ci] {
    node::NodeConfig c;
    c.nickname = ci->nickname;
    c.listen = ci->listen;
    c.advertise = ci->advertise;
    Status s = create_introducer(ci->dir, c);
    if (!s.is_ok()) {
      std::cerr << "lafs create-introducer: " << s.message() << "\n";
      exit_code = s.code() == ErrorCode::kAlreadyExists ? 2 : 1;
      return;
    }
    std::cout << "introducer created in " << ci->dir << "\nstart it with: lafs run " << ci->dir
              << "\nits address (a secret: it admits nodes to the grid) will be in " << ci->dir
              << "/private/introducer.address\n";
  });

  auto cn = std::make_shared<CreateArgs>();
  auto* node_cmd = app.add_subcommand(
      "create-node", "Make the node directory of a storage node, a client, or both");
  node_cmd->add_option("DIR", cn->dir, "The new node directory")->required();
  node_cmd->add_option("--introducer", cn->introducer,
                       "The grid's introducer address, or - to read it from stdin");
  node_cmd->add_option("--introducer-file", cn->introducer_file,
                       "Read the introducer address from this file");
  node_cmd->add_option("--nickname", cn->nickname, "Name shown in status pages");
  node_cmd->add_option("--listen", cn->listen, "host:port for storage connections (port 0: any)");
  node_cmd->add_option("--advertise", cn->advertise, "host:port to announce (when it differs)");
  node_cmd->add_option("--web-listen", cn->web_listen,
                       "host:port of the web gateway (empty: none)");
  node_cmd->add_flag("--no-storage", cn->no_storage, "Do not store shares for the grid");
  node_cmd->add_flag("--no-client", cn->no_client, "No uploads, downloads or web gateway");
  node_cmd->add_option("--needed", cn->needed, "Shares needed to rebuild a file (k)");
  node_cmd->add_option("--happy", cn->happy, "Distinct servers an upload must reach");
  node_cmd->add_option("--total", cn->total, "Shares made per file (n)");
  node_cmd->add_option("--reserved-space", cn->reserved_space,
                       "Disk space storage leaves free (e.g. 10G)");
  node_cmd->callback([cn] {
    auto intro_addr = introducer_from(cn->introducer, cn->introducer_file);
    if (!intro_addr.ok()) {
      std::cerr << "lafs create-node: " << intro_addr.status().message() << "\n";
      exit_code = 2;
      return;
    }
    auto reserved = node::parse_size(cn->reserved_space);
    if (!reserved.ok()) {
      std::cerr << "lafs create-node: --reserved-space: " << reserved.status().message() << "\n";
      exit_code = 2;
      return;
    }
    if (!(1 <= cn->needed && cn->needed <= cn->happy && cn->happy <= cn->total &&
          cn->total <= 256)) {
      std::cerr << "lafs create-node: want 1 <= needed <= happy <= total <= 256\n";
      exit_code = 2;
      return;
    }
    node::NodeConfig c;
    c.nickname = cn->nickname;
    c.listen = cn->listen;
    c.advertise = cn->advertise;
    c.storage = !cn->no_storage;
    c.client = !cn->no_client;
    c.web_listen = c.client ? cn->web_listen : "";
    c.encoding.needed = cn->needed;
    c.encoding.happy = cn->happy;
    c.encoding.total = cn->total;
    c.reserved_space = *reserved;
    Status s = create_node(cn->dir, c, *intro_addr);
    if (!s.is_ok()) {
      std::cerr << "lafs create-node: " << s.message() << "\n";
      exit_code = s.code() == ErrorCode::kIoError ? 1 : 2;
      return;
    }
    std::cout << "node created in " << cn->dir << "\nstart it with: lafs run " << cn->dir << "\n";
  });

  auto run_dir = std::make_shared<std::string>();
  auto* run = app.add_subcommand("run", "Run a node in the foreground until SIGINT or SIGTERM");
  run->add_option("DIR", *run_dir, "The node directory")->required();
  run->callback([run_dir] { exit_code = run_node(*run_dir); });

  auto ga = std::make_shared<GridArgs>();
  auto* grid = app.add_subcommand(
      "grid", "Run a whole grid on this machine: an introducer, storage nodes and a client");
  grid->add_option("DIR", ga->dir, "Where the grid's node directories live (made or reused)")
      ->required();
  grid->add_option("--servers", ga->servers, "Storage nodes (default 5)");
  grid->add_option("--needed", ga->needed, "Shares needed (k; default: fits --servers)");
  grid->add_option("--happy", ga->happy, "Servers an upload must reach (default: fits)");
  grid->add_option("--total", ga->total, "Shares per file (n; default: min(10, servers))");
  grid->add_option("--web-listen", ga->web_listen, "The gateway's host:port (port 0: any)");
  grid->add_option("--reserved-space", ga->reserved_space, "Free disk each storage node keeps");
  grid->callback([ga] { exit_code = run_grid(*ga); });
}

}  // namespace lafs::cli
