#!/usr/bin/env bash
# Proves that core/ stays pure: it includes none of Asio, Beast, RocksDB, threads or
# <filesystem>, reads no real clock, and draws no randomness behind the Env's back. Two checks:
# the sources (what is written) and the compiled library's undefined symbols (what is linked).
# Usage: core_purity_test.sh SOURCE_DIR PATH_TO_liblafs_core.a
set -u
src="$1/core"
lib="$2"
fail=0

check_src() {  # pattern, reason
  local hits
  hits=$(grep -rnE --include='*.h' --include='*.cc' --include='*.proto' "$1" "$src" | grep -v 'purity-exempt')
  if [ -n "$hits" ]; then
    echo "FORBIDDEN in core/ ($2):"
    echo "$hits"
    fail=1
  fi
}

check_src '#include *[<"](boost/asio|asio\.hpp|boost/beast|rocksdb/)' 'Asio, Beast or RocksDB'
check_src '#include *<(thread|mutex|shared_mutex|condition_variable|future|stop_token|semaphore|latch|barrier)>' 'threads'
check_src '#include *<(filesystem|fstream|random)>' 'filesystem, file streams or library randomness'
check_src '(steady_clock|system_clock|high_resolution_clock|utc_clock|file_clock)::now' 'real clock'
check_src '\b(time|gettimeofday|clock_gettime|clock)\s*\(\s*(NULL|nullptr|0|&|CLOCK)' 'real clock'
check_src 'std::random_device|\bs?rand\s*\(|\b(drand48|arc4random|getrandom|getentropy)\b' 'library randomness'
check_src '\brandombytes_(buf|random|uniform|buf_deterministic)\s*\(' 'libsodium randomness (use Env Random)'
check_src '\bcrypto_(sign|box|kx|secretstream_[a-z0-9]+)_keypair\s*\(' 'key generation from library randomness (use *_seed_keypair)'
check_src '\b(RAND_bytes|RAND_priv_bytes)\s*\(' 'OpenSSL randomness'
check_src '\b(fopen|pthread_create)\s*\(|(^|[^[:alnum:]_])::open\s*\(|std::j?thread\b' 'direct I/O or threads'

if [ ! -f "$lib" ]; then
  echo "library not found: $lib"
  exit 1
fi
# Symbols that must not be referenced by the compiled core library.
syms=$(nm -C --undefined-only "$lib" 2>/dev/null | awk '{print $NF}' | sort -u)
bad=$(printf '%s\n' "$syms" | grep -E '^(clock_gettime|gettimeofday|time|rand|srand|random|getrandom|getentropy|randombytes_buf|randombytes_random|randombytes_uniform|crypto_sign_keypair|crypto_box_keypair|crypto_kx_keypair|RAND_bytes|RAND_priv_bytes|pthread_create|fopen|fopen64|open|open64|std::chrono::_V2::steady_clock::now|std::chrono::_V2::system_clock::now)(\(|$)|^rocksdb::|^boost::asio|std::random_device|std::filesystem::|std::thread::')
if [ -n "$bad" ]; then
  echo "FORBIDDEN symbols referenced by $lib:"
  echo "$bad"
  fail=1
fi

if [ $fail -ne 0 ]; then
  echo "core purity: FAILED"
  exit 1
fi
echo "core purity: OK ($(printf '%s\n' "$syms" | wc -l) undefined symbols checked)"
