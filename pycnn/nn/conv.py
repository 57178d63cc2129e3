"""Convolution layers (NCHW / NCL / NCDHW): Conv1d, Conv2d, Conv3d, ConvTranspose1d, ConvTranspose2d, thin
Modules around the functional ops (1-D layers run the 2-D ops on (N, C, 1, L) views).

Parameter names, shapes and default initialisation follow torch.nn: Conv weight
(out_channels, in_channels // groups, *kernel_size), ConvTranspose weight
(in_channels, out_channels // groups, *kernel_size), bias (out_channels,). _ConvNd and _ConvTransposeNd
hold the two public constructors (torch's argument orders differ between the two); the public classes
only set the number of spatial dims, _n.
"""

from . import functional as F
from . import init
from ._arguments import PAD_MODES, conv_channels, conv_padding, ntuple, one_of, window
from .module import Module
from .parameter import new_parameter

__all__ = ["Conv1d", "Conv2d", "Conv3d", "ConvTranspose1d", "ConvTranspose2d"]


class _ConvBase(Module):
    """Shared argument checks, parameters, initialisation and repr of the conv layers: subclasses set _n (1, 2
    or 3 spatial dims) and _transposed, and pass the already ordered arguments of their public constructor."""

    _n = 2
    _transposed = False

    def __init__(
        self,
        in_channels,
        out_channels,
        kernel_size,
        stride,
        padding,
        dilation,
        groups,
        bias,
        padding_mode,
        device,
        dtype,
        output_padding=0,  # used by the transposed layers only
    ):
        super().__init__()
        cls, n = type(self).__name__, self._n
        conv_channels(in_channels, out_channels, groups, cls)
        # torch's names: 'zeros' is F.pad's 'constant' with 0, the other modes are F.pad's own
        one_of(padding_mode, ("zeros",) + tuple(m for m in PAD_MODES if m != "constant"), "padding_mode", cls)
        if self._transposed and padding_mode != "zeros":
            raise ValueError(f'[{cls}] Only "zeros" padding mode is supported for {cls}')
        if n == 3 and padding_mode != "zeros":  # F.pad's reflect/replicate/circular pad at most 2 dims
            raise ValueError(
                f"[{cls}] padding_mode {padding_mode!r} is not supported yet (pycnn's pad handles "
                f"the last 1 or 2 dims only); use 'zeros'"
            )

        kernel_size, stride, _, dilation = window(cls, kernel_size, stride, None, dilation, n)
        if isinstance(padding, str) and self._transposed:
            raise ValueError(f"[{cls}] padding must be an int or {n} ints, got {padding!r}")
        self._pads = conv_padding(padding, kernel_size, stride, dilation, cls)  # (before, after) per dim
        if not isinstance(padding, str):
            padding = ntuple(padding, n, "padding", cls)
        if self._transposed:
            output_padding = ntuple(output_padding, n, "output_padding", cls)
            for op, s, d in zip(output_padding, stride, dilation):
                if op < 0 or (op >= s and op >= d):
                    raise ValueError(
                        f"[{cls}] output_padding {output_padding} must be non-negative and smaller "
                        f"than either stride {stride} or dilation {dilation}"
                    )
            self.output_padding = output_padding

        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_size = kernel_size
        self.stride = stride
        self.padding = padding  # the user's spelling ('same' stays a string, as in torch)
        self.dilation = dilation
        self.groups = groups
        self.padding_mode = padding_mode
        if self._transposed:
            shape = (in_channels, out_channels // groups) + kernel_size
        else:
            shape = (out_channels, in_channels // groups) + kernel_size
        self.weight = new_parameter(shape, dtype, device)
        if bias:
            self.bias = new_parameter((out_channels,), dtype, device)
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        init.layer_default_(self.weight, self.bias)

    def extra_repr(self):
        n = self._n
        s = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding != (0,) * n:
            s += f", padding={self.padding}"
        if self.dilation != (1,) * n:
            s += f", dilation={self.dilation}"
        if self._transposed and self.output_padding != (0,) * n:
            s += f", output_padding={self.output_padding}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += f", padding_mode={self.padding_mode}"
        return s


class _ConvNd(_ConvBase):
    """Conv1d, Conv2d and Conv3d: torch's constructor and forward."""

    def __init__(
        self,
        in_channels,
        out_channels,
        kernel_size,
        stride=1,
        padding=0,
        dilation=1,
        groups=1,
        bias=True,
        padding_mode="zeros",
        device=None,
        dtype=None,
    ):
        super().__init__(
            in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias, padding_mode, device, dtype
        )

    def forward(self, x):
        # conv1d, conv2d or conv3d; a non-zero padding mode pads first and convolves unpadded, as torch does
        conv = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}[self._n]
        if self.padding_mode != "zeros":
            x, padding = self._padded_input(x), 0
        else:
            padding = self._conv_padding()
        return conv(
            x, self.weight, self.bias, stride=self.stride, padding=padding, dilation=self.dilation, groups=self.groups
        )

    def _padded_input(self, x):
        """For padding_mode other than 'zeros': pad x explicitly (torch order: last dim first)."""
        pads = [p for lr in reversed(self._pads) for p in lr]
        return F.pad(x, pads, mode=self.padding_mode)

    def _conv_padding(self):
        """The padding argument of the functional op for padding_mode='zeros'."""
        if isinstance(self.padding, str):
            return self.padding
        return tuple(lr[0] for lr in self._pads)


class _ConvTransposeNd(_ConvBase):
    """ConvTranspose1d and ConvTranspose2d: torch's constructor (output_padding after padding, dilation
    after bias) and forward(input, output_size=None)."""

    _transposed = True

    def __init__(
        self,
        in_channels,
        out_channels,
        kernel_size,
        stride=1,
        padding=0,
        output_padding=0,
        groups=1,
        bias=True,
        dilation=1,
        padding_mode="zeros",
        device=None,
        dtype=None,
    ):
        super().__init__(
            in_channels,
            out_channels,
            kernel_size,
            stride,
            padding,
            dilation,
            groups,
            bias,
            padding_mode,
            device,
            dtype,
            output_padding,
        )

    def forward(self, x, output_size=None):
        conv_transpose = F.conv_transpose2d if self._n == 2 else F.conv_transpose1d
        return conv_transpose(
            x,
            self.weight,
            self.bias,
            self.stride,
            self.padding,
            self._output_padding(x, output_size),
            self.groups,
            self.dilation,
        )

    def _output_padding(self, x, output_size):
        """torch's rule: output_size (the last n sizes, or with N and C in front) picks output_padding in
        [0, stride) per dim."""
        n, cls = self._n, type(self).__name__
        if output_size is None:
            return self.output_padding
        output_size = list(output_size)
        if len(output_size) == n + 2:
            output_size = output_size[2:]
        if len(output_size) != n:
            raise ValueError(f"[{cls}] output_size must have {n} or {n + 2} elements (got {len(output_size)})")
        pads = []
        for i in range(n):
            size_in = x.shape[x.ndim - n + i]
            k, s, d, p = self.kernel_size[i], self.stride[i], self.dilation[i], self._pads[i][0]
            lo = (size_in - 1) * s - 2 * p + d * (k - 1) + 1
            hi = lo + s - 1
            if not lo <= output_size[i] <= hi:
                raise ValueError(
                    f"[{cls}] requested an output size of {output_size}, but valid sizes range from "
                    f"{lo} to {hi} (for an input of {tuple(x.shape[x.ndim - n :])})"
                )
            pads.append(output_size[i] - lo)
        return tuple(pads)


class Conv2d(_ConvNd):
    """2-D convolution over an (N, C_in, H, W) or (C_in, H, W) input.

    Args:
        in_channels (int): C_in.
        out_channels (int): C_out.
        kernel_size (int or (int, int)): kernel height and width.
        stride (int or (int, int)): Default: 1.
        padding (int, (int, int), 'valid' or 'same'): padding on each side. 'same' needs stride 1; an odd
            total padding dilation * (k - 1) puts the extra pixel on the bottom/right, as torch. Default: 0.
        dilation (int or (int, int)): Default: 1.
        groups (int): in_channels and out_channels must both be divisible by it. Default: 1.
        bias (bool): learn a per-output-channel bias. Default: True.
        padding_mode (str): 'zeros', 'reflect', 'replicate' or 'circular'. Default: 'zeros'.
        device, dtype: where and in which floating dtype to create the parameters.
    Shapes:
        input (N, C_in, H, W) -> output (N, C_out, H_out, W_out) with
        H_out = floor((H + 2 * padding[0] - dilation[0] * (kH - 1) - 1) / stride[0] + 1), same for W.
    """


class Conv1d(_ConvNd):
    """1-D convolution over an (N, C_in, L) or (C_in, L) input; the arguments are Conv2d's with single
    ints (kernel_size, stride, padding (int, 'valid' or 'same'), dilation). weight (C_out, C_in/groups, K).

    Shapes:
        input (N, C_in, L) -> output (N, C_out, L_out), L_out = floor((L + 2*padding - dilation*(K-1) - 1)
        / stride + 1).
    """

    _n = 1


class ConvTranspose2d(_ConvTransposeNd):
    """Transposed 2-D convolution (conv2d's input gradient) over (N, C_in, H, W) or (C_in, H, W).

    Args as torch.nn.ConvTranspose2d: in_channels, out_channels, kernel_size, stride=1, padding=0,
    output_padding=0 (each < stride or < dilation), groups=1, bias=True, dilation=1, padding_mode='zeros'.
    weight (C_in, C_out/groups, kH, kW), bias (C_out,).
    Shapes:
        H_out = (H - 1)*stride[0] - 2*padding[0] + dilation[0]*(kH - 1) + output_padding[0] + 1, same for W.
        forward(input, output_size=None): output_size picks output_padding (see torch).
    """


class ConvTranspose1d(_ConvTransposeNd):
    """Transposed 1-D convolution over (N, C_in, L) or (C_in, L); ConvTranspose2d's arguments as single
    ints. weight (C_in, C_out/groups, K). L_out = (L-1)*stride - 2*padding + dilation*(K-1) +
    output_padding + 1.
    """

    _n = 1


class Conv3d(_ConvNd):
    """3-D convolution over an (N, C_in, D, H, W) or (C_in, D, H, W) input.

    Args:
        in_channels (int), out_channels (int): C_in, C_out.
        kernel_size (int or (int, int, int)): kernel depth, height and width.
        stride (int or 3 ints): Default: 1.
        padding (int, 3 ints, 'valid' or 'same'): padding on each side; 'same' needs stride 1 (an odd total
            puts the extra voxel after, as torch). Default: 0.
        dilation (int or 3 ints): Default: 1.
        groups (int): in_channels and out_channels must both be divisible by it. Default: 1.
        bias (bool): learn a per-output-channel bias. Default: True.
        padding_mode (str): only 'zeros' for now (pycnn's pad has no 3-D reflect/replicate/circular).
        device, dtype: where and in which floating dtype to create the parameters.
    weight (C_out, C_in/groups, kD, kH, kW), bias (C_out,).
    Shapes:
        input (N, C_in, D, H, W) -> output (N, C_out, D_out, H_out, W_out) with
        D_out = floor((D + 2 * padding[0] - dilation[0] * (kD - 1) - 1) / stride[0] + 1), same for H and W.
    """

    _n = 3
