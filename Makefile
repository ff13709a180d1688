# SPDX-License-Identifier: MIT
#
# One non-recursive Makefile; every output goes under $(BUILD).
#
#   make            build/boundary
#   make test       install missing Debian packages, build, run every suite (root for e2e)
#   make test-fresh make test as CI runs it: a clean clone of HEAD in a private directory, env -i
#   make demo       a short tour of what boundary does on this machine
#   make fuzz       run every libFuzzer target FUZZ_SECONDS (default 60) seconds,
#                   FUZZ_JOBS (default 1) of them at once
#   make bench      boundary beside direct, nginx, squid, mitmproxy: docs/BENCHMARKS.md (QUICK=1: short)
#   make check      format, header self-containment, banned functions, gcc -fanalyzer
#   make lint       cppcheck over the tree
#   make fmt        reformat with clang-format
#   make install    PREFIX=/usr/local DESTDIR= (the binary, the man page, the completions;
#                   install-unit: the boundary@.service template too)
#   make deb        a Debian package (dpkg-buildpackage, lintian) in $(BUILD)/deb/
#   make test SAN=1 build boundary with ASan+UBSan and run the suites with it
#
# V=1 shows the commands.

.DELETE_ON_ERROR:
.SECONDARY:
.SUFFIXES:

BUILD     ?= build
PREFIX    ?= /usr/local
BINDIR    ?= $(PREFIX)/bin
MANDIR    ?= $(PREFIX)/share/man
SYSTEMDUNITDIR ?= $(PREFIX)/lib/systemd/system
# Where each shell looks for the completion scripts `boundary completion SHELL` writes.
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
ZSHCOMPDIR  ?= $(PREFIX)/share/zsh/site-functions
FISHCOMPDIR ?= $(PREFIX)/share/fish/vendor_completions.d
CC        ?= cc
CLANG     ?= clang
BPFTOOL   ?= $(shell command -v bpftool 2>/dev/null || echo /usr/sbin/bpftool)
PROTOC_C  ?= protoc-c
FUZZ_SECONDS ?= 60
FUZZ_JOBS ?= 1
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)

ifeq ($(V),1)
Q =
msg = @true
else
Q = @
msg = @printf '  %-8s %s\n' $(1) $(2);
endif

# SANITIZE=1 is the same as SAN=1.
ifneq ($(SANITIZE),)
SAN := $(SANITIZE)
endif

WARNINGS = -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	   -Wmissing-declarations -Wpointer-arith -Wcast-qual -Wwrite-strings -Wformat=2 -Wundef \
	   -Wvla -Wimplicit-fallthrough -Wnull-dereference
HARDEN   = -U_FORTIFY_SOURCE -D_FORTIFY_SOURCE=3 -fstack-protector-strong -fstack-clash-protection \
	   -fcf-protection -fPIE
SANFLAGS = -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
MULTIARCH := $(shell $(CC) -print-multiarch 2>/dev/null)

CFLAGS   ?= -O2 -g
BCFLAGS   = -std=gnu11 $(WARNINGS) $(HARDEN) -I. -I$(BUILD) -D_GNU_SOURCE -Ulinux \
	    -DBOUNDARY_VERSION='"$(VERSION)"' -MMD -MP $(CFLAGS)
LDFLAGS  ?=
BLDFLAGS  = -pie -Wl,-z,relro,-z,now $(LDFLAGS)
LIBS      = -lbpf -lelf -lz -lyaml -lssl -lcrypto -lcares -lprotobuf-c -lnghttp2 -lmujs -lpthread

ifeq ($(SAN),1)
OBJ      := $(BUILD)/san
BCFLAGS  += $(SANFLAGS)
BLDFLAGS += $(SANFLAGS)
else
OBJ      := $(BUILD)/obj
endif

BPF_CFLAGS = -g -O2 -target bpf -D__TARGET_ARCH_x86 -Wall -Werror -I. -I/usr/include/$(MULTIARCH)

# The program: every .c under rules/, proxy/ and user/. main.c stays out of the library so the
# unit tests and fuzz targets can link the rest.
LIB_SRCS  = $(sort $(wildcard rules/*.c proxy/*.c) $(filter-out user/main.c,$(wildcard user/*.c)))
# Protocol messages: C made by protoc-c, never committed: the Coder agent's
# (proxy/coder_agent.proto) and the CRI's that boundary node reads (user/cri.proto).
PROTOS    = proxy/coder_agent.proto user/cri.proto
PB_C      = $(PROTOS:%.proto=$(BUILD)/%.pb-c.c)
PB_H      = $(PROTOS:%.proto=$(BUILD)/%.pb-c.h)
PB_NAMES  = $(notdir $(PROTOS:%.proto=%))
LIB_OBJS  = $(LIB_SRCS:%.c=$(OBJ)/%.o) $(PB_NAMES:%=$(OBJ)/pb/%.pb-c.o)
LIB       = $(OBJ)/libboundary.a
BIN       = $(BUILD)/boundary
ifeq ($(SAN),1)
BIN       = $(BUILD)/boundary-san
endif

UNIT_SRCS = $(sort $(wildcard tests/unit/*/*_test.c))
UNIT_BINS = $(UNIT_SRCS:tests/unit/%.c=$(OBJ)/tests/unit/%)
CONF_BIN  = $(OBJ)/tests/conformance/rules_conformance
PROBE_BIN = $(BUILD)/tests/netprobe
BENCH_BIN = $(BUILD)/tools/rules_bench
# The benchmark's own clients (tools/bench/run): time to first byte, idle connections.
BENCH_CLIENTS = $(BUILD)/tools/ttfb $(BUILD)/tools/idleconns

FUZZ_SRCS = $(sort $(wildcard tests/fuzz/*_fuzz.c))
FUZZ_BINS = $(FUZZ_SRCS:tests/fuzz/%.c=$(BUILD)/fuzz/%)
FUZZ_OBJ  = $(BUILD)/fuzzobj
FUZZ_LIB_OBJS = $(LIB_SRCS:%.c=$(FUZZ_OBJ)/%.o) $(PB_NAMES:%=$(FUZZ_OBJ)/pb/%.pb-c.o)
FUZZ_LIB  = $(FUZZ_OBJ)/libboundary.a
FUZZ_CFLAGS = -std=gnu11 -g -O1 -I. -I$(BUILD) -D_GNU_SOURCE -Ulinux -DBOUNDARY_VERSION='"fuzz"' \
	      -DBOUNDARY_FUZZING -fsanitize=fuzzer-no-link,address,undefined \
	      -fno-sanitize-recover=all -fno-omit-frame-pointer -MMD -MP

# The shells' completion scripts, written by the binary from the tables it parses with.
COMPLETIONS = $(BUILD)/completions/boundary $(BUILD)/completions/_boundary \
	      $(BUILD)/completions/boundary.fish

.PHONY: all
all: $(BIN) $(COMPLETIONS)
$(BUILD)/completions/boundary: $(BIN)
	$(call msg,GEN,$@)
	$(Q)mkdir -p $(@D) && $(BIN) completion bash > $@
$(BUILD)/completions/_boundary: $(BIN)
	$(call msg,GEN,$@)
	$(Q)mkdir -p $(@D) && $(BIN) completion zsh > $@
$(BUILD)/completions/boundary.fish: $(BIN)
	$(call msg,GEN,$@)
	$(Q)mkdir -p $(@D) && $(BIN) completion fish > $@

$(BIN): $(OBJ)/user/main.o $(LIB)
	$(call msg,LD,$@)
	$(Q)$(CC) $(BCFLAGS) $(BLDFLAGS) -o $@ $^ $(LIBS)

$(LIB): $(LIB_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(OBJ)/%.o: %.c
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(BCFLAGS) -c -o $@ $<

# protoc-c writes DIR/NAME.pb-c.[ch] under $(BUILD), where -I$(BUILD) finds them.
$(BUILD)/%.pb-c.c $(BUILD)/%.pb-c.h: %.proto
	$(call msg,PROTOC,$<)
	$(Q)mkdir -p $(BUILD)
	$(Q)$(PROTOC_C) --proto_path=. --c_out=$(BUILD) $<

# Their initialisers cast away const: those files alone go without -Wcast-qual.
$(OBJ)/pb/coder_agent.pb-c.o: $(BUILD)/proxy/coder_agent.pb-c.c $(PB_H)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(BCFLAGS) -Wno-cast-qual -c -o $@ $<
$(OBJ)/pb/cri.pb-c.o: $(BUILD)/user/cri.pb-c.c $(PB_H)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(BCFLAGS) -Wno-cast-qual -c -o $@ $<

# What includes a generated header waits for it (the .d files know only after a first build).
$(OBJ)/proxy/agentlog.o $(FUZZ_OBJ)/proxy/agentlog.o $(OBJ)/user/cri.o $(FUZZ_OBJ)/user/cri.o \
	$(UNIT_BINS): $(PB_H)

# BPF: compile, link through bpftool (which checks the object), embed as a skeleton.
$(BUILD)/jail.tmp.o: bpf/jail.bpf.c bpf/jail.h
	$(call msg,BPF,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c -o $@ $<

$(BUILD)/jail.bpf.o: $(BUILD)/jail.tmp.o
	$(call msg,GEN-OBJ,$@)
	$(Q)$(BPFTOOL) gen object $@ $<

$(BUILD)/jail.skel.h: $(BUILD)/jail.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name jail_bpf > $@

# Only user/jail.c includes the skeleton.
$(OBJ)/user/jail.o $(FUZZ_OBJ)/user/jail.o: $(BUILD)/jail.skel.h

# vmlinux.h is generated on demand only; no program needs kernel-internal types today.
.PHONY: vmlinux
vmlinux:
	$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > vmlinux/vmlinux.h

# --- tests -----------------------------------------------------------------------------------

$(OBJ)/tests/unit/%: tests/unit/%.c $(LIB)
	$(call msg,TEST,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(BCFLAGS) $(BLDFLAGS) -Wno-missing-prototypes -Wno-missing-declarations \
		-o $@ $< $(LIB) $(LIBS) -lcmocka

$(CONF_BIN): tests/conformance/rules_conformance.c $(LIB)
	$(call msg,TEST,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(BCFLAGS) $(BLDFLAGS) -o $@ $< $(LIB) $(LIBS)

# The socket prober the jail's e2e and security tests run inside jails.
$(PROBE_BIN): tests/e2e/netprobe.c
	$(call msg,TEST,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(BCFLAGS) $(BLDFLAGS) -o $@ $<

$(BENCH_BIN): tools/bench/rules_bench.c $(BUILD)/obj/libboundary.a
	$(call msg,BENCH,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(BCFLAGS) $(BLDFLAGS) -o $@ $< $(BUILD)/obj/libboundary.a $(LIBS)

$(BUILD)/tools/%: tools/bench/%.c
	$(call msg,BENCH,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(BCFLAGS) $(BLDFLAGS) -o $@ $< -lssl -lcrypto

$(FUZZ_OBJ)/%.o: %.c
	$(call msg,CC-FUZZ,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) -c -o $@ $<

$(FUZZ_OBJ)/pb/coder_agent.pb-c.o: $(BUILD)/proxy/coder_agent.pb-c.c $(PB_H)
	$(call msg,CC-FUZZ,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) -c -o $@ $<
$(FUZZ_OBJ)/pb/cri.pb-c.o: $(BUILD)/user/cri.pb-c.c $(PB_H)
	$(call msg,CC-FUZZ,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) -c -o $@ $<

$(FUZZ_LIB): $(FUZZ_LIB_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

# A target may #include a .c to reach its statics; the archive then leaves that member out.
$(BUILD)/fuzz/%_fuzz: tests/fuzz/%_fuzz.c $(FUZZ_LIB)
	$(call msg,FUZZ,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< $(FUZZ_LIB) $(LIBS)

.PHONY: unit-bins fuzz-bins test-bins
unit-bins: $(UNIT_BINS) $(CONF_BIN) $(PROBE_BIN)
fuzz-bins: $(FUZZ_BINS)
# Everything the suites run: the program, unit tests in both builds, fuzz targets; with SAN=1
# also build/boundary-san. The plain program is always built: valgrind.t runs it.
test-bins:
	$(Q)$(MAKE) --no-print-directory SAN= SANITIZE= all unit-bins
	$(Q)$(MAKE) --no-print-directory SAN=1 SANITIZE= unit-bins $(if $(filter 1,$(SAN)),all)
	$(Q)$(MAKE) --no-print-directory SAN= SANITIZE= fuzz-bins

.PHONY: deps test
deps:
	$(Q)tools/install-deps

# Packages first (a fresh machine has none), then a build, then every suite through one runner
# that ends with "N passed, N failed".
test:
	$(Q)tools/install-deps
	$(Q)$(MAKE) --no-print-directory test-bins
	$(Q)BUILD=$(BUILD) SAN=$(SAN) tests/run

# CI's run here: a clean clone of HEAD in a 0700 directory, `env -i`, `.ci/run` (tools/test-fresh).
.PHONY: test-fresh
test-fresh:
	$(Q)tools/test-fresh

.PHONY: demo
demo:
	$(Q)tools/install-deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)tools/demo $(BUILD)/boundary

.PHONY: fuzz
fuzz:
	$(Q)tools/install-deps
	$(Q)$(MAKE) --no-print-directory fuzz-bins
	$(Q)BUILD=$(BUILD) FUZZ_BRIEF=$(FUZZ_SECONDS) FUZZ_JOBS=$(FUZZ_JOBS) tests/run fuzz

# The whole comparison (tools/bench/run): boundary beside direct, an nginx relay, squid and
# mitmproxy; writes docs/BENCHMARKS.md and docs/bench/*.png. Root; installs its own packages.
# QUICK=1: a short run (under 3 minutes) to check that everything works.
# BASELINE=DIR: also runs DIR/boundary, the build directory of another checkout (and, if built,
# DIR/tools/rules_bench), exactly as boundary is, and compares the two builds (A to G); the
# report then goes to $(BUILD)/bench-baseline/BENCHMARKS.md, not docs/, unless OUT= (and
# CHARTS=) say where. An older commit: git worktree add /tmp/old REV &&
# make -C /tmp/old all build/tools/rules_bench && sudo make bench BASELINE=/tmp/old/build
.PHONY: bench
bench: $(BENCH_BIN) $(BENCH_CLIENTS) all
	$(Q)if [ "$$(id -u)" != 0 ]; then echo "bench: needs root (sudo make bench)" >&2; exit 1; fi
	$(Q)BUILD=$(BUILD) QUICK=$(QUICK) $(if $(BASELINE),BENCH_BASELINE=$(BASELINE)) tools/bench/run

# --- style -----------------------------------------------------------------------------------

C_FILES = $(sort $(wildcard bpf/*.[ch] rules/*.[ch] proxy/*.[ch] user/*.[ch] tests/*/*.c \
	  tests/unit/*/*.c tools/bench/*.c))
HEADERS = $(sort $(wildcard rules/*.h proxy/*.h user/*.h))

.PHONY: fmt check lint
fmt:
	$(Q)clang-format -i $(C_FILES)

check: $(BUILD)/jail.skel.h $(PB_H)
	$(call msg,FORMAT,tree)
	$(Q)clang-format --dry-run -Werror $(C_FILES)
	$(call msg,HEADERS,tree)
	$(Q)for h in $(HEADERS); do \
		echo "#include \"$$h\"" | $(CC) -std=gnu11 -D_GNU_SOURCE -Ulinux -I. -I$(BUILD) -Wall -Werror \
			-fsyntax-only -x c - || { echo "$$h does not compile on its own" >&2; exit 1; }; \
	done
	$(call msg,BANNED,tree)
	$(Q)tools/banned $(filter-out tests/%,$(C_FILES))
	$(call msg,ANALYZE,tree)
	@# The analyzer's leak check reports every allocation still live when fatal() exits;
	@# leaks are LeakSanitizer's job (make test runs the unit tests under ASan).
	$(Q)for f in $(LIB_SRCS) user/main.c; do \
		$(CC) -std=gnu11 -D_GNU_SOURCE -Ulinux -I. -I$(BUILD) -DBOUNDARY_VERSION='"check"' \
			-fanalyzer -Wno-analyzer-malloc-leak -Werror -c -o /dev/null $$f 2>&1 \
			|| exit 1; \
	done

lint: $(BUILD)/jail.skel.h $(PB_H)
	$(call msg,CPPCHECK,tree)
	@# cppcheck reads no system header, so protoc-c's header cannot see libprotobuf-c's version
	@# and would stop at its #error: any version it accepts will do.
	$(Q)cppcheck --quiet --error-exitcode=1 --enable=warning,performance,portability \
		--inline-suppr --std=c11 -D_GNU_SOURCE -DBOUNDARY_VERSION='"lint"' \
		-DPROTOBUF_C_VERSION_NUMBER=1003000 -I. -I$(BUILD) \
		--suppress=missingIncludeSystem rules proxy user

# --- install ---------------------------------------------------------------------------------

.PHONY: install install-unit uninstall clean deb
install: $(BUILD)/boundary $(COMPLETIONS)
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(BASHCOMPDIR) \
		$(DESTDIR)$(ZSHCOMPDIR) $(DESTDIR)$(FISHCOMPDIR)
	install -m 0755 $(BUILD)/boundary $(DESTDIR)$(BINDIR)/boundary
	install -m 0644 docs/boundary.1 $(DESTDIR)$(MANDIR)/man1/boundary.1
	install -m 0644 $(BUILD)/completions/boundary $(DESTDIR)$(BASHCOMPDIR)/boundary
	install -m 0644 $(BUILD)/completions/_boundary $(DESTDIR)$(ZSHCOMPDIR)/_boundary
	install -m 0644 $(BUILD)/completions/boundary.fish $(DESTDIR)$(FISHCOMPDIR)/boundary.fish

# The systemd template (tools/boundary@.service), its ExecStart pointed at $(BINDIR).
install-unit:
	install -d $(DESTDIR)$(SYSTEMDUNITDIR)
	sed 's|/usr/local/bin/boundary|$(BINDIR)/boundary|' tools/boundary@.service \
		>$(DESTDIR)$(SYSTEMDUNITDIR)/boundary@.service
	chmod 0644 $(DESTDIR)$(SYSTEMDUNITDIR)/boundary@.service

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/boundary $(DESTDIR)$(MANDIR)/man1/boundary.1 \
		$(DESTDIR)$(BASHCOMPDIR)/boundary $(DESTDIR)$(ZSHCOMPDIR)/_boundary \
		$(DESTDIR)$(FISHCOMPDIR)/boundary.fish \
		$(DESTDIR)$(SYSTEMDUNITDIR)/boundary@.service

# A Debian package from debian/, built by dpkg-buildpackage in a copy of the tree (this one is
# left as it is) and checked by lintian: $(BUILD)/deb/boundary_VERSION_amd64.deb (tools/make-deb).
deb:
	$(Q)tools/install-deps
	$(Q)tools/make-deb $(BUILD)/deb

clean:
	rm -rf $(BUILD)

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
