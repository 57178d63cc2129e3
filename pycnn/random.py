"""Random number generation: a seeded NumPy PCG64 stream behind ``manual_seed``, ``randn``, ``rand``,
``Tensor.uniform_/normal_`` and every initialiser, so one seed fixes a whole training run. A second stream
gives CUDA dropout its mask seeds (``pycnn.cuda.manual_seed``); ``manual_seed`` seeds both.
"""

import numpy as np


class Generator:
    """A seedable random stream (``pycnn.Generator().manual_seed(0)``); ``.numpy`` is its NumPy Generator."""

    def __init__(self, seed=None):
        self._seed = int(np.random.SeedSequence().entropy % (2**63)) if seed is None else int(seed)
        self.numpy = np.random.Generator(np.random.PCG64(self._seed))

    def manual_seed(self, seed):
        self._seed = int(seed)
        self.numpy = np.random.Generator(np.random.PCG64(self._seed))
        return self

    def initial_seed(self):
        return self._seed

    def get_state(self):
        return self.numpy.bit_generator.state

    def set_state(self, state):
        self.numpy.bit_generator.state = state


_default = Generator(0)
_cuda = Generator(0)  # CUDA dropout's seeds (pycnn.cuda.manual_seed), apart so CPU streams do not shift


def default_generator():
    """The global generator that ``manual_seed`` seeds."""
    return _default


def manual_seed(seed):
    """Seeds the global generator and the CUDA one (as torch.manual_seed does); returns the global one."""
    _cuda.manual_seed(seed)
    return _default.manual_seed(seed)


def cuda_generator():
    """The generator CUDA dropout draws its mask seeds from (``pycnn.cuda.manual_seed`` seeds it)."""
    return _cuda


def initial_seed():
    return _default.initial_seed()


def _numpy_generator(generator=None):
    return (generator or _default).numpy
