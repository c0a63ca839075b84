// The KvStore contract (core/env/kv.h) as a GoogleTest type-parameterized suite, so that every
// store (simulated, RocksDB) passes the same tests. Instantiate it with a rig type:
//   INSTANTIATE_TYPED_TEST_SUITE_P(Sim, KvContract, ::testing::Types<SimKvRig>);
// Crash behaviour is not here: only the simulated store can crash on demand (sim_kv_test.cc).
#pragma once

#include <gtest/gtest.h>

#include <cstddef>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "core/env/kv.h"
#include "core/runtime/executor.h"
#include "core/runtime/status.h"
#include "core/runtime/task.h"

#ifndef LAFS_CONTRACT_STATUS_HELPERS
#define LAFS_CONTRACT_STATUS_HELPERS
namespace lafs::contract {
inline Status status_of(const Status& s) {
  return s;
}
template <typename T>
Status status_of(const Result<T>& r) {
  return r.status();
}
}  // namespace lafs::contract

// EXPECT that a Status or Result is OK / has the given code, printing the error when not.
#define LAFS_EXPECT_OK(expr)                                              \
  do {                                                                    \
    const ::lafs::Status lafs_s_ = ::lafs::contract::status_of(expr);     \
    EXPECT_TRUE(lafs_s_.is_ok()) << #expr << ": " << lafs_s_.to_string(); \
  } while (0)
#define LAFS_ASSERT_OK(expr)                                              \
  do {                                                                    \
    const ::lafs::Status lafs_s_ = ::lafs::contract::status_of(expr);     \
    ASSERT_TRUE(lafs_s_.is_ok()) << #expr << ": " << lafs_s_.to_string(); \
  } while (0)
#define LAFS_EXPECT_CODE(expr, want)                                                  \
  do {                                                                                \
    const ::lafs::Status lafs_s_ = ::lafs::contract::status_of(expr);                 \
    EXPECT_EQ(::lafs::error_code_name(lafs_s_.code()), ::lafs::error_code_name(want)) \
        << #expr << ": " << lafs_s_.to_string();                                      \
  } while (0)
#endif  // LAFS_CONTRACT_STATUS_HELPERS

namespace lafs::contract {

// What a KvStore implementation provides to the suite: the store, the executor its calls run on,
// and a way to drive that executor until a task has finished. A rig must be default-constructible
// and start with an empty store.
class KvTestRig {
 public:
  virtual ~KvTestRig() = default;
  virtual Executor& executor() = 0;
  virtual KvStore& kv() = 0;
  // Runs the executor until `task` has finished.
  virtual void run_until_done(Task<void> task) = 0;

  template <typename T>
  T run(Task<T> task) {
    std::optional<T> out;
    run_until_done(store(std::move(task), &out));
    LAFS_ASSERT(out.has_value());
    return std::move(*out);
  }

 private:
  template <typename T>
  static Task<void> store(Task<T> task, std::optional<T>* out) {
    out->emplace(co_await std::move(task));
  }
};

// Calls the store synchronously through a rig, so that tests read top to bottom.
class KvDriver {
 public:
  explicit KvDriver(KvTestRig& rig) : rig_(rig) {}

  KvStore& kv() { return rig_.kv(); }

  Result<std::optional<std::string>> get(std::string key) {
    return rig_.run(kv().get(std::move(key)));
  }
  // The value, "<absent>" when there is none, or "<error ...>".
  std::string value(std::string key) {
    auto r = get(std::move(key));
    if (!r.ok()) return "<error " + r.status().to_string() + ">";
    return r->has_value() ? **r : "<absent>";
  }
  Status put(std::string key, std::string value, bool sync = false) {
    return rig_.run(kv().put(std::move(key), std::move(value), sync));
  }
  Status del(std::string key, bool sync = false) {
    return rig_.run(kv().del(std::move(key), sync));
  }
  Status write(WriteBatch batch, bool sync = false) {
    return rig_.run(kv().write(std::move(batch), sync));
  }
  Result<std::vector<KeyValue>> scan(std::string begin, std::string end, std::size_t limit) {
    return rig_.run(kv().scan(std::move(begin), std::move(end), limit));
  }
  // The keys of a scan, or {"<error>"}.
  std::vector<std::string> scan_keys(std::string begin, std::string end,
                                     std::size_t limit = kKvScanLimitMax) {
    auto r = scan(std::move(begin), std::move(end), limit);
    if (!r.ok()) return {"<error>"};
    std::vector<std::string> keys;
    for (auto& kv : *r) keys.push_back(kv.first);
    return keys;
  }

 private:
  KvTestRig& rig_;
};

template <typename Rig>
class KvContract : public ::testing::Test {
  static_assert(std::is_base_of_v<KvTestRig, Rig>, "a KV rig derives from KvTestRig");

 protected:
  Rig rig;
  KvDriver d{rig};
};

TYPED_TEST_SUITE_P(KvContract);

TYPED_TEST_P(KvContract, GetMissingIsAbsent) {
  auto& d = this->d;
  auto r = d.get("missing");
  LAFS_ASSERT_OK(r);
  EXPECT_FALSE(r->has_value());
}

TYPED_TEST_P(KvContract, PutThenGet) {
  auto& d = this->d;
  LAFS_ASSERT_OK(d.put("k", "v"));
  LAFS_ASSERT_OK(d.put("s", "synced", /*sync=*/true));
  EXPECT_EQ(d.value("k"), "v");
  EXPECT_EQ(d.value("s"), "synced");
  LAFS_ASSERT_OK(d.put("k", "v2"));
  EXPECT_EQ(d.value("k"), "v2");
  LAFS_ASSERT_OK(d.put("empty", ""));
  EXPECT_EQ(d.value("empty"), "");
}

TYPED_TEST_P(KvContract, DeleteRemovesKey) {
  auto& d = this->d;
  LAFS_ASSERT_OK(d.put("k", "v"));
  LAFS_ASSERT_OK(d.del("k"));
  EXPECT_EQ(d.value("k"), "<absent>");
  LAFS_EXPECT_OK(d.del("never_there"));
  LAFS_EXPECT_OK(d.del("k", /*sync=*/true));
}

TYPED_TEST_P(KvContract, BinaryKeysAndValues) {
  auto& d = this->d;
  const std::string key("\0a\xff\0", 4);
  const std::string value("\xff\0\x01", 3);
  LAFS_ASSERT_OK(d.put(key, value));
  EXPECT_EQ(d.value(key), value);
  EXPECT_EQ(d.value(std::string("\0a", 2)), "<absent>");
}

TYPED_TEST_P(KvContract, BatchAppliesInOrder) {
  auto& d = this->d;
  LAFS_ASSERT_OK(d.put("gone", "x"));
  WriteBatch b;
  b.put("a", "1");
  b.put("b", "2");
  b.del("a");  // a later op on the same key wins
  b.put("c", "3");
  b.put("c", "4");
  b.del("gone");
  b.put("back", "x");
  b.del("back");
  b.put("back", "y");
  LAFS_ASSERT_OK(d.write(std::move(b)));
  EXPECT_EQ(d.value("a"), "<absent>");
  EXPECT_EQ(d.value("b"), "2");
  EXPECT_EQ(d.value("c"), "4");
  EXPECT_EQ(d.value("gone"), "<absent>");
  EXPECT_EQ(d.value("back"), "y");
}

TYPED_TEST_P(KvContract, EmptyBatchIsOk) {
  auto& d = this->d;
  LAFS_EXPECT_OK(d.write(WriteBatch()));
  LAFS_EXPECT_OK(d.write(WriteBatch(), /*sync=*/true));
}

TYPED_TEST_P(KvContract, ScanIsOrderedAndHalfOpen) {
  auto& d = this->d;
  for (const char* k : {"b", "a", "c", "ab", "B", "\xff"}) LAFS_ASSERT_OK(d.put(k, k));
  EXPECT_EQ(d.scan_keys("", ""), (std::vector<std::string>{"B", "a", "ab", "b", "c", "\xff"}));
  EXPECT_EQ(d.scan_keys("a", "c"), (std::vector<std::string>{"a", "ab", "b"}));
  EXPECT_EQ(d.scan_keys("aa", "b"), (std::vector<std::string>{"ab"}));
  EXPECT_EQ(d.scan_keys("c", ""), (std::vector<std::string>{"c", "\xff"}));
  EXPECT_EQ(d.scan_keys("d", "e"), (std::vector<std::string>{}));
  EXPECT_EQ(d.scan_keys("c", "a"), (std::vector<std::string>{}));  // an empty range
  auto r = d.scan("a", "b", 10);
  LAFS_ASSERT_OK(r);
  ASSERT_EQ(r->size(), 2u);
  EXPECT_EQ((*r)[1], (KeyValue{"ab", "ab"}));
}

TYPED_TEST_P(KvContract, ScanLimitAndPaging) {
  auto& d = this->d;
  for (int i = 0; i < 25; ++i) {
    LAFS_ASSERT_OK(d.put("k" + std::to_string(100 + i), std::to_string(i)));
  }
  EXPECT_EQ(d.scan_keys("", "", 3), (std::vector<std::string>{"k100", "k101", "k102"}));
  std::vector<std::string> all;
  std::string begin;
  for (int pages = 0; pages < 10; ++pages) {
    std::vector<std::string> page = d.scan_keys(begin, "", 7);
    all.insert(all.end(), page.begin(), page.end());
    if (page.size() < 7) break;
    begin = page.back() + '\0';
  }
  ASSERT_EQ(all.size(), 25u);
  EXPECT_EQ(all.front(), "k100");
  EXPECT_EQ(all.back(), "k124");
}

TYPED_TEST_P(KvContract, ScanByPrefix) {
  auto& d = this->d;
  for (const char* k : {"lease/a", "lease/b", "leasf", "lease", "share/a"}) {
    LAFS_ASSERT_OK(d.put(k, "x"));
  }
  EXPECT_EQ(d.scan_keys("lease/", prefix_end("lease/")),
            (std::vector<std::string>{"lease/a", "lease/b"}));
  const std::string ff("\xff\xff", 2);
  LAFS_ASSERT_OK(d.put(ff + "z", "x"));
  EXPECT_EQ(prefix_end(ff), "");  // no key is above every "\xff\xff..." key: scan to the end
  EXPECT_EQ(d.scan_keys(ff, prefix_end(ff)), (std::vector<std::string>{ff + "z"}));
}

TYPED_TEST_P(KvContract, ScanLimitOutOfRangeIsInvalidArgument) {
  auto& d = this->d;
  LAFS_ASSERT_OK(d.put("k", "v"));
  LAFS_EXPECT_CODE(d.scan("", "", 0), ErrorCode::kInvalidArgument);
  LAFS_EXPECT_CODE(d.scan("", "", kKvScanLimitMax + 1), ErrorCode::kInvalidArgument);
  LAFS_EXPECT_OK(d.scan("", "", kKvScanLimitMax));
  LAFS_EXPECT_OK(d.scan("", "", 1));
}

TYPED_TEST_P(KvContract, ScanSeesDeletesAndOverwrites) {
  auto& d = this->d;
  LAFS_ASSERT_OK(d.put("a", "1"));
  LAFS_ASSERT_OK(d.put("b", "1"));
  LAFS_ASSERT_OK(d.put("c", "1"));
  LAFS_ASSERT_OK(d.del("b"));
  LAFS_ASSERT_OK(d.put("c", "2"));
  auto r = d.scan("", "", 10);
  LAFS_ASSERT_OK(r);
  EXPECT_EQ(*r, (std::vector<KeyValue>{{"a", "1"}, {"c", "2"}}));
}

REGISTER_TYPED_TEST_SUITE_P(KvContract, GetMissingIsAbsent, PutThenGet, DeleteRemovesKey,
                            BinaryKeysAndValues, BatchAppliesInOrder, EmptyBatchIsOk,
                            ScanIsOrderedAndHalfOpen, ScanLimitAndPaging, ScanByPrefix,
                            ScanLimitOutOfRangeIsInvalidArgument, ScanSeesDeletesAndOverwrites);

}  // namespace lafs::contract
