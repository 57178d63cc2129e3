"""The torch-compatibility census of issue 14, and the generator of docs/torch-compat.md.

Four census lists name what everyday CNN code written for PyTorch reaches for: Tensor methods, torch
functions (and dtypes), torch.nn and torch.nn.functional. tests/test_census.py checks that pycnn has every
census name and that some behaviour test exercises it. LEFT_OUT names what pycnn deliberately does not do.

    python tools/torch_compat.py --write docs/torch-compat.md   (needs torch) every public torch name, marked
    python tools/torch_compat.py --check docs/torch-compat.md   exit status 1 when the file is out of date
"""

import argparse
import fnmatch
import sys
import textwrap
import types
from pathlib import Path

# ---------------------------------------------------------------------------------------------- census lists
# How the "present" names were chosen: from the names pycnn and torch both had when the issue's census was
# taken, the everyday ones (what the PyTorch examples, torchvision's models and typical training scripts call),
# leaving out aliases and rarely written forms (clip, concat, T), pointer/memory introspection (data_ptr,
# is_pinned) and generator plumbing, until the counts matched the issue's: 136, 114, 66 and 42 names.

# fmt: off
TENSOR_METHODS = [
    # present when the census was taken (75): shape and memory
    "size", "shape", "dim", "ndim", "numel", "dtype", "device", "is_contiguous", "contiguous", "clone",
    "item", "tolist", "numpy", "to", "cpu", "cuda", "is_cuda", "pin_memory", "float", "double", "long",
    # views and reshaping
    "view", "reshape", "flatten", "squeeze", "unsqueeze", "permute", "transpose", "t", "expand", "chunk",
    "split", "index_select",
    # arithmetic, math and comparisons
    "add", "sub", "mul", "div", "pow", "matmul", "abs", "exp", "log", "sqrt", "sigmoid", "tanh", "relu",
    "clamp", "eq", "ne", "lt", "le", "gt", "ge",
    # reductions and activations
    "sum", "mean", "max", "min", "argmax", "argmin", "std", "var", "softmax", "log_softmax",
    # autograd
    "backward", "grad", "grad_fn", "requires_grad", "requires_grad_", "is_leaf", "detach", "data",
    # in-place initialisation and copies
    "zero_", "fill_", "copy_", "uniform_",
    # missing when the census was taken (61): in-place arithmetic and masks
    "add_", "sub_", "mul_", "div_", "clamp_", "detach_", "masked_fill", "masked_fill_",
    # products, logic and reductions
    "addmm", "mm", "bmm", "all", "any", "prod", "norm", "cumsum",
    # sorting, indexing and scattering
    "sort", "argsort", "topk", "gather", "scatter", "scatter_", "scatter_add_", "nonzero", "unique",
    # shape
    "flip", "repeat", "select", "unbind", "unflatten",
    # elementwise math and tests
    "sign", "floor", "round", "square", "rsqrt", "reciprocal", "isnan", "isfinite", "logical_and",
    "logical_not", "equal", "allclose",
    # shape and type of another tensor, dtype conversions
    "expand_as", "view_as", "reshape_as", "type", "type_as", "int", "bool", "half", "bfloat16",
    # factories on a tensor
    "new_empty", "new_full", "new_ones", "new_zeros", "new_tensor",
    # hooks and introspection
    "register_hook", "retain_grad", "storage_offset", "element_size", "nbytes",
]

FUNCTIONS = [
    # present when the census was taken (56): tensors, dtypes and devices
    "Tensor", "tensor", "as_tensor", "from_numpy", "dtype", "device", "float32", "float64", "int64", "float",
    "double", "long", "get_default_dtype", "set_default_dtype",
    # factories and random numbers
    "zeros", "ones", "full", "empty", "arange", "zeros_like", "ones_like", "rand", "randn", "randint",
    "randperm", "manual_seed",
    # joining, slicing, math
    "cat", "stack", "split", "chunk", "flatten", "index_select", "where", "matmul", "abs", "exp", "log",
    "sqrt", "sigmoid", "tanh", "relu", "clamp",
    # reductions
    "sum", "mean", "max", "min", "argmax", "argmin", "std", "var",
    # autograd modes, save/load, threads
    "no_grad", "enable_grad", "set_grad_enabled", "save", "load", "set_num_threads",
    # missing when the census was taken (58): factories
    "linspace", "eye", "empty_like", "full_like", "rand_like", "randn_like",
    # products and shape
    "mm", "bmm", "einsum", "reshape", "transpose", "permute", "squeeze", "unsqueeze",
    # sorting, activations, predicates
    "sort", "argsort", "topk", "softmax", "log_softmax", "is_tensor", "numel", "allclose", "equal",
    "isnan", "isfinite",
    # cumulative, indexing, sampling
    "cumsum", "gather", "scatter", "multinomial", "bernoulli", "normal",
    # elementwise and shape
    "sign", "floor", "ceil", "round", "logical_and", "flip", "roll", "meshgrid", "tril", "triu", "diag",
    "outer",
    # modes, broadcasting, sets, norms and distances, reductions
    "inference_mode", "broadcast_tensors", "unique", "nonzero", "norm", "dist", "cdist", "prod", "amax",
    "amin",
    # dtypes
    "bool", "int32", "uint8", "float16", "bfloat16",
]

NN = [
    # present when the census was taken (45): containers and parameters
    "Module", "Sequential", "ModuleList", "Parameter",
    # convolution, linear, shape
    "Conv1d", "Conv2d", "ConvTranspose2d", "Linear", "Flatten", "Identity",
    # pooling and resampling
    "MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d", "AdaptiveMaxPool2d", "Upsample", "PixelShuffle",
    # normalisation and dropout
    "BatchNorm1d", "BatchNorm2d", "LayerNorm", "GroupNorm", "InstanceNorm2d", "Dropout", "Dropout2d",
    # activations
    "ReLU", "ReLU6", "LeakyReLU", "PReLU", "ELU", "GELU", "SiLU", "Sigmoid", "Tanh", "Softmax", "LogSoftmax",
    "Softplus", "Hardsigmoid", "Hardswish",
    # losses
    "CrossEntropyLoss", "NLLLoss", "MSELoss", "L1Loss", "SmoothL1Loss", "BCELoss", "BCEWithLogitsLoss",
    "KLDivLoss",
    # missing when the census was taken (21): containers, layers
    "ModuleDict", "ParameterList", "ParameterDict", "Bilinear", "Conv3d", "MaxPool1d", "AvgPool1d",
    "AdaptiveAvgPool1d", "Mish", "Hardtanh", "Unflatten", "Embedding",
    # padding, shuffling, patches
    "ZeroPad2d", "ReflectionPad2d", "ReplicationPad2d", "ConstantPad2d", "ChannelShuffle", "Fold", "Unfold",
    # metric-learning losses
    "CosineEmbeddingLoss", "TripletMarginLoss",
]

FUNCTIONAL = [
    # present when the census was taken (32): activations
    "relu", "gelu", "silu", "leaky_relu", "sigmoid", "tanh", "softmax", "log_softmax",
    # convolution, linear, pooling, resampling
    "conv1d", "conv2d", "conv_transpose2d", "linear", "max_pool2d", "avg_pool2d", "adaptive_avg_pool2d",
    "adaptive_max_pool2d", "interpolate", "pad", "pixel_shuffle",
    # dropout and normalisation
    "dropout", "dropout2d", "batch_norm", "layer_norm", "group_norm",
    # losses
    "cross_entropy", "nll_loss", "mse_loss", "l1_loss", "smooth_l1_loss", "binary_cross_entropy",
    "binary_cross_entropy_with_logits", "kl_div",
    # missing when the census was taken (10)
    "one_hot", "normalize", "cosine_similarity", "unfold", "fold", "grid_sample", "affine_grid", "embedding",
    "mish", "hardtanh",
]
# fmt: on

# Each list holds the names present when the issue's census was taken, then those it found missing; the
# "before" counts of docs/torch-compat.md are the present ones.
ISSUE_MISSING = {
    "Tensor": TENSOR_METHODS[75:],
    "torch": FUNCTIONS[56:],
    "nn": NN[45:],
    "nn.functional": FUNCTIONAL[32:],
}

# namespace -> (census list, title, how a test writes it)
NAMESPACES = {
    "Tensor": (TENSOR_METHODS, "Tensor methods (torch.Tensor)", "x.name"),
    "torch": (FUNCTIONS, "Functions and dtypes (torch)", "pc.name"),
    "nn": (NN, "Modules (torch.nn)", "nn.Name"),
    "nn.functional": (FUNCTIONAL, "Functional (torch.nn.functional)", "F.name"),
}

# ------------------------------------------------------------------------------------------------- left out
# What pycnn deliberately leaves out: reason -> name patterns (fnmatch, any namespace). A census name
# never matches one (tests/test_census.py checks).
LEFT_OUT = {
    "recurrent networks: pycnn is a library for convolutional networks": """
        RNN* LSTM* GRU* rnn_* lstm* gru* quantized_rnn_* CTCLoss ctc_loss""",
    "attention and transformers: outside a CNN library's scope": """
        Transformer* MultiheadAttention multi_head_attention_forward scaled_dot_product_attention""",
    "language-model layers: adaptive softmax and fused LM-head losses": """
        AdaptiveLogSoftmaxWithLoss LinearCrossEntropy* linear_cross_entropy EmbeddingBag embedding_bag
        embedding_renorm_""",
    "sparse layouts: CNN activations and weights are dense": """
        *sparse* to_dense coalesce is_coalesced indices values crow_indices col_indices ccol_indices row_indices
        *indices_copy values_copy smm spmm dsmm
        hsmm hspmm saddmm sspaddmm dense_dim""",
    "complex numbers: pycnn has no complex dtypes": """
        *complex* conj* is_conj resolve_conj resolve_neg is_neg real imag angle polar view_as_real* cfloat
        cdouble chalf sgn sgn_ adjoint H mH isreal vdot""",
    "quantization: pycnn trains and infers in floating point": """
        q_* qint* quint* *quantize* int_repr qscheme per_channel_* per_tensor_* fused_moving_avg_obs_fake_quant
        choose_qparams_optimized empty_quantized fbgemm_*""",
    "8-bit and sub-byte float/int dtypes: not CNN training types here": """
        float8_* float4_* int1 int2 int3 int4 int5 int6 int7 uint1 uint2 uint3 uint4 uint5 uint6 uint7 bits* bit
        scaled_mm scaled_grouped_mm""",
    "backend-specific kernels and internal entry points that user code does not call": """
        cudnn_* miopen_* mkldnn_* to_mkldnn is_mkldnn native_* batch_norm_* conv_tbc *_copy unsafe_*
        grid_sampler* affine_grid_generator *_with_indices grouped_mm""",
    "TorchScript, torch.compile, functorch and FX internals: pycnn runs eagerly": """
        Script* *Type Graph* Node Block Value Use Code Argument* FunctionSchema AliasDb CompilationUnit
        Complete* ConcreteModuleType* ErrorReport ExecutionPlan FileCheck Gradient IODescriptor JITException
        LiteScriptModule *Logger* parse_* import_ir_module* merge_type_from_type_comment unify_type_list fork
        wait Future Capsule CallStack DeepCopyMemoTable TracingState StaticModule compile cond while_loop vmap
        Sym* sym_* OperatorInfo InferredType PRIVATE_OPS Tag AggregationType AVG SUM BroadcastingList*
        boolean_dispatch *torch_function* DisableTorchFunction* classproperty Benchmark* ThroughputBenchmark
        Dispatch* ExcludeDispatchKeyGuard""",
    "legacy typed-tensor classes and storages: pycnn uses dtype= and .to()": """
        ?*Tensor *Storage storage storage_type untyped_storage set_default_tensor_type *StorageContext
        PyTorchFile* is_storage from_file reinforce volatile new""",
    "deprecated in torch itself (or kept there for Lua Torch)": """
        Container NLLLoss2d CrossMapLRN2d upsample_bilinear upsample_nearest""",
    "automatic mixed precision (autocast, GradScaler): not in pycnn": """
        *autocast* GradScaler""",
    "multi-process and multi-GPU training": """
        DataParallel is_distributed share_memory_ is_shared record_stream""",
    "devices other than the CPU and CUDA": """
        ipu xpu mtia is_ipu is_xpu is_mps is_maia is_mtia is_vulkan* is_xla is_meta get_device_module AcceleratorError""",
    "nested and jagged tensors": """
        is_nested to_padded_tensor jagged""",
    "dense linear algebra beyond products (LAPACK decompositions and solvers)": """
        cholesky* svd* qr lu lu_* eig symeig det logdet slogdet inverse pinverse solve lstsq triangular_solve
        geqrf orgqr ormqr matrix_exp matrix_rank lobpcg pca_lowrank nuclear_norm frobenius_norm has_lapack""",
    "signal processing: spectral transforms and windows": """
        stft istft *_window has_spectral""",
    "lazy modules: pycnn layers take their sizes up front": """
        Lazy* UninitializedParameter UninitializedBuffer""",
    "build and runtime internals of torch itself": """
        compiled_with_cxx11_abi has_mkl has_openmp USE_* TYPE_CHECKING get_file_path
        prepare_multiprocessing_environment profiler_* init_num_threads typename OutOfMemoryError FatalError
        *_notes factory_kwargs module_load Callable Optional DType ScalingType SwizzleType assert_int_or_pair
        thread_safe_generator hash_tensor""",
}

# -------------------------------------------------------------------------------------------------- helpers


def left_out_reason(name):
    """Why pycnn leaves `name` out, or None when it does not."""
    for reason, patterns in LEFT_OUT.items():
        if any(fnmatch.fnmatchcase(name, p) for p in patterns.split()):
            return reason
    return None


def pycnn_namespace(namespace):
    """The pycnn object holding a namespace's names."""
    import pycnn
    import pycnn.nn.functional

    return {"Tensor": pycnn.Tensor, "torch": pycnn, "nn": pycnn.nn, "nn.functional": pycnn.nn.functional}[namespace]


def missing_from_pycnn(namespace):
    """The census names of a namespace that pycnn does not have."""
    obj = pycnn_namespace(namespace)
    return [n for n in NAMESPACES[namespace][0] if not hasattr(obj, n)]


def torch_names(namespace):
    """torch's public names in a namespace: no private names, no submodules, no names re-exported there from
    typing (Callable, Optional in torch.nn.functional), nor torch.Tensor re-exported outside torch."""
    import torch
    import torch.nn.functional

    obj = {"Tensor": torch.Tensor, "torch": torch, "nn": torch.nn, "nn.functional": torch.nn.functional}[namespace]
    names = []
    for name in dir(obj):
        value = getattr(obj, name, None)
        if name.startswith("_") or isinstance(value, types.ModuleType):
            continue
        if namespace != "torch" and value is torch.Tensor:
            continue
        names.append(name)
    return sorted(names)


# ------------------------------------------------------------------------------------------------ generator


def _names_block(label, names):
    text = ", ".join(f"`{n}`" for n in names) if names else "none"
    return textwrap.fill(f"**{label} ({len(names)}):** {text}", width=120, break_long_words=False) + "\n"


def _classify(namespace):
    """torch's names of a namespace split into in pycnn / left out (by reason) / not yet (census, other)."""
    obj = pycnn_namespace(namespace)
    census = set(NAMESPACES[namespace][0])
    have, left, census_todo, other_todo = [], {}, [], []
    for name in torch_names(namespace):
        reason = left_out_reason(name)
        if hasattr(obj, name):
            have.append(name)
        elif reason is not None and name not in census:
            left.setdefault(reason, []).append(name)
        elif name in census:
            census_todo.append(name)
        else:
            other_todo.append(name)
    return have, left, census_todo, other_todo


def torch_version():
    """The installed torch's version without its local part (2.13.0, not 2.13.0+cpu)."""
    import torch

    return torch.__version__.split("+")[0]


def render():
    """The text of docs/torch-compat.md."""
    classes = {ns: _classify(ns) for ns in NAMESPACES}
    out = [
        "# pycnn and torch: which public names pycnn has\n\n",
        f"Generated by `python tools/torch_compat.py --write docs/torch-compat.md` with torch {torch_version()};\n",
        "do not edit by hand (`tests/test_census.py` checks that it is up to date).\n\n",
        "Every public name of each torch namespace (no private names, no submodules) is in pycnn, deliberately\n",
        "left out (the reasons are `LEFT_OUT` in tools/torch_compat.py), or not yet there. The census is the\n",
        "issue-14 list of names everyday CNN code uses (`TENSOR_METHODS`, `FUNCTIONS`, `NN`, `FUNCTIONAL`).\n\n",
        "| namespace | census before (issue 14) | census now | torch names | in pycnn | left out | not yet |\n",
        "|---|---|---|---|---|---|---|\n",
    ]
    for ns, (census, title, _) in NAMESPACES.items():
        have, left, census_todo, other_todo = classes[ns]
        before = len(census) - len(ISSUE_MISSING[ns])
        now = len(census) - len(missing_from_pycnn(ns))
        n_left = sum(len(v) for v in left.values())
        total = len(have) + n_left + len(census_todo) + len(other_todo)
        out.append(
            f"| {title} | {before}/{len(census)} | {now}/{len(census)} | {total} | {len(have)} | {n_left} "
            f"| {len(census_todo) + len(other_todo)} |\n"
        )
    for ns, (_, title, _) in NAMESPACES.items():
        have, left, census_todo, other_todo = classes[ns]
        out.append(f"\n## {title}\n\n")
        out.append(_names_block("Not yet, census names", census_todo) + "\n")
        out.append(_names_block("In pycnn", have) + "\n")
        out.append(_names_block("Not yet, other names", other_todo) + "\n")
        out.append(f"**Left out ({sum(len(v) for v in left.values())}):**\n\n")
        for reason in sorted(left):
            out.append(textwrap.fill(f"- {reason}: " + ", ".join(f"`{n}`" for n in left[reason]), width=120))
            out.append("\n")
    return "".join(out)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--write", metavar="PATH", help="write the compatibility table there")
    group.add_argument("--check", metavar="PATH", help="exit 1 when the file there is not what --write writes")
    args = parser.parse_args(argv)
    text = render()
    if args.write:
        with open(args.write, "w", encoding="utf-8") as f:
            f.write(text)
        return 0
    with open(args.check, encoding="utf-8") as f:
        if f.read() != text:
            print(f"{args.check} is out of date: run python tools/torch_compat.py --write {args.check}")
            return 1
    return 0


if __name__ == "__main__":
    # A checkout with its compiled core copied in describes its own pycnn, as `python -m` from the root would.
    ROOT = Path(__file__).resolve().parents[1]
    if any((ROOT / "pycnn").glob("_C.*")):
        sys.path.insert(0, str(ROOT))
    sys.exit(main())
