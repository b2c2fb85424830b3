// SPDX-License-Identifier: GPL-2.0-only
/*
 * Virtualized PCI configuration space.
 *
 * The user sees a configuration space assembled bit by bit from two sources:
 * the device itself and a virtual copy kept here.  Three per-byte masks say,
 * for every bit, where reads come from and what writes do:
 *
 *   virt  set: the bit is served from, and written into, the virtual copy;
 *         clear: it is read from the device.
 *   wr    set: the user may change the bit; clear: writes to it are ignored.
 *   w1c   set: the bit is write-one-to-clear in hardware.  A read-modify-write
 *         of a partly writable register must write zero there, or it would
 *         acknowledge events the user never saw.
 *
 * Every byte starts out hidden: virtual, read-only and zero.  Setup then walks
 * the header and both capability lists and opens up what each structure
 * allows.  Capabilities without a policy here stay hidden and are unlinked
 * from the list the user walks.
 *
 * A few registers do more than store bits (COMMAND, the BARs, the ROM BAR);
 * writes touching them run a hook once the bits are stored.
 */
#include <linux/pci.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/vfio_pci_core.h>

#include "vfio_pci_priv.h"

/* Number of BAR dwords in a type 0 header, plus the ROM BAR. */
#define CFG_NUM_BARS		(PCI_STD_NUM_BARS + 1)
#define CFG_ROM_SLOT		PCI_STD_NUM_BARS

/*
 * struct vfio_pci_config_state - the virtual config space of one device
 * @lock: serialises user config accesses against each other, so that the
 *	read-modify-write of the virtual copy and of hardware registers is
 *	atomic with respect to other users of the same device fd.  Taken
 *	before vdev->memory_lock and vdev->igate.
 * @size: bytes of config space exposed (256 or 4096)
 * @bar_mask: writable address bits of each BAR dword and of the ROM BAR
 * @bar_flags: read-only low bits (type, prefetch, I/O) of each BAR dword
 * @snap: the device's own config space, read once at enable; only valid
 *	while vfio_pci_config_init() builds the masks from it
 * @vconfig: the virtual copy
 * @virt: per-byte mask, see above
 * @wr: per-byte mask, see above
 * @w1c: per-byte mask, see above
 */
struct vfio_pci_config_state {
	struct mutex	lock;		/* see above */
	unsigned int	size;
	u32		bar_mask[CFG_NUM_BARS];
	u32		bar_flags[CFG_NUM_BARS];
	const u8	*snap;
	u8		vconfig[VFIO_PCI_CFG_SPACE_MAX];
	u8		virt[VFIO_PCI_CFG_SPACE_MAX];
	u8		wr[VFIO_PCI_CFG_SPACE_MAX];
	u8		w1c[VFIO_PCI_CFG_SPACE_MAX];
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
 * Open @size bytes at @pos with the given read source and write masks.  A bit
 * in @virt reads from the virtual copy, which starts out with the device's
 * value; a bit in @wr is user writable.
 */
static void cfg_allow(struct vfio_pci_config_state *cfg, unsigned int pos,
		      unsigned int size, u32 virt, u32 wr)
{
	if (pos + size > cfg->size)
		return;
	cfg_put(cfg->virt, pos, size, virt);
	cfg_put(cfg->wr, pos, size, wr);
	cfg_put(cfg->vconfig, pos, size, cfg_get(cfg->snap, pos, size) & virt);
}

/* Expose a range read-only, straight from the device. */
static void cfg_passthrough(struct vfio_pci_config_state *cfg,
			    unsigned int pos, unsigned int len)
{
	if (pos >= cfg->size)
		return;
	len = min(len, cfg->size - pos);
	memset(cfg->virt + pos, 0, len);
	memset(cfg->wr + pos, 0, len);
}

/* Expose a register as a read-only virtual value. */
static void cfg_virtual_ro(struct vfio_pci_config_state *cfg,
			   unsigned int pos, unsigned int size, u32 val)
{
	cfg_allow(cfg, pos, size, GENMASK(8 * size - 1, 0), 0);
	cfg_put(cfg->vconfig, pos, size, val);
}

static void cfg_mark_w1c(struct vfio_pci_config_state *cfg, unsigned int pos,
			 unsigned int size, u32 bits)
{
	u32 wr = cfg_get(cfg->wr, pos, size);

	cfg_put(cfg->w1c, pos, size, bits);
	cfg_put(cfg->wr, pos, size, wr | bits);
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

/* ---- Header ---- */

static void cfg_setup_bars(struct vfio_pci_core_device *vdev)
{
	struct vfio_pci_config_state *cfg = vdev->cfg;
	struct pci_dev *pdev = vdev->pdev;
	resource_size_t len;
	u32 raw;
	int i;

	for (i = 0; i < PCI_STD_NUM_BARS; i++) {
		struct resource *res = &pdev->resource[i];
		unsigned int pos = PCI_BASE_ADDRESS_0 + 4 * i;

		cfg_allow(cfg, pos, 4, ~0U, ~0U);
		len = resource_size(res);
		raw = cfg_get(cfg->snap, pos, 4);
		if (!len || !(res->flags & (IORESOURCE_MEM | IORESOURCE_IO))) {
			cfg->bar_mask[i] = 0;
			cfg->bar_flags[i] = 0;
			continue;
		}
		if (res->flags & IORESOURCE_IO) {
			cfg->bar_mask[i] = ~(u32)(len - 1) &
					   PCI_BASE_ADDRESS_IO_MASK;
			cfg->bar_flags[i] = raw & ~PCI_BASE_ADDRESS_IO_MASK;
			continue;
		}
		cfg->bar_mask[i] = ~(u32)(len - 1) & PCI_BASE_ADDRESS_MEM_MASK;
		cfg->bar_flags[i] = raw & ~PCI_BASE_ADDRESS_MEM_MASK;
		if ((raw & PCI_BASE_ADDRESS_MEM_TYPE_MASK) ==
		    PCI_BASE_ADDRESS_MEM_TYPE_64 && i + 1 < PCI_STD_NUM_BARS) {
			/* The upper dword holds the high address bits only. */
			i++;
			cfg_allow(cfg, pos + 4, 4, ~0U, ~0U);
			cfg->bar_mask[i] = upper_32_bits(~(u64)(len - 1));
			cfg->bar_flags[i] = 0;
		}
	}

	/* ROM BAR: address bits and the enable bit, all virtual. */
	cfg_allow(cfg, PCI_ROM_ADDRESS, 4, ~0U, ~0U);
	len = pci_resource_len(pdev, PCI_ROM_RESOURCE);
	if (len) {
		cfg->bar_mask[CFG_ROM_SLOT] = (~(u32)(len - 1) &
					       PCI_ROM_ADDRESS_MASK) |
					      PCI_ROM_ADDRESS_ENABLE;
	} else {
		cfg->bar_mask[CFG_ROM_SLOT] = 0;
	}
	cfg->bar_flags[CFG_ROM_SLOT] = 0;
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

static void cfg_setup_header(struct vfio_pci_core_device *vdev)
{
	struct vfio_pci_config_state *cfg = vdev->cfg;
	struct pci_dev *pdev = vdev->pdev;
	u16 cmd_wr = PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER |
		     PCI_COMMAND_PARITY | PCI_COMMAND_SERR;
	u16 cmd_virt = PCI_COMMAND_INTX_DISABLE;

	cfg_passthrough(cfg, 0, PCI_STD_HEADER_SIZEOF);

	/* A VF reports all-ones IDs; show the ones the PF assigned to it. */
	if (pdev->is_virtfn) {
		cfg_virtual_ro(cfg, PCI_VENDOR_ID, 2, pdev->vendor);
		cfg_virtual_ro(cfg, PCI_DEVICE_ID, 2, pdev->device);
	}

	/*
	 * INTx disable is ours: the user's bit is kept virtual and folded into
	 * the INTx masking state.  A VF has no memory enable bit in hardware,
	 * so the user's one is virtual there too.
	 */
	if (pdev->no_command_memory)
		cmd_virt |= PCI_COMMAND_MEMORY;
	cfg_allow(cfg, PCI_COMMAND, 2, cmd_virt, cmd_wr | cmd_virt);
	cfg_put(cfg->vconfig, PCI_COMMAND, 2,
		cfg_get(cfg->snap, PCI_COMMAND, 2) & cmd_virt &
		~PCI_COMMAND_INTX_DISABLE);

	/* Error bits of STATUS are write-one-to-clear; CAP_LIST is ours. */
	cfg_allow(cfg, PCI_STATUS, 2, PCI_STATUS_CAP_LIST, 0);
	cfg_mark_w1c(cfg, PCI_STATUS, 2, PCI_STATUS_PARITY |
		     PCI_STATUS_SIG_TARGET_ABORT | PCI_STATUS_REC_TARGET_ABORT |
		     PCI_STATUS_REC_MASTER_ABORT | PCI_STATUS_SIG_SYSTEM_ERROR |
		     PCI_STATUS_DETECTED_PARITY);

	cfg_allow(cfg, PCI_CACHE_LINE_SIZE, 1, 0, 0xff);
	cfg_allow(cfg, PCI_LATENCY_TIMER, 1, 0, 0xff);

	cfg_setup_bars(vdev);

	cfg_allow(cfg, PCI_INTERRUPT_LINE, 1, 0xff, 0xff);
	cfg_virtual_ro(cfg, PCI_INTERRUPT_PIN, 1,
		       vdev->nointx ? 0 : pdev->pin);
	/* Filled in by the capability walk. */
	cfg_virtual_ro(cfg, PCI_CAPABILITY_LIST, 1, 0);
}

/* ---- Standard capabilities ---- */

struct cfg_cap_policy {
	u8 id;
	/* Length of the capability at @pos, 0 if it cannot be exposed. */
	unsigned int (*length)(struct vfio_pci_core_device *vdev,
			       unsigned int pos);
	/* Open up the capability's registers; the header is handled. */
	void (*setup)(struct vfio_pci_core_device *vdev, unsigned int pos,
		      unsigned int len);
};

static unsigned int cap_len_pm(struct vfio_pci_core_device *vdev,
			       unsigned int pos)
{
	return PCI_PM_SIZEOF;
}

static void cap_setup_pm(struct vfio_pci_core_device *vdev, unsigned int pos,
			 unsigned int len)
{
	struct vfio_pci_config_state *cfg = vdev->cfg;

	cfg_passthrough(cfg, pos + 2, len - 2);
	cfg_allow(cfg, pos + PCI_PM_CTRL, 2, 0,
		  PCI_PM_CTRL_STATE_MASK | PCI_PM_CTRL_PME_ENABLE);
	cfg_mark_w1c(cfg, pos + PCI_PM_CTRL, 2, PCI_PM_CTRL_PME_STATUS);
}

static unsigned int cap_len_msi(struct vfio_pci_core_device *vdev,
				unsigned int pos)
{
	u16 flags = cfg_get(vdev->cfg->snap, pos + PCI_MSI_FLAGS, 2);
	unsigned int len = PCI_MSI_DATA_32 + 2;

	if (flags & PCI_MSI_FLAGS_64BIT)
		len += 4;
	if (flags & PCI_MSI_FLAGS_MASKBIT)
		len += 10;
	return len;
}

/*
 * The kernel programs MSI for the user through SET_IRQS, so the user gets a
 * private copy: it may write the address, data, queue size and mask, and the
 * enable bit reflects what SET_IRQS did.
 */
static void cap_setup_msi(struct vfio_pci_core_device *vdev, unsigned int pos,
			  unsigned int len)
{
	struct vfio_pci_config_state *cfg = vdev->cfg;
	u16 flags = cfg_get(cfg->snap, pos + PCI_MSI_FLAGS, 2);
	unsigned int data = (flags & PCI_MSI_FLAGS_64BIT) ?
			    PCI_MSI_DATA_64 : PCI_MSI_DATA_32;
	unsigned int i;

	for (i = 2; i < len; i++)
		cfg_allow(cfg, pos + i, 1, 0xff, 0);

	flags &= ~(PCI_MSI_FLAGS_ENABLE | PCI_MSI_FLAGS_QSIZE);
	cfg_put(cfg->vconfig, pos + PCI_MSI_FLAGS, 2, flags);
	cfg_allow(cfg, pos + PCI_MSI_FLAGS, 2, 0xffff, PCI_MSI_FLAGS_QSIZE);

	cfg_allow(cfg, pos + PCI_MSI_ADDRESS_LO, 4, ~0U, ~0U);
	if (flags & PCI_MSI_FLAGS_64BIT)
		cfg_allow(cfg, pos + PCI_MSI_ADDRESS_HI, 4, ~0U, ~0U);
	cfg_allow(cfg, pos + data, 2, 0xffff, 0xffff);
	if (flags & PCI_MSI_FLAGS_MASKBIT)
		cfg_allow(cfg, pos + data + 4, 4, ~0U, ~0U);
}

static unsigned int cap_len_fixed12(struct vfio_pci_core_device *vdev,
				    unsigned int pos)
{
	return PCI_CAP_MSIX_SIZEOF;
}

static unsigned int cap_len_vndr(struct vfio_pci_core_device *vdev,
				 unsigned int pos)
{
	return cfg_get(vdev->cfg->snap, pos + PCI_CAP_FLAGS, 1);
}

static unsigned int cap_len_exp(struct vfio_pci_core_device *vdev,
				unsigned int pos)
{
	u16 flags = cfg_get(vdev->cfg->snap, pos + PCI_EXP_FLAGS, 2);

	if ((flags & PCI_EXP_FLAGS_VERS) < 2)
		return PCI_CAP_EXP_ENDPOINT_SIZEOF_V1;
	return PCI_CAP_EXP_ENDPOINT_SIZEOF_V2;
}

static void cap_setup_exp(struct vfio_pci_core_device *vdev, unsigned int pos,
			  unsigned int len)
{
	struct vfio_pci_config_state *cfg = vdev->cfg;

	cfg_passthrough(cfg, pos + 2, len - 2);
	/* Error reporting and ordering attributes are the function's own. */
	cfg_allow(cfg, pos + PCI_EXP_DEVCTL, 2, 0,
		  PCI_EXP_DEVCTL_CERE | PCI_EXP_DEVCTL_NFERE |
		  PCI_EXP_DEVCTL_FERE | PCI_EXP_DEVCTL_URRE |
		  PCI_EXP_DEVCTL_RELAX_EN | PCI_EXP_DEVCTL_NOSNOOP_EN);
	cfg_allow(cfg, pos + PCI_EXP_DEVSTA, 2, 0, 0);
	cfg_mark_w1c(cfg, pos + PCI_EXP_DEVSTA, 2,
		     PCI_EXP_DEVSTA_CED | PCI_EXP_DEVSTA_NFED |
		     PCI_EXP_DEVSTA_FED | PCI_EXP_DEVSTA_URD);
}

static void cap_setup_readonly(struct vfio_pci_core_device *vdev,
			       unsigned int pos, unsigned int len)
{
	cfg_passthrough(vdev->cfg, pos + 2, len - 2);
}

static const struct cfg_cap_policy cfg_std_caps[] = {
	{ PCI_CAP_ID_PM,	cap_len_pm,	 cap_setup_pm },
	{ PCI_CAP_ID_MSI,	cap_len_msi,	 cap_setup_msi },
	{ PCI_CAP_ID_MSIX,	cap_len_fixed12, cap_setup_readonly },
	{ PCI_CAP_ID_EXP,	cap_len_exp,	 cap_setup_exp },
	{ PCI_CAP_ID_VNDR,	cap_len_vndr,	 cap_setup_readonly },
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
 * Walk the standard capability list of the device (as read into vconfig),
 * expose the capabilities with a policy and chain them together through
 * virtual next pointers.  @link is the byte that points to the next visible
 * capability: the header's capability pointer at first.
 */
static void cfg_setup_std_caps(struct vfio_pci_core_device *vdev)
{
	struct vfio_pci_config_state *cfg = vdev->cfg;
	const struct cfg_cap_policy *pol;
	unsigned int link = PCI_CAPABILITY_LIST;
	unsigned int pos, len, ttl = PCI_CFG_SPACE_SIZE / PCI_CAP_SIZEOF;
	u16 status = cfg_get(cfg->snap, PCI_STATUS, 2);
	bool any = false;

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
			cfg_passthrough(cfg, pos, 1);
			pol->setup(vdev, pos, len);
			cfg_virtual_ro(cfg, link, 1, pos);
			link = pos + PCI_CAP_LIST_NEXT;
			cfg_virtual_ro(cfg, link, 1, 0);
			any = true;
		}
		pos = next;
	}
done:
	cfg_put(cfg->vconfig, PCI_STATUS, 2, any ? PCI_STATUS_CAP_LIST : 0);
}

/* ---- Extended capabilities ---- */

static unsigned int ecap_len_aer(struct vfio_pci_core_device *vdev,
				 unsigned int pos)
{
	return PCI_ERR_ROOT_COMMAND;
}

static unsigned int ecap_len_dsn(struct vfio_pci_core_device *vdev,
				 unsigned int pos)
{
	return PCI_EXT_CAP_DSN_SIZEOF;
}

static unsigned int ecap_len_8(struct vfio_pci_core_device *vdev,
			       unsigned int pos)
{
	return 8;
}

static unsigned int ecap_len_vndr(struct vfio_pci_core_device *vdev,
				  unsigned int pos)
{
	return PCI_VNDR_HEADER_LEN(cfg_get(vdev->cfg->snap,
					   pos + PCI_VNDR_HEADER, 4));
}

static void ecap_setup_readonly(struct vfio_pci_core_device *vdev,
				unsigned int pos, unsigned int len)
{
	cfg_passthrough(vdev->cfg, pos + 4, len - 4);
}

static const struct cfg_cap_policy cfg_ext_caps[] = {
	{ PCI_EXT_CAP_ID_ERR,	ecap_len_aer,	ecap_setup_readonly },
	{ PCI_EXT_CAP_ID_DSN,	ecap_len_dsn,	ecap_setup_readonly },
	{ PCI_EXT_CAP_ID_ARI,	ecap_len_8,	ecap_setup_readonly },
	{ PCI_EXT_CAP_ID_LTR,	ecap_len_8,	ecap_setup_readonly },
	{ PCI_EXT_CAP_ID_VNDR,	ecap_len_vndr,	ecap_setup_readonly },
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

	if (cfg->size <= PCI_CFG_SPACE_SIZE)
		return;

	cfg_virtual_ro(cfg, PCI_CFG_SPACE_SIZE, 4, 0);
	while (pos >= PCI_CFG_SPACE_SIZE && ttl--) {
		u32 hdr = cfg_get(cfg->snap, pos, 4);

		if (!hdr || hdr == ~0U)
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
	u32 virt = cfg_get(cfg->virt, pos, size);
	u32 hw = 0;
	int ret;

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
	u32 virt = cfg_get(cfg->virt, pos, size);
	u32 wr = cfg_get(cfg->wr, pos, size);
	u32 w1c = cfg_get(cfg->w1c, pos, size);
	u32 hw_wr = wr & ~virt;
	u32 hw, v;
	int ret;

	if (wr & virt) {
		v = cfg_get(cfg->vconfig, pos, size);
		v = (v & ~(wr & virt)) | (val & wr & virt);
		cfg_put(cfg->vconfig, pos, size, v);
	}
	if (!hw_wr)
		return 0;

	ret = cfg_hw_read(vdev->pdev, pos, size, &hw);
	if (ret)
		return ret;
	hw = (hw & ~hw_wr & ~w1c) | (val & hw_wr);
	return cfg_hw_write(vdev->pdev, pos, size, hw);
}

static bool ranges_overlap(unsigned int a, unsigned int alen,
			   unsigned int b, unsigned int blen)
{
	return a < b + blen && b < a + alen;
}

/*
 * COMMAND writes may turn memory decode off.  BAR accesses and mmap faults
 * check decode under memory_lock held for read, so the change is made with
 * it held for write and existing mappings are zapped before it is dropped.
 */
static int cfg_write_command(struct vfio_pci_core_device *vdev,
			     unsigned int pos, unsigned int size, u32 val)
{
	u16 old_virt = cfg_get(vdev->cfg->vconfig, PCI_COMMAND, 2);
	bool mem_was_on;
	int ret;

	down_write(&vdev->memory_lock);
	mem_was_on = vfio_pci_memory_enabled(vdev);
	ret = cfg_store_user(vdev, pos, size, val);
	if (!ret && mem_was_on && !vfio_pci_memory_enabled(vdev))
		vfio_pci_zap_bar_mmaps(vdev);
	up_write(&vdev->memory_lock);

	if ((old_virt ^ cfg_get(vdev->cfg->vconfig, PCI_COMMAND, 2)) &
	    PCI_COMMAND_INTX_DISABLE)
		vfio_pci_intx_user_mask_changed(vdev);
	return ret;
}

static int cfg_write_user(struct vfio_pci_core_device *vdev, unsigned int pos,
			  unsigned int size, u32 val)
{
	struct vfio_pci_config_state *cfg = vdev->cfg;
	unsigned int slot;
	int ret;

	if (ranges_overlap(pos, size, PCI_COMMAND, 2))
		return cfg_write_command(vdev, pos, size, val);

	ret = cfg_store_user(vdev, pos, size, val);
	if (ret)
		return ret;

	for (slot = 0; slot < PCI_STD_NUM_BARS; slot++)
		if (ranges_overlap(pos, size, PCI_BASE_ADDRESS_0 + 4 * slot, 4))
			cfg_bar_written(cfg, slot);
	if (ranges_overlap(pos, size, PCI_ROM_ADDRESS, 4))
		cfg_bar_written(cfg, CFG_ROM_SLOT);
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
	u8 bytes[4];
	u32 val;
	int ret = 0;

	if (start >= cfg->size || count > cfg->size - start)
		return -EFAULT;
	pos = start;

	mutex_lock(&cfg->lock);
	while (done < count) {
		size = cfg_chunk(pos, count - done);
		if (iswrite) {
			if (copy_from_user(bytes, buf + done, size)) {
				ret = -EFAULT;
				break;
			}
			ret = cfg_write_user(vdev, pos, size,
					     cfg_get(bytes, 0, size));
		} else {
			ret = cfg_read_user(vdev, pos, size, &val);
			if (!ret) {
				cfg_put(bytes, 0, size, val);
				if (copy_to_user(buf + done, bytes, size))
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
 * @vdev: the device
 *
 * Caller holds vdev->memory_lock, so the answer stays valid while it does.
 * VFs have no memory enable bit in hardware; the user's virtual one counts.
 *
 * Return: true if BAR memory may be accessed.
 */
bool vfio_pci_memory_enabled(struct vfio_pci_core_device *vdev)
{
	struct pci_dev *pdev = vdev->pdev;
	u16 cmd;

	if (pdev->no_command_memory)
		return cfg_get(vdev->cfg->vconfig, PCI_COMMAND, 2) &
		       PCI_COMMAND_MEMORY;
	if (pci_user_read_config_word(pdev, PCI_COMMAND, &cmd))
		return false;
	return cmd & PCI_COMMAND_MEMORY;
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

	cfg = kvzalloc(sizeof(*cfg), GFP_KERNEL_ACCOUNT);
	if (!cfg)
		return -ENOMEM;
	mutex_init(&cfg->lock);
	cfg->size = min_t(unsigned int, pdev->cfg_size,
			  VFIO_PCI_CFG_SPACE_MAX);

	snap = kzalloc(VFIO_PCI_CFG_SPACE_MAX, GFP_KERNEL);
	if (!snap) {
		ret = -ENOMEM;
		goto err_free;
	}
	for (pos = 0; pos < cfg->size; pos += 4) {
		ret = pci_read_config_dword(pdev, pos, &val);
		if (ret) {
			ret = pcibios_err_to_errno(ret);
			goto err_free;
		}
		cfg_put(snap, pos, 4, val);
	}

	/* Everything is hidden (virtual and zero) until a policy opens it. */
	memset(cfg->virt, 0xff, cfg->size);
	cfg->snap = snap;
	vdev->cfg = cfg;
	cfg_setup_header(vdev);
	cfg_setup_std_caps(vdev);
	cfg_setup_ext_caps(vdev);
	cfg->snap = NULL;
	kfree(snap);
	return 0;

err_free:
	kfree(snap);
	kvfree(cfg);
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
	kvfree(vdev->cfg);
	vdev->cfg = NULL;
}
