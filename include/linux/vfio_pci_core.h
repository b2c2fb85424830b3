/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * vfio-pci-core: the library behind vfio-pci and its variant drivers.
 *
 * A variant driver embeds struct vfio_pci_core_device in its own device
 * structure, builds its vfio_device_ops from the vfio_pci_core_* entry points
 * declared here (wrapping or replacing the ones it needs), and calls
 * vfio_pci_core_register_device() from its probe routine.  See
 * Documentation/driver-api/vfio-pci/variant-drivers.rst.
 */
#ifndef VFIO_PCI_CORE_H
#define VFIO_PCI_CORE_H

#include <linux/irqbypass.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/notifier.h>
#include <linux/pci.h>
#include <linux/percpu-rwsem.h>
#include <linux/rcupdate.h>
#include <linux/rwsem.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/uuid.h>
#include <linux/vfio.h>
#include <linux/xarray.h>

/*
 * The device file is split into one window per region; the region index
 * lives in the bits above VFIO_PCI_OFFSET_SHIFT of the file offset.
 */
#define VFIO_PCI_OFFSET_SHIFT	40
#define VFIO_PCI_OFFSET_MASK	((1ULL << VFIO_PCI_OFFSET_SHIFT) - 1)
#define VFIO_PCI_OFFSET_TO_INDEX(off)	((off) >> VFIO_PCI_OFFSET_SHIFT)
#define VFIO_PCI_INDEX_TO_OFFSET(index)	((u64)(index) << VFIO_PCI_OFFSET_SHIFT)

struct vfio_pci_core_device;
struct vfio_pci_region;
struct vfio_pci_config_state;
struct vfio_pci_vf_token;
struct vfio_pci_intx;

/**
 * struct vfio_pci_regops - callbacks of a device-specific region
 * @mmap: map the region; NULL if the region cannot be mapped.
 * @rw: read or write @count bytes at *@ppos (the full file offset).
 * @add_capability: append region-info capabilities for the region.
 * @release: free what @data points to when the device is released.
 */
struct vfio_pci_regops {
	int (*mmap)(struct vfio_pci_core_device *vdev,
		    struct vfio_pci_region *region, struct vm_area_struct *vma);
	ssize_t (*rw)(struct vfio_pci_core_device *vdev, char __user *buf,
		      size_t count, loff_t *ppos, bool iswrite);
	int (*add_capability)(struct vfio_pci_core_device *vdev,
			      struct vfio_pci_region *region,
			      struct vfio_info_cap *caps);
	void (*release)(struct vfio_pci_core_device *vdev,
			struct vfio_pci_region *region);
};

/**
 * struct vfio_pci_region - a region beyond the fixed VFIO_PCI_*_REGION_INDEX
 * @size: size in bytes reported to the user
 * @flags: VFIO_REGION_INFO_FLAG_* reported to the user
 * @type: VFIO_REGION_TYPE_* reported in the region type capability
 * @subtype: VFIO_REGION_SUBTYPE_* reported in the region type capability
 * @ops: how the region is accessed
 * @data: owner's private data, passed back through @ops
 */
struct vfio_pci_region {
	size_t				size;
	u32				flags;
	u32				type;
	u32				subtype;
	const struct vfio_pci_regops	*ops;
	void				*data;
};

/**
 * struct vfio_pci_core_device - state vfio-pci-core keeps for one device
 * @vdev: the vfio device; a variant embeds this structure and reaches its
 *	own one through container_of() on it
 * @pdev: the PCI function
 * @barmap: iomap of each BAR, made on first use by
 *	vfio_pci_core_setup_barmap(), released at last close
 * @bar_mmap_supported: which BARs the user may mmap, decided at open
 * @mmap_pad: resource reserving the rest of the page behind a sub-page BAR
 * @igate: serialises changes of the interrupt setup
 * @irqlock: taken by the INTx hard-irq handler against masking from
 *	process context
 * @irq_type: the VFIO_PCI_*_IRQ_INDEX enabled, or VFIO_PCI_NUM_IRQS for none
 * @ctx: per-vector interrupt contexts, indexed by vector
 * @intx: INTx state while INTx is enabled
 * @err_trigger: eventfd signalled on an AER error
 * @req_trigger: eventfd signalled when the host wants the device back
 * @cfg: the virtual config space, from open to last close
 * @region: device-specific regions added by
 *	vfio_pci_core_register_dev_region()
 * @num_regions: how many of them
 * @memory_lock: held for read around accesses that need memory decode,
 *	for write while decode, power state or reset change
 * @rom_lock: serialises the mappings of the expansion ROM
 * @rom_size: size of the ROM region: the ROM BAR's, if it held an image
 *	when the device was opened, else 0
 * @msi_qmax: number of MSI vectors the device has
 * @msix_bar: BAR holding the MSI-X table, 0xff without MSI-X
 * @msix_size: size of the MSI-X table in bytes
 * @msix_offset: offset of the MSI-X table in its BAR
 * @pci_2_3: INTx can be masked through COMMAND.INTX_DISABLE
 * @nointx: the device offers no INTx to the user
 * @reset_works: the function can be reset on its own
 * @has_vga: the user gets the legacy VGA region
 * @has_dyn_msix: MSI-X vectors can be added while MSI-X is enabled
 * @disable_idle_d3: the device stays in D0 while nobody uses it
 * @needs_reset: reset the device set once it is idle, since this function
 *	could not be reset on its own at last close
 * @pci_saved_state: config state saved at open, restored at last close
 * @vf_token: the VF token of a PF with SR-IOV
 * @sriov_pf_core_dev: the PF of a VF, when a vfio-pci-core driver owns it
 * @nb: bus notifier of a PF, to set driver_override on its new VFs
 * @sriov_pfs_item: entry in the list of PFs with such a notifier
 * @sriov_active: the PF has VFs enabled
 * @pm_wake_eventfd_ctx: eventfd signalled when a device in user-requested
 *	low-power mode wakes up
 * @pm_save: config state of a NoSoftRst- function while it is in D3hot
 * @pm_runtime_engaged: the user asked for low-power mode
 * @pm_access_sem: held for read by region reads and writes that rely on the
 *	open file's usage count to keep the device awake, for write while the
 *	user engages low-power mode (see vfio_pci_power_access_begin())
 * @needs_pm_restore: the function loses its config state in D3hot
 * @ioeventfds_lock: protects @ioeventfds_list and @ioeventfds_nr
 * @ioeventfds_list: registered VFIO_DEVICE_IOEVENTFDs
 * @ioeventfds_nr: how many of them
 *
 * Variant drivers may read @vdev, @pdev, @barmap and @irq_type; everything
 * else belongs to the core.
 */
struct vfio_pci_core_device {
	/* Must stay first: vfio_alloc_device() checks the offset. */
	struct vfio_device		vdev;
	struct pci_dev			*pdev;

	/*
	 * iomaps of the BARs, created on first use by
	 * vfio_pci_core_setup_barmap() and kept until the device is disabled.
	 */
	void __iomem			*barmap[PCI_STD_NUM_BARS];
	bool				bar_mmap_supported[PCI_STD_NUM_BARS];
	/* Rest of the page behind a sub-page BAR, reserved while mappable. */
	struct resource			*mmap_pad[PCI_STD_NUM_BARS];

	/*
	 * Interrupt configuration.  @igate serialises every change of
	 * @irq_type and the per-vector contexts in @ctx (SET_IRQS, the config
	 * space MSI/INTx bits, reset and close).  @irqlock is the spinlock the
	 * INTx hard-irq handler takes against masking from process context.
	 */
	struct mutex			igate;		/* see above */
	spinlock_t			irqlock;	/* see above */
	int				irq_type;
	struct xarray			ctx;
	struct vfio_pci_intx		*intx;
	struct eventfd_ctx __rcu	*err_trigger;
	struct eventfd_ctx __rcu	*req_trigger;

	/* Virtualized configuration space, see vfio_pci_config.c. */
	struct vfio_pci_config_state	*cfg;

	/* Device-specific regions added by vfio_pci_core_register_dev_region(). */
	struct vfio_pci_region		*region;
	int				num_regions;

	/*
	 * @memory_lock is held for read around every access that relies on
	 * memory decode being enabled (BAR access, mmap faults) and for write
	 * while memory decode is being turned off or the device is reset.
	 */
	struct rw_semaphore		memory_lock;

	/*
	 * The expansion ROM, see vfio_pci_rdwr.c.  @rom_size is what the ROM
	 * region reports: the ROM BAR's size if it held a valid image when
	 * the device was opened, else 0.  @rom_lock serialises every mapping
	 * of the ROM: unmapping it turns the ROM BAR's decode off, under any
	 * other reader too.  Taken before @memory_lock.
	 */
	struct mutex			rom_lock;
	size_t				rom_size;

	/* Capabilities found at enable time. */
	u8				msi_qmax;
	u8				msix_bar;
	u16				msix_size;
	u32				msix_offset;
	bool				pci_2_3;
	bool				nointx;
	bool				reset_works;
	bool				has_vga;
	bool				has_dyn_msix;
	bool				disable_idle_d3;
	bool				needs_reset;

	/* State saved at open and restored at last close. */
	struct pci_saved_state		*pci_saved_state;

	/*
	 * SR-IOV bookkeeping, see vfio_pci_sriov.c.  @sriov_active changes
	 * under @memory_lock held for write.
	 */
	struct vfio_pci_vf_token	*vf_token;
	struct vfio_pci_core_device	*sriov_pf_core_dev;
	struct notifier_block		nb;
	struct list_head		sriov_pfs_item;
	bool				sriov_active;

	/*
	 * Power management, see vfio_pci_power.c.  Everything here except
	 * @needs_pm_restore (set at register time) and @pm_access_sem is
	 * protected by @memory_lock held for write.  @pm_runtime_engaged is
	 * also read under @pm_access_sem held for read, and only becomes true
	 * with it held for write.
	 */
	struct eventfd_ctx		*pm_wake_eventfd_ctx;
	struct pci_saved_state		*pm_save;
	bool				pm_runtime_engaged;
	bool				needs_pm_restore;
	struct percpu_rw_semaphore	pm_access_sem;

	/* VFIO_DEVICE_IOEVENTFD registrations, under @ioeventfds_lock. */
	struct mutex			ioeventfds_lock;
	struct list_head		ioeventfds_list;
	int				ioeventfds_nr;
};

/**
 * enum vfio_pci_io_width - widest access vfio_pci_core_do_io_rw() may use
 * @VFIO_PCI_IO_WIDTH_1: bytes only
 * @VFIO_PCI_IO_WIDTH_2: up to 16 bits
 * @VFIO_PCI_IO_WIDTH_4: up to 32 bits
 * @VFIO_PCI_IO_WIDTH_8: up to 64 bits, where the architecture has them
 */
enum vfio_pci_io_width {
	VFIO_PCI_IO_WIDTH_1 = 1,
	VFIO_PCI_IO_WIDTH_2 = 2,
	VFIO_PCI_IO_WIDTH_4 = 4,
	VFIO_PCI_IO_WIDTH_8 = 8,
};

/* Life cycle, called by the pci_driver of vfio-pci or a variant. */
int vfio_pci_core_init_dev(struct vfio_device *core_vdev);
void vfio_pci_core_release_dev(struct vfio_device *core_vdev);
int vfio_pci_core_register_device(struct vfio_pci_core_device *vdev);
void vfio_pci_core_unregister_device(struct vfio_pci_core_device *vdev);
int vfio_pci_core_sriov_configure(struct vfio_pci_core_device *vdev,
				  int nr_virtfn);
void vfio_pci_core_set_params(bool nointxmask, bool is_disable_vga,
			      bool is_disable_idle_d3);

/**
 * DOC: vfio_pci_core_err_handlers
 *
 * .. c:var:: const struct pci_error_handlers vfio_pci_core_err_handlers
 *
 *    The PCI error handlers of a driver built on the core: point
 *    ``pci_driver.err_handler`` here.  Its ``error_detected`` is
 *    vfio_pci_core_aer_err_detected().  A variant that needs
 *    ``reset_prepare`` or ``reset_done`` builds its own table and puts
 *    vfio_pci_core_aer_err_detected() in it.
 */
extern const struct pci_error_handlers vfio_pci_core_err_handlers;

/**
 * DOC: vfio_pci_core_pm_ops
 *
 * .. c:var:: const struct dev_pm_ops vfio_pci_core_pm_ops
 *
 *    The runtime PM operations of a driver built on the core: point
 *    ``pci_driver.driver.pm`` here.  They are vfio_pci_core_runtime_suspend()
 *    and vfio_pci_core_runtime_resume(); a variant with power management
 *    of its own calls those from its own operations.  The vfio core wakes
 *    a device around its ioctls only when the driver has PM operations.
 */
extern const struct dev_pm_ops vfio_pci_core_pm_ops;
int vfio_pci_core_runtime_suspend(struct device *dev);
int vfio_pci_core_runtime_resume(struct device *dev);
pci_ers_result_t vfio_pci_core_aer_err_detected(struct pci_dev *pdev,
						pci_channel_state_t state);

/* Building blocks of open_device/close_device. */
int vfio_pci_core_enable(struct vfio_pci_core_device *vdev);
void vfio_pci_core_finish_enable(struct vfio_pci_core_device *vdev);
void vfio_pci_core_disable(struct vfio_pci_core_device *vdev);
void vfio_pci_core_close_device(struct vfio_device *core_vdev);

/* vfio_device_ops entry points. */
ssize_t vfio_pci_core_read(struct vfio_device *core_vdev, char __user *buf,
			   size_t count, loff_t *ppos);
ssize_t vfio_pci_core_write(struct vfio_device *core_vdev,
			    const char __user *buf, size_t count,
			    loff_t *ppos);
int vfio_pci_core_mmap(struct vfio_device *core_vdev,
		       struct vm_area_struct *vma);
int vfio_pci_core_match(struct vfio_device *core_vdev, char *buf);
void vfio_pci_core_request(struct vfio_device *core_vdev, unsigned int count);
long vfio_pci_core_ioctl(struct vfio_device *core_vdev, unsigned int cmd,
			 unsigned long arg);
int vfio_pci_core_ioctl_feature(struct vfio_device *device, u32 flags,
				void __user *arg, size_t argsz);

/* Regions and BAR access for variant drivers. */
int vfio_pci_core_register_dev_region(struct vfio_pci_core_device *vdev,
				      unsigned int type, unsigned int subtype,
				      const struct vfio_pci_regops *ops,
				      size_t size, u32 flags, void *data);
int vfio_pci_core_setup_barmap(struct vfio_pci_core_device *vdev, int bar);
int vfio_pci_config_virtualize(struct vfio_pci_core_device *vdev,
			       unsigned int pos, unsigned int size, u32 val);
ssize_t vfio_pci_core_do_io_rw(struct vfio_pci_core_device *vdev,
			       bool test_mem, void __iomem *io,
			       char __user *buf, loff_t off, size_t count,
			       size_t x_start, size_t x_end, bool iswrite,
			       enum vfio_pci_io_width max_width);
bool
vfio_pci_core_range_intersect_range(loff_t buf_start, size_t buf_cnt,
				    loff_t reg_start, size_t reg_cnt,
				    loff_t *buf_offset, size_t *intersect_count,
				    size_t *register_offset);

int vfio_pci_core_ioread8(struct vfio_pci_core_device *vdev, bool test_mem,
			  u8 *val, void __iomem *io);
int vfio_pci_core_ioread16(struct vfio_pci_core_device *vdev, bool test_mem,
			   u16 *val, void __iomem *io);
int vfio_pci_core_ioread32(struct vfio_pci_core_device *vdev, bool test_mem,
			   u32 *val, void __iomem *io);
int vfio_pci_core_iowrite8(struct vfio_pci_core_device *vdev, bool test_mem,
			   u8 val, void __iomem *io);
int vfio_pci_core_iowrite16(struct vfio_pci_core_device *vdev, bool test_mem,
			    u16 val, void __iomem *io);
int vfio_pci_core_iowrite32(struct vfio_pci_core_device *vdev, bool test_mem,
			    u32 val, void __iomem *io);
#ifdef ioread64
int vfio_pci_core_ioread64(struct vfio_pci_core_device *vdev, bool test_mem,
			   u64 *val, void __iomem *io);
#endif
#ifdef iowrite64
int vfio_pci_core_iowrite64(struct vfio_pci_core_device *vdev, bool test_mem,
			    u64 val, void __iomem *io);
#endif

#endif /* VFIO_PCI_CORE_H */
