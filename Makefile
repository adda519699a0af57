# The two commands of the README: `make run` and `make test`.
# Both install what is missing first, so they work on a fresh Debian 12.
PRESET ?= release
BUILD_DIR := build/$(PRESET)
JOBS ?= $(shell nproc)

.PHONY: all deps configure build web run test lint format debug asan fuzz clean

all: build

deps:
	@scripts/install-deps.sh

configure: deps
	@cmake --preset $(PRESET) >/dev/null

build: configure
	@cmake --build --preset $(PRESET) -j $(JOBS)

# The web app (web/, served by weftd from web/dist).
web: deps
	@test -f build/wasm/weft.js || $(MAKE) --no-print-directory wasm
	@scripts/build-web.sh

# Builds weftd and the web app, then starts weftd on 127.0.0.1:8080
# (WEFT_PORT, WEFT_BIND, WEFT_DATA_DIR apply) serving the app.
run: build web
	@echo "weft: open http://$${WEFT_BIND:-127.0.0.1}:$${WEFT_PORT:-8080}/ in a browser"
	@$(BUILD_DIR)/app/weftd --web-dir web/dist

# Builds everything (the WebAssembly engine too, with its Node tests),
# checks formatting, runs every test except `slow`, then fuzzes.
test: lint build wasm
	@cd $(BUILD_DIR) && ctest --output-on-failure -j $(JOBS) -LE slow
	@$(MAKE) --no-print-directory fuzz

# Coverage-guided fuzzing (clang 14's libFuzzer, ASan+UBSan) of every
# decoder of untrusted bytes, FUZZ_SECONDS each, from the seeds in
# tests/vectors (fuzz/CMakeLists.txt).
FUZZ_SECONDS ?= 15
fuzz: deps
	@cmake --preset fuzz -DWEFT_FUZZ_SECONDS=$(FUZZ_SECONDS) >/dev/null
	@cmake --build --preset fuzz -j $(JOBS)
	@cd build/fuzz/fuzz && ctest --output-on-failure --no-tests=error -j $(JOBS) -L fuzz

# The slow-labelled tests too (longer crash and fuzz runs).
test-all: lint build
	@cd $(BUILD_DIR) && ctest --output-on-failure -j $(JOBS)

lint:
	@scripts/lint.sh

format:
	@scripts/lint.sh --fix

debug:
	@$(MAKE) --no-print-directory build PRESET=debug

asan:
	@$(MAKE) --no-print-directory test PRESET=asan

clean:
	rm -rf build

# WebAssembly build of the engine with Debian's em++ (emscripten package):
# build/wasm/weft.js, one file with the wasm inlined, for Node 20 and
# browsers (types: clients/wasm/weft.d.ts), then its Node tests.
.PHONY: wasm
WASM_SOURCES := src/common/status.cpp src/common/check.cpp \
  $(filter-out %_test.cpp,$(wildcard src/core/*.cpp)) clients/wasm/weft_wasm.cpp
wasm: deps
	@mkdir -p build/wasm
	NODE_PATH=/usr/share/nodejs em++ -std=c++20 -O3 -Isrc -Wall -Wextra \
	  -Werror -fno-exceptions $(WASM_SOURCES) --bind -sMODULARIZE=1 \
	  -sEXPORT_NAME=createWeft -sSINGLE_FILE=1 -sALLOW_MEMORY_GROWTH=1 \
	  -sENVIRONMENT=node,web -sINITIAL_MEMORY=67108864 -sDYNAMIC_EXECUTION=0 -flto \
	  --post-js clients/wasm/weft_post.js -o build/wasm/weft.js
	@cp clients/wasm/weft.d.ts build/wasm/weft.d.ts
	node --test clients/wasm/test/
