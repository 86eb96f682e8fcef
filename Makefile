# edgeserve: `make run` and `make test` are all a fresh Debian 12 box needs.
BUILD_DIR ?= build
CONFIG ?= configs/edgeserve.yaml
JOBS ?= $(shell nproc)
PYTHON := /usr/bin/python3
CMAKE_FLAGS ?=

EXAMPLE_MODELS := models/identity/1/model.pt models/add_sub/1/model.pt models/simple/1/model.pt models/classifier/1/model.pt \
                  models/mlp/1/model.pt models/mlp_int8/1/model.pt

.PHONY: all deps configure build models run test bench bench-slo bench-padding clean

all: build

deps:
	@scripts/install-deps

$(BUILD_DIR)/CMakeCache.txt: | deps
	cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=Release $(CMAKE_FLAGS)

configure: $(BUILD_DIR)/CMakeCache.txt

build: deps configure
	cmake --build $(BUILD_DIR) -j $(JOBS)

$(EXAMPLE_MODELS) &: models/make_examples.py | deps
	$(PYTHON) models/make_examples.py --out models

models: deps $(EXAMPLE_MODELS)

run: build models
	$(BUILD_DIR)/edgeserve --config $(CONFIG)

test: build models
	cd $(BUILD_DIR) && ctest --output-on-failure

bench: build models
	bench/run_benchmarks.sh $(BUILD_DIR)

bench-slo: build models
	bench/slo_sweep.sh $(BUILD_DIR)

bench-padding: build models
	bench/padding_bench.sh $(BUILD_DIR)

clean:
	rm -rf $(BUILD_DIR)
