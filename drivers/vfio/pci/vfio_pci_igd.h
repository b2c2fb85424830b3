/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The IGD regions of vfio-pci (vfio_pci_igd.c): the interface between that
 * file, the vfio-pci driver that adds the regions at open, and the KUnit
 * tests of the OpRegion decoding.  Not part of vfio-pci-core.
 */
#ifndef VFIO_PCI_IGD_H
#define VFIO_PCI_IGD_H

#include <linux/types.h>
#include <linux/vfio_pci_core.h>

/*
 * Only built with CONFIG_VFIO_PCI_IGD; callers test
 * IS_ENABLED(CONFIG_VFIO_PCI_IGD) first.
 */
int vfio_pci_igd_init(struct vfio_pci_core_device *vdev);

/**
 * struct vfio_pci_igd_opregion_hdr - what an IGD OpRegion header tells us
 * @version: major << 8 | minor
 * @rvda: raw VBT address: physical for 2.0, offset from the OpRegion after
 * @rvds: raw VBT size, 0 when there is no raw VBT
 */
struct vfio_pci_igd_opregion_hdr {
	u16	version;
	u64	rvda;
	u32	rvds;
};

/**
 * struct vfio_pci_igd_opregion - a mapped IGD OpRegion and its user view
 * @opregion: the OpRegion, 8 KiB
 * @vbt: the raw VBT, or NULL
 * @vbt_size: its size
 * @version: the version the user reads (little endian)
 * @rvda: the RVDA the user reads (little endian)
 */
struct vfio_pci_igd_opregion {
	void		*opregion;
	void		*vbt;
	u32		vbt_size;
	__le16		version;
	__le64		rvda;
};

/*
 * Pure helpers, static unless KUnit is enabled, exported then to
 * vfio_pci_kunit.c only (namespace EXPORTED_FOR_KUNIT_TESTING).
 */
#if IS_ENABLED(CONFIG_KUNIT)
int vfio_pci_igd_parse_opregion(const u8 *hdr,
				struct vfio_pci_igd_opregion_hdr *out);
size_t vfio_pci_igd_source(const struct vfio_pci_igd_opregion *op,
			   size_t pos, const u8 **src);
void vfio_pci_igd_user_view(struct vfio_pci_igd_opregion *op,
			    const struct vfio_pci_igd_opregion_hdr *hdr);
#endif

#endif /* VFIO_PCI_IGD_H */
