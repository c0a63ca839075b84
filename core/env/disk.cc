#include "core/env/disk.h"

namespace lafs {

Status validate_disk_path(const std::string& path, bool allow_root) {
  if (path.empty()) {
    return allow_root ? Status{} : invalid_argument("empty path");
  }
  if (path.size() > 4096) return invalid_argument("path longer than 4096 bytes");
  if (path.front() == '/') return invalid_argument("absolute path '" + path + "'");
  std::size_t start = 0;
  while (start <= path.size()) {
    std::size_t end = path.find('/', start);
    if (end == std::string::npos) end = path.size();
    std::string_view part(path.data() + start, end - start);
    if (part.empty()) return invalid_argument("empty component in path '" + path + "'");
    if (part == "." || part == "..") {
      return invalid_argument("'.' or '..' in path '" + path + "'");
    }
    if (part.find('\0') != std::string_view::npos) return invalid_argument("NUL in path");
    if (part.size() > 255) return invalid_argument("path component longer than 255 bytes");
    start = end + 1;
  }
  return Status{};
}

std::string parent_dir(const std::string& path) {
  std::size_t slash = path.rfind('/');
  return slash == std::string::npos ? std::string() : path.substr(0, slash);
}

}  // namespace lafs
