// A Connection decorator for security tests: misbehaves on the Nth frame it sends (0-based,
// counting the handshake's M1 and M3), below the secure layer — what a man in the middle would
// put on the wire. Used on the simulator and over real TCP.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "core/env/network.h"
#include "core/runtime/status.h"
#include "core/runtime/task.h"

namespace lafs::testing {

class Tamper final : public Connection {
 public:
  enum class Mode { kNone, kFlipBit, kReplay, kSwapWithNext, kDrop };
  Tamper(std::unique_ptr<Connection> inner, Mode mode, int target)
      : inner_(std::move(inner)), mode_(mode), target_(target) {}
  Task<Status> send(Bytes frame) override { return do_send(this, std::move(frame)); }
  Task<Result<Bytes>> receive() override { return inner_->receive(); }
  void close() override { inner_->close(); }
  std::string peer_address() const override { return inner_->peer_address(); }

 private:
  static Task<Status> do_send(Tamper* t, Bytes frame) {
    const int n = t->sent_++;
    if (n != t->target_ && !(t->held_ && n == t->target_ + 1)) {
      co_return co_await t->inner_->send(std::move(frame));
    }
    switch (t->mode_) {
      case Mode::kNone:
        co_return co_await t->inner_->send(std::move(frame));
      case Mode::kFlipBit:
        frame[frame.size() / 2] ^= 0x10;
        co_return co_await t->inner_->send(std::move(frame));
      case Mode::kReplay: {
        Bytes copy = frame;
        LAFS_CO_RETURN_IF_ERROR(co_await t->inner_->send(std::move(frame)));
        co_return co_await t->inner_->send(std::move(copy));
      }
      case Mode::kDrop:
        co_return Status{};
      case Mode::kSwapWithNext:
        if (!t->held_) {
          t->held_ = std::move(frame);
          co_return Status{};
        }
        LAFS_CO_RETURN_IF_ERROR(co_await t->inner_->send(std::move(frame)));
        Bytes held = std::move(*t->held_);
        t->held_.reset();
        co_return co_await t->inner_->send(std::move(held));
    }
    co_return Status{};
  }
  std::unique_ptr<Connection> inner_;
  Mode mode_;
  int target_;
  int sent_ = 0;
  std::optional<Bytes> held_;
};

}  // namespace lafs::testing
