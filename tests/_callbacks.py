"""A user callback written to sklearn's FitCallback protocol, for the tests."""

#: The task names of one training step of skdeep's fits.
TRAINING_TASKS = ("epoch", "lbfgs-iter")


class Recorder:
    """Records the callback events and the model's score after each training task.

    Parameters
    ----------
    stop_after : int or None, default=None
        Ask the fit to stop after this many tasks.
    """

    def __init__(self, stop_after=None):
        self.stop_after, self.events, self.scores = stop_after, [], []

    def setup(self, estimator, context):
        self.events.append(("setup", context.task_name))

    def teardown(self, estimator, context):
        self.events.append(("teardown", context.task_name))

    def on_fit_task_begin(self, estimator, context):
        self.events.append(("begin", context.task_name))

    def on_fit_task_end(self, estimator, context, *, fitted_estimator=None, X=None, y=None):
        self.events.append(("end", context.task_name))
        if context.task_name in TRAINING_TASKS and fitted_estimator is not None:
            self.scores.append(fitted_estimator.score(X, y))
        return self.stop_after is not None and context.task_id + 1 >= self.stop_after
