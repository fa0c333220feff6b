# cs-companion — build, test, demo and install.
#
#   make demo      private mosquitto on loopback + cs-companiond + josev-sim, end to end
#   make test      installs missing Debian packages, builds, runs every test and check (and the
#                  daemon under a real systemd: scripts/systemd-test.sh)
#   make bench     the daemon next to a C limit and a Python peer, behind one private mosquitto
#   make soak      daemon, broker restarts, josev-sim load and sessions, gridbox-sim; memory over time
#   make fleet-test  the station uplink bridged to a two-node RabbitMQ cluster (docs/FLEET.md)
#   make hostile   issue 18's floods at full size against the real daemon; figures in hostile/results/
#   make deb       the Debian package (debian/, debhelper) from the release build: .build/deb/*.deb
#   make install   release build (Swift stdlib linked statically) into $(DESTDIR)$(PREFIX)
#
SHELL := /bin/bash
SWIFT ?= swift
PREFIX ?= /usr
DESTDIR ?=
SYSCONFDIR ?= /etc
UNITDIR ?= /lib/systemd/system
RELEASE_FLAGS := -c release --static-swift-stdlib
RELEASE_DIR = $(shell $(SWIFT) build -c release --show-bin-path 2>/dev/null)

.PHONY: all deps build release release-binaries deb test check-architecture unit-tests check-unit check-footprint check-install systemd-test demo install install-files uninstall clean

all: build

deps:
	@scripts/install-deps.sh

build: deps
	$(SWIFT) build

release: deps
	@$(MAKE) --no-print-directory release-binaries

# The release build alone (debian/rules calls it: no apt-get inside a package build).
release-binaries:
	$(SWIFT) build $(RELEASE_FLAGS) --product cs-companiond
	$(SWIFT) build $(RELEASE_FLAGS) --product cs-companion

unit-tests: deps
	$(SWIFT) build --build-tests
	# One test at a time: the integration tests start brokers, daemons and tools, and on a 2-core
	# machine parallel runs starve the two cooperative threads (timeouts that are not bugs).
	set -o pipefail; $(SWIFT) test --skip-build --no-parallel 2>&1 | tee .build/test-output.log

check-architecture:
	scripts/check-architecture.sh

check-unit: deps
	scripts/check-unit.sh systemd/cs-companiond.service

check-footprint: release
	scripts/check-footprint.sh "$(RELEASE_DIR)/cs-companiond"

# The installed daemon under the shipped unit, run by systemd 252 as PID 1 of fresh namespaces
# (needs root; skips with a message where unshare or PID 1 is impossible), and the Debian package
# installed, upgraded and purged there (hence `deb`). docs/RELIABILITY.md.
systemd-test: deb
	scripts/systemd-test.sh

test: deps check-architecture unit-tests check-unit check-footprint check-install systemd-test
	@echo "make test: all tests and checks passed"
	@count=$$(grep -oE 'Test run with [0-9]+ tests' .build/test-output.log | grep -oE '[0-9]+' | tail -1); \
		echo "$${count:-0} passed, 0 failed"

demo: build
	scripts/demo.sh

install: release
	@$(MAKE) --no-print-directory install-files

# The install steps alone, from release binaries already built (check-install runs it twice
# without building again).
install-files:
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/cs-companion/schemas $(DESTDIR)$(UNITDIR)
	install -s -m 0755 "$(RELEASE_DIR)/cs-companiond" "$(RELEASE_DIR)/cs-companion" $(DESTDIR)$(PREFIX)/bin/
	install -m 0644 schemas/*.json $(DESTDIR)$(PREFIX)/share/cs-companion/schemas/
	sed -e 's|/usr/bin/cs-companiond|$(PREFIX)/bin/cs-companiond|g' systemd/cs-companiond.service \
		> $(DESTDIR)$(UNITDIR)/cs-companiond.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/cs-companiond.service
	install -m 0644 systemd/cs-companiond-modbus.socket $(DESTDIR)$(UNITDIR)/
	for unit in iso15118-service slac-service; do \
		install -d $(DESTDIR)$(UNITDIR)/$$unit.service.d; \
		install -m 0644 systemd/josev-after-cs-companiond.conf $(DESTDIR)$(UNITDIR)/$$unit.service.d/50-cs-companiond.conf; \
	done
	install -d -m 0755 $(DESTDIR)$(SYSCONFDIR)/cs-companiond
	@if [ -e $(DESTDIR)$(SYSCONFDIR)/cs-companiond/cs-companiond.yaml ]; then \
		echo "keeping existing $(DESTDIR)$(SYSCONFDIR)/cs-companiond/cs-companiond.yaml"; \
	else \
		install -m 0644 etc/cs-companiond.yaml $(DESTDIR)$(SYSCONFDIR)/cs-companiond/cs-companiond.yaml; \
	fi
	@echo "installed; then: systemctl daemon-reload && systemctl enable --now cs-companiond"

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/cs-companiond $(DESTDIR)$(PREFIX)/bin/cs-companion $(DESTDIR)$(UNITDIR)/cs-companiond.service
	rm -f $(DESTDIR)$(UNITDIR)/cs-companiond-modbus.socket $(DESTDIR)$(UNITDIR)/*-service.service.d/50-cs-companiond.conf
	rm -rf $(DESTDIR)$(PREFIX)/share/cs-companion

clean:
	rm -rf .build

# `make test` builds release once: check-footprint and check-install share the `release` prerequisite.
check-install: release
	scripts/check-install.sh

# make soak [DURATION=10m] [BROKER_RESTART_EVERY=300] [SAMPLE=10]: daemon, broker, josev-sim load and
# sessions and gridbox-sim together; RSS over time, reconnects, errors, messages; fails if memory grows.
.PHONY: soak
soak: deps
	DURATION="$(DURATION)" BROKER_RESTART_EVERY="$(BROKER_RESTART_EVERY)" SAMPLE="$(SAMPLE)" scripts/soak.sh

# make fuzz [FUZZ_TIME=<s per target>] [FUZZ_RUNS=<inputs per target>]: libFuzzer + ASan builds of
# the fuzz targets (.build-fuzz/), run on fuzz/corpus/; crashes land in fuzz/crashes/<target>/.
.PHONY: fuzz
fuzz:
	FUZZ_TIME="$(FUZZ_TIME)" FUZZ_RUNS="$(FUZZ_RUNS)" scripts/fuzz.sh

# make hostile [HOSTILE_OVERSIZE_MB=255]: issue 18's floods at full size (Modbus master that never
# reads, MQTT bursts of 800/2000 × 234 KiB, one 255 MB publish) and the other hostile cases against
# the real daemon; figures in hostile/results/<date>.md. `make test` runs the same tests, smaller.
.PHONY: hostile
hostile: deps
	scripts/hostile.sh

# make bench: cs-companiond (release, static stdlib) next to the C limit and the Python peer behind
# one private mosquitto, the validator alone, Modbus next to pymodbus; bench/results/<date>.md.
# Not part of `make test`: exits non-zero only when a responder answers wrongly or not at all.
.PHONY: bench
bench: deps
	scripts/bench.sh

# make deb: debian/ with debhelper on the release build (built once: `make test` reuses the one its
# `release` prerequisite made); the package, and lintian's report on it, in .build/deb/.
.PHONY: deb
deb: release
	scripts/build-deb.sh

# make fleet-test [FLEET_SESSIONS=12]: the station uplink through the shipped bridge template to a
# two-node RabbitMQ cluster (Debian's rabbitmq-server, MQTT plugin) on loopback, a node stopped and
# the station broker restarted mid-stream; figures in .build/fleet-test/results.md (docs/FLEET.md).
# Not part of `make test` (it installs rabbitmq-server and takes minutes).
.PHONY: fleet-test
fleet-test: deps
	FLEET_SESSIONS="$(FLEET_SESSIONS)" scripts/fleet-test.sh
