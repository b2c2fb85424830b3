/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Declarations shared by the files of vfio-pci-core and nothing else.
 */
#ifndef VFIO_PCI_PRIV_H
#define VFIO_PCI_PRIV_H

#include <linux/uaccess.h>
#include <linux/uuid.h>
#include <linux/vfio_pci_core.h>

/* irq_type while no interrupt index is enabled. */
#define VFIO_PCI_IRQ_NONE	VFIO_PCI_NUM_IRQS

/* Largest configuration space a PCI Express function has. */
#define VFIO_PCI_CFG_SPACE_MAX	PCI_CFG_SPACE_EXP_SIZE

static inline struct vfio_pci_core_device *
to_core_dev(struct vfio_device *core_vdev)
{
	return container_of(core_vdev, struct vfio_pci_core_device, vdev);
}

static inline bool vfio_pci_is_vga(struct pci_dev *pdev)
{
	return (pdev->class >> 8) == PCI_CLASS_DISPLAY_VGA;
}

/*
 * User copies of one register access: 1, 2, 4 or 8 bytes.  Each size is a
 * copy of constant length, which the compiler inlines and which
 * CONFIG_HARDENED_USERCOPY does not have to check at run time, as it
 * checks every copy whose length is a variable.  The kernel-side buffer
 * must hold 8 bytes whatever @size is: check_copy_size() fails the build
 * of a constant-size copy larger than an object whose size the compiler
 * can see, and whether it proves the larger cases unreachable is up to
 * the compiler.  Return: 0 or -EFAULT.
 */
static inline int vfio_pci_copy_to_user_small(void __user *dst,
					      const void *src, size_t size)
{
	unsigned long left;

	switch (size) {
	case 8:
		left = copy_to_user(dst, src, 8);
		break;
	case 4:
		left = copy_to_user(dst, src, 4);
		break;
	case 2:
		left = copy_to_user(dst, src, 2);
		break;
	default:
		left = copy_to_user(dst, src, 1);
		break;
	}
	return left ? -EFAULT : 0;
}

static inline int vfio_pci_copy_from_user_small(void *dst,
						const void __user *src,
						size_t size)
{
	unsigned long left;

	switch (size) {
	case 8:
		left = copy_from_user(dst, src, 8);
		break;
	case 4:
		left = copy_from_user(dst, src, 4);
		break;
	case 2:
		left = copy_from_user(dst, src, 2);
		break;
	default:
		left = copy_from_user(dst, src, 1);
		break;
	}
	return left ? -EFAULT : 0;
}

/* vfio_pci_core.c */
extern bool vfio_pci_nointxmask;
extern bool vfio_pci_disable_vga;

/* vfio_pci_config.c */
int vfio_pci_config_init(struct vfio_pci_core_device *vdev);
void vfio_pci_config_free(struct vfio_pci_core_device *vdev);
ssize_t vfio_pci_config_rw(struct vfio_pci_core_device *vdev,
			   char __user *buf, size_t count, loff_t *ppos,
			   bool iswrite);
bool vfio_pci_memory_enabled(struct vfio_pci_core_device *vdev);
int vfio_pci_command_update_locked(struct vfio_pci_core_device *vdev,
				   u16 mask, u16 val);
int vfio_pci_command_update(struct vfio_pci_core_device *vdev, u16 mask,
			    u16 val);
bool vfio_pci_intx_disabled_by_user(struct vfio_pci_core_device *vdev);

/* vfio_pci_rdwr.c */
ssize_t vfio_pci_bar_rw(struct vfio_pci_core_device *vdev, char __user *buf,
			size_t count, loff_t *ppos, bool iswrite);
ssize_t vfio_pci_rom_read(struct vfio_pci_core_device *vdev,
			  char __user *buf, size_t count, loff_t *ppos);
void vfio_pci_release_barmaps(struct vfio_pci_core_device *vdev);
void vfio_pci_rom_probe(struct vfio_pci_core_device *vdev);

/* vfio_pci_mmap.c */
int vfio_pci_bar_mmap(struct vfio_pci_core_device *vdev,
		      struct vm_area_struct *vma);
void vfio_pci_zap_bar_mmaps(struct vfio_pci_core_device *vdev);
void vfio_pci_memory_lock_and_zap(struct vfio_pci_core_device *vdev);
void vfio_pci_probe_mmaps(struct vfio_pci_core_device *vdev);
void vfio_pci_release_mmaps(struct vfio_pci_core_device *vdev);

/* vfio_pci_vga.c */
void vfio_pci_vga_probe(struct vfio_pci_core_device *vdev);
int vfio_pci_vga_info(struct vfio_pci_core_device *vdev,
		      struct vfio_region_info *info);
ssize_t vfio_pci_vga_rw(struct vfio_pci_core_device *vdev, char __user *buf,
			size_t count, loff_t *ppos, bool iswrite);
int vfio_pci_vga_register(struct vfio_pci_core_device *vdev);
void vfio_pci_vga_unregister(struct vfio_pci_core_device *vdev);

/* vfio_pci_regions.c */
int vfio_pci_region_info(struct vfio_pci_core_device *vdev,
			 struct vfio_region_info *info,
			 struct vfio_info_cap *caps);
ssize_t vfio_pci_dev_region_rw(struct vfio_pci_core_device *vdev,
			       unsigned int index, char __user *buf,
			       size_t count, loff_t *ppos, bool iswrite);
int vfio_pci_dev_region_mmap(struct vfio_pci_core_device *vdev,
			     unsigned int index, struct vm_area_struct *vma);
void vfio_pci_release_dev_regions(struct vfio_pci_core_device *vdev);

/* vfio_pci_intrs.c */
int vfio_pci_irq_count(struct vfio_pci_core_device *vdev, unsigned int index);
int vfio_pci_set_irqs(struct vfio_pci_core_device *vdev,
		      struct vfio_irq_set *hdr, void *data);
void vfio_pci_irqs_teardown(struct vfio_pci_core_device *vdev);
void vfio_pci_intx_user_mask_changed(struct vfio_pci_core_device *vdev);
void vfio_pci_intx_reapply_mask(struct vfio_pci_core_device *vdev);
void vfio_pci_intx_set_suspended(struct vfio_pci_core_device *vdev,
				 bool suspended);
void vfio_pci_signal_eventfd(struct eventfd_ctx __rcu **slot);

/* vfio_pci_power.c */
int vfio_pci_set_power_state(struct vfio_pci_core_device *vdev,
			     pci_power_t state);
int vfio_pci_power_register(struct vfio_pci_core_device *vdev);
void vfio_pci_power_unregister(struct vfio_pci_core_device *vdev);
int vfio_pci_power_open(struct vfio_pci_core_device *vdev);
void vfio_pci_power_close_begin(struct vfio_pci_core_device *vdev);
void vfio_pci_power_close_end(struct vfio_pci_core_device *vdev);
int vfio_pci_power_access_begin(struct vfio_pci_core_device *vdev,
				bool *woken);
void vfio_pci_power_access_end(struct vfio_pci_core_device *vdev, bool woken);
int vfio_pci_feature_low_power_entry(struct vfio_pci_core_device *vdev,
				     u32 flags, void __user *arg,
				     size_t argsz, bool wakeup);
int vfio_pci_feature_low_power_exit(struct vfio_pci_core_device *vdev,
				    u32 flags, size_t argsz);

/* vfio_pci_sriov.c */
int vfio_pci_sriov_register(struct vfio_pci_core_device *vdev);
void vfio_pci_sriov_unregister(struct vfio_pci_core_device *vdev);
void vfio_pci_vf_token_user_add(struct vfio_pci_core_device *vdev, int delta);
int vfio_pci_match_options(struct vfio_pci_core_device *vdev,
			   const char *opts);
int vfio_pci_feature_vf_token(struct vfio_pci_core_device *vdev, u32 flags,
			      void __user *arg, size_t argsz);

/*
 * A pure helper, static unless KUnit is enabled, exported then to
 * vfio_pci_kunit.c only (namespace EXPORTED_FOR_KUNIT_TESTING).
 */
#if IS_ENABLED(CONFIG_KUNIT)
int vfio_pci_parse_match_options(const char *opts, uuid_t *uuid);
#endif

/* vfio_pci_reset.c */
int vfio_pci_reset_function(struct vfio_pci_core_device *vdev);
void vfio_pci_dev_set_reset_if_idle(struct vfio_pci_core_device *closing);
long vfio_pci_ioctl_get_pci_hot_reset_info(struct vfio_pci_core_device *vdev,
					   void __user *arg);
long vfio_pci_ioctl_pci_hot_reset(struct vfio_pci_core_device *vdev,
				  void __user *arg);

/* vfio_pci_ioeventfd.c */
long vfio_pci_ioctl_ioeventfd(struct vfio_pci_core_device *vdev,
			      void __user *arg);
void vfio_pci_ioeventfds_release(struct vfio_pci_core_device *vdev);

/* vfio_pci_ioctl.c */
long vfio_pci_ioctl_get_info(struct vfio_pci_core_device *vdev,
			     void __user *arg);
long vfio_pci_ioctl_get_region_info(struct vfio_pci_core_device *vdev,
				    void __user *arg);
long vfio_pci_ioctl_get_irq_info(struct vfio_pci_core_device *vdev,
				 void __user *arg);
long vfio_pci_ioctl_set_irqs(struct vfio_pci_core_device *vdev,
			     void __user *arg);

#endif /* VFIO_PCI_PRIV_H */
