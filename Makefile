# vkmind: `make run` and `make test` set up a fresh Debian 12 machine (missing
# packages via apt-get), configure, build, then run the main job / every test.
BUILD      ?= build
BUILD_ASAN ?= build-asan
JOBS       ?= $(shell nproc)
CMAKE_FLAGS ?= -DCMAKE_BUILD_TYPE=Release

.PHONY: all deps configure build run test test-shaders test-asan clean node-deps install

all: build

deps:
	@bash tools/install-deps.sh

$(BUILD)/CMakeCache.txt:
	cmake -S . -B $(BUILD) $(CMAKE_FLAGS)

configure: $(BUILD)/CMakeCache.txt

build: deps configure
	cmake --build $(BUILD) -j $(JOBS)

# The main job (tools/run-main.sh): a question to MiniMind2-Small, pulled from
# the Hugging Face Hub into its cache on first use. Offline, one line says so and
# stories260K (../shared) tells a story instead, or, when ../shared is absent, a
# committed oracle checkpoint (random weights: gibberish). RUN_MODEL=hf:ORG/REPO,
# hf:ORG/REPO:QUANT or a local path picks another model.
RUN_MODEL ?= hf:jingyaogong/MiniMind2-Small
RUN_QUESTION ?= What is the capital of France, and why is it famous?
RUN_PROMPT ?= Once upon a time

run: build
	@bash tools/run-main.sh ./$(BUILD)/tools/vkmind "$(RUN_MODEL)" "$(RUN_QUESTION)" "$(RUN_PROMPT)"

# The official openai npm client for the server tests, pinned by package-lock.json.
NODE_TESTS := tests/server/node
node-deps:
	@if command -v npm >/dev/null && [ ! -d $(NODE_TESTS)/node_modules ]; then \
	  npm ci --prefix $(NODE_TESTS) --no-audit --no-fund; fi

test: build node-deps
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

test-shaders: build
	cd $(BUILD) && ctest --output-on-failure -L shaders -j $(JOBS)

# Model-file parsing and tokenizers under AddressSanitizer + UBSan (no Vulkan).
test-asan: deps
	cmake -S . -B $(BUILD_ASAN) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DVKMIND_SANITIZE=ON -DVKMIND_MODEL_ONLY=ON
	cmake --build $(BUILD_ASAN) -j $(JOBS)
	cd $(BUILD_ASAN) && ctest --output-on-failure -j $(JOBS)

# Headers, libvkmind.so/.a, vkmind.pc, vkmindConfig.cmake, the CLI and the README.
PREFIX ?= /usr/local
install: build
	DESTDIR=$(DESTDIR) cmake --install $(BUILD) --prefix $(PREFIX)

clean:
	rm -rf $(BUILD) $(BUILD_ASAN)
