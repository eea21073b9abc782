# %% [markdown]
# # Lesson 8: Regularisation
#
# What this teaches: with little data a network memorises its training set
# (training accuracy far above test accuracy). Three remedies, each measured
# on the same small training set: weight decay (smaller weights), dropout
# (no neuron can rely on another), and early stopping (stop when validation
# stops improving, and go back to the best epoch).
#
# What to look at: the gap between training and test accuracy in each row.

# %%
import numpy as np

import minidl as mdl
import minidl.nn as nn
from minidl.data import DataLoader, Subset
from minidl.data.datasets import FashionMNIST
from minidl.lessons import fast
from minidl.train import EarlyStopping, evaluate, fit

n_train, epochs = (300, 15) if fast() else (1000, 30)
train = Subset(FashionMNIST(train=True), range(n_train))
test = Subset(FashionMNIST(train=False), range(1000 if fast() else 5000))


def run(dropout=0.0, weight_decay=0.0, callbacks=()):
    mdl.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.ReLU(), nn.Dropout(dropout), nn.Linear(256, 10))
    opt = mdl.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=weight_decay)
    loader = DataLoader(train, batch_size=50, shuffle=True, seed=0)
    history = fit(model, loader, nn.CrossEntropyLoss(), opt, epochs, val_loader=DataLoader(test, batch_size=500),
                  callbacks=callbacks, verbose=0)
    tr = evaluate(model, DataLoader(train, batch_size=500))["accuracy"]
    te = evaluate(model, DataLoader(test, batch_size=500))["accuracy"]
    return tr, te, len(history)


# %% [markdown]
# ## Dropout: different in training and in evaluation
# In training, each value is zeroed with probability p and the rest scaled by
# 1/(1-p), so the expected value is unchanged; in evaluation it does nothing.

# %%
drop = nn.Dropout(0.5)
x = mdl.tensor(np.ones((1, 8), dtype=np.float32))
print("train mode:", drop(x).numpy())
drop.eval()
print("eval mode: ", drop(x).numpy())

# %% [markdown]
# ## The experiment
# The same network and data, four ways.

# %%
rows = [
    ("no regularisation", run()),
    ("weight decay 1.0 (AdamW: w -= lr * 1.0 * w each step)", run(weight_decay=1.0)),
    ("dropout 0.5", run(dropout=0.5)),
    ("early stopping (patience 2, best weights)",
     run(callbacks=[EarlyStopping(monitor="val_loss", patience=2, restore_best_weights=True, verbose=1)])),
]
print(f"{'':55s} train   test   gap   epochs")
for name, (tr, te, ep) in rows:
    print(f"{name:55s} {tr:.3f}  {te:.3f}  {tr - te:+.3f}  {ep}")
