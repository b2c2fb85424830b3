/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What mlx5-vfio-pci and the mlx5 PF driver share.
 *
 * mlx5-vfio-pci moves the state of a ConnectX virtual function between
 * machines.  The state itself is produced and consumed by the device
 * firmware; the driver only frames it into a byte stream that userspace
 * (QEMU) copies from the source's data fd to the target's.  This header
 * fixes that stream's framing, which both ends must agree on whatever
 * kernel each runs, and writes down what the variant expects from
 * mlx5_core.
 */

/**
 * DOC: Stream format
 *
 * The stream is a sequence of records.  Each starts with a
 * struct mlx5_vf_mig_record_header in little-endian byte order, followed
 * by record_size bytes of payload:
 *
 * - MLX5_VF_MIG_TAG_FW_IMAGE: an opaque image of the function's state as
 *   the firmware saved it (SAVE_VHCA_STATE), to be handed unchanged to
 *   LOAD_VHCA_STATE on the target.  A pre-copy stream carries several;
 *   the target loads each one as it completes.
 * - MLX5_VF_MIG_TAG_STOP_COPY_SIZE: a little-endian u64, the size the
 *   source expects its final (stop-copy) image to take.  Sent first, and
 *   optional: a target uses it to allocate its receive buffer before the
 *   big image arrives.
 *
 * A record whose header has MLX5_VF_MIG_FLAG_OPTIONAL set may be skipped
 * by a target that does not know its tag; an unknown tag without that
 * flag makes the target refuse the stream.  The layout and the numbers
 * are the ones the upstream mlx5 variant driver uses, so a stream saved
 * by either loads on the other.
 */

/**
 * DOC: What the variant relies on from mlx5_core
 *
 * - mlx5_vf_get_core_dev(vf) returns the PF's struct mlx5_core_dev with a
 *   reference that keeps it alive until mlx5_vf_put_core_dev(); it
 *   returns NULL when the PF is not driven by mlx5_core.  The general
 *   capabilities in mdev->caps are valid for the life of that reference:
 *   "migration" (the VFs can be migrated), and in the second general set
 *   "migration_multi_load" with "migration_tracking_state" (pre-copy:
 *   saves while running, several loads) and "migration_in_chunks".
 * - The VF with index n (pci_iov_vf_id()) is vport n + 1; its vhca_id,
 *   which every migration command names, is read from its general
 *   capabilities with mlx5_vport_get_other_func_cap().
 * - mlx5_sriov_blocking_notifier_register() calls the notifier with
 *   MLX5_PF_NOTIFY_DISABLE_VF before the PF removes that VF, from a
 *   context that may sleep; after it the VF's commands fail.
 * - Commands are built with the layouts of <linux/mlx5/mlx5_ifc.h> and
 *   run with mlx5_cmd_exec(), which returns 0 or a negative errno derived
 *   from the firmware status.  SAVE_VHCA_STATE runs asynchronously
 *   through mlx5_cmd_exec_cb(): the callback may run in atomic context,
 *   gets the same errno convention, and mlx5_cmd_cleanup_async_ctx()
 *   returns only once every callback of the context has run.  A command
 *   that the firmware never answers completes with -ETIMEDOUT.
 * - Image buffers are host pages DMA-mapped for the PF (mdev->device),
 *   described to the firmware by an MTT memory key (mlx5_core_create_mkey
 *   in a protection domain from mlx5_core_alloc_pd).
 * - Function level reset of the VF returns its VHCA to running, with
 *   dirty tracking off and any saved-but-unread image dropped.
 *
 * Firmware migration states of a VHCA, and the commands moving them:
 *
 *   running --SUSPEND(initiator)--> initiator suspended   (no outbound DMA)
 *           --SUSPEND(responder)--> suspended             (fully quiet)
 *   suspended --RESUME(responder)--> initiator suspended
 *             --RESUME(initiator)--> running
 *
 * SAVE is accepted on a suspended VHCA, and on a running one once pre-copy
 * tracking is armed (set_track on the first save).  LOAD is accepted on a
 * suspended VHCA; with migration_multi_load, more than once.
 */
#ifndef _LINUX_MLX5_VFIO_PCI_H
#define _LINUX_MLX5_VFIO_PCI_H

#include <linux/bits.h>
#include <linux/types.h>

/**
 * struct mlx5_vf_mig_record_header - start of each record of the stream
 * @record_size: bytes of payload that follow the header
 * @flags: MLX5_VF_MIG_FLAG_*
 * @tag: MLX5_VF_MIG_TAG_*, what the payload is
 */
struct mlx5_vf_mig_record_header {
	__le64 record_size;
	__le32 flags;
	__le32 tag;
} __packed;

/* A target that does not know the tag may skip the record. */
#define MLX5_VF_MIG_FLAG_OPTIONAL	BIT(0)

#define MLX5_VF_MIG_TAG_FW_IMAGE	0
#define MLX5_VF_MIG_TAG_STOP_COPY_SIZE	1

#endif /* _LINUX_MLX5_VFIO_PCI_H */
