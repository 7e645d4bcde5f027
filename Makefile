# SPDX-License-Identifier: GPL-3.0-or-later
# Makefile -- every QVD binary from one flat tree (GNU make).

PREFIX	?= /usr/local
SBINDIR	?= $(PREFIX)/sbin
BINDIR	?= $(PREFIX)/bin
MANDIR	?= $(PREFIX)/share/man
DATADIR	?= $(PREFIX)/share/qvd
SYSCONFDIR ?= /etc
UNITDIR	?= $(PREFIX)/lib/systemd/system
DESTDIR	?=

O	?= build
CC	?= cc
CFLAGS	?= -O2 -g
WARNINGS = -std=c99 -Wall -Wextra -Wshadow -Wstrict-prototypes \
	   -Wmissing-prototypes -Wpointer-arith
PGINC	:= $(shell pg_config --includedir 2>/dev/null || echo /usr/include/postgresql)
ALL_CPPFLAGS = -D_GNU_SOURCE -I. -I$(PGINC) $(CPPFLAGS)
ALL_CFLAGS = $(WARNINGS) $(CFLAGS) $(SANFLAGS)
ALL_LDFLAGS = $(LDFLAGS) $(SANFLAGS)
LIBSSL	= -lssl -lcrypto
LIBPQ	= -lpq

ifeq ($(SAN),1)
SANFLAGS = -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
endif

# Shared by every binary, and what needs the database too.
CORE	= xmalloc str buf base64 log conf defaults valid ipnet clock json http \
	  tls conn pass tty files
DBCORE	= $(CORE) db schema

# What qa and the WAT share: the administration layer.
ADMIN	= admin vmctl di filter table lists attime lb $(DBCORE)
# Unit tests link everything they might test.
TESTED	= $(ADMIN) nx proc hook provision xsession daemon relay ldap x11 qmp \
	  proxyproto

DEPLOY_OBJS = deploy $(DBCORE)
QA_OBJS	= qa qacmd qavm proc $(ADMIN)
VMA_OBJS = vma xsession provision hook proc nx daemon $(CORE)
WAT_OBJS = wat watauth watpage watform watact watjob watkeep throttle proc daemon \
	   $(ADMIN)
CLIENT_OBJS = client l7rclient certstore x11 relay nx proc $(CORE)
NODE_OBJS = hkd fence proxyproto vmh lxc kvm qmp dhcp net job vmarpc hostload proc daemon l7r l7rfront l7rreq l7rsession \
	    throttle auth ldap relay lb admin vmctl $(DBCORE)

PROGS	= qvd-deploy-db qa qvd-vma qvd-node qvdclient qvd-wat
UNIT	= t_str t_log t_conf t_json t_http t_tls t_pass t_attime t_ipnet t_relay t_db \
	  t_ldap t_x11 t_proxy t_qmp

obj = $(addprefix $(O)/,$(addsuffix .o,$(1)))

VMA_KEYS = vma. log. path.run path.log command.nxagent command.x command.user \
	   command.group command.poweroff command.nxdiag internal.nxagent. \
	   internal.vma. internal.vm.port.vma

CLIENT_KEYS = client. log.level

all: $(addprefix $(O)/,$(PROGS)) man/node.conf.5 man/vma.conf.5 \
	man/client.conf.5

$(O):
	mkdir -p $(O) $(O)/tests $(O)/tools

$(O)/%.o: %.c qvd.h | $(O)
	$(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) -c -o $@ $<

$(O)/schema.c: schema.sql tools/embed-sql.awk | $(O)
	awk -f tools/embed-sql.awk schema.sql > $@

$(O)/schema.o: $(O)/schema.c qvd.h
	$(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) -c -o $@ $<

$(O)/qvd-deploy-db: $(call obj,$(DEPLOY_OBJS))
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBPQ) $(LIBSSL)

$(O)/qa: $(call obj,$(QA_OBJS))
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBPQ) $(LIBSSL)

$(O)/qvd-vma: $(call obj,$(VMA_OBJS))
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBSSL)

$(O)/qvd-node: $(call obj,$(NODE_OBJS))
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBPQ) $(LIBSSL)

$(O)/qvd-wat: $(call obj,$(WAT_OBJS))
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBPQ) $(LIBSSL)

$(O)/qvdclient: $(call obj,$(CLIENT_OBJS))
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBSSL)

# The client linked statically (OpenSSL and libc only), for x86_64 and,
# with Debian's cross compiler and arm64 OpenSSL, aarch64 (Raspberry Pi).
static-client: $(O)/qvdclient-static $(O)/qvdclient-aarch64

# Static: names resolved by resolve.c, as a static glibc cannot use the
# NSS modules of whatever system it runs on.
STATIC_CLIENT_OBJS = $(filter-out l7rclient,$(CLIENT_OBJS)) resolve

$(O)/qvdclient-static: $(call obj,$(STATIC_CLIENT_OBJS)) \
	    $(O)/l7rclient-static.o
	$(CC) $(ALL_LDFLAGS) -static -o $@ $^ $(LIBSSL)

$(O)/l7rclient-static.o: l7rclient.c qvd.h | $(O)
	$(CC) $(ALL_CPPFLAGS) -DQVD_OWN_RESOLVER $(ALL_CFLAGS) -c -o $@ $<

$(O)/qvdclient-aarch64: $(addsuffix .c,$(CLIENT_OBJS) resolve) qvd.h | $(O)
	$(MAKE) O=build-aarch64 CC=aarch64-linux-gnu-gcc SAN= \
		build-aarch64/qvdclient-static
	cp build-aarch64/qvdclient-static $@

# The man page of node.conf is generated from the defaults table.
$(O)/confdoc: $(call obj,tools/confdoc $(CORE))
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBSSL)

man/node.conf.5: man/node.conf.5.in defaults.c | $(O)/confdoc
	$(O)/confdoc man/node.conf.5.in > $@.tmp && mv $@.tmp $@

man/vma.conf.5: man/vma.conf.5.in defaults.c | $(O)/confdoc
	$(O)/confdoc man/vma.conf.5.in $(VMA_KEYS) > $@.tmp && mv $@.tmp $@

man/client.conf.5: man/client.conf.5.in defaults.c | $(O)/confdoc
	$(O)/confdoc man/client.conf.5.in $(CLIENT_KEYS) > $@.tmp && mv $@.tmp $@

# Are the generated pages in the tree current?
check-man: $(O)/confdoc
	$(O)/confdoc man/node.conf.5.in | cmp -s - man/node.conf.5
	$(O)/confdoc man/vma.conf.5.in $(VMA_KEYS) | cmp -s - man/vma.conf.5
	$(O)/confdoc man/client.conf.5.in $(CLIENT_KEYS) | \
		cmp -s - man/client.conf.5

# ---- tests ----

$(O)/tests/%.o: tests/unit/%.c tests/unit/tap.h qvd.h | $(O)
	$(CC) $(ALL_CPPFLAGS) -Itests/unit $(ALL_CFLAGS) -c -o $@ $<

$(O)/tests/t_%: $(O)/tests/t_%.o $(O)/tests/tap.o $(call obj,$(TESTED))
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBPQ) $(LIBSSL)

$(O)/tests/tunnel: $(O)/tests/tunnel.o $(call obj,relay $(CORE))
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBSSL)

$(O)/tests/tunnel.o: tests/tools/tunnel.c qvd.h | $(O)
	$(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) -c -o $@ $<

unit: all $(addprefix $(O)/tests/,$(UNIT)) $(O)/tests/tunnel

test: deps
	$(MAKE) all unit static-client
	$(MAKE) O=build-asan SAN=1 unit
	sh tests/run

# The whole suite with every program (daemons, qa, client, WAT, the VMA in
# the test images) built with ASan + UBSan; slower, so not part of make
# test.  Reports land in build-asan/asan-reports/.  QVD_ONLY=name works.
# The static clients cannot carry ASan: the plain build's are tested.
test-asan: deps
	$(MAKE) all static-client
	$(MAKE) O=build-asan SAN=1 all unit
	for c in qvdclient-static qvdclient-aarch64; do \
		[ ! -e build/$$c ] || ln -sf ../build/$$c build-asan/$$c; done
	rm -rf build-asan/asan-reports && mkdir -p build-asan/asan-reports
	QVD_BUILD=build-asan QVD_SAN_REPORTS=$(CURDIR)/build-asan/asan-reports \
		sh tests/run
	@if ls build-asan/asan-reports/* >/dev/null 2>&1; then \
		echo "sanitizer reports:"; grep -l ERROR build-asan/asan-reports/*; \
		exit 1; fi

deps:
	sh tools/deps test
	@[ -d tests/browser/node_modules/playwright-core ] || \
		(cd tests/browser && npm ci --no-audit --no-fund --loglevel=error)

asan:
	$(MAKE) O=build-asan SAN=1 unit
	QVD_UNIT_ONLY=1 QVD_BUILD=build-asan sh tests/run

FUZZ_SECONDS ?= 60
FUZZERS	= fuzz_json fuzz_http fuzz_conf fuzz_attime fuzz_x11 fuzz_proxy \
	  fuzz_dns fuzz_nx fuzz_ldap
FUZZED	= $(CORE) attime x11 nx proc proxyproto resolve ldap
fuzz: $(addprefix $(O)/fuzz/,$(FUZZERS))
	sh tests/fuzz/run $(O)/fuzz $(FUZZ_SECONDS) $(FUZZERS)

$(O)/fuzz/%: tests/fuzz/%.c $(addsuffix .c,$(FUZZED)) qvd.h
	@mkdir -p $(O)/fuzz
	clang $(ALL_CPPFLAGS) -g -O1 -fsanitize=fuzzer,address,undefined \
		-o $@ $< $(addsuffix .c,$(FUZZED)) $(LIBSSL)

bench: all
	sh tests/bench/run

# A single-node farm on this machine, a client on its desktop (README).
demo:
	sh tools/demo start

demo-cluster:
	sh tools/demo cluster

demo-stop:
	sh tools/demo stop

# ---- install ----

install: all
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(MANDIR)/man5 \
		$(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(MANDIR)/man1 \
		$(DESTDIR)$(MANDIR)/man7 \
		$(DESTDIR)$(DATADIR) $(DESTDIR)$(SYSCONFDIR)/qvd
	install -m 755 $(O)/qvd-deploy-db $(DESTDIR)$(SBINDIR)/
	install -m 755 $(O)/qvd-vma $(DESTDIR)$(SBINDIR)/
	install -m 755 $(O)/qvd-node $(DESTDIR)$(SBINDIR)/
	install -m 755 $(O)/qvd-wat $(DESTDIR)$(SBINDIR)/
	install -m 755 qvd-mkimage $(DESTDIR)$(SBINDIR)/
	install -d $(DESTDIR)$(BINDIR)
	install -m 755 $(O)/qa $(DESTDIR)$(BINDIR)/
	ln -sf qa $(DESTDIR)$(BINDIR)/qvd-admin
	install -m 755 $(O)/qvdclient $(DESTDIR)$(BINDIR)/
	install -m 644 schema.sql $(DESTDIR)$(DATADIR)/
	install -m 644 man/*.1 $(DESTDIR)$(MANDIR)/man1/
	install -m 644 man/*.5 $(DESTDIR)$(MANDIR)/man5/
	install -m 644 man/*.7 $(DESTDIR)$(MANDIR)/man7/
	install -m 644 man/*.8 $(DESTDIR)$(MANDIR)/man8/
	install -d $(DESTDIR)$(UNITDIR)
	for f in etc/*.service; do \
		sed 's|/usr/local/sbin|$(SBINDIR)|g' $$f > \
			$(DESTDIR)$(UNITDIR)/$${f#etc/}; done
	for f in etc/*.conf; do \
		m=640; [ $$f = etc/client.conf ] && m=644; \
		[ -e $(DESTDIR)$(SYSCONFDIR)/qvd/$${f#etc/} ] || \
		install -m $$m $$f $(DESTDIR)$(SYSCONFDIR)/qvd/; done

clean:
	rm -rf build build-asan build-aarch64

.PHONY: all unit test test-asan deps asan fuzz bench install clean check-man \
	static-client demo demo-cluster demo-stop
