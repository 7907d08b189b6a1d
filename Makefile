# memwatch - top-level Makefile.
#
#   make            module/memwatch.ko and userspace/memwatch-read (+ memwatch-leak)
#   make run        build, then load the module here if this kernel allows it,
#                   otherwise in the bundled VM, and show memwatch-read
#   make check      host tests, then VM tests on each supported kernel
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

install: module userspace
	$(MAKE) -C $(KDIR) M=$(CURDIR) INSTALL_MOD_DIR=extra modules_install
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib
	install -m 0755 userspace/memwatch-read $(DESTDIR)$(PREFIX)/bin/
	@if [ -f userspace/memwatch-leak ]; then \
		install -m 0755 userspace/memwatch-leak $(DESTDIR)$(PREFIX)/bin/ && \
		install -m 0644 userspace/libmemwatch-leak.so $(DESTDIR)$(PREFIX)/lib/; fi

run: all
	bash scripts/run

check: all
	bash tests/run

setup:
	bash scripts/setup

clean:
	@if [ -n "$(KDIR)" ]; then $(MAKE) -C $(KDIR) M=$(CURDIR) clean; fi
	$(MAKE) -C userspace clean
	@if [ -f tests/progs/Makefile ]; then $(MAKE) -C tests/progs clean; fi
	rm -rf build

.PHONY: all setup-if-needed module userspace tests-progs install run check setup clean
