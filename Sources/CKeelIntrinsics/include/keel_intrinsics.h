#ifndef KEEL_INTRINSICS_H
#define KEEL_INTRINSICS_H

/// Hints the processor to load the cache line holding `address`: the tree learners' scattered row reads
/// (a leaf's rows, in ascending but irregular order) defeat the hardware prefetcher.
static inline void keel_prefetch(const void *address) {
    __builtin_prefetch(address, 0, 3);
}

#endif
