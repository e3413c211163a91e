"""Layers of several member networks trained side by side.

An ensemble of ``k`` networks of one shape trains as one network whose
layers hold the members' parameters stacked on a leading axis: member
``i``'s weights are ``coef[i]``, and every array that flows through the
network has shape ``(k, n, width)``, member ``i``'s rows being ``[i]``. One
``np.matmul`` call (it broadcasts over the leading axis) and one elementwise
pass serve every member, so a step pays NumPy's per-call cost once instead
of ``k`` times. Nothing couples the members: each sees its own rows, draws
its own dropout masks and is updated only by its own loss, so each is the
network it would be if trained alone.

The layers follow the protocol of ``layers.py`` (``param_specs``, ``bind``,
``allocate``, ``forward``, ``backward``, ``predict``); their parameters are
laid out by :class:`~skdeep._engine.network.Sequential` with
``n_members=k``, and they add ``initialize_member``: member ``i``'s draws
come from its own random state, in the order a network of its own would
draw them.

Training keeps what the backward pass needs from the forward pass: a
hidden block (:class:`MemberDense`) stores the slope of its activation,
already multiplied by its dropout mask, so the backward pass through the
nonlinearity and the dropout is one product.
"""

import numpy as np

from ._filled import filled_like
from .activations import get_activation
from .layers import Layer, ParamSpec

__all__ = [
    "MemberDense",
    "MemberEmbedding",
    "MemberPeriodicEmbedding",
    "MemberPiecewiseLinear",
    "DROPOUT_RESOLUTION",
    "DropoutNoise",
]

#: Dropout keeps a unit when 16 random bits are at least ``rate * 2**16``
#: (rounded): the rate is applied to a resolution of 2**-16.
DROPOUT_RESOLUTION = 2**16


class DropoutNoise:
    """Random bits of the dropout masks that do not depend on the thread count.

    Every mask of a run comes from one counter-based stream (Philox): each
    layer's masks of each step take the next region of it, laid out
    (member, row, unit), each member's rows starting at a whole block of
    16 bits x 16. A thread computing some members' rows ``start:stop`` of a
    batch jumps to their place in the region, so the mask of a member's row
    is the same whichever thread computes it, and a run on several threads
    draws the masks of a run on one.

    Parameters
    ----------
    seed : int, sequence of int or numpy.random.SeedSequence
        Seed of the stream (every thread of a run gets the same).
    """

    _BITS_PER_BLOCK = 16  # uint16 values per Philox block of 4 x 64 bits

    def __init__(self, seed):
        self.restart(seed)

    def restart(self, seed):
        """Start the stream of ``seed`` afresh (buffers holding this object keep it)."""
        self.generator = np.random.Philox(seed)
        self._block = 0       # the generator's position, in blocks
        self._region = 0      # first block of the next region
        self.set_part()

    def set_part(self, first_member=0, n_members=None, start=0, n_rows=None):
        """What the next draws are for: members from ``first_member`` of a network of
        ``n_members``, rows from ``start`` of a batch of ``n_rows`` (None: the draw's own)."""
        self._part = (int(first_member), n_members, int(start), n_rows)

    def bits(self, n_members, n_rows, width):
        """16 random bits for each member, row and unit: shape ``(n_members, n_rows, width)``."""
        first_member, total_members, start, total_rows = self._part
        total_members = n_members if total_members is None else total_members
        total_rows = n_rows if total_rows is None else total_rows
        blocks_per_member = -(-total_rows * width // self._BITS_PER_BLOCK)
        out = np.empty((n_members, n_rows, width), dtype=np.uint16)
        for i in range(n_members):
            offset = start * width
            first_block, skip = divmod(offset, self._BITS_PER_BLOCK)
            target = self._region + (first_member + i) * blocks_per_member + first_block
            count = n_rows * width
            n_blocks = -(-(skip + count) // self._BITS_PER_BLOCK)
            self.generator.advance(target - self._block)
            raw = self.generator.random_raw(4 * n_blocks)
            self._block = target + n_blocks
            out[i] = raw.view(np.uint16)[skip : skip + count].reshape(n_rows, width)
        self._region += total_members * blocks_per_member
        return out


#: Largest per-row copy of a layer's bins (elements); beyond it (very large
#: batches) the bins stay ``(columns, 1, width)`` and broadcast, with the
#: same values, rather than add memory in proportion to the batch.
_MAX_ROWS_OF_SIZE = 1 << 21


def _rows_of(per_column, n_rows):
    """A ``(columns, 1, width)`` array repeated for ``n_rows`` rows, contiguous.

    For a batch so large that the copy would pass ``_MAX_ROWS_OF_SIZE``
    elements, ``per_column`` itself (it broadcasts against the rows).
    """
    shape = (per_column.shape[0], n_rows, per_column.shape[2])
    if np.prod(shape) > _MAX_ROWS_OF_SIZE:
        return per_column
    return np.ascontiguousarray(np.broadcast_to(per_column, shape))


def _row_sums(delta, ones, out):
    """``out[i] = delta[i].sum(axis=0)`` for ``delta`` of shape (k, n, w), through BLAS."""
    return np.matmul(ones[: delta.shape[1]], delta, out=out)


def _transposed(A):
    """Each member's matrix transposed (a view)."""
    return A.swapaxes(-1, -2)


class _MemberLayer(Layer):
    """Base of the layers over ``(k, n, width)`` arrays.

    Parameters
    ----------
    n_members : int
        Number of member networks ``k``.
    n_inputs, n_outputs : int
        Width of each member's input and output.
    """

    def __init__(self, n_members, n_inputs, n_outputs):
        super().__init__(n_inputs, n_outputs)
        self.n_members = int(n_members)

    def initialize_member(self, member, random_state, A):
        """Draw member ``member``'s parameters from its own ``random_state``.

        ``A`` is that member's input rows (for data-dependent initialisation).
        """


class MemberDense(_MemberLayer):
    """Fully connected layer of each member, with activation and dropout fused.

    ``y = dropout(f(A @ W + b))``; with ``parametric=True`` the activation
    is ``z + a * (f(z) - z)`` with a learned strength ``a`` per unit (1 at
    the start: ``f`` itself; 0: linear), as RealMLP's parametric
    activations. In training the layer keeps ``f'(z)`` times the dropout
    mask, so the backward pass through both is one product.

    With ``input_scale_lr`` the layer also learns a factor ``s`` per input
    column, ``y = dropout(f((A * s) @ W + b))``, as a layer of its own in
    front would, but cheaper: with ``G = A.T @ delta`` the gradients are
    ``s * G`` for ``W`` and ``sum(W * G)`` over the units for ``s``, so the
    gradient with respect to the input is computed only for the columns the
    layer before needs, not for every input column.

    Parameters
    ----------
    n_members : int
        Number of member networks.
    n_inputs, n_outputs : int
        Fan-in and fan-out.
    activation : str, default="identity"
        A key of ``ACTIVATIONS``.
    dropout : float, default=0.0
        Probability of zeroing each output in training (inverted dropout:
        kept outputs are divided by the probability of keeping them). It is
        applied at a resolution of ``1 / DROPOUT_RESOLUTION``.
    parametric : bool, default=False
        Learn the strength of the activation per unit.
    coef_lr_scale, intercept_lr_scale, strength_lr_scale : float
        Learning-rate factors of the weights, biases and strengths.
    input_scale_lr : float or None, default=None
        Learning-rate factor of the input scales; None: no input scales.
    """

    def __init__(self, n_members, n_inputs, n_outputs, activation="identity", dropout=0.0,
                 parametric=False, coef_lr_scale=1.0, intercept_lr_scale=1.0,
                 strength_lr_scale=0.1, input_scale_lr=None):
        super().__init__(n_members, n_inputs, n_outputs)
        if not 0 <= dropout < 1:
            raise ValueError(f"A dropout rate must be in [0, 1), got {dropout!r}.")
        self.activation = get_activation(activation)
        self.dropout = float(dropout)
        self.parametric = bool(parametric) and not self.activation.is_identity
        self.coef_lr_scale = float(coef_lr_scale)
        self.intercept_lr_scale = float(intercept_lr_scale)
        self.strength_lr_scale = float(strength_lr_scale)
        self.input_scale_lr = None if input_scale_lr is None else float(input_scale_lr)
        self._drop_below = int(round(self.dropout * DROPOUT_RESOLUTION))
        self._keep_scale = DROPOUT_RESOLUTION / (DROPOUT_RESOLUTION - self._drop_below)

    def param_specs(self):
        specs = [
            ParamSpec("coef", (self.n_inputs, self.n_outputs), True, self.coef_lr_scale),
            ParamSpec("intercept", (self.n_outputs,), False, self.intercept_lr_scale),
        ]
        if self.parametric:
            specs.append(ParamSpec("strength", (self.n_outputs,), True, self.strength_lr_scale))
        if self.scales_inputs:
            specs.append(ParamSpec("scale", (self.n_inputs,), False, self.input_scale_lr))
        return specs

    @property
    def scales_inputs(self):
        """Whether the layer learns a factor per input column."""
        return self.input_scale_lr is not None

    def bind(self, params, grads):
        names = [spec.name for spec in self.param_specs()]
        for name, param, grad in zip(names, params, grads):
            setattr(self, name, param)
            setattr(self, f"{name}_grad", grad)

    def initialize_member(self, member, random_state, A):
        """Unit-variance pre-activations on ``A`` and kinks at training points.

        Weights are drawn from a normal distribution and rescaled so that
        every unit's pre-activation has unit standard deviation on ``A``;
        each bias puts the unit's kink at a random convex combination of
        five rows of ``A`` ("he+5", Holzmüller et al., 2024). Strengths start
        at 1.
        """
        coef, bias = data_dependent_dense(A, self.n_outputs, random_state)
        self.coef[member] = coef
        self.intercept[member] = bias
        if self.parametric:
            self.strength[member] = 1.0
        if self.scales_inputs:
            self.scale[member] = 1.0

    @property
    def _nonlinear(self):
        return not self.activation.is_identity

    def allocate(self, batch_size, dtype, random_state, input_grad):
        shape = (self.n_members, batch_size, self.n_outputs)
        dropping = random_state is not None and self._drop_below > 0
        if dropping and not isinstance(random_state, DropoutNoise):
            raise TypeError("Member layers draw their dropout masks from a DropoutNoise.")
        keeps_slope = self._nonlinear or dropping
        n_grad_columns = len(range(self.n_inputs)[input_grad]) if input_grad is not None else 0
        return _Buffers(
            input_grad=input_grad,
            random_state=random_state if dropping else None,
            output=np.empty(shape, dtype),
            slope=np.empty(shape, dtype) if keeps_slope else None,
            scratch=np.empty(shape, dtype) if self._nonlinear else None,
            gap=np.empty(shape, dtype) if self.parametric else None,
            keep=np.empty(shape, bool) if dropping else None,
            input_delta=(np.empty((self.n_members, batch_size, n_grad_columns), dtype)
                         if input_grad is not None else None),
            scaled=(np.empty((self.n_members, batch_size, self.n_inputs), dtype)
                    if self.scales_inputs else None),
            ones=np.ones(batch_size, dtype),
        )

    def forward(self, A, buffers, n):
        Z = buffers.output[:, :n]
        if self.scales_inputs:
            A = np.multiply(A, self.scale[:, None, :], out=buffers.scaled[:, :n])
        np.matmul(A, self.coef, out=Z)
        Z += self.intercept[:, None, :]
        slope = None if buffers.slope is None else buffers.slope[:, :n]
        if self._nonlinear:
            if self.parametric:
                self._parametric_forward(Z, slope, buffers, n)
            else:
                self.activation.activate_with_slope(Z, slope, buffers.scratch[:, :n])
        if buffers.random_state is not None:
            mask = self._draw_mask(buffers, n, out=buffers.scratch[:, :n] if self._nonlinear
                                   else slope)
            Z *= mask
            if self._nonlinear:
                slope *= mask
            if self.parametric:
                buffers.gap[:, :n] *= mask
        return Z

    def _parametric_forward(self, Z, slope, buffers, n):
        """``y = z + a (f(z) - z)``, slope ``1 + a (f'(z) - 1)``; keeps ``f(z) - z``."""
        gap, scratch = buffers.gap[:, :n], buffers.scratch[:, :n]
        np.copyto(gap, Z)
        self.activation.activate_with_slope(Z, slope, scratch)
        np.subtract(Z, gap, out=gap)
        strength = self.strength[:, None, :]
        # z + a (f - z), written as f - (1 - a)(f - z): z itself is gone.
        np.multiply(gap, 1.0 - strength, out=scratch)
        Z -= scratch
        slope -= 1.0
        slope *= strength
        slope += 1.0

    def _draw_mask(self, buffers, n, out):
        """Scaled keep-mask of the first ``n`` rows: 0 or ``1 / P(keep)``, into ``out``."""
        bits = buffers.random_state.bits(self.n_members, n, self.n_outputs)
        keep = np.greater_equal(bits, self._drop_below, out=buffers.keep[:, :n])
        np.copyto(out, keep)
        out *= out.dtype.type(self._keep_scale)
        return out

    def backward(self, delta, A, buffers, n):
        if self.parametric:
            # dL/da_j = sum_i delta_ij (f(z_ij) - z_ij), the mask already applied.
            product = np.multiply(delta, buffers.gap[:, :n], out=buffers.gap[:, :n])
            _row_sums(product, buffers.ones, self.strength_grad)
        if buffers.slope is not None:
            delta *= buffers.slope[:, :n]
        # With input scales, A is the unscaled input and this is G = A.T @ delta.
        np.matmul(_transposed(A), delta, out=self.coef_grad)
        _row_sums(delta, buffers.ones, self.intercept_grad)
        weights = self.coef
        if self.scales_inputs:
            np.einsum("kih,kih->ki", self.coef_grad, self.coef, out=self.scale_grad)
            self.coef_grad *= self.scale[:, :, None]
        if buffers.input_grad is None:
            return None
        weights = weights[:, buffers.input_grad]
        if self.scales_inputs:
            weights = weights * self.scale[:, buffers.input_grad, None]
        delta_in = buffers.input_delta[:, :n]
        np.matmul(delta, _transposed(weights), out=delta_in)
        return delta_in

    def predict(self, A):
        if self.scales_inputs:
            A = A * self.scale[:, None, :]
        Z = np.matmul(A, self.coef)
        Z += self.intercept[:, None, :]
        if not self._nonlinear:
            return Z
        if not self.parametric:
            return self.activation.forward(Z)
        activated = self.activation.forward(Z.copy())
        activated -= Z
        activated *= self.strength[:, None, :]
        Z += activated
        return Z

    @property
    def predict_width(self):
        return self.n_inputs + 2 * self.n_outputs


class _Buffers:
    """A layer's work buffers (attribute access, like ``types.SimpleNamespace``)."""

    def __init__(self, **arrays):
        self.__dict__.update(arrays)


def data_dependent_dense(A, n_outputs, random_state, bias_support=5):
    """Weights and biases of a dense layer drawn to suit its input rows ``A``.

    Parameters
    ----------
    A : ndarray of shape (n_rows, n_inputs)
        The layer's input on a sample of training rows.
    n_outputs : int
        Fan-out.
    random_state : numpy.random.RandomState
        Source of the draws.
    bias_support : int, default=5
        Rows whose random convex combination places each unit's kink.

    Returns
    -------
    coef : ndarray of shape (n_inputs, n_outputs)
    bias : ndarray of shape (n_outputs,)
    """
    fan_in = A.shape[1]
    weights = random_state.normal(size=(fan_in, n_outputs)) / np.sqrt(fan_in)
    Z = np.asarray(A, dtype=np.float64) @ weights
    spread = Z.std(axis=0)
    spread[spread == 0] = 1.0
    weights /= spread
    Z /= spread
    # he+5: minus a random convex combination of five rows' pre-activations.
    rows = random_state.randint(Z.shape[0], size=(bias_support, n_outputs))
    mix = random_state.exponential(size=(bias_support, n_outputs))
    mix /= mix.sum(axis=0)
    bias = -(Z[rows, np.arange(n_outputs)] * mix).sum(axis=0)
    return weights, bias


class MemberEmbedding(_MemberLayer):
    """Each member's entity embeddings: category codes replaced by learned rows.

    The input holds numeric columns and, in ``layout.categorical_columns``,
    integer codes (0: unknown or missing); the output is the numeric columns
    followed by each code's row of that member's table.

    Parameters
    ----------
    n_members : int
        Number of member networks.
    layout : EmbeddingLayout
        The embedded columns and their tables.
    """

    def __init__(self, n_members, layout):
        super().__init__(n_members, len(layout.numeric_columns) + len(layout.categorical_columns),
                         layout.n_inputs)
        self.layout = layout
        self.n_numeric = len(layout.numeric_columns)
        # Only the embedded columns carry a gradient back to the tables.
        self.output_grad_columns = slice(self.n_numeric, None)

    def param_specs(self):
        return [ParamSpec(f"table_{j}", shape, penalized=True)
                for j, shape in enumerate(self.layout.table_shapes)]

    def bind(self, params, grads):
        self.tables, self.table_grads = list(params), list(grads)

    def initialize_member(self, member, random_state, A):
        """Tables drawn from a standard normal distribution."""
        for table in self.tables:
            table[member] = random_state.normal(size=table.shape[1:])

    def allocate(self, batch_size, dtype, random_state, input_grad):
        return _Buffers(input_grad=None,
                        output=np.empty((self.n_members, batch_size, self.n_outputs), dtype))

    def _flat_rows(self, A, j):
        """Row of member ``i``'s code in table ``j`` stacked as ``(k * n_levels, dim)``."""
        levels = self.layout.n_levels[j]
        codes = A[:, :, self.layout.categorical_columns[j]].astype(np.intp)
        codes[(codes < 0) | (codes >= levels)] = 0
        codes += (np.arange(self.n_members) * levels)[:, None]
        return codes

    def _embed(self, A, out):
        out[:, :, : self.n_numeric] = A[:, :, self.layout.numeric_columns]
        for j, table in enumerate(self.tables):
            start, dim = self.layout.offsets[j], self.layout.dims[j]
            flat = table.reshape(-1, dim)
            out[:, :, start : start + dim] = flat[self._flat_rows(A, j)]
        return out

    def forward(self, A, buffers, n):
        return self._embed(A, buffers.output[:, :n])

    def backward(self, delta, A, buffers, n):
        # ``delta`` holds the embedded columns only (``output_grad_columns``).
        for j, grad in enumerate(self.table_grads):
            start, dim = self.layout.offsets[j] - self.n_numeric, self.layout.dims[j]
            # One bincount over (member and code, component) pairs fills the table.
            slots = self._flat_rows(A, j)[:, :, None] * dim + np.arange(dim)
            grad[...] = np.bincount(
                slots.ravel(), weights=delta[:, :, start : start + dim].ravel(),
                minlength=grad.size,
            ).reshape(grad.shape)
        return None

    def predict(self, A):
        dtype = np.result_type(A, self.tables[0]) if self.tables else A.dtype
        return self._embed(A, np.empty((*A.shape[:2], self.n_outputs), dtype))


class MemberPeriodicEmbedding(_MemberLayer):
    """Learned periodic features of each numeric column ("PBLD", Gorishniy et al.
    2022; Holzmüller et al. 2024), per member.

    For numeric column ``j`` with value ``x``: ``a = cos(2 pi w_j x + b_j)``
    for ``n_frequencies`` learned frequencies ``w_j`` and phases ``b_j``, then
    ``e = a @ V_j + c_j`` (``n_features`` values); the output holds every
    column's ``e``, then the input unchanged. Smooth periodic features let
    the next layers carve sharp, non-monotonic functions of one column that
    plain units need many neurons for.

    Parameters
    ----------
    n_members : int
        Number of member networks.
    n_inputs : int
        Input width.
    n_numeric : int
        The first ``n_numeric`` input columns get features.
    n_frequencies : int, default=16
        Frequencies per column.
    n_features : int, default=3
        Learned features per column.
    sigma : float, default=0.1
        Standard deviation of the initial frequencies.
    lr_scale : float, default=0.1
        Learning-rate factor of all the layer's parameters.
    """

    def __init__(self, n_members, n_inputs, n_numeric, n_frequencies=16, n_features=3,
                 sigma=0.1, lr_scale=0.1):
        super().__init__(n_members, n_inputs, n_inputs + n_numeric * n_features)
        self.n_numeric, self.n_frequencies, self.n_features = n_numeric, n_frequencies, n_features
        self.sigma, self.lr_scale = float(sigma), float(lr_scale)

    def param_specs(self):
        f, k, o = self.n_numeric, self.n_frequencies, self.n_features
        return [
            ParamSpec("frequency", (f, k), False, self.lr_scale),
            ParamSpec("phase", (f, k), False, self.lr_scale),
            ParamSpec("coef", (f, k, o), True, self.lr_scale),
            ParamSpec("intercept", (f, o), False, self.lr_scale),
        ]

    def bind(self, params, grads):
        self.frequency, self.phase, self.coef, self.intercept = params
        self.frequency_grad, self.phase_grad, self.coef_grad, self.intercept_grad = grads

    def initialize_member(self, member, random_state, A):
        """Frequencies ~ N(0, sigma^2), phases ~ U(-pi, pi), linear part ~ U(-1/sqrt(k), ...)."""
        bound = 1.0 / np.sqrt(self.n_frequencies)
        self.frequency[member] = random_state.normal(scale=self.sigma,
                                                     size=self.frequency.shape[1:])
        self.phase[member] = random_state.uniform(-np.pi, np.pi, self.phase.shape[1:])
        self.coef[member] = random_state.uniform(-bound, bound, self.coef.shape[1:])
        self.intercept[member] = random_state.uniform(-bound, bound, self.intercept.shape[1:])

    # Per-column arrays are laid out (member, column, row, frequency): each
    # column's rows are one matrix, so the per-column products are one
    # batched matmul.
    def allocate(self, batch_size, dtype, random_state, input_grad):
        shape = (self.n_members, self.n_numeric, batch_size, self.n_frequencies)
        return _Buffers(
            input_grad=input_grad,
            angle=np.empty(shape, dtype),
            cosine=np.empty(shape, dtype),
            output=np.empty((self.n_members, batch_size, self.n_outputs), dtype),
        )

    def _angles(self, x, out=None):
        """``2 pi w x + b`` of every member, column, row and frequency, shape (k, f, n, K)."""
        angle = np.multiply(_transposed(x)[..., None], self.frequency[:, :, None, :], out=out)
        angle *= 2 * np.pi
        angle += self.phase[:, :, None, :]
        return angle

    def _features(self, cosine, out):
        """Each column's learned features into ``out``, shape (k, f, n, n_features)."""
        np.matmul(cosine, self.coef, out=out)
        out += self.intercept[:, :, None, :]
        return out

    def _write_output(self, cosine, A, out):
        """The features, computed in place in ``out`` (a view per column), then the input."""
        k, n = A.shape[:2]
        width = self.n_numeric * self.n_features
        self._features(cosine, out[:, :, :width].reshape(
            k, n, self.n_numeric, self.n_features).transpose(0, 2, 1, 3))
        out[:, :, width:] = A
        return out

    def forward(self, A, buffers, n):
        angle = self._angles(A[:, :, : self.n_numeric], out=buffers.angle[:, :, :n])
        cosine = np.cos(angle, out=buffers.cosine[:, :, :n])
        return self._write_output(cosine, A, buffers.output[:, :n])

    def backward(self, delta, A, buffers, n):
        f, o, k = self.n_numeric, self.n_features, self.n_members
        delta_features = delta[:, :, : f * o].reshape(k, n, f, o).transpose(0, 2, 1, 3)
        cosine = buffers.cosine[:, :, :n]
        np.matmul(_transposed(cosine), delta_features, out=self.coef_grad)
        np.add.reduce(delta_features, axis=2, out=self.intercept_grad)
        # d cos(angle) = -sin(angle): the angles are not needed after this.
        sine = np.sin(buffers.angle[:, :, :n], out=buffers.angle[:, :, :n])
        delta_angle = np.matmul(delta_features, _transposed(self.coef), out=cosine)
        delta_angle *= sine
        np.negative(delta_angle, out=delta_angle)
        np.add.reduce(delta_angle, axis=2, out=self.phase_grad)
        x = _transposed(A[:, :, :f])[:, :, None, :]
        np.matmul(x, delta_angle, out=self.frequency_grad[:, :, None, :])
        self.frequency_grad *= 2 * np.pi
        if buffers.input_grad is None:
            return None
        delta_in = delta[:, :, f * o :]
        wanted = range(self.n_inputs)[buffers.input_grad]
        if len(wanted) and wanted[0] < f:
            delta_in = delta_in.copy()
            through_angle = np.matmul(delta_angle, self.frequency[..., None])[..., 0]
            delta_in[:, :, :f] += 2 * np.pi * _transposed(through_angle)
        return delta_in[:, :, buffers.input_grad]

    def predict(self, A):
        angle = self._angles(A[:, :, : self.n_numeric])
        out = np.empty((*A.shape[:2], self.n_outputs), dtype=np.result_type(A, self.coef))
        return self._write_output(np.cos(angle, out=angle), A, out)

    @property
    def predict_width(self):
        # The angles and their cosines, beside the input and the output.
        return self.n_inputs + self.n_outputs + 2 * self.n_numeric * self.n_frequencies


class MemberPiecewiseLinear(_MemberLayer):
    """Piecewise-linear encodings of numeric columns (Gorishniy et al. 2022), per member.

    Column ``j`` has bins ``[lo_jt, lo_jt + width_jt]`` (quantile bins of
    the training values, shared by the members); a value ``x`` is encoded as
    ``clip((x - lo_jt) / width_jt, 0, 1)`` for every bin ``t``: 1 for the
    bins below ``x``, 0 for those above, the position inside the bin that
    holds it. One unit of the next layer can then switch on at any bin
    edge, as a tree's split does. The output is the input, then every
    column's encodings, or ``n_features`` learned linear combinations of
    them per column and member.

    Parameters
    ----------
    n_members : int
        Number of member networks.
    n_inputs : int
        Input width.
    lower : ndarray of shape (n_numeric, n_bins)
        Lower edge of each bin of the first ``n_numeric`` input columns.
    inverse_width : ndarray of shape (n_numeric, n_bins)
        ``1 / width`` of each bin; 0 marks an unused bin (its encoding is 0).
    n_features : int or None, default=None
        None outputs the encodings themselves (``n_bins`` per column); an
        int outputs that many learned features ``codes @ V_j + c_j`` per
        column.
    """

    def __init__(self, n_members, n_inputs, lower, inverse_width, n_features=None):
        lower, inverse_width = np.asarray(lower), np.asarray(inverse_width)
        if lower.ndim != 2 or lower.shape != inverse_width.shape:
            raise ValueError("Need one lower edge and one inverse width per column and bin.")
        n_numeric, n_bins = lower.shape
        n_features = None if n_features is None else int(n_features)
        width = n_bins if n_features is None else n_features
        super().__init__(n_members, n_inputs, n_inputs + n_numeric * width)
        self.n_numeric, self.n_bins, self.n_features = n_numeric, n_bins, n_features
        # Laid out (column, row, bin): broadcast against (member, column, row, bin).
        self.lower, self.inverse_width = lower[:, None, :], inverse_width[:, None, :]

    def param_specs(self):
        if self.n_features is None:
            return []
        f, k, o = self.n_numeric, self.n_bins, self.n_features
        lr_scale = 1.0 / np.sqrt(k)
        return [ParamSpec("coef", (f, k, o), True, lr_scale),
                ParamSpec("intercept", (f, o), False, lr_scale)]

    def bind(self, params, grads):
        if self.n_features is not None:
            (self.coef, self.intercept), (self.coef_grad, self.intercept_grad) = params, grads

    def initialize_member(self, member, random_state, A):
        """Linear part ~ U(-1/sqrt(n_bins), 1/sqrt(n_bins)), biases 0."""
        if self.n_features is not None:
            bound = 1.0 / np.sqrt(self.n_bins)
            self.coef[member] = random_state.uniform(-bound, bound, self.coef.shape[1:])
            self.intercept[member] = 0.0

    def allocate(self, batch_size, dtype, random_state, input_grad):
        shape = (self.n_members, self.n_numeric, batch_size, self.n_bins)
        return _Buffers(
            input_grad=input_grad,
            # The bins in the batch's dtype (float32 codes from float64 edges
            # would make every pass cast), spelled out for every row: against
            # a (column, 1, bin) operand NumPy runs the passes in loops of one
            # row's bins, 2-3x slower.
            lower=_rows_of(self.lower.astype(dtype), batch_size),
            inverse_width=_rows_of(self.inverse_width.astype(dtype), batch_size),
            codes=np.empty(shape, dtype),
            output=np.empty((self.n_members, batch_size, self.n_outputs), dtype),
        )

    def _codes(self, x, out, lower, inverse_width):
        """Encodings of every member, column, row and bin, shape (k, f, n, bins)."""
        np.subtract(_transposed(x)[..., None], lower, out=out)
        out *= inverse_width
        np.maximum(out, filled_like(out, 0.0), out=out)
        return np.minimum(out, filled_like(out, 1.0), out=out)

    def _write_output(self, codes, A, out):
        """The input, then the encodings or their learned features, in place in ``out``."""
        k, n = A.shape[:2]
        out[:, :, : self.n_inputs] = A
        width = self.n_bins if self.n_features is None else self.n_features
        # Each column's part of the output, as (k, f, n, width) views.
        columns = out[:, :, self.n_inputs :].reshape(k, n, self.n_numeric, width).transpose(
            0, 2, 1, 3)
        if self.n_features is None:
            columns[...] = codes
        else:
            np.matmul(codes, self.coef, out=columns)
            columns += self.intercept[:, :, None, :]
        return out

    def forward(self, A, buffers, n):
        codes = self._codes(A[:, :, : self.n_numeric], buffers.codes[:, :, :n],
                            buffers.lower[:, :n], buffers.inverse_width[:, :n])
        return self._write_output(codes, A, buffers.output[:, :n])

    def backward(self, delta, A, buffers, n):
        codes = buffers.codes[:, :, :n]
        width = self.n_bins if self.n_features is None else self.n_features
        k, f = self.n_members, self.n_numeric
        delta_out = delta[:, :, self.n_inputs :].reshape(k, n, f, width).transpose(0, 2, 1, 3)
        if self.n_features is not None:
            np.matmul(_transposed(codes), delta_out, out=self.coef_grad)
            np.add.reduce(delta_out, axis=2, out=self.intercept_grad)
        if buffers.input_grad is None:
            return None
        delta_in = delta[:, :, : self.n_inputs]
        wanted = range(self.n_inputs)[buffers.input_grad]
        if len(wanted) and wanted[0] < f:
            # Inside its bin a code moves with x at rate 1/width; at 0 or 1 it is flat.
            delta_codes = (delta_out if self.n_features is None
                           else np.matmul(delta_out, _transposed(self.coef)))
            slope = np.multiply((codes > 0) & (codes < 1), buffers.inverse_width[:, :n])
            delta_in = delta_in.copy()
            delta_in[:, :, :f] += _transposed((delta_codes * slope).sum(axis=3))
        return delta_in[:, :, buffers.input_grad]

    def predict(self, A):
        dtype = np.result_type(A, np.float32) if self.n_features is None else (
            np.result_type(A, self.coef))
        codes = self._codes(A[:, :, : self.n_numeric].astype(dtype, copy=False),
                            np.empty((A.shape[0], self.n_numeric, A.shape[1], self.n_bins),
                                     dtype),
                            # The same bins in the same dtype as in training.
                            self.lower.astype(dtype, copy=False),
                            self.inverse_width.astype(dtype, copy=False))
        return self._write_output(codes, A, np.empty((*A.shape[:2], self.n_outputs), dtype))

    @property
    def predict_width(self):
        # The codes, beside the input and the output.
        return self.n_inputs + self.n_outputs + self.n_numeric * self.n_bins
