"""Full training checkpoints in one safetensors file: everything needed to resume a run bit for bit.

Tensors go in as safetensors entries: the model's state dict as 'model.<name>', the optimizer's state as
'optimizer.state.<index>.<key>' and any array found in scheduler/callback/extra state under its path.
Everything else is one JSON document in the `__metadata__` entry: optimizer param_groups and non-tensor
state (like 'step'), scheduler.state_dict(), RNG states (default_generator() and the train loader's
shuffle), epoch, global_step, history, each callback's state_dict() and the pycnn version. Read
save_checkpoint / load_checkpoint first; _pack / _unpack are the JSON encoding (tuples, Counters and
non-str dict keys survive the round trip, floats are exact).
"""

import json
from collections import Counter

import numpy as np

from .._convert import is_int
from ..nn import Module
from ..random import default_generator
from ..serialization import _clip, load, load_metadata, os_error, path_arg, save
from ..tensor import Tensor
from ..version import __version__

__all__ = ["checkpoint_state", "load_checkpoint", "save_checkpoint"]

FORMAT = "pycnn.checkpoint"
FORMAT_VERSION = 1

# Tags of the JSON encoding. A dict whose keys are all str and none of them is a tag stays a plain object.
_TENSOR, _TUPLE, _SET, _ITEMS, _COUNTER = "__tensor__", "__tuple__", "__set__", "__items__", "__counter__"
_TAGS = {_TENSOR, _TUPLE, _SET, _ITEMS, _COUNTER}


# ---------------------------------------------------------------------------------------- encoding


def _pack(value, name, tensors):
    """JSON-able form of `value`; Tensors/arrays move into `tensors` under `name` (their dotted path)."""
    if isinstance(value, (Tensor, np.ndarray)):
        if name in tensors:
            raise ValueError(f"[save_checkpoint] two tensors map to the same entry name {name!r}")
        tensors[name] = value.detach() if isinstance(value, Tensor) else value
        return {_TENSOR: name}
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, np.generic):  # numpy scalars: np.float32(0.5) -> 0.5 exactly (as float64)
        return value.item()
    if isinstance(value, tuple):
        return {_TUPLE: [_pack(v, f"{name}.{i}", tensors) for i, v in enumerate(value)]}
    if isinstance(value, list):
        return [_pack(v, f"{name}.{i}", tensors) for i, v in enumerate(value)]
    if isinstance(value, (set, frozenset)):
        return {_SET: [_pack(v, f"{name}.{i}", tensors) for i, v in enumerate(sorted(value, key=repr))]}
    if isinstance(value, dict):
        items = [
            [_pack(k, f"{name}.key{i}", tensors), _pack(v, f"{name}.{k}", tensors)]
            for i, (k, v) in enumerate(value.items())
        ]
        if isinstance(value, Counter):
            return {_COUNTER: items}
        if all(isinstance(k, str) for k in value) and not _TAGS.intersection(value):
            return {k: v for (k, _), (_, v) in zip(value.items(), items)}
        return {_ITEMS: items}  # int keys (optimizer state indices) must come back as ints
    raise TypeError(
        f"[save_checkpoint] cannot store {name!r} of type {type(value).__name__}: checkpoint "
        "state must be made of None/bool/int/float/str, lists, tuples, dicts, sets, numpy "
        "arrays and pycnn Tensors"
    )


def _unpack(value, tensors):
    """Inverse of _pack: tagged objects become tuples/sets/Counters/int-keyed dicts, refs become Tensors.
    A document no _pack wrote raises ValueError or TypeError (an unhashable key)."""
    if isinstance(value, list):
        return [_unpack(v, tensors) for v in value]
    if not isinstance(value, dict):
        return value
    if len(value) == 1:
        ((tag, body),) = value.items()
        if tag == _TENSOR:
            if not isinstance(body, str) or body not in tensors:
                raise ValueError(f"a reference to the tensor {body!r}, which the file does not hold")
            return tensors[body]
        if tag in _TAGS and not isinstance(body, list):
            raise ValueError(f"{tag} holds a {type(body).__name__}, not a list")
        if tag in (_ITEMS, _COUNTER) and not all(isinstance(kv, list) and len(kv) == 2 for kv in body):
            raise ValueError(f"{tag} holds items that are not [key, value] pairs")
        if tag == _TUPLE:
            return tuple(_unpack(v, tensors) for v in body)
        if tag == _SET:
            return {_unpack(v, tensors) for v in body}
        if tag == _ITEMS:
            return {_hashable(_unpack(k, tensors)): _unpack(v, tensors) for k, v in body}
        if tag == _COUNTER:
            return Counter({_hashable(_unpack(k, tensors)): _unpack(v, tensors) for k, v in body})
    return {k: _unpack(v, tensors) for k, v in value.items()}


def _hashable(key):
    return tuple(key) if isinstance(key, list) else key


# ---------------------------------------------------------------------------------------- RNG state


def _loader_rng_state(loader):
    """The train loader's shuffle state: DataLoader.state_dict() when it has one, else its generator's
    (a loader with neither, e.g. a plain list of batches, has no randomness to save)."""
    if loader is None:
        return None
    if callable(getattr(loader, "state_dict", None)):
        return {"kind": "state_dict", "state": loader.state_dict()}
    generator = getattr(loader, "generator", None)
    if generator is not None and callable(getattr(generator, "get_state", None)):
        return {"kind": "generator", "state": generator.get_state()}
    return None


def _restore_loader_rng_state(loader, saved):
    if loader is None or saved is None:
        return
    if saved["kind"] == "state_dict" and callable(getattr(loader, "load_state_dict", None)):
        loader.load_state_dict(saved["state"])
    elif saved["kind"] == "generator" and getattr(loader, "generator", None) is not None:
        loader.generator.set_state(saved["state"])
    else:
        raise RuntimeError(
            f"[load_checkpoint] the checkpoint holds the train loader's shuffle state as "
            f"{saved['kind']!r}, but this loader ({type(loader).__name__}) cannot take it: "
            "build it the same way as the saved run (e.g. with generator=Generator())"
        )


def restore_rng_state(checkpoint, train_loader=None):
    """Put default_generator() (and the train loader's shuffle) back where the checkpoint was taken."""
    rng = checkpoint.get("rng") or {}
    if rng.get("default_generator") is not None:
        default_generator().set_state(rng["default_generator"])
    _restore_loader_rng_state(train_loader, rng.get("train_loader"))


# ---------------------------------------------------------------------------------------- save


def _check_objects(op, model, optimizer, scheduler, trainer):
    """The objects a checkpoint is saved from or restored into: a Module and objects with state dicts."""
    if model is not None and not isinstance(model, Module):
        raise TypeError(f"[{op}] expected model to be a pycnn.nn.Module, got {type(model).__name__}")
    for name, value in (("optimizer", optimizer), ("scheduler", scheduler)):
        if value is not None and not callable(getattr(value, "state_dict", None)):
            raise TypeError(f"[{op}] expected {name} to have a state_dict() (or be None), got {type(value).__name__}")
    if trainer is not None and not hasattr(trainer, "callbacks"):
        raise TypeError(f"[{op}] expected trainer to be a pycnn.train.Trainer, got {type(trainer).__name__}")


def checkpoint_state(model, optimizer=None, scheduler=None, epoch=None, extra=None, trainer=None):
    """Build the (tensors, metadata) pair save_checkpoint writes, without writing it.

    ModelCheckpoint uses it to serialise once and write the same content to several files.
    Returns:
        (dict name -> Tensor/array, dict str -> str) ready for save(tensors, path, metadata).
    """
    return _checkpoint_state(model, optimizer, scheduler, epoch, extra, trainer, "checkpoint_state")


def _checkpoint_state(model, optimizer, scheduler, epoch, extra, trainer, op):
    _check_objects(op, model, optimizer, scheduler, trainer)
    if epoch is not None and not is_int(epoch):
        raise TypeError(f"[{op}] expected epoch to be an int or None, got {epoch!r}")
    if trainer is not None:
        model = model if model is not None else trainer.model
        optimizer = optimizer if optimizer is not None else trainer.optimizer
        scheduler = scheduler if scheduler is not None else trainer.scheduler
        epoch = epoch if epoch is not None else trainer.epoch
    if model is None:
        raise ValueError(f"[{op}] needs a model (or a trainer holding one)")
    if epoch is not None:
        epoch = int(epoch)

    tensors = {}
    for name, value in model.state_dict().items():
        tensors["model." + name] = value
    doc = {"epoch": epoch, "pycnn_version": __version__}
    if optimizer is not None:
        doc["optimizer"] = _pack(optimizer.state_dict(), "optimizer", tensors)
    if scheduler is not None:
        doc["scheduler"] = _pack(scheduler.state_dict(), "scheduler", tensors)
    rng = {"default_generator": default_generator().get_state()}
    if trainer is not None:
        doc["global_step"] = trainer.global_step
        doc["history"] = _pack([dict(logs) for logs in trainer.history], "history", tensors)
        doc["callbacks"] = [
            {"class": type(cb).__name__, "state": _pack(cb.state_dict(), f"callbacks.{i}", tensors)}
            for i, cb in enumerate(trainer.callbacks)
        ]
        rng["train_loader"] = _loader_rng_state(trainer.train_loader)
    doc["rng"] = _pack(rng, "rng", tensors)
    if extra is not None:
        doc["extra"] = _pack(extra, "extra", tensors)
    metadata = {
        "format": FORMAT,
        "format_version": str(FORMAT_VERSION),
        "pycnn_version": __version__,
        "checkpoint": json.dumps(doc),
    }
    return tensors, metadata


def save_checkpoint(path, model, optimizer=None, scheduler=None, epoch=None, extra=None, trainer=None):
    """Write a full checkpoint to `path` (one safetensors file), atomically.

    Args:
        path (str or os.PathLike): destination, conventionally *.safetensors. A crash during the write
            leaves any previous file at `path` intact (save writes a temporary file and renames it).
        model (nn.Module): its state_dict() (parameters and buffers) is stored as 'model.<name>'.
        optimizer (Optimizer, optional): state tensors as 'optimizer.state.<index>.<key>', the rest (param
            groups, step counts) in the JSON metadata.
        scheduler (optional): its state_dict(), in the JSON metadata.
        epoch (int, optional): the last completed epoch (1-based).
        extra (dict, optional): anything else made of JSON values, arrays and Tensors.
        trainer (Trainer, optional): fills model/optimizer/scheduler/epoch when they are None and adds
            global_step, history, every callback's state_dict() and the train loader's shuffle state.
    default_generator()'s state is always stored, so dropout and data order continue identically.
    """
    path = path_arg(path, "save_checkpoint")
    tensors, metadata = _checkpoint_state(model, optimizer, scheduler, epoch, extra, trainer, "save_checkpoint")
    try:
        save(tensors, path, metadata=metadata)
    except OSError as exc:
        raise os_error(exc, "save_checkpoint", f"cannot write {path!r}") from exc


# ---------------------------------------------------------------------------------------- load


# Type of each entry of the document (absent entries read as None, or [] for the lists).
_DOC_TYPES = {
    "epoch": (int, type(None)),
    "global_step": (int, type(None)),
    "history": (list,),
    "callbacks": (list,),
    "rng": (dict,),
    "optimizer": (dict, type(None)),
    "scheduler": (dict, type(None)),
    "pycnn_version": (str, type(None)),
}


def _corrupt(path, why):
    return ValueError(f"[load_checkpoint] {path!r} is a damaged pycnn checkpoint: {_clip(why)}")


def _decode(path, text, tensors):
    """The checkpoint document in `text` (JSON), its tensor references resolved, its entries type-checked."""
    try:
        doc = _unpack(json.loads(text), tensors)
    except RecursionError:  # json and _unpack recurse per level: a deep document is hostile
        raise _corrupt(path, "the checkpoint document nests too deeply") from None
    except (ValueError, TypeError) as exc:  # JSONDecodeError is a ValueError
        raise _corrupt(path, f"the checkpoint document is invalid ({exc})") from None
    if not isinstance(doc, dict):
        raise _corrupt(path, f"the checkpoint document is a {type(doc).__name__}, not an object")
    for key, types in _DOC_TYPES.items():
        value = doc.get(key)
        if value is not None and (not isinstance(value, types) or isinstance(value, bool)):
            raise _corrupt(path, f"{key!r} is a {type(value).__name__}")
    for entry in doc.get("callbacks") or []:
        if not (isinstance(entry, dict) and isinstance(entry.get("class"), str) and "state" in entry):
            raise _corrupt(path, f"a callbacks entry is {entry!r:.80}, not {{'class': name, 'state': ...}}")
    if not all(isinstance(logs, dict) for logs in doc.get("history") or []):
        raise _corrupt(path, "'history' holds something other than dicts of logs")
    return doc


def _strip(tensors, prefix):
    return {name[len(prefix) :]: t for name, t in tensors.items() if name.startswith(prefix)}


def load_checkpoint(path, model=None, optimizer=None, scheduler=None, trainer=None, map_location=None):
    """Read a checkpoint written by save_checkpoint and restore whichever objects are given.

    Args:
        path (str or os.PathLike): the file.
        model, optimizer, scheduler (optional): restored in place (model strictly: every key must match).
        trainer (Trainer, optional): restores its model/optimizer/scheduler (when not given separately),
            epoch, global_step, history, callback states and the RNG states, ready to continue training.
            (Trainer(resume=path) does this itself, in the right order around on_fit_begin.)
        map_location (str, optional): device for the loaded tensors (default: where the model is, else CPU).
    Returns:
        dict with 'epoch', 'global_step', 'history' (list of log dicts), 'model' (name -> Tensor),
        'optimizer' and 'scheduler' (state dicts or None), 'callbacks' (list of {'class', 'state'}),
        'rng', 'extra' and 'pycnn_version'.
    Raises:
        ValueError naming the file when it is not a pycnn checkpoint (e.g. a bare state dict saved with
        save), or a damaged one (load's errors for the safetensors layer). OSError if it cannot be read.
    """
    path = path_arg(path, "load_checkpoint")
    _check_objects("load_checkpoint", model, optimizer, scheduler, trainer)
    try:
        metadata = load_metadata(path)
    except OSError as exc:
        raise os_error(exc, "load_checkpoint", f"cannot read {path!r}") from exc
    if metadata.get("format") != FORMAT or "checkpoint" not in metadata:
        raise ValueError(
            f"[load_checkpoint] {path!r} is not a pycnn checkpoint (no '{FORMAT}' metadata); "
            "a plain state dict saved with save loads with model.load_state_dict(load(path))"
        )
    version = metadata.get("format_version", "0")
    if not (version.isascii() and version.isdigit() and len(version) < 10):
        raise _corrupt(path, f"format_version {version[:40]!r} is not a number")
    if int(version) > FORMAT_VERSION:
        raise ValueError(
            f"[load_checkpoint] {path!r} has checkpoint format version "
            f"{version}, newer than this pycnn reads ({FORMAT_VERSION})"
        )
    if trainer is not None:
        model = model if model is not None else trainer.model
        optimizer = optimizer if optimizer is not None else trainer.optimizer
        scheduler = scheduler if scheduler is not None else trainer.scheduler
    if map_location is None and model is not None:
        first = next(iter(model.parameters()), None)
        map_location = str(first.device) if first is not None else None
    tensors = load(path, device=map_location or "cpu")
    doc = _decode(path, metadata["checkpoint"], tensors)

    checkpoint = {
        "epoch": doc.get("epoch"),
        "global_step": doc.get("global_step"),
        "history": doc.get("history") or [],
        "model": _strip(tensors, "model."),
        "optimizer": doc.get("optimizer"),
        "scheduler": doc.get("scheduler"),
        "callbacks": doc.get("callbacks") or [],
        "rng": doc.get("rng") or {},
        "extra": doc.get("extra"),
        "pycnn_version": doc.get("pycnn_version"),
    }
    if model is not None:
        model.load_state_dict(checkpoint["model"])
    if optimizer is not None:
        if checkpoint["optimizer"] is None:
            raise ValueError(f"[load_checkpoint] {path!r} holds no optimizer state to restore")
        optimizer.load_state_dict(checkpoint["optimizer"])
    if scheduler is not None:
        if checkpoint["scheduler"] is None:
            raise ValueError(f"[load_checkpoint] {path!r} holds no scheduler state to restore")
        scheduler.load_state_dict(checkpoint["scheduler"])
    if trainer is not None:
        trainer._restore_progress(checkpoint)
        restore_callback_states(trainer.callbacks, checkpoint["callbacks"])
        restore_rng_state(checkpoint, trainer.train_loader)
    return checkpoint


def restore_callback_states(callbacks, saved):
    """Give each callback the state saved for the callback of the same class and the same rank among its
    class (the 2nd EarlyStopping gets the 2nd saved EarlyStopping state), so adding or removing, say, a
    logger between runs doesn't shift the others."""
    by_class = {}
    for entry in saved:
        by_class.setdefault(entry["class"], []).append(entry["state"])
    seen = {}
    for cb in callbacks:
        name = type(cb).__name__
        rank = seen.get(name, 0)
        seen[name] = rank + 1
        states = by_class.get(name, [])
        if rank < len(states):
            cb.load_state_dict(states[rank])
