// A minimal intrusive doubly-linked list. Elements derive from IntrusiveListNode and are never
// owned by the list; unlinking is O(1) and safe to call on an unlinked node.
#pragma once

#include <cstddef>

#include "core/runtime/assert.h"

namespace lafs {

class IntrusiveListNode {
 public:
  IntrusiveListNode() = default;
  IntrusiveListNode(const IntrusiveListNode&) = delete;
  IntrusiveListNode& operator=(const IntrusiveListNode&) = delete;
  bool linked() const { return prev_ != nullptr; }

 private:
  template <typename T>
  friend class IntrusiveList;
  IntrusiveListNode* prev_ = nullptr;
  IntrusiveListNode* next_ = nullptr;
};

template <typename T>
class IntrusiveList {
 public:
  IntrusiveList() { head_.prev_ = head_.next_ = &head_; }
  IntrusiveList(const IntrusiveList&) = delete;
  IntrusiveList& operator=(const IntrusiveList&) = delete;
  ~IntrusiveList() { clear(); }

  bool empty() const { return head_.next_ == &head_; }
  std::size_t size() const { return size_; }

  void push_back(T* item) {
    IntrusiveListNode* n = item;
    LAFS_ASSERT(!n->linked());
    n->prev_ = head_.prev_;
    n->next_ = &head_;
    head_.prev_->next_ = n;
    head_.prev_ = n;
    ++size_;
  }

  void remove(T* item) {
    IntrusiveListNode* n = item;
    LAFS_ASSERT(n->linked());
    n->prev_->next_ = n->next_;
    n->next_->prev_ = n->prev_;
    n->prev_ = n->next_ = nullptr;
    --size_;
  }

  T* front() const { return empty() ? nullptr : static_cast<T*>(head_.next_); }

  T* pop_front() {
    T* item = front();
    if (item) remove(item);
    return item;
  }

  // Unlinks every node without touching the items otherwise.
  void clear() {
    while (!empty()) pop_front();
  }

 private:
  IntrusiveListNode head_;
  std::size_t size_ = 0;
};

}  // namespace lafs
