"""Learning-rate schedules.

A schedule decides the learning rate from the training progress: it is asked
at the end of every epoch (``on_epoch_end``) and when the monitored quantity
stops improving (``on_plateau``). It only returns numbers; the training loop
applies them.
"""

__all__ = ["Constant", "InvScaling", "Adaptive", "make_schedule"]


class Constant:
    """Keep ``learning_rate_init`` throughout; stop at the first plateau."""

    def __init__(self, learning_rate_init):
        self.learning_rate_init = float(learning_rate_init)

    def on_epoch_end(self, learning_rate, n_samples_seen):
        """Learning rate for the next epoch."""
        return learning_rate

    def on_plateau(self, learning_rate):
        """Return ``(new_learning_rate, stop)`` when progress has stalled."""
        return learning_rate, True


class InvScaling(Constant):
    """``lr = learning_rate_init / (t + 1) ** power_t``, t = samples seen.

    As in sklearn, the rate is updated at the end of each epoch.
    """

    def __init__(self, learning_rate_init, power_t=0.5):
        super().__init__(learning_rate_init)
        self.power_t = float(power_t)

    def on_epoch_end(self, learning_rate, n_samples_seen):
        return self.learning_rate_init / (n_samples_seen + 1) ** self.power_t


class Adaptive(Constant):
    """Divide the rate by 5 at each plateau; stop once it is below ``1e-6``."""

    min_learning_rate = 1e-6

    def on_plateau(self, learning_rate):
        if learning_rate <= self.min_learning_rate:
            return learning_rate, True
        return learning_rate / 5.0, False


def make_schedule(name, learning_rate_init, power_t=0.5):
    """Schedule called ``name``: "constant", "invscaling" or "adaptive"."""
    if name == "constant":
        return Constant(learning_rate_init)
    if name == "invscaling":
        return InvScaling(learning_rate_init, power_t)
    if name == "adaptive":
        return Adaptive(learning_rate_init)
    raise ValueError(f"Unknown learning-rate schedule {name!r}.")
