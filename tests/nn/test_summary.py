"""nn.summary: the Keras-style table."""
import numpy as np

import minidl.nn as nn
from minidl.models import keras_mnist_convnet


def test_summary_of_the_seed_convnet(capsys):
    text = nn.summary(keras_mnist_convnet(), (1, 28, 28))
    assert capsys.readouterr().out.strip() == text.strip()  # printed and returned
    lines = text.splitlines()
    assert "Layer (type)" in lines[2] and "Output Shape" in lines[2] and "Param #" in lines[2]
    rows = [line for line in lines if "(" in line and "None" in line]
    assert [r.split()[1] for r in rows] == [
        "(Conv2d)", "(ReLU)", "(MaxPool2d)", "(Conv2d)", "(ReLU)", "(MaxPool2d)", "(Flatten)", "(Dropout)", "(Linear)"
    ]
    assert "(None, 32, 26, 26)" in rows[0] and rows[0].rstrip().endswith(" 320")
    assert "(None, 64, 5, 5)" in rows[5]
    assert rows[3].rstrip().endswith(" 18,496") and rows[8].rstrip().endswith(" 16,010")
    assert "Total params: 34,826 (136.04 KB)" in text
    assert "Trainable params: 34,826 (136.04 KB)" in text
    assert "Non-trainable params: 0 (0.00 B)" in text


def test_summary_frozen_nested_and_modes_restored():
    inner = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8))
    model = nn.Sequential(inner, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8, 2))
    inner[0].requires_grad_(False)
    model.train()
    text = nn.summary(model, (3, 8, 8), print_fn=None)
    assert "Total params: 258 " in text
    assert "Trainable params: 34 " in text and "Non-trainable params: 224 " in text
    lines = text.splitlines()
    assert any(line.startswith(" 0 (Sequential)") and line.rstrip().endswith(" 240") for line in lines)
    assert any(line.startswith("   0.0 (Conv2d)") and "(None, 8, 8, 8)" in line for line in lines)  # indented
    assert all(m.training for m in model.modules())  # summary ran in eval and restored train mode
    assert float(np.abs(inner[1].running_mean).max()) == 0.0  # and did not touch running stats
