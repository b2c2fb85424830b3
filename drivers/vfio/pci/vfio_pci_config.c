// SPDX-License-Identifier: GPL-2.0-only
/*
 * Virtualized PCI configuration space.
 *
 * The user sees a configuration space assembled bit by bit from two sources:
 * the device itself and a virtual copy kept here.  Three masks per byte say,
 * for every bit, where reads come from and what writes do:
 *
 *   virt  set: the bit is served from, and written into, the virtual copy;
 *         clear: it is read from the device.
 *   wr    set: the user may change the bit; clear: writes to it are ignored.
 *   w1c   set: the bit is write-one-to-clear in hardware.  A read-modify-write
 *         of a partly writable register must write zero there, or it would
 *         acknowledge events the user never saw.
 *
 * The 64-byte header is read-only until its policy opens registers up.
 * Beyond it, bytes that belong to no exposed capability (gaps, and the body
 * of capabilities we hide) pass straight through to the device in both
 * directions, as they always have for vfio-pci users: some devices keep
 * registers in those gaps.  Setup walks both capability lists; each
 * capability with a policy here is made read-only, then opened up as its
 * policy says, and chained to the previous visible one through virtual
 * next pointers.  Capabilities without a policy are unlinked from the list.
 *
 * Some registers do more than store bits (COMMAND, the BARs, PMCSR, the MSI
 * flags, the FLR bits, VPD): after the bits are stored, a hook registered
 * for the register's range acts on them.
 *
 * A byte's three masks together make its rule.  A config space holds few
 * distinct rules (bytes passed through, read-only, fully virtual, and the
 * odd mixed register), so each byte keeps the index of its rule in a small
 * per-device table instead of three masks of its own.  With the virtual
 * copy that is two bytes per byte of config space: what a PCIe function
 * costs for each open is two 4 KiB arrays, not four.
 */
#include <linux/bitfield.h>
#include <linux/pci.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/vfio_pci_core.h>

#include "vfio_pci_priv.h"

/* Number of BAR dwords in a type 0 header, plus the ROM BAR. */
#define CFG_NUM_BARS		(PCI_STD_NUM_BARS + 1)
#define CFG_ROM_SLOT		PCI_STD_NUM_BARS

/* Capabilities whose registers have side effects: PM, MSI, EXP, AF, VPD. */
#define CFG_MAX_HOOKS		8

/*
 * Distinct byte rules one config space may use; indexes are u8.  The
 * emulated devices of the tests use 7 to 26.
 */
#define CFG_MAX_RULES		64

/* Size of the ROM the platform shadowed for a device without a ROM BAR. */
#define CFG_SHADOW_ROM_SIZE	0x20000

struct vfio_pci_config_state;

/*
 * struct cfg_rule - how the bits of one config byte behave, see above
 * @virt: bits served from, and written into, the virtual copy
 * @wr: bits the user may change
 * @w1c: bits that are write-one-to-clear in hardware
 */
struct cfg_rule {
	u8 virt;
	u8 wr;
	u8 w1c;
};

/*
 * struct cfg_hook - side effect of writes to a capability's registers
 * @base: offset of the capability
 * @len: length of the capability
 * @write: called after a user write of @size bytes at @pos overlapping
 *	[@base, @base + @len) was stored; returns 0 or a negative errno
 */
struct cfg_hook {
	u16 base;
	u16 len;
	int (*write)(struct vfio_pci_core_device *vdev, unsigned int base,
		     unsigned int pos, unsigned int size, u32 val);
};

/*
 * struct vfio_pci_config_state - the virtual config space of one device
 * @lock: serialises user config accesses against each other, so that the
 *	read-modify-write of the virtual copy and of hardware registers, and
 *	the hooks acting on them, are atomic with respect to other users of
 *	the device.  Taken before vdev->memory_lock, vdev->igate and the
 *	device lock (a FLR requested through config space resets under it).
 * @size: bytes of config space exposed (256 or 4096)
 * @bar_mask: writable address bits of each BAR dword and of the ROM BAR
 * @bar_flags: read-only low bits (type, prefetch, I/O) of each BAR dword
 * @rbar: the device's own BAR values at enable, put back when the device
 *	was reset behind our back (see cfg_write_command())
 * @cmd_user: memory and I/O enable as the user last wrote them; written
 *	with vdev->memory_lock held for write, read with it held either way
 *	(see vfio_pci_memory_enabled())
 * @hooks: side effects of writes, see struct cfg_hook
 * @nr_hooks: entries used in @hooks
 * @snap: the device's own config space, read once at enable; only valid
 *	while vfio_pci_config_init() builds the masks from it
 * @nr_rules: entries used in @rules
 * @rules_full: a byte needed a rule that @rules had no room for; setup
 *	fails then (see vfio_pci_config_init())
 * @rules: the distinct mask triples of this config space, see above
 * @vconfig: the virtual copy, @size bytes
 * @rule: per byte, the index of its rule in @rules, @size bytes
 */
struct vfio_pci_config_state {
	struct mutex		lock;		/* see above */
	unsigned int		size;
	u32			bar_mask[CFG_NUM_BARS];
	u32			bar_flags[CFG_NUM_BARS];
	u32			rbar[CFG_NUM_BARS];
	u16			cmd_user;
	struct cfg_hook		hooks[CFG_MAX_HOOKS];
	unsigned int		nr_hooks;
	const u8		*snap;
	unsigned int		nr_rules;
	bool			rules_full;
	struct cfg_rule		rules[CFG_MAX_RULES];
	u8			*vconfig;
	u8			*rule;
};

/* Helpers to read and set little-endian fields of the per-byte arrays. */
static u32 cfg_get(const u8 *arr, unsigned int pos, unsigned int size)
{
	u32 val = 0;
	unsigned int i;

	for (i = 0; i < size; i++)
		val |= (u32)arr[pos + i] << (8 * i);
	return val;
}

static void cfg_put(u8 *arr, unsigned int pos, unsigned int size, u32 val)
{
	unsigned int i;

	for (i = 0; i < size; i++)
		arr[pos + i] = val >> (8 * i);
}

/*
 * The index of the rule with these masks, added to the table if it is new,
 * or -ENOSPC when the table is full.
 */
static int cfg_rule_index(struct vfio_pci_config_state *cfg, u8 virt, u8 wr,
			  u8 w1c)
{
	struct cfg_rule *r;
	unsigned int i;

	for (i = 0; i < cfg->nr_rules; i++) {
		r = &cfg->rules[i];
		if (r->virt == virt && r->wr == wr && r->w1c == w1c)
			return i;
	}
	if (cfg->nr_rules == CFG_MAX_RULES)
		return -ENOSPC;
	r = &cfg->rules[cfg->nr_rules];
	r->virt = virt;
	r->wr = wr;
	r->w1c = w1c;
	return cfg->nr_rules++;
}

/*
 * Setup's version: a full table is remembered, and fails the setup once
 * the layout is done; until then the byte keeps rule 0 (read-only, from
 * the device), as every byte starts out.
 */
static u8 cfg_setup_rule(struct vfio_pci_config_state *cfg, u8 virt, u8 wr,
			 u8 w1c)
{
	int idx = cfg_rule_index(cfg, virt, wr, w1c);

	if (idx < 0) {
		cfg->rules_full = true;
		return 0;
	}
	return idx;
}

/* Give each of @size bytes at @pos its share of the three masks. */
static void cfg_set_rules(struct vfio_pci_config_state *cfg, unsigned int pos,
			  unsigned int size, u32 virt, u32 wr, u32 w1c)
{
	unsigned int i, shift;

	for (i = 0; i < size; i++) {
		shift = 8 * i;
		cfg->rule[pos + i] = cfg_setup_rule(cfg, virt >> shift,
						    wr >> shift, w1c >> shift);
	}
}

/* The three masks of @size bytes at @pos, as little-endian values. */
static void cfg_get_rules(const struct vfio_pci_config_state *cfg,
			  unsigned int pos, unsigned int size, u32 *virt,
			  u32 *wr, u32 *w1c)
{
	const struct cfg_rule *r;
	unsigned int i;

	*virt = 0;
	*wr = 0;
	*w1c = 0;
	for (i = 0; i < size; i++) {
		r = &cfg->rules[cfg->rule[pos + i]];
		*virt |= (u32)r->virt << (8 * i);
		*wr |= (u32)r->wr << (8 * i);
		*w1c |= (u32)r->w1c << (8 * i);
	}
}

/* Give a whole range one rule: every byte with the same masks. */
static void cfg_fill_rule(struct vfio_pci_config_state *cfg, unsigned int pos,
			  unsigned int len, u8 virt, u8 wr, u8 w1c)
{
	if (pos >= cfg->size)
		return;
	len = min(len, cfg->size - pos);
	memset(cfg->rule + pos, cfg_setup_rule(cfg, virt, wr, w1c), len);
}

/*
 * Open @size bytes at @pos with the given read source and write masks.  A bit
 * in @virt reads from the virtual copy, which starts out with the device's
 * value; a bit in @wr is user writable.
 */
static void cfg_allow(struct vfio_pci_config_state *cfg, unsigned int pos,
		      unsigned int size, u32 virt, u32 wr)
{
	if (pos + size > cfg->size)
		return;
	cfg_set_rules(cfg, pos, size, virt, wr, 0);
	cfg_put(cfg->vconfig, pos, size, cfg_get(cfg->snap, pos, size) & virt);
}

/* Expose a range read-only, straight from the device. */
static void cfg_passthrough(struct vfio_pci_config_state *cfg,
			    unsigned int pos, unsigned int len)
{
	cfg_fill_rule(cfg, pos, len, 0, 0, 0);
}

/* Expose a range read-write, straight to the device. */
static void cfg_raw(struct vfio_pci_config_state *cfg, unsigned int pos,
		    unsigned int len)
{
	cfg_fill_rule(cfg, pos, len, 0, 0xff, 0);
}

/* Expose a register as a read-only virtual value. */
static void cfg_virtual_ro(struct vfio_pci_config_state *cfg,
			   unsigned int pos, unsigned int size, u32 val)
{
	cfg_allow(cfg, pos, size, GENMASK(8 * size - 1, 0), 0);
	cfg_put(cfg->vconfig, pos, size, val);
}

/* Let the user clear @bits of a hardware status register by writing ones. */
static void cfg_mark_w1c(struct vfio_pci_config_state *cfg, unsigned int pos,
			 unsigned int size, u32 bits)
{
	u32 virt, wr, w1c;

	if (pos + size > cfg->size)
		return;
	cfg_get_rules(cfg, pos, size, &virt, &wr, &w1c);
	cfg_set_rules(cfg, pos, size, virt, wr | bits, bits);
}

static void cfg_add_hook(struct vfio_pci_config_state *cfg, unsigned int base,
			 unsigned int len,
			 int (*write)(struct vfio_pci_core_device *vdev,
				      unsigned int base, unsigned int pos,
				      unsigned int size, u32 val))
{
	if (WARN_ON_ONCE(cfg->nr_hooks >= CFG_MAX_HOOKS))
		return;
	cfg->hooks[cfg->nr_hooks++] = (struct cfg_hook) {
		.base = base, .len = len, .write = write,
	};
}

static bool ranges_overlap(unsigned int a, unsigned int alen,
			   unsigned int b, unsigned int blen)
{
	return a < b + blen && b < a + alen;
}

/* ---- Hardware access ---- */

static int cfg_hw_read(struct pci_dev *pdev, unsigned int pos,
		       unsigned int size, u32 *val)
{
	u16 w;
	u8 b;
	int ret;

	switch (size) {
	case 4:
		ret = pci_user_read_config_dword(pdev, pos, val);
		break;
	case 2:
		ret = pci_user_read_config_word(pdev, pos, &w);
		*val = w;
		break;
	default:
		ret = pci_user_read_config_byte(pdev, pos, &b);
		*val = b;
		break;
	}
	return pcibios_err_to_errno(ret);
}

static int cfg_hw_write(struct pci_dev *pdev, unsigned int pos,
			unsigned int size, u32 val)
{
	int ret;

	switch (size) {
	case 4:
		ret = pci_user_write_config_dword(pdev, pos, val);
		break;
	case 2:
		ret = pci_user_write_config_word(pdev, pos, val);
		break;
	default:
		ret = pci_user_write_config_byte(pdev, pos, val);
		break;
	}
	return pcibios_err_to_errno(ret);
}

/*
 * ---- The hardware COMMAND register ----
 *
 * COMMAND holds bits with different owners: the user's (memory, I/O, bus
 * master and the rest), ours (INTx disable, the INTx mask) and the PCI
 * core's, whose pci_check_and_mask_intx() sets INTx disable from our INTx
 * hard-irq handler at any time.  A read-modify-write of the register that
 * the handler can interrupt writes back a stale INTx disable bit: the line
 * is unmasked in hardware while we count it masked, and a level interrupt
 * storms.  So every write of COMMAND in our code goes through
 * vfio_pci_command_update_locked(), with vdev->irqlock held: the handler
 * holds irqlock around its own read-modify-write, so the two never
 * interleave.  The PCI core's INTx helpers that we call (the check and
 * mask or unmask of the handler and of vfio_pci_intx_sync()) run under
 * irqlock as well.
 *
 * The user accessors, pci_user_{read,write}_config_*(), may sleep until a
 * reset in progress lifts its block on config access, which irqlock does
 * not allow; vfio_pci_command_update() waits for such a block before it
 * takes irqlock and uses the plain accessors.  The PCI core's own COMMAND
 * writes at enable and close (pci_enable_device(), pci_clear_master(),
 * pci_disable_device()) happen while no INTx handler is registered.  Its
 * state restore after a reset or a D3hot exit writes the whole register,
 * with memory_lock keeping the user out, and puts back the INTx disable
 * bit saved before the reset.
 */

/**
 * vfio_pci_command_update_locked - change some bits of hardware COMMAND
 * @vdev: the device; caller holds vdev->irqlock
 * @mask: the bits to change
 * @val: their new values (other bits ignored)
 *
 * Bits outside @mask keep the value the device has now.
 *
 * Return: 0 or a negative errno from the config access.
 */
int vfio_pci_command_update_locked(struct vfio_pci_core_device *vdev,
				   u16 mask, u16 val)
{
	struct pci_dev *pdev = vdev->pdev;
	u16 cmd, new;
	int ret;

	lockdep_assert_held(&vdev->irqlock);

	ret = pci_read_config_word(pdev, PCI_COMMAND, &cmd);
	if (ret)
		return pcibios_err_to_errno(ret);
	new = (cmd & ~mask) | (val & mask);
	if (new == cmd)
		return 0;
	return pcibios_err_to_errno(pci_write_config_word(pdev, PCI_COMMAND,
							  new));
}

/**
 * vfio_pci_command_update - change some bits of hardware COMMAND
 * @vdev: the device
 * @mask: the bits to change
 * @val: their new values (other bits ignored)
 *
 * As vfio_pci_command_update_locked(), for process context: waits until
 * nobody blocks config access to the device (a reset), then takes
 * vdev->irqlock itself.
 *
 * Return: 0 or a negative errno from the config access.
 */
int vfio_pci_command_update(struct vfio_pci_core_device *vdev, u16 mask,
			    u16 val)
{
	unsigned long flags;
	int ret;

	pci_cfg_access_lock(vdev->pdev);
	spin_lock_irqsave(&vdev->irqlock, flags);
	ret = vfio_pci_command_update_locked(vdev, mask, val);
	spin_unlock_irqrestore(&vdev->irqlock, flags);
	pci_cfg_access_unlock(vdev->pdev);
	return ret;
}

/* ---- Power state ---- */

/*
 * Move the function to @state on the user's request.  BAR memory must not
 * be touched in D3hot: mappings are zapped, and vfio_pci_memory_enabled()
 * says no from then on, under memory_lock held for write.
 */
static void cfg_set_power_state(struct vfio_pci_core_device *vdev,
				pci_power_t state)
{
	struct pci_dev *pdev = vdev->pdev;
	pci_power_t old;

	down_write(&vdev->memory_lock);
	old = pdev->current_state;
	if (state == PCI_D3hot)
		vfio_pci_zap_bar_mmaps(vdev);
	if (vfio_pci_set_power_state(vdev, state))
		pci_dbg(pdev, "cannot go from %s to %s\n", pci_power_name(old),
			pci_power_name(state));
	up_write(&vdev->memory_lock);
}

/* ---- Header ---- */

/* The low bits of a BAR as the PCI core found them. */
static u32 cfg_bar_type_bits(struct pci_dev *pdev, int bar)
{
	unsigned long flags = pci_resource_flags(pdev, bar);
	u32 bits = PCI_BASE_ADDRESS_SPACE_MEMORY;

	if (flags & IORESOURCE_IO)
		return PCI_BASE_ADDRESS_SPACE_IO;
	if (flags & IORESOURCE_PREFETCH)
		bits |= PCI_BASE_ADDRESS_MEM_PREFETCH;
	if (flags & IORESOURCE_MEM_64)
		bits |= PCI_BASE_ADDRESS_MEM_TYPE_64;
	return bits;
}

/* Clamp a BAR dword the user wrote to what the BAR can hold. */
static void cfg_bar_written(struct vfio_pci_config_state *cfg,
			    unsigned int slot)
{
	unsigned int pos = slot == CFG_ROM_SLOT ? PCI_ROM_ADDRESS :
			   PCI_BASE_ADDRESS_0 + 4 * slot;
	u32 val = cfg_get(cfg->vconfig, pos, 4);

	val = (val & cfg->bar_mask[slot]) | cfg->bar_flags[slot];
	cfg_put(cfg->vconfig, pos, 4, val);
}

/*
 * The BARs are virtual: the user may move them in its own view, and sizing
 * them with all-ones writes works as on hardware.  A BAR the host did not
 * assign reads as unimplemented.
 */
static void cfg_setup_bars(struct vfio_pci_core_device *vdev)
{
	struct vfio_pci_config_state *cfg = vdev->cfg;
	struct pci_dev *pdev = vdev->pdev;
	resource_size_t len;
	u32 bits;
	int i;

	for (i = 0; i < PCI_STD_NUM_BARS; i++) {
		unsigned int pos = PCI_BASE_ADDRESS_0 + 4 * i;

		cfg->rbar[i] = cfg_get(cfg->snap, pos, 4);
		cfg_allow(cfg, pos, 4, ~0U, ~0U);
		cfg->bar_mask[i] = 0;
		cfg->bar_flags[i] = 0;
		if (!pci_resource_start(pdev, i))
			continue;
		len = pci_resource_len(pdev, i);
		bits = cfg_bar_type_bits(pdev, i);
		cfg->bar_mask[i] = ~(u32)(len - 1);
		cfg->bar_flags[i] = bits;
		if ((bits & PCI_BASE_ADDRESS_SPACE_IO) ||
		    !(bits & PCI_BASE_ADDRESS_MEM_TYPE_64) ||
		    i + 1 >= PCI_STD_NUM_BARS)
			continue;
		/* The upper dword holds the high address bits only. */
		i++;
		cfg->rbar[i] = cfg_get(cfg->snap, pos + 4, 4);
		cfg_allow(cfg, pos + 4, 4, ~0U, ~0U);
		cfg->bar_mask[i] = upper_32_bits(~(u64)(len - 1));
		cfg->bar_flags[i] = 0;
	}

	/* ROM BAR: address bits and the enable bit, all virtual. */
	cfg->rbar[CFG_ROM_SLOT] = cfg_get(cfg->snap, PCI_ROM_ADDRESS, 4);
	cfg_allow(cfg, PCI_ROM_ADDRESS, 4, ~0U, ~0U);
	len = 0;
	if (pci_resource_start(pdev, PCI_ROM_RESOURCE))
		len = pci_resource_len(pdev, PCI_ROM_RESOURCE);
	else if (pdev->resource[PCI_ROM_RESOURCE].flags & IORESOURCE_ROM_SHADOW)
		len = CFG_SHADOW_ROM_SIZE;
	cfg->bar_mask[CFG_ROM_SLOT] = len ? (~(u32)(len - 1) |
					     PCI_ROM_ADDRESS_ENABLE) : 0;
	cfg->bar_flags[CFG_ROM_SLOT] = 0;

	for (i = 0; i < CFG_NUM_BARS; i++)
		cfg_bar_written(cfg, i);
}

static void cfg_setup_header(struct vfio_pci_core_device *vdev)
{
	struct vfio_pci_config_state *cfg = vdev->cfg;
	struct pci_dev *pdev = vdev->pdev;
	u16 cmd_virt = PCI_COMMAND_INTX_DISABLE;

	cfg_passthrough(cfg, 0, PCI_STD_HEADER_SIZEOF);

	/* A VF reports all-ones IDs; show the ones the PF assigned to it. */
	cfg_virtual_ro(cfg, PCI_VENDOR_ID, 2, pdev->vendor);
	cfg_virtual_ro(cfg, PCI_DEVICE_ID, 2, pdev->device);

	/*
	 * INTx disable is ours: the user's bit is kept virtual and folded into
	 * the INTx masking state.  A VF has no memory enable bit in hardware,
	 * so the user's one is virtual there, and starts out set.  The other
	 * bits are the function's own.
	 */
	if (pdev->no_command_memory)
		cmd_virt |= PCI_COMMAND_MEMORY;
	cfg_allow(cfg, PCI_COMMAND, 2, cmd_virt, 0xffff);
	cfg_put(cfg->vconfig, PCI_COMMAND, 2,
		cmd_virt & PCI_COMMAND_MEMORY);
	cfg->cmd_user = cfg_get(cfg->snap, PCI_COMMAND, 2) &
			(PCI_COMMAND_IO | PCI_COMMAND_MEMORY);

	/*
	 * CAP_LIST is ours.  The error bits are write-one-to-clear, as the
	 * PCI spec defines them; a user clearing the errors it saw is
	 * harmless.
	 */
	cfg_allow(cfg, PCI_STATUS, 2, PCI_STATUS_CAP_LIST, 0);
	cfg_mark_w1c(cfg, PCI_STATUS, 2, PCI_STATUS_PARITY |
		     PCI_STATUS_SIG_TARGET_ABORT | PCI_STATUS_REC_TARGET_ABORT |
		     PCI_STATUS_REC_MASTER_ABORT | PCI_STATUS_SIG_SYSTEM_ERROR |
		     PCI_STATUS_DETECTED_PARITY);

	cfg_raw(cfg, PCI_CACHE_LINE_SIZE, 1);
	cfg_raw(cfg, PCI_LATENCY_TIMER, 1);
	cfg_raw(cfg, PCI_BIST, 1);

	cfg_setup_bars(vdev);

	cfg_allow(cfg, PCI_INTERRUPT_LINE, 1, 0xff, 0xff);
	/* VFs have no INTx, whatever the register claims. */
	cfg_virtual_ro(cfg, PCI_INTERRUPT_PIN, 1,
		       vdev->nointx || pdev->is_virtfn ? 0 : pdev->pin);
	/* Filled in by the capability walk. */
	cfg_virtual_ro(cfg, PCI_CAPABILITY_LIST, 1, 0);
}

/* ---- Standard capabilities ---- */

struct cfg_cap_policy {
	u16 id;
	/* Length of the capability at @pos, 0 if it cannot be exposed. */
	unsigned int (*length)(struct vfio_pci_core_device *vdev,
			       unsigned int pos);
	/* Open up the capability's registers; it is read-only on entry. */
	void (*setup)(struct vfio_pci_core_device *vdev, unsigned int pos,
		      unsigned int len);
};

static u32 snap_get(struct vfio_pci_core_device *vdev, unsigned int pos,
		    unsigned int size)
{
	if (pos + size > vdev->cfg->size)
		return 0;
	return cfg_get(vdev->cfg->snap, pos, size);
}

/* Power management: the power state changes through pci_set_power_state(). */
static unsigned int cap_len_pm(struct vfio_pci_core_device *vdev,
			       unsigned int pos)
{
	return PCI_PM_SIZEOF;
}

static int cap_write_pm(struct vfio_pci_core_device *vdev, unsigned int base,
			unsigned int pos, unsigned int size, u32 val)
{
	static const pci_power_t states[] = {
		PCI_D0, PCI_D1, PCI_D2, PCI_D3hot
	};

	/* Only a write that starts at PMCSR carries a power state. */
	if (pos != base + PCI_PM_CTRL)
		return 0;
	cfg_set_power_state(vdev, states[val & PCI_PM_CTRL_STATE_MASK]);
	return 0;
}

static void cap_setup_pm(struct vfio_pci_core_device *vdev, unsigned int pos,
			 unsigned int len)
{
	struct vfio_pci_config_state *cfg = vdev->cfg;

	/*
	 * PME cannot reach the user: PME support, enable and status all read
	 * as zero.  The power state is read from the device and changed by
	 * the hook; the remaining bits (data select) are the device's.
	 */
	cfg_allow(cfg, pos + PCI_PM_PMC, 2, PCI_PM_CAP_PME_MASK, 0);
	cfg_put(cfg->vconfig, pos + PCI_PM_PMC, 2, 0);
	cfg_allow(cfg, pos + PCI_PM_CTRL, 4,
		  PCI_PM_CTRL_PME_ENABLE | PCI_PM_CTRL_PME_STATUS,
		  ~(PCI_PM_CTRL_PME_ENABLE | PCI_PM_CTRL_PME_STATUS |
		    PCI_PM_CTRL_STATE_MASK));
	cfg_put(cfg->vconfig, pos + PCI_PM_CTRL, 2, 0);
	cfg_add_hook(cfg, pos, len, cap_write_pm);
}

/* Vital product data: the address/data protocol, run by the PCI core. */
static unsigned int cap_len_vpd(struct vfio_pci_core_device *vdev,
				unsigned int pos)
{
	return PCI_CAP_VPD_SIZEOF;
}

static int cap_write_vpd(struct vfio_pci_core_device *vdev, unsigned int base,
			 unsigned int pos, unsigned int size, u32 val)
{
	struct vfio_pci_config_state *cfg = vdev->cfg;
	unsigned int apos = base + PCI_VPD_ADDR, dpos = base + PCI_VPD_DATA;
	u16 addr = cfg_get(cfg->vconfig, apos, 2);
	u8 data[4];

	/* The flag lives in the address's high byte; only it starts a cycle. */
	if (!ranges_overlap(pos, size, apos + 1, 1))
		return 0;

	if (addr & PCI_VPD_ADDR_F) {
		memcpy(data, cfg->vconfig + dpos, sizeof(data));
		if (pci_write_vpd(vdev->pdev, addr & PCI_VPD_ADDR_MASK,
				  sizeof(data), data) != sizeof(data))
			return 0;
	} else {
		memset(data, 0, sizeof(data));
		if (pci_read_vpd(vdev->pdev, addr, sizeof(data), data) < 0)
			return 0;
		memcpy(cfg->vconfig + dpos, data, sizeof(data));
	}
	/* Completion is the flag flipping; a failed cycle never completes. */
	cfg_put(cfg->vconfig, apos, 2, addr ^ PCI_VPD_ADDR_F);
	return 0;
}

static void cap_setup_vpd(struct vfio_pci_core_device *vdev, unsigned int pos,
			  unsigned int len)
{
	struct vfio_pci_config_state *cfg = vdev->cfg;

	cfg_allow(cfg, pos + PCI_VPD_ADDR, 2, 0xffff, 0xffff);
	cfg_allow(cfg, pos + PCI_VPD_DATA, 4, ~0U, ~0U);
	cfg_add_hook(cfg, pos, len, cap_write_vpd);
}

/* MSI: enabled through SET_IRQS, so the user programs a private copy. */
static unsigned int cap_len_msi(struct vfio_pci_core_device *vdev,
				unsigned int pos)
{
	u16 flags = snap_get(vdev, pos + PCI_MSI_FLAGS, 2);
	unsigned int len = PCI_MSI_DATA_32 + 2;

	if (flags & PCI_MSI_FLAGS_64BIT)
		len += 4;
	if (flags & PCI_MSI_FLAGS_MASKBIT)
		len += 10;
	return len;
}

/*
 * The enable bit sticks only while SET_IRQS has MSI enabled.  The queue
 * size (Multiple Message Enable) reads as zero until then: the vectors a
 * user may use are the ones it asked for.  Multiple Message Capable shows
 * the device's value and is read-only: it describes the device.
 */
static int cap_write_msi(struct vfio_pci_core_device *vdev, unsigned int base,
			 unsigned int pos, unsigned int size, u32 val)
{
	struct vfio_pci_config_state *cfg = vdev->cfg;
	unsigned int fpos = base + PCI_MSI_FLAGS;
	u8 flags;

	if (!ranges_overlap(pos, size, fpos, 1))
		return 0;
	flags = cfg->vconfig[fpos] & ~PCI_MSI_FLAGS_QSIZE;
	if (READ_ONCE(vdev->irq_type) != VFIO_PCI_MSI_IRQ_INDEX)
		flags &= ~PCI_MSI_FLAGS_ENABLE;
	cfg->vconfig[fpos] = flags;
	return 0;
}

static void cap_setup_msi(struct vfio_pci_core_device *vdev, unsigned int pos,
			  unsigned int len)
{
	struct vfio_pci_config_state *cfg = vdev->cfg;
	u16 flags = snap_get(vdev, pos + PCI_MSI_FLAGS, 2);
	bool is64 = flags & PCI_MSI_FLAGS_64BIT;
	unsigned int data = is64 ? PCI_MSI_DATA_64 : PCI_MSI_DATA_32;

	cfg_allow(cfg, pos + PCI_MSI_FLAGS, 1, 0xff,
		  PCI_MSI_FLAGS_ENABLE | PCI_MSI_FLAGS_QSIZE);
	cfg->vconfig[pos + PCI_MSI_FLAGS] = flags & (PCI_MSI_FLAGS_64BIT |
						     PCI_MSI_FLAGS_QMASK);
	cfg_allow(cfg, pos + PCI_MSI_ADDRESS_LO, 4, ~0U, ~0U);
	if (is64)
		cfg_allow(cfg, pos + PCI_MSI_ADDRESS_HI, 4, ~0U, ~0U);
	cfg_allow(cfg, pos + data, 2, 0xffff, 0xffff);
	/* Per-vector mask and pending bits are the device's. */
	if (flags & PCI_MSI_FLAGS_MASKBIT) {
		cfg_allow(cfg, pos + data + 4, 4, 0, ~0U);
		cfg_allow(cfg, pos + data + 8, 4, 0, ~0U);
	}
	cfg_add_hook(cfg, pos, len, cap_write_msi);
}

/* PCI-X: command and ECC control are the function's own. */
static unsigned int cap_len_pcix(struct vfio_pci_core_device *vdev,
				 unsigned int pos)
{
	u16 cmd = snap_get(vdev, pos + PCI_X_CMD, 2);

	return PCI_X_CMD_VERSION(cmd) ? PCI_CAP_PCIX_SIZEOF_V2 :
					PCI_CAP_PCIX_SIZEOF_V0;
}

static void cap_setup_pcix(struct vfio_pci_core_device *vdev,
			   unsigned int pos, unsigned int len)
{
	cfg_allow(vdev->cfg, pos + PCI_X_CMD, 2, 0, 0xffff);
	if (len >= PCI_X_ECC_CSR + 4)
		cfg_allow(vdev->cfg, pos + PCI_X_ECC_CSR, 4, 0, ~0U);
}

/* Vendor-specific: opaque, so the device decides what writes mean. */
static unsigned int cap_len_vndr(struct vfio_pci_core_device *vdev,
				 unsigned int pos)
{
	return snap_get(vdev, pos + PCI_CAP_FLAGS, 1);
}

static void cap_setup_vndr(struct vfio_pci_core_device *vdev,
			   unsigned int pos, unsigned int len)
{
	cfg_raw(vdev->cfg, pos + PCI_CAP_FLAGS, len - PCI_CAP_FLAGS);
}

/* PCI Express: device control, with FLR and MRRS handled here. */
static unsigned int cap_len_exp(struct vfio_pci_core_device *vdev,
				unsigned int pos)
{
	u16 flags = snap_get(vdev, pos + PCI_EXP_FLAGS, 2);
	bool rc_end = pci_pcie_type(vdev->pdev) == PCI_EXP_TYPE_RC_END;

	/* Root complex integrated endpoints have no link registers. */
	if ((flags & PCI_EXP_FLAGS_VERS) < 2)
		return rc_end ? 0xc : PCI_CAP_EXP_ENDPOINT_SIZEOF_V1;
	return rc_end ? 0x2c : PCI_CAP_EXP_ENDPOINT_SIZEOF_V2;
}

static int cap_write_exp(struct vfio_pci_core_device *vdev, unsigned int base,
			 unsigned int pos, unsigned int size, u32 val)
{
	struct vfio_pci_config_state *cfg = vdev->cfg;
	unsigned int cpos = base + PCI_EXP_DEVCTL;
	u16 ctl = cfg_get(cfg->vconfig, cpos, 2);
	u16 hw_ctl;
	u32 cap;
	int mrrs;

	if (!ranges_overlap(pos, size, cpos, 2))
		return 0;

	/*
	 * The user's max read request size goes to the device through the
	 * PCI core, no lower than MPS so that full payloads remain usable.
	 */
	if (!pcie_capability_read_word(vdev->pdev, PCI_EXP_DEVCTL, &hw_ctl) &&
	    (hw_ctl ^ ctl) & PCI_EXP_DEVCTL_READRQ) {
		mrrs = 128 << FIELD_GET(PCI_EXP_DEVCTL_READRQ, ctl);
		pcie_set_readrq(vdev->pdev,
				max(mrrs, pcie_get_mps(vdev->pdev)));
	}

	/* Initiate FLR always reads as zero; a set bit resets the function. */
	if (!(ctl & PCI_EXP_DEVCTL_BCR_FLR))
		return 0;
	cfg_put(cfg->vconfig, cpos, 2, ctl & ~PCI_EXP_DEVCTL_BCR_FLR);
	if (!pci_user_read_config_dword(vdev->pdev, base + PCI_EXP_DEVCAP,
					&cap) && (cap & PCI_EXP_DEVCAP_FLR))
		vfio_pci_reset_function(vdev);
	return 0;
}

static void cap_setup_exp(struct vfio_pci_core_device *vdev, unsigned int pos,
			  unsigned int len)
{
	struct vfio_pci_config_state *cfg = vdev->cfg;

	/*
	 * Phantom functions would confuse the IOMMU; MPS must match the rest
	 * of the hierarchy, so it is virtual; ARI was set up by the host.
	 */
	cfg_allow(cfg, pos + PCI_EXP_DEVCTL, 2,
		  PCI_EXP_DEVCTL_BCR_FLR | PCI_EXP_DEVCTL_PAYLOAD |
		  PCI_EXP_DEVCTL_READRQ, (u16)~PCI_EXP_DEVCTL_PHANTOM);
	if (len >= PCI_EXP_DEVCTL2 + 2)
		cfg_allow(cfg, pos + PCI_EXP_DEVCTL2, 2, 0,
			  (u16)~PCI_EXP_DEVCTL2_ARI);
	cfg_add_hook(cfg, pos, len, cap_write_exp);
}

/* Advanced features: only the FLR bit is writable, and it resets. */
static unsigned int cap_len_af(struct vfio_pci_core_device *vdev,
			       unsigned int pos)
{
	return PCI_CAP_AF_SIZEOF;
}

static int cap_write_af(struct vfio_pci_core_device *vdev, unsigned int base,
			unsigned int pos, unsigned int size, u32 val)
{
	struct vfio_pci_config_state *cfg = vdev->cfg;
	unsigned int cpos = base + PCI_AF_CTRL;
	u8 cap;

	if (!(cfg->vconfig[cpos] & PCI_AF_CTRL_FLR))
		return 0;
	cfg->vconfig[cpos] &= ~PCI_AF_CTRL_FLR;
	if (!pci_user_read_config_byte(vdev->pdev, base + PCI_AF_CAP, &cap) &&
	    (cap & PCI_AF_CAP_FLR) && (cap & PCI_AF_CAP_TP))
		vfio_pci_reset_function(vdev);
	return 0;
}

static void cap_setup_af(struct vfio_pci_core_device *vdev, unsigned int pos,
			 unsigned int len)
{
	cfg_allow(vdev->cfg, pos + PCI_AF_CTRL, 1, PCI_AF_CTRL_FLR,
		  PCI_AF_CTRL_FLR);
	cfg_add_hook(vdev->cfg, pos, len, cap_write_af);
}

/* Read-only capabilities of fixed or self-described length. */
static unsigned int cap_len_agp(struct vfio_pci_core_device *vdev,
				unsigned int pos)
{
	return PCI_AGP_SIZEOF;
}

static unsigned int cap_len_msix(struct vfio_pci_core_device *vdev,
				 unsigned int pos)
{
	return PCI_CAP_MSIX_SIZEOF;
}

static unsigned int cap_len_ht(struct vfio_pci_core_device *vdev,
			       unsigned int pos)
{
	return (snap_get(vdev, pos + 3, 1) & HT_3BIT_CAP_MASK) ?
	       HT_CAP_SIZEOF_SHORT : HT_CAP_SIZEOF_LONG;
}

static unsigned int cap_len_sata(struct vfio_pci_core_device *vdev,
				 unsigned int pos)
{
	u8 regs = snap_get(vdev, pos + PCI_SATA_REGS, 1) & PCI_SATA_REGS_MASK;

	return regs == PCI_SATA_REGS_INLINE ? PCI_SATA_SIZEOF_LONG :
					      PCI_SATA_SIZEOF_SHORT;
}

static void cap_setup_readonly(struct vfio_pci_core_device *vdev,
			       unsigned int pos, unsigned int len)
{
}

static const struct cfg_cap_policy cfg_std_caps[] = {
	{ PCI_CAP_ID_PM,	cap_len_pm,	cap_setup_pm },
	{ PCI_CAP_ID_AGP,	cap_len_agp,	cap_setup_readonly },
	{ PCI_CAP_ID_VPD,	cap_len_vpd,	cap_setup_vpd },
	{ PCI_CAP_ID_MSI,	cap_len_msi,	cap_setup_msi },
	{ PCI_CAP_ID_PCIX,	cap_len_pcix,	cap_setup_pcix },
	{ PCI_CAP_ID_HT,	cap_len_ht,	cap_setup_readonly },
	{ PCI_CAP_ID_VNDR,	cap_len_vndr,	cap_setup_vndr },
	{ PCI_CAP_ID_EXP,	cap_len_exp,	cap_setup_exp },
	{ PCI_CAP_ID_MSIX,	cap_len_msix,	cap_setup_readonly },
	{ PCI_CAP_ID_SATA,	cap_len_sata,	cap_setup_readonly },
	{ PCI_CAP_ID_AF,	cap_len_af,	cap_setup_af },
};

static const struct cfg_cap_policy *cfg_find_policy(const struct cfg_cap_policy *tbl,
						    unsigned int n, u16 id)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		if (tbl[i].id == id)
			return &tbl[i];
	return NULL;
}

/*
 * Walk the standard capability list of the device, expose the capabilities
 * with a policy and chain them together through virtual next pointers.
 * @link is the byte that points to the next visible capability: the
 * header's capability pointer at first.
 *
 * Return: true if extended capabilities may follow (PCI Express, PCI-X 2).
 */
static bool cfg_setup_std_caps(struct vfio_pci_core_device *vdev)
{
	struct vfio_pci_config_state *cfg = vdev->cfg;
	const struct cfg_cap_policy *pol;
	unsigned int link = PCI_CAPABILITY_LIST;
	unsigned int pos, len, ttl = PCI_CFG_SPACE_SIZE / PCI_CAP_SIZEOF;
	u16 status = cfg_get(cfg->snap, PCI_STATUS, 2);
	bool any = false, ext = false;

	if (!(status & PCI_STATUS_CAP_LIST))
		goto done;

	pos = cfg->snap[PCI_CAPABILITY_LIST] & ~3;
	while (pos >= PCI_STD_HEADER_SIZEOF && ttl--) {
		u8 id = cfg->snap[pos + PCI_CAP_LIST_ID];
		unsigned int next = cfg->snap[pos + PCI_CAP_LIST_NEXT] & ~3;

		pol = cfg_find_policy(cfg_std_caps, ARRAY_SIZE(cfg_std_caps),
				      id);
		len = pol ? pol->length(vdev, pos) : 0;
		if (len >= PCI_CAP_SIZEOF && pos + len <= PCI_CFG_SPACE_SIZE) {
			cfg_passthrough(cfg, pos, len);
			pol->setup(vdev, pos, len);
			cfg_virtual_ro(cfg, link, 1, pos);
			link = pos + PCI_CAP_LIST_NEXT;
			cfg_virtual_ro(cfg, link, 1, 0);
			any = true;
			if (id == PCI_CAP_ID_EXP ||
			    (id == PCI_CAP_ID_PCIX &&
			     len == PCI_CAP_PCIX_SIZEOF_V2))
				ext = true;
		}
		pos = next;
	}
done:
	cfg_put(cfg->vconfig, PCI_STATUS, 2, any ? PCI_STATUS_CAP_LIST : 0);
	return ext;
}

/* ---- Extended capabilities ---- */

/* Advanced error reporting: masks, severity and W1C status are the user's. */
static unsigned int ecap_len_aer(struct vfio_pci_core_device *vdev,
				 unsigned int pos)
{
	return PCI_ERR_ROOT_COMMAND;
}

static void ecap_setup_aer(struct vfio_pci_core_device *vdev,
			   unsigned int pos, unsigned int len)
{
	struct vfio_pci_config_state *cfg = vdev->cfg;
	u32 unc = PCI_ERR_UNC_UND | PCI_ERR_UNC_DLP | PCI_ERR_UNC_SURPDN |
		  PCI_ERR_UNC_POISON_TLP | PCI_ERR_UNC_FCP |
		  PCI_ERR_UNC_COMP_TIME | PCI_ERR_UNC_COMP_ABORT |
		  PCI_ERR_UNC_UNX_COMP | PCI_ERR_UNC_RX_OVER |
		  PCI_ERR_UNC_MALF_TLP | PCI_ERR_UNC_ECRC | PCI_ERR_UNC_UNSUP |
		  PCI_ERR_UNC_ACSV | PCI_ERR_UNC_INTN | PCI_ERR_UNC_MCBTLP |
		  PCI_ERR_UNC_ATOMEG | PCI_ERR_UNC_TLPPRE;
	u32 cor = PCI_ERR_COR_RCVR | PCI_ERR_COR_BAD_TLP |
		  PCI_ERR_COR_BAD_DLLP | PCI_ERR_COR_REP_ROLL |
		  PCI_ERR_COR_REP_TIMER | PCI_ERR_COR_ADV_NFAT |
		  PCI_ERR_COR_INTERNAL | PCI_ERR_COR_LOG_OVER;

	cfg_mark_w1c(cfg, pos + PCI_ERR_UNCOR_STATUS, 4, unc);
	cfg_allow(cfg, pos + PCI_ERR_UNCOR_MASK, 4, 0, unc);
	cfg_allow(cfg, pos + PCI_ERR_UNCOR_SEVER, 4, 0, unc);
	cfg_mark_w1c(cfg, pos + PCI_ERR_COR_STATUS, 4, cor);
	cfg_allow(cfg, pos + PCI_ERR_COR_MASK, 4, 0, cor);
	cfg_allow(cfg, pos + PCI_ERR_CAP, 4, 0,
		  PCI_ERR_CAP_ECRC_GENE | PCI_ERR_CAP_ECRC_CHKE);
}

/* Virtual channels: the arbitration tables are never writable here. */
static unsigned int ecap_len_vc(struct vfio_pci_core_device *vdev,
				unsigned int pos)
{
	u32 cap1 = snap_get(vdev, pos + PCI_VC_PORT_CAP1, 4);
	u32 cap2 = snap_get(vdev, pos + PCI_VC_PORT_CAP2, 4);
	unsigned int len = PCI_CAP_VC_BASE_SIZEOF, phases = 0;

	if (cap2 & PCI_VC_CAP2_128_PHASE)
		phases = 128;
	else if (cap2 & PCI_VC_CAP2_64_PHASE)
		phases = 64;
	else if (cap2 & PCI_VC_CAP2_32_PHASE)
		phases = 32;

	len += ((cap1 & PCI_VC_CAP1_EVCC) + 1) * PCI_CAP_VC_PER_VC_SIZEOF;
	/* Four bits per phase in the VC arbitration table. */
	if (phases)
		len = round_up(len, 16) + phases / 2;
	return len;
}

static unsigned int ecap_len_acs(struct vfio_pci_core_device *vdev,
				 unsigned int pos)
{
	unsigned int bits;

	if (!(snap_get(vdev, pos + PCI_ACS_CAP, 1) & PCI_ACS_EC))
		return 8;
	bits = snap_get(vdev, pos + PCI_ACS_EGRESS_BITS, 1);
	bits = bits ? round_up(bits, 32) : 256;
	return 8 + bits / 8;
}

static unsigned int ecap_len_rebar(struct vfio_pci_core_device *vdev,
				   unsigned int pos)
{
	u32 ctrl = snap_get(vdev, pos + PCI_REBAR_CTRL, 1);

	return 4 + 8 * FIELD_GET(PCI_REBAR_CTRL_NBAR_MASK, ctrl);
}

static unsigned int ecap_len_dpa(struct vfio_pci_core_device *vdev,
				 unsigned int pos)
{
	u8 sub = snap_get(vdev, pos + PCI_DPA_CAP, 1) &
		 PCI_DPA_CAP_SUBSTATE_MASK;

	return PCI_DPA_BASE_SIZEOF + sub + 1;
}

static unsigned int ecap_len_tph(struct vfio_pci_core_device *vdev,
				 unsigned int pos)
{
	u32 cap = snap_get(vdev, pos + PCI_TPH_CAP, 4);

	if ((cap & PCI_TPH_CAP_LOC_MASK) != PCI_TPH_LOC_CAP)
		return PCI_TPH_BASE_SIZEOF;
	return PCI_TPH_BASE_SIZEOF + 2 * FIELD_GET(PCI_TPH_CAP_ST_MASK, cap) +
	       2;
}

static unsigned int ecap_len_vndr(struct vfio_pci_core_device *vdev,
				  unsigned int pos)
{
	return snap_get(vdev, pos + PCI_VSEC_HDR, 4) >> PCI_VSEC_HDR_LEN_SHIFT;
}

static unsigned int ecap_len_dvsec(struct vfio_pci_core_device *vdev,
				   unsigned int pos)
{
	return PCI_DVSEC_HEADER1_LEN(snap_get(vdev, pos + PCI_DVSEC_HEADER1,
					      4));
}

#define DEFINE_ECAP_LEN(name, len)					\
static unsigned int ecap_len_##name(struct vfio_pci_core_device *vdev,	\
				    unsigned int pos)			\
{									\
	return len;							\
}

DEFINE_ECAP_LEN(dsn, PCI_EXT_CAP_DSN_SIZEOF)
DEFINE_ECAP_LEN(pwr, PCI_EXT_CAP_PWR_SIZEOF)
DEFINE_ECAP_LEN(ari, PCI_EXT_CAP_ARI_SIZEOF)
DEFINE_ECAP_LEN(ats, PCI_EXT_CAP_ATS_SIZEOF)
DEFINE_ECAP_LEN(sriov, PCI_EXT_CAP_SRIOV_SIZEOF)
DEFINE_ECAP_LEN(mcast, PCI_EXT_CAP_MCAST_ENDPOINT_SIZEOF)
DEFINE_ECAP_LEN(pri, PCI_EXT_CAP_PRI_SIZEOF)
DEFINE_ECAP_LEN(ltr, PCI_EXT_CAP_LTR_SIZEOF)

/* Power budgeting: selecting which entry to read is harmless. */
static void ecap_setup_pwr(struct vfio_pci_core_device *vdev,
			   unsigned int pos, unsigned int len)
{
	cfg_allow(vdev->cfg, pos + PCI_PWR_DATA, 1, 0, 0xff);
}

/* Vendor-specific bodies are opaque; the device decides. */
static void ecap_setup_raw(struct vfio_pci_core_device *vdev,
			   unsigned int pos, unsigned int len)
{
	cfg_raw(vdev->cfg, pos + 4, len - 4);
}

static const struct cfg_cap_policy cfg_ext_caps[] = {
	{ PCI_EXT_CAP_ID_ERR,	ecap_len_aer,	ecap_setup_aer },
	{ PCI_EXT_CAP_ID_VC,	ecap_len_vc,	cap_setup_readonly },
	{ PCI_EXT_CAP_ID_DSN,	ecap_len_dsn,	cap_setup_readonly },
	{ PCI_EXT_CAP_ID_PWR,	ecap_len_pwr,	ecap_setup_pwr },
	{ PCI_EXT_CAP_ID_MFVC,	ecap_len_vc,	cap_setup_readonly },
	{ PCI_EXT_CAP_ID_VC9,	ecap_len_vc,	cap_setup_readonly },
	{ PCI_EXT_CAP_ID_VNDR,	ecap_len_vndr,	ecap_setup_raw },
	{ PCI_EXT_CAP_ID_ACS,	ecap_len_acs,	cap_setup_readonly },
	{ PCI_EXT_CAP_ID_ARI,	ecap_len_ari,	cap_setup_readonly },
	{ PCI_EXT_CAP_ID_ATS,	ecap_len_ats,	cap_setup_readonly },
	/* SR-IOV is read-only: VFs are managed through sysfs on the host. */
	{ PCI_EXT_CAP_ID_SRIOV,	ecap_len_sriov,	cap_setup_readonly },
	{ PCI_EXT_CAP_ID_MCAST,	ecap_len_mcast,	cap_setup_readonly },
	{ PCI_EXT_CAP_ID_PRI,	ecap_len_pri,	cap_setup_readonly },
	{ PCI_EXT_CAP_ID_REBAR,	ecap_len_rebar,	cap_setup_readonly },
	{ PCI_EXT_CAP_ID_DPA,	ecap_len_dpa,	cap_setup_readonly },
	{ PCI_EXT_CAP_ID_TPH,	ecap_len_tph,	cap_setup_readonly },
	{ PCI_EXT_CAP_ID_LTR,	ecap_len_ltr,	cap_setup_readonly },
	{ PCI_EXT_CAP_ID_DVSEC,	ecap_len_dvsec,	ecap_setup_raw },
};

/*
 * Same as cfg_setup_std_caps() for the extended list.  The list must start
 * at offset 0x100; when the capability there is hidden, 0x100 shows a null
 * header (ID 0, version 0) whose next pointer leads to the first visible one.
 */
static void cfg_setup_ext_caps(struct vfio_pci_core_device *vdev)
{
	struct vfio_pci_config_state *cfg = vdev->cfg;
	const struct cfg_cap_policy *pol;
	unsigned int ttl = (PCI_CFG_SPACE_EXP_SIZE - PCI_CFG_SPACE_SIZE) / 8;
	unsigned int pos = PCI_CFG_SPACE_SIZE, link = PCI_CFG_SPACE_SIZE;
	unsigned int len;

	cfg_virtual_ro(cfg, PCI_CFG_SPACE_SIZE, 4, 0);
	while (pos >= PCI_CFG_SPACE_SIZE && ttl--) {
		u32 hdr = cfg_get(cfg->snap, pos, 4);

		if (hdr == ~0U)
			break;
		pol = cfg_find_policy(cfg_ext_caps, ARRAY_SIZE(cfg_ext_caps),
				      PCI_EXT_CAP_ID(hdr));
		len = pol ? pol->length(vdev, pos) : 0;
		if (len >= 4 && pos + len <= cfg->size) {
			/* Point the previous visible header (or 0x100) here. */
			if (pos != PCI_CFG_SPACE_SIZE) {
				u32 prev = cfg_get(cfg->vconfig, link, 4);

				cfg_put(cfg->vconfig, link, 4,
					(prev & 0xfffff) | (pos << 20));
			}
			cfg_passthrough(cfg, pos, len);
			cfg_virtual_ro(cfg, pos, 4, hdr & 0xfffff);
			pol->setup(vdev, pos, len);
			link = pos;
		}
		pos = PCI_EXT_CAP_NEXT(hdr);
	}
}

/* ---- User access ---- */

/*
 * Read @size bytes (1, 2 or 4, naturally aligned) at @pos as the user sees
 * them.  Called with cfg->lock held.
 */
static int cfg_read_user(struct vfio_pci_core_device *vdev, unsigned int pos,
			 unsigned int size, u32 *val)
{
	struct vfio_pci_config_state *cfg = vdev->cfg;
	u32 virt, wr, w1c;
	u32 hw = 0;
	int ret;

	cfg_get_rules(cfg, pos, size, &virt, &wr, &w1c);

	if (virt != GENMASK(8 * size - 1, 0)) {
		ret = cfg_hw_read(vdev->pdev, pos, size, &hw);
		if (ret)
			return ret;
	}
	*val = (cfg_get(cfg->vconfig, pos, size) & virt) | (hw & ~virt);
	return 0;
}

/* The store half of a user write, without side effects. */
static int cfg_store_user(struct vfio_pci_core_device *vdev, unsigned int pos,
			  unsigned int size, u32 val)
{
	struct vfio_pci_config_state *cfg = vdev->cfg;
	u32 virt, wr, w1c, hw_wr, hw, v;
	int ret;

	cfg_get_rules(cfg, pos, size, &virt, &wr, &w1c);
	hw_wr = wr & ~virt;

	if (wr & virt) {
		v = cfg_get(cfg->vconfig, pos, size);
		v = (v & ~(wr & virt)) | (val & wr & virt);
		cfg_put(cfg->vconfig, pos, size, v);
	}
	if (!hw_wr)
		return 0;
	if (hw_wr == GENMASK(8 * size - 1, 0))
		return cfg_hw_write(vdev->pdev, pos, size, val);

	ret = cfg_hw_read(vdev->pdev, pos, size, &hw);
	if (ret)
		return ret;
	hw = (hw & ~hw_wr & ~w1c) | (val & hw_wr);
	return cfg_hw_write(vdev->pdev, pos, size, hw);
}

/*
 * The store half of a user write overlapping COMMAND (@pos is PCI_COMMAND
 * or the byte after it).  The COMMAND bytes reach the device through
 * vfio_pci_command_update(), which changes the user's bits only; a dword
 * write carries STATUS as well, stored the usual way.
 */
static int cfg_store_command(struct vfio_pci_core_device *vdev,
			     unsigned int pos, unsigned int size, u32 val)
{
	struct vfio_pci_config_state *cfg = vdev->cfg;
	unsigned int len = min(pos + size, PCI_COMMAND + 2U) - pos;
	unsigned int shift = 8 * (pos - PCI_COMMAND);
	u16 bytes = GENMASK(8 * len - 1, 0) << shift;
	u16 cmd = val << shift;
	u16 v = cfg_get(cfg->vconfig, PCI_COMMAND, 2);
	u32 virt, wr, w1c;
	int ret;

	cfg_get_rules(cfg, PCI_COMMAND, 2, &virt, &wr, &w1c);
	wr &= bytes;

	cfg_put(cfg->vconfig, PCI_COMMAND, 2,
		(v & ~(wr & virt)) | (cmd & wr & virt));
	ret = vfio_pci_command_update(vdev, wr & ~virt, cmd);
	if (ret || pos + size <= PCI_STATUS)
		return ret;
	return cfg_store_user(vdev, PCI_STATUS, pos + size - PCI_STATUS,
			      val >> (8 * (PCI_STATUS - pos)));
}

/* Did a reset we did not see put the BARs back to zero? */
static bool cfg_bars_lost(struct vfio_pci_core_device *vdev)
{
	struct vfio_pci_config_state *cfg = vdev->cfg;
	unsigned int i;
	u32 bar;

	for (i = 0; i < PCI_STD_NUM_BARS; i++) {
		if (!cfg->rbar[i])
			continue;
		if (pci_user_read_config_dword(vdev->pdev,
					       PCI_BASE_ADDRESS_0 + 4 * i, &bar) ||
		    bar != cfg->rbar[i])
			return true;
	}
	return false;
}

static void cfg_restore_bars(struct vfio_pci_core_device *vdev)
{
	struct vfio_pci_config_state *cfg = vdev->cfg;
	struct pci_dev *pdev = vdev->pdev;
	unsigned int i;

	if (pdev->is_virtfn)
		return;
	pci_info(pdev, "device was reset behind vfio's back; restoring BARs\n");
	for (i = 0; i < PCI_STD_NUM_BARS; i++)
		pci_user_write_config_dword(pdev, PCI_BASE_ADDRESS_0 + 4 * i,
					    cfg->rbar[i]);
	pci_user_write_config_dword(pdev, PCI_ROM_ADDRESS,
				    cfg->rbar[CFG_ROM_SLOT]);
	if (vdev->nointx)
		vfio_pci_command_update(vdev, PCI_COMMAND_INTX_DISABLE,
					PCI_COMMAND_INTX_DISABLE);
}

/*
 * COMMAND writes may turn memory decode off.  BAR accesses and mmap faults
 * check decode under memory_lock held for read, so the change is made with
 * it held for write and existing mappings are zapped before it is dropped.
 *
 * A user turning decode back on that finds it off in hardware although it
 * had turned it on, or finds the BARs changed, is looking at a function
 * that was reset without us (a device-specific reset, a VF's PF): the BARs
 * are put back before decode is enabled, or the device would decode
 * wherever the reset left it.
 */
static int cfg_write_command(struct vfio_pci_core_device *vdev,
			     unsigned int pos, unsigned int size, u32 val)
{
	struct vfio_pci_config_state *cfg = vdev->cfg;
	u16 old_virt = cfg_get(cfg->vconfig, PCI_COMMAND, 2);
	u16 bits = PCI_COMMAND_IO | PCI_COMMAND_MEMORY;
	bool low = ranges_overlap(pos, size, PCI_COMMAND, 1);
	u16 new = low ? (val >> (8 * (PCI_COMMAND - pos))) & bits : 0;
	u16 phys = 0;
	bool mem_was_on;
	int ret;

	down_write(&vdev->memory_lock);
	pci_user_read_config_word(vdev->pdev, PCI_COMMAND, &phys);
	if ((new & cfg->cmd_user & ~phys & PCI_COMMAND_MEMORY &&
	     !vdev->pdev->no_command_memory) ||
	    (new & cfg->cmd_user & ~phys & PCI_COMMAND_IO) ||
	    cfg_bars_lost(vdev))
		cfg_restore_bars(vdev);

	mem_was_on = vfio_pci_memory_enabled(vdev);
	ret = cfg_store_command(vdev, pos, size, val);
	if (!ret && low)
		cfg->cmd_user = new;
	if (mem_was_on && !vfio_pci_memory_enabled(vdev))
		vfio_pci_zap_bar_mmaps(vdev);
	up_write(&vdev->memory_lock);

	if ((old_virt ^ cfg_get(cfg->vconfig, PCI_COMMAND, 2)) &
	    PCI_COMMAND_INTX_DISABLE)
		vfio_pci_intx_user_mask_changed(vdev);
	return ret;
}

static int cfg_write_user(struct vfio_pci_core_device *vdev, unsigned int pos,
			  unsigned int size, u32 val)
{
	struct vfio_pci_config_state *cfg = vdev->cfg;
	const struct cfg_hook *hook;
	unsigned int slot;
	int ret;

	if (ranges_overlap(pos, size, PCI_COMMAND, 2))
		return cfg_write_command(vdev, pos, size, val);

	ret = cfg_store_user(vdev, pos, size, val);
	if (ret)
		return ret;

	if (pos < PCI_STD_HEADER_SIZEOF) {
		for (slot = 0; slot < PCI_STD_NUM_BARS; slot++)
			if (ranges_overlap(pos, size,
					   PCI_BASE_ADDRESS_0 + 4 * slot, 4))
				cfg_bar_written(cfg, slot);
		if (ranges_overlap(pos, size, PCI_ROM_ADDRESS, 4))
			cfg_bar_written(cfg, CFG_ROM_SLOT);
		return 0;
	}

	for (hook = cfg->hooks; hook < cfg->hooks + cfg->nr_hooks; hook++) {
		if (!ranges_overlap(pos, size, hook->base, hook->len))
			continue;
		ret = hook->write(vdev, hook->base, pos, size, val);
		if (ret)
			return ret;
	}
	return 0;
}

/* Largest naturally aligned access of at most @count bytes at @pos. */
static unsigned int cfg_chunk(unsigned int pos, size_t count)
{
	if (count >= 4 && !(pos & 3))
		return 4;
	if (count >= 2 && !(pos & 1))
		return 2;
	return 1;
}

/**
 * vfio_pci_config_rw - user access to the config space region
 * @vdev: the device
 * @buf: user buffer
 * @count: bytes requested
 * @ppos: file position; its low bits are the config space offset
 * @iswrite: direction
 *
 * Accesses are split into naturally aligned pieces of up to four bytes, the
 * sizes config cycles have.  An access that does not fit in config space
 * as a whole fails with -EFAULT and transfers nothing, as it always has for
 * vfio-pci users.
 *
 * Return: bytes transferred or a negative errno.
 */
ssize_t vfio_pci_config_rw(struct vfio_pci_core_device *vdev,
			   char __user *buf, size_t count, loff_t *ppos,
			   bool iswrite)
{
	struct vfio_pci_config_state *cfg = vdev->cfg;
	u64 start = *ppos & VFIO_PCI_OFFSET_MASK;
	unsigned int pos, size;
	size_t done = 0;
	u8 bytes[8];	/* room for any vfio_pci_copy_*_user_small() */
	u32 val;
	int ret = 0;

	if (start >= cfg->size || count > cfg->size - start)
		return -EFAULT;
	pos = start;

	mutex_lock(&cfg->lock);
	while (done < count) {
		size = cfg_chunk(pos, count - done);
		if (iswrite) {
			if (vfio_pci_copy_from_user_small(bytes, buf + done,
							  size)) {
				ret = -EFAULT;
				break;
			}
			ret = cfg_write_user(vdev, pos, size,
					     cfg_get(bytes, 0, size));
		} else {
			ret = cfg_read_user(vdev, pos, size, &val);
			if (!ret) {
				cfg_put(bytes, 0, size, val);
				if (vfio_pci_copy_to_user_small(buf + done,
								bytes, size))
					ret = -EFAULT;
			}
		}
		if (ret)
			break;
		pos += size;
		done += size;
	}
	mutex_unlock(&cfg->lock);

	if (ret && !done)
		return ret;
	*ppos += done;
	return done;
}

/**
 * vfio_pci_memory_enabled - is memory decode on, as far as the user can tell
 * @vdev: the device; caller holds vdev->memory_lock, read or write
 *
 * Every BAR access and mmap fault asks, so the answer comes from state kept
 * under memory_lock, not from a config cycle: the user's memory enable bit
 * (cfg->cmd_user, changed only by COMMAND writes with memory_lock held for
 * write) and the power state (changed with it held for write too).
 *
 * Hardware follows the user's bit: COMMAND writes reach the device, and
 * our resets and power transitions save and restore COMMAND.  A reset we
 * did not see clears memory enable in hardware but not here; accesses then
 * reach a function that does not decode and read all ones, until the
 * user's next COMMAND write notices and puts the BARs back (see
 * cfg_write_command()).
 *
 * A VF has no memory enable bit of its own: the memory space enable of its
 * PF's SR-IOV capability governs it, and that is not the user's to change.
 * Its virtual COMMAND bit is only kept for the user to read back.
 *
 * Return: true if BAR memory may be accessed.
 */
bool vfio_pci_memory_enabled(struct vfio_pci_core_device *vdev)
{
	struct pci_dev *pdev = vdev->pdev;

	lockdep_assert_held(&vdev->memory_lock);

	/* In D3hot or deeper a function does not decode at all. */
	if (pdev->current_state == PCI_D3hot ||
	    pdev->current_state == PCI_D3cold)
		return false;
	return pdev->no_command_memory ||
	       (vdev->cfg->cmd_user & PCI_COMMAND_MEMORY);
}

/**
 * vfio_pci_intx_disabled_by_user - the user's virtual COMMAND.INTX_DISABLE
 * @vdev: the device
 *
 * Return: true if the user set the bit.
 */
bool vfio_pci_intx_disabled_by_user(struct vfio_pci_core_device *vdev)
{
	return READ_ONCE(vdev->cfg->vconfig[PCI_COMMAND + 1]) &
	       (PCI_COMMAND_INTX_DISABLE >> 8);
}

/**
 * vfio_pci_config_virtualize - serve a register from the virtual copy only
 * @vdev: the device, enabled (its virtual config space exists)
 * @pos: offset of the register
 * @size: its size in bytes, 1 to 4
 * @val: what the user reads until it writes the register
 *
 * Until the device is closed, the user reads @val or what it last wrote,
 * and its writes never reach the device.  For registers that firmware set
 * up for the host and that a user must not redirect, like the ASLS
 * pointer to an Intel OpRegion, which vfio-pci maps at every open.
 *
 * Return: 0, -EINVAL for a register outside the config space, or -ENOSPC
 * if the device's table of byte rules has no room for a fully virtual one
 * (the register is left as it was).
 */
int vfio_pci_config_virtualize(struct vfio_pci_core_device *vdev,
			       unsigned int pos, unsigned int size, u32 val)
{
	struct vfio_pci_config_state *cfg = vdev->cfg;
	int idx;

	if (!cfg || !size || size > 4 || pos + size > cfg->size)
		return -EINVAL;
	mutex_lock(&cfg->lock);
	/* Every byte of the register gets the same rule: all virtual. */
	idx = cfg_rule_index(cfg, 0xff, 0xff, 0);
	if (idx >= 0) {
		memset(cfg->rule + pos, idx, size);
		cfg_put(cfg->vconfig, pos, size, val);
	}
	mutex_unlock(&cfg->lock);
	return idx < 0 ? idx : 0;
}
EXPORT_SYMBOL_GPL(vfio_pci_config_virtualize);

/* Lay out the user's view from the snapshot of the device's config space. */
static void cfg_build(struct vfio_pci_core_device *vdev)
{
	struct vfio_pci_config_state *cfg = vdev->cfg;
	u32 ecap0;

	/*
	 * Beyond the header, everything passes through until a capability
	 * policy claims it.
	 */
	cfg_raw(cfg, PCI_STD_HEADER_SIZEOF,
		cfg->size - PCI_STD_HEADER_SIZEOF);
	cfg_setup_header(vdev);
	ecap0 = cfg->size > PCI_CFG_SPACE_SIZE ?
		cfg_get(cfg->snap, PCI_CFG_SPACE_SIZE, 4) : 0;
	if (cfg_setup_std_caps(vdev) && ecap0)
		cfg_setup_ext_caps(vdev);
}

/**
 * vfio_pci_config_init - build the virtual config space of an enabled device
 * @vdev: the device
 *
 * Return: 0 or a negative errno.
 */
int vfio_pci_config_init(struct vfio_pci_core_device *vdev)
{
	struct pci_dev *pdev = vdev->pdev;
	struct vfio_pci_config_state *cfg;
	u8 *snap = NULL;
	unsigned int pos;
	u32 val;
	int ret;

	cfg = kzalloc(sizeof(*cfg), GFP_KERNEL_ACCOUNT);
	if (!cfg)
		return -ENOMEM;
	mutex_init(&cfg->lock);
	cfg->size = min_t(unsigned int, pdev->cfg_size,
			  VFIO_PCI_CFG_SPACE_MAX);
	/* Rule 0, the default of every byte: read-only, from the device. */
	cfg->nr_rules = 1;
	/* One block for the two per-byte arrays: 8 KiB for a PCIe function. */
	cfg->vconfig = kzalloc(2 * cfg->size, GFP_KERNEL_ACCOUNT);
	snap = kzalloc(VFIO_PCI_CFG_SPACE_MAX, GFP_KERNEL);
	if (!cfg->vconfig || !snap) {
		ret = -ENOMEM;
		goto err_free;
	}
	cfg->rule = cfg->vconfig + cfg->size;
	for (pos = 0; pos < cfg->size; pos += 4) {
		ret = pci_read_config_dword(pdev, pos, &val);
		if (ret) {
			ret = pcibios_err_to_errno(ret);
			goto err_free;
		}
		cfg_put(snap, pos, 4, val);
	}

	cfg->snap = snap;
	vdev->cfg = cfg;
	cfg_build(vdev);
	cfg->snap = NULL;
	kfree(snap);
	if (cfg->rules_full) {
		pci_warn(pdev, "config space needs more than %d byte rules\n",
			 CFG_MAX_RULES);
		vdev->cfg = NULL;
		snap = NULL;
		ret = -ENOSPC;
		goto err_free;
	}
	return 0;

err_free:
	kfree(snap);
	kfree(cfg->vconfig);
	mutex_destroy(&cfg->lock);
	kfree(cfg);
	return ret;
}

/**
 * vfio_pci_config_free - drop the virtual config space
 * @vdev: the device
 */
void vfio_pci_config_free(struct vfio_pci_core_device *vdev)
{
	if (!vdev->cfg)
		return;
	mutex_destroy(&vdev->cfg->lock);
	kfree(vdev->cfg->vconfig);
	kfree(vdev->cfg);
	vdev->cfg = NULL;
}
