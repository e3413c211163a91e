"""Learning-rate schedules.

A schedule decides the learning rate from the training progress: it is asked
at the end of every epoch (``on_epoch_end``) and when the monitored quantity
stops improving (``on_plateau``). It only returns numbers; the training loop
applies them.
"""

import math

__all__ = [
    "SCHEDULES",
    "Constant",
    "InvScaling",
    "Adaptive",
    "Cosine",
    "Step",
    "CosLog",
    "make_schedule",
]


class Constant:
    """Keep ``learning_rate_init`` throughout; stop at the first plateau."""

    #: Keyword arguments of the constructor besides ``learning_rate_init``.
    options = ()

    def __init__(self, learning_rate_init):
        self.learning_rate_init = float(learning_rate_init)

    def start(self, learning_rate, epochs_done):
        """Learning rate when training (re)starts after ``epochs_done`` epochs.

        ``learning_rate`` is the optimizer's current rate, kept by default.
        """
        return learning_rate

    def on_epoch_end(self, learning_rate, n_samples_seen, epochs_done):
        """Learning rate for the next epoch."""
        return learning_rate

    def on_plateau(self, learning_rate):
        """Return ``(new_learning_rate, stop)`` when progress has stalled."""
        return learning_rate, True

    def batch_rates(self, epoch, n_batches):
        """Learning rate of each mini-batch of ``epoch``, or None to keep the epoch's."""
        return None

    def cycle_ends(self):
        """Where the rate, having fallen to its lowest, starts a new cycle.

        Returns
        -------
        ends : tuple of (int, int)
            For each cycle but the last, the epoch (counted from 1) in which
            it ends and how many epochs, up to that one, its falling half
            spans (at least 2); empty for a schedule without restarts.
        """
        return ()


class InvScaling(Constant):
    """``lr = learning_rate_init / (t + 1) ** power_t``, t = samples seen.

    As in sklearn, the rate is updated at the end of each epoch.
    """

    options = ("power_t",)

    def __init__(self, learning_rate_init, power_t=0.5):
        super().__init__(learning_rate_init)
        self.power_t = float(power_t)

    def on_epoch_end(self, learning_rate, n_samples_seen, epochs_done):
        return self.learning_rate_init / (n_samples_seen + 1) ** self.power_t


class Adaptive(Constant):
    """Divide the rate by 5 at each plateau; stop once it is below ``1e-6``."""

    min_learning_rate = 1e-6

    def on_plateau(self, learning_rate):
        if learning_rate <= self.min_learning_rate:
            return learning_rate, True
        return learning_rate / 5.0, False


class _EpochSchedule(Constant):
    """A schedule that is a function of the epoch number, with linear warm-up.

    During the first ``warmup`` epochs the rate climbs linearly to
    ``learning_rate_init``; afterwards ``_decayed(epoch)`` takes over.
    """

    options = ("warmup",)

    def __init__(self, learning_rate_init, warmup=0):
        super().__init__(learning_rate_init)
        self.warmup = int(warmup)

    def rate_at(self, epoch):
        """Learning rate of (zero-based) epoch ``epoch``."""
        if epoch < self.warmup:
            return self.learning_rate_init * (epoch + 1) / (self.warmup + 1)
        return self._decayed(epoch - self.warmup)

    def start(self, learning_rate, epochs_done):
        return self.rate_at(epochs_done)

    def on_epoch_end(self, learning_rate, n_samples_seen, epochs_done):
        return self.rate_at(epochs_done)

    def _decayed(self, epoch):
        raise NotImplementedError


class Cosine(_EpochSchedule):
    """Cosine annealing from ``learning_rate_init`` to 0 over ``n_epochs``.

    ``lr = learning_rate_init * (1 + cos(pi * e / n_epochs)) / 2`` for the
    epoch ``e`` after warm-up (Loshchilov & Hutter, 2017, without restarts).
    """

    options = ("n_epochs", "warmup")

    def __init__(self, learning_rate_init, n_epochs=200, warmup=0):
        super().__init__(learning_rate_init, warmup)
        self.n_epochs = max(int(n_epochs) - self.warmup, 1)

    def _decayed(self, epoch):
        progress = min(epoch / self.n_epochs, 1.0)
        return self.learning_rate_init * 0.5 * (1.0 + math.cos(math.pi * progress))


class Step(_EpochSchedule):
    """Multiply the rate by ``gamma`` every ``step_size`` epochs."""

    options = ("step_size", "gamma", "warmup")

    def __init__(self, learning_rate_init, step_size=10, gamma=0.5, warmup=0):
        super().__init__(learning_rate_init, warmup)
        self.step_size = int(step_size)
        self.gamma = float(gamma)

    def _decayed(self, epoch):
        return self.learning_rate_init * self.gamma ** (epoch // self.step_size)


class CosLog(_EpochSchedule):
    """Cosine cycles on a logarithmic time axis ("coslog", Holzmüller et al., 2024).

    ``lr = learning_rate_init * (1 - cos(2 pi log2(1 + (2**cycles - 1) t))) / 2``
    with ``t`` the training progress in ``(0, 1)``, updated at every
    mini-batch: ``cycles`` warm restarts, each twice as long as the one before,
    ending at 0. The rate rises from 0 like a warm-up, which is why this
    schedule needs none.
    """

    options = ("n_epochs", "cycles")

    def __init__(self, learning_rate_init, n_epochs=200, cycles=4):
        super().__init__(learning_rate_init, warmup=0)
        self.n_epochs = max(int(n_epochs), 1)
        self.cycles = int(cycles)

    def _decayed(self, epoch):
        return self._rate((epoch + 0.5) / self.n_epochs)

    def _rate(self, progress):
        phase = math.log2(1.0 + (2.0**self.cycles - 1.0) * min(progress, 1.0))
        return self.learning_rate_init * 0.5 * (1.0 - math.cos(2.0 * math.pi * phase))

    def batch_rates(self, epoch, n_batches):
        """Per-batch rates: the first cycle (the warm-up) may be shorter than an epoch."""
        steps = self.n_epochs * n_batches
        return [self._rate((epoch * n_batches + b) / steps) for b in range(n_batches)]

    def cycle_ends(self):
        # Cycle k spans progress (2**(k-1) - 1) / (2**cycles - 1) to (2**k - 1) / (...).
        total = 2.0**self.cycles - 1.0
        ends = []
        for k in range(1, self.cycles):
            start = (2.0 ** (k - 1) - 1.0) / total * self.n_epochs
            stop = (2.0**k - 1.0) / total * self.n_epochs
            epoch = math.ceil(stop - 1e-9)
            falling = max(2, math.ceil((stop - start) / 2 - 1e-9))
            if epoch > falling:  # some epochs before the falling half to compare with
                ends.append((epoch, falling))
        return tuple(ends)


#: Every learning-rate schedule, by the name the estimators'
#: ``learning_rate`` uses: sklearn's three, then skdeep's.
SCHEDULES = {
    "constant": Constant,
    "invscaling": InvScaling,
    "adaptive": Adaptive,
    "cosine": Cosine,
    "step": Step,
    "coslog": CosLog,
}

_ALL_OPTIONS = frozenset(
    option for schedule in SCHEDULES.values() for option in schedule.options
)


def make_schedule(name, learning_rate_init, **options):
    """The schedule called ``name``, a key of ``SCHEDULES``.

    Parameters
    ----------
    name : str
        The schedule's registry key.
    learning_rate_init : float
        Starting (or peak, after warm-up) learning rate.
    **options
        Settings of any schedule (``power_t``, ``n_epochs``, ``warmup``,
        ``step_size``, ``gamma``); each schedule takes the ones it uses, so
        a caller may pass all of them.

    Returns
    -------
    schedule : Constant or a subclass
    """
    if name not in SCHEDULES:
        raise ValueError(
            f"Unknown learning-rate schedule {name!r}; choose from {list(SCHEDULES)}."
        )
    unknown = set(options) - _ALL_OPTIONS
    if unknown:
        raise TypeError(f"Unknown schedule options {sorted(unknown)}.")
    schedule = SCHEDULES[name]
    own = {key: value for key, value in options.items() if key in schedule.options}
    return schedule(learning_rate_init, **own)
