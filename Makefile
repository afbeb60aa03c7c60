# SPDX-License-Identifier: GPL-2.0
# xlb build. `make` builds the BPF objects, their skeletons, the xlb CLI and the test
# programs into build/; `make test` runs every test; `make demo` runs the demo topology;
# `make bench` runs the benchmarks. Tests and benchmarks add their rules in
# tests/tests.mk and bench/bench.mk.

BUILD     ?= build
CLANG     ?= clang
BPFTOOL   ?= bpftool
CC        ?= gcc
MULTIARCH := $(shell $(CC) -print-multiarch 2>/dev/null)

BPF_CFLAGS := -O2 -g -target bpf -Wall -Werror -Wno-unused-function \
	      -Ibpf -I/usr/include/$(MULTIARCH)
CFLAGS     ?= -O2 -g
CFLAGS     += -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers \
	      -std=gnu11 -D_GNU_SOURCE
CPPFLAGS   += -I$(BUILD) -Ibpf -Iuser -Iuser/lib
LDLIBS     += $(shell pkg-config --libs libxdp libbpf 2>/dev/null || echo -lxdp -lbpf) -lelf -lz -lm
# Session sync's HMAC-SHA256 (user/lib/syncproto.c).
LDLIBS     += $(shell pkg-config --libs libcrypto 2>/dev/null || echo -lcrypto)

BPF_SRCS  := $(wildcard bpf/*.bpf.c)
BPF_OBJS  := $(BPF_SRCS:bpf/%.bpf.c=$(BUILD)/%.bpf.o)
SKELS     := $(BPF_SRCS:bpf/%.bpf.c=$(BUILD)/%.skel.h)
BPF_HDRS  := bpf/xlb_abi.h $(wildcard bpf/lib/*.h)

LIB_SRCS  := $(wildcard user/lib/*.c)
LIB_OBJS  := $(LIB_SRCS:%.c=$(BUILD)/%.o)
CLI_SRCS  := $(wildcard user/*.c)
CLI_OBJS  := $(CLI_SRCS:%.c=$(BUILD)/%.o)
USER_HDRS := $(wildcard user/*.h user/lib/*.h) bpf/xlb_abi.h

XLB       := $(BUILD)/xlb

.PHONY: all deps test demo demo-cluster bench clean
# Skeletons and BPF objects are inputs of several targets: never delete them as intermediates.
.SECONDARY:
all: $(XLB)

deps:
	@scripts/deps.sh

$(BUILD)/%.bpf.o: bpf/%.bpf.c $(BPF_HDRS)
	@mkdir -p $(@D)
	$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BUILD)/%.skel.h: $(BUILD)/%.bpf.o
	$(BPFTOOL) gen skeleton $< > $@.tmp && mv $@.tmp $@

$(BUILD)/user/%.o: user/%.c $(USER_HDRS) $(SKELS)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c $< -o $@

$(XLB): $(CLI_OBJS) $(LIB_OBJS)
	$(CC) $(CFLAGS) $^ -o $@ $(LDLIBS)

demo:
	@scripts/deps.sh
	@$(MAKE) --no-print-directory all
	@scripts/demo.sh

# The balancer tier behind BGP/ECMP: three instances, a router, streams surviving a leave.
demo-cluster:
	@scripts/deps.sh
	@$(MAKE) --no-print-directory all
	@scripts/demo-cluster.sh

-include tests/tests.mk
-include bench/bench.mk

clean:
	rm -rf $(BUILD)
