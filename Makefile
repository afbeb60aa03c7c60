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
# The agent's HTTP server, health probes and netlink: libmicrohttpd, libcurl, libmnl.
CPPFLAGS   += $(shell pkg-config --cflags libmicrohttpd libcurl libmnl 2>/dev/null)
LDLIBS     += $(shell pkg-config --libs libmicrohttpd libcurl libmnl 2>/dev/null || echo -lmicrohttpd -lcurl -lmnl)
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

# The version: VERSION is its one source, baked into xlb --version; debian/changelog's
# top entry carries the same (tests/integration/docs.sh checks).
VERSION   := $(shell cat VERSION)
# Where `make install` puts things (DESTDIR for staging, as in a package build).
PREFIX      ?= /usr/local
SBINDIR     ?= $(PREFIX)/sbin
MANDIR      ?= $(PREFIX)/share/man
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
UNITDIR     ?= $(PREFIX)/lib/systemd/system
UNITS       := xlb-agent@.service xlb-restore@.service

.PHONY: all deps test demo demo-cluster bench clean install uninstall
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

$(BUILD)/user/main.o: CPPFLAGS += -DXLB_VERSION='"$(VERSION)"'
$(BUILD)/user/main.o: VERSION

$(XLB): $(CLI_OBJS) $(LIB_OBJS)
	$(CC) $(CFLAGS) $(LDFLAGS) $^ -o $@ $(LDLIBS)

# The BPF objects are inside xlb (skeletons): the binary, its man page, its bash
# completion and the systemd units (scripts/*.service.in, xlb's path filled in) are all.
install: $(XLB)
	install -D -m 0755 $(XLB) $(DESTDIR)$(SBINDIR)/xlb
	install -D -m 0644 docs/xlb.8 $(DESTDIR)$(MANDIR)/man8/xlb.8
	install -D -m 0644 scripts/xlb.bash-completion $(DESTDIR)$(BASHCOMPDIR)/xlb
	install -d $(DESTDIR)$(UNITDIR)
	for u in $(UNITS); do \
		sed 's|@SBINDIR@|$(SBINDIR)|g' scripts/$$u.in >$(DESTDIR)$(UNITDIR)/$$u && \
		chmod 0644 $(DESTDIR)$(UNITDIR)/$$u || exit 1; \
	done

uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/xlb $(DESTDIR)$(MANDIR)/man8/xlb.8 $(DESTDIR)$(BASHCOMPDIR)/xlb
	rm -f $(addprefix $(DESTDIR)$(UNITDIR)/,$(UNITS))

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
