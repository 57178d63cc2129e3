"""Run under mpirun: every collective x dtype x layout against NumPy. Each rank makes its inputs from a seed
and its rank, so every rank can compute all ranks' inputs and the expected result itself. Prints
"checked N" on success; on the first wrong result it raises (which aborts the job)."""

import numpy as np

import pycnn as pc
import pycnn.distributed as dist

DTYPES = ["float32", "float64", "float16", "bfloat16", "int32", "int64", "uint8", "bool"]
FLOATS = {"float32", "float64", "float16", "bfloat16"}
OPS = ["sum", "avg", "product", "min", "max"]
SHAPE = (3, 5)


def values(rank, dtype, seed, shape=SHAPE):
    """Awkward, never-zero values (in float64 or integers) that this dtype holds."""
    rng = np.random.default_rng([seed, rank])
    if dtype == "bool":
        return rng.random(shape) < 0.5
    if dtype in FLOATS:
        v = rng.standard_normal(shape) * 3
        return np.where(np.abs(v) < 0.1, 0.7, v)
    lo, hi = (1, 9) if dtype == "uint8" else (-40, 40)
    v = rng.integers(lo, hi, shape)
    return np.where(v == 0, 3, v)


def make(a, dtype, layout):
    """A pycnn tensor of dtype holding a (of SHAPE): contiguous, a transposed view, or a stepped view."""
    if layout == "transposed":
        t = pc.tensor(np.ascontiguousarray(a.T)).to(dtype).t()
    elif layout == "stepped":
        wide = np.repeat(a, 2, axis=1)
        t = pc.tensor(wide).to(dtype)[:, ::2]
    else:
        t = pc.tensor(a).to(dtype)
    assert t.is_contiguous() == (layout == "contiguous"), layout
    return t


def stored(a, dtype):
    """a as dtype stores it, back in float64 / int64 / bool (what every rank contributes)."""
    return pc.tensor(a).to(dtype).to("float64" if dtype in FLOATS else dtype).numpy()


def reduce(arrays, op, dtype):
    """NumPy's result, computed as the backends do: float16/bfloat16 in float32, then rounded once."""
    if dtype in ("float16", "bfloat16"):
        arrays = [a.astype(np.float32) for a in arrays]
    elif dtype in FLOATS:
        arrays = [a.astype(dtype) for a in arrays]
    if dtype == "bool":
        out = np.logical_or.reduce(arrays) if op in ("sum", "max") else np.logical_and.reduce(arrays)
    else:
        out = {"sum": np.sum, "avg": np.sum, "product": np.prod, "min": np.min, "max": np.max}[op](
            np.stack(arrays), axis=0
        )
        if dtype not in FLOATS:
            out = out.astype(dtype)  # integer sums and products wrap as the dtype does
        if op == "avg":
            out = out / out.dtype.type(len(arrays))
    return stored(out, dtype) if dtype != "bool" else out


def result(t):
    return t.to("float64").numpy() if t.dtype.name in FLOATS else t.numpy()


def check(what, got, expected):
    if not np.array_equal(got, expected):
        raise AssertionError(f"rank {dist.get_rank()}: {what}: got\n{got}\nexpected\n{expected}")


def main():
    dist.init_process_group(backend="mpi", timeout=60)
    rank, size = dist.get_rank(), dist.get_world_size()
    count, seed = 0, 0
    for dtype in DTYPES:
        for layout in ("contiguous", "transposed", "stepped"):
            for op in OPS:
                if op == "avg" and dtype not in FLOATS:
                    continue
                seed += 1
                mine = make(values(rank, dtype, seed), dtype, layout)
                expected = reduce([stored(values(r, dtype, seed), dtype) for r in range(size)], op, dtype)
                for async_op in (False, True):
                    t = mine.clone() if layout == "contiguous" else make(values(rank, dtype, seed), dtype, layout)
                    work = dist.all_reduce(t, op=op, async_op=async_op)
                    if async_op:
                        work.wait()
                    check(f"all_reduce {op} {dtype} {layout} async={async_op}", result(t), expected)
                    count += 1
                out = make(values(rank, dtype, seed + 1000), dtype, layout)
                blocks = [make(values(rank, dtype, seed + 2000 + r), dtype, layout) for r in range(size)]
                dist.reduce_scatter(out, blocks, op=op)
                parts = [stored(values(r, dtype, seed + 2000 + rank), dtype) for r in range(size)]
                check(f"reduce_scatter {op} {dtype} {layout}", result(out), reduce(parts, op, dtype))
                count += 1
            seed += 1
            for src in range(size):
                t = make(values(rank, dtype, seed + src), dtype, layout)
                dist.broadcast(t, src=src)
                check(
                    f"broadcast from {src} {dtype} {layout}", result(t), stored(values(src, dtype, seed + src), dtype)
                )
                count += 1
            t = make(values(rank, dtype, seed), dtype, layout)
            gathered = [make(values(rank, dtype, seed + 7), dtype, layout) for _ in range(size)]
            dist.all_gather(gathered, t)
            for r in range(size):
                check(f"all_gather[{r}] {dtype} {layout}", result(gathered[r]), stored(values(r, dtype, seed), dtype))
            stacked = pc.zeros(size * SHAPE[0], SHAPE[1], dtype=dtype)
            dist.all_gather_into_tensor(stacked, t)
            want = np.concatenate([stored(values(r, dtype, seed), dtype) for r in range(size)])
            check(f"all_gather_into_tensor {dtype} {layout}", result(stacked), want)
            big = pc.tensor(np.concatenate([values(rank, dtype, seed + 9 + r) for r in range(size)])).to(dtype)
            out = make(values(rank, dtype, seed + 99), dtype, layout)
            dist.reduce_scatter_tensor(out, big)
            parts = [stored(values(r, dtype, seed + 9 + rank), dtype) for r in range(size)]
            check(f"reduce_scatter_tensor {dtype} {layout}", result(out), reduce(parts, "sum", dtype))
            count += 3
    objects = [None] * size
    dist.all_gather_object(objects, {"rank": rank, "square": rank * rank})
    assert objects == [{"rank": r, "square": r * r} for r in range(size)], objects
    shared = [f"from {rank}", rank] if rank == size - 1 else [None, None]
    dist.broadcast_object_list(shared, src=size - 1)
    assert shared == [f"from {size - 1}", size - 1], shared
    dist.barrier()
    print(f"rank {rank}: checked {count + 2}", flush=True)
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
