"""Lookup tables: nn.Embedding, F.embedding and F.one_hot, with torch's names, defaults and semantics.

The lookup is a row gather in the core (``_C.embedding_forward``); its gradient sums the rows of dout into
the rows of weight they came from, sorted by index so that the sums are the same on every run. ``max_norm``
rescales the looked-up rows of weight in place before the lookup, outside the graph, as torch does.
"""

from .. import _C
from .._convert import bool_arg, check_tensor, int_arg, is_int, number_arg
from .._types import int64
from ..autograd import Function, no_grad
from . import init
from .module import Module
from .parameter import Parameter, new_parameter

__all__ = ["Embedding", "embedding", "one_hot"]


class EmbeddingFn(Function):
    @staticmethod
    def forward(ctx, weight, indices, padding_idx, scale_grad_by_freq):
        ctx.args = (indices, weight.shape[0], padding_idx, scale_grad_by_freq)
        return _C.embedding_forward(weight, indices)

    @staticmethod
    def backward(ctx, dout):
        return _C.embedding_backward(dout, *ctx.args), None, None, None


def _padding_idx(padding_idx, num_embeddings, op):
    """padding_idx as a row in [0, num_embeddings) (negative counts from the end), or -1 for None."""
    if padding_idx is None:
        return -1
    padding_idx = int_arg(padding_idx, "padding_idx", op)
    if not -num_embeddings <= padding_idx < num_embeddings:
        raise ValueError(f"[{op}] padding_idx must be within num_embeddings ({num_embeddings}), got {padding_idx}")
    return padding_idx % num_embeddings


def _indices(input, op):
    """input as the core's int64 indices; int32 is converted, other dtypes refused (as torch)."""
    check_tensor(input, op)
    if input.dtype.name not in ("int64", "int32"):
        raise TypeError(f"[{op}] expected input to be an int64 or int32 tensor of indices, got {input.dtype.name}")
    return input if input.dtype == int64 else input.to(int64)


def embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0, scale_grad_by_freq=False, sparse=False):
    """The rows of weight at the indices in input: output[..., :] = weight[input[...], :].

    Args:
        input (Tensor): integer indices in [0, num_embeddings), any shape.
        weight (Tensor): (num_embeddings, embedding_dim).
        padding_idx (int, optional): this row gets no gradient.
        max_norm (float, optional): looked-up rows whose norm_type-norm exceeds it are first rescaled to
            max_norm, in place in weight (outside the graph).
        norm_type (float): the p of that norm. Default: 2.
        scale_grad_by_freq (bool): divide each row's gradient by how often its index occurs in input.
        sparse (bool): sparse gradients are not supported (NotImplementedError).
    Shapes:
        input (*) -> output (*, embedding_dim).
    """
    input = _indices(input, "embedding")
    check_tensor(weight, "embedding", "weight")
    if weight.ndim != 2:
        raise ValueError(
            f"[embedding] expected weight of shape (num_embeddings, embedding_dim), got {tuple(weight.shape)}"
        )
    padding_idx = _padding_idx(padding_idx, weight.shape[0], "embedding")
    scale_grad_by_freq = bool_arg(scale_grad_by_freq, "scale_grad_by_freq", "embedding")
    if bool_arg(sparse, "sparse", "embedding"):
        raise NotImplementedError("[embedding] sparse=True is not supported: pycnn has no sparse gradients")
    if max_norm is not None:
        max_norm = number_arg(max_norm, "embedding", "max_norm")
        with no_grad():
            _C.embedding_renorm_(weight._impl, input._impl, max_norm, number_arg(norm_type, "embedding", "norm_type"))
    return EmbeddingFn.apply(weight, input, padding_idx, scale_grad_by_freq)


def one_hot(tensor, num_classes=-1):
    """int64 (*tensor.shape, num_classes) with a 1 at each class index of tensor (int64, values in
    [0, num_classes)); num_classes -1 takes the largest value + 1."""
    check_tensor(tensor, "one_hot")
    num_classes = int_arg(num_classes, "num_classes", "one_hot")
    return tensor._make(_C.one_hot(tensor._impl, num_classes))


class Embedding(Module):
    """A lookup table of num_embeddings vectors of size embedding_dim, initialised N(0, 1) (the padding_idx
    row zero).

    Args:
        num_embeddings (int), embedding_dim (int): the table's shape.
        padding_idx, max_norm, norm_type, scale_grad_by_freq, sparse: as in ``F.embedding``.
        _weight (Tensor, optional): the initial table, used as is (shared, not copied).
        _freeze (bool): the table does not require grad.
        device, dtype: where and in which floating dtype to create the table (default: CPU, float32).
    Shapes:
        input (*) integer indices -> output (*, embedding_dim); weight (num_embeddings, embedding_dim).
    """

    def __init__(
        self,
        num_embeddings,
        embedding_dim,
        padding_idx=None,
        max_norm=None,
        norm_type=2.0,
        scale_grad_by_freq=False,
        sparse=False,
        _weight=None,
        _freeze=False,
        device=None,
        dtype=None,
    ):
        super().__init__()
        for name, value in (("num_embeddings", num_embeddings), ("embedding_dim", embedding_dim)):
            if not is_int(value):
                raise TypeError(f"[Embedding] {name} must be a non-negative int, got {value!r}")
            if value < 0:
                raise ValueError(f"[Embedding] {name} must be a non-negative int, got {value!r}")
        if bool_arg(sparse, "sparse", "Embedding"):
            raise NotImplementedError("[Embedding] sparse=True is not supported: pycnn has no sparse gradients")
        self.num_embeddings, self.embedding_dim = num_embeddings, embedding_dim
        self.padding_idx = None if padding_idx is None else _padding_idx(padding_idx, num_embeddings, "Embedding")
        self.max_norm = None if max_norm is None else number_arg(max_norm, "Embedding", "max_norm")
        self.norm_type = number_arg(norm_type, "Embedding", "norm_type")
        self.scale_grad_by_freq = bool_arg(scale_grad_by_freq, "scale_grad_by_freq", "Embedding")
        self.sparse = False
        if _weight is None:
            self.weight = new_parameter((num_embeddings, embedding_dim), dtype, device)
            self.weight.requires_grad_(not _freeze)
            self.reset_parameters()
        else:
            check_tensor(_weight, "Embedding", "_weight")
            if tuple(_weight.shape) != (num_embeddings, embedding_dim):
                raise ValueError(
                    f"[Embedding] _weight has shape {tuple(_weight.shape)}, expected "
                    f"({num_embeddings}, {embedding_dim}) (num_embeddings, embedding_dim)"
                )
            self.weight = Parameter(_weight, requires_grad=not _freeze)

    def reset_parameters(self):
        init.normal_(self.weight)
        if self.padding_idx is not None:
            with no_grad():
                self.weight[self.padding_idx].fill_(0.0)

    def forward(self, input):
        return embedding(
            input, self.weight, self.padding_idx, self.max_norm, self.norm_type, self.scale_grad_by_freq, self.sparse
        )

    def extra_repr(self):
        s = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.padding_idx is not None:
            s += f", padding_idx={self.padding_idx}"
        if self.max_norm is not None:
            s += f", max_norm={self.max_norm}"
        if self.norm_type != 2:
            s += f", norm_type={self.norm_type}"
        if self.scale_grad_by_freq:
            s += ", scale_grad_by_freq=True"
        return s

    @classmethod
    def from_pretrained(
        cls,
        embeddings,
        freeze=True,
        padding_idx=None,
        max_norm=None,
        norm_type=2.0,
        scale_grad_by_freq=False,
        sparse=False,
    ):
        """An Embedding whose table is `embeddings` (2-D, shared); freeze: the table does not require grad."""
        check_tensor(embeddings, "Embedding.from_pretrained", "embeddings")
        if embeddings.ndim != 2:
            raise ValueError(
                f"[Embedding.from_pretrained] embeddings must be 2-D (num_embeddings, embedding_dim), got "
                f"{tuple(embeddings.shape)}"
            )
        rows, cols = embeddings.shape
        return cls(
            rows,
            cols,
            padding_idx=padding_idx,
            max_norm=max_norm,
            norm_type=norm_type,
            scale_grad_by_freq=scale_grad_by_freq,
            sparse=sparse,
            _weight=embeddings,
            _freeze=bool_arg(freeze, "freeze", "Embedding.from_pretrained"),
        )
