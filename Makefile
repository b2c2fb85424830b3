# Out-of-tree build and test entry points for the vfio-pci series.
#
# The kernel paths (drivers/, include/, Documentation/, tools/, MAINTAINERS)
# are what goes into a kernel tree; this file and harness/ are repository
# glue only.
#
#   make                 build vfio-pci-core.ko, vfio-pci.ko and
#                        mlx5-vfio-pci.ko (where the kernel has mlx5_core)
#   make KDIR=/path      ...against another kernel build tree
#   make tools           build tools/vfio-pci-bind into build/tools (part of
#                        `make`; needs libkmod-dev)
#   make modroot         module tree for the VM: distro modules + ours in updates/
#   make selftests       build tools/testing/selftests/vfio into build/selftests
#   make lint            checkpatch --strict, kernel-doc, sparse, W=1, the
#                        docs build and MAINTAINERS
#   make docs            Documentation/driver-api/vfio-pci as HTML in
#                        build/docs/html (Sphinx, kernel-doc; warnings fail)
#   make intree          build the kernel paths inside the linux-source tree
#   make check           everything above plus the VM test suite
#   make demo            boot a VM, bind devices, hand one to a nested QEMU
#   make check-debug     the VM suite on a KASAN/lockdep/kmemleak debug kernel
#   make coverage        line coverage of our modules from the last check-debug
#   make bench           micro-benchmarks in one VM, ours vs the distro's
#                        vfio-pci, as a table of medians and ratios
#
# Installing (Documentation/driver-api/vfio-pci/admin.rst, the last section):
#   make install         build the modules if needed, install them into
#                        $(INSTALL_MOD_PATH)/lib/modules/KVER/updates/vfio-pci/
#                        and run depmod (-b when INSTALL_MOD_PATH is set);
#                        modules_install is the same
#   make uninstall       remove them again and run depmod
#   make dkms-source     the DKMS source tree: $(DESTDIR)/usr/src/vfio-pci-VERSION
#   make deb             build/deb/vfio-pci-dkms_VERSION-1_all.deb, a Debian
#                        package that builds the modules with DKMS

REPO	:= $(CURDIR)
KVER	?= $(shell $(REPO)/harness/kver.sh 2>/dev/null || . $(REPO)/harness/kernel.env && echo $$KERNEL_ABI)
KDIR	?= /lib/modules/$(KVER)/build
BUILD	:= $(REPO)/build
OOT	:= $(BUILD)/oot
MODROOT	:= $(BUILD)/modroot

# Our copy of include/linux/vfio_pci_core.h must win over the headers
# package's: NOSTDINC_FLAGS comes before the kernel's own include paths.
# Setting it on the command line replaces the kernel Makefile's value, so
# -nostdinc is repeated here.
# The KUnit tests are built when the kernel has KUnit (the debug kernel of
# harness/debug-kernel.sh does, Debian's does not).
KUNIT_M	= $(shell grep -qs '^CONFIG_KUNIT=[ym]' $(KDIR)/.config && echo m)
# mlx5-vfio-pci needs mlx5_core's symbols: Debian's kernel exports them;
# a kernel without mlx5_core (the debug kernel) gets them from the test
# model of mlx5_core, whose Module.symvers MLX5_CORE_SYMVERS names.
MLX5_CORE_SYMVERS ?=
MLX5_M	= $(if $(MLX5_CORE_SYMVERS),m,$(shell grep -qs 	  '	mlx5_cmd_exec	drivers/net/ethernet/mellanox/mlx5/core/mlx5_core	' 	  $(KDIR)/Module.symvers && echo m))
KBUILD_ARGS = -C $(KDIR) M=$(OOT)/drivers/vfio/pci \
	NOSTDINC_FLAGS="-nostdinc -I$(OOT)/include" \
	CONFIG_VFIO_PCI_CORE=m CONFIG_VFIO_PCI=m CONFIG_MLX5_VFIO_PCI=$(MLX5_M) \
	CONFIG_VFIO_PCI_KUNIT_TEST=$(KUNIT_M) \
	$(if $(MLX5_CORE_SYMVERS),KBUILD_EXTRA_SYMBOLS=$(MLX5_CORE_SYMVERS))

.PHONY: all modules tools sync-src modroot selftests test-modules lint docs intree check demo \
	setup clean check-debug coverage bench install modules_install uninstall \
	dkms-source deb

all: modules tools

# Userspace tools, built in place of their sources' own Makefiles so that
# they stay usable on their own.
tools:
	$(MAKE) -s -C $(REPO)/tools/vfio-pci-bind O=$(BUILD)/tools/vfio-pci-bind

# Build from a copy so that the source tree never collects build products.
sync-src:
	@mkdir -p $(OOT)/drivers/vfio/pci $(OOT)/include/linux
	@rsync -a --delete --exclude '*.o' --exclude '*.ko' --exclude '.*.cmd' \
		--exclude '*.mod*' --exclude 'modules.order' --exclude 'Module.symvers' \
		--exclude '*.gcno' \
		$(REPO)/drivers/vfio/pci/ $(OOT)/drivers/vfio/pci/
	@rsync -a $(REPO)/include/linux/ $(OOT)/include/linux/

modules: sync-src
	$(MAKE) $(KBUILD_ARGS) $(if $(W),W=$(W)) $(if $(C),C=$(C)) modules

modroot: modules
	$(REPO)/harness/mkmodroot.sh $(KVER) $(MODROOT) $(OOT)/drivers/vfio/pci

selftests:
	$(REPO)/harness/build-selftests.sh $(BUILD)/selftests

# The test-only mlx5_core model (for mlx5-vfio-pci's tests) is built with
# mlx5_core's private headers from the kernel source tree, so that its
# exports carry the distro's CRCs; the build fails if one does not.
MLX5_MODEL := $(BUILD)/test-modules/mlx5-core-model

# Test-only kernel modules the VM tests load (built here: compiling in a
# TCG guest takes minutes).  The variant fixture is a driver on our core:
# it needs our header and the symbol versions of our build, so `modules`
# must have run first (not a prerequisite: check-debug builds the modules
# with gcov flags that a rebuild from here would drop).
test-modules:
	@mkdir -p $(BUILD)/test-modules/pci-id-spoof
	@cp $(REPO)/harness/tests/pci-id-spoof/* $(BUILD)/test-modules/pci-id-spoof/
	$(MAKE) -s -C $(KDIR) M=$(BUILD)/test-modules/pci-id-spoof modules
	@mkdir -p $(BUILD)/test-modules/igd-fixture
	@cp $(REPO)/harness/tests/igd-fixture/* $(BUILD)/test-modules/igd-fixture/
	$(MAKE) -s -C $(KDIR) M=$(BUILD)/test-modules/igd-fixture modules
	@mkdir -p $(BUILD)/test-modules/bind-fixture
	@cp $(REPO)/harness/tests/bind-fixture/* $(BUILD)/test-modules/bind-fixture/
	$(MAKE) -s -C $(KDIR) M=$(BUILD)/test-modules/bind-fixture modules
	@mkdir -p $(BUILD)/test-modules/intx-inject
	@cp $(REPO)/harness/tests/intx-inject/* $(BUILD)/test-modules/intx-inject/
	$(MAKE) -s -C $(KDIR) M=$(BUILD)/test-modules/intx-inject modules
	@test -f $(OOT)/drivers/vfio/pci/Module.symvers || \
		{ echo "test-modules: build our modules first (make modules)" >&2; exit 1; }
	@mkdir -p $(BUILD)/test-modules/variant-fixture
	@cp $(REPO)/harness/tests/variant-fixture/* $(BUILD)/test-modules/variant-fixture/
	$(MAKE) -s -C $(KDIR) M=$(BUILD)/test-modules/variant-fixture \
		NOSTDINC_FLAGS="-nostdinc -I$(OOT)/include" \
		KBUILD_EXTRA_SYMBOLS=$(OOT)/drivers/vfio/pci/Module.symvers modules
	@mkdir -p $(MLX5_MODEL)
	@cp $(REPO)/tools/testing/selftests/vfio/mlx5_core_model/* $(MLX5_MODEL)/
	$(MAKE) -s -C $(KDIR) M=$(MLX5_MODEL) \
		MLX5_CORE_SRC=$$($(REPO)/harness/ksrc.sh)/drivers/net/ethernet/mellanox/mlx5/core \
		modules
	$(REPO)/harness/mlx5-model-symvers.sh $(KDIR)/Module.symvers \
		$(MLX5_MODEL)/Module.symvers

lint:
	$(REPO)/harness/lint.sh

# Like a kernel tree's `make htmldocs`, for our pages only.
docs:
	$(REPO)/harness/docs/build.sh $(BUILD)/docs

intree:
	$(REPO)/harness/intree-check.sh

setup:
	$(REPO)/harness/setup.sh

check:
	$(REPO)/harness/check.sh

demo:
	$(REPO)/harness/demo.sh

check-debug:
	$(REPO)/harness/check-debug.sh

coverage:
	$(REPO)/harness/coverage.sh

# Measurements, not tests: not part of `make check`.
bench: modroot selftests
	$(REPO)/harness/bench.sh

# The release the kernel build tree was made for: the directory under
# /lib/modules that kbuild's modules_install writes to and depmod indexes.
KREL	= $(shell cat $(KDIR)/include/config/kernel.release 2>/dev/null || echo $(KVER))
# Our own subdirectory of updates/: depmod prefers updates/ over kernel/
# for a module of the same name, and uninstall removes exactly ours.
MOD_DIR	:= updates/vfio-pci
DEPMOD_ARGS = $(if $(INSTALL_MOD_PATH),-b $(INSTALL_MOD_PATH)) $(KREL)

# kbuild's own modules_install: it compresses the modules the way the
# kernel's are (xz on Debian) and strips them with INSTALL_MOD_STRIP.  It
# would also sign them with the kernel's build key, which a distro's
# headers do not carry (Debian's set CONFIG_MODULE_SIG_ALL all the same):
# no signing here.  DKMS signs with the machine's MOK.
modules_install: modules
	$(MAKE) $(KBUILD_ARGS) INSTALL_MOD_DIR=$(MOD_DIR) CONFIG_MODULE_SIG_ALL= \
		modules_install
	depmod $(DEPMOD_ARGS)

install: modules_install

uninstall:
	rm -rf $(INSTALL_MOD_PATH)/lib/modules/$(KREL)/$(MOD_DIR)
	depmod $(DEPMOD_ARGS)

# The DKMS source tree: dkms.conf, this Makefile and the kernel paths the
# modules are built from.  DKMS refuses to replace a kernel module whose
# version it cannot tell from ours (neither has a MODULE_VERSION, so it
# takes them for the same version) unless told to: the file under
# modules_to_force_install does that for every `dkms install`, the
# autoinstall of a new kernel included.
DKMS_NAME	:= $(shell sed -n 's/^PACKAGE_NAME="\(.*\)"$$/\1/p' $(REPO)/dkms.conf)
DKMS_VERSION	:= $(shell sed -n 's/^PACKAGE_VERSION="\(.*\)"$$/\1/p' $(REPO)/dkms.conf)
DKMS_SRC	= $(DESTDIR)/usr/src/$(DKMS_NAME)-$(DKMS_VERSION)
DKMS_FORCE	= $(DESTDIR)/usr/share/dkms/modules_to_force_install/$(DKMS_NAME)

dkms-source:
	rm -rf $(DKMS_SRC)
	mkdir -p $(DKMS_SRC)/drivers/vfio $(DKMS_SRC)/include $(dir $(DKMS_FORCE))
	cp $(REPO)/Makefile $(REPO)/dkms.conf $(DKMS_SRC)/
	cp -R $(REPO)/drivers/vfio/pci $(DKMS_SRC)/drivers/vfio/
	cp -R $(REPO)/include/linux $(DKMS_SRC)/include/
	chmod -R u=rwX,go=rX $(DKMS_SRC)
	echo $(DKMS_NAME)_version-override >$(DKMS_FORCE)
	chmod 644 $(DKMS_FORCE)

deb:
	$(REPO)/packaging/build-deb.sh $(BUILD)/deb

clean:
	rm -rf $(BUILD)
