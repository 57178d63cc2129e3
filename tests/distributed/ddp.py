"""Run under mpirun: DistributedDataParallel scenarios.

equivalence DTYPE OUT   LeNet-5, 20 SGD steps with batch 32 per rank; writes OUT/ddp-DTYPE-RANK.npz with
                        the parameters after every step (test_distributed.py compares them with one process)
behaviours              construction broadcast, a model that differs, no_sync, a parameter one rank skips
overlap OUT             a backward long enough to overlap; writes OUT/timeline-RANK.json
"""

import copy
import json
import sys

import numpy as np

import pycnn as pc
import pycnn.distributed as dist
from pycnn.nn.parallel import DistributedDataParallel as DDP

STEPS, HALF = 20, 32


def lenet_data(dtype):
    rng = np.random.default_rng(7)
    x = rng.standard_normal((STEPS * 2 * HALF, 1, 28, 28)).astype(dtype)
    return x, rng.integers(0, 10, STEPS * 2 * HALF)


def lenet(dtype, seed):
    pc.manual_seed(seed)
    model = pc.models.lenet5()
    return model.double() if dtype == "float64" else model


def train_lenet(dtype, halves, rank_model=None, snapshot=None):
    """The 20 steps; halves(k) lists the (start, stop) sample ranges whose losses backward accumulates at step
    k. The gradients are divided by the number of ranges unless the model is a DDP (which averages)."""
    x, y = lenet_data(dtype)
    net = rank_model
    opt = pc.optim.SGD(net.parameters(), lr=0.05, momentum=0.9)
    loss_fn = pc.nn.CrossEntropyLoss()
    for k in range(STEPS):
        opt.zero_grad()
        for lo, hi in halves(k):
            loss_fn(net(pc.tensor(x[lo:hi])), pc.tensor(y[lo:hi])).backward()
        if not isinstance(net, DDP) and len(halves(k)) > 1:
            with pc.no_grad():
                for p in net.parameters():
                    p.grad.div_(float(len(halves(k))))
        opt.step()
        snapshot(k, net.module if isinstance(net, DDP) else net)


def equivalence(dtype, out):
    dist.init_process_group(timeout=120)
    rank = dist.get_rank()
    net = DDP(lenet(dtype, seed=rank))  # rank 1's own initialisation is replaced by rank 0's
    snaps = {}
    snapshot = lambda k, m: snaps.update({f"{k}:{n}": p.detach().numpy().copy() for n, p in m.named_parameters()})
    train_lenet(dtype, lambda k: [(2 * k * HALF + rank * HALF, 2 * k * HALF + (rank + 1) * HALF)], net, snapshot)
    np.savez(f"{out}/ddp-{dtype}-{rank}.npz", **snaps)


def gathered(t):
    parts = [pc.zeros_like(t) for _ in range(dist.get_world_size())]
    dist.all_gather(parts, t.detach().contiguous())
    return [p.numpy() for p in parts]


def behaviours():
    dist.init_process_group(timeout=120)
    rank, size = dist.get_rank(), dist.get_world_size()
    # construction: rank 0's parameters and buffers everywhere
    pc.manual_seed(100 + rank)
    model = pc.nn.Sequential(
        pc.nn.Conv2d(3, 4, 3), pc.nn.BatchNorm2d(4), pc.nn.ReLU(), pc.nn.Flatten(), pc.nn.Linear(144, 5)
    )
    with pc.no_grad():
        model[1].running_mean.copy_(pc.randn(4))
    net = DDP(model, bucket_cap_mb=0.0005)  # several buckets
    for name, t in list(model.named_parameters()) + list(model.named_buffers()):
        values = gathered(t)
        assert all(np.array_equal(v, values[0]) for v in values), f"{name} differs between ranks"
    # a different model on one rank is refused on every rank, naming it
    other = pc.nn.Linear(4, 3 if rank == 0 else 2)
    try:
        DDP(other)
        raise AssertionError("a model that differs was accepted")
    except ValueError as e:
        assert "rank 1's model differs from rank 0's" in str(e) and "(2, 4)" in str(e), e
    # no_sync: local sums, then the synced backward averages everything accumulated
    rng = np.random.default_rng(5)
    xs = [[rng.standard_normal((3, 3, 8, 8)).astype(np.float32) for _ in range(3)] for _ in range(size)]
    reference = copy.deepcopy(model)
    net.zero_grad()
    with net.no_sync():
        net(pc.tensor(xs[rank][0])).square().mean().backward()
        local = gathered(model[4].weight.grad)
        assert not np.allclose(local[0], local[1]), "no_sync averaged the gradients"
        net(pc.tensor(xs[rank][1])).square().mean().backward()
    net(pc.tensor(xs[rank][2])).square().mean().backward()
    reference.train()
    for r in range(size):
        for i in range(3):
            reference(pc.tensor(xs[r][i])).square().mean().backward()
    for (name, p), q in zip(model.named_parameters(), reference.parameters()):
        want = q.grad.numpy() / size
        assert np.allclose(p.grad.numpy(), want, rtol=1e-5, atol=1e-6), (name, np.abs(p.grad.numpy() - want).max())
    # a parameter only rank 0 uses: its gradient is rank 0's divided by the world size, and nothing hangs
    pc.manual_seed(3)
    branchy = Branchy(use_b=rank == 0)
    twin = copy.deepcopy(branchy)
    x = pc.tensor(np.random.default_rng(9).standard_normal((2, 4)).astype(np.float32))
    DDP(branchy)(x).sum().backward()
    twin.use_b = True
    twin(x).sum().backward()
    assert np.allclose(branchy.b.weight.grad.numpy(), twin.b.weight.grad.numpy() / size, rtol=1e-6)
    print(f"rank {rank}: behaviours ok", flush=True)


class Branchy(pc.nn.Module):
    """a, then b only where use_b: b's parameters get no gradient on the other ranks."""

    def __init__(self, use_b):
        super().__init__()
        self.a, self.b, self.use_b = pc.nn.Linear(4, 4), pc.nn.Linear(4, 4), use_b

    def forward(self, x):
        y = self.a(x)
        return self.b(y) if self.use_b else y


def overlap(out):
    dist.init_process_group(timeout=120)
    rank = dist.get_rank()
    pc.manual_seed(0)
    layers = []
    for _ in range(8):
        layers += [pc.nn.Conv2d(48, 48, 3, padding=1), pc.nn.ReLU()]
    net = DDP(pc.nn.Sequential(*layers), bucket_cap_mb=0.2)
    x = pc.randn(8, 48, 24, 24)
    for _ in range(3):  # the last step's timeline is kept
        net.zero_grad()
        net(x).square().mean().backward()
    with open(f"{out}/timeline-{rank}.json", "w") as f:
        json.dump(net.timeline, f)


if __name__ == "__main__":
    scenario, args = sys.argv[1], sys.argv[2:]
    {"equivalence": equivalence, "behaviours": behaviours, "overlap": overlap}[scenario](*args)
