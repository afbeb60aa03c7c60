# SPDX-License-Identifier: GPL-2.0
# Test programs: each tests/unit/<name>_test.c becomes build/<name>_test, linked with
# the user-space library. `make test` installs deps, builds everything, runs tests/run.sh.

UNIT_SRCS  := $(wildcard tests/unit/*_test.c)
UNIT_BINS  := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/%)
UNIT_HDRS  := $(wildcard tests/unit/*.h)
UNIT_LIB   := $(filter-out tests/unit/%_test.c,$(wildcard tests/unit/*.c))

all: $(UNIT_BINS)

$(BUILD)/%_test: tests/unit/%_test.c $(UNIT_LIB) $(UNIT_HDRS) $(LIB_OBJS) $(SKELS) $(USER_HDRS)
	$(CC) $(CPPFLAGS) -Itests/unit $(CFLAGS) $< $(UNIT_LIB) $(LIB_OBJS) -o $@ $(LDLIBS)

test:
	@scripts/deps.sh
	@$(MAKE) --no-print-directory all
	@tests/run.sh

# Small helper programs the integration tests and the demo run (servers, clients).
TOOL_SRCS := $(wildcard tests/tools/*.c)
TOOL_BINS := $(TOOL_SRCS:tests/tools/%.c=$(BUILD)/tools/%)
all: $(TOOL_BINS)
# (mapcheck reads the maps through bpf/xlb_abi.h: a layout change rebuilds it)
$(BUILD)/tools/%: tests/tools/%.c $(wildcard tests/tools/*.h) bpf/xlb_abi.h
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $< -o $@ -lm

# make fuzz: build/fuzz_test (hostile frames through both XDP programs, each judged by an
# oracle) with FUZZ_COUNT packets and, unless FUZZ_SEED is given, a fresh seed; FUZZ_FILTER
# picks its cases. make test runs it with its default of 200000 packets.
FUZZ_COUNT ?= 10000000
.PHONY: fuzz
fuzz: $(BUILD)/fuzz_test
	XLB_FUZZ_COUNT=$(FUZZ_COUNT) XLB_FUZZ_VERBOSE=1 $(if $(FUZZ_SEED),XLB_FUZZ_SEED=$(FUZZ_SEED)) \
		$(BUILD)/fuzz_test $(FUZZ_FILTER)
