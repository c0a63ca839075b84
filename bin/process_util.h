// Pieces shared by the `lafs` commands that run a long-lived process: signal handling, port
// files, node keys from seeds, and a RealEnv under a directory.
#pragma once

#include <pthread.h>
#include <signal.h>

#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "core/net/node_key.h"
#include "core/runtime/status.h"
#include "net/real/real_env.h"
#include "net/real/temp_dir.h"

namespace lafs::cli {

// SIGTERM and SIGINT, blocked in every thread (block() runs before any thread exists) and taken
// by one watcher thread, which wakes the executor; the command then cancels its tasks and
// returns from main, so destructors run (RocksDB closes cleanly).
class SignalWatcher {
 public:
  static void block() {
    sigset_t set = signals();
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
  }

  explicit SignalWatcher(real::RealExecutor& ex)
      : thread_([this, &ex] {
          const sigset_t set = signals();
          while (!done_.load()) {
            const timespec poll{0, 100'000'000};
            const int sig = sigtimedwait(&set, nullptr, &poll);
            if (sig > 0) {
              signal_.store(sig);
              ex.post_from_any_thread([] {});  // wakes run_until, which then sees signalled()
              return;
            }
          }
        }) {}
  SignalWatcher(const SignalWatcher&) = delete;
  SignalWatcher& operator=(const SignalWatcher&) = delete;
  ~SignalWatcher() {
    done_.store(true);
    thread_.join();
  }

  bool signalled() const { return signal_.load() != 0; }
  int signal() const { return signal_.load(); }

 private:
  static sigset_t signals() {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    return set;
  }
  std::atomic<bool> done_{false};
  std::atomic<int> signal_{0};
  std::thread thread_;  // last: starts once the flags exist
};

// Replaces `path` with `content` so that a reader sees the old file or the new one, never a
// mix, and the new one survives a crash once this returns. The file gets `mode` (0600 for
// secrets and caps), which it has from its creation on.
Status write_file_atomically(const std::string& path, const std::string& content, int mode = 0644);

// A whole small file. Errors: NotFound, IoError, FailedPrecondition (longer than max_bytes).
Result<std::string> read_small_file(const std::string& path, std::size_t max_bytes = 1 << 20);

// A node key from 64 hex digits of seed (--key-seed).
Result<net::NodeKey> key_from_seed_hex(const std::string& hex);

// The Env's disk and KV live under `dir` (made when missing), or under a temporary directory
// removed at exit when `dir` is empty.
struct EnvHolder {
  std::optional<real::TempDir> temp;
  std::unique_ptr<real::RealEnv> env;
};
Result<EnvHolder> open_env(std::string dir, std::size_t compute_threads = 1);

}  // namespace lafs::cli
