"""Entity embeddings: a learned vector per category, in front of the first layer.

A categorical column with ``K`` levels becomes a lookup table of ``K + 1``
rows and ``dim`` columns; row 0 is reserved for categories never seen in
training and for missing values. A sample's categorical code selects one row,
and the selected rows of all categorical columns are concatenated after the
numeric columns to form the first dense layer's input.

Raw inputs stay one float array: the categorical columns hold their integer
codes (exact in float32 up to 2**24), so batching, shuffling and validation
splits treat them like any other column. The tables are trained by
backpropagation like any weight: the gradient of a table is the scatter-add of
the first layer's input gradient over the rows that used each code.
"""

import numpy as np

__all__ = ["EmbeddingLayout"]


class EmbeddingLayout:
    """Which raw columns are numeric and which are embedded categoricals.

    Parameters
    ----------
    n_columns : int
        Number of raw input columns.
    categorical_columns : sequence of int
        Indices of the columns that hold category codes (0 = unknown).
    n_levels : sequence of int
        Table rows per categorical column (known categories + 1).
    dims : sequence of int
        Embedding width per categorical column.
    """

    def __init__(self, n_columns, categorical_columns, n_levels, dims):
        self.categorical_columns = [int(c) for c in categorical_columns]
        self.numeric_columns = [
            c for c in range(int(n_columns)) if c not in set(self.categorical_columns)
        ]
        self.n_levels = [int(n) for n in n_levels]
        self.dims = [int(d) for d in dims]
        if not (len(self.categorical_columns) == len(self.n_levels) == len(self.dims)):
            raise ValueError("Need one level count and one width per categorical column.")
        offsets = np.cumsum([len(self.numeric_columns), *self.dims])
        self.offsets = [int(o) for o in offsets[:-1]]

    @property
    def n_inputs(self):
        """Width of the first dense layer's input: numeric columns + embeddings."""
        return len(self.numeric_columns) + sum(self.dims)

    @property
    def table_shapes(self):
        return list(zip(self.n_levels, self.dims))

    def codes(self, X, j):
        """Integer codes of categorical column ``j`` (out-of-range -> 0, unknown)."""
        codes = X[:, self.categorical_columns[j]].astype(np.intp)
        codes[(codes < 0) | (codes >= self.n_levels[j])] = 0
        return codes

    def embed(self, X, tables, out=None):
        """First-layer input: numeric columns, then each column's table rows.

        Parameters
        ----------
        X : ndarray of shape (n_samples, n_columns)
            Raw inputs with codes in the categorical columns.
        tables : list of ndarray of shape (n_levels, dim)
            One embedding table per categorical column.
        out : ndarray of shape (>= n_samples, n_inputs), default=None
            Buffer to fill (its leading rows are used).

        Returns
        -------
        inputs : ndarray of shape (n_samples, n_inputs)
        """
        n_samples = X.shape[0]
        if out is None:
            out = np.empty((n_samples, self.n_inputs), dtype=tables[0].dtype)
        out = out[:n_samples]
        n_numeric = len(self.numeric_columns)
        out[:, :n_numeric] = X[:, self.numeric_columns]
        for j, table in enumerate(tables):
            start = self.offsets[j]
            out[:, start : start + self.dims[j]] = table[self.codes(X, j)]
        return out

    def scatter_gradient(self, X, input_grad, table_grads):
        """Accumulate each table's gradient from the input gradient.

        ``input_grad`` is the loss gradient with respect to the embedded part
        of the first layer's input, ``(n_samples, sum(dims))``; each row is
        added to the table row its code selected.
        """
        start = 0
        for j, grad in enumerate(table_grads):
            dim = self.dims[j]
            block = input_grad[:, start : start + dim]
            # One bincount over (code, component) pairs fills the whole table.
            slots = self.codes(X, j)[:, None] * dim + np.arange(dim)
            grad[...] = np.bincount(
                slots.ravel(), weights=block.ravel(), minlength=grad.size
            ).reshape(grad.shape)
            start += dim
