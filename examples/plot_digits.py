"""
Recognising handwritten digits
==============================

The digits data set that ships with scikit-learn has 1,797 images of
handwritten digits, 8 by 8 pixels with 16 grey levels each. An
:class:`~skdeep.MLPClassifier` with one hidden layer learns to read them.
We look at the confusion matrix to see which digits it mixes up, at the
images it gets wrong, and at what its hidden neurons respond to.
"""

# %%
# Data and model
# --------------
# The 64 pixel values become 64 input features, scaled to [0, 1]. A quarter
# of the images is held out for testing, with the same proportion of each
# digit in both parts. Adam (the default solver) with a slightly larger
# learning rate than the default 0.001 converges in well under 300 epochs.
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.metrics import ConfusionMatrixDisplay, classification_report
from sklearn.model_selection import train_test_split

from skdeep import MLPClassifier

digits = load_digits()
X = digits.data / 16.0
y = digits.target
X_train, X_test, y_train, y_test, images_train, images_test = train_test_split(
    X, y, digits.images, test_size=0.25, stratify=y, random_state=0
)

clf = MLPClassifier(
    hidden_layer_sizes=(64,), alpha=1e-3, learning_rate_init=0.003, max_iter=300, random_state=0
)
clf.fit(X_train, y_train)
print(f"epochs run: {clf.n_iter_}")
print(f"test accuracy: {clf.score(X_test, y_test):.3f}")

# %%
# Precision and recall per digit
# ------------------------------
y_pred = clf.predict(X_test)
print(classification_report(y_test, y_pred, digits=3))

# %%
# Confusion matrix
# ----------------
# Row ``i``, column ``j`` counts the test images of digit ``i`` that the
# network read as ``j``; everything off the diagonal is a mistake.
fig, ax = plt.subplots(figsize=(6, 6))
ConfusionMatrixDisplay.from_predictions(y_test, y_pred, ax=ax, colorbar=False)
ax.set_title("Digits: true label (rows) against prediction (columns)")
plt.show()

# %%
# The images it got wrong
# -----------------------
# Each title gives the true digit, the prediction and the probability the
# network gave to its prediction. Many of these are hard for people too.
wrong = np.flatnonzero(y_pred != y_test)
probabilities = clf.predict_proba(X_test)
n_shown = min(len(wrong), 12)
fig, axes = plt.subplots(2, 6, figsize=(10, 5.5))
for ax in axes.ravel():
    ax.set_axis_off()
for ax, index in zip(axes.ravel(), wrong[:n_shown]):
    ax.imshow(images_test[index], cmap="gray_r", interpolation="nearest")
    confidence = probabilities[index].max()
    ax.set_title(f"true {y_test[index]}, read {y_pred[index]}\n(p = {confidence:.2f})", fontsize=9)
fig.suptitle(f"{len(wrong)} of {len(y_test)} test images misclassified")
fig.tight_layout()
plt.show()

# %%
# What the hidden neurons look at
# -------------------------------
# Each hidden neuron has one weight per pixel: ``coefs_[0]`` has shape
# ``(64, 64)``, one column per neuron. Drawn as 8 by 8 images, the weights
# show which pixels excite a neuron (blue, positive weights) and which
# inhibit it (red, negative weights). The patterns are far less readable
# than hand-made features would be: the network only needs them to be
# useful in combination.
weights = clf.coefs_[0]
print("first-layer weights:", weights.shape)
fig, axes = plt.subplots(4, 8, figsize=(10, 5.5))
limit = np.abs(weights[:, :32]).max()
for neuron, ax in enumerate(axes.ravel()):
    ax.imshow(weights[:, neuron].reshape(8, 8), cmap="RdBu", vmin=-limit, vmax=limit)
    ax.set_axis_off()
fig.suptitle("Input weights of the first 32 hidden neurons")
plt.show()
