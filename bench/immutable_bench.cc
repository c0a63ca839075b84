// Upload and download throughput of immutable files on one machine: 10 storage servers in a
// child process (one RealEnv, each server with its own directory and KV key prefix) reached over
// loopback TCP through the secure transport, and a client in this process. Reports MB/s and the
// CPU limit measured in the same run: the in-memory encode (convergence hash, encryption,
// ciphertext hash, erasure coding, block hashes) and decode on one core.
//   lafs_immutable_bench [--mib N] [--rounds R] [--stream]
// --stream generates the file while uploading and checks it while downloading (no copy in
// memory) and reports the client's peak RSS: the pipelines' own memory.
//   lafs_immutable_bench --limit-only [--mib N] [--threads T]
// measures only the CPU limit, with T threads (default: every core) each encoding and decoding
// its own file at once: the all-cores limit the gateway figures (docs/performance.md) compare
// against.
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "core/client/immutable_client.h"
#include "core/storage/storage_service.h"
#include "net/real/real_env.h"
#include "net/real/real_run.h"
#include "net/real/temp_dir.h"

namespace lafs {
namespace {

constexpr int kServers = 10;

// A KV view that puts every key under a prefix: several servers share one RocksDB.
class PrefixedKv final : public KvStore {
 public:
  PrefixedKv(KvStore* base, std::string prefix) : base_(base), prefix_(std::move(prefix)) {}
  Task<Result<std::optional<std::string>>> get(std::string key) override {
    return base_->get(prefix_ + key);
  }
  Task<Status> write(WriteBatch batch, bool sync) override {
    WriteBatch b;
    for (const auto& op : batch.ops()) {
      if (op.is_delete) {
        b.del(prefix_ + op.key);
      } else {
        b.put(prefix_ + op.key, op.value);
      }
    }
    return base_->write(std::move(b), sync);
  }
  Task<Result<std::vector<KeyValue>>> scan(std::string begin, std::string end,
                                           std::size_t limit) override {
    return scan_stripped(this, std::move(begin), std::move(end), limit);
  }

 private:
  static Task<Result<std::vector<KeyValue>>> scan_stripped(PrefixedKv* self, std::string begin,
                                                           std::string end, std::size_t limit) {
    std::string b = self->prefix_ + begin;
    std::string e = end.empty() ? prefix_end(self->prefix_) : self->prefix_ + end;
    auto r = co_await self->base_->scan(std::move(b), std::move(e), limit);
    if (!r.ok()) co_return r.status();
    for (auto& kv : *r) kv.first.erase(0, self->prefix_.size());
    co_return std::move(*r);
  }
  KvStore* base_;
  std::string prefix_;
};

// Everything of the base Env except the KV store.
class ServerEnv final : public Env {
 public:
  ServerEnv(Env* base, int i) : base_(base), kv_(&base->kv(), "srv" + std::to_string(i) + "/") {}
  Executor& executor() override { return base_->executor(); }
  Clock& clock() override { return base_->clock(); }
  Network& network() override { return base_->network(); }
  Disk& disk() override { return base_->disk(); }
  KvStore& kv() override { return kv_; }
  Random& random() override { return base_->random(); }
  Compute& compute() override { return base_->compute(); }
  Logger& logger() override { return base_->logger(); }

 private:
  Env* base_;
  PrefixedKv kv_;
};

std::array<std::uint8_t, 32> seed_of(int i) {
  std::array<std::uint8_t, 32> s{};
  s[0] = static_cast<std::uint8_t>(i);
  s[31] = 0x5e;
  return s;
}

Task<void> serve_one(ServerEnv* env, int i, int out_fd) {
  storage::StorageOptions options;
  options.root = "s" + std::to_string(i);
  auto server = co_await storage::StorageServer::open(env, options);
  if (!server.ok()) {
    std::fprintf(stderr, "server %d: %s\n", i, server.status().to_string().c_str());
    co_return;
  }
  rpc::RpcServer rpc(env);
  storage::register_storage_methods(rpc, server->get());
  const std::string listen_at = "127.0.0.1:0";
  auto l = env->network().listen(listen_at);
  if (!l.ok()) {
    std::fprintf(stderr, "server %d: listen: %s\n", i, l.status().to_string().c_str());
    co_return;
  }
  const std::string line = std::to_string(i) + " " + (*l)->address() + "\n";
  (void)!::write(out_fd, line.data(), line.size());
  const net::NodeKey key = net::NodeKey::from_seed(seed_of(i));
  const net::SecureOptions secure;
  co_await rpc::run_rpc_listener(env, l->get(), &key, &rpc, secure);
}

[[noreturn]] void run_servers(const std::string& dir, int out_fd) {
  real::RealEnvOptions o;
  o.data_dir = dir + "-data";
  o.kv_dir = dir + "-kv";
  o.compute_threads = 4;  // fsyncs of ten servers: mostly waiting on the disk
  o.log_level_min = LogLevel::kError;
  auto env = real::RealEnv::open(o);
  if (!env.ok()) {
    std::fprintf(stderr, "servers: %s\n", env.status().to_string().c_str());
    _exit(3);
  }
  std::vector<std::unique_ptr<ServerEnv>> envs;
  Scope scope((*env)->executor());
  for (int i = 0; i < kServers; ++i) {
    envs.push_back(std::make_unique<ServerEnv>(env->get(), i));
    scope.spawn(serve_one(envs.back().get(), i, out_fd));
  }
  (*env)->real_executor().run();
  _exit(0);
}

double cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

// The benchmark's file, generated on the fly: no copy of it in memory.
std::uint8_t byte_at(std::uint64_t i, std::uint8_t salt) {
  return static_cast<std::uint8_t>(i * 131 + (i >> 12) + salt);
}

class GeneratedSource final : public client::ByteSource {
 public:
  GeneratedSource(std::uint64_t size, std::uint8_t salt) : size_(size), salt_(salt) {}
  std::uint64_t size() const override { return size_; }
  Task<Result<Bytes>> read(std::uint64_t offset, std::size_t length) override {
    Bytes b(length);
    for (std::size_t i = 0; i < length; ++i) b[i] = byte_at(offset + i, salt_);
    co_return b;
  }

 private:
  std::uint64_t size_;
  std::uint8_t salt_;
};

long peak_rss_mib() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss / 1024;
}

int run(std::size_t mib, int rounds, bool stream) {
  auto dir = real::TempDir::make("lafs-bench-");
  if (!dir.ok()) return 1;
  int fds[2];
  if (::pipe(fds) != 0) return 1;
  const pid_t child = ::fork();
  if (child == 0) {
    ::close(fds[0]);
    run_servers(dir->sub("servers"), fds[1]);
  }
  ::close(fds[1]);
  std::vector<client::ServerRef> refs(kServers);
  {
    FILE* in = ::fdopen(fds[0], "r");
    char line[256];
    for (int got = 0; got < kServers && std::fgets(line, sizeof line, in) != nullptr; ++got) {
      int i = 0;
      char addr[200];
      if (std::sscanf(line, "%d %199s", &i, addr) != 2 || i < 0 || i >= kServers) return 1;
      refs[i].address = addr;
      refs[i].key = net::NodeKey::from_seed(seed_of(i)).public_key();
    }
  }
  real::RealEnvOptions o;
  o.data_dir = dir->sub("client");
  o.kv_dir = dir->sub("client-kv");
  o.compute_threads = 1;
  o.log_level_min = LogLevel::kError;
  auto env = real::RealEnv::open(o);
  if (!env.ok()) return 1;
  auto& ex = (*env)->real_executor();
  const net::NodeKey client_key = net::NodeKey::from_seed(seed_of(99));
  rpc::RpcPool pool(env->get(), &client_key, {});
  client::ClientSecrets secrets;
  client::ImmutableClient ic(env->get(), &pool, &secrets);

  if (stream) {
    // The file is generated while it is read and checked while it is downloaded: what the
    // client holds is the upload and download pipelines' own memory.
    const std::uint64_t size = std::uint64_t{mib} << 20;
    const double mb = static_cast<double>(size) / 1e6;
    const long rss_before = peak_rss_mib();
    client::EncodingParams params;
    for (int r = 0; r < rounds; ++r) {
      GeneratedSource source(size, static_cast<std::uint8_t>(r));
      const auto t0 = std::chrono::steady_clock::now();
      auto up = real::run_task(ex, ic.upload_from(&source, refs, params), seconds(3600));
      const double up_s =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      if (!up.ok()) {
        std::fprintf(stderr, "upload: %s\n", up.status().to_string().c_str());
        return 1;
      }
      std::uint64_t at = 0;
      bool same = true;
      const auto t1 = std::chrono::steady_clock::now();
      Status s = real::run_task(
          ex,
          ic.download_range(up->cap, refs, 0, size,
                            [&](ByteView piece) {
                              for (std::uint8_t b : piece)
                                same = same && b == byte_at(at++, static_cast<std::uint8_t>(r));
                              return Status{};
                            }),
          seconds(3600));
      const double down_s =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - t1).count();
      if (!s.is_ok() || !same || at != size) {
        std::fprintf(stderr, "download failed or differed: %s\n", s.to_string().c_str());
        return 1;
      }
      std::printf("stream round %d: %llu MiB upload %.1f MB/s, download %.1f MB/s\n", r,
                  static_cast<unsigned long long>(mib), mb / up_s, mb / down_s);
    }
    std::printf("client peak RSS %ld MiB (%ld MiB before the transfers)\n", peak_rss_mib(),
                rss_before);
    ::kill(child, SIGKILL);
    int status = 0;
    ::waitpid(child, &status, 0);
    return 0;
  }
  const std::size_t size = mib << 20;
  Bytes plain(size);
  for (std::size_t i = 0; i < size; ++i) plain[i] = static_cast<std::uint8_t>(i * 131 + (i >> 12));
  client::EncodingParams params;  // 3-of-10, 128 KiB segments

  // The CPU limit, same run, on one core: the convergent-key pass and the streaming encoder
  // (encryption, ciphertext hash, erasure coding, block hashes, trees), with no I/O and no
  // share assembly — exactly the work an upload must do.
  const double c0 = cpu_seconds();
  const crypto::FileKey key = crypto::convergent_key(
      secrets.convergence,
      crypto::ConvergenceParams{params.needed, params.total, params.segment_size}, plain);
  {
    auto enc = client::ImmutableEncoder::create(key, params, plain.size());
    if (!enc.ok()) return 1;
    for (std::uint64_t seg = 0; seg < (*enc)->segment_count(); ++seg) {
      auto blocks = (*enc)->encode_segment(
          ByteView(plain).subspan(seg * params.segment_size, (*enc)->segment_length(seg)));
      if (!blocks.ok()) return 1;
    }
    if (!(*enc)->finish().ok()) return 1;
  }
  const double encode_cpu = cpu_seconds() - c0;
  // The decode limit: verified decoding of whole shares in memory (their encoding not timed).
  auto encoded = client::encode_immutable(plain, key, params);
  std::map<std::uint32_t, Bytes> three{
      {7, encoded->shares[7]}, {8, encoded->shares[8]}, {9, encoded->shares[9]}};
  const double c1 = cpu_seconds();
  auto decoded = client::decode_immutable(encoded->cap, three);
  const double decode_cpu = cpu_seconds() - c1;
  if (!decoded.ok() || *decoded != plain) return 1;
  const double mb = static_cast<double>(size) / 1e6;
  std::printf("file: %zu MiB, k=3 n=10, 128 KiB segments, %d servers over loopback TCP\n", mib,
              kServers);
  std::printf(
      "cpu limit (one core, no I/O): encode %.0f MB/s, decode (3 parity shares) %.0f MB/s\n",
      mb / encode_cpu, mb / decode_cpu);

  {
    storage::StorageClient probe(&pool, rpc::Peer{refs[0].address, refs[0].key}, seconds(10));
    auto v = real::run_task(ex, probe.version(), seconds(30));
    if (!v.ok()) {
      std::fprintf(stderr, "server 0 at %s: %s\n", refs[0].address.c_str(),
                   v.status().to_string().c_str());
      return 1;
    }
  }
  double best_up = 0, best_down = 0;
  for (int r = 0; r < rounds; ++r) {
    plain[r] ^= 1;  // a different file each round (convergent: same bytes would be found)
    const auto t0 = std::chrono::steady_clock::now();
    auto up = real::run_task(ex, ic.upload(plain, refs, params), seconds(600));
    const double up_s =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (!up.ok()) {
      std::fprintf(stderr, "upload: %s\n", up.status().to_string().c_str());
      break;
    }
    const auto t1 = std::chrono::steady_clock::now();
    auto down = real::run_task(ex, ic.download(up->cap, refs), seconds(600));
    const double down_s =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t1).count();
    if (!down.ok() || *down != plain) {
      std::fprintf(stderr, "download failed or differed\n");
      break;
    }
    best_up = std::max(best_up, mb / up_s);
    best_down = std::max(best_down, mb / down_s);
    std::printf("round %d: upload %.1f MB/s, download %.1f MB/s\n", r, mb / up_s, mb / down_s);
  }
  std::printf(
      "best: upload %.1f MB/s (%.2f of the one-core encode limit), download %.1f MB/s "
      "(%.2f of the decode limit); client peak RSS %ld MiB\n",
      best_up, best_up / (mb / encode_cpu), best_down, best_down / (mb / decode_cpu),
      peak_rss_mib());
  ::kill(child, SIGKILL);
  int status = 0;
  ::waitpid(child, &status, 0);
  return best_up > 0 ? 0 : 1;
}

// Encodes then decodes a `mib` MiB file on this thread; returns the seconds each took (wall
// time on a thread that does nothing else).
std::pair<double, double> limit_on_this_thread(std::size_t mib, std::uint8_t salt) {
  const std::size_t size = mib << 20;
  Bytes plain(size);
  for (std::size_t i = 0; i < size; ++i) plain[i] = static_cast<std::uint8_t>(i * 131 + salt);
  client::EncodingParams params;
  client::ClientSecrets secrets;
  const auto t0 = std::chrono::steady_clock::now();
  const crypto::FileKey key = crypto::convergent_key(
      secrets.convergence,
      crypto::ConvergenceParams{params.needed, params.total, params.segment_size}, plain);
  {
    auto enc = client::ImmutableEncoder::create(key, params, plain.size());
    LAFS_ASSERT(enc.ok());
    for (std::uint64_t seg = 0; seg < (*enc)->segment_count(); ++seg) {
      auto blocks = (*enc)->encode_segment(
          ByteView(plain).subspan(seg * params.segment_size, (*enc)->segment_length(seg)));
      LAFS_ASSERT(blocks.ok());
    }
    LAFS_ASSERT((*enc)->finish().ok());
  }
  const auto t1 = std::chrono::steady_clock::now();
  auto encoded = client::encode_immutable(plain, key, params);
  std::map<std::uint32_t, Bytes> three{
      {7, encoded->shares[7]}, {8, encoded->shares[8]}, {9, encoded->shares[9]}};
  const auto t2 = std::chrono::steady_clock::now();
  auto decoded = client::decode_immutable(encoded->cap, three);
  const auto t3 = std::chrono::steady_clock::now();
  LAFS_ASSERT(decoded.ok() && *decoded == plain);
  return {std::chrono::duration<double>(t1 - t0).count(),
          std::chrono::duration<double>(t3 - t2).count()};
}

int limit_only(std::size_t mib, unsigned threads) {
  std::vector<std::pair<double, double>> times(threads);
  std::vector<std::thread> pool;
  for (unsigned t = 0; t < threads; ++t) {
    pool.emplace_back(
        [&, t] { times[t] = limit_on_this_thread(mib, static_cast<std::uint8_t>(t)); });
  }
  for (auto& th : pool) th.join();
  double enc = 0, dec = 0;
  for (auto [e, d] : times) {
    enc += static_cast<double>(mib << 20) / 1e6 / e;
    dec += static_cast<double>(mib << 20) / 1e6 / d;
  }
  std::printf(
      "cpu limit (%u threads at once, no I/O, %zu MiB each, 3-of-10): encode %.0f MB/s "
      "(%.0f MiB/s), decode %.0f MB/s (%.0f MiB/s)\n",
      threads, mib, enc, enc * 1e6 / (1 << 20), dec, dec * 1e6 / (1 << 20));
  return 0;
}

}  // namespace
}  // namespace lafs

int main(int argc, char** argv) {
  std::size_t mib = 64;
  int rounds = 3;
  bool stream = false, limit = false;
  unsigned threads = std::max(1u, std::thread::hardware_concurrency());
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--stream") == 0) stream = true;
    if (std::strcmp(argv[i], "--limit-only") == 0) limit = true;
  }
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::strcmp(argv[i], "--threads") == 0)
      threads = static_cast<unsigned>(std::atoi(argv[i + 1]));
  }
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::strcmp(argv[i], "--mib") == 0) mib = static_cast<std::size_t>(std::atoi(argv[i + 1]));
    if (std::strcmp(argv[i], "--rounds") == 0) rounds = std::atoi(argv[i + 1]);
  }
  if (mib == 0 || rounds <= 0) {
    std::fprintf(stderr, "usage: lafs_immutable_bench [--mib N] [--rounds R]\n");
    return 2;
  }
  if (limit) return lafs::limit_only(mib, std::max(1u, threads));
  return lafs::run(mib, rounds, stream);
}
