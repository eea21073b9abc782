# %% [markdown]
# # Lesson 8: Regularisation
#
# What this teaches: with little data a network memorises its training set
# (training accuracy far above test accuracy, and overconfident mistakes).
# Remedies, each measured on the same 500 training images: weight decay in
# its two forms (an L2 penalty in the loss; AdamW's decoupled decay), dropout
# (no neuron can rely on another), and early stopping (stop when the
# validation loss stops improving, and go back to the best epoch).
#
# Validation is not the test set. Early stopping *chooses* an epoch by
# looking at the validation loss, so that data is no longer unseen. The
# validation set here is held out of the training images
# (`fit(..., validation_split=0.5)`, as Keras: the last half of the 1,000);
# the test set is evaluated once, at the very end.
#
# What to look at: the weight norms and the test loss in the table, the
# epoch where early stopping stops, and the curves.

# %%
import numpy as np

import minidl as mdl
import minidl.nn as nn
import minidl.nn.functional as F
from minidl.data import DataLoader, Subset
from minidl.data.datasets import FashionMNIST
from minidl.course.lessons import fast, output_dir, record, show
from minidl.train import EarlyStopping, evaluate, fit
from minidl.viz import save_curves

N_TRAIN, EPOCHS = (500, 40) if fast() else (2000, 40)
pool = Subset(FashionMNIST(train=True), range(2 * N_TRAIN))  # fit keeps the first half, validates on the second
test = Subset(FashionMNIST(train=False), range(2000 if fast() else 10000))


def make_model(dropout=0.0):
    mdl.manual_seed(0)
    return nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.ReLU(), nn.Dropout(dropout), nn.Linear(256, 10))


def weight_norm(model):
    """sqrt(sum of w^2) over the weight matrices (not the biases)."""
    return float(np.sqrt(sum((p.numpy() ** 2).sum() for name, p in model.named_parameters() if "weight" in name)))


# %% [markdown]
# ## Weight decay, form 1: an L2 penalty in the loss
# Add (lambda / 2) * sum(w^2) to the loss. Its gradient is lambda * w, so every
# step pulls each weight towards 0 in proportion to its size:
#
#     L'(w) = L(w) + (lambda / 2) * ||w||^2        grad L'(w) = grad L(w) + lambda * w
#
# This is what `weight_decay=` does in minidl's (and PyTorch's) SGD and Adam:
# it adds lambda * w to the gradient before the optimizer's update. Keras
# writes it per layer, `Dense(256, kernel_regularizer=l2(c))`, which adds
# c * sum(w^2) (no 1/2) for the kernel only: the same as weight_decay = 2c on
# that layer's weights. Below, one Adam step with the penalty written into the
# loss by hand and one with `weight_decay=` land on the same weights.

# %%
lam = 1e-2
x0, y0 = pool.dataset.get_batch(np.arange(50))
by_hand, built_in = make_model(), make_model()
opt_hand = mdl.optim.Adam(by_hand.parameters(), lr=1e-3)
opt_built_in = mdl.optim.Adam(built_in.parameters(), lr=1e-3, weight_decay=lam)
penalty = sum((p * p).sum() for p in by_hand.parameters()) * (lam / 2)  # Adam's decays biases too
loss_hand = F.cross_entropy(by_hand(x0), y0) + penalty
opt_hand.zero_grad()
loss_hand.backward()
opt_hand.step()
loss_built_in = F.cross_entropy(built_in(x0), y0)
opt_built_in.zero_grad()
loss_built_in.backward()
opt_built_in.step()
gap = max(float(np.abs(a.numpy() - b.numpy()).max()) for a, b in zip(by_hand.parameters(), built_in.parameters()))
print(f"penalty in the loss vs weight_decay={lam}: largest difference in the weights after a step {gap:.1e}")
assert gap < 1e-6

# %% [markdown]
# ## Weight decay, form 2: decoupled (AdamW)
# Adam divides each gradient by the root of its running square. The L2
# gradient lambda * w is divided too, so a weight with large gradients is
# hardly decayed at all. AdamW (Loshchilov and Hutter, 2019) takes the decay
# out of the gradient and applies it to the weights directly, at the same
# rate for every weight:
#
#     w <- w - lr * adam_update(grad L)  -  lr * lambda * w
#
# The two lambdas are not on the same scale: here each AdamW step shrinks a
# weight by lr * lambda = 0.1% (lambda = 1.0), which is why AdamW's usual
# values (0.01 to 1) are much larger than L2's (1e-5 to 1e-2).

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
# The same network, data and seed, five ways, each trained for up to 40
# epochs with Adam (lr 1e-3, batches of 50). The early stop watches the
# validation loss with patience 3, and an epoch counts as better only if it
# lowers the loss by more than min_delta = 0.005.

# %%
def run(name, dropout=0.0, optimizer=mdl.optim.Adam, weight_decay=0.0, callbacks=()):
    model = make_model(dropout)
    loader = DataLoader(pool, batch_size=50, shuffle=True, seed=0)
    history = fit(model, loader, nn.CrossEntropyLoss(), optimizer(model.parameters(), lr=1e-3, weight_decay=weight_decay),
                  EPOCHS, validation_split=0.5, callbacks=callbacks, verbose=0)
    train_part = Subset(pool, range(N_TRAIN))
    train_acc = evaluate(model, DataLoader(train_part, batch_size=500))["accuracy"]
    return dict(name=name, model=model, history=history, train=train_acc, norm=weight_norm(model))


stopper = EarlyStopping(monitor="val_loss", patience=3, min_delta=0.005, restore_best_weights=True, verbose=1)
runs = [
    run("no regularisation"),
    run("L2 penalty 1e-2 (Adam weight_decay)", weight_decay=1e-2),
    run("decoupled 1.0 (AdamW weight_decay)", optimizer=mdl.optim.AdamW, weight_decay=1.0),
    run("dropout 0.5", dropout=0.5),
    run("early stopping", callbacks=[stopper]),
]

# %% [markdown]
# ## The test set, once
# Only now, with every choice made, the five models meet the test set.

# %%
print(f"{'':37s} train  test   gap    test loss  |W|    epochs")
for r in runs:
    scores = evaluate(r["model"], DataLoader(test, batch_size=500), nn.CrossEntropyLoss())
    r.update(test=scores["accuracy"], test_loss=scores["loss"])
    print(f"{r['name']:37s} {r['train']:.3f}  {r['test']:.3f}  {r['train'] - r['test']:+.3f}  "
          f"{r['test_loss']:.3f}      {r['norm']:5.2f}  {len(r['history'])}")
none, l2, adamw, dropout, early = runs
record("08", **{f"{key}_{label}": r[key] for label, r in zip(("none", "l2", "adamw", "dropout", "early"), runs)
                for key in ("train", "test", "test_loss", "norm")},
       early_epochs=len(early["history"]), early_best=stopper.best_epoch + 1, epochs=EPOCHS)

# %% [markdown]
# What the numbers say (measured with `--fast`, 500 training images, 2,000
# test images): without regularisation the network fits its training set
# (0.998) and its test loss is the worst (0.67). The L2 penalty shrinks the
# weights the most (|W| 18.3 -> 7.1), AdamW's decoupled decay less at this
# lambda (-> 15.5); every remedy lowers the test loss (to 0.60-0.64), that is
# the network is less confidently wrong. Test *accuracy* moves by at most 1.4
# points, and down rather than up: with 500 images the limit is what the
# data shows, not how the weights are kept in check, and a regulariser that
# narrows the gap by lowering the training accuracy does not raise the test
# accuracy by itself. The gap narrows the most with early stopping (it
# trained the least).
#
# At full size (2,000 training images, 10,000 test images, about 1.5 minutes)
# the same holds more clearly: test loss 0.65 without regularisation against
# 0.52-0.55 with each remedy, |W| 27.9 -> 6.8 (L2) and 17.9 (AdamW), the gap
# 0.17 -> 0.08-0.14; test accuracy 0.824 without, 0.830 with AdamW (the only
# gain), 0.81-0.82 with the others.
#
# Early stopping stopped at epoch 17 of 40 and went back to epoch 14, its
# best validation loss (full size: stopped at 11, back to 8): the validation
# loss had started to climb while the training loss kept falling (the
# curves below; the dotted line is epoch 14).

# %%
show(save_curves({r["name"]: r["history"] for r in (none, l2, early)}, output_dir("08") / "curves.png",
                 keys=("loss", "val_loss", "val_accuracy"), marks={early["name"]: stopper.best_epoch + 1},
                 title="500 training images: training loss falls, validation loss turns"))

# %% [markdown]
# ## The early-stopping rules, replayed
# `EarlyStopping` is a rule over the sequence of monitored values; the model
# only matters for saving and restoring weights. So we can replay the
# no-regularisation run's recorded validation curves through different
# settings and see where each would have stopped:
#
# - `patience`: how many epochs without improvement to wait;
# - `min_delta`: an epoch improves only if it beats the best by more than this
#   (a bigger min_delta ignores tiny improvements and stops sooner);
# - `mode`: "min" for a loss, "max" for an accuracy ("auto" guesses from the name);
# - `baseline`: the value to reach; until an epoch beats it, improvements do
#   not reset the patience counter, so a run that never reaches it stops at
#   its first epoch without improvement once `patience` epochs have passed
#   (below: no epoch reaches a validation loss of 0.3);
# - `restore_best_weights`: at the end, put back the weights of the best epoch
#   (without it, you keep the last epoch's weights, `patience` epochs past the best).

# %%
class Recorder:
    """Stands in for the model: EarlyStopping sets stop_training and copies state_dict."""

    stop_training = False

    def state_dict(self):
        return {}


def replay(history, **settings):
    """The epoch (from 1) at which EarlyStopping(**settings) stops on ``history``, and its best epoch."""
    rule, model = EarlyStopping(**settings), Recorder()
    rule.set_model(model)
    rule.on_train_begin()
    for epoch, logs in enumerate(history):
        rule.on_epoch_end(epoch, logs)
        if model.stop_training:
            return epoch + 1, rule.best_epoch + 1
    return None, rule.best_epoch + 1


curve = none["history"]
settings = {
    "val_loss, patience 3": dict(monitor="val_loss", patience=3),
    "val_loss, patience 3, min_delta 0.02": dict(monitor="val_loss", patience=3, min_delta=0.02),
    "val_loss, patience 10": dict(monitor="val_loss", patience=10),
    "val_accuracy, mode max, patience 3": dict(monitor="val_accuracy", mode="max", patience=3),
    "val_loss, patience 3, baseline 0.3": dict(monitor="val_loss", patience=3, baseline=0.3),
}
print(f"lowest validation loss {min(curve['val_loss']):.3f} at epoch {int(np.argmin(curve['val_loss'])) + 1}")
stops = {}
for label, kw in settings.items():
    stops[label] = replay(curve, **kw)
    stopped, best = stops[label]
    print(f"{label:38s} stops at epoch {stopped or '- (never)'}, best epoch {best}")
record("08", replay_p3=stops["val_loss, patience 3"][0], replay_p10=stops["val_loss, patience 10"][0],
       replay_delta=stops["val_loss, patience 3, min_delta 0.02"][0],
       replay_baseline=stops["val_loss, patience 3, baseline 0.3"][0])
