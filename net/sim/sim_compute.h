// Compute for simulated nodes: work runs inline, at once, so simulations stay deterministic and
// single-threaded. (A later issue may charge simulated CPU time here.)
#pragma once

#include "core/env/compute.h"

namespace lafs::sim {

class SimCompute final : public Compute {
 public:
  void submit(std::function<void()> work, std::function<void()> done) override {
    work();
    done();
  }
};

}  // namespace lafs::sim
