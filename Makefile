# The front door: CMake + ctest underneath.
#
#   make                      build (installs missing Debian packages first)
#   make test                 build and run the whole suite (unit, fuzz replay, e2e)
#   make SANITIZER=address,undefined test
#                             the same, built with the sanitizers in its own tree
#   make demo                 build and run the demo on loopback
#   make bench                build and run the benchmarks (see BENCHMARKS.md)
#   make format / check-format
#   make fuzz                 libFuzzer binaries (clang) in build-fuzz/

SANITIZER ?=
JOBS      ?= $(shell nproc)
ifeq ($(SANITIZER),)
BUILD     ?= build
CMAKE_ARGS ?=
else
BUILD     ?= build-$(subst $(comma),-,$(SANITIZER))
CMAKE_ARGS ?= -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=Debug
endif
comma := ,
CTEST_ARGS ?=

.PHONY: all deps deps-demo deps-test deps-bench configure test demo bench format check-format fuzz clean

all: deps configure
	cmake --build $(BUILD) -j $(JOBS)

deps:
	@scripts/deps.sh build
deps-demo:
	@scripts/deps.sh demo
deps-test:
	@scripts/deps.sh test
deps-bench:
	@scripts/deps.sh bench

configure:
	cmake -S . -B $(BUILD) -DSANITIZER=$(SANITIZER) -DSK_WERROR=$(if $(CI),ON,OFF) $(CMAKE_ARGS) >/dev/null

test: deps-test all
	ctest --test-dir $(BUILD) --output-on-failure -j $(JOBS) $(CTEST_ARGS)

demo: deps-demo all
	scripts/demo.sh $(BUILD)/sinkhole

bench: deps-bench all
	cmake --build $(BUILD) --target bench-tools -j $(JOBS)
	bench/run.sh $(BUILD)

fuzz: deps-test
	cmake -S . -B build-fuzz -DCMAKE_C_COMPILER=clang -DSK_LIBFUZZER=ON >/dev/null
	cmake --build build-fuzz -j $(JOBS)

FORMAT_FILES = $(shell git ls-files '*.c' '*.h')
format:
	clang-format -i $(FORMAT_FILES)
check-format:
	clang-format --dry-run --Werror $(FORMAT_FILES)

clean:
	rm -rf build build-*
