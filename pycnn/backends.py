"""pycnn.backends: switches of the compute backends, with torch's spelling.

``pycnn.backends.cuda.matmul.allow_tf32`` (default False) lets the CUDA GEMM use TF32 tensor cores for
float32 (10-bit mantissa inputs, float32 accumulation): faster, less exact. The core's switch is read at
each assignment, by name, so a core without it raises a clear error only when the switch is used.
"""

from . import _C

__all__ = ["cuda"]


def _core(name):
    fn = getattr(_C, name, None)
    if fn is None:
        raise RuntimeError(f"[backends.cuda.matmul.allow_tf32] this pycnn core has no {name}() (built before TF32)")
    return fn


class _CudaMatmul:
    """``allow_tf32``: whether float32 matmul/conv on CUDA may use TF32 tensor cores."""

    __slots__ = ()

    @property
    def allow_tf32(self):
        fn = getattr(_C, "cuda_allow_tf32", None)
        return bool(fn()) if fn is not None else False

    @allow_tf32.setter
    def allow_tf32(self, value):
        _core("cuda_set_allow_tf32")(bool(value))

    def __repr__(self):
        return f"pycnn.backends.cuda.matmul(allow_tf32={self.allow_tf32})"


class _Cuda:
    __slots__ = ()
    matmul = _CudaMatmul()

    @staticmethod
    def is_built():
        return _C.cuda_is_built()


cuda = _Cuda()
