# The two commands of README.md:
#   make demo   install what is missing, build, run the end-to-end demo
#   make test   install what is missing, build twice (normal and
#               AddressSanitizer + UndefinedBehaviorSanitizer), run the suite
# and, outside the suite, `make bench` for the benchmarks.

JOBS ?= $(shell nproc)
BUILD ?= build
SANITIZE_BUILD ?= build-sanitize
BENCH_BUILD ?= build-bench

.PHONY: demo test test-normal test-sanitize bench clean

demo:
	sh scripts/deps.sh build
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMLOPS_BUILD_TESTS=OFF
	cmake --build $(BUILD) -j $(JOBS)
	mkdir -p demo-output
	./$(BUILD)/examples/demo/demo demo-output

test: test-normal test-sanitize

test-normal:
	sh scripts/deps.sh test
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMLOPS_WERROR=ON -DMLOPS_BUILD_TESTS=ON
	cmake --build $(BUILD) -j $(JOBS)
	ctest --test-dir $(BUILD) --output-on-failure -j $(JOBS)

test-sanitize:
	sh scripts/deps.sh test
	cmake -S . -B $(SANITIZE_BUILD) -DCMAKE_BUILD_TYPE=Debug -DMLOPS_WERROR=ON -DMLOPS_SANITIZE=ON \
		-DMLOPS_BUILD_TESTS=ON
	cmake --build $(SANITIZE_BUILD) -j $(JOBS)
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		ctest --test-dir $(SANITIZE_BUILD) --output-on-failure -j $(JOBS)

bench:
	sh scripts/deps.sh bench
	cmake -S . -B $(BENCH_BUILD) -DCMAKE_BUILD_TYPE=Release -DMLOPS_BUILD_TESTS=OFF -DMLOPS_BUILD_BENCH=ON
	cmake --build $(BENCH_BUILD) -j $(JOBS)
	sh bench/run_all.sh $(BENCH_BUILD)

clean:
	rm -rf $(BUILD) $(SANITIZE_BUILD) $(BENCH_BUILD) demo-output
