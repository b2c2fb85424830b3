// SPDX-License-Identifier: GPL-2.0
/*
 * vfio-pci-bind - bind a PCI device to the VFIO driver that matches it best
 *
 * VFIO PCI drivers (vfio-pci and its variant drivers) match devices only
 * through driver_override: their ID tables become "vfio_pci:" aliases in
 * the module index.  This tool prefixes a device's modalias with "vfio_",
 * asks libkmod for every module whose alias matches, ranks the "vfio_pci:"
 * aliases by how many wildcards they hold (fewer is more specific), loads
 * the winner and moves the device to the PCI driver it registers, keeping
 * what it needs to give the device back later (--restore).
 *
 * Run "vfio-pci-bind --help" for the options and the exit codes.
 */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libkmod.h>

#define SYS_PCI		"/sys/bus/pci"
#define SYS_MODULE	"/sys/module"
#define STATE_DIR	"/run/vfio-pci-bind"
#define ALIAS_PREFIX	"vfio_pci:"

enum exit_code {
	EXIT_OK		= 0,
	EXIT_GENERIC	= 1,
	EXIT_USAGE	= 2,
	EXIT_NODEV	= 3,
	EXIT_NOMATCH	= 4,
	EXIT_MODLOAD	= 5,
	EXIT_PROBE	= 6,
	EXIT_INUSE	= 7,
	EXIT_GROUP	= 8,
};

static const char usage_text[] =
"Usage: vfio-pci-bind [OPTIONS] DEVICE\n"
"\n"
"Bind the PCI device DEVICE (domain:bus:slot.function, e.g. 0000:01:00.0;\n"
"the domain may be left out) to the VFIO driver whose module alias matches\n"
"it best, or give it back to the driver it had before.\n"
"\n"
"The device's modalias, prefixed with \"vfio_\", is looked up in the module\n"
"index of the running kernel.  Of the matching aliases only those starting\n"
"\"vfio_pci:\" count; the one with the fewest '*' wins.  When two modules\n"
"tie for the top, the tie is reported and the module whose name sorts\n"
"first (strcmp) is chosen; --driver overrides the choice.\n"
"\n"
"Binding loads the module, sets the device's driver_override to the PCI\n"
"driver the module registers (found under /sys/module/MODULE/drivers),\n"
"unbinds the device from its current driver, asks the PCI core to probe it\n"
"and checks that the chosen driver took it.  The driver the device had and\n"
"its driver_override are kept in " STATE_DIR "/DEVICE (the first bind\n"
"writes it; later binds keep it) for --restore.  On any failure the device\n"
"goes back to the driver and driver_override it had.\n"
"\n"
"Refusals, checked before anything changes:\n"
"  - in use: a process holds the device's IOMMU group file /dev/vfio/GROUP\n"
"    (or its /dev/vfio/devices/vfioN) open, found by reading /proc/*/fd.\n"
"    Such a process is a VFIO user: it may have the device open too (the\n"
"    kernel's unbind would then wait until it lets go) or be about to.\n"
"    Users of host drivers (a mounted disk, an interface that is up) are\n"
"    not detected: their driver's unbind deals with them.\n"
"  - group: another device of its IOMMU group is bound to a host driver.\n"
"    Allowed are: no driver, a VFIO driver (its module uses the vfio\n"
"    module, directly or through one module such as vfio_pci_core),\n"
"    pci-stub, and pcieport (bridges).  Such a group cannot be used\n"
"    through VFIO, so binding one of its devices gains nothing.\n"
"\n"
"Options:\n"
"  -l, --list          list the candidate modules with their rank and\n"
"                      wildcard count, mark the choice, change nothing\n"
"  -n, --dry-run       check everything and print each step, change nothing\n"
"  -d, --driver MOD    use module MOD instead of the best match\n"
"  -r, --restore       give the device back to the driver it had before the\n"
"                      first bind (or leave it unbound if it had none) and\n"
"                      restore its driver_override (normally empty)\n"
"  -m, --moddir DIR    module directory (default /lib/modules/$(uname -r))\n"
"  -h, --help          this text\n"
"\n"
"Exit codes:\n"
"  0  success (also when the device already has the chosen driver)\n"
"  1  other error (sysfs access, saved state missing, not root)\n"
"  2  usage error\n"
"  3  no such PCI device\n"
"  4  no module has a vfio_pci: alias matching the device\n"
"  5  the module cannot be found or loaded, or registers no PCI driver\n"
"  6  the driver did not take the device (probe failed), or the old\n"
"     driver did not take it back (--restore)\n"
"  7  the device is in use (its VFIO group or device file is open)\n"
"  8  its IOMMU group has another device bound to a host driver\n";

struct candidate {
	char *module;
	char *alias;
	int stars;
};

static struct {
	bool dry_run;
	bool list;
	bool restore;
	const char *driver;
	const char *moddir;
} opt;

static char bdf[32];

static void msg(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "vfio-pci-bind: %s: ", bdf[0] ? bdf : "-");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void step(const char *fmt, ...)
{
	va_list ap;

	if (opt.dry_run)
		fputs("would ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

/* Read the first line of a file, without its newline. */
static int read_line(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");

	if (!f)
		return -errno;
	if (!fgets(buf, len, f))
		buf[0] = '\0';
	fclose(f);
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

/* Write a string to a sysfs attribute in one write(). */
static int write_attr(const char *path, const char *val)
{
	size_t len = strlen(val);
	ssize_t n;
	int fd, err = 0;

	fd = open(path, O_WRONLY);
	if (fd < 0)
		return -errno;
	n = write(fd, val, len);
	if (n < 0)
		err = -errno;
	else if ((size_t)n != len)
		err = -EIO;
	if (close(fd) && !err)
		err = -errno;
	return err;
}

/* The last path component of what the symlink at path points to. */
static int link_name(const char *path, char *buf, size_t len)
{
	char target[PATH_MAX];
	ssize_t n;
	char *base;

	n = readlink(path, target, sizeof(target) - 1);
	if (n < 0)
		return -errno;
	target[n] = '\0';
	base = strrchr(target, '/');
	snprintf(buf, len, "%s", base ? base + 1 : target);
	return 0;
}

static void dev_path(char *buf, size_t len, const char *dev, const char *attr)
{
	snprintf(buf, len, SYS_PCI "/devices/%s/%s", dev, attr);
}

/* The driver a device is bound to, "" if none. */
static void driver_of(const char *dev, char *buf, size_t len)
{
	char path[PATH_MAX];

	dev_path(path, sizeof(path), dev, "driver");
	if (link_name(path, buf, len))
		buf[0] = '\0';
}

/* The module a PCI driver belongs to, "" if built in or unknown. */
static void module_of_driver(const char *drv, char *buf, size_t len)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), SYS_PCI "/drivers/%s/module", drv);
	if (link_name(path, buf, len))
		buf[0] = '\0';
}

static bool module_holds(const char *used, const char *user)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), SYS_MODULE "/%s/holders/%s", used, user);
	return access(path, F_OK) == 0;
}

/*
 * A VFIO driver registers its devices with the vfio module, so its module
 * uses vfio, directly or through a library module (vfio_pci_core).
 */
static bool is_vfio_module(const char *mod)
{
	char path[PATH_MAX];
	struct dirent *de;
	bool found = false;
	DIR *d;

	if (!mod[0])
		return false;
	if (module_holds("vfio", mod))
		return true;
	d = opendir(SYS_MODULE "/vfio/holders");
	if (!d)
		return false;
	while (!found && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s", de->d_name);
		found = module_holds(path, mod);
	}
	closedir(d);
	return found;
}

static bool is_vfio_driver(const char *drv)
{
	char mod[NAME_MAX + 1];

	module_of_driver(drv, mod, sizeof(mod));
	return is_vfio_module(mod);
}

static bool group_of(const char *dev, char *buf, size_t len)
{
	char path[PATH_MAX];

	dev_path(path, sizeof(path), dev, "iommu_group");
	return link_name(path, buf, len) == 0;
}

/*
 * Whether a process has the device's VFIO group file or VFIO device file
 * open.  Prints the first holder found.
 */
static bool device_in_use(const char *dev)
{
	char group_file[PATH_MAX] = "", cdev_file[PATH_MAX] = "";
	char path[PATH_MAX], target[PATH_MAX], group[64];
	struct dirent *p, *f;
	bool busy = false;
	DIR *proc, *fds;
	ssize_t n;

	if (group_of(dev, group, sizeof(group)))
		snprintf(group_file, sizeof(group_file), "/dev/vfio/%s", group);
	dev_path(path, sizeof(path), dev, "vfio-dev");
	fds = opendir(path);
	if (fds) {
		while ((f = readdir(fds))) {
			if (!strncmp(f->d_name, "vfio", 4))
				snprintf(cdev_file, sizeof(cdev_file),
					 "/dev/vfio/devices/%s", f->d_name);
		}
		closedir(fds);
	}
	if (!group_file[0] && !cdev_file[0])
		return false;

	proc = opendir("/proc");
	if (!proc)
		return false;
	while (!busy && (p = readdir(proc))) {
		if (p->d_name[0] < '0' || p->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/fd", p->d_name);
		fds = opendir(path);
		if (!fds)
			continue;
		while (!busy && (f = readdir(fds))) {
			if (f->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "/proc/%s/fd/%s",
				 p->d_name, f->d_name);
			n = readlink(path, target, sizeof(target) - 1);
			if (n < 0)
				continue;
			target[n] = '\0';
			if ((group_file[0] && !strcmp(target, group_file)) ||
			    (cdev_file[0] && !strcmp(target, cdev_file))) {
				msg("in use: process %s holds %s open",
				    p->d_name, target);
				busy = true;
			}
		}
		closedir(fds);
	}
	closedir(proc);
	return busy;
}

/*
 * Whether every other device of the IOMMU group is unbound, on a VFIO
 * driver, on pci-stub or on pcieport.  Prints the first that is not.
 */
static bool group_viable(const char *dev)
{
	char path[PATH_MAX], drv[NAME_MAX + 1];
	struct dirent *de;
	bool ok = true;
	DIR *d;

	dev_path(path, sizeof(path), dev, "iommu_group/devices");
	d = opendir(path);
	if (!d)
		return true;
	while (ok && (de = readdir(d))) {
		if (de->d_name[0] == '.' || !strcmp(de->d_name, dev))
			continue;
		driver_of(de->d_name, drv, sizeof(drv));
		if (!drv[0] || !strcmp(drv, "pci-stub") ||
		    !strcmp(drv, "pcieport") || is_vfio_driver(drv))
			continue;
		msg("IOMMU group has %s bound to host driver %s",
		    de->d_name, drv);
		ok = false;
	}
	closedir(d);
	return ok;
}

static int stars_of(const char *s)
{
	int n = 0;

	for (; *s; s++)
		n += *s == '*';
	return n;
}

static int cmp_candidate(const void *a, const void *b)
{
	const struct candidate *x = a, *y = b;

	if (x->stars != y->stars)
		return x->stars - y->stars;
	return strcmp(x->module, y->module);
}

/*
 * Every module with a vfio_pci: alias matching key, each with its most
 * specific such alias, best first.  Returns the count, or -errno.
 */
static int find_candidates(struct kmod_ctx *ctx, const char *key,
			   struct candidate **out)
{
	struct kmod_list *mods = NULL, *l, *info, *i;
	struct candidate *c = NULL, *tmp;
	int n = 0, err;

	err = kmod_module_new_from_lookup(ctx, key, &mods);
	if (err < 0)
		return err;
	kmod_list_foreach(l, mods) {
		struct kmod_module *mod = kmod_module_get_module(l);
		const char *best = NULL;
		int best_stars = INT_MAX;

		info = NULL;
		if (kmod_module_get_info(mod, &info) < 0) {
			msg("cannot read the aliases of module %s",
			    kmod_module_get_name(mod));
			kmod_module_unref(mod);
			continue;
		}
		kmod_list_foreach(i, info) {
			const char *k = kmod_module_info_get_key(i);
			const char *v = kmod_module_info_get_value(i);

			if (strcmp(k, "alias") ||
			    strncmp(v, ALIAS_PREFIX, strlen(ALIAS_PREFIX)) ||
			    fnmatch(v, key, 0))
				continue;
			if (stars_of(v) < best_stars) {
				best = v;
				best_stars = stars_of(v);
			}
		}
		if (best) {
			tmp = realloc(c, (n + 1) * sizeof(*c));
			if (!tmp) {
				err = -ENOMEM;
			} else {
				c = tmp;
				c[n].module = strdup(kmod_module_get_name(mod));
				c[n].alias = strdup(best);
				c[n].stars = best_stars;
				if (!c[n].module || !c[n].alias)
					err = -ENOMEM;
				n++;
			}
		}
		kmod_module_info_free_list(info);
		kmod_module_unref(mod);
		if (err)
			break;
	}
	kmod_module_unref_list(mods);
	if (err) {
		free(c);
		return err;
	}
	qsort(c, n, sizeof(*c), cmp_candidate);
	*out = c;
	return n;
}

/* Load a module and what it depends on, as modprobe would. */
static int load_module(struct kmod_ctx *ctx, const char *name)
{
	struct kmod_module *mod;
	int err;

	err = kmod_module_new_from_name(ctx, name, &mod);
	if (err < 0) {
		msg("module %s: %s", name, strerror(-err));
		return EXIT_MODLOAD;
	}
	if (!kmod_module_get_path(mod) &&
	    kmod_module_get_initstate(mod) != KMOD_MODULE_BUILTIN &&
	    kmod_module_get_initstate(mod) != KMOD_MODULE_LIVE) {
		msg("module %s is not in the module index", name);
		kmod_module_unref(mod);
		return EXIT_MODLOAD;
	}
	step("load module %s (%s)", name,
	     kmod_module_get_path(mod) ?: "built in");
	if (opt.dry_run) {
		kmod_module_unref(mod);
		return EXIT_OK;
	}
	err = kmod_module_probe_insert_module(mod, 0, NULL, NULL, NULL, NULL);
	kmod_module_unref(mod);
	if (err < 0) {
		msg("loading module %s failed: %s", name, strerror(-err));
		return EXIT_MODLOAD;
	}
	if (err > 0) {
		msg("module %s is blacklisted or has an install command", name);
		return EXIT_MODLOAD;
	}
	return EXIT_OK;
}

/* The PCI driver a loaded module registers, from /sys/module/M/drivers. */
static int pci_driver_of_module(const char *mod, char *buf, size_t len)
{
	char path[PATH_MAX];
	struct dirent *de;
	int found = 0;
	DIR *d;

	snprintf(path, sizeof(path), SYS_MODULE "/%s/drivers", mod);
	d = opendir(path);
	if (!d)
		return 0;
	while ((de = readdir(d))) {
		if (strncmp(de->d_name, "pci:", 4))
			continue;
		if (!found)
			snprintf(buf, len, "%s", de->d_name + 4);
		found++;
	}
	closedir(d);
	if (found > 1)
		msg("module %s registers %d PCI drivers; using %s",
		    mod, found, buf);
	return found;
}

static void state_path(char *buf, size_t len)
{
	const char *dir = getenv("VFIO_PCI_BIND_STATE_DIR") ?: STATE_DIR;

	snprintf(buf, len, "%s/%s", dir, bdf);
}

static int save_state(const char *drv, const char *mod, const char *override)
{
	char path[PATH_MAX];
	FILE *f;

	state_path(path, sizeof(path));
	if (!access(path, F_OK))
		return 0;
	step("save driver '%s' and driver_override '%s' in %s",
	     drv, override, path);
	if (opt.dry_run)
		return 0;
	*strrchr(path, '/') = '\0';
	if (mkdir(path, 0755) && errno != EEXIST) {
		msg("cannot create %s: %s", path, strerror(errno));
		return -1;
	}
	state_path(path, sizeof(path));
	f = fopen(path, "w");
	if (!f) {
		msg("cannot write %s: %s", path, strerror(errno));
		return -1;
	}
	fprintf(f, "driver=%s\nmodule=%s\noverride=%s\n", drv, mod, override);
	if (fclose(f)) {
		msg("cannot write %s: %s", path, strerror(errno));
		unlink(path);
		return -1;
	}
	return 1;
}

static int load_state(char *drv, char *mod, char *override, size_t len)
{
	char path[PATH_MAX], line[256];
	FILE *f;

	state_path(path, sizeof(path));
	f = fopen(path, "r");
	if (!f)
		return -errno;
	drv[0] = '\0';
	mod[0] = '\0';
	override[0] = '\0';
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		if (!strncmp(line, "driver=", 7))
			snprintf(drv, len, "%s", line + 7);
		else if (!strncmp(line, "module=", 7))
			snprintf(mod, len, "%s", line + 7);
		else if (!strncmp(line, "override=", 9))
			snprintf(override, len, "%s", line + 9);
	}
	fclose(f);
	return 0;
}

static int set_override(const char *val)
{
	char path[PATH_MAX];
	int err;

	dev_path(path, sizeof(path), bdf, "driver_override");
	step("set driver_override to '%s'", val);
	if (opt.dry_run)
		return 0;
	/* An empty string is written as a newline: it clears the override. */
	err = write_attr(path, val[0] ? val : "\n");
	if (err)
		msg("writing driver_override: %s", strerror(-err));
	return err;
}

static int unbind_dev(void)
{
	char path[PATH_MAX], drv[NAME_MAX + 1];
	int err;

	driver_of(bdf, drv, sizeof(drv));
	if (!drv[0])
		return 0;
	step("unbind from %s", drv);
	if (opt.dry_run)
		return 0;
	dev_path(path, sizeof(path), bdf, "driver/unbind");
	err = write_attr(path, bdf);
	if (err)
		msg("unbinding from %s: %s", drv, strerror(-err));
	return err;
}

/*
 * Ask the PCI core to probe the device (drivers_probe: driver_override
 * decides), or, with named set, ask driver drv itself (its bind file: for
 * giving the device back to a driver that matches it by ID).  True if drv
 * took the device.  A failed probe makes the write fail; what counts is
 * the driver link afterwards.
 */
static bool probe_into(const char *drv, bool named)
{
	char now[NAME_MAX + 1], path[PATH_MAX];

	if (!drv[0])
		return true;
	if (named) {
		snprintf(path, sizeof(path), SYS_PCI "/drivers/%s/bind", drv);
		step("bind to %s through %s", drv, path);
	} else {
		snprintf(path, sizeof(path), SYS_PCI "/drivers_probe");
		step("probe the device (expecting %s)", drv);
	}
	if (opt.dry_run)
		return true;
	write_attr(path, bdf);
	driver_of(bdf, now, sizeof(now));
	if (!strcmp(now, drv))
		return true;
	msg("bound to '%s' instead of '%s'", now[0] ? now : "no driver",
	    drv[0] ? drv : "no driver");
	return false;
}

/* Give the device back its old driver_override and driver. */
static void roll_back(const char *old_drv, const char *old_override)
{
	char now[NAME_MAX + 1];

	msg("restoring driver '%s' and driver_override '%s'",
	    old_drv, old_override);
	set_override(old_override);
	driver_of(bdf, now, sizeof(now));
	if (!strcmp(now, old_drv))
		return;
	unbind_dev();
	probe_into(old_drv, true);
}

static int preflight(void)
{
	if (device_in_use(bdf))
		return EXIT_INUSE;
	if (!group_viable(bdf))
		return EXIT_GROUP;
	return EXIT_OK;
}

static int do_bind(struct kmod_ctx *ctx, const char *name)
{
	char module[NAME_MAX + 1], *p;
	char drv[NAME_MAX + 1], old_drv[NAME_MAX + 1], old_mod[NAME_MAX + 1];
	char old_override[256], path[PATH_MAX];
	int rc, saved;

	/* /sys/module spells module names with '_' only. */
	snprintf(module, sizeof(module), "%s", name);
	for (p = module; *p; p++)
		if (*p == '-')
			*p = '_';
	driver_of(bdf, old_drv, sizeof(old_drv));
	module_of_driver(old_drv, old_mod, sizeof(old_mod));
	dev_path(path, sizeof(path), bdf, "driver_override");
	if (read_line(path, old_override, sizeof(old_override))) {
		msg("cannot read %s", path);
		return EXIT_GENERIC;
	}
	if (!strcmp(old_override, "(null)"))
		old_override[0] = '\0';

	rc = preflight();
	if (rc)
		return rc;
	rc = load_module(ctx, module);
	if (rc)
		return rc;
	if (!pci_driver_of_module(module, drv, sizeof(drv))) {
		if (!opt.dry_run) {
			msg("module %s registers no PCI driver", module);
			return EXIT_MODLOAD;
		}
		/* Not loaded: its driver's name is known only once it is. */
		snprintf(drv, sizeof(drv), "<PCI driver of %s>", module);
	}
	if (!strcmp(old_drv, drv) && !strcmp(old_override, drv)) {
		printf("%s: already bound to %s (module %s)\n",
		       bdf, drv, module);
		return EXIT_OK;
	}
	saved = save_state(old_drv, old_mod, old_override);
	if (saved < 0)
		return EXIT_GENERIC;
	if (set_override(drv))
		goto fail_generic;
	if (unbind_dev())
		goto fail_generic;
	if (!probe_into(drv, false)) {
		msg("probe failed: %s did not take the device (see dmesg)",
		    drv);
		rc = EXIT_PROBE;
		goto fail;
	}
	printf("%s: %sbound to %s (module %s)\n", bdf,
	       opt.dry_run ? "would be " : "", drv, module);
	return EXIT_OK;

fail_generic:
	rc = EXIT_GENERIC;
fail:
	roll_back(old_drv, old_override);
	if (saved > 0) {
		state_path(path, sizeof(path));
		unlink(path);
	}
	return rc;
}

static int do_restore(struct kmod_ctx *ctx)
{
	char drv[NAME_MAX + 1], mod[NAME_MAX + 1], override[NAME_MAX + 1];
	char path[PATH_MAX], dir[PATH_MAX];
	int rc, err;

	state_path(path, sizeof(path));
	err = load_state(drv, mod, override, sizeof(drv));
	if (err) {
		msg("no saved state in %s (%s): nothing to restore",
		    path, strerror(-err));
		return EXIT_GENERIC;
	}
	rc = preflight();
	if (rc)
		return rc;
	snprintf(dir, sizeof(dir), SYS_PCI "/drivers/%s", drv);
	if (drv[0] && access(dir, F_OK)) {
		if (!mod[0]) {
			msg("driver %s is gone and its module is unknown", drv);
			return EXIT_MODLOAD;
		}
		rc = load_module(ctx, mod);
		if (rc)
			return rc;
	}
	if (set_override(override) || unbind_dev())
		return EXIT_GENERIC;
	if (!probe_into(drv, true)) {
		msg("%s did not take the device back (see dmesg)", drv);
		return EXIT_PROBE;
	}
	step("remove %s", path);
	if (!opt.dry_run)
		unlink(path);
	printf("%s: %srestored to %s\n", bdf, opt.dry_run ? "would be " : "",
	       drv[0] ? drv : "no driver");
	return EXIT_OK;
}

static int parse_bdf(const char *arg)
{
	unsigned int dom = 0, bus, slot, fn;
	char end;

	if (sscanf(arg, "%x:%x:%x.%x%c", &dom, &bus, &slot, &fn, &end) != 4) {
		dom = 0;
		if (sscanf(arg, "%x:%x.%x%c", &bus, &slot, &fn, &end) != 3)
			return -1;
	}
	if (dom > 0xffff || bus > 0xff || slot > 0x1f || fn > 7)
		return -1;
	snprintf(bdf, sizeof(bdf), "%04x:%02x:%02x.%x", dom, bus, slot, fn);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "list",	no_argument,		NULL, 'l' },
		{ "dry-run",	no_argument,		NULL, 'n' },
		{ "driver",	required_argument,	NULL, 'd' },
		{ "restore",	no_argument,		NULL, 'r' },
		{ "moddir",	required_argument,	NULL, 'm' },
		{ "help",	no_argument,		NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	char path[PATH_MAX], modalias[256], key[300];
	struct candidate *cand = NULL;
	struct kmod_ctx *ctx;
	const char *module;
	int c, n = 0, i, rc;

	while ((c = getopt_long(argc, argv, "lnd:rm:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'l':
			opt.list = true;
			break;
		case 'n':
			opt.dry_run = true;
			break;
		case 'd':
			opt.driver = optarg;
			break;
		case 'r':
			opt.restore = true;
			break;
		case 'm':
			opt.moddir = optarg;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return EXIT_OK;
		default:
			fputs(usage_text, stderr);
			return EXIT_USAGE;
		}
	}
	if (optind != argc - 1 || (opt.restore && (opt.list || opt.driver))) {
		fputs(usage_text, stderr);
		return EXIT_USAGE;
	}
	if (parse_bdf(argv[optind])) {
		fprintf(stderr, "vfio-pci-bind: '%s' is not a PCI address\n",
			argv[optind]);
		return EXIT_USAGE;
	}
	dev_path(path, sizeof(path), bdf, "modalias");
	if (read_line(path, modalias, sizeof(modalias))) {
		msg("no such PCI device");
		return EXIT_NODEV;
	}
	if (!opt.list && !opt.dry_run && geteuid()) {
		msg("must run as root");
		return EXIT_GENERIC;
	}

	ctx = kmod_new(opt.moddir, NULL);
	if (!ctx) {
		msg("cannot open the module index");
		return EXIT_GENERIC;
	}
	if (opt.restore) {
		rc = do_restore(ctx);
		goto out;
	}

	snprintf(key, sizeof(key), "vfio_%s", modalias);
	n = find_candidates(ctx, key, &cand);
	if (n < 0) {
		msg("module lookup of %s failed: %s", key, strerror(-n));
		rc = EXIT_GENERIC;
		goto out;
	}
	if (opt.list) {
		printf("# rank wildcards module alias (for %s)\n", key);
		for (i = 0; i < n; i++)
			printf("%d %d %s %s\n", i + 1, cand[i].stars,
			       cand[i].module, cand[i].alias);
	}
	if (!n && !opt.driver) {
		msg("no module has a " ALIAS_PREFIX " alias matching %s", key);
		rc = EXIT_NOMATCH;
		goto out;
	}
	for (i = 1; i < n && cand[i].stars == cand[0].stars; i++)
		msg("tie: %s and %s both match with %d wildcards; %s sorts first",
		    cand[0].module, cand[i].module, cand[0].stars,
		    cand[0].module);
	module = opt.driver ?: cand[0].module;
	if (opt.list) {
		printf("chosen: %s\n", module);
		rc = EXIT_OK;
		goto out;
	}
	if (opt.driver) {
		for (i = 0; i < n && strcmp(cand[i].module, opt.driver); i++)
			;
		if (i == n)
			msg("module %s has no alias matching %s; using it anyway",
			    opt.driver, key);
	}
	rc = do_bind(ctx, module);
out:
	for (i = 0; i < n; i++) {
		free(cand[i].module);
		free(cand[i].alias);
	}
	free(cand);
	kmod_unref(ctx);
	return rc;
}
