// Transport throughput on loopback between two processes: kernel TCP (blocking sockets, the
// ceiling), framed TCP (RealTcpNetwork), the secure channel (handshake + ChaCha20-Poly1305 per
// frame) and RPC calls with large payloads, measured in the same run and reported as fractions of
// kernel TCP. Forks its own server process. Also the in-process seal/open speed of one frame
// cipher, which bounds the secure channel per core. Figures go to docs/performance.md; measure
// with the release build.
//
//   lafs_transport_bench [--seconds S] [--rounds R] [--sizes 4096,65536,...]
//                        [--modes tcp,framed,secure,rpc,cipher] [--buffer-bytes N]
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "core/net/handshake.h"
#include "core/net/secure_channel.h"
#include "core/rpc/rpc_pool.h"
#include "core/rpc/rpc_server.h"
#include "core/runtime/when.h"
#include "net/real/real_env.h"
#include "net/real/real_run.h"
#include "net/real/temp_dir.h"

namespace lafs::bench {
namespace {

using SteadyClock = std::chrono::steady_clock;

constexpr const char* kSinkMethod = "bench.sink";
constexpr int kRpcCallsInFlight = 8;

net::NodeKey server_key() {
  std::array<std::uint8_t, 32> seed{};
  seed.fill(0x5e);
  return net::NodeKey::from_seed(seed);
}

std::unique_ptr<real::RealEnv> open_env(const real::TempDir& dir, std::size_t buffer_bytes) {
  real::RealEnvOptions o;
  o.network.send_buffer_bytes = buffer_bytes;
  o.network.receive_buffer_bytes = buffer_bytes;
  o.data_dir = dir.sub("data");
  o.kv_dir = dir.sub("kv");
  o.compute_threads = 1;
  auto env = real::RealEnv::open(o);
  if (!env.ok()) {
    std::fprintf(stderr, "RealEnv: %s\n", env.status().to_string().c_str());
    std::exit(1);
  }
  return std::move(*env);
}

void put_u64(std::uint8_t* p, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) p[i] = static_cast<std::uint8_t>(v >> (8 * i));
}
std::uint64_t get_u64(const std::uint8_t* p) {
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v |= static_cast<std::uint64_t>(p[i]) << (8 * i);
  return v;
}

// ---------------------------------------------------------------------------------------------
// The server process: sinks that count what they receive. An empty frame asks for the count.

Task<void> frame_sink(std::unique_ptr<Connection> c) {
  std::uint64_t bytes = 0;
  for (;;) {
    auto f = co_await c->receive();
    if (!f.ok()) co_return;
    if (!f->empty()) {
      bytes += f->size();
      continue;
    }
    Bytes ack(8);
    put_u64(ack.data(), bytes);
    bytes = 0;
    if (!(co_await c->send(std::move(ack))).is_ok()) co_return;
  }
}

Task<void> secure_sink(Env* env, std::unique_ptr<Connection> raw, const net::NodeKey* key) {
  auto s = co_await net::secure_server_handshake(env, std::move(raw), key, {});
  if (s.ok()) co_await frame_sink(std::move(*s));
}

Task<void> sink_listener(Env* env, Listener* l, const net::NodeKey* key, bool secure) {
  Scope conns(env->executor());
  for (;;) {
    auto c = co_await l->accept();
    if (!c.ok()) co_return;
    if (secure) {
      conns.spawn(secure_sink(env, std::move(*c), key));
    } else {
      conns.spawn(frame_sink(std::move(*c)));
    }
  }
}

Task<Result<Bytes>> sink_method(Bytes payload) {
  Bytes reply(8);
  put_u64(reply.data(), payload.size());
  co_return reply;
}

// Kernel TCP: counts bytes until the client's FIN, answers with the count.
void plain_sink_thread(int listen_fd) {
  std::vector<char> buf(1 << 20);
  for (;;) {
    const int fd = ::accept(listen_fd, nullptr, nullptr);
    if (fd < 0) return;  // shut down
    std::uint64_t bytes = 0;
    for (;;) {
      const ssize_t n = ::recv(fd, buf.data(), buf.size(), 0);
      if (n <= 0) break;
      bytes += static_cast<std::uint64_t>(n);
    }
    std::uint8_t ack[8];
    put_u64(ack, bytes);
    (void)!::send(fd, ack, sizeof ack, MSG_NOSIGNAL);
    ::close(fd);
  }
}

int plain_listen(std::uint16_t* port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  ::inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(fd, 16) != 0) {
    std::perror("plain listen");
    std::exit(1);
  }
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  *port = ntohs(a.sin_port);
  return fd;
}

std::string listen_or_die(Env* env, std::unique_ptr<Listener>* out) {
  auto l = env->network().listen("127.0.0.1:0");
  if (!l.ok()) {
    std::fprintf(stderr, "listen: %s\n", l.status().to_string().c_str());
    std::exit(1);
  }
  *out = std::move(*l);
  return (*out)->address();
}

// Serves until `lifeline` (the parent's end of a pipe) reaches EOF; reports its addresses on
// `report` as one line: plain-port framed-addr secure-addr rpc-addr.
int run_server(int report, int lifeline, std::size_t buffer_bytes) {
  auto dir = real::TempDir::make("lafs-tbench-");
  if (!dir.ok()) return 1;
  auto env = open_env(*dir, buffer_bytes);
  const net::NodeKey key = server_key();
  std::uint16_t plain_port = 0;
  const int plain_fd = plain_listen(&plain_port);
  std::thread plain(plain_sink_thread, plain_fd);
  std::unique_ptr<Listener> framed_l, secure_l, rpc_l;
  const std::string line = std::to_string(plain_port) + " " + listen_or_die(env.get(), &framed_l) +
                           " " + listen_or_die(env.get(), &secure_l) + " " +
                           listen_or_die(env.get(), &rpc_l) + "\n";
  rpc::RpcServer server(env.get());
  server.add_method(kSinkMethod,
                    [](Bytes p, rpc::CallContext) { return sink_method(std::move(p)); });
  std::atomic<bool> parent_gone{false};
  std::thread watch([&] {
    char c;
    while (::read(lifeline, &c, 1) > 0) {
    }
    parent_gone.store(true);
    env->real_executor().post_from_any_thread([] {});
  });
  {
    Scope scope(env->executor());
    scope.spawn(sink_listener(env.get(), framed_l.get(), &key, false));
    scope.spawn(sink_listener(env.get(), secure_l.get(), &key, true));
    scope.spawn(rpc::run_rpc_listener(env.get(), rpc_l.get(), &key, &server, {}));
    (void)!::write(report, line.data(), line.size());
    ::close(report);
    env->real_executor().run_until([&] { return parent_gone.load(); });
  }
  ::shutdown(plain_fd, SHUT_RDWR);
  ::close(plain_fd);
  plain.join();
  watch.join();
  framed_l.reset();
  secure_l.reset();
  rpc_l.reset();
  return 0;
}

// ---------------------------------------------------------------------------------------------
// The client process: one measurement per (mode, frame size), in MB/s (10^6 bytes per second).

double seconds_since(SteadyClock::time_point start) {
  return std::chrono::duration<double>(SteadyClock::now() - start).count();
}

double measure_plain(std::uint16_t port, std::size_t frame_bytes, double run_s) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  ::inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) return 0;
  std::vector<char> buf(frame_bytes, 'x');
  std::uint64_t sent = 0;
  const auto start = SteadyClock::now();
  while (seconds_since(start) < run_s) {
    std::size_t done = 0;
    while (done < buf.size()) {
      const ssize_t n = ::send(fd, buf.data() + done, buf.size() - done, MSG_NOSIGNAL);
      if (n <= 0) return 0;
      done += static_cast<std::size_t>(n);
    }
    sent += buf.size();
  }
  ::shutdown(fd, SHUT_WR);
  std::uint8_t ack[8];
  std::size_t got = 0;
  while (got < sizeof ack) {
    const ssize_t n = ::recv(fd, ack + got, sizeof ack - got, 0);
    if (n <= 0) return 0;
    got += static_cast<std::size_t>(n);
  }
  const double took = seconds_since(start);
  ::close(fd);
  if (get_u64(ack) != sent) return 0;
  return static_cast<double>(sent) / took / 1e6;
}

// Streams frames of `frame_bytes` for `run_s` seconds, then asks for the count: MB/s, 0 on error.
Task<double> stream_frames(Connection* c, std::size_t frame_bytes, double run_s) {
  const Bytes frame(frame_bytes, 0xab);
  std::uint64_t sent = 0;
  const auto start = SteadyClock::now();
  while (seconds_since(start) < run_s) {
    if (!(co_await c->send(frame)).is_ok()) co_return 0;
    sent += frame_bytes;
  }
  if (!(co_await c->send(Bytes())).is_ok()) co_return 0;
  auto ack = co_await c->receive();
  const double took = seconds_since(start);
  if (!ack.ok() || ack->size() != 8 || get_u64(ack->data()) != sent) co_return 0;
  co_return static_cast<double>(sent) / took / 1e6;
}

Task<double> measure_framed(Env* env, std::string addr, std::size_t frame_bytes, double run_s) {
  auto c = co_await env->network().connect(addr);
  if (!c.ok()) co_return 0;
  co_return co_await stream_frames(c->get(), frame_bytes, run_s);
}

Task<double> measure_secure(Env* env, std::string addr, const net::NodeKey* key,
                            std::size_t frame_bytes, double run_s) {
  auto c = co_await net::secure_connect(env, addr, key, server_key().public_key(), {});
  if (!c.ok()) co_return 0;
  co_return co_await stream_frames(c->get(), frame_bytes, run_s);
}

Task<void> rpc_worker(rpc::RpcPool* pool, rpc::Peer peer, std::size_t payload_bytes,
                      SteadyClock::time_point end, std::uint64_t* bytes, bool* failed) {
  const Bytes payload(payload_bytes, 0xcd);
  while (SteadyClock::now() < end && !*failed) {
    auto r = co_await pool->call(peer, kSinkMethod, payload, seconds(30));
    if (!r.ok() || r->size() != 8 || get_u64(r->data()) != payload_bytes) {
      *failed = true;
      co_return;
    }
    *bytes += payload_bytes;
  }
}

Task<double> measure_rpc(Env* env, rpc::RpcPool* pool, std::string addr, std::size_t payload_bytes,
                         double run_s) {
  const rpc::Peer peer{addr, server_key().public_key()};
  if (!(co_await pool->call(peer, kSinkMethod, {}, seconds(10))).ok()) co_return 0;  // connected
  std::uint64_t bytes = 0;
  bool failed = false;
  const auto start = SteadyClock::now();
  const auto end = start + std::chrono::duration_cast<SteadyClock::duration>(
                               std::chrono::duration<double>(run_s));
  std::vector<Task<void>> workers;
  for (int i = 0; i < kRpcCallsInFlight; ++i) {
    workers.push_back(rpc_worker(pool, peer, payload_bytes, end, &bytes, &failed));
  }
  co_await when_all(env->executor(), std::move(workers));
  if (failed) co_return 0;
  co_return static_cast<double>(bytes) / seconds_since(start) / 1e6;
}

// One core sealing, then opening, 64 MiB of frames of one direction in steady state, no I/O.
std::pair<double, double> measure_cipher(std::size_t frame_bytes) {
  net::SessionKey k{};
  k.fill(7);
  const Bytes plain(frame_bytes, 0xab);
  const std::size_t total = std::max<std::size_t>(frame_bytes, std::size_t{64} << 20);
  const std::size_t batch = std::max<std::size_t>(1, (std::size_t{16} << 20) / frame_bytes);
  net::FrameCipher sealer(k);
  std::vector<Bytes> sealed;
  for (std::size_t i = 0; i < batch; ++i) sealed.push_back(sealer.seal(plain));
  std::size_t done = 0;
  auto start = SteadyClock::now();
  for (; done < total; done += frame_bytes) {
    Bytes f = sealer.seal(plain);
    if (f.size() != frame_bytes + net::kFrameTagBytes) return {0, 0};
  }
  const double seal_mbps = static_cast<double>(done) / seconds_since(start) / 1e6;
  done = 0;
  start = SteadyClock::now();
  while (done < total) {
    net::FrameCipher opener(k);  // the batch again, from counter 0
    for (const Bytes& f : sealed) {
      if (!opener.open(f).ok()) return {seal_mbps, 0};
      done += frame_bytes;
    }
  }
  const double open_mbps = static_cast<double>(done) / seconds_since(start) / 1e6;
  return {seal_mbps, open_mbps};
}

struct Row {
  double tcp = 0, framed = 0, secure = 0, rpc = 0, seal = 0, open = 0;
};

std::vector<std::size_t> parse_sizes(const std::string& s) {
  std::vector<std::size_t> out;
  std::size_t pos = 0;
  while (pos < s.size()) {
    std::size_t comma = s.find(',', pos);
    if (comma == std::string::npos) comma = s.size();
    out.push_back(std::strtoull(s.substr(pos, comma - pos).c_str(), nullptr, 10));
    pos = comma + 1;
  }
  return out;
}

int run_client(const std::string& line, double run_s, int rounds,
               const std::vector<std::size_t>& sizes, const std::string& modes,
               std::size_t buffer_bytes) {
  auto on = [&](const char* m) { return modes.find(m) != std::string::npos; };
  char framed[64], secure[64], rpc_addr[64];
  unsigned plain_port = 0;
  if (std::sscanf(line.c_str(), "%u %63s %63s %63s", &plain_port, framed, secure, rpc_addr) != 4) {
    std::fprintf(stderr, "bad server report: %s\n", line.c_str());
    return 1;
  }
  auto dir = real::TempDir::make("lafs-tbench-client-");
  if (!dir.ok()) return 1;
  auto env = open_env(*dir, buffer_bytes);
  real::RealExecutor& ex = env->real_executor();
  const net::NodeKey key = net::NodeKey::generate(env->random());
  rpc::RpcPool pool(env.get(), &key, {});
  std::map<std::size_t, Row> best;
  for (int round = 0; round < rounds; ++round) {
    for (std::size_t size : sizes) {
      Row& b = best[size];
      if (on("tcp"))
        b.tcp = std::max(b.tcp, measure_plain(static_cast<std::uint16_t>(plain_port), size, run_s));
      if (on("framed"))
        b.framed =
            std::max(b.framed, real::run_task(ex, measure_framed(env.get(), framed, size, run_s)));
      if (on("secure"))
        b.secure = std::max(
            b.secure, real::run_task(ex, measure_secure(env.get(), secure, &key, size, run_s)));
      if (on("rpc") && size <= rpc::kPayloadBytesMax) {
        b.rpc = std::max(b.rpc,
                         real::run_task(ex, measure_rpc(env.get(), &pool, rpc_addr, size, run_s)));
      }
      if (on("cipher")) {
        auto [seal, open] = measure_cipher(size);
        b.seal = std::max(b.seal, seal);
        b.open = std::max(b.open, open);
      }
    }
  }
  std::printf(
      "loopback, two processes, %.1f s per measurement, best of %d; MB/s = 10^6 bytes/s; "
      "transport buffers %zu bytes\n"
      "%11s %9s %9s %9s %9s %8s %8s %8s %9s %9s\n",
      run_s, rounds, buffer_bytes, "frame_bytes", "tcp", "framed", "secure", "rpc", "frm/tcp",
      "sec/tcp", "rpc/tcp", "seal_1core", "open_1core");
  for (const auto& [size, r] : best) {
    auto frac = [&](double x) { return r.tcp > 0 ? x / r.tcp : 0.0; };
    std::printf("%11zu %9.0f %9.0f %9.0f %9.0f %8.2f %8.2f %8.2f %9.0f %9.0f\n", size, r.tcp,
                r.framed, r.secure, r.rpc, frac(r.framed), frac(r.secure), frac(r.rpc), r.seal,
                r.open);
  }
  return 0;
}

}  // namespace
}  // namespace lafs::bench

int main(int argc, char** argv) {
  double seconds = 1.0;
  int rounds = 3;
  std::string sizes = "1024,16384,65536,262144,1048576";
  std::string modes = "tcp,framed,secure,rpc,cipher";
  std::size_t buffer_bytes = lafs::real::RealTcpNetworkOptions{}.send_buffer_bytes;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--seconds") {
      seconds = std::atof(argv[i + 1]);
    } else if (flag == "--rounds") {
      rounds = std::atoi(argv[i + 1]);
    } else if (flag == "--sizes") {
      sizes = argv[i + 1];
    } else if (flag == "--buffer-bytes") {
      buffer_bytes = std::strtoull(argv[i + 1], nullptr, 10);
    } else if (flag == "--modes") {
      modes = argv[i + 1];
    } else {
      std::fprintf(stderr,
                   "usage: %s [--seconds S] [--rounds R] [--sizes N,N,...] [--modes "
                   "tcp,framed,secure,rpc,cipher] [--buffer-bytes N]\n",
                   argv[0]);
      return 2;
    }
  }
  // Fork first, before either side starts a thread.
  int report[2], lifeline[2];
  if (::pipe(report) != 0 || ::pipe(lifeline) != 0) return 1;
  const pid_t child = ::fork();
  if (child < 0) return 1;
  if (child == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    ::close(report[0]);
    ::close(lifeline[1]);
    return lafs::bench::run_server(report[1], lifeline[0], buffer_bytes);
  }
  ::close(report[1]);
  ::close(lifeline[0]);
  std::string line;
  char c;
  while (::read(report[0], &c, 1) == 1 && c != '\n') line += c;
  ::close(report[0]);
  const int rc = lafs::bench::run_client(line, seconds, rounds, lafs::bench::parse_sizes(sizes),
                                         modes, buffer_bytes);
  ::close(lifeline[1]);  // the server's cue to stop
  int status = 0;
  ::waitpid(child, &status, 0);
  return rc;
}
