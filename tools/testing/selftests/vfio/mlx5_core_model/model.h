/* SPDX-License-Identifier: GPL-2.0 */
/*
 * mlx5_core model: TEST-ONLY.  Never load it on a machine with ConnectX
 * hardware; it drives none.
 *
 * It stands in for mlx5_core at the interface mlx5-vfio-pci uses (see
 * include/linux/mlx5/vfio_pci.h), so that the variant's live migration
 * can be tested in a VM without the hardware.  It binds, through
 * driver_override only, an SR-IOV PF (QEMU's nvme with VFs), makes the
 * PF's VFs report ConnectX VF IDs, and answers the firmware commands of
 * migration the way the firmware would, for a simulated device state
 * per VF (a buffer that changes while the VF runs).
 *
 * Files:
 *   main.c     module parameters, the PF driver, its mlx5_core_dev
 *   vf.c       VFs: SR-IOV enable/disable, their IDs, notifiers, the
 *              mlx5_vf_get_core_dev() reference
 *   flr.c      seeing a VF's function level reset
 *   vhca.c     a VF's VHCA: state buffer, dirtying, migration states
 *   image.c    SAVE and LOAD of the state as an image in an mkey
 *   mkey.c     protection domains, memory keys, DMA to image buffers
 *   cmd.c      command dispatch, statuses, async commands
 *   dma.c      frag buffers, doorbell records, UAR pages, and the registry
 *              that turns a DMA address a queue names into memory
 *   eq.c       completion vectors, async event notifiers
 *   cq.c       completion queues: CQEs, arming, completion events
 *   qp.c       queue pairs: the receive side page tracking reports into
 *   track.c    PAGE_TRACK objects and the dirty pages they record
 *   report.c   the reporting engine: dirty pages as messages and CQEs
 *   debugfs.c  observation and fault injection
 *   exp_*.c    the exported mlx5_core symbols (see Kbuild)
 */
#ifndef _MLX5_MODEL_H
#define _MLX5_MODEL_H

#include <linux/atomic.h>
#include <linux/idr.h>
#include <linux/mlx5/driver.h>
#include <linux/mutex.h>
#include <linux/notifier.h>
#include <linux/pci.h>
#include <linux/refcount.h>
#include <linux/spinlock.h>
#include <linux/workqueue.h>
#include <linux/xarray.h>

#include "model_api.h"

#define MODEL_DRV_NAME		"mlx5_core_model"
/* What the VFs report to the PCI core: a ConnectX-6 Dx VF. */
#define MODEL_VF_VENDOR		PCI_VENDOR_ID_MELLANOX
#define MODEL_VF_DEVICE		0x101e

/* Object numbers (PDs, mkeys, CQs, QPs, UARs) are 24 bits. */
#define MODEL_RES_MAX		0xffffff

/* The unit of dirtying and of images, whatever the host's PAGE_SIZE. */
#define MODEL_PAGE_SHIFT	12
#define MODEL_PAGE_SIZE		BIT(MODEL_PAGE_SHIFT)

/* Module parameters (main.c); read when a PF binds or VFs are enabled. */
extern unsigned long model_state_size;
extern unsigned int model_dirty_interval_ms;
extern bool model_multi_load;
extern bool model_tracking;
extern bool model_in_chunks;
extern unsigned int model_chunk_size;
extern unsigned int model_async_delay_ms;
extern unsigned int model_cmd_timeout_ms;
extern unsigned int model_track_max_ranges;
extern bool model_tracking_caps;

enum model_mig_state {
	MODEL_RUNNING,
	MODEL_INIT_SUSPENDED,	/* initiator suspended: no outbound DMA */
	MODEL_SUSPENDED,	/* initiator and responder suspended */
};

/* Commands counted per VF, for debugfs. */
enum model_counter {
	MODEL_CNT_SUSPEND,
	MODEL_CNT_RESUME,
	MODEL_CNT_QUERY,
	MODEL_CNT_SAVE,
	MODEL_CNT_LOAD,
	MODEL_CNT_FAILED,
	MODEL_CNT_FLR,
	MODEL_CNT_NUM,
};

struct model_pf;

/**
 * struct model_vf - one VF and its VHCA
 * @pf: the PF
 * @id: VF index (pci_iov_vf_id()); its vport is @id + 1
 * @vhca_id: @id + 1 (the PF is 0)
 * @notifier: mlx5_sriov_blocking_notifier_register() chain; has its own
 *	rwsem
 * @flr_pending: set (atomically, from the FLR kprobe) when the VF went
 *	through a function level reset not yet applied to the VHCA; the
 *	next user of @lock applies it
 * @dirty_work: changes one page of @state every dirty_interval_ms while
 *	running
 * @lock: serialises everything below; commands hold it for their whole
 *	execution, so a command is atomic with respect to the others and
 *	to the dirtying.  Taken before the PF's @res_lock.
 * @enabled: the VF exists (SR-IOV enabled with it); commands fail when
 *	it does not
 * @mig_state: migration state of the VHCA
 * @tracking: dirty tracking armed (set_track), pages dirtied are in @dirty
 * @loaded: a LOAD happened since the VHCA was last suspended
 * @chunking: a chunked SAVE is in progress, @pending holds what is left
 * @state: the simulated device state, @size bytes (a multiple of
 *	MODEL_PAGE_SIZE)
 * @size: bytes in @state
 * @npages: @size in MODEL_PAGE_SIZE pages
 * @dirty: pages changed since tracking was armed or last saved
 * @pending: pages the chunked SAVE in progress has not yet saved
 * @seq: dirtying sequence number, makes each change different
 * @counters: commands seen, per enum model_counter
 * @dbg: debugfs directory
 */
struct model_vf {
	struct model_pf *pf;
	int id;
	u16 vhca_id;
	struct blocking_notifier_head notifier;
	atomic_t flr_pending;
	struct delayed_work dirty_work;

	struct mutex lock;	/* see @lock above */
	bool enabled;
	enum model_mig_state mig_state;
	bool tracking;
	bool loaded;
	bool chunking;
	u8 *state;
	size_t size;
	unsigned long npages;
	unsigned long *dirty;
	unsigned long *pending;
	u32 seq;
	u64 counters[MODEL_CNT_NUM];
	struct dentry *dbg;
};

/* A fault debugfs "inject" arms for the next matching command. */
struct model_inject {
	int fail_opcode;	/* -1: none */
	u8 fail_status;
	int hang_opcode;	/* -1: none */
	bool corrupt_image;
	bool truncate_image;
	int track_fail_after;	/* -1: none */
};

/* A queue's buffer: the kernel address of each of its pages. */
struct model_qbuf {
	u64 *dma;
	void **va;
	unsigned int npages;
	unsigned int shift;
};

/**
 * struct model_pf - the PF and what the model's "firmware" keeps for it
 * @mdev: what mlx5_vf_get_core_dev() hands out (first, so that the two
 *	convert with container_of)
 * @pdev: the PF
 * @users: 1 for the binding, plus one per mlx5_vf_get_core_dev()
 * @unused: completed when @users drops to 0, at unbind
 * @going: unbind started, mlx5_vf_get_core_dev() returns NULL
 * @wq: runs the async commands
 * @total_vfs: entries of @vfs
 * @vfs: all VFs the PF can have, allocated at probe so that a VF pointer
 *	stays valid for the PF's life
 * @sriov_lock: serialises enabling and disabling SR-IOV; @num_vfs
 * @num_vfs: VFs enabled
 * @res_lock: protects @pds, @mkeys and every mkey's contents
 * @pds: protection domain numbers
 * @mkeys: mkey index -> struct model_mkey
 * @trk_lock: protects @cqs, @qps, @trackers and the objects in them
 *	(see track.h); taken before @res_lock, @inject_lock and a VF's lock
 * @cqs: CQ number -> struct model_cq
 * @qps: QP number -> struct model_qp
 * @trackers: PAGE_TRACK obj_id -> struct model_tracker
 * @dma_lock: protects @dma_chunks (a spinlock: taken under @trk_lock)
 * @dma_chunks: the DMA memory handed out (frag buffer pages, doorbells)
 * @uars: UAR index -> struct mlx5_uars_page; has its own lock
 * @eq_nbs: registered struct mlx5_nb; has its own lock, read under RCU
 * @n_frag_bufs: frag buffers allocated and not freed
 * @n_dbs: doorbell records allocated and not freed
 * @inject_lock: protects @inject (taken in any context but hardirq)
 * @inject: faults armed through debugfs
 * @dbg: debugfs directory
 */
struct model_pf {
	struct mlx5_core_dev mdev;
	struct pci_dev *pdev;
	refcount_t users;
	struct completion unused;
	bool going;
	struct workqueue_struct *wq;
	int total_vfs;
	struct model_vf *vfs;

	struct mutex sriov_lock;	/* SR-IOV changes, @num_vfs */
	int num_vfs;

	struct mutex res_lock;		/* @pds, @mkeys, mkey contents */
	struct ida pds;
	struct xarray mkeys;

	struct mutex trk_lock;		/* see @trk_lock above */
	struct xarray cqs;
	struct xarray qps;
	struct xarray trackers;

	spinlock_t dma_lock;		/* @dma_chunks */
	struct list_head dma_chunks;
	struct xarray uars;
	struct xarray eq_nbs;
	atomic_t n_frag_bufs;
	atomic_t n_dbs;

	spinlock_t inject_lock;	/* @inject; _bh, any context */
	struct model_inject inject;

	struct dentry *dbg;
};

static inline struct model_pf *model_pf_of(struct mlx5_core_dev *mdev)
{
	return container_of(mdev, struct model_pf, mdev);
}

/* main.c */
bool model_drives(struct pci_dev *pdev);
struct model_pf *model_pf_of_vf(struct pci_dev *vf);

/* vf.c */
int model_vfs_alloc(struct model_pf *pf);
void model_vfs_free(struct model_pf *pf);
int model_sriov_configure(struct pci_dev *pdev, int num_vfs);
int model_bus_notifier_register(void);
void model_bus_notifier_unregister(void);

/* flr.c */
int model_flr_watch_start(void);
void model_flr_watch_stop(void);

/* vhca.c */
int model_vhca_enable(struct model_vf *vf);
void model_vhca_disable(struct model_vf *vf);
void model_vhca_lock(struct model_vf *vf);
void model_vhca_dirty_page(struct model_vf *vf, unsigned long page);
u32 model_vhca_digest(struct model_vf *vf);
u8 model_vhca_suspend(struct model_vf *vf, u16 op_mod);
u8 model_vhca_resume(struct model_vf *vf, u16 op_mod);
const char *model_mig_state_name(enum model_mig_state state);

/* image.c */
u8 model_image_query(struct model_vf *vf, const void *in, void *out);
u8 model_image_save(struct model_vf *vf, const void *in, void *out);
u8 model_image_load(struct model_vf *vf, const void *in);
size_t model_image_size(unsigned long npages);
u32 model_crc32(u32 crc, const void *p, size_t len);

/* mkey.c */
void model_res_init(struct model_pf *pf);
void model_res_destroy(struct model_pf *pf);
u8 model_mkey_copy(struct model_pf *pf, u32 mkey, u64 va, u64 len,
		   void *buf, size_t off, size_t n, bool to_mkey);
u8 model_cmd_alloc_pd(struct model_pf *pf, void *out);
u8 model_cmd_dealloc_pd(struct model_pf *pf, const void *in);
u8 model_cmd_create_mkey(struct model_pf *pf, const void *in, int inlen,
			 void *out);
u8 model_cmd_destroy_mkey(struct model_pf *pf, const void *in);
unsigned int model_mkey_count(struct model_pf *pf);
bool model_pd_valid(struct model_pf *pf, u32 pd);

/* dma.c */
void model_dma_init(struct model_pf *pf);
void model_dma_destroy(struct model_pf *pf);
void *model_dma_hold(struct model_pf *pf, u64 dma, u64 len);
void model_dma_put(struct model_pf *pf, u64 dma);
u8 model_qbuf_map(struct model_pf *pf, struct model_qbuf *q,
		  const __be64 *pas, unsigned int npages, unsigned int shift);
void model_qbuf_unmap(struct model_pf *pf, struct model_qbuf *q);
void *model_qbuf_at(struct model_qbuf *q, size_t off);
bool model_uar_exists(struct model_pf *pf, u32 index);
unsigned int model_uar_count(struct model_pf *pf);

/* eq.c */
void model_eq_init(struct model_pf *pf);
void model_eq_destroy(struct model_pf *pf);
void model_eq_object_change(struct model_pf *pf, u16 type, u32 id);
bool model_comp_eqn_valid(u32 eqn);
unsigned int model_eq_nb_count(struct model_pf *pf);

/* cq.c */
u8 model_cmd_create_cq(struct model_pf *pf, const void *in, int inlen,
		       void *out, struct mlx5_core_cq *core);
u8 model_cmd_destroy_cq(struct model_pf *pf, const void *in);
void model_cqs_destroy(struct model_pf *pf);
unsigned int model_cq_count(struct model_pf *pf);

/* qp.c */
u8 model_cmd_create_qp(struct model_pf *pf, const void *in, int inlen,
		       void *out);
u8 model_cmd_destroy_qp(struct model_pf *pf, const void *in);
u8 model_cmd_qp_arc(struct model_pf *pf, u16 opcode, const void *in);
void model_qps_destroy(struct model_pf *pf);
unsigned int model_qp_count(struct model_pf *pf);

/* track.c */
struct seq_file;
struct model_tracker;
void model_track_init(struct model_pf *pf);
void model_track_destroy(struct model_pf *pf);
u8 model_cmd_general_obj(struct model_pf *pf, u16 opcode, const void *in,
			 int inlen, void *out, int outlen);
u64 model_dirty_take(struct model_tracker *trk, u64 from, u64 end,
		     bool clear);
int model_vf_dma_write(struct model_vf *vf, u64 iova, u64 len, int byte);
int model_track_dma_write(struct model_pf *pf, u16 vhca_id, u64 iova,
			  u64 len);
void model_track_fail_all(struct model_pf *pf, u16 vhca_id);
void model_track_show(struct model_pf *pf, u16 vhca_id, struct seq_file *s);
unsigned int model_track_count(struct model_pf *pf);

/* cmd.c */
int model_status_to_errno(u8 status);

/* debugfs.c */
void model_debugfs_init(void);
void model_debugfs_exit(void);
void model_debugfs_pf_add(struct model_pf *pf);
void model_debugfs_pf_remove(struct model_pf *pf);
void model_debugfs_vf_add(struct model_vf *vf);
void model_debugfs_vf_remove(struct model_vf *vf);

#endif /* _MLX5_MODEL_H */
