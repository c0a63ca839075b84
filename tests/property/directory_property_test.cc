// Mutable directories through simulated servers against a std::map model: random adds (with
// and without replace), removes, renames and lookups over names long enough that the pages
// split; and two editors adding different names at once, neither change lost.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <map>

#include "core/client/directory.h"
#include "tests/unit/sim_grid.h"

namespace lafs::client {
namespace {

using testing::Grid;

cap::Cap lit(std::uint32_t i) {
  const std::string s = "file " + std::to_string(i);
  return cap::Cap{cap::LiteralCap{Bytes(s.begin(), s.end())}, false};
}

std::string gen_name() {
  // A few distinct stems, long suffixes: collisions happen, pages fill.
  const auto stem = *rc::gen::inRange(0, 40);
  const auto pad = *rc::gen::inRange<std::size_t>(0, 200);
  return "n" + std::to_string(stem) + std::string(pad % 7 == 0 ? pad : 0, 'x');
}

DirectoryOptions small_grid() {
  DirectoryOptions o;
  o.mutable_params = {2, 6, kDirPageBytes, 0};
  o.happy = 4;
  return o;
}

RC_GTEST_PROP(DirectoryProperty, OperationsMatchAModel, ()) {
  Grid g(6, *rc::gen::arbitrary<std::uint32_t>());
  DirectoryClient dirs(g.client_node, g.mutable_client.get(), g.client.get(), small_grid());
  std::map<std::string, cap::Cap> model;
  std::vector<std::pair<std::string, cap::Cap>> initial;
  const auto start = *rc::gen::inRange(0, 60);
  for (int i = 0; i < start; ++i) {
    const std::string name = "init" + std::to_string(i) + std::string(150, 'y');
    initial.push_back({name, lit(static_cast<std::uint32_t>(i))});
    model[name] = lit(static_cast<std::uint32_t>(i));
  }
  auto dir = g.run(dirs.create(g.refs, initial));
  RC_ASSERT(dir.ok());
  const int ops = *rc::gen::inRange(1, 25);
  for (int op = 0; op < ops; ++op) {
    const int kind = *rc::gen::inRange(0, 4);
    const std::string name = gen_name();
    const cap::Cap child = lit(static_cast<std::uint32_t>(1000 + op));
    if (kind == 0) {
      const bool replace = *rc::gen::arbitrary<bool>();
      Status s = g.run(dirs.add(*dir, name, child, replace, g.refs));
      if (model.contains(name) && !replace) {
        RC_ASSERT(s.code() == ErrorCode::kAlreadyExists);
      } else {
        RC_ASSERT(s.is_ok());
        model[name] = child;
      }
    } else if (kind == 1) {
      Status s = g.run(dirs.remove(*dir, name, g.refs));
      const bool existed = model.erase(name) == 1;
      const bool ok = existed ? s.is_ok() : s.code() == ErrorCode::kNotFound;
      RC_ASSERT(ok);
    } else if (kind == 2) {
      const std::string to = gen_name();
      const bool replace = *rc::gen::arbitrary<bool>();
      Status s = g.run(dirs.rename(*dir, name, *dir, to, replace, g.refs));
      if (!model.contains(name)) {
        RC_ASSERT(s.code() == ErrorCode::kNotFound);
      } else if (name == to) {
        RC_ASSERT(s.is_ok());
      } else if (model.contains(to) && !replace) {
        RC_ASSERT(s.code() == ErrorCode::kAlreadyExists);
      } else {
        RC_ASSERT(s.is_ok());
        model[to] = model[name];
        model.erase(name);
      }
    } else {
      auto e = g.run(dirs.get(*dir, name, g.refs));
      const bool ok = model.contains(name) ? e.ok() && e->read_cap == model[name]
                                           : e.status().code() == ErrorCode::kNotFound;
      RC_ASSERT(ok);
    }
  }
  auto listed = g.run(dirs.list(*dir, g.refs));
  RC_ASSERT(listed.ok());
  RC_ASSERT(listed->size() == model.size());
  auto m = model.begin();
  for (const auto& e : *listed) {
    RC_ASSERT(e.name == m->first);
    RC_ASSERT(e.read_cap == m->second);
    ++m;
  }
  RC_TAG(g.mutable_client->stats().full_publishes > 1 ? "some whole republish" : "all ranged");
}

RC_GTEST_PROP(DirectoryProperty, TwoEditorsAtOnceLoseNothing, ()) {
  Grid g(6, *rc::gen::arbitrary<std::uint32_t>());
  auto& a = g.add_client("editor-a");
  auto& b = g.add_client("editor-b");
  DirectoryClient da(a.node, a.mutable_client.get(), g.client.get(), small_grid());
  DirectoryClient db(b.node, b.mutable_client.get(), g.client.get(), small_grid());
  DirectoryClient reader(g.client_node, g.mutable_client.get(), g.client.get(), small_grid());
  auto dir = g.run(reader.create(g.refs, {}));
  RC_ASSERT(dir.ok());
  const int each = *rc::gen::inRange(1, 6);
  int done = 0;
  std::vector<Status> results;
  auto editor = [&](DirectoryClient* d, std::string prefix) -> Task<void> {
    for (int i = 0; i < each; ++i) {
      Status s = co_await d->add(*dir, prefix + std::to_string(i) + std::string(100, 'z'),
                                 lit(static_cast<std::uint32_t>(i)), false, g.refs);
      results.push_back(s);
    }
    ++done;
  };
  Scope sa(a.node->executor());
  Scope sb(b.node->executor());
  sa.spawn(editor(&da, "a"));
  sb.spawn(editor(&db, "b"));
  const MonoTime limit = g.sim->loop().now() + seconds(120);
  while (done < 2 && g.sim->loop().now() < limit) {
    g.sim->loop().run_until(g.sim->loop().now() + milliseconds(1));
  }
  RC_ASSERT(done == 2);
  for (const Status& s : results) {
    if (!s.is_ok()) RC_FAIL("an add failed: " + s.to_string());
  }
  auto listed = g.run(reader.list(*dir, g.refs));
  RC_ASSERT(listed.ok());
  RC_ASSERT(listed->size() == static_cast<std::size_t>(2 * each));
}

}  // namespace
}  // namespace lafs::client
