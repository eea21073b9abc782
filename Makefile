# make demo   set up .venv and run the main job (a short training run)
# make test   set up .venv with the test tools and run the whole suite
# make bench  set up .venv with the benchmark peers and run the benchmarks
PYTHON ?= python3
VENV   ?= .venv
PY      = $(VENV)/bin/python

.PHONY: demo test test-reference bench clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip

$(VENV)/.core: $(PY) setup.cfg pyproject.toml
	$(PY) -m pip install -q -e '.[plot]'
	touch $@

$(VENV)/.dev: $(VENV)/.core
	$(PY) -m pip install -q -e '.[dev]'
	touch $@

# The PyTorch peers: torch's CPU build (the op cross-check, tests/test_torch_crosscheck.py,
# and the benchmarks), torchvision's and EfficientNet-Lite's model definitions (the model
# zoo's forward passes). Optional: without them those tests skip; the rest never need torch.
$(VENV)/.torch: $(VENV)/.dev
	-$(PY) -m pip install -q torch==2.13.0 torchvision==0.28.0 efficientnet-lite-pytorch==0.1.0 \
	  || echo "PyTorch not installed: the tests against it will skip"
	touch $@

# The augmentation benchmark's peers (benchmarks/augment_bench.py): OpenCV (the lean warpAffine
# loop), SciPy (ndimage) and albumentations. Optional, like torch: a missing one is skipped.
$(VENV)/.bench: $(VENV)/.torch
	-$(PY) -m pip install -q -e '.[bench]' \
	  || echo "OpenCV / SciPy / albumentations not installed: augment_bench skips their loops"
	touch $@

# The main job, short: 2 epochs of the seed convnet on Fashion-MNIST (a few minutes on 2 cores).
# --overwrite: each make demo starts a new run in runs/demo (a used --out is refused without it).
DEMO_ARGS ?= --epochs 2 --out runs/demo --overwrite
demo: $(VENV)/.core
	$(PY) -m minidl train $(DEMO_ARGS)

test: $(VENV)/.torch
	$(PY) -m pytest -q

# The readable references alone (no fast path: minidl/functional/fast/), on the tests of the
# ops, layers and models, where the two differ; .ci/run runs it after `make test`.
test-reference: $(VENV)/.torch
	MINIDL_REFERENCE=1 $(PY) -m pytest -q tests/functional tests/nn tests/models \
	  tests/test_torch_crosscheck.py tests/test_gradcheck.py tests/test_autograd.py tests/test_transfer.py

bench: $(VENV)/.bench
	for b in benchmarks/*_bench.py benchmarks/transfer_demo.py; do env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE $(PY) $$b || exit 1; done

clean:
	rm -rf $(VENV) build *.egg-info
