"""Pictures: graphs drawn without Graphviz, curves of several runs, titles and captions never cut."""
import numpy as np
import pytest
from PIL import Image, ImageDraw

import minidl as mdl
from minidl import augment as A
from minidl.augment.show import soft_label_caption
from minidl.train.history import History
from minidl.viz import draw_graph, graph_parts, save_curves, save_graph, save_grid
from minidl.viz import graph as graph_module
from minidl.viz.images import wrap_text

pytest.importorskip("matplotlib")


def small_graph():
    x, w, b = (mdl.tensor(v, requires_grad=True) for v in (2.0, 3.0, 1.0))
    x.name, w.name, b.name = "x", "w", "b"
    return (w * x + b) ** 2


def test_graph_parts_lists_every_function_and_edge_along_the_data():
    nodes, edges = graph_parts(small_graph())
    functions = sorted(label for kind, label in nodes.values() if kind == "function")
    assert functions == ["Add", "Mul", "Pow"]
    leaves = sorted(label.split("\n")[0] for kind, label in nodes.values() if kind == "leaf")
    assert leaves == ["b", "w", "x"]
    assert len(edges) == 3 + 2 + 2 + 2  # three outputs; Mul, Add and Pow take two inputs each
    assert any(label == "2" for _, label in nodes.values())  # the constant exponent shows its value


def test_save_graph_draws_with_matplotlib_when_graphviz_is_missing(tmp_path, monkeypatch):
    monkeypatch.setattr(graph_module.shutil, "which", lambda name: None)
    path = save_graph(small_graph(), tmp_path / "g.png")
    assert path == tmp_path / "g.png" and (tmp_path / "g.dot").is_file()
    with Image.open(path) as im:
        pixels = np.asarray(im.convert("L"))
    assert im.width > 2 * im.height and (pixels < 128).mean() > 0.005  # wide, with boxes and arrows on it


def test_draw_graph_puts_the_output_rightmost_and_inputs_before_their_use(tmp_path):
    nodes, edges = graph_parts(small_graph())
    column = graph_module._columns(nodes, edges)
    sources = {a for a, _ in edges}
    (output,) = [key for key in nodes if key not in sources]  # nothing flows out of the result
    assert column[output] == max(column.values())
    for a, b in edges:
        assert column[a] < column[b]  # every arrow points right
    assert draw_graph(small_graph(), tmp_path / "g.svg").read_text().startswith("<?xml")


def test_save_curves_draws_several_runs_and_names_what_is_missing(tmp_path):
    a, b = History(), History()
    for epoch in range(3):
        a.append(epoch, {"loss": 1.0 / (epoch + 1), "val_loss": 1.2 / (epoch + 1)})
        b.append(epoch, {"loss": 0.8 / (epoch + 1), "val_loss": 1.0 / (epoch + 1)})
    path = save_curves({"a": a, "b": b}, tmp_path / "c.png", marks={"a": 2}, title="two runs")
    with Image.open(path) as im:
        assert im.width > im.height
    with pytest.raises(ValueError, match="run 'b' has no values for 'accuracy'"):
        save_curves({"b": b}, tmp_path / "d.png", keys=("accuracy",))


def test_wrap_text_never_cuts_a_word():
    draw = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    lines = wrap_text(draw, "brightness/contrast and more", 40)
    assert "".join(lines).replace(" ", "") == "brightness/contrastandmore"
    assert "brightness/" in lines and "contrast" in lines


def test_save_grid_titles_are_whole_and_the_cell_widens_for_a_long_word(tmp_path):
    images = [np.random.default_rng(0).random((8, 8))] * 2
    narrow = save_grid(images, tmp_path / "a.png", scale=1, titles=["a", "b"])
    wide = save_grid(images, tmp_path / "b.png", scale=1, titles=["brightness", "b"])
    with Image.open(narrow) as a, Image.open(wide) as b:
        assert b.width > a.width  # an 8-pixel image, a 50-pixel word: the word decides
    with pytest.raises(ValueError, match="one entry per image: 2 images, got 1 titles"):
        save_grid(images, tmp_path / "c.png", titles=["only one"])


def test_soft_label_caption_names_the_two_largest_weights():
    soft = np.array([0.0, 0.62, 0.0, 0.38])
    assert soft_label_caption(soft, ["a", "coat", "c", "bag"]) == "0.62 coat\n0.38 bag"
    assert soft_label_caption(np.array([0.0, 1.0])) == "1.00 class 1"


def test_show_captions_mixed_tiles_with_their_soft_labels(tmp_path):
    x = np.random.default_rng(0).random((3, 1, 8, 8)).astype(np.float32)
    plain = A.show(A.RandomFlip(p=1.0, seed=0), x, tmp_path / "p.png", rows=1, scale=2)
    mixed = A.show(A.MixUp(1.0, num_classes=3, seed=0), x, tmp_path / "m.png", rows=1, scale=2,
                   labels=[0, 1, 2], class_names=["T-shirt/top", "Trouser", "Ankle boot"])
    with Image.open(plain) as p, Image.open(mixed) as m:
        assert m.height >= p.height + 3 * 11  # a line under each original, two under each mixed tile
        below = np.asarray(m.convert("L"))[2 + 16 + 1:2 + 16 + 11]  # the caption line under the originals
        assert (below < 128).any()
    with pytest.raises(ValueError, match="one entry per image: 3 images, got 2 labels"):
        A.show(A.MixUp(1.0, num_classes=3), x, tmp_path / "x.png", labels=[0, 1])
