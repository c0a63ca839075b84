#include "core/env/kv.h"

namespace lafs {

Task<Status> KvStore::put(std::string key, std::string value, bool sync) {
  WriteBatch b;
  b.put(std::move(key), std::move(value));
  co_return co_await write(std::move(b), sync);
}

Task<Status> KvStore::del(std::string key, bool sync) {
  WriteBatch b;
  b.del(std::move(key));
  co_return co_await write(std::move(b), sync);
}

std::string prefix_end(std::string prefix) {
  while (!prefix.empty()) {
    unsigned char last = static_cast<unsigned char>(prefix.back());
    if (last != 0xff) {
      prefix.back() = static_cast<char>(last + 1);
      return prefix;
    }
    prefix.pop_back();
  }
  return {};
}

}  // namespace lafs
