// The web API (docs/webapi.md) on the simulator: a grid of Nodes (an introducer, storage nodes,
// a client), with requests and responses in memory. Every endpoint's success and its errors;
// the real HTTP server and the CLI are tested over TCP in tests/grid_cli_test.sh.
#include "core/node/web_api.h"

#include <gtest/gtest.h>

#include "core/crypto/hash.h"
#include "core/node/json.h"
#include "core/node/web_ui.h"
#include "net/sim/sim_run.h"
#include "net/sim/simulation.h"

namespace lafs::node {
namespace {

std::array<std::uint8_t, 32> seed_of(std::uint32_t i) {
  std::array<std::uint8_t, 32> s{};
  for (int b = 0; b < 4; ++b) s[b] = static_cast<std::uint8_t>(i >> (8 * b));
  s[31] = 0x77;
  return s;
}

class MemBody final : public HttpBodyReader {
 public:
  MemBody(Bytes data, std::size_t chunk) : data_(std::move(data)), chunk_(chunk) {}
  Task<Result<Bytes>> read(std::size_t max) override {
    const std::size_t n = std::min({max, chunk_, data_.size() - pos_});
    Bytes out(data_.begin() + pos_, data_.begin() + pos_ + n);
    pos_ += n;
    co_return out;
  }

 private:
  Bytes data_;
  std::size_t chunk_;
  std::size_t pos_ = 0;
};

class MemResponse final : public HttpResponseWriter {
 public:
  Task<Status> start(int status, std::vector<HttpHeader> headers,
                     std::optional<std::uint64_t> content_length) override {
    EXPECT_FALSE(started_);
    started_ = true;
    status_ = status;
    headers_ = std::move(headers);
    length_ = content_length;
    co_return Status{};
  }
  Task<Status> write(Bytes data) override {
    EXPECT_TRUE(started_);
    body_.insert(body_.end(), data.begin(), data.end());
    co_return Status{};
  }
  Task<Status> finish() override {
    finished_ = true;
    if (length_ && !head_) EXPECT_EQ(*length_, body_.size());
    co_return Status{};
  }
  bool started() const override { return started_; }

  bool started_ = false, finished_ = false, head_ = false;
  int status_ = 0;
  std::vector<HttpHeader> headers_;
  std::optional<std::uint64_t> length_;
  Bytes body_;

  std::string text() const { return to_string(body_); }
  std::string header(const std::string& name) const {
    for (const auto& h : headers_) {
      if (h.name == name) return h.value;
    }
    return "";
  }
};

Task<void> node_main(sim::SimNode* env, NodeConfig config, NodeSecrets secrets) {
  Node node(env, std::move(config), std::move(secrets));
  Status started = co_await node.start();
  if (!started.is_ok()) {
    ADD_FAILURE() << env->name() << ": " << started.to_string();
    co_return;
  }
  co_await node.run();
}

// An introducer, `servers` storage nodes and a client node with the web API, all Nodes.
struct Grid {
  explicit Grid(int servers, std::optional<net::GridSecret> client_secret = kSecret)
      : sim(options()) {
    sim::SimNode* intro = &sim.add_node("introducer");
    NodeConfig ic;
    ic.nickname = "introducer";
    ic.introducer = true;
    ic.listen = intro->address(1);
    NodeSecrets is;
    is.node_key_seed = seed_of(0);
    is.grid_secret = kSecret;
    intro->set_main([ic, is](sim::SimNode& n) { return node_main(&n, ic, is); });
    intro->start();
    IntroducerAddress ia;
    ia.key = net::NodeKey::from_seed(seed_of(0)).public_key();
    ia.grid_secret = kSecret;
    ia.address = intro->address(1);
    for (int i = 1; i <= servers; ++i) {
      sim::SimNode* n = &sim.add_node("storage" + std::to_string(i));
      NodeConfig sc;
      sc.nickname = n->name();
      sc.storage = true;
      sc.reserved_space = 0;
      sc.listen = n->address(1);
      NodeSecrets ss;
      ss.node_key_seed = seed_of(static_cast<std::uint32_t>(i));
      ss.grid_secret = kSecret;
      ss.introducer = ia;
      n->set_main([sc, ss](sim::SimNode& self) { return node_main(&self, sc, ss); });
      n->start();
    }
    client_env = &sim.add_node("client");
    client_env->start();
    NodeConfig cc;
    cc.nickname = "client";
    cc.client = true;
    cc.encoding = {3, 4, 5, 64 * 1024};
    NodeSecrets cs;
    cs.node_key_seed = seed_of(1000);
    cs.grid_secret = client_secret;
    for (auto& b : cs.client.convergence.mutable_view()) b = 9;
    for (auto& b : cs.client.lease.mutable_view()) b = 10;
    ia.grid_secret = client_secret.value_or(net::GridSecret{});
    cs.introducer = ia;
    node = std::make_unique<Node>(client_env, cc, cs);
    EXPECT_TRUE(sim::run_task(sim.loop(), node->start()).is_ok());
    client_env->scope().spawn(node->run());
    WebApiOptions wo;
    wo.mutable_bytes_max = 1 << 20;
    api = std::make_unique<WebApi>(node.get(), wo);
    sim.loop().run_until(sim.loop().now() + seconds(5));
  }
  static sim::SimulationOptions options() {
    sim::SimulationOptions o;
    o.seed = 8;
    return o;
  }

  MemResponse call(const std::string& method, const std::string& target, Bytes body = {},
                   std::vector<HttpHeader> headers = {}, std::size_t chunk = 100'000) {
    HttpRequest req;
    req.method = method;
    req.target = target;
    req.headers = std::move(headers);
    // The CSRF guard that the CLI and the pages send (ui::kCsrfHeader); off to test its absence.
    if (send_guard && method != "GET" && method != "HEAD") {
      req.headers.push_back({std::string(ui::kCsrfHeader), "1"});
    }
    req.content_length = body.size();
    MemBody reader(std::move(body), chunk);
    MemResponse resp;
    resp.head_ = method == "HEAD";
    sim::run_task(sim.loop(), api->handle(req, reader, resp));
    return resp;
  }
  MemResponse put(const std::string& target, const std::string& body) {
    return call("PUT", target, to_bytes(body));
  }

  static constexpr net::GridSecret kSecret = {1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11,
                                              12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22,
                                              23, 24, 25, 26, 27, 28, 29, 30, 31, 32};
  bool send_guard = true;
  sim::Simulation sim;
  sim::SimNode* client_env;
  std::unique_ptr<Node> node;
  std::unique_ptr<WebApi> api;
};

Bytes pattern(std::size_t n, std::uint8_t salt) {
  Bytes b(n);
  for (std::size_t i = 0; i < n; ++i) b[i] = static_cast<std::uint8_t>((i * 131 + salt) >> 3);
  return b;
}

std::string read_cap_of(const std::string& cap_text) {
  auto c = cap::parse_cap(cap_text);
  EXPECT_TRUE(c.ok()) << cap_text;
  return cap::format_cap(*cap::read_cap(*c));
}

std::string verify_cap_of(const std::string& cap_text) {
  auto c = cap::parse_cap(cap_text);
  EXPECT_TRUE(c.ok()) << cap_text;
  return cap::format_cap(*cap::verify_cap(*c));
}

TEST(WebApi, NodeStatusListsTheStorageServersLearnedThroughTheIntroducer) {
  Grid g(5);
  MemResponse r = g.call("GET", "/?t=json");
  ASSERT_EQ(r.status_, 200) << r.text();
  EXPECT_EQ(r.header("Content-Type"), "application/json");
  for (int i = 1; i <= 5; ++i) {
    EXPECT_NE(r.text().find("\"storage" + std::to_string(i) + "\""), std::string::npos) << r.text();
  }
  EXPECT_NE(r.text().find("\"k\":3,\"happy\":4,\"n\":5"), std::string::npos) << r.text();
  MemResponse s = g.call("GET", "/statistics");
  EXPECT_EQ(s.status_, 200);
  EXPECT_NE(s.text().find("\"requests\":"), std::string::npos);
}

TEST(WebApi, ImmutableUploadThenWholeAndRangedDownloads) {
  Grid g(5);
  const Bytes data = pattern(1'000'000, 3);
  MemResponse up = g.call("PUT", "/uri", data, {}, 70'000);
  ASSERT_EQ(up.status_, 200) << up.text();
  const std::string cap = up.text();
  EXPECT_EQ(cap.rfind("lafs1:chk:", 0), 0u) << cap;
  EXPECT_TRUE(up.finished_);

  MemResponse whole = g.call("GET", "/uri/" + cap);
  ASSERT_EQ(whole.status_, 200);
  EXPECT_EQ(whole.header("Content-Security-Policy"), "sandbox");
  EXPECT_EQ(whole.header("X-Content-Type-Options"), "nosniff");
  EXPECT_EQ(whole.header("Referrer-Policy"), "no-referrer");
  EXPECT_EQ(whole.body_, data);
  EXPECT_EQ(whole.length_, data.size());

  MemResponse part = g.call("GET", "/uri/" + cap, {}, {{"Range", "bytes=300000-300009"}});
  ASSERT_EQ(part.status_, 206);
  EXPECT_EQ(part.body_, Bytes(data.begin() + 300000, data.begin() + 300010));
  EXPECT_EQ(part.header("Content-Range"), "bytes 300000-300009/1000000");

  MemResponse tail = g.call("GET", "/uri/" + cap, {}, {{"Range", "bytes=-7"}});
  ASSERT_EQ(tail.status_, 206);
  EXPECT_EQ(tail.body_, Bytes(data.end() - 7, data.end()));

  MemResponse open_end = g.call("GET", "/uri/" + cap, {}, {{"Range", "bytes=999990-"}});
  ASSERT_EQ(open_end.status_, 206);
  EXPECT_EQ(open_end.body_.size(), 10u);

  MemResponse outside = g.call("GET", "/uri/" + cap, {}, {{"Range", "bytes=1000000-"}});
  EXPECT_EQ(outside.status_, 416);
  EXPECT_EQ(outside.header("Content-Range"), "bytes */1000000");
  MemResponse head = g.call("HEAD", "/uri/" + cap);
  EXPECT_EQ(head.status_, 200);
  EXPECT_TRUE(head.body_.empty());
  EXPECT_EQ(head.length_, data.size());

  // The same bytes again: convergent, so the same cap; a random key gives another.
  EXPECT_EQ(g.call("PUT", "/uri", data).text(), cap);
  MemResponse random = g.call("PUT", "/uri?convergent=false", data);
  ASSERT_EQ(random.status_, 200);
  EXPECT_NE(random.text(), cap);

  MemResponse json = g.call("GET", "/uri/" + cap + "?t=json");
  ASSERT_EQ(json.status_, 200);
  EXPECT_NE(json.text().find("[\"filenode\",{\"format\":\"chk\",\"mutable\":false"),
            std::string::npos)
      << json.text();
  EXPECT_NE(json.text().find("\"size\":1000000"), std::string::npos);

  // Tiny files live in the cap; the spool directory is left empty.
  MemResponse tiny = g.put("/uri", "hello");
  EXPECT_EQ(tiny.text().rfind("lafs1:lit:", 0), 0u);
  EXPECT_EQ(g.call("GET", "/uri/" + tiny.text()).text(), "hello");
  auto left = sim::run_task(g.sim.loop(), g.client_env->disk().list("tmp"));
  ASSERT_TRUE(left.ok());
  EXPECT_TRUE(left->empty());
}

TEST(WebApi, MutableFilesAreReplacedOnlyThroughTheirWriteCap) {
  Grid g(5);
  MemResponse made = g.put("/uri?mutable=true", "version one");
  ASSERT_EQ(made.status_, 200) << made.text();
  const std::string w = made.text();
  ASSERT_EQ(w.rfind("lafs1:ssk:", 0), 0u);
  const std::string r = read_cap_of(w);
  EXPECT_EQ(g.call("GET", "/uri/" + r).text(), "version one");

  EXPECT_EQ(g.put("/uri/" + w, "version two, longer").status_, 200);
  EXPECT_EQ(g.call("GET", "/uri/" + r).text(), "version two, longer");
  MemResponse ranged = g.call("GET", "/uri/" + w, {}, {{"Range", "bytes=8-10"}});
  EXPECT_EQ(ranged.status_, 206);
  EXPECT_EQ(ranged.text(), "two");

  MemResponse refused = g.put("/uri/" + r, "not allowed");
  EXPECT_EQ(refused.status_, 403);
  EXPECT_NE(refused.text().find("read-only"), std::string::npos);
  EXPECT_EQ(g.call("GET", "/uri/" + r).text(), "version two, longer");

  const std::string chk = g.call("PUT", "/uri", pattern(5000, 1)).text();
  EXPECT_EQ(g.put("/uri/" + chk, "x").status_, 400);

  MemResponse json = g.call("GET", "/uri/" + w + "?t=json");
  EXPECT_NE(json.text().find("\"rw_uri\":\"" + w + "\""), std::string::npos);
  EXPECT_NE(json.text().find("\"size\":19"), std::string::npos) << json.text();
  // Ranges on a mutable file are exact too.
  MemResponse tail = g.call("GET", "/uri/" + r, {}, {{"Range", "bytes=-6"}});
  EXPECT_EQ(tail.status_, 206);
  EXPECT_EQ(tail.text(), "longer");
  EXPECT_EQ(tail.header("Content-Range"), "bytes 13-18/19");
  MemResponse beyond = g.call("GET", "/uri/" + r, {}, {{"Range", "bytes=19-"}});
  EXPECT_EQ(beyond.status_, 416);
  EXPECT_EQ(beyond.header("Content-Range"), "bytes */19");
  MemResponse head = g.call("HEAD", "/uri/" + r);
  EXPECT_EQ(head.length_, 19u);
  MemResponse json_r = g.call("GET", "/uri/" + r + "?t=json");
  EXPECT_EQ(json_r.text().find("rw_uri"), std::string::npos) << json_r.text();

  // Over the mutable limit: refused before anything is published.
  EXPECT_EQ(g.call("PUT", "/uri?mutable=true", Bytes((1 << 20) + 1, 0)).status_, 413);
}

TEST(WebApi, DirectoriesThroughPaths) {
  Grid g(5);
  MemResponse made = g.call("POST", "/uri?t=mkdir");
  ASSERT_EQ(made.status_, 200) << made.text();
  const std::string d = made.text();
  ASSERT_EQ(d.rfind("lafs1:dir:", 0), 0u);

  MemResponse a = g.put("/uri/" + d + "/notes.txt", "first notes");
  EXPECT_EQ(a.status_, 201) << a.text();
  EXPECT_EQ(g.put("/uri/" + d + "/notes.txt", "second notes").status_, 200);
  EXPECT_EQ(g.put("/uri/" + d + "/notes.txt?replace=false", "third").status_, 409);
  EXPECT_EQ(g.call("GET", "/uri/" + d + "/notes.txt").text(), "second notes");

  MemResponse sub = g.call("POST", "/uri/" + d + "?t=mkdir&name=sub%20dir");
  ASSERT_EQ(sub.status_, 200) << sub.text();
  EXPECT_EQ(g.call("POST", "/uri/" + d + "?t=mkdir&name=sub%20dir").status_, 409);
  EXPECT_EQ(g.put("/uri/" + d + "/sub%20dir/deep.bin", "deep").status_, 201);
  EXPECT_EQ(g.call("GET", "/uri/" + d + "/sub%20dir/deep.bin").text(), "deep");
  EXPECT_EQ(g.call("GET", "/uri/" + sub.text() + "/deep.bin").text(), "deep");
  // Nothing is created implicitly.
  MemResponse missing = g.put("/uri/" + d + "/no-such-dir/file", "x");
  EXPECT_EQ(missing.status_, 404) << missing.text();
  // A path ending in the new name, without name=.
  EXPECT_EQ(g.call("POST", "/uri/" + d + "/sub%20dir/inner?t=mkdir").status_, 200);

  // Link an existing cap, then list.
  const std::string lit = g.put("/uri", "tiny").text();
  EXPECT_EQ(g.put("/uri/" + d + "/linked?t=uri", lit + "\n").status_, 201);
  MemResponse listing = g.call("GET", "/uri/" + d + "?t=json");
  ASSERT_EQ(listing.status_, 200);
  const std::string& j = listing.text();
  EXPECT_EQ(j.rfind("[\"dirnode\",{\"format\":\"ssk\",\"mutable\":true,\"rw_uri\":", 0), 0u) << j;
  for (const char* name : {"\"notes.txt\"", "\"sub dir\"", "\"linked\""}) {
    EXPECT_NE(j.find(name), std::string::npos) << name << " in " << j;
  }
  EXPECT_NE(j.find("\"size\":12"), std::string::npos) << j;  // "second notes"
  EXPECT_NE(j.find("link_created"), std::string::npos);

  // Rename within, move across, delete.
  EXPECT_EQ(g.call("POST", "/uri/" + d + "?t=rename&from_name=notes.txt&to_name=n2.txt").status_,
            200);
  EXPECT_EQ(g.call("GET", "/uri/" + d + "/n2.txt").text(), "second notes");
  EXPECT_EQ(g.call("GET", "/uri/" + d + "/notes.txt").status_, 404);
  EXPECT_EQ(
      g.call("POST", "/uri/" + d + "?t=rename&from_name=n2.txt&to_dir=sub%20dir&to_name=moved")
          .status_,
      200);
  EXPECT_EQ(g.call("GET", "/uri/" + d + "/sub%20dir/moved").text(), "second notes");
  EXPECT_EQ(g.call("DELETE", "/uri/" + d + "/linked").status_, 200);
  EXPECT_EQ(g.call("DELETE", "/uri/" + d + "/linked").status_, 404);
  EXPECT_EQ(g.call("GET", "/uri/" + d + "/linked").status_, 404);

  // A read cap of the directory reads, and cannot change anything.
  const std::string rd = read_cap_of(d);
  EXPECT_EQ(g.call("GET", "/uri/" + rd + "/sub%20dir/moved").text(), "second notes");
  MemResponse ro_json = g.call("GET", "/uri/" + rd + "?t=json");
  EXPECT_EQ(ro_json.text().find("rw_uri"), std::string::npos) << ro_json.text();
  EXPECT_EQ(g.put("/uri/" + rd + "/x", "x").status_, 403);
  EXPECT_EQ(g.call("DELETE", "/uri/" + rd + "/sub%20dir").status_, 403);
  EXPECT_EQ(g.call("POST", "/uri/" + rd + "?t=mkdir&name=y").status_, 403);
  EXPECT_EQ(g.call("POST", "/uri/" + rd + "?t=rename&from_name=sub%20dir&to_name=z").status_, 403);
  EXPECT_EQ(g.put("/uri/" + rd + "/sub%20dir/x", "x").status_, 403);
}

TEST(WebApi, BadRequestsGetClearErrors) {
  Grid g(5);
  const std::string d = g.call("POST", "/uri?t=mkdir").text();
  struct Case {
    std::string method, target;
    int status;
    std::string says;
  };
  const std::vector<Case> cases = {
      {"GET", "/uri/lafs1:chk:nonsense", 400, "malformed cap"},
      {"GET", "/uri/not-a-cap-at-all", 400, "malformed cap"},
      {"GET", "/uri/%zz", 400, "percent-escape"},
      {"GET", "/uri/" + d + "/a%00b", 400, "NUL"},
      {"GET", "/uri/" + d + "/a%2Fb", 400, "contains '/'"},
      {"GET", "/uri/" + d + "//x", 400, "empty name"},
      {"GET", "/nowhere", 404, "no such page"},
      {"GET", "/uri/" + d + "?t=bogus", 400, "t=bogus"},
      {"PATCH", "/uri/" + d, 405, "not a method"},
      {"DELETE", "/uri", 405, "PUT"},
      {"POST", "/uri/" + d + "?t=stream-manifest", 501, "not built yet"},
      {"GET", "/uri/" + d + "/missing", 404, "missing"},
      {"POST", "/uri/" + d + "?t=rename", 400, "from_name"},
      {"DELETE", "/uri/" + d, 400, "needs a name"},
      {"DELETE", "/uri/" + d + "/x?t=uri", 400, "DELETE takes no t="},
      {"POST", "/statistics", 405, "GET"},
      {"GET", "/uri/" + d + "/.", 400, ""},
  };
  for (const Case& c : cases) {
    MemResponse r = g.call(c.method, c.target);
    EXPECT_EQ(r.status_, c.status) << c.method << " " << c.target << ": " << r.text();
    EXPECT_NE(r.text().find(c.says), std::string::npos) << c.target << ": " << r.text();
    EXPECT_TRUE(r.finished_);
    EXPECT_EQ(r.header("Content-Type"), "text/plain; charset=utf-8");
  }
  // A well-formed cap whose file no server holds: gone, not an internal error.
  const std::string cap = g.call("PUT", "/uri", pattern(100'000, 5)).text();
  Grid other(5);
  MemResponse gone = other.call("GET", "/uri/" + cap);
  EXPECT_EQ(gone.status_, 410) << gone.text();
  // A bad cap in a t=uri body.
  MemResponse bad_body = g.put("/uri/" + d + "/x?t=uri", "lafs1:nope");
  EXPECT_EQ(bad_body.status_, 400);
  EXPECT_NE(bad_body.text().find("malformed cap in the body"), std::string::npos);
}

TEST(WebApi, AForeignHostHeaderIsRefused) {
  Grid g(3);
  g.api = std::make_unique<WebApi>(g.node.get(), WebApiOptions{});
  g.api->allowed_hosts() = {"127.0.0.1:3456", "localhost:3456"};
  EXPECT_EQ(g.call("GET", "/?t=json", {}, {{"Host", "127.0.0.1:3456"}}).status_, 200);
  EXPECT_EQ(g.call("GET", "/?t=json", {}, {{"host", "LOCALHOST:3456"}}).status_, 200);
  MemResponse evil = g.call("GET", "/?t=json", {}, {{"Host", "attacker.example:3456"}});
  EXPECT_EQ(evil.status_, 403);
  EXPECT_NE(evil.text().find("foreign Host"), std::string::npos);
  EXPECT_EQ(g.call("POST", "/uri?t=mkdir", {}, {{"Host", "127.0.0.1:80"}}).status_, 403);
  EXPECT_EQ(g.call("GET", "/?t=json").status_, 403);  // no Host at all
}

// A page of another site can make a browser POST here with our Host; the browser's Origin and
// Sec-Fetch-Site give it away. Tools send neither and are not affected.
TEST(WebApi, CrossSiteWritesAreRefused) {
  Grid g(5);
  g.api = std::make_unique<WebApi>(g.node.get(), WebApiOptions{});
  g.api->allowed_hosts() = {"127.0.0.1:3456"};
  const HttpHeader host{"Host", "127.0.0.1:3456"};
  MemResponse forged =
      g.call("POST", "/uri?t=mkdir", {}, {host, {"Origin", "https://attacker.example"}});
  EXPECT_EQ(forged.status_, 403);
  EXPECT_NE(forged.text().find("cross-site"), std::string::npos);
  EXPECT_EQ(g.call("POST", "/uri?t=mkdir", {}, {host, {"Sec-Fetch-Site", "cross-site"}}).status_,
            403);
  EXPECT_EQ(g.call("PUT", "/uri", to_bytes("x"), {host, {"Origin", "null"}}).status_, 403);
  // The gateway's own pages, and tools that say nothing, may write.
  EXPECT_EQ(g.call("POST", "/uri?t=mkdir", {}, {host, {"Origin", "http://127.0.0.1:3456"}}).status_,
            200);
  EXPECT_EQ(g.call("POST", "/uri?t=mkdir", {}, {host, {"Sec-Fetch-Site", "same-origin"}}).status_,
            200);
  EXPECT_EQ(g.call("POST", "/uri?t=mkdir", {}, {host}).status_, 200);
  // Reading is not a write: a cross-site GET gets an answer the browser will not show the page.
  EXPECT_EQ(g.call("GET", "/?t=json", {}, {host, {"Origin", "https://attacker.example"}}).status_,
            200);
}

// Cross-site request forgery: every change needs the guard header, which an HTML form cannot
// send and a script of another origin cannot send without a CORS preflight (never granted).
TEST(WebApi, ChangesWithoutTheCsrfGuardHeaderAreRefused) {
  Grid g(5);
  const std::string d = g.call("POST", "/uri?t=mkdir").text();
  ASSERT_EQ(d.rfind("lafs1:dir:", 0), 0u) << d;
  g.send_guard = false;
  struct Case {
    std::string method, target;
  };
  const std::vector<Case> cases = {{"POST", "/uri?t=mkdir"},
                                   {"PUT", "/uri"},
                                   {"PUT", "/uri/" + d + "/f"},
                                   {"POST", "/uri/" + d + "?t=mkdir&name=x"},
                                   {"POST", "/uri/" + d + "?t=rename&from_name=a&to_name=b"},
                                   {"POST", "/uri/" + d + "?t=check&add-lease=true"},
                                   {"POST", "/uri/" + d + "?t=stream-deep-check&repair=true"},
                                   {"DELETE", "/uri/" + d + "/f"}};
  for (const Case& c : cases) {
    MemResponse r = g.call(c.method, c.target, to_bytes("body"));
    EXPECT_EQ(r.status_, 403) << c.method << " " << c.target;
    EXPECT_NE(r.text().find("X-Lafs-Request"), std::string::npos) << r.text();
  }
  MemResponse empty = g.call("POST", "/uri?t=mkdir", {}, {{std::string(ui::kCsrfHeader), ""}});
  EXPECT_EQ(empty.status_, 403);
  // Nothing was made: the directory is still empty; reads need no guard.
  EXPECT_EQ(
      g.call("GET", "/uri/" + d + "?t=json").text().find("\"children\":{}") != std::string::npos,
      true);
  g.send_guard = true;
  EXPECT_EQ(g.put("/uri/" + d + "/f", "x").status_, 201);
}

std::size_t count_of(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (std::size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) {
    ++n;
  }
  return n;
}

void expect_page_headers(const MemResponse& r) {
  EXPECT_EQ(r.header("Content-Type"), "text/html; charset=utf-8");
  EXPECT_EQ(r.header("Content-Security-Policy"), std::string(ui::kPagePolicy));
  EXPECT_EQ(r.header("X-Frame-Options"), "DENY");
  EXPECT_EQ(r.header("Cache-Control"), "no-store");
  EXPECT_EQ(r.header("Referrer-Policy"), "no-referrer");
  EXPECT_EQ(r.header("X-Content-Type-Options"), "nosniff");
}

TEST(WebUi, TheWelcomePageListsTheStorageServers) {
  Grid g(5);
  MemResponse r = g.call("GET", "/");
  ASSERT_EQ(r.status_, 200) << r.text();
  expect_page_headers(r);
  const std::string html = r.text();
  EXPECT_EQ(count_of(html, "<tr class=\"server\">"), 5u) << html;
  for (int i = 1; i <= 5; ++i) {
    EXPECT_NE(html.find(">storage" + std::to_string(i) + "<"), std::string::npos);
  }
  EXPECT_NE(html.find("3-of-5, happy 4"), std::string::npos);
  EXPECT_NE(html.find("id=\"introducer-status\">connected"), std::string::npos) << html;
  EXPECT_EQ(count_of(html, "not yet"), 5u);  // no server contacted yet
  ASSERT_EQ(g.call("PUT", "/uri", pattern(100'000, 2)).status_, 200);
  const std::string after = g.call("GET", "/").text();
  // 3-of-5: every server holds a share, and answered (the simulated clock has not moved on).
  EXPECT_EQ(count_of(after, "<td>just now</td>"), 5u) << after;
}

TEST(WebUi, DirectoryPagesListEntriesAndOfferFormsOnlyToWriters) {
  Grid g(5);
  const std::string d = g.call("POST", "/uri?t=mkdir").text();
  ASSERT_EQ(g.put("/uri/" + d + "/a%3Cb%3E%22.txt", "angle brackets").status_, 201);
  ASSERT_EQ(g.call("POST", "/uri/" + d + "?t=mkdir&name=zsub").status_, 200);
  MemResponse r = g.call("GET", "/uri/" + d + "/");
  ASSERT_EQ(r.status_, 200) << r.text();
  expect_page_headers(r);
  const std::string html = r.text();
  // Names are escaped everywhere they appear; the raw one never does.
  EXPECT_EQ(html.find("a<b>\""), std::string::npos);
  EXPECT_NE(html.find(">a&lt;b&gt;&quot;.txt</a>"), std::string::npos) << html;
  // Directories first, then files.
  EXPECT_LT(html.find("data-name=\"zsub\""), html.find("data-name=\"a&lt;b&gt;&quot;.txt\""));
  EXPECT_NE(html.find("data-dir=\"/uri/" + d + "\""), std::string::npos);
  EXPECT_NE(html.find("id=\"upload-form\""), std::string::npos);
  EXPECT_NE(html.find("id=\"mkdir-form\""), std::string::npos);
  EXPECT_NE(html.find("id=\"rename-form\""), std::string::npos);
  EXPECT_EQ(count_of(html, "class=\"delete\""), 2u);
  // A file is linked by its own read cap, not under the directory's (write) cap.
  auto listing = g.call("GET", "/uri/" + d + "?t=json").text();
  const std::size_t at = listing.find("\"ro_uri\":\"lafs1:lit:");  // 14 bytes: in its cap
  ASSERT_NE(at, std::string::npos) << listing;
  const std::string file_cap = listing.substr(at + 10, listing.find('"', at + 10) - at - 10);
  EXPECT_NE(html.find("href=\"/uri/" + file_cap + "?filename=a%3Cb%3E%22.txt\""), std::string::npos)
      << html;
  EXPECT_NE(html.find("href=\"/uri/" + d + "/zsub/\""), std::string::npos);

  // Through the read cap: the same entries, no forms.
  const std::string rd = read_cap_of(d);
  const std::string ro = g.call("GET", "/uri/" + rd).text();
  EXPECT_NE(ro.find("id=\"readonly-note\""), std::string::npos);
  EXPECT_EQ(ro.find("id=\"upload-form\""), std::string::npos);
  EXPECT_EQ(ro.find("class=\"delete\""), std::string::npos);
  EXPECT_EQ(count_of(ro, "<tr class=\"entry\""), 2u);
  EXPECT_EQ(ro.find(d), std::string::npos);  // the write cap is not in the read-only page

  // A subdirectory by path: breadcrumbs back to the root.
  const std::string sub = g.call("GET", "/uri/" + d + "/zsub").text();
  EXPECT_NE(sub.find("<a href=\"/uri/" + d + "/\">root</a>"), std::string::npos) << sub;
  EXPECT_NE(sub.find("<span class=\"here\">zsub</span>"), std::string::npos);
  EXPECT_NE(sub.find("id=\"empty-note\""), std::string::npos);
}

TEST(WebUi, FilesGetATypeFromTheirNameAndStaySandboxed) {
  Grid g(5);
  const std::string d = g.call("POST", "/uri?t=mkdir").text();
  const std::string page = "<html><script>fetch('/uri?t=mkdir',{method:'POST'})</script></html>";
  const std::string cap = g.put("/uri/" + d + "/page.html", page).text();
  MemResponse byPath = g.call("GET", "/uri/" + d + "/page.html");
  EXPECT_EQ(byPath.text(), page);
  EXPECT_EQ(byPath.header("Content-Type"), "text/html; charset=utf-8");
  EXPECT_EQ(byPath.header("Content-Security-Policy"), "sandbox");
  EXPECT_EQ(byPath.header("X-Content-Type-Options"), "nosniff");
  EXPECT_EQ(byPath.header("Referrer-Policy"), "no-referrer");
  EXPECT_EQ(g.call("GET", "/uri/" + cap).header("Content-Type"), "application/octet-stream");
  EXPECT_EQ(g.call("GET", "/uri/" + cap + "?filename=x.PNG").header("Content-Type"), "image/png");
  MemResponse saved = g.call("GET", "/uri/" + cap + "?filename=page.html&save=true");
  EXPECT_EQ(saved.header("Content-Disposition"),
            "attachment; filename=\"page.html\"; filename*=UTF-8''page.html");
  EXPECT_EQ(saved.header("Content-Security-Policy"), "sandbox");
}

TEST(WebUi, InfoPagesShowTheCapsTheirCapGives) {
  Grid g(5);
  const std::string d = g.call("POST", "/uri?t=mkdir").text();
  const std::string f = g.put("/uri/" + d + "/data.bin", std::string(5000, 'x')).text();
  MemResponse info = g.call("GET", "/uri/" + f + "?t=info&filename=data.bin");
  ASSERT_EQ(info.status_, 200) << info.text();
  expect_page_headers(info);
  EXPECT_EQ(info.text().find("id=\"write-cap\""), std::string::npos);
  EXPECT_NE(info.text().find("id=\"read-cap\">" + f + "<"), std::string::npos) << info.text();
  EXPECT_NE(info.text().find("id=\"verify-cap\">lafs1:"), std::string::npos);
  EXPECT_NE(info.text().find("5000 bytes"), std::string::npos);
  EXPECT_NE(info.text().find("save=true"), std::string::npos);
  const std::string dinfo = g.call("GET", "/uri/" + d + "?t=info").text();
  EXPECT_NE(dinfo.find("id=\"write-cap\">" + d + "<"), std::string::npos) << dinfo;
  EXPECT_NE(dinfo.find("id=\"read-cap\">" + read_cap_of(d) + "<"), std::string::npos);
  const std::string rinfo = g.call("GET", "/uri/" + read_cap_of(d) + "?t=info").text();
  EXPECT_EQ(rinfo.find("id=\"write-cap\""), std::string::npos);
  const std::string m = g.call("PUT", "/uri?mutable=true", to_bytes("twelve bytes")).text();
  EXPECT_NE(g.call("GET", "/uri/" + m + "?t=info").text().find("12 bytes"), std::string::npos);

  // The check buttons post to the page's own cap; a repair of a mutable file needs its write cap.
  EXPECT_NE(info.text().find("data-check=\"/uri/" + f + "\""), std::string::npos);
  EXPECT_NE(info.text().find("id=\"repair-button\""), std::string::npos);
  EXPECT_EQ(info.text().find("id=\"deep-check-button\""), std::string::npos);
  EXPECT_NE(info.text().find("id=\"check-result\""), std::string::npos);
  EXPECT_NE(dinfo.find("data-check=\"/uri/" + d + "\""), std::string::npos);
  EXPECT_NE(dinfo.find("id=\"repair-button\""), std::string::npos);
  EXPECT_NE(dinfo.find("id=\"deep-check-button\""), std::string::npos);
  EXPECT_EQ(rinfo.find("id=\"repair-button\""), std::string::npos);
  EXPECT_NE(rinfo.find("id=\"repair-note\">Repairing a mutable"), std::string::npos);
  EXPECT_NE(rinfo.find("id=\"check-button\""), std::string::npos);
  const std::string vinfo = g.call("GET", "/uri/" + verify_cap_of(f) + "?t=info").text();
  EXPECT_NE(vinfo.find("id=\"repair-button\""), std::string::npos) << vinfo;
}

TEST(WebUi, OpeningACapRedirectsToItsPage) {
  Grid g(5);
  const std::string d = g.call("POST", "/uri?t=mkdir").text();
  MemResponse r = g.call("GET", "/uri?uri=%20" + d + "%0A");
  EXPECT_EQ(r.status_, 303);
  EXPECT_EQ(r.header("Location"), "/uri/" + d + "/");
  const std::string f = g.call("PUT", "/uri", pattern(100, 1)).text();
  EXPECT_EQ(g.call("GET", "/uri?uri=" + f).header("Location"), "/uri/" + f + "?t=info");
  MemResponse bad = g.call("GET", "/uri?uri=lafs1:nope");
  EXPECT_EQ(bad.status_, 400);
  EXPECT_NE(bad.text().find("malformed cap"), std::string::npos);
}

TEST(WebUi, TheStylesheetAndScriptAreServedFromTheGateway) {
  Grid g(3);
  MemResponse css = g.call("GET", "/static/lafs.css");
  EXPECT_EQ(css.status_, 200);
  EXPECT_EQ(css.header("Content-Type"), "text/css; charset=utf-8");
  EXPECT_EQ(css.text(), std::string(ui::stylesheet()));
  MemResponse js = g.call("GET", "/static/lafs.js");
  EXPECT_EQ(js.header("Content-Type"), "text/javascript; charset=utf-8");
  EXPECT_NE(js.text().find(std::string(ui::kCsrfHeader)), std::string::npos);
  EXPECT_EQ(g.call("POST", "/static/lafs.js").status_, 405);
  EXPECT_EQ(g.call("GET", "/static/other.js").status_, 404);
}

// "Nodes also check their own files": the node's maintenance agent deep-checks every
// directory in private/aliases (renewing leases, repairing) and the welcome page says so.
TEST(WebApi, TheNodesMaintenanceAgentChecksTheAliasesDirectories) {
  Grid g(5);
  const std::string d = g.call("POST", "/uri?t=mkdir").text();
  ASSERT_EQ(g.put("/uri/" + d + "/f", std::string(5000, 'x')).status_, 201);
  Disk& disk = g.client_env->disk();
  (void)sim::run_task(g.sim.loop(), disk.mkdir("private"));
  OpenOptions create;
  create.create = true;
  create.truncate = true;
  auto file = sim::run_task(g.sim.loop(), disk.open("private/aliases", create));
  ASSERT_TRUE(file.ok());
  const Bytes line = to_bytes("home: " + d + "\n");
  ASSERT_TRUE(sim::run_task(g.sim.loop(), (*file)->write_at(0, line)).is_ok());
  file->reset();
  ASSERT_NE(g.node->maintenance(), nullptr);
  EXPECT_EQ(g.node->maintenance()->stats().cycles, 0u);
  g.sim.loop().run_until(g.sim.loop().now() + minutes(11));  // the first cycle: 10 min in
  const auto& st = g.node->maintenance()->stats();
  EXPECT_EQ(st.cycles, 1u);
  EXPECT_EQ(st.objects_checked, 2u);  // the directory and its file
  EXPECT_GT(st.leases_renewed, 0u);
  EXPECT_EQ(st.errors, 0u);
  const std::string html = g.call("GET", "/").text();
  EXPECT_NE(
      html.find("every 7 days over the aliases&#39; directories; 1 cycles, 2 objects checked"),
      std::string::npos)
      << html;
}

// The storage secret: a client node that does not hold the grid secret learns no servers (the
// introducer refuses its handshake), so it can store nothing.
TEST(WebApi, AClientWithoutTheGridSecretIsRefused) {
  Grid g(5, std::nullopt);
  MemResponse status = g.call("GET", "/?t=json");
  EXPECT_NE(status.text().find("\"servers\":[]"), std::string::npos) << status.text();
  MemResponse up = g.call("PUT", "/uri", pattern(10'000, 1));
  EXPECT_EQ(up.status_, 503) << up.text();
  EXPECT_NE(up.text().find("0 storage servers known"), std::string::npos) << up.text();
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::size_t at = 0;
  while (at < text.size()) {
    const std::size_t nl = text.find('\n', at);
    EXPECT_NE(nl, std::string::npos) << "the last line has no newline: " << text.substr(at);
    if (nl == std::string::npos) break;
    out.push_back(text.substr(at, nl - at));
    at = nl + 1;
  }
  return out;
}

bool has(const std::string& text, const std::string& what) {
  return text.find(what) != std::string::npos;
}

TEST(WebApi, CheckAnswersJsonForFilesLiteralsAndDirectories) {
  Grid g(5);
  const std::string d = g.call("POST", "/uri?t=mkdir").text();
  const std::string f = g.put("/uri/" + d + "/data.bin", std::string(20'000, 'x')).text();
  ASSERT_EQ(f.rfind("lafs1:chk:", 0), 0u) << f;

  MemResponse r = g.call("POST", "/uri/" + f + "?t=check&output=JSON");
  ASSERT_EQ(r.status_, 200) << r.text();
  EXPECT_EQ(r.header("Content-Type"), "application/json");
  const std::string j = r.text();
  for (const char* want :
       {"\"healthy\":true", "\"recoverable\":true", "\"is_mutable\":false", "\"is_literal\":false",
        "\"needed\":3", "\"happy\":4", "\"total\":5", "\"servers_queried\":5",
        "\"servers_responding\":5", "\"distinct_shares\":5", "\"shares_found\":5",
        "\"good_hosts\":5", "\"corrupt\":[]", "\"versions\":[]", "\"leases_renewed\":0",
        "\"share_map\":{\"0\":[\""}) {
    EXPECT_TRUE(has(j, want)) << want << " in " << j;
  }
  const auto si = cap::storage_index(*cap::parse_cap(f));
  EXPECT_TRUE(has(j, "\"storage_index\":\"" + crypto::to_hex(ByteView(si->data(), si->size()))))
      << j;

  // By path, verified, with leases; output= is case-insensitive.
  MemResponse v = g.call("POST", "/uri/" + d +
                                     "/data.bin?t=check&verify=true&add-lease=true"
                                     "&output=json");
  ASSERT_EQ(v.status_, 200) << v.text();
  EXPECT_TRUE(has(v.text(), "\"healthy\":true")) << v.text();
  EXPECT_TRUE(has(v.text(), "\"leases_renewed\":5")) << v.text();
  // A verify cap is enough to check.
  MemResponse by_verify = g.call("POST", "/uri/" + verify_cap_of(f) + "?t=check&output=JSON");
  EXPECT_TRUE(has(by_verify.text(), "\"distinct_shares\":5")) << by_verify.text();

  // A literal has no shares and is always healthy.
  const std::string lit = g.put("/uri", "tiny").text();
  ASSERT_EQ(lit.rfind("lafs1:lit:", 0), 0u);
  MemResponse l = g.call("POST", "/uri/" + lit + "?t=check&output=JSON&verify=true");
  ASSERT_EQ(l.status_, 200) << l.text();
  EXPECT_TRUE(has(l.text(), "\"is_literal\":true")) << l.text();
  EXPECT_TRUE(has(l.text(), "\"healthy\":true"));
  EXPECT_TRUE(has(l.text(), "\"shares_found\":0"));

  // A directory is a mutable file: its versions are listed.
  MemResponse dir = g.call("POST", "/uri/" + d + "?t=check&output=JSON&add-lease=true");
  ASSERT_EQ(dir.status_, 200) << dir.text();
  EXPECT_TRUE(has(dir.text(), "\"healthy\":true")) << dir.text();
  EXPECT_TRUE(has(dir.text(), "\"is_mutable\":true"));
  EXPECT_TRUE(has(dir.text(), "\"versions\":[{\"seqnum\":")) << dir.text();
  EXPECT_TRUE(has(dir.text(), "\"leases_renewed\":5")) << dir.text();

  // repair=true on a healthy file: nothing to do, said so.
  MemResponse rep = g.call("POST", "/uri/" + f + "?t=check&repair=true&output=JSON");
  ASSERT_EQ(rep.status_, 200) << rep.text();
  EXPECT_EQ(rep.text().rfind("{\"attempted\":false,\"successful\":true,\"shares_written\":0", 0),
            0u)
      << rep.text();
  EXPECT_TRUE(has(rep.text(), "\"before\":{\"healthy\":true")) << rep.text();
  EXPECT_TRUE(has(rep.text(), "\"after\":null")) << rep.text();

  // Refusals: not a POST, a bad flag, a deep-check of a file, a missing child.
  MemResponse get = g.call("GET", "/uri/" + f + "?t=check");
  EXPECT_EQ(get.status_, 405) << get.text();
  EXPECT_EQ(get.header("Allow"), "POST");
  EXPECT_TRUE(has(get.text(), "t=check takes POST"));
  EXPECT_EQ(g.call("PUT", "/uri/" + d + "?t=check").status_, 405);
  EXPECT_EQ(g.call("GET", "/uri/" + d + "?t=stream-deep-check").status_, 405);
  MemResponse bad = g.call("POST", "/uri/" + f + "?t=check&verify=maybe");
  EXPECT_EQ(bad.status_, 400);
  EXPECT_TRUE(has(bad.text(), "verify= takes true or false, not 'maybe'")) << bad.text();
  MemResponse file_deep = g.call("POST", "/uri/" + f + "?t=stream-deep-check");
  EXPECT_EQ(file_deep.status_, 400);
  EXPECT_TRUE(has(file_deep.text(), "for a file use t=check")) << file_deep.text();
  EXPECT_EQ(g.call("POST", "/uri/" + d + "/missing?t=check").status_, 404);
  EXPECT_EQ(g.call("POST", "/uri/" + d + "?t=stream-manifest").status_, 501);
  g.send_guard = false;
  MemResponse unguarded = g.call("POST", "/uri/" + f + "?t=check&output=JSON");
  EXPECT_EQ(unguarded.status_, 403);
  EXPECT_TRUE(has(unguarded.text(), std::string(ui::kCsrfHeader)));
}

TEST(WebUi, TheCheckPageShowsTheResult) {
  Grid g(5);
  const std::string d = g.call("POST", "/uri?t=mkdir").text();
  const std::string f = g.put("/uri/" + d + "/a%3Cb%3E.bin", std::string(20'000, 'y')).text();
  MemResponse page = g.call("POST", "/uri/" + d + "/a%3Cb%3E.bin?t=check&verify=true");
  ASSERT_EQ(page.status_, 200) << page.text();
  expect_page_headers(page);
  const std::string html = page.text();
  EXPECT_TRUE(has(html, "<h1>Check: a&lt;b&gt;.bin</h1>")) << html;
  EXPECT_TRUE(has(html, "id=\"check-verdict\">Healthy</p>")) << html;
  EXPECT_TRUE(has(html, "every block read and verified"));
  EXPECT_TRUE(has(html, "5 distinct of 5 (5 found on 5 servers)")) << html;
  EXPECT_EQ(count_of(html, "<tr><td class=\"num\">"), 5u) << html;  // the share map
  EXPECT_TRUE(has(html, "href=\"/uri/" + f + "?t=info&amp;filename=a%3Cb%3E.bin\"")) << html;
  EXPECT_FALSE(has(html, "a<b>"));
  // With repair: the verdict of the repair too.
  const std::string rep = g.call("POST", "/uri/" + f + "?t=check&repair=true").text();
  EXPECT_TRUE(has(rep, "id=\"repair-verdict\">No repair needed</p>")) << rep;
  // A deep-check's summary page.
  const std::string deep = g.call("POST", "/uri/" + d + "?t=deep-check").text();
  EXPECT_TRUE(has(deep, "id=\"deep-check-verdict\">2 objects checked: 2 healthy, 0 unhealthy"))
      << deep;
}

TEST(WebApi, StreamDeepCheckSendsALinePerObjectThenTheSummary) {
  Grid g(5);
  const std::string d = g.call("POST", "/uri?t=mkdir").text();
  const std::string a = g.put("/uri/" + d + "/a.bin", std::string(20'000, 'a')).text();
  const std::string lit = g.put("/uri/" + d + "/b.txt", "small").text();
  ASSERT_EQ(lit.rfind("lafs1:lit:", 0), 0u) << lit;
  const std::string sub = g.call("POST", "/uri/" + d + "?t=mkdir&name=sub").text();
  const std::string c = g.put("/uri/" + d + "/sub/c.bin", std::string(30'000, 'c')).text();
  ASSERT_EQ(c.rfind("lafs1:chk:", 0), 0u) << c;

  MemResponse r = g.call("POST", "/uri/" + d + "?t=stream-deep-check&add-lease=true");
  ASSERT_EQ(r.status_, 200) << r.text();
  EXPECT_EQ(r.header("Content-Type"), "text/plain; charset=utf-8");
  EXPECT_FALSE(r.length_.has_value());  // streamed (chunked)
  EXPECT_TRUE(r.finished_);
  const std::vector<std::string> lines = lines_of(r.text());
  ASSERT_EQ(lines.size(), 6u) << r.text();  // the root, a.bin, b.txt, sub, sub/c.bin, summary
  for (std::size_t i = 0; i + 1 < lines.size(); ++i) {
    EXPECT_EQ(lines[i].rfind("{\"type\":\"object\",\"path\":", 0), 0u) << lines[i];
    EXPECT_TRUE(has(lines[i], "\"healthy\":true")) << lines[i];
  }
  // Walk order: a directory before its children.
  EXPECT_EQ(lines[0].rfind("{\"type\":\"object\",\"path\":\"\",\"directory\":true,\"cap\":\"" +
                               verify_cap_of(d) + "\"",
                           0),
            0u)
      << lines[0];
  EXPECT_TRUE(
      has(r.text(), "\"path\":\"a.bin\",\"directory\":false,\"cap\":\"" + verify_cap_of(a) + "\""));
  EXPECT_TRUE(has(r.text(), "\"path\":\"b.txt\",\"directory\":false,\"cap\":\"literal\""));
  EXPECT_TRUE(has(r.text(), "\"path\":\"sub\",\"directory\":true,\"cap\":\"" + verify_cap_of(sub)));
  EXPECT_TRUE(has(r.text(), "\"path\":\"sub/c.bin\""));
  const std::string& summary = lines.back();
  EXPECT_EQ(summary.rfind("{\"type\":\"summary\",\"objects_checked\":5,\"objects_healthy\":5,"
                          "\"objects_unhealthy\":0,\"objects_unrecoverable\":0",
                          0),
            0u)
      << summary;
  EXPECT_TRUE(has(summary, "\"errors\":0,\"directories\":2,\"files\":3,\"leases_renewed\":20"))
      << summary;
  EXPECT_TRUE(has(summary, "\"unhealthy_paths\":[],\"cost\":{\"rpcs\":")) << summary;
  // Only verify caps: no write or read cap of anything in the tree is in the answer.
  for (const std::string& cap : {d, read_cap_of(d), a, lit, sub, read_cap_of(sub), c}) {
    EXPECT_FALSE(has(r.text(), cap)) << cap;
  }

  // Through the read cap and a path; and the summary alone.
  MemResponse below = g.call("POST", "/uri/" + read_cap_of(d) + "/sub?t=stream-deep-check");
  ASSERT_EQ(below.status_, 200) << below.text();
  EXPECT_EQ(lines_of(below.text()).size(), 3u) << below.text();
  MemResponse whole = g.call("POST", "/uri/" + d + "?t=deep-check&verify=true&output=JSON");
  ASSERT_EQ(whole.status_, 200) << whole.text();
  EXPECT_EQ(whole.header("Content-Type"), "application/json");
  EXPECT_EQ(
      whole.text().rfind("{\"type\":\"summary\",\"objects_checked\":5,\"objects_healthy\":5", 0),
      0u)
      << whole.text();
  // A verify cap cannot list the tree.
  MemResponse by_verify = g.call("POST", "/uri/" + verify_cap_of(d) + "?t=stream-deep-check");
  EXPECT_EQ(by_verify.status_, 403) << by_verify.text();
}

TEST(Json, EscapesAndReplacesInvalidUtf8) {
  EXPECT_EQ(json_quote("a\"b\\c\n"), "\"a\\\"b\\\\c\\u000a\"");
  EXPECT_EQ(json_quote("caf\xc3\xa9"), "\"caf\xc3\xa9\"");
  EXPECT_EQ(json_quote("\xff"), "\"\xEF\xBF\xBD\"");
  EXPECT_EQ(json_quote("\xed\xa0\x80"), "\"\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\"");  // surrogate
  JsonWriter j;
  j.begin_object().key("a").value(1).key("b").begin_array().value("x").value(true).end_array();
  j.end_object();
  EXPECT_EQ(j.str(), "{\"a\":1,\"b\":[\"x\",true]}");
}

TEST(Http, RedactTargetHidesEveryCap) {
  EXPECT_EQ(redact_target("/uri/lafs1:chk:aaa:bbb:3:10:5/x/y?t=json"),
            "/uri/[CENSORED]/x/y?t=json");
  EXPECT_EQ(redact_target("/uri/lafs1:dir:k:f"), "/uri/[CENSORED]");
  EXPECT_EQ(redact_target("/uri?t=mkdir"), "/uri?t=mkdir");
  EXPECT_EQ(redact_target("/uri/d?t=rename&to_dir=lafs1:dir:k:f&from_name=a"),
            "/uri/[CENSORED]?t=rename&to_dir=[CENSORED]&from_name=a");
  EXPECT_EQ(redact_target("/file/lafs1:chk:x/name.txt"), "/file/[CENSORED]/name.txt");
  // However a client encodes it, and wherever it is.
  EXPECT_EQ(redact_target("/uri/d?t=rename&to%5Fdir=lafs1:dir:k:f"),
            "/uri/[CENSORED]?t=rename&to%5Fdir=[CENSORED]");
  EXPECT_EQ(redact_target("http://h/uri/lafs1:chk:a:b"), "http://h/uri/[CENSORED]");
  EXPECT_EQ(redact_target("/%75ri/LAFS1%3Achk%3Aa"), "/%75ri/[CENSORED]");
  EXPECT_EQ(redact_target("/x?a=lafs-introducer:v1:k:s@h:1"), "/x?a=[CENSORED]");
  EXPECT_EQ(redact_target("/uri?uri=URI:CHK:x"), "/uri?uri=[CENSORED]");
  EXPECT_EQ(redact_target("/statistics?t=json"), "/statistics?t=json");
}

TEST(WebApi, RangeParsing) {
  auto r = parse_range("bytes=0-0", 10);
  ASSERT_TRUE(r.ok() && *r);
  EXPECT_EQ((*r)->first, 0u);
  EXPECT_EQ((*r)->last, 0u);
  EXPECT_FALSE(*parse_range("items=0-1", 10));             // ignored
  EXPECT_FALSE(*parse_range("bytes=0-1,3-4", 10));         // several: ignored
  EXPECT_FALSE(*parse_range("bytes=5-2", 10));             // backwards: ignored
  EXPECT_FALSE(parse_range("bytes=10-", 10).ok());         // outside
  EXPECT_FALSE(parse_range("bytes=-0", 10).ok());          // empty suffix
  EXPECT_EQ((*parse_range("bytes=8-100", 10))->last, 9u);  // clipped
  EXPECT_FALSE(*parse_range("bytes=99999999999999999999-", 10));
}

}  // namespace
}  // namespace lafs::node
