"""Data-parallel training under mpirun (2 ranks): `pycnn train --distributed` and fit / Trainer in a process group.

The CLI runs train LeNet-5 for 2 epochs on 800 digits of the bundled MNIST subset (written as IDX files,
so `--dataset mnist` reads them) and test on its 1,000 test digits. A run on 2 ranks with batch 16 per
rank sees the same global batches as a run on 1 rank with batch 32 (DistributedSampler's permutation
does not depend on the number of ranks), so their logs and final accuracy agree.
"""

import csv
import json
import re
import textwrap

import pytest
from test_datasets_real import write_idx

import pycnn.distributed as dist
from pycnn import cli
from pycnn.datasets.mnist import load_mnist_subset_arrays

from helpers import mpirun

EPOCHS = 2


@pytest.fixture(scope="module")
def digits(tmp_path_factory):
    """MNIST IDX files: every 5th training digit of the subset (800) and all its 1,000 test digits."""
    root = tmp_path_factory.mktemp("digits")
    arrays = load_mnist_subset_arrays()
    for prefix, idx in (("train", arrays["train_idx"][::5]), ("t10k", arrays["test_idx"])):
        write_idx(root / f"{prefix}-images-idx3-ubyte", arrays["images"][idx])
        write_idx(root / f"{prefix}-labels-idx1-ubyte", arrays["labels"][idx])
    return root


def train_cli(ranks, batch, out, digits, *extra):
    args = ["-m", "pycnn", "train", "--distributed", "--dataset", "mnist", "--data-root", digits]
    args += ["--epochs", EPOCHS, "--batch-size", batch, "--out", out, *extra]
    done = mpirun(args, n=ranks)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done


def rows(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def accuracy(stdout):
    (value,) = re.findall(r"final test accuracy\s+([0-9.]+)%", stdout)
    return float(value)


@pytest.fixture(scope="module")
def two_ranks(digits, tmp_path_factory):
    out = tmp_path_factory.mktemp("two_ranks")
    return train_cli(2, 16, out, digits), out


def test_cli_two_ranks_print_once_and_write_one_set_of_files(two_ranks):
    done, out = two_ranks
    lines = done.stdout.splitlines()
    assert sum("lenet5 on mnist" in line and "2 ranks x batch 16" in line for line in lines) == 1
    for epoch in range(1, EPOCHS + 1):
        assert sum(line.startswith(f"epoch {epoch}/{EPOCHS} ") for line in lines) == 1
        assert done.stderr.count(f"epoch {epoch}/{EPOCHS}:   0%") == 1  # one progress bar per epoch
    assert sum("final test accuracy" in line for line in lines) == 1
    checkpoints = sorted(p.name for p in out.glob("*.safetensors"))
    assert checkpoints == ["best.safetensors", "epoch001.safetensors", "epoch002.safetensors", "last.safetensors"]
    assert [r["epoch"] for r in rows(out / "log.csv")] == ["1", "2"]  # one writer: no repeated rows
    assert len((out / "log.jsonl").read_text().splitlines()) == EPOCHS
    assert json.loads((out / "run.json").read_text())["args"]["distributed"] is True


def test_cli_two_ranks_match_one_rank_with_twice_the_batch(two_ranks, digits, tmp_path):
    done, out = two_ranks
    single = train_cli(1, 32, tmp_path, digits)
    assert abs(accuracy(done.stdout) - accuracy(single.stdout)) <= 0.1
    # the summed metrics of the 2 ranks are the single run's (the weights differ by rounding only)
    for two, one in zip(rows(out / "log.csv"), rows(tmp_path / "log.csv"), strict=True):
        for key in ("train_loss", "train_acc", "val_loss", "val_acc", "lr"):
            assert float(two[key]) == pytest.approx(float(one[key]), rel=1e-5, abs=1e-7), key


def test_cli_resume_on_two_ranks_continues_the_run(two_ranks, digits, tmp_path):
    done, out = two_ranks
    resumed = train_cli(2, 16, tmp_path, digits, "--resume", out / "epoch001.safetensors")
    (row,) = rows(tmp_path / "log.csv")  # only the epoch the resumed run trained
    full = rows(out / "log.csv")[1]
    assert row["epoch"] == "2"
    for key in ("train_loss", "train_acc", "val_loss", "val_acc", "lr"):
        assert float(row[key]) == pytest.approx(float(full[key]), rel=1e-9), key
    assert accuracy(resumed.stdout) == accuracy(done.stdout)


FIT_SCRIPT = """
import json
import numpy as np
import pycnn as pc
import pycnn.distributed as dist
from pycnn.data import DataLoader, DistributedSampler, TensorDataset
from pycnn.train import Callback, EarlyStopping, Trainer, evaluate, fit

dist.init_process_group()
rank = dist.get_rank()
rng = np.random.default_rng(0)
x = rng.standard_normal((90, 1, 8, 8)).astype(np.float32)
y = (x[:, 0, :4].sum(axis=(1, 2)) > 0).astype(np.int64) + 2 * (x[:, 0, 4:].sum(axis=(1, 2)) > 0)
data = TensorDataset(pc.tensor(x), pc.tensor(y))
val = TensorDataset(pc.tensor(x[:45]), pc.tensor(y[:45]))  # 45: does not split evenly over 2 ranks


def setup():
    pc.manual_seed(rank)  # different initial weights: DDP must copy rank 0's
    model = pc.nn.Sequential(pc.nn.Flatten(), pc.nn.Linear(64, 16), pc.nn.ReLU(), pc.nn.Linear(16, 4))
    train = DataLoader(data, batch_size=8, sampler=DistributedSampler(data, seed=3))
    return model, pc.optim.SGD(model.parameters(), lr=0.1, momentum=0.9), train


def weights(model):
    return [float(np.abs(p.detach().numpy()).sum()) for p in model.parameters()]


class RankOneSays(Callback):
    def __init__(self, what):
        self.what = what

    def on_after_backward(self, trainer):
        if rank == 1 and self.what == "skip" and trainer.batch_index == 0:
            trainer.skip_step = True

    def on_batch_end(self, trainer):
        if rank == 1 and self.what == "stop" and trainer.epoch == 2 and trainer.batch_index == 1:
            trainer.stop_training, trainer.stop_reason = True, "rank 1 asked"


class Counter(Callback):
    rank_zero_only = True
    calls = 0

    def on_batch_end(self, trainer):
        self.calls += 1


result = {}
loss = pc.nn.CrossEntropyLoss()
sharded_val = DataLoader(val, batch_size=10, sampler=DistributedSampler(val, shuffle=False, pad=False))
whole_val = DataLoader(val, batch_size=10)

model, opt, train = setup()
counter = Counter()
history = fit(model, train, sharded_val, loss, opt, epochs=3, callbacks=[counter])
local = evaluate(model, whole_val, loss, num_classes=4)  # this rank alone, on every sample
reduced = evaluate(model, sharded_val, loss, num_classes=4)  # every rank's shard, summed
result["metrics"] = {
    "logged": [history[-1]["val_loss"], history[-1]["val_acc"]],
    "local": [local["loss"], local["accuracy"], local["num_samples"]],
    "reduced": [reduced["loss"], reduced["accuracy"], reduced["num_samples"]],
    "confusion_equal": bool((local["confusion_matrix"] == reduced["confusion_matrix"]).all()),
    "history": [dict(h) for h in history],
    "weights": weights(model),
    "counter": counter.calls,
}

model, opt, train = setup()
stopper = EarlyStopping(monitor="val_loss", min_delta=1e9, patience=1, verbose=False)
history = fit(model, train, sharded_val, loss, opt, epochs=5, callbacks=[stopper])
result["early"] = [len(history), stopper.stopped_epoch]

model, opt, train = setup()
trainer = Trainer(model, train, None, loss, opt, epochs=3, callbacks=[RankOneSays("stop")])
trainer.fit()
result["stop"] = [trainer.epoch, trainer.global_step, trainer.stop_reason, len(trainer.history)]

model, opt, train = setup()
trainer = Trainer(model, train, None, loss, opt, epochs=1, callbacks=[RankOneSays("skip")])
trainer.fit()
result["skip"] = [trainer.global_step, weights(model)]

model, opt, _ = setup()
try:
    fit(model, DataLoader(data, batch_size=8, shuffle=True), None, loss, opt, epochs=1)
except ValueError as e:
    result["unsharded"] = str(e)
print("RESULT", rank, json.dumps(result), flush=True)
"""


def test_fit_on_two_ranks(tmp_path):
    script = tmp_path / "fit_two_ranks.py"
    script.write_text(textwrap.dedent(FIT_SCRIPT))
    done = mpirun([script])
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    results = {}
    for line in done.stdout.splitlines():
        if line.startswith("RESULT "):
            _, rank, payload = line.split(" ", 2)
            results[int(rank)] = json.loads(payload)
    zero, one = results[0], results[1]

    # the replicas stay equal, and so do the logs (times included: the slowest rank's)
    assert zero["metrics"]["weights"] == one["metrics"]["weights"]
    assert zero["metrics"]["history"] == one["metrics"]["history"]
    # the logged validation metrics summed over the shards are those of the whole set, exactly counted
    for r in (zero, one):
        m = r["metrics"]
        assert m["reduced"][2] == m["local"][2] == 45
        assert m["reduced"][:2] == pytest.approx(m["local"][:2], rel=1e-6)
        assert m["logged"] == pytest.approx(m["local"][:2], rel=1e-6)
        assert m["confusion_equal"]
    assert 0 < zero["metrics"]["history"][-1]["train_acc"] <= 1
    assert zero["metrics"]["counter"] == 3 * 6 and one["metrics"]["counter"] == 0  # rank_zero_only

    assert zero["early"] == one["early"] == [2, 2]
    # rank 1's stop request stops rank 0 at the same batch, with rank 1's reason
    assert zero["stop"] == one["stop"] == [1, 6 + 2, "rank 1 asked", 1]
    # rank 1's skip_step skips the step on both ranks: the weights stay the same
    assert zero["skip"][0] == one["skip"][0] == 5
    assert zero["skip"][1] == one["skip"][1]
    for r in (zero, one):
        assert r["unsharded"].startswith("[fit] distributed training (2 ranks)")
        assert "DistributedSampler" in r["unsharded"]


def test_distributed_flag_without_mpi_is_a_clear_error(monkeypatch, capsys):
    monkeypatch.setattr(dist, "is_available", lambda: False)
    assert cli.main(["train", "--distributed", "--epochs", "1"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("pycnn train: error: --distributed needs mpi4py")
    assert "mpirun -n N pycnn train --distributed" in err
