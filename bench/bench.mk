# SPDX-License-Identifier: GPL-2.0
# Benchmarks (issue 6). `make bench` installs the bench packages, builds the
# floors and the measuring programs into $(BUILD)/bench/, runs bench/run.sh
# (every benchmark, raw JSON in bench/results/) and bench/report (writes
# docs/BENCHMARKS.md and docs/bench/*.png), even when a section failed (it says
# so in the document; make still fails). `make bench QUICK=1` is the short run.
# Nothing here is part of `all` or `make test`.

BENCH_DIR   := $(BUILD)/bench
BENCH_BPF   := floor_pass floor_tx floor_ct sink gen
# xlb_stops: bpf/xlb.bpf.c again with the benchmark's stops in (XLB_BENCH_STOPS).
BENCH_SKELS := $(BENCH_BPF:%=$(BENCH_DIR)/%.skel.h) $(BENCH_DIR)/xlb_stops.skel.h
BENCH_BINS  := $(addprefix $(BENCH_DIR)/,pktcost liverate second cpbench httpd)
BENCH_HDRS  := $(wildcard bench/*.h)
# Only the table builder, the VIP index and the flow table's layout (conntrack is filled through its
# mapping): the benchmarks must not break when the rest of the CLI's library changes.
BENCH_LIB   := $(BUILD)/user/lib/maglev.o $(BUILD)/user/lib/table.o $(BUILD)/user/lib/vipaddrs.o \
	       $(BUILD)/user/lib/vipindex.o \
	       $(BUILD)/user/lib/flowtable.o

.PHONY: bench bench-build

bench:
	@scripts/deps.sh --bench
	@$(MAKE) --no-print-directory all bench-build
	@BUILD=$(BUILD) QUICK=$(QUICK) bench/run.sh; rc=$$?; bench/report && exit $$rc

bench-build: $(BENCH_BINS)

$(BENCH_DIR)/%.bpf.o: bench/%.bpf.c bpf/xlb_abi.h
	@mkdir -p $(@D)
	$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BENCH_DIR)/xlb_stops.bpf.o: bpf/xlb.bpf.c $(BPF_HDRS)
	@mkdir -p $(@D)
	$(CLANG) $(BPF_CFLAGS) -DXLB_BENCH_STOPS -c $< -o $@

$(BENCH_DIR)/%.skel.h: $(BENCH_DIR)/%.bpf.o
	$(BPFTOOL) gen skeleton $< > $@.tmp && mv $@.tmp $@

# benchlib.o and katran.o (Katran as a peer, loaded from its object files at run time)
$(BENCH_DIR)/%.o: bench/%.c $(BENCH_HDRS) $(USER_HDRS) $(SKELS)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c $< -o $@

BENCH_OBJS := $(BENCH_DIR)/benchlib.o $(BENCH_DIR)/katran.o

$(BENCH_DIR)/pktcost $(BENCH_DIR)/liverate $(BENCH_DIR)/second: $(BENCH_DIR)/%: bench/%.c $(BENCH_OBJS) \
		$(BENCH_LIB) $(SKELS) $(BENCH_SKELS) $(BENCH_HDRS) $(USER_HDRS)
	$(CC) $(CPPFLAGS) -I$(BENCH_DIR) $(CFLAGS) $< $(BENCH_OBJS) $(BENCH_LIB) -o $@ $(LDLIBS)

$(BENCH_DIR)/cpbench: bench/cpbench.c $(BENCH_LIB) $(USER_HDRS)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) $< $(BENCH_LIB) -o $@ $(LDLIBS)

$(BENCH_DIR)/httpd: bench/httpd.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $< -o $@
