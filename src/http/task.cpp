#include <keel/task.hpp>

#include <new>
#include <utility>

namespace keel::detail {

namespace {

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr bool recycle_frames = false;  // let the sanitizers see every frame's life
#else
constexpr bool recycle_frames = true;
#endif

// Frames are kept by size class (64-byte steps up to 2 KiB), at most 16 per class and thread:
// a thread that frees more frames than it allocates (a frame resumed on a worker and ended
// there) hands the rest back to the heap.
constexpr std::size_t granule = 64;
constexpr std::size_t classes = 32;
constexpr unsigned kept_per_class = 16;

struct free_frame {
    free_frame* next;
};

struct frame_cache {
    free_frame* head[classes] = {};
    unsigned count[classes] = {};

    ~frame_cache();
};

// Set once this thread's cache is gone: a frame freed later (by another thread-local's
// destructor) goes straight to the heap.
thread_local bool cache_destroyed = false;
thread_local frame_cache cache;

frame_cache::~frame_cache() {
    for (auto*& first : head) {
        while (first) ::operator delete(std::exchange(first, first->next));
    }
    cache_destroyed = true;
}

std::size_t size_class(std::size_t size) noexcept {
    return (size + granule - 1) / granule;
}

}  // namespace

void* task_promise_base::operator new(std::size_t size) {
    const auto c = size_class(size);
    if (!recycle_frames || c > classes || cache_destroyed) return ::operator new(size);
    if (auto* frame = cache.head[c - 1]) {
        cache.head[c - 1] = frame->next;
        --cache.count[c - 1];
        return frame;
    }
    return ::operator new(c* granule);
}

void task_promise_base::operator delete(void* frame, std::size_t size) noexcept {
    const auto c = size_class(size);
    if (!recycle_frames || c > classes || cache_destroyed || cache.count[c - 1] == kept_per_class) {
        ::operator delete(frame);
        return;
    }
    cache.head[c - 1] = new (frame) free_frame{cache.head[c - 1]};
    ++cache.count[c - 1];
}

}  // namespace keel::detail
