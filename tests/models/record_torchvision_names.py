"""Write torchvision_state_dicts.json: each torchvision model's state-dict names and shapes.

    python tests/models/record_torchvision_names.py      # needs torch and torchvision

The model-zoo tests compare minidl's models with this record, so that the
names (which decide whether torchvision's weights load) are checked on every
machine, with or without PyTorch.
"""
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from torch_reference import torchvision_models  # noqa: E402

NAMES = ["resnet18", "resnet34", "resnet50", "vgg11", "vgg11_bn", "vgg16", "vgg16_bn", "mobilenet_v2"]

if __name__ == "__main__":
    models = torchvision_models()
    record = {}
    for name in NAMES:
        state = getattr(models, name)().state_dict()
        record[name] = [[key, list(value.shape)] for key, value in state.items()]
    out = Path(__file__).with_name("torchvision_state_dicts.json")
    out.write_text(json.dumps(record, indent=0) + "\n")
    print(f"wrote {out}: " + ", ".join(f"{k} {len(v)} entries" for k, v in record.items()))
