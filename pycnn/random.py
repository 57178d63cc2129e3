"""Random number generation: a seeded NumPy PCG64 stream behind ``manual_seed``, ``randn``, ``rand``,
``Tensor.uniform_/normal_`` and every initialiser, so one seed fixes a whole training run. A second stream
gives CUDA dropout its mask seeds (``pycnn.cuda.manual_seed``); ``manual_seed`` seeds both.
"""

import numpy as np


def _seed(seed, op):
    """A seed in [0, 2**64) (NumPy's PCG64 range), or a TypeError / ValueError naming op and the seed."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"[{op}] expected the seed to be an int, got {seed!r}")
    if not 0 <= seed < 2**64:
        raise ValueError(f"[{op}] expected a seed in [0, 2**64), got {seed}")
    return int(seed)


class Generator:
    """A seedable random stream (``pycnn.Generator().manual_seed(0)``); ``.numpy`` is its NumPy Generator."""

    def __init__(self, seed=None):
        fresh = int(np.random.SeedSequence().entropy % (2**63))
        self._seed = fresh if seed is None else _seed(seed, "Generator")
        self.numpy = np.random.Generator(np.random.PCG64(self._seed))

    def manual_seed(self, seed):
        self._seed = _seed(seed, "manual_seed")
        self.numpy = np.random.Generator(np.random.PCG64(self._seed))
        return self

    def initial_seed(self):
        return self._seed

    def get_state(self):
        return self.numpy.bit_generator.state

    def set_state(self, state):
        """Restores a state from get_state()."""
        if not isinstance(state, dict):
            raise TypeError(f"[Generator.set_state] expected a state dict from get_state(), got {type(state).__name__}")
        try:
            self.numpy.bit_generator.state = state
        except (TypeError, ValueError, KeyError) as e:
            raise ValueError(
                f"[Generator.set_state] not a state from get_state() (keys {sorted(state)}): {e}"
            ) from None


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
