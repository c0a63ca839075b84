# Every external library comes from a Debian 12 package installed by scripts/install-deps.sh.
find_package(PkgConfig REQUIRED)
pkg_check_modules(SODIUM REQUIRED IMPORTED_TARGET libsodium)
find_package(OpenSSL REQUIRED COMPONENTS Crypto)
# Unicode normalisation (NFC) of directory entry names: docs/decisions/0017-icu.md.
pkg_check_modules(ICU_UC REQUIRED IMPORTED_TARGET icu-uc)
find_package(Protobuf REQUIRED)
find_package(Boost 1.81 REQUIRED COMPONENTS json)
find_package(CLI11 REQUIRED)
find_package(Threads REQUIRED)
# librocksdb-dev's CMake package; net/real links its shared library.
find_package(RocksDB CONFIG REQUIRED)
if(LAFS_BUILD_TESTS)
  find_package(GTest REQUIRED)
  find_package(rapidcheck REQUIRED)
endif()
if(LAFS_BUILD_BENCH)
  find_package(benchmark REQUIRED)
endif()
# Erasure-code backends (libjerasure-dev libgf-complete-dev libisal-dev): no pkg-config files.
find_library(ISAL_LIBRARY isal REQUIRED)
find_library(JERASURE_LIBRARY Jerasure REQUIRED)
find_library(GF_COMPLETE_LIBRARY gf_complete REQUIRED)
find_path(JERASURE_INCLUDE_DIR galois.h PATH_SUFFIXES jerasure REQUIRED)  # jerasure.h includes it
