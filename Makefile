# memwatch - top-level Makefile.
#
#   make            module/memwatch.ko and userspace/memwatch-read (+ memwatch-leak)
#   make run        build, then load the module here if this kernel allows it,
#                   otherwise in the bundled VM, and show memwatch-read
#   make dashboard  memwatchd with the module (here, or in the VM with a host
#                   forward) and the dashboard's URL on 127.0.0.1
#   make check      host tests, then VM tests on each supported kernel
#   make check-shapes  VM tests on a two-node NUMA guest and on four vCPUs
#   make install    module into /lib/modules/$(KVER)/extra, tools into $(PREFIX)/bin
#   make clean
#
# KDIR defaults to the running kernel's build tree when that kernel supports
# modules, else Debian's 6.1 headers (scripts/find-kdir). V=1 shows commands.

KDIR ?= $(shell scripts/find-kdir 2>/dev/null)
PREFIX ?= /usr/local
DESTDIR ?=

all: setup-if-needed module userspace tests-progs

setup-if-needed:
	@bash scripts/setup --check >/dev/null 2>&1 || bash scripts/setup

module:
	@test -n "$(KDIR)" || { echo "make: no kernel build tree found; run scripts/setup" >&2; exit 1; }
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules

userspace:
	$(MAKE) -C userspace

tests-progs: userspace
	@if [ -f tests/progs/Makefile ]; then $(MAKE) -C tests/progs; fi
	@if [ -f tests/unit/Makefile ]; then $(MAKE) -C tests/unit; fi

install: module userspace
	$(MAKE) -C $(KDIR) M=$(CURDIR) INSTALL_MOD_DIR=extra modules_install
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib
	install -m 0755 userspace/memwatch-read $(DESTDIR)$(PREFIX)/bin/
	install -d $(DESTDIR)$(PREFIX)/sbin $(DESTDIR)$(PREFIX)/lib/systemd/system
	install -m 0755 userspace/memwatchd/memwatchd $(DESTDIR)$(PREFIX)/sbin/
	install -m 0644 userspace/memwatchd/memwatchd.service $(DESTDIR)$(PREFIX)/lib/systemd/system/
	@if [ -f userspace/memwatch-leak ]; then \
		install -m 0755 userspace/memwatch-leak $(DESTDIR)$(PREFIX)/bin/ && \
		install -m 0644 userspace/libmemwatch-leak.so $(DESTDIR)$(PREFIX)/lib/; fi

run: all
	bash scripts/run

dashboard: all
	bash scripts/dashboard

check: all
	bash tests/run

check-shapes: all
	MW_TESTS=vm MW_KERNELS="$${MW_SHAPE_LANES:-6.1+numa2 6.12+numa2 6.12+smp4}" bash tests/run

setup:
	bash scripts/setup

clean:
	@if [ -n "$(KDIR)" ]; then $(MAKE) -C $(KDIR) M=$(CURDIR) clean; fi
	$(MAKE) -C userspace clean
	@if [ -f tests/progs/Makefile ]; then $(MAKE) -C tests/progs clean; fi
	@if [ -f tests/unit/Makefile ]; then $(MAKE) -C tests/unit clean; fi
	rm -rf build

.PHONY: all setup-if-needed module userspace tests-progs install run dashboard check check-shapes setup clean

# ---- reliability lanes (Documentation/testing.md, "Debug kernel, soak, fuzz")
#   make check-debug   VM suite + a 10-minute soak on the debug kernel
#                      (scripts/build-debug-kernel, cached under build/)
#   make soak          SOAK_CYCLES (1000) insmod/rmmod cycles under the storm
#                      on SOAK_KERNEL (6.1); SOAK_SECONDS bounds the time
#   make fuzz          each fuzz target for FUZZ_SECONDS (300)
SOAK_KERNEL ?= 6.1
SOAK_CYCLES ?= 1000
SOAK_SECONDS ?= 0
FUZZ_SECONDS ?= 300

check-debug: all
	bash tests/check-debug

soak: all
	MW_KERNELS=$(SOAK_KERNEL) MW_TESTS=vm MW_VM_TESTS=soak MW_VM_TIMEOUT=30000 \
	MW_VM_ENV="MW_SOAK_CYCLES=$(SOAK_CYCLES) MW_SOAK_SECONDS=$(SOAK_SECONDS) MW_VM_FILE_TIMEOUT=28800" \
	bash tests/run

fuzz:
	bash tests/fuzz/run --seconds $(FUZZ_SECONDS)

.PHONY: check-debug soak fuzz
