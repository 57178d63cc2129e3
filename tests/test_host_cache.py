"""The host block cache (csrc/core/storage.cpp): freed blocks of at least 64 KiB come back for the next
request of the same size, and the memory held (live + cached) never exceeds the peak of live bytes (or the
cache's minimum capacity), so recycling does not raise the process's memory beyond what it needed."""

import numpy as np

import pycnn as pc


def stats():
    return pc._C._host_cache_stats()


def held_bound(s):
    return max(s["peak_live"], s["min_capacity"])


def test_a_freed_block_is_reused_for_the_same_size():
    a = pc.empty(1 << 16)  # 256 KiB
    ptr = a.data_ptr()
    del a
    b = pc.empty(1 << 16)
    assert b.data_ptr() == ptr
    s = stats()
    assert s["live"] >= 1 << 18 and s["live"] + s["cached"] <= held_bound(s)


def test_memory_held_stays_within_the_peak_of_live_bytes():
    rng = np.random.default_rng(0)
    for step in range(40):
        # Sizes that change every step (so blocks rarely match), up to 128 MiB each: past the minimum capacity,
        # so blocks must be evicted (pc.empty leaves the pages untouched: cheap)
        blocks = [pc.empty(int(n)) for n in rng.integers(1 << 20, 1 << 25, size=6)]
        s = stats()
        assert s["live"] + s["cached"] <= held_bound(s), (step, s)
        del blocks
    s = stats()
    assert s["live"] + s["cached"] <= held_bound(s)


def test_values_are_intact_through_reuse():
    x = pc.tensor(np.arange(1 << 17, dtype=np.float32))
    del x
    y = pc.tensor(np.arange(1 << 17, dtype=np.float32) * 2)  # may land in the recycled block
    np.testing.assert_array_equal(np.asarray(y), np.arange(1 << 17, dtype=np.float32) * 2)
