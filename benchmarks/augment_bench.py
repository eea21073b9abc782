"""Augmentation throughput: minidl's batched ops against per-image loops, side by side.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/augment_bench.py [--repeat 15] [--no-write]

(The script re-runs itself without those two variables when they are set.)

The typical pipeline, on batches of 256 float32 images of 28x28x1 and of
32x32x3: a horizontal flip (p = 0.5), an affine map (rotation +-15 degrees,
shift +-10 %, zoom 0.9..1.1, shear +-10 degrees, constant fill), brightness
and contrast +-20 %, and random erasing (p = 0.5). Every image has its own
parameters in every contestant.

Contestants:

* minidl, batched: ``Compose`` fuses flip and affine into one matrix per image
  and samples the whole batch at once; with 1 thread, with 2 always, and with
  the default, 1 or 2, whichever has been faster lately (the sampler shares a
  batch's chunks out over threads, see ``minidl.augment.set_num_threads``);
* a lean OpenCV loop, the yardstick: one ``cv2.warpAffine`` per image (the
  same inverse map, bilinear, constant border 0, channels last, all channels
  in one call), then NumPy for colour and erasing;
* a Pillow loop: one image at a time (one ``Image.transform`` per channel, in
  float mode "F"), then NumPy for colour and erasing, as a per-image library does;
* a scipy.ndimage loop (``affine_transform``, order 1);
* albumentations (flip, Affine, RandomBrightnessContrast, CoarseDropout).

The per-image loops draw each image's parameters with one generator call and
plain floats (:func:`_draw`), so that they pay for their loop, not for small
NumPy arrays. OpenCV, SciPy and albumentations are optional, for the
benchmark only (``make bench`` installs them; ``pip install minidl[bench]``);
a contestant whose library is missing is skipped with a message.

Repetitions are interleaved so that a slow phase of the shared machine hits
every contestant alike; medians (and ranges) of images per second are
printed, then minidl's time split by stage, then the CPU time of the
one-thread contestants (which other work on the machine disturbs less than
the wall clock), and a row is appended to benchmarks/RESULTS.md.
"""
from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import rerun_without_openblas_overrides  # noqa: E402

if __name__ == "__main__":
    rerun_without_openblas_overrides()  # before NumPy loads OpenBLAS

import argparse  # noqa: E402
import importlib.util  # noqa: E402
import math  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import minidl.augment as A  # noqa: E402
from common import append_results, interleaved, print_table  # noqa: E402
from minidl.augment import set_num_threads  # noqa: E402

BATCH = 256
OPENCV = "OpenCV per-image loop (warpAffine)"
ONE, TWO, AUTO = ("minidl batched, 1 thread", "minidl batched, 2 threads",
                  "minidl batched, 1 or 2 threads (default)")
SHAPES = [(1, 28, 28), (3, 32, 32)]
DEGREES, SHIFT, ZOOM, SHEAR, BRIGHT, CONTRAST = 15.0, 0.1, (0.9, 1.1), 10.0, 0.2, 0.2


# ------------------------------------------------------------------ minidl
def minidl_pipeline() -> A.Compose:
    return A.Compose([
        A.RandomFlip("horizontal", p=0.5),
        A.RandomAffine(DEGREES, (SHIFT, SHIFT), ZOOM, SHEAR, fill_mode="constant"),
        A.ColorJitter(brightness=BRIGHT, contrast=CONTRAST),
        A.RandomErasing(p=0.5),
    ], seed=0)


# ------------------------------------------------------- per-image loops
LOG_RATIO = (math.log(0.3), math.log(3.3))


def _draw(rng: np.random.Generator, h: int, w: int) -> tuple:
    """One image's parameters, as a per-image library draws them (plain floats: the loops stay lean).

    Returns (affine, brightness, contrast, erase): ``affine`` = (a, b, c, d, e, f)
    maps an output pixel (x, y) to the input point (a x + b y + c, d x + e y + f)
    (Pillow's and OpenCV's inverse map), the inverse of the forward map
    p -> L (p - centre) + centre + shift, L = zoom R(angle) Sh(shear) Flip;
    ``erase`` is (top, left, height, width) or None.
    """
    u = rng.random(13).tolist()  # one call per image: 13 uniforms
    angle, shear = math.radians(DEGREES * (2 * u[1] - 1)), math.tan(math.radians(SHEAR * (2 * u[2] - 1)))
    dx, dy, zoom = SHIFT * (2 * u[3] - 1) * w, SHIFT * (2 * u[4] - 1) * h, ZOOM[0] + (ZOOM[1] - ZOOM[0]) * u[5]
    cos, sin, flip = math.cos(angle), math.sin(angle), (-1.0 if u[0] < 0.5 else 1.0)
    # L^-1 = Flip Sh(-shear) R(-angle) / zoom, in closed form
    a, b = flip * (cos - shear * sin) / zoom, flip * (-sin - shear * cos) / zoom
    d, e = sin / zoom, cos / zoom
    cx, cy = (w - 1) / 2, (h - 1) / 2
    px, py = cx + dx, cy + dy  # p = L^-1 (q - centre - shift) + centre
    affine = (a, b, cx - a * px - b * py, d, e, cy - d * px - e * py)
    bright, contrast = 1 - BRIGHT + 2 * BRIGHT * u[6], 1 - CONTRAST + 2 * CONTRAST * u[7]
    erase = None
    if u[8] < 0.5:
        area = (0.02 + 0.31 * u[9]) * h * w
        r = math.exp(LOG_RATIO[0] + (LOG_RATIO[1] - LOG_RATIO[0]) * u[10])
        eh, ew = int(round(math.sqrt(area * r))), int(round(math.sqrt(area / r)))
        if 0 < eh < h and 0 < ew < w:
            erase = (int(u[11] * (h - eh + 1)), int(u[12] * (w - ew + 1)), eh, ew)
    return affine, bright, contrast, erase


def _colour_and_erase(img: np.ndarray, bright: float, contrast: float, erase,
                      channels_last: bool = False) -> np.ndarray:
    """Brightness, contrast about the image's mean, clip to [0, 1], then the erased rectangle (in place)."""
    img *= bright
    m = img.mean()
    img -= m
    img *= contrast
    img += m
    np.clip(img, 0, 1, out=img)
    if erase is not None:
        top, left, eh, ew = erase
        if channels_last:
            img[top:top + eh, left:left + ew] = 0
        else:
            img[:, top:top + eh, left:left + ew] = 0
    return img


def pillow_loop(x: np.ndarray, rng: np.random.Generator, geometric_only: bool = False) -> np.ndarray:
    from PIL import Image

    n, c, h, w = x.shape
    out = np.empty_like(x)
    for i in range(n):
        affine, bright, contrast, erase = _draw(rng, h, w)
        for k in range(c):
            im = Image.fromarray(x[i, k], mode="F").transform((w, h), Image.AFFINE, affine, Image.BILINEAR, fillcolor=0)
            out[i, k] = np.asarray(im)
        if not geometric_only:
            _colour_and_erase(out[i], bright, contrast, erase)
    return out


def scipy_loop(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    from scipy import ndimage

    n, c, h, w = x.shape
    out = np.empty_like(x)
    for i in range(n):
        (a, b, c0, d, e, f), bright, contrast, erase = _draw(rng, h, w)
        m, offset = np.array([[e, d], [b, a]]), (f, c0)  # scipy works in (row, column)
        for k in range(c):
            ndimage.affine_transform(x[i, k], m, offset=offset, order=1, mode="constant", output=out[i, k])
        _colour_and_erase(out[i], bright, contrast, erase)
    return out


def opencv_loop(hwc: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The lean per-image loop: one ``cv2.warpAffine`` per image (all channels at once, channels last,
    bilinear, constant border 0, the inverse map given directly), then NumPy colour and erasing."""
    import cv2

    n, h, w, c = hwc.shape
    out = np.empty_like(hwc)
    flags = cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP
    for i in range(n):
        affine, bright, contrast, erase = _draw(rng, h, w)
        img = cv2.warpAffine(hwc[i], np.array(affine).reshape(2, 3), (w, h), flags=flags,
                             borderMode=cv2.BORDER_CONSTANT, borderValue=0)
        out[i] = _colour_and_erase(img, bright, contrast, erase, channels_last=True).reshape(h, w, c)
    return out


def albumentations_pipeline():
    try:
        import albumentations as alb
    except ImportError:
        return None
    return alb.Compose([
        alb.HorizontalFlip(p=0.5),
        alb.Affine(rotate=(-DEGREES, DEGREES), translate_percent=(-SHIFT, SHIFT), scale=ZOOM,
                   shear=(-SHEAR, SHEAR), p=1.0),
        alb.RandomBrightnessContrast(BRIGHT, CONTRAST, p=1.0),
        alb.CoarseDropout(p=0.5),
    ])


# ------------------------------------------------------------------- main
def cpu_seconds(fns: dict, repeat: int, warmup: int = 1) -> dict:
    """Median CPU seconds of the calling thread per call (``time.thread_time``), interleaved.

    For one-thread contestants only: unlike the wall clock, it does not count the
    time the machine's other work takes the core away, so on a shared, busy
    machine it says how much work each contestant does.
    """
    seconds = interleaved(fns, repeat=repeat, warmup=warmup, clock=time.thread_time)
    return {name: statistics.median(s) for name, s in seconds.items()}


def rate(times: list) -> str:
    """Images per second: median (slowest-fastest)."""
    med = BATCH / statistics.median(times)
    return f"{med:,.0f} ({BATCH / max(times):,.0f}-{BATCH / min(times):,.0f})"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeat", type=int, default=15)
    ap.add_argument("--no-write", action="store_true", help="do not append to RESULTS.md")
    args = ap.parse_args()
    load = os.getloadavg()[0]  # other work on the machine: the threads' numbers depend on it

    alb = albumentations_pipeline()
    if alb is None:
        print("albumentations is not installed: skipped (pip install albumentations to compare)")
    have = {name: importlib.util.find_spec(module) is not None
            for name, module in (("SciPy", "scipy"), ("OpenCV", "cv2"))}
    for name, found in have.items():
        if not found:
            print(f"{name} is not installed: its per-image loop is skipped (make bench installs it)")

    rows, stage_rows, cpu_rows, summary = [], [], [], []
    for shape in SHAPES:
        x = np.random.default_rng(0).random((BATCH,) + shape, dtype=np.float32)
        hwc = np.ascontiguousarray(x.transpose(0, 2, 3, 1))  # OpenCV's and albumentations' layout
        label = "x".join(map(str, shape[1:])) + f"x{shape[0]}"
        pipeline = minidl_pipeline()
        rng = np.random.default_rng(1)

        def minidl_threads(k: int, choose: bool = True):
            def run():
                set_num_threads(k, choose=choose)
                return pipeline(x)
            return run

        fns = {ONE: minidl_threads(1), TWO: minidl_threads(2, choose=False), AUTO: minidl_threads(2),
               "Pillow per-image loop": lambda: pillow_loop(x, rng)}
        if have["OpenCV"]:
            fns[OPENCV] = lambda: opencv_loop(hwc, rng)
        if have["SciPy"]:
            fns["scipy.ndimage per-image loop"] = lambda: scipy_loop(x, rng)
        if alb is not None:
            fns["albumentations per-image"] = lambda: [alb(image=im)["image"] for im in hwc]
        times = interleaved(fns, repeat=args.repeat, warmup=2)
        medians = {name: statistics.median(t) for name, t in times.items()}
        one_thread = {name: fn for name, fn in fns.items() if name not in (TWO, AUTO)}
        set_num_threads(1)
        cpu = cpu_seconds(one_thread, repeat=max(3, args.repeat // 3))
        for name, s in cpu.items():
            vs_opencv = f"{cpu[OPENCV] / s:.2f}x" if OPENCV in cpu else "-"
            cpu_rows.append([label, name, f"{s * 1e3:.2f}", f"{BATCH / s:,.0f}", vs_opencv])
        pillow, opencv = medians["Pillow per-image loop"], medians.get(OPENCV)
        for name, t in times.items():
            vs_opencv = f"{opencv / medians[name]:.2f}x" if opencv else "-"
            rows.append([label, name, rate(t), f"{pillow / medians[name]:.1f}x", vs_opencv])
        if opencv:
            summary.append(f"{label}: minidl / OpenCV loop = {opencv / medians[ONE]:.2f}x (1 thread), "
                           f"{opencv / medians[TWO]:.2f}x (2 threads), {opencv / medians[AUTO]:.2f}x (the faster "
                           f"measured of 1 and 2, the default)")

        # where minidl's time goes: each stage alone, on the same batch (the default threads)
        set_num_threads(2)
        geo = A.Compose(pipeline.ops[:2])
        stages = {"flip + affine (one fused sampling)": lambda: geo(x),
                  "brightness + contrast": lambda: pipeline.ops[2](x),
                  "random erasing": lambda: pipeline.ops[3](x),
                  "drawing the parameters (CPU)": lambda: pipeline.sample(BATCH, x.shape),
                  "whole pipeline": lambda: pipeline(x)}
        st = interleaved(stages, repeat=args.repeat, warmup=2)
        total = statistics.median(st["whole pipeline"])
        for name, t in st.items():
            med = statistics.median(t)
            stage_rows.append([label, name, f"{med * 1e3:.2f}", f"{100 * med / total:.0f}%"])

    header = ["images", "method", "img/s median (range)", "vs Pillow loop", "vs OpenCV loop"]
    print(f"\nbatch {BATCH}, float32; pipeline: flip, affine (rotate, shift, zoom, shear), brightness/contrast, "
          "erasing\n")
    print_table(header, rows)
    print("\n" + "\n".join(summary) + "\n" if summary else "")
    stage_header = ["images", "minidl stage (default threads)", "ms per batch", "of the pipeline"]
    print_table(stage_header, stage_rows)
    print()
    cpu_header = ["images", "one thread: CPU time (time.thread_time)", "ms per batch", "img/s of CPU",
                  "vs OpenCV loop"]
    print_table(cpu_header, cpu_rows)
    if not args.no_write:
        append_results(
            "augment_bench: batched augmentation vs per-image loops",
            header, rows + [[r[0], "stage: " + r[1], f"{r[2]} ms", r[3], ""] for r in stage_rows]
            + [[r[0], "CPU time, one thread: " + r[1], f"{r[2]} ms of CPU ({r[3]} img/s)", "", r[4]]
               for r in cpu_rows],
            notes=(f"batch {BATCH} float32; flip p=0.5, affine (+-{DEGREES:g} deg, shift +-{SHIFT:g}, zoom {ZOOM}, "
                   f"shear +-{SHEAR:g} deg), brightness/contrast +-{BRIGHT:g}, erasing p=0.5; "
                   f"medians of interleaved repetitions on a shared machine (load average {load:.1f} at the start); "
                   + ("albumentations not installed" if alb is None else "albumentations included")
                   + ("; " + "; ".join(summary) if summary else "")),
        )
        print("\nappended to benchmarks/RESULTS.md")


if __name__ == "__main__":
    main()
