"""The command line: ``python -m minidl {train, summary, datasets}``.

    python -m minidl train --dataset fashion-mnist --epochs 2 --out runs/demo
    python -m minidl train --out runs/demo --resume              # pick the run up where it stopped
    python -m minidl train --recipe keras-mnist --out runs/keras  # the Keras MNIST convnet recipe, exactly
    python -m minidl summary keras-mnist-convnet --input-shape 3,32,32
    python -m minidl datasets

``train`` holds out the last ``--val-split`` of the training images (10% by
default, as Keras' ``validation_split``) for validation, the numbers that
choose the epoch (``--patience``); the test set is evaluated once, at the end,
and chooses nothing. It writes into ``--out``:

    settings.json   the run's settings and its run id (written atomically)
    checkpoint.npz  the full training state, after every epoch (with the run id)
    model.npz       the final weights
    history.csv     one row per epoch, numbered from 1 as the console counts
    curves.png      the training curves (with matplotlib)

A used ``--out`` is refused: ``--resume`` continues the run in it (its
checkpoint must carry the run id of its settings.json), ``--overwrite``
removes those five files (and their stale temporaries) and starts a new run.
Other files in the folder are left alone.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import shlex
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Optional, Sequence

import numpy

import minidl as mdl
from minidl import augment as A
from minidl import nn
from minidl.data import sources


@dataclass(frozen=True)
class DatasetChoice:
    """What ``--dataset NAME`` means."""

    make: Callable[..., Any]  # make(train=True, download=True) -> Dataset
    image_shape: tuple        # one image: (C, H, W)
    augment: str              # the default --augment for it
    source: Any = None        # a minidl.data.sources.Source: where `datasets` looks for the files


DATASETS = {
    # flips are fine for clothes and for CIFAR-10's objects; a flipped digit is another digit (or none)
    "fashion-mnist": DatasetChoice(lambda **kw: mdl.data.datasets.FashionMNIST(**kw), (1, 28, 28),
                                   "flip,shift,rotate", sources.FASHION_MNIST),
    "mnist": DatasetChoice(lambda **kw: mdl.data.datasets.MNIST(**kw), (1, 28, 28), "shift,rotate", sources.MNIST),
    "cifar10": DatasetChoice(lambda **kw: mdl.data.datasets.CIFAR10(**kw), (3, 32, 32), "flip,crop",
                             sources.CIFAR10),
}

AUGMENTATIONS = {
    "flip": lambda: A.RandomFlip("horizontal"),
    "shift": lambda: A.RandomShift(0.1, 0.1),
    "rotate": lambda: A.RandomRotation(10),
    "zoom": lambda: A.RandomZoom(0.1),
    "shear": lambda: A.RandomShear(10),
    "crop": None,  # needs the image size: made in _augmentations
    "color": lambda: A.ColorJitter(brightness=0.2, contrast=0.2),
    "erase": lambda: A.RandomErasing(p=0.5),
    "noise": lambda: A.GaussianNoise(0.02),
}

# The images each model was made for (`summary` without --input-shape); the others: ImageNet's 3x224x224.
NATIVE_SHAPES = {"keras-mnist-convnet": (1, 28, 28), "mlp": (1, 28, 28), "resnet20-cifar": (3, 32, 32)}

# The settings of a run (settings.json) and their defaults; None: chosen per dataset or off.
DEFAULTS = {"model": "keras-mnist-convnet", "dataset": "fashion-mnist", "epochs": 2, "batch_size": 128,
            "lr": 1e-3, "augment": None, "val_split": 0.1, "patience": None, "seed": 0, "limit": None,
            "recipe": None}

# The Keras MNIST convnet example (keras.io/examples/vision/mnist_convnet), as written:
# batch 128, 15 epochs, validation_split=0.1, Adam with its default rate, no augmentation.
RECIPES = {
    "keras-mnist": {"model": "keras-mnist-convnet", "batch_size": 128, "epochs": 15, "val_split": 0.1,
                    "lr": 1e-3, "augment": "none"},
}

# minidl's own files of a run: the only files --overwrite removes.
RUN_FILES = ("settings.json", "checkpoint.npz", "model.npz", "history.csv", "curves.png")


class UsageError(Exception):
    """A bad command-line argument or a run folder that cannot be used: one line, exit status 2."""


# ------------------------------------------------------------ argument types
# argparse types: a bad value's message follows argparse's "argument --lr: ".
def _number(kind: type, allow_zero: bool) -> Callable[[str], Any]:
    """A finite ``kind`` (int or float) above 0, or at least 0 with ``allow_zero``."""
    noun = "integer" if kind is int else "number"
    expected = f"an {noun} >= 0" if allow_zero else f"a positive {noun}"

    def parse(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be {expected}, got {text!r}") from None
        if not math.isfinite(value) or value < 0 or (value == 0 and not allow_zero):  # NaN is not finite
            raise argparse.ArgumentTypeError(f"must be {expected}, got {text}")
        return value

    return parse


def _fraction(text: str) -> float:
    """A number in [0, 1)."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not 0.0 <= value < 1.0:  # NaN fails too
        raise argparse.ArgumentTypeError(f"must be a fraction in [0, 1) (e.g. 0.1), got {text!r}")
    return value


def _image_shape(text: str) -> tuple:
    """'3,32,32' -> (3, 32, 32)."""
    parts = text.split(",")
    if len(parts) != 3 or not all(p.strip().isdigit() and int(p) > 0 for p in parts):
        raise argparse.ArgumentTypeError(f"must be C,H,W (three positive integers), got {text!r}")
    return tuple(int(p) for p in parts)


def _device(text: str) -> str:
    try:
        return mdl.backend.parse_device(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


# ------------------------------------------------------------ building blocks
def _augmentations(spec: str, image_shape: tuple) -> Optional[A.Compose]:
    """'flip,shift,rotate' -> a Compose of those ops (None for '' or 'none')."""
    if not spec or spec == "none":
        return None
    ops = []
    for name in [s.strip() for s in spec.split(",") if s.strip()]:
        if name not in AUGMENTATIONS:
            raise UsageError(f"unknown augmentation {name!r}; choose from {', '.join(sorted(AUGMENTATIONS))}")
        ops.append(A.RandomCrop(image_shape[1:], padding=2) if name == "crop" else AUGMENTATIONS[name]())
    return A.Compose(ops)


def _tta_transform(spec: str) -> Any:
    """Test-time augmentation: flips when training used flips, else small shifts."""
    names = set((spec or "").split(","))
    return A.RandomFlip("horizontal", p=1.0) if "flip" in names else A.RandomShift(0.05, 0.05)


def _model(name: str, image_shape: tuple) -> nn.Module:
    """A fresh model for images of ``image_shape`` (C, H, W) and 10 classes."""
    if name == "mlp":
        kwargs = {"in_features": math.prod(image_shape)}
    else:
        kwargs = {"num_classes": 10, "in_channels": image_shape[0]}
    if name == "keras-mnist-convnet":  # its last layer is sized by the image; the others pool globally
        kwargs["input_size"] = image_shape[1:]
    try:
        return mdl.models.get_model(name, **kwargs)
    except ValueError as error:  # e.g. images too small for the network
        raise UsageError(f"{name} for images {','.join(map(str, image_shape))}: {error}") from None


def _summary(model: nn.Module, name: str, image_shape: tuple) -> str:
    """The model's summary table; a model that cannot take these images is a one-line error."""
    try:
        return nn.summary(model, image_shape, print_fn=None)
    except ValueError as error:  # e.g. a feature map shrunk to nothing
        raise UsageError(f"{name} cannot take images of shape {','.join(map(str, image_shape))}: {error}") from None


# ------------------------------------------------------------ the run folder
def _write_json_atomically(path: Path, value: dict) -> None:
    """Write ``value`` as JSON to ``path``: a temporary file, fsync, then os.replace (as minidl.save does)."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as f:
            f.write(json.dumps(value, indent=2) + "\n")
            f.flush()
            os.fsync(f.fileno())  # the bytes are on disk before the name points at them
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _read_settings(path: Path) -> dict:
    """settings.json of a run; a damaged one is a one-line error naming it."""
    try:
        saved = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, ValueError) as error:
        raise UsageError(f"{path} is damaged ({error}); start the run over with --overwrite") from None
    missing = [key for key in (*DEFAULTS, "run_id") if key not in saved] if isinstance(saved, dict) else ["all"]
    if missing:
        raise UsageError(f"{path} is damaged (missing {', '.join(missing)}); start the run over with --overwrite")
    return saved


def _run_files(out: Path) -> list:
    """The files of a minidl run in ``out``, and the temporaries an interrupted save may have left."""
    found = []
    for name in RUN_FILES:
        found += [p for p in [out / name, *out.glob(f".{name}.*.tmp")] if p.is_file()]
    return found


def _writable_folder(out: Path, create: bool) -> None:
    """``out`` is (or, with ``create``, becomes) a folder this process can write in."""
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out} is a file; expected a folder for the run")
    try:
        if create:
            out.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".minidl-probe.", dir=out)  # access() says yes to root, even read-only
        os.close(fd)
        os.unlink(probe)
    except OSError as error:
        raise UsageError(f"--out {out} is not writable ({error.strerror}); choose another folder") from None


def _refuse_used(out: Path, overwrite: bool) -> None:
    """A new run needs an empty --out, or --overwrite."""
    entries = sorted(p.name for p in out.iterdir())
    if entries and not overwrite:
        shown = ", ".join(entries[:4]) + (f" and {len(entries) - 4} more" if len(entries) > 4 else "")
        raise UsageError(f"--out {out} is not empty ({shown}); add --resume to continue the run in it, "
                         f"--overwrite to start a new one there, or choose another folder")


def _clear_old_run(out: Path) -> None:
    """--overwrite: remove the old run's files (only minidl's own), settings.json first."""
    old = _run_files(out)
    old.sort(key=lambda p: p.name != "settings.json")  # a half-cleared folder cannot be resumed
    for path in old:
        path.unlink()
    if old:
        print(f"--overwrite: removed the old run's {', '.join(p.name for p in old)} from {out}")


# ------------------------------------------------------------ settings
def _given(args: argparse.Namespace) -> dict:
    """The settings given on the command line (None: not given)."""
    return {key: getattr(args, key) for key in DEFAULTS if getattr(args, key) is not None}


def _flag(key: str) -> str:
    return "--" + key.replace("_", "-")


def _new_settings(args: argparse.Namespace) -> dict:
    """The settings of a new run: the flags given, else the recipe's, else the defaults; a fresh run id."""
    given = _given(args)
    recipe = RECIPES.get(args.recipe, {})
    fixed = [f"{_flag(k)} (the recipe uses {recipe[k]})" for k in recipe if k in given]
    if fixed:
        raise UsageError(f"--recipe {args.recipe} runs the recipe as written; leave out {', '.join(fixed)}")
    settings = {**DEFAULTS, **recipe, **given}
    if settings["augment"] is None:
        settings["augment"] = DATASETS[settings["dataset"]].augment
    if settings["patience"] is not None and not settings["val_split"]:
        raise UsageError("--patience needs validation data: --val-split must be above 0")
    settings["run_id"] = uuid.uuid4().hex
    return settings


def _resumed_settings(args: argparse.Namespace, path: Path) -> dict:
    """The saved settings of the run in --out; only --epochs may change (be raised)."""
    saved = _read_settings(path)
    given = _given(args)
    changed = [f"{_flag(k)} (the run has {saved[k]!r})" for k, v in given.items() if k != "epochs" and v != saved[k]]
    if changed:
        raise UsageError(f"--resume continues the run with the settings in {path}; "
                         f"it cannot change {', '.join(changed)}")
    if given.get("epochs", saved["epochs"]) < saved["epochs"]:
        raise UsageError(f"--epochs {given['epochs']} is below the run's {saved['epochs']}; resume can only raise it")
    return {**saved, "epochs": given.get("epochs", saved["epochs"])}


def _rank_zeros(text: str, comm: Any) -> str:
    """Rank 0's value of a 32-character string (a run id), on every rank."""
    chars = numpy.frombuffer(text.encode().ljust(32)[:32], dtype=numpy.uint8).copy()
    comm.broadcast(chars)
    return chars.tobytes().decode().strip()


def _check_belongs(checkpoint: Path, run_id: str) -> None:
    """The checkpoint in --out is this run's (its run id is the one in settings.json), or a one-line error."""
    try:
        mdl.train.checkpoint.check_run_id(mdl.load(checkpoint), run_id, where=str(checkpoint))
    except ValueError as error:  # another run's checkpoint, or a damaged file: never adopted
        raise UsageError(f"--resume: {error}; start a new run with --overwrite") from None


def _resume_command(out: Path, device: str) -> str:
    return f"python -m minidl train --out {shlex.quote(str(out))} --resume" + \
        (f" --device {device}" if device != "cpu" else "")


def _interrupted(out: Path, checkpoint: Path, settings: dict, device: str) -> str:
    """The one line printed on Ctrl-C: where the last checkpoint is, and the command that resumes."""
    if checkpoint.exists():
        epoch = int(mdl.load(checkpoint)["epoch"]) + 1  # saved from 0; the console counts from 1
        return (f"interrupted: the last checkpoint is {checkpoint} (after epoch {epoch}/{settings['epochs']}); "
                f"resume with: {_resume_command(out, device)}")
    return (f"interrupted before the first checkpoint; this run starts again from epoch 1 with: "
            f"{_resume_command(out, device)}")


# ------------------------------------------------------------ the commands
def cmd_train(args: argparse.Namespace) -> int:
    """Check everything, then clear (--overwrite) or resume, train, report the test set once, write the run."""
    out, checkpoint = Path(args.out), Path(args.out) / "checkpoint.npz"
    comm = mdl.distributed.init() if args.distributed else mdl.distributed.SingleProcess()
    main_rank = comm.rank == 0
    settings = _settings(args, out)
    if settings["batch_size"] % comm.world_size:
        raise UsageError(f"--batch-size {settings['batch_size']} is the global batch: it must divide among the "
                         f"{comm.world_size} processes")
    settings["run_id"] = _rank_zeros(settings["run_id"], comm)  # one run, one id (each rank drew its own)
    choice = DATASETS[settings["dataset"]]
    mdl.manual_seed(settings["seed"])  # the seed decides the initial weights and the augmentation's draws
    transform = _augmentations(settings["augment"], choice.image_shape)
    model = _model(settings["model"], choice.image_shape)
    table = _summary(model, settings["model"], choice.image_shape)  # the model takes the data's images
    _writable_folder(out, create=not args.resume)
    if args.resume and checkpoint.exists():
        _check_belongs(checkpoint, settings["run_id"])
    elif not args.resume:
        _refuse_used(out, args.overwrite)
    if args.device != "cpu":
        try:
            mdl.set_backend(args.device)
        except RuntimeError as error:  # CuPy missing: the error says how to install it
            raise UsageError(str(error)) from None
    try:
        train_set, test_set = _data(choice, settings["limit"])
    except (FileNotFoundError, mdl.data.DownloadError) as error:
        print(f"python -m minidl train: {error}", file=sys.stderr)
        return 1
    train_loader, val_loader = _training_loaders(train_set, transform, settings, args.device, comm)
    test_loader = mdl.data.DataLoader(test_set, batch_size=500, device=args.device)

    # Every check has passed (on every rank): only now does the folder change, and only rank 0 changes it.
    comm.barrier()
    if main_rank:
        if args.overwrite:
            _clear_old_run(out)
        _write_json_atomically(out / "settings.json", settings)  # before any checkpoint: its run id names the run
    else:
        sys.stdout = open(os.devnull, "w")  # one rank speaks
    comm.barrier()
    n_val = len(val_loader.dataset) if val_loader is not None else 0
    print(f"{settings['dataset']}: {len(train_loader.dataset)} training images, {n_val} validation images "
          f"(the last {settings['val_split']:.0%} of the training set, not augmented), {len(test_set)} test images "
          f"(evaluated once, after training)" + (f"; recipe {settings['recipe']}" if settings["recipe"] else ""))
    print(table)
    model.to(args.device)
    net = mdl.distributed.DistributedDataParallel(model, comm) if args.distributed else model
    optimizer = mdl.optim.Adam(net.parameters(), lr=settings["lr"])
    callbacks = []
    if settings["patience"] is not None:  # choose the epoch on the validation data, never on the test set
        callbacks.append(mdl.train.EarlyStopping(monitor="val_loss", patience=settings["patience"],
                                                 restore_best_weights=True))
    loss = nn.CrossEntropyLoss()
    start = time.perf_counter()
    try:
        history = mdl.train.fit(net, train_loader, loss, optimizer, settings["epochs"], val_loader=val_loader,
                                callbacks=callbacks, checkpoint=checkpoint, run_id=settings["run_id"],
                                resume_from=checkpoint if args.resume and checkpoint.exists() else None,
                                verbose=args.verbose)
    except KeyboardInterrupt:
        print(_interrupted(out, checkpoint, settings, args.device), file=sys.stderr)
        return 130
    print(f"training took {time.perf_counter() - start:.1f} s" + (f" on {comm.world_size} processes" if args.distributed else ""))
    if main_rank:
        _report_test(model, test_loader, loss, settings["augment"])
        _write_results(out, model, history)
    return 0


def _settings(args: argparse.Namespace, out: Path) -> dict:
    """The run's settings: saved ones for --resume, else new ones (with a new run id)."""
    settings_path = out / "settings.json"
    if args.resume and args.overwrite:
        raise UsageError("give --resume (continue the run in --out) or --overwrite (start a new one), not both")
    if args.resume and not settings_path.is_file():
        raise UsageError(f"--resume: {settings_path} not found; start the run without --resume first")
    return _resumed_settings(args, settings_path) if args.resume else _new_settings(args)


def _data(choice: DatasetChoice, limit: Optional[int]) -> tuple:
    """(training set, test set); with --limit, the first ``limit`` training images and a fifth as many test ones."""
    train_set, test_set = choice.make(train=True, download=True), choice.make(train=False, download=True)
    if limit:
        train_set = mdl.data.Subset(train_set, range(min(limit, len(train_set))))
        test_set = mdl.data.Subset(test_set, range(min(max(limit // 5, 100), len(test_set))))
    return train_set, test_set


def _training_loaders(train_set: Any, transform: Any, settings: dict, device: str, comm: Any) -> tuple:
    """(training loader, validation loader or None): the last --val-split of the training set is held out.

    With several processes each loader yields this rank's shard, in batches of batch_size / world_size.
    """
    loader = mdl.data.DataLoader(train_set, batch_size=settings["batch_size"] // comm.world_size, shuffle=True,
                                 seed=settings["seed"], transform=transform, prefetch=2, device=device,
                                 num_replicas=comm.world_size, rank=comm.rank)
    if not settings["val_split"]:
        return loader, None
    try:
        return mdl.train.split_validation(loader, settings["val_split"])
    except ValueError as error:  # e.g. too few images to hold any out
        raise UsageError(f"--val-split: {error}") from None


def _write_results(out: Path, model: nn.Module, history: Any) -> None:
    """model.npz, history.csv and (with matplotlib) curves.png."""
    mdl.save(model.state_dict(), out / "model.npz")
    history.to_csv(out / "history.csv", first_epoch=1)  # epochs numbered as the console shows them
    try:
        history.plot(out / "curves.png")
    except ImportError:
        print("(curves.png skipped: pip install 'minidl[plot]' for matplotlib)")
    print(f"wrote {out}/: settings.json checkpoint.npz model.npz history.csv"
          + (" curves.png" if (out / "curves.png").exists() else ""))


def _report_test(model: nn.Module, test_loader: Any, loss: Any, augment: str) -> None:
    """The test set, once, after training (it chose nothing): accuracy, and with test-time augmentation."""
    plain = mdl.train.evaluate(model, test_loader, loss)["accuracy"]
    correct, total = 0, 0
    tta = _tta_transform(augment)
    for x, y in test_loader:
        probs = A.tta_predict(model, x, tta, n=2)
        correct += int((probs.argmax(axis=1) == mdl.backend.to_numpy(y)).sum())
        total += len(y)
    print(f"test set ({total} images, evaluated once, after training):")
    print(f"  test accuracy: {plain:.2%}")
    print(f"  test accuracy with test-time augmentation (2 views): {correct / total:.2%}")


def cmd_summary(args: argparse.Namespace) -> int:
    shape = args.input_shape or NATIVE_SHAPES.get(args.model, (3, 224, 224))
    print(_summary(_model(args.model, shape), args.model, shape))
    return 0


def cmd_datasets(args: argparse.Namespace) -> int:
    print(f"cache: {sources.cache_dir()}")
    for name, choice in DATASETS.items():  # the names --dataset takes
        source = choice.source
        found = source and next((d for d in sources.candidate_dirs(source) if sources.present(d, source)), None)
        print(f"  {name:<14} {'found in ' + str(found) if found else 'not available locally (downloads on first use)'}")
    return 0


# ------------------------------------------------------------ the parser
class _Parser(argparse.ArgumentParser):
    """argparse, with every error on one line (no usage block): ``prog: error: message``."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def _default(key: str) -> str:
    return f" (default: {DEFAULTS[key]})"


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m minidl", description="minidl: train and inspect models.")
    sub = parser.add_subparsers(dest="command", required=True)
    t = sub.add_parser(
        "train", help="train a model on a dataset",
        description="Train a model. The last --val-split of the training images is held out for validation; "
                    "the test set is evaluated once, after training. --out receives " + ", ".join(RUN_FILES)
                    + "; a used --out needs --resume (continue its run) or --overwrite (remove those files of the "
                    "old run, and their stale temporaries, then start a new run; other files stay).")
    t.add_argument("--model", choices=mdl.models.list_models(), help="the network" + _default("model"))
    t.add_argument("--dataset", choices=list(DATASETS), help="the data" + _default("dataset"))
    t.add_argument("--epochs", type=_number(int, allow_zero=False), help="epochs" + _default("epochs"))
    t.add_argument("--batch-size", type=_number(int, allow_zero=False),
                   help="images per step" + _default("batch_size"))
    t.add_argument("--lr", type=_number(float, allow_zero=False), help="Adam's learning rate" + _default("lr"))
    t.add_argument("--augment", help=f"comma-separated, from: {', '.join(sorted(AUGMENTATIONS))}, or 'none' "
                   f"(default: per dataset: " + "; ".join(f"{n} {c.augment}" for n, c in DATASETS.items()) + ")")
    t.add_argument("--val-split", type=_fraction,
                   help="the fraction of the training images held out for validation, as Keras' "
                        "validation_split; 0: none" + _default("val_split"))
    t.add_argument("--patience", type=_number(int, allow_zero=True),
                   help="stop when val_loss has not improved for this many epochs and keep the best epoch's "
                        "weights (default: off)")
    t.add_argument("--recipe", choices=sorted(RECIPES),
                   help="keras-mnist: the Keras MNIST convnet recipe as written (keras-mnist-convnet, batch 128, "
                        "15 epochs, validation split 0.1, Adam lr 1e-3, no augmentation); it refuses flags that "
                        "would change it (default: none)")
    t.add_argument("--device", type=_device, default="cpu", help="cpu, cuda or cuda:N (default: cpu)")
    t.add_argument("--seed", type=_number(int, allow_zero=True), help="random seed" + _default("seed"))
    t.add_argument("--limit", type=_number(int, allow_zero=False),
                   help="use only the first LIMIT training images, for quick runs (default: all)")
    t.add_argument("--out", default="runs/default", help="folder of the run (default: runs/default)")
    t.add_argument("--resume", action="store_true", help="continue the run in --out with its saved settings "
                   "(only --epochs may be raised)")
    t.add_argument("--overwrite", action="store_true", help="start a new run in a used --out, removing the old "
                   "run's files first (" + ", ".join(RUN_FILES) + ")")
    t.add_argument("--distributed", action="store_true",
                   help="data parallel over the processes of an MPI launcher: mpirun -n 2 python -m minidl train "
                        "--distributed (--batch-size is the global batch)")
    t.add_argument("--verbose", type=int, choices=(0, 1, 2), default=1,
                   help="0 silent, 1 progress bar, 2 one line per epoch (default: 1)")
    s = sub.add_parser("summary", help="print a model's summary, as train builds it (10 classes)")
    s.add_argument("model", choices=mdl.models.list_models())
    s.add_argument("--input-shape", type=_image_shape, default=None,
                   help="C,H,W (default: the model's own: 1,28,28 for keras-mnist-convnet and mlp, 3,32,32 for "
                        "resnet20-cifar, else 3,224,224)")
    sub.add_parser("datasets", help="which datasets are available locally, and where")
    return parser


COMMANDS = {"train": cmd_train, "summary": cmd_summary, "datasets": cmd_datasets}


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except UsageError as error:
        print(f"python -m minidl {args.command}: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # outside training (training's own Ctrl-C says how to resume)
        print(f"python -m minidl {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
