"""Training steps on several threads: rows split, gradients summed, update split.

NumPy releases the GIL in its loops and in BLAS, so threads of one process
can work on one training step at once. A step on ``T`` threads:

1. each thread computes the loss and gradient of its part of the batch:
   for a network of several members whose count ``T`` divides, all rows of
   some of the members, on a replica of those members that writes their
   gradient in place; otherwise a contiguous part of the rows, on a
   *replica* of the network with a gradient vector of its own (both share
   the parameters and have their own work buffers);
2. each thread sums the replicas' gradients (rows split) over its slice of
   the flat vector, in thread order, and applies the update rule to that
   slice.

BLAS runs on one thread per calling thread meanwhile. With the members
split, the step is the one-thread step bit for bit; with the rows split,
the result depends on the thread count only through the order of the
gradient sums: for a fixed number of threads it is always the same, and one
thread is the plain single-threaded step. The update rules are
elementwise, so splitting the vector changes nothing; slices start at
chunk boundaries so that each thread's BLAS calls see the same sub-arrays
as one thread would (see ``optimizers.py``).
"""

import os
import threading

import numpy as np
from threadpoolctl import threadpool_info, threadpool_limits

__all__ = ["ThreadTeam", "available_threads", "one_blas_thread", "row_parts"]


def available_threads():
    """Threads a training step may use: the BLAS thread limit now in force.

    That is the count the user set with ``threadpoolctl.threadpool_limits``
    or ``OPENBLAS_NUM_THREADS`` / ``OMP_NUM_THREADS`` (BLAS reads them when
    it loads), at most the cores this process may run on; 1 when no BLAS
    reports a count.
    """
    counts = [info["num_threads"] for info in threadpool_info() if info["user_api"] == "blas"]
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return max(1, min(max(counts, default=1), cores))


def one_blas_thread():
    """Context manager: BLAS runs on the calling thread while a team works."""
    return threadpool_limits(limits=1, user_api="blas")


def row_parts(n_rows, n_threads):
    """``n_threads`` contiguous ``(start, stop)`` parts of ``n_rows`` rows, as even as can be."""
    edges = [n_rows * t // n_threads for t in range(n_threads + 1)]
    return list(zip(edges[:-1], edges[1:]))


class ThreadTeam:
    """``n_threads`` threads, the caller's among them, that run one function together.

    ``run(work)`` calls ``work(t)`` on every thread ``t`` (0 is the caller's)
    and returns when all have finished; an exception on any thread is
    raised again in the caller. Use it as a context manager, so that the
    helper threads end with the fit.

    Parameters
    ----------
    n_threads : int
        Number of threads, at least 1 (1 runs everything on the caller's
        thread).
    """

    def __init__(self, n_threads):
        self.n_threads = int(n_threads)
        self._work = None
        self._errors = []
        # A pair of locks per helper, both held while it is idle: the caller
        # releases ``start`` to hand it work, the helper releases ``done``
        # when it has finished. Handing work over by lock takes half the
        # time of a threading.Barrier (40 against 80 µs per run on 2 threads),
        # and a training step makes two runs.
        self._start = [_held_lock() for _ in range(1, self.n_threads)]
        self._done = [_held_lock() for _ in range(1, self.n_threads)]
        self._helpers = [
            threading.Thread(target=self._serve, args=(t,), daemon=True,
                             name=f"skdeep-step-{t}")
            for t in range(1, self.n_threads)
        ]
        for helper in self._helpers:
            helper.start()

    def run(self, work):
        """Run ``work(t)`` on the ``n_threads`` threads; return when all are done."""
        if self.n_threads == 1:
            work(0)
            return
        self._work = work
        for start in self._start:
            start.release()
        try:
            work(0)
        finally:
            for done in self._done:
                done.acquire()
        if self._errors:
            error = self._errors[0]
            self._errors.clear()
            raise error

    def _serve(self, t):
        start, done = self._start[t - 1], self._done[t - 1]
        while True:
            start.acquire()
            work = self._work
            if work is None:
                return
            try:
                work(t)
            except BaseException as exc:  # re-raised on the caller's thread
                self._errors.append(exc)
            finally:
                done.release()

    def close(self):
        """End the helper threads (after the current ``run``)."""
        if not self._helpers:
            return
        self._work = None
        for start in self._start:
            start.release()
        for helper in self._helpers:
            helper.join()
        self._helpers = []

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()


def _held_lock():
    """A lock, already acquired."""
    lock = threading.Lock()
    lock.acquire()
    return lock


def sum_into(target, parts, start, stop):
    """``target[start:stop] += part[start:stop]`` for each part, in order."""
    view = target[start:stop]
    for part in parts:
        np.add(view, part[start:stop], out=view)


def optimizer_slices(optimizer, n_threads):
    """``n_threads`` slices of whole chunks of ``optimizer``'s vector, of near-equal size."""
    edges = optimizer.chunk_edges
    total = edges[-1]
    cuts = [0]
    for t in range(1, n_threads):
        target = total * t / n_threads
        cuts.append(min((edge for edge in edges if edge >= max(target, cuts[-1])),
                        default=total))
    cuts.append(total)
    return list(zip(cuts[:-1], cuts[1:]))


class ParallelStep:
    """A training step of ``network`` whose work is spread over a :class:`ThreadTeam`.

    Each thread takes a part of the batch. For a network of several members
    whose count the threads divide, a part is some of the members, every
    row: each thread runs a replica of its members (:meth:`member_replica`)
    that writes their gradient in place, and the step is exactly the
    one-thread step. Otherwise a part is some of the rows, every member: each
    thread runs a replica with a gradient of its own (:meth:`replica`), and
    the gradients are summed in thread order.

    Parameters
    ----------
    network : Sequential
        The network being trained; its ``grad`` receives the gradient and
        its ``params`` the update.
    optimizer : update rule
        With ``begin_step`` and ``update`` (``optimizers.py``).
    team : ThreadTeam
        The threads; one part of each batch per thread.
    batch_size : int
        Largest batch (rows per member).
    random_states : sequence
        Each thread's source of dropout masks (None: no dropout).

    Attributes
    ----------
    member_parts : list of (int, int) or None
        Each thread's members, when the members are split; None when the
        rows are.
    """

    def __init__(self, network, optimizer, team, batch_size, random_states):
        self.network, self.optimizer, self.team = network, optimizer, team
        n = team.n_threads
        k = network.n_members
        if n > 1 and k is not None and k % n == 0:
            self.member_parts = row_parts(k, n)
            self.replicas = [network.member_replica(first, stop)
                             for first, stop in self.member_parts]
            part_rows = batch_size
        else:
            self.member_parts = None
            self.replicas = [network, *(network.replica() for _ in range(n - 1))]
            part_rows = -(-batch_size // n)
        self.workspaces = [replica.new_workspace(part_rows, random_state)
                           for replica, random_state in zip(self.replicas, random_states)]
        self.slices = optimizer_slices(optimizer, n)
        self._losses = [None] * n

    def step(self, part_loss, penalty=0.0):
        """Compute every part's loss and gradient, sum them, update the parameters.

        Parameters
        ----------
        part_loss : callable
            ``part_loss(t, replica, workspace) -> loss``: thread ``t``'s part
            of the batch, its loss and gradient (into ``replica.grad``),
            already scaled to its share of the batch (when rows are split).
        penalty : float, default=0.0
            ``alpha / total_weight``: the L2 penalty's factor (0: none).

        Returns
        -------
        loss : float or ndarray
            The batch's loss (the sum of the parts', or the members' losses
            side by side), plus the penalty.
        """
        losses = self._losses

        def compute(t):
            losses[t] = part_loss(t, self.replicas[t], self.workspaces[t])

        self.team.run(compute)
        self.optimizer.begin_step()
        penalties = [0.0] * self.team.n_threads
        params, grad = self.network.params, self.network.grad
        others = [] if self.member_parts else [replica.grad for replica in self.replicas[1:]]
        n_penalized = self.network.n_penalized_params

        def update(t):
            start, stop = self.slices[t]
            sum_into(grad, others, start, stop)
            if penalty and start < n_penalized:
                weights = params[start : min(stop, n_penalized)]
                grad[start : start + weights.size] += penalty * weights
                penalties[t] = 0.5 * penalty * float(np.dot(weights, weights))
            self.optimizer.update(params, grad, start, stop)

        self.team.run(update)
        if self.member_parts:
            return np.concatenate(losses)
        return sum(losses) + sum(penalties)
