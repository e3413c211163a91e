"""Training steps on several threads: the team, the slices, the summed gradients."""

import threading
import time

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from skdeep._engine import Dense, Sequential, make_loss, make_optimizer
from skdeep._engine.members import DropoutNoise, MemberDense
from skdeep._engine.optimizers import _CHUNK
from skdeep._engine.parallel import (
    ParallelStep,
    ThreadTeam,
    available_threads,
    optimizer_slices,
    row_parts,
)


def test_team_runs_work_on_every_thread_and_reraises_errors():
    seen = {}
    with ThreadTeam(3) as team:
        team.run(lambda t: seen.setdefault(t, threading.get_ident()))
        assert sorted(seen) == [0, 1, 2]
        assert seen[0] == threading.get_ident() and len(set(seen.values())) == 3

        def fail_on_two(t):
            if t == 2:
                raise RuntimeError("thread two")

        with pytest.raises(RuntimeError, match="thread two"):
            team.run(fail_on_two)
        team.run(lambda t: seen.__setitem__(t, "again"))  # still usable
    assert set(seen.values()) == {"again"}
    assert not any(thread.name.startswith("skdeep-step") for thread in threading.enumerate())


def test_team_run_returns_only_when_every_thread_is_done():
    finished = []

    def slow_helpers(t):
        if t:
            time.sleep(0.05)
            finished.append(t)
        else:
            raise ValueError("caller fails first")

    with ThreadTeam(3) as team:
        with pytest.raises(ValueError, match="caller fails first"):
            team.run(slow_helpers)
        assert sorted(finished) == [1, 2]  # the helpers' work was waited for
        for _ in range(200):  # many short runs hand work over without a lost wake-up
            team.run(lambda t: finished.append(t))
    assert len(finished) == 2 + 3 * 200


def test_available_threads_follows_the_blas_limit():
    with threadpool_limits(1):
        assert available_threads() == 1
    with threadpool_limits(2):
        assert available_threads() == min(2, len(__import__("os").sched_getaffinity(0)))


def test_row_parts_are_contiguous_and_even():
    assert row_parts(7, 2) == [(0, 3), (3, 7)]
    assert row_parts(2, 3) == [(0, 0), (0, 1), (1, 2)]


@pytest.mark.parametrize("name", ["sgd", "adam", "adamw", "rmsprop"])
@pytest.mark.parametrize("n_threads", [2, 3])
def test_updates_on_slices_equal_one_step(name, n_threads):
    rng = np.random.RandomState(0)
    n = 3 * _CHUNK + 1234
    scales = [(100, 9000, 0.5), (20000, 20500, 3.0)] if name.startswith("adam") else []
    options = {"lr_scales": scales} if scales else {}
    if name == "adamw":
        options["n_decayed"] = 15000
    whole = make_optimizer(name, n, np.float32, learning_rate=0.01, **options)
    split = make_optimizer(name, n, np.float32, learning_rate=0.01, **options)
    params = rng.normal(size=n).astype(np.float32)
    params_split = params.copy()
    slices = optimizer_slices(split, n_threads)
    assert slices[0][0] == 0 and slices[-1][1] == n
    for _ in range(3):
        grad = rng.normal(size=n).astype(np.float32)
        whole.step(params, grad)
        split.begin_step()
        for start, stop in slices:
            split.update(params_split, grad, start, stop)
    np.testing.assert_array_equal(params_split, params)


def _mlp(seed=0):
    net = Sequential([Dense(6, 32, "relu"), Dense(32, 16, "tanh"), Dense(16, 3)],
                     make_loss("log_loss"))
    net.params[...] = np.random.RandomState(seed).normal(scale=0.3, size=net.params.size)
    return net


def _members(seed=0, dropout=0.0):
    net = Sequential([MemberDense(2, 6, 32, "mish", dropout=dropout),
                      MemberDense(2, 32, 3)], make_loss("squared_error"), n_members=2)
    net.params[...] = np.random.RandomState(seed).normal(scale=0.3, size=net.params.size)
    return net


def test_a_step_on_threads_equals_the_plain_step_up_to_rounding():
    rng = np.random.RandomState(1)
    X, Y = rng.normal(size=(40, 6)), np.eye(3)[rng.randint(3, size=40)]
    weights = rng.uniform(0.5, 2.0, 40)
    serial, threaded = _mlp(), _mlp()
    loss = serial.loss_and_gradient(X, Y, weights, 0.1, serial.new_workspace(40))
    make_optimizer("adam", serial.params.size, np.float64, learning_rate=0.01).step(
        serial.params, serial.grad)
    optimizer = make_optimizer("adam", threaded.params.size, np.float64, learning_rate=0.01)
    parts = row_parts(40, 2)
    total = weights.sum()

    def part_loss(t, replica, workspace):
        start, stop = parts[t]
        share = weights[start:stop].sum() / total
        return replica.loss_and_gradient(X[start:stop], Y[start:stop], weights[start:stop],
                                         0.0, workspace, share=share)

    with ThreadTeam(2) as team:
        step = ParallelStep(threaded, optimizer, team, 40, [None, None])
        threaded_loss = step.step(part_loss, penalty=0.1 / total)
    assert threaded_loss == pytest.approx(loss, rel=1e-12)
    np.testing.assert_allclose(threaded.params, serial.params, rtol=1e-10, atol=1e-12)


def test_member_steps_split_by_rows_draw_the_masks_of_one_thread():
    # Three threads for two members: each thread takes a third of the rows.
    rng = np.random.RandomState(2)
    X, Y = rng.normal(size=(2, 30, 6)), rng.normal(size=(2, 30, 3))
    results = []
    for n_threads in (1, 3, 3):
        net = _members(dropout=0.3)
        optimizer = make_optimizer("adamw", net.params.size, np.float64, learning_rate=0.01,
                                   n_decayed=net.n_penalized_params)
        noises = [DropoutNoise(9) for _ in range(n_threads)]
        parts = row_parts(30, n_threads)

        def part_loss(t, replica, workspace, parts=parts):
            start, stop = parts[t]
            workspace.random_state.set_part(0, 2, start, 30)
            share = None if n_threads == 1 else np.full(2, (stop - start) / 30)
            return replica.member_losses_and_gradient(X[:, start:stop], Y[:, start:stop],
                                                      None, workspace, share=share)

        with ThreadTeam(n_threads) as team:
            step = ParallelStep(net, optimizer, team, 30, noises)
            losses = [step.step(part_loss) for _ in range(3)]
        results.append((np.array(losses), net.params.copy()))
    np.testing.assert_array_equal(results[1][1], results[2][1])  # same thread count
    np.testing.assert_allclose(results[1][0], results[0][0], rtol=1e-12)
    np.testing.assert_allclose(results[1][1], results[0][1], rtol=1e-9, atol=1e-12)


def test_member_steps_split_by_members_are_the_one_thread_step():
    rng = np.random.RandomState(3)
    X, Y = rng.normal(size=(2, 30, 6)), rng.normal(size=(2, 30, 3))
    results = []
    for n_threads in (1, 2):
        net = _members(dropout=0.3)
        optimizer = make_optimizer("adamw", net.params.size, np.float64, learning_rate=0.01,
                                   n_decayed=net.n_penalized_params)
        noises = [DropoutNoise(9) for _ in range(n_threads)]
        with ThreadTeam(n_threads) as team:
            step = ParallelStep(net, optimizer, team, 30, noises)
            assert (step.member_parts is not None) == (n_threads == 2)
            parts = step.member_parts or [(0, 2)]

            def part_loss(t, replica, workspace, parts=parts):
                first, stop = parts[t]
                workspace.random_state.set_part(first, 2, 0, 30)
                return replica.member_losses_and_gradient(X[first:stop], Y[first:stop], None,
                                                          workspace)

            losses = [step.step(part_loss) for _ in range(3)]
        results.append((np.array(losses), net.params.copy()))
    np.testing.assert_array_equal(results[1][0], results[0][0])
    np.testing.assert_array_equal(results[1][1], results[0][1])
