// Fuzz-style test of a real RPC port (RealEnv, 127.0.0.1): after a valid handshake, random and
// mutated frames and envelopes; before it, garbage, oversized length prefixes and streams that
// never make a frame. Seeded (LAFS_FUZZ_SEED overrides; a failure prints the seed). Asserts: no
// crash; every frame gets a well-formed answer or a clean disconnect, never silence; oversized
// length prefixes are refused at once, without the server allocating what they announce; a
// well-behaved client is served throughout; no descriptor outlives its connection.
#include <arpa/inet.h>
#include <dirent.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "core/net/handshake.h"
#include "core/net/secure_channel.h"
#include "core/rpc/envelope.h"
#include "core/rpc/rpc_pool.h"
#include "core/rpc/rpc_server.h"
#include "core/runtime/when.h"
#include "net/real/real_env.h"
#include "net/real/real_run.h"
#include "net/real/real_tcp_network.h"
#include "net/real/temp_dir.h"
#include "tests/unit/temp_real_env.h"

namespace lafs::rpc {
namespace {

constexpr Duration kHandshakeTimeout = seconds(2);
constexpr Duration kSlack = seconds(3);
// A frame must be answered, or the connection closed, within this.
constexpr Duration kReplyWait = kHandshakeTimeout + kSlack;
constexpr int kCases = 300;
constexpr int kCasesInFlight = 16;
constexpr int kRawPeers = 12;  // per raw-socket attack

std::uint64_t fuzz_seed() {
  const char* s = std::getenv("LAFS_FUZZ_SEED");
  return s != nullptr ? std::strtoull(s, nullptr, 0) : 0x1af5'2026'0003ULL;
}

Task<Result<Bytes>> echo(Bytes p) {
  co_return p;
}

// ---- The server under test, the well-behaved client, and the process's resources ----

struct Rig {
  Rig() : server_key(net::NodeKey::from_seed(seed_of(0x51))) {
    testing::open_temp_real_env("lafs-rpcfuzz-", &dir, &env);
    server.emplace(env.get());
    server->add_method("echo", [](Bytes p, CallContext) { return echo(std::move(p)); });
    auto l = env->network().listen("127.0.0.1:0");
    LAFS_ASSERT(l.ok());
    listener = std::move(*l);
    address = listener->address();
    serving.emplace(env->executor());
    net::SecureOptions so;
    so.handshake_timeout = kHandshakeTimeout;
    serving->spawn(run_rpc_listener(env.get(), listener.get(), &server_key, &*server, so));
  }
  ~Rig() {
    serving.reset();
    listener.reset();
  }
  static std::array<std::uint8_t, 32> seed_of(std::uint8_t b) {
    std::array<std::uint8_t, 32> s{};
    s.fill(b);
    return s;
  }
  real::RealExecutor& ex() { return env->real_executor(); }
  std::uint16_t port() const { return real::parse_tcp_address(address, false)->port; }

  net::NodeKey server_key;
  std::optional<real::TempDir> dir;
  std::unique_ptr<real::RealEnv> env;
  std::optional<RpcServer> server;
  std::unique_ptr<Listener> listener;
  std::string address;
  std::optional<Scope> serving;
};

struct GoodClient {
  std::uint64_t ok = 0;
  std::vector<std::string> failures;
  bool stop = false;
};

// Echo calls with random payloads, one after another, until told to stop.
Task<void> good_client(Env* env, Peer peer, std::uint64_t seed, GoodClient* out) {
  net::NodeKey key = net::NodeKey::generate(env->random());
  RpcPool pool(env, &key, {});
  std::mt19937_64 rng(seed);
  while (!out->stop) {
    Bytes payload(rng() % 4096);
    for (auto& b : payload) b = static_cast<std::uint8_t>(rng());
    auto r = co_await pool.call(peer, "echo", payload, seconds(10));
    if (!r.ok() || *r != payload) {
      out->failures.push_back(r.ok() ? "wrong echo" : r.status().to_string());
    } else {
      ++out->ok;
    }
    co_await sleep_for(env->executor(), milliseconds(2));
  }
}

std::size_t open_fds() {
  std::size_t n = 0;
  DIR* d = ::opendir("/proc/self/fd");
  if (d == nullptr) return 0;
  while (::readdir(d) != nullptr) ++n;
  ::closedir(d);
  return n;
}

// The process's peak resident set (VmHWM), in KiB; 0 where /proc does not say.
std::size_t peak_rss_kib() {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::strtoull(line.c_str() + 6, nullptr, 10);
  }
  return 0;
}

// ---- Coroutine peers: frames through the real transport ----

enum class Kind {
  kRandomSealed,      // random bytes as sealed frames' plaintext: not envelopes
  kMutatedEnvelope,   // a valid request with bytes flipped, cut or appended; then a valid one
  kResponseOnServer,  // a response sent to a server
  kNewerVersion,      // answered with an error; the connection stays usable
  kUnknownMethod,     // answered with Unimplemented
  kLongMethod,        // over kMethodBytesMax: closes
  kOversizedPayload,  // over kPayloadBytesMax: closes
  kGarbageHandshake,  // random frames instead of M1
  kBadMessage3,       // a valid M1, then random bytes as M3
  kCount,
};

struct Case {
  Kind kind;
  std::vector<Bytes> frames;
  std::size_t frame_count = 0;
};

struct Outcome {
  std::vector<std::string> replies;  // the status each answer carried
  bool closed = false;
  bool silent = false;     // no answer and no close within kReplyWait: a bug
  bool malformed = false;  // an answer that is not a response envelope: a bug
  std::string why;
};

Bytes random_bytes(std::mt19937_64& rng, std::size_t max) {
  Bytes b(rng() % (max + 1));
  for (auto& x : b) x = static_cast<std::uint8_t>(rng());
  return b;
}

std::string random_method(std::mt19937_64& rng, std::size_t len) {
  std::string m(len, 'a');
  for (auto& c : m) c = static_cast<char>('a' + rng() % 26);
  return m;
}

Bytes mutate(std::mt19937_64& rng, Bytes frame) {
  const int edits = 1 + static_cast<int>(rng() % 4);
  for (int i = 0; i < edits && !frame.empty(); ++i) {
    frame[rng() % frame.size()] ^= static_cast<std::uint8_t>(1 + rng() % 255);
  }
  if (rng() % 3 == 0) frame.resize(rng() % (frame.size() + 1));
  if (rng() % 4 == 0) {
    Bytes tail = random_bytes(rng, 64);
    frame.insert(frame.end(), tail.begin(), tail.end());
  }
  return frame;
}

Case make_case(std::mt19937_64& rng, int index) {
  // Two oversized payloads in all (8 MiB each), spread by index; the rest by chance.
  Kind kind = static_cast<Kind>(rng() % static_cast<unsigned>(Kind::kCount));
  if (kind == Kind::kOversizedPayload && index % 150 != 7) kind = Kind::kMutatedEnvelope;
  if (index % 150 == 7) kind = Kind::kOversizedPayload;
  const Bytes valid = encode_envelope(make_request(rng(), "echo", random_bytes(rng, 256), 5000));
  Case c{kind, {}};
  switch (kind) {
    case Kind::kRandomSealed:
      for (int i = 0, n = 1 + static_cast<int>(rng() % 3); i < n; ++i) {
        c.frames.push_back(random_bytes(rng, 1024));
      }
      break;
    case Kind::kMutatedEnvelope:
      c.frames = {mutate(rng, valid), valid};
      break;
    case Kind::kResponseOnServer:
      c.frames = {encode_envelope(make_response(rng(), random_bytes(rng, 64)))};
      break;
    case Kind::kNewerVersion: {
      Envelope e = make_request(rng(), "echo", {}, 5000);
      e.set_version(2 + static_cast<std::uint32_t>(rng() % 1000));
      c.frames = {encode_envelope(e), valid};
      break;
    }
    case Kind::kUnknownMethod:
      c.frames = {encode_envelope(make_request(rng(), "x" + random_method(rng, rng() % 63), {}, 0)),
                  valid};
      break;
    case Kind::kLongMethod:
      c.frames = {encode_envelope(
          make_request(rng(), random_method(rng, kMethodBytesMax + 1 + rng() % 512), {}, 0))};
      break;
    case Kind::kOversizedPayload:
      c.frames = {encode_envelope(make_request(rng(), "echo", Bytes(kPayloadBytesMax + 1), 0))};
      break;
    case Kind::kGarbageHandshake:
      for (int i = 0, n = 1 + static_cast<int>(rng() % 3); i < n; ++i) {
        c.frames.push_back(random_bytes(rng, 256));
      }
      if (rng() % 2 == 0 && !c.frames[0].empty()) {
        const std::uint8_t magic[] = {'L', 'A', 'F', 'S', 1};  // right magic, wrong length
        c.frames[0].insert(c.frames[0].begin(), magic, magic + 5);
        if (c.frames[0].size() == net::kMessage1Bytes)
          c.frames[0].push_back(0);  // never a valid M1
      }
      break;
    case Kind::kBadMessage3:
      c.frames = {random_bytes(rng, 200)};
      break;
    case Kind::kCount:
      break;
  }
  c.frame_count = c.frames.size();
  return c;
}

bool must_close(Kind k) {
  return k == Kind::kResponseOnServer || k == Kind::kLongMethod || k == Kind::kOversizedPayload ||
         k == Kind::kGarbageHandshake || k == Kind::kBadMessage3;
}

// Waits for the next frame; records an answer, a close or silence. False when the exchange ended.
Task<bool> await_answer(Env* env, Connection* conn, bool secure, Outcome* out) {
  auto r = co_await with_timeout(env->executor(), kReplyWait, conn->receive(), "answer");
  if (!r.ok()) {
    if (r.status().code() == ErrorCode::kTimeout) {
      out->silent = true;
    } else {
      out->closed = true;
    }
    out->why = r.status().to_string();
    co_return false;
  }
  if (!secure) {
    out->malformed = true;  // nothing but M2 (handled by the caller) may come back in clear
    out->why = "a clear frame of " + std::to_string(r->size()) + " bytes";
    co_return false;
  }
  auto e = decode_envelope(*r);
  if (!e.ok() || e->kind() != Envelope::KIND_RESPONSE) {
    out->malformed = true;
    out->why = "reply is not a response envelope";
    co_return false;
  }
  out->replies.push_back(response_result(*e).status().to_string());
  co_return true;
}

Task<Outcome> run_case(Env* env, std::string address, net::PublicKey server_key, Case c) {
  Outcome out;
  const bool secure = c.kind != Kind::kGarbageHandshake && c.kind != Kind::kBadMessage3;
  std::unique_ptr<Connection> conn;
  net::NodeKey key = net::NodeKey::generate(env->random());
  if (secure) {
    net::SecureOptions so;
    so.handshake_timeout = kReplyWait;
    auto s = co_await net::secure_connect(env, address, &key, server_key, so);
    if (!s.ok()) {
      out.why = "connect: " + s.status().to_string();
      out.malformed = true;
      co_return out;
    }
    conn = std::move(*s);
  } else {
    auto raw = co_await env->network().connect(address);
    if (!raw.ok()) {
      out.why = "connect: " + raw.status().to_string();
      out.malformed = true;
      co_return out;
    }
    conn = std::move(*raw);
    if (c.kind == Kind::kBadMessage3) {
      std::array<std::uint8_t, 32> eph{};
      env->random().fill(eph);
      net::InitiatorHandshake hs(key, server_key, eph);
      if (!(co_await conn->send(hs.message1())).is_ok()) {
        out.closed = true;
        co_return out;
      }
      auto m2 = co_await with_timeout(env->executor(), kReplyWait, conn->receive(), "M2");
      if (!m2.ok() || m2->size() != net::kMessage2Bytes) {
        out.malformed = true;
        out.why = "no M2";
        co_return out;
      }
    }
  }
  for (auto& f : c.frames) {
    if (!(co_await conn->send(std::move(f))).is_ok()) {
      out.closed = true;
      co_return out;
    }
    if (!co_await await_answer(env, conn.get(), secure, &out)) co_return out;
  }
  co_return out;
}

std::string kind_name(Kind k) {
  static const char* names[] = {"random-sealed",     "mutated-envelope",  "response-on-server",
                                "newer-version",     "unknown-method",    "long-method",
                                "oversized-payload", "garbage-handshake", "bad-m3"};
  return names[static_cast<int>(k)];
}

void check_outcome(const Case& c, const Outcome& o, int index) {
  SCOPED_TRACE("case " + std::to_string(index) + " (" + kind_name(c.kind) + "): " + o.why);
  EXPECT_FALSE(o.silent) << "neither an answer nor a close";
  EXPECT_FALSE(o.malformed);
  if (must_close(c.kind)) {
    EXPECT_TRUE(o.closed);
  }
  switch (c.kind) {
    case Kind::kNewerVersion:
      ASSERT_EQ(o.replies.size(), 2u);
      EXPECT_NE(o.replies[0].find("envelope version"), std::string::npos) << o.replies[0];
      EXPECT_EQ(o.replies[1], "OK");  // the connection stayed usable
      break;
    case Kind::kUnknownMethod:
      ASSERT_EQ(o.replies.size(), 2u);
      EXPECT_EQ(o.replies[0].rfind("Unimplemented: peer: unknown method", 0), 0u) << o.replies[0];
      EXPECT_EQ(o.replies[1], "OK");
      break;
    case Kind::kMutatedEnvelope:
    case Kind::kRandomSealed:  // random bytes may, rarely, parse as a request
      EXPECT_TRUE(o.closed || o.replies.size() == c.frame_count);
      break;
    default:
      break;
  }
}

// ---- Raw-socket peers: bytes the transport would never frame, on helper threads ----

int raw_connect(std::uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  ::inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return -1;
  }
  timeval tv{10, 0};  // no wait here is this long unless the server is broken
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  return fd;
}

bool raw_send(int fd, const std::string& data) {
  std::size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::send(fd, data.data() + done, data.size() - done, MSG_NOSIGNAL);
    if (n <= 0) return false;
    done += static_cast<std::size_t>(n);
  }
  return true;
}

std::string be32(std::uint32_t v) {
  return {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8),
          static_cast<char>(v)};
}

std::string framed(ByteView b) {
  return be32(static_cast<std::uint32_t>(b.size())) + to_string(b);
}

bool raw_read_exact(int fd, std::uint8_t* out, std::size_t n) {
  std::size_t done = 0;
  while (done < n) {
    const ssize_t r = ::recv(fd, out + done, n - done, 0);
    if (r <= 0) return false;
    done += static_cast<std::size_t>(r);
  }
  return true;
}

// M1, M2, M3 over a blocking socket.
bool raw_handshake(int fd, const net::PublicKey& server_key, std::uint64_t seed) {
  std::array<std::uint8_t, 32> id{}, eph{};
  std::mt19937_64 rng(seed);
  for (auto& b : id) b = static_cast<std::uint8_t>(rng());
  for (auto& b : eph) b = static_cast<std::uint8_t>(rng());
  net::NodeKey key = net::NodeKey::from_seed(id);
  net::InitiatorHandshake hs(key, server_key, eph);
  if (!raw_send(fd, framed(hs.message1()))) return false;
  std::uint8_t len[4];
  if (!raw_read_exact(fd, len, 4)) return false;
  Bytes m2(net::kMessage2Bytes);
  if (len[3] != m2.size() || !raw_read_exact(fd, m2.data(), m2.size())) return false;
  auto m3 = hs.on_message2(m2);
  return m3.ok() && raw_send(fd, framed(*m3));
}

// Reads until the server hangs up: true for EOF or reset, false when it kept the connection
// open past the receive timeout. Discards whatever arrives.
bool raw_wait_closed(int fd) {
  char buf[4096];
  for (;;) {
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n == 0) return true;
    if (n < 0) return errno != EAGAIN && errno != EWOULDBLOCK;
  }
}

enum class RawAttack {
  kHugePrefixBeforeHandshake,  // 0xffffffff announced instead of M1
  kHugePrefixAfterHandshake,   // just over the frame limit, where a sealed frame belongs
  kTruncatedFrame,             // a frame cut short by the client's FIN
  kUnframedGarbage,            // bytes whose "length" is plausible, then silence
};

struct RawResult {
  bool handshook = true;
  bool closed = false;
  double seconds = 0;
};

RawResult raw_attack(std::uint16_t port, net::PublicKey server_key, RawAttack attack,
                     std::uint64_t seed) {
  RawResult r;
  const auto start = std::chrono::steady_clock::now();
  int fd = raw_connect(port);
  if (fd < 0) return r;
  switch (attack) {
    case RawAttack::kHugePrefixBeforeHandshake:
      raw_send(fd, be32(0xffffffffu) + "LAFS");
      break;
    case RawAttack::kHugePrefixAfterHandshake:
      r.handshook = raw_handshake(fd, server_key, seed);
      raw_send(fd, be32(static_cast<std::uint32_t>(kMaxFrameBytesDefault + 1)) + "junk");
      break;
    case RawAttack::kTruncatedFrame:
      r.handshook = raw_handshake(fd, server_key, seed);
      raw_send(fd, be32(1000) + std::string(10, 'x'));
      ::shutdown(fd, SHUT_WR);
      break;
    case RawAttack::kUnframedGarbage:
      raw_send(fd, be32(5000) + std::string(100, '\x7f'));
      break;
  }
  r.closed = raw_wait_closed(fd);
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ::close(fd);
  return r;
}

// Runs kRawPeers threads of `attack` while the executor serves; their results.
std::vector<RawResult> run_raw_attack(Rig* rig, RawAttack attack, std::uint64_t seed) {
  std::vector<RawResult> results(kRawPeers);
  std::atomic<int> done{0};
  std::vector<std::thread> threads;
  const std::uint16_t port = rig->port();
  for (int i = 0; i < kRawPeers; ++i) {
    threads.emplace_back([&, i] {
      results[i] = raw_attack(port, rig->server_key.public_key(), attack, seed + i);
      done.fetch_add(1);
    });
  }
  rig->ex().run_until([&] { return done.load() == kRawPeers; }, seconds(30));
  for (auto& t : threads) t.join();
  return results;
}

TEST(RealRpcFuzz, RawAttacksAreRefusedPromptlyWithoutAllocatingWhatTheyAnnounce) {
  Rig rig;
  const std::uint64_t seed = fuzz_seed();
  SCOPED_TRACE("LAFS_FUZZ_SEED=" + std::to_string(seed));
  GoodClient good;
  Scope clients(rig.env->executor());
  clients.spawn(
      good_client(rig.env.get(), Peer{rig.address, rig.server_key.public_key()}, seed, &good));
  const std::size_t rss_before_kib = peak_rss_kib();
  struct Expect {
    RawAttack attack;
    const char* name;
    Duration within;
  };
  for (Expect e :
       {Expect{RawAttack::kHugePrefixBeforeHandshake, "huge prefix before handshake", kSlack},
        Expect{RawAttack::kHugePrefixAfterHandshake, "huge prefix after handshake", kSlack},
        Expect{RawAttack::kTruncatedFrame, "truncated frame", kSlack},
        Expect{RawAttack::kUnframedGarbage, "unframed garbage", kHandshakeTimeout + kSlack}}) {
    SCOPED_TRACE(e.name);
    for (const RawResult& r : run_raw_attack(&rig, e.attack, seed)) {
      EXPECT_TRUE(r.handshook);
      EXPECT_TRUE(r.closed) << "the server kept the connection open";
      EXPECT_LT(r.seconds, std::chrono::duration<double>(e.within).count());
    }
  }
  // 24 connections announced frames of 4 GiB or 16 MiB + 1, at once: had the server allocated
  // them, the peak resident set would grow by gigabytes, or by ~200 MiB for the 16 MiB ones. The
  // bound leaves room for ASan's quarantine and shadow memory (66 MiB of growth seen under ASan
  // with nothing allocated for the announced frames).
  const std::size_t rss_after_kib = peak_rss_kib();
  if (rss_before_kib > 0) {
    EXPECT_LT(rss_after_kib - rss_before_kib, 160u * 1024);
  }
  good.stop = true;
  rig.ex().run_until([&] { return clients.size() == 0; }, seconds(15));
  EXPECT_TRUE(good.failures.empty()) << good.failures[0];
  EXPECT_GT(good.ok, 0u);
}

Task<std::vector<Outcome>> run_batch(Env* env, std::string address, net::PublicKey key,
                                     std::vector<Case> cases) {
  std::vector<Task<Outcome>> tasks;
  for (auto& c : cases) tasks.push_back(run_case(env, address, key, std::move(c)));
  co_return co_await when_all(env->executor(), std::move(tasks));
}

TEST(RealRpcFuzz, RandomAndMutatedFramesGetAnswersOrCleanDisconnects) {
  Rig rig;
  const std::uint64_t seed = fuzz_seed();
  SCOPED_TRACE("LAFS_FUZZ_SEED=" + std::to_string(seed));
  const std::size_t fds_before = open_fds();
  GoodClient good;
  std::optional<Scope> clients(std::in_place, rig.env->executor());
  clients->spawn(
      good_client(rig.env.get(), Peer{rig.address, rig.server_key.public_key()}, seed + 1, &good));
  std::mt19937_64 rng(seed);
  int closed = 0;
  std::map<std::string, std::pair<int, int>> by_kind;  // cases, closed
  for (int first = 0; first < kCases; first += kCasesInFlight) {
    std::vector<Case> batch;
    for (int i = first; i < std::min(kCases, first + kCasesInFlight); ++i) {
      batch.push_back(make_case(rng, i));
    }
    const std::vector<Case> kept = [&] {
      std::vector<Case> k;
      for (const Case& c : batch) k.push_back(Case{c.kind, {}, c.frame_count});
      return k;
    }();
    auto outcomes = real::run_task(
        rig.ex(),
        run_batch(rig.env.get(), rig.address, rig.server_key.public_key(), std::move(batch)),
        seconds(60));
    for (std::size_t i = 0; i < outcomes.size(); ++i) {
      check_outcome(kept[i], outcomes[i], first + static_cast<int>(i));
      closed += outcomes[i].closed ? 1 : 0;
      auto& k = by_kind[kind_name(kept[i].kind)];
      ++k.first;
      k.second += outcomes[i].closed ? 1 : 0;
    }
    if (::testing::Test::HasFailure()) break;  // the first failing batch says enough
  }
  std::string summary;
  for (const auto& [name, n] : by_kind) {
    summary += " " + name + "=" + std::to_string(n.first) + "/" + std::to_string(n.second);
  }
  std::printf("cases/closed by kind:%s\n", summary.c_str());
  const RpcServerStats& stats = rig.server->stats();
  EXPECT_GT(stats.protocol_errors, 0u);
  EXPECT_GT(stats.requests, 0u);
  EXPECT_GT(closed, 0);
  // The well-behaved client was served throughout, and still is.
  good.stop = true;
  rig.ex().run_until([&] { return clients->size() == 0; }, seconds(15));
  EXPECT_TRUE(good.failures.empty()) << good.failures[0];
  EXPECT_GT(good.ok, 0u);
  clients.reset();  // its pool, and so its connection, is gone
  // Every connection the fuzz opened is closed on both sides: descriptors return to where they
  // were (closed connections linger up to close_linger for the peer's FIN).
  rig.ex().run_until([&] { return open_fds() <= fds_before; }, seconds(10));
  EXPECT_LE(open_fds(), fds_before);
}

}  // namespace
}  // namespace lafs::rpc
