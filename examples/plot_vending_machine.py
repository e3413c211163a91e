"""
Vending-machine sales: from one input to a hidden layer
=======================================================

A drinks vending machine stands in a park. How many cans will it sell
tomorrow? We build the model step by step, the way the :doc:`user guide
</user_guide/neuron>` builds networks: first a single neuron with one input
(the number of visitors), then a single neuron with two inputs (visitors and
temperature), then a network with a hidden layer, which captures that
people buy cold drinks when it is hot.

The sales records are synthetic (generated with a fixed seed) so that we
know the truth the models are chasing.
"""

# %%
# Two years of made-up sales
# --------------------------
# Each day has a number of park visitors and a temperature. The share of
# visitors who buy a can rises steeply once it gets warm (an S-shaped curve
# around 20 degrees), so sales are not a sum of "a bit per visitor" and "a
# bit per degree": the effect of one depends on the other.
import matplotlib.pyplot as plt
import numpy as np
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skdeep import MLPRegressor

rng = np.random.RandomState(0)
n_days = 730
visitors = rng.randint(50, 500, size=n_days)
temperature = rng.uniform(-5, 35, size=n_days)
share_buying = 0.02 + 0.18 / (1 + np.exp(-(temperature - 20) / 3))
sales = rng.poisson(visitors * share_buying).astype(float)

X = np.column_stack([visitors, temperature])
X_train, X_test, y_train, y_test = train_test_split(X, sales, random_state=0)
print(f"{len(X_train)} training days, {len(X_test)} test days")

# %%
# Step 1: one input, one neuron
# -----------------------------
# With ``hidden_layer_sizes=()`` the network is a single output neuron:
# ``sales = w * visitors + b``. The inputs are standardised first, which
# makes gradient-based training well behaved (see the user guide page on
# gradient descent); L-BFGS is the right solver for a data set this small.
one_input = make_pipeline(
    StandardScaler(),
    MLPRegressor(hidden_layer_sizes=(), solver="lbfgs", random_state=0),
)
one_input.fit(X_train[:, :1], y_train)
print(f"visitors only:         R^2 = {one_input.score(X_test[:, :1], y_test):.3f}")

# %%
# Step 2: two inputs, still one neuron
# ------------------------------------
# Adding the temperature gives ``sales = w1 * visitors + w2 * temperature + b``:
# a flat plane. Better, but a plane cannot express "visitors matter more
# when it is hot".
two_inputs = make_pipeline(
    StandardScaler(),
    MLPRegressor(hidden_layer_sizes=(), solver="lbfgs", random_state=0),
)
two_inputs.fit(X_train, y_train)
print(f"visitors, temperature: R^2 = {two_inputs.score(X_test, y_test):.3f}")

# %%
# Step 3: a hidden layer
# ----------------------
# Sixteen ReLU neurons between the inputs and the output let the network
# bend the plane: it can learn the warm-weather threshold and the
# interaction between the two inputs.
hidden_layer = make_pipeline(
    StandardScaler(),
    MLPRegressor(hidden_layer_sizes=(16,), solver="lbfgs", max_iter=2000, random_state=0),
)
hidden_layer.fit(X_train, y_train)
print(f"with a hidden layer:   R^2 = {hidden_layer.score(X_test, y_test):.3f}")

# %%
# What each model learned
# -----------------------
# Left: sales against visitors with the one-input model's straight line.
# Middle and right: predicted sales on a cool day (10 degrees) and a hot day
# (30 degrees) as the number of visitors grows. The linear model draws two
# parallel lines; the network, like the true process, makes the number of
# visitors matter far more on the hot day.
grid = np.linspace(50, 500, 100)
fig, axes = plt.subplots(1, 3, figsize=(13, 4), sharey=True)

axes[0].scatter(X_test[:, 0], y_test, s=8, alpha=0.5, color="gray", label="test days")
axes[0].plot(grid, one_input.predict(grid.reshape(-1, 1)), color="tab:blue", label="one neuron")
axes[0].set(title="Step 1: visitors only", xlabel="visitors", ylabel="cans sold")
axes[0].legend()

for ax, model, title in [
    (axes[1], two_inputs, "Step 2: two inputs, linear"),
    (axes[2], hidden_layer, "Step 3: hidden layer"),
]:
    for degrees, color in [(10, "tab:blue"), (30, "tab:red")]:
        inputs = np.column_stack([grid, np.full_like(grid, degrees)])
        truth = grid * (0.02 + 0.18 / (1 + np.exp(-(degrees - 20) / 3)))
        ax.plot(grid, model.predict(inputs), color=color, label=f"model, {degrees} °C")
        ax.plot(grid, truth, color=color, linestyle=":", label=f"truth, {degrees} °C")
    ax.set(title=title, xlabel="visitors")
    ax.legend()

fig.tight_layout()
plt.show()

# %%
# The weights of the two-input neuron
# -----------------------------------
# Because the inputs were standardised, the two weights are comparable:
# each is the change in predicted sales for one standard deviation more of
# that input.
network = two_inputs[-1]
w_visitors, w_temperature = network.coefs_[0].ravel()
print(f"weight of visitors:    {w_visitors:.1f} cans per standard deviation")
print(f"weight of temperature: {w_temperature:.1f} cans per standard deviation")
print(f"bias:                  {network.intercepts_[0][0]:.1f} cans")
