// SPDX-License-Identifier: GPL-2.0-only
/*
 * The migration data files of mlx5-vfio-pci.
 *
 * Saving: the firmware writes images of the VF's state into host buffers
 * asynchronously; each finished image becomes a record of the stream
 * (include/linux/mlx5/vfio_pci.h) on a queue that read() drains.  A
 * pre-copy session starts with the whole state while the VF runs, then
 * adds what changed each time userspace asks for the pre-copy info and
 * has read everything; the stop-copy image ends the stream.  With chunked
 * saves a large image arrives as several records, each freed once read,
 * so the state is never held twice.
 *
 * Resuming: write() takes the stream in any segmentation, collects each
 * image record into a buffer and loads it as soon as it is complete.
 *
 * A session ends (mlx5vf_save_end/mlx5vf_resume_end) when the migration
 * state leaves its data state, on reset, and when the device closes: its
 * firmware resources are released then, and the file, which userspace may
 * still hold, only reports that the session is over.  A file pins the
 * memory of its device (not the device's binding) so that a late ioctl
 * finds the session over instead of freed memory.
 */
#include <linux/anon_inodes.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/poll.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "mlx5_vfio.h"

#define MLX5VF_HDR_LEN	sizeof(struct mlx5_vf_mig_record_header)

/* The LOAD and SAVE commands carry a 32-bit size. */
#define MLX5VF_MAX_IMAGE	U32_MAX

/**
 * struct mlx5vf_record - one record of a stream being saved
 * @node: in mlx5vf_save_file.ready
 * @hdr: the record's header, read before the payload
 * @len: header plus payload bytes
 * @pos: bytes of @len already read
 * @initial: part of the image a pre-copy session starts with
 * @buf: the payload of an image record
 * @value: the payload of a stop-copy size record
 */
struct mlx5vf_record {
	struct list_head node;
	struct mlx5_vf_mig_record_header hdr;
	size_t len;
	size_t pos;
	bool initial;
	struct mlx5vf_buf buf;
	__le64 value;
};

/**
 * struct mlx5vf_save_file - the file a state is read from
 * @filp: the file
 * @mvdev: its device
 * @lock: protects the fields below it; nests inside mvdev->state_lock
 * @wq: readers and the stop-copy arc wait here for the firmware
 * @ready: finished records, in stream order
 * @actx: the session's asynchronous command context
 * @cmd: the save command in flight, if @in_flight
 * @in_flight: the record the firmware is writing, NULL if none
 * @incremental: @in_flight holds what changed since the last save
 * @next_chunk: bytes of the chunk the firmware would hand out next
 * @pdn: protection domain of the session's buffers
 * @precopy: the session started in PRE_COPY
 * @final: the stop-copy image was asked for
 * @complete: nothing more will be queued
 * @ended: the session is over, its buffers are gone
 * @error: a save failed: every later read returns it
 * @initial_done: the whole initial image is queued
 * @initial_total: bytes of initial data, an estimate until @initial_done
 * @initial_read: initial bytes read so far
 * @initial_left: initial bytes last reported, which may only go down
 */
struct mlx5vf_save_file {
	struct file *filp;
	struct mlx5vf_device *mvdev;
	struct mutex lock; /* see above */
	wait_queue_head_t wq;
	struct list_head ready;
	struct mlx5_async_ctx actx;
	struct mlx5vf_save_cmd cmd;
	struct mlx5vf_record *in_flight;
	bool incremental;
	size_t next_chunk;
	u32 pdn;
	bool precopy;
	bool final;
	bool complete;
	bool ended;
	int error;
	bool initial_done;
	u64 initial_total;
	u64 initial_read;
	u64 initial_left;
};

/* Phases of a resume stream's parser. */
enum mlx5vf_resume_phase {
	MLX5VF_RESUME_HEADER,	/* collecting a record header */
	MLX5VF_RESUME_IMAGE,	/* collecting an image into @buf */
	MLX5VF_RESUME_VALUE,	/* collecting a stop-copy size */
	MLX5VF_RESUME_SKIP,	/* passing over an optional record */
};

/**
 * struct mlx5vf_resume_file - the file a state is written to
 * @filp: the file
 * @mvdev: its device
 * @lock: protects the fields below it; nests inside mvdev->state_lock
 * @pdn: protection domain of @buf
 * @phase: what the next bytes written are
 * @hdr: the header of the current record
 * @got: bytes of the current header or payload received
 * @value: the payload of a stop-copy size record
 * @buf: the image being received; kept for the next image if it fits
 * @images: images loaded so far
 * @ended: the session is over
 * @error: a write failed: the stream is broken
 */
struct mlx5vf_resume_file {
	struct file *filp;
	struct mlx5vf_device *mvdev;
	struct mutex lock; /* see above */
	u32 pdn;
	enum mlx5vf_resume_phase phase;
	struct mlx5_vf_mig_record_header hdr;
	u64 got;
	__le64 value;
	struct mlx5vf_buf buf;
	unsigned int images;
	bool ended;
	int error;
};

/* ---- saving ----------------------------------------------------------- */

static void mlx5vf_record_free(struct mlx5vf_device *mvdev,
			       struct mlx5vf_record *rec)
{
	mlx5vf_buf_free(mvdev, &rec->buf);
	kfree(rec);
}

static void mlx5vf_record_queue(struct mlx5vf_save_file *save,
				struct mlx5vf_record *rec, u32 tag,
				u64 payload)
{
	rec->hdr.record_size = cpu_to_le64(payload);
	rec->hdr.flags = cpu_to_le32(tag == MLX5_VF_MIG_TAG_STOP_COPY_SIZE ?
				     MLX5_VF_MIG_FLAG_OPTIONAL : 0);
	rec->hdr.tag = cpu_to_le32(tag);
	rec->len = MLX5VF_HDR_LEN + payload;
	list_add_tail(&rec->node, &save->ready);
}

/* Start saving the next image (or chunk of one) of @size bytes. */
static int mlx5vf_save_start(struct mlx5vf_save_file *save, size_t size,
			     bool incremental, bool track, bool initial)
{
	struct mlx5vf_device *mvdev = save->mvdev;
	struct mlx5vf_record *rec;
	int ret;

	lockdep_assert_held(&save->lock);
	if (size > MLX5VF_MAX_IMAGE)
		return -EOVERFLOW;
	rec = kzalloc(sizeof(*rec), GFP_KERNEL_ACCOUNT);
	if (!rec)
		return -ENOMEM;
	ret = mlx5vf_buf_alloc(mvdev, save->pdn, size, DMA_FROM_DEVICE,
			       GFP_KERNEL_ACCOUNT, &rec->buf);
	if (ret)
		goto free;
	rec->initial = initial;
	WRITE_ONCE(save->in_flight, rec);
	save->incremental = incremental;
	ret = mlx5vf_fw_save(mvdev, &save->actx, &rec->buf, incremental,
			     track, &save->cmd);
	if (ret) {
		WRITE_ONCE(save->in_flight, NULL);
		goto free;
	}
	return 0;

free:
	mlx5vf_record_free(mvdev, rec);
	return ret;
}

/* The firmware answered the save of save->in_flight. */
static void mlx5vf_save_done(struct work_struct *work)
{
	struct mlx5vf_save_file *save =
		container_of(work, struct mlx5vf_save_file, cmd.done);
	struct mlx5vf_device *mvdev = save->mvdev;
	struct mlx5vf_record *rec;
	size_t len, next;
	bool initial;
	int ret;

	mutex_lock(&save->lock);
	/*
	 * in_flight goes straight from this record to the next chunk's, or
	 * to NULL: waiters look at it without the lock.
	 */
	rec = save->in_flight;
	if (!rec)
		goto drop;
	ret = save->cmd.status;
	if (!ret) {
		mlx5vf_fw_save_result(&save->cmd, &len, &next);
		if (!mvdev->chunks)
			next = 0;
		save->next_chunk = next;
	}
	if (save->ended)
		goto drop;
	if (ret)
		goto fail;
	if (len > mlx5vf_buf_size(&rec->buf)) {
		/* The firmware claims more than it could have written. */
		ret = -EIO;
		goto fail;
	}
	initial = rec->initial;
	if (len) {
		mlx5vf_record_queue(save, rec, MLX5_VF_MIG_TAG_FW_IMAGE, len);
		rec = NULL;
	}
	if (next) {
		/* The rest of the same image, without re-arming tracking. */
		ret = mlx5vf_save_start(save, next, save->incremental, false,
					initial);
		if (ret)
			goto fail;
		goto unlock;
	}
	if (save->final)
		save->complete = true;
	else if (initial)
		save->initial_done = true;
	goto drop;

fail:
	WRITE_ONCE(save->error, ret);
drop:
	WRITE_ONCE(save->in_flight, NULL);
	if (rec)
		mlx5vf_record_free(mvdev, rec);
unlock:
	mutex_unlock(&save->lock);
	wake_up_all(&save->wq);
}

/* Initial bytes still to read; never more than reported before. */
static u64 mlx5vf_initial_left(struct mlx5vf_save_file *save)
{
	u64 left;

	if (save->initial_done) {
		struct mlx5vf_record *rec;

		left = 0;
		list_for_each_entry(rec, &save->ready, node)
			if (rec->initial)
				left += rec->len - rec->pos;
	} else {
		left = save->initial_total > save->initial_read ?
		       save->initial_total - save->initial_read : 0;
	}
	save->initial_left = min(save->initial_left, left);
	return save->initial_left;
}

/* Bytes of what changed since the initial image, queued or being saved. */
static u64 mlx5vf_dirty_queued(struct mlx5vf_save_file *save)
{
	struct mlx5vf_record *rec;
	u64 bytes = 0;

	list_for_each_entry(rec, &save->ready, node)
		if (!rec->initial)
			bytes += rec->len - rec->pos;
	if (save->in_flight && !save->in_flight->initial)
		bytes += MLX5VF_HDR_LEN + mlx5vf_buf_size(&save->in_flight->buf);
	return bytes;
}

/*
 * Pre-copy: once userspace has read everything, save what changed so it
 * has something to read, and tell it how much that is.
 */
static int mlx5vf_precopy_refill(struct mlx5vf_save_file *save, u64 *dirty)
{
	size_t next;
	u64 total;
	int ret;

	*dirty = mlx5vf_dirty_queued(save);
	if (*dirty || !save->initial_done || save->in_flight ||
	    !list_empty(&save->ready))
		return 0;
	ret = mlx5vf_fw_query_size(save->mvdev, MLX5VF_QUERY_INCREMENTAL,
				   &next, &total);
	if (ret || !next)
		return ret;
	ret = mlx5vf_save_start(save, next, true, false, false);
	if (ret)
		return ret;
	*dirty = MLX5VF_HDR_LEN + total;
	return 0;
}

static long mlx5vf_precopy_info(struct mlx5vf_save_file *save,
				unsigned long arg)
{
	struct mlx5vf_device *mvdev = save->mvdev;
	struct vfio_precopy_info info = {};
	unsigned long minsz;
	u64 dirty = 0;
	int ret;

	minsz = offsetofend(struct vfio_precopy_info, dirty_bytes);
	if (copy_from_user(&info, (void __user *)arg, minsz))
		return -EFAULT;
	if (info.argsz < minsz)
		return -EINVAL;

	mutex_lock(&mvdev->state_lock);
	if (mvdev->save != save ||
	    (mvdev->mig_state != VFIO_DEVICE_STATE_PRE_COPY &&
	     mvdev->mig_state != VFIO_DEVICE_STATE_PRE_COPY_P2P)) {
		ret = -EINVAL;
		goto unlock;
	}
	mutex_lock(&save->lock);
	ret = save->error;
	if (!ret)
		ret = mlx5vf_precopy_refill(save, &dirty);
	if (ret)
		WRITE_ONCE(save->error, ret);
	info.initial_bytes = mlx5vf_initial_left(save);
	info.dirty_bytes = dirty;
	mutex_unlock(&save->lock);
unlock:
	mlx5vf_state_unlock(mvdev);
	if (ret)
		return ret;
	return copy_to_user((void __user *)arg, &info, minsz) ? -EFAULT : 0;
}

static long mlx5vf_save_ioctl(struct file *filp, unsigned int cmd,
			      unsigned long arg)
{
	if (cmd != VFIO_MIG_GET_PRECOPY_INFO)
		return -ENOTTY;
	return mlx5vf_precopy_info(filp->private_data, arg);
}

/* Copy from the head record; frees it once read.  Returns bytes or errno. */
static ssize_t mlx5vf_read_record(struct mlx5vf_save_file *save,
				  struct mlx5vf_record *rec,
				  char __user *ubuf, size_t len)
{
	size_t n = min(len, rec->len - rec->pos);
	size_t done = 0;
	int ret;

	if (rec->pos < MLX5VF_HDR_LEN) {
		done = min(n, MLX5VF_HDR_LEN - rec->pos);
		if (copy_to_user(ubuf, (u8 *)&rec->hdr + rec->pos, done))
			return -EFAULT;
	}
	if (done < n) {
		size_t off = rec->pos + done - MLX5VF_HDR_LEN;

		if (rec->buf.pages)
			ret = mlx5vf_buf_to_user(&rec->buf, off, ubuf + done,
						 n - done);
		else if (off + n - done <= sizeof(rec->value))
			ret = copy_to_user(ubuf + done, (u8 *)&rec->value + off,
					   n - done) ? -EFAULT : 0;
		else
			ret = -EIO;
		if (ret)
			return ret;
	}
	rec->pos += n;
	if (rec->initial)
		save->initial_read += n;
	if (rec->pos == rec->len) {
		list_del(&rec->node);
		mlx5vf_record_free(save->mvdev, rec);
	}
	return n;
}

/*
 * Why nothing can be read now: 0 at the end of the stream, -ENOMSG at a
 * temporary end of a pre-copy, -EAGAIN while the firmware works.
 */
static int mlx5vf_read_empty(struct mlx5vf_save_file *save)
{
	if (save->ended)
		return -ENODEV;
	if (save->error)
		return save->error;
	if (save->in_flight)
		return -EAGAIN;
	if (save->complete)
		return 0;
	if (!save->final)
		return -ENOMSG;
	/* The stop-copy arc is about to start the final save. */
	return -EAGAIN;
}

/*
 * Wait conditions: they run in a sleeping task's non-running state, so
 * they read without the lock, and callers check again under it.
 */

/* Worth a look for a reader: something may have changed. */
static bool mlx5vf_readable(struct mlx5vf_save_file *save)
{
	return !list_empty_careful(&save->ready) ||
	       !READ_ONCE(save->in_flight) || READ_ONCE(save->ended) ||
	       READ_ONCE(save->error);
}

/* No save in flight: the firmware is done with the session's buffers. */
static bool mlx5vf_save_idle(struct mlx5vf_save_file *save)
{
	return !READ_ONCE(save->in_flight) || READ_ONCE(save->ended);
}

static ssize_t mlx5vf_save_read(struct file *filp, char __user *ubuf,
				size_t len, loff_t *pos)
{
	struct mlx5vf_save_file *save = filp->private_data;
	ssize_t copied = 0, ret = 0;

	if (pos)
		return -ESPIPE;

	mutex_lock(&save->lock);
	while (len) {
		struct mlx5vf_record *rec;

		if (save->ended || save->error) {
			ret = save->ended ? -ENODEV : save->error;
			break;
		}
		rec = list_first_entry_or_null(&save->ready,
					       struct mlx5vf_record, node);
		if (!rec) {
			ret = mlx5vf_read_empty(save);
			if (ret != -EAGAIN || copied ||
			    (filp->f_flags & O_NONBLOCK))
				break;
			mutex_unlock(&save->lock);
			if (wait_event_interruptible(save->wq,
						     mlx5vf_readable(save)))
				return -ERESTARTSYS;
			mutex_lock(&save->lock);
			continue;
		}
		ret = mlx5vf_read_record(save, rec, ubuf, len);
		if (ret < 0)
			break;
		copied += ret;
		ubuf += ret;
		len -= ret;
		ret = 0;
	}
	mutex_unlock(&save->lock);
	return copied ? copied : ret;
}

static __poll_t mlx5vf_save_poll(struct file *filp, poll_table *wait)
{
	struct mlx5vf_save_file *save = filp->private_data;
	__poll_t mask = 0;

	poll_wait(filp, &save->wq, wait);
	mutex_lock(&save->lock);
	if (save->ended || save->error)
		mask = EPOLLERR;
	else if (!list_empty(&save->ready) ||
		 mlx5vf_read_empty(save) != -EAGAIN)
		mask = EPOLLIN | EPOLLRDNORM;
	mutex_unlock(&save->lock);
	return mask;
}

static int mlx5vf_save_release(struct inode *inode, struct file *filp)
{
	struct mlx5vf_save_file *save = filp->private_data;

	/* The device held a reference until the session ended. */
	WARN_ON(!save->ended);
	put_device(&save->mvdev->core.vdev.device);
	mutex_destroy(&save->lock);
	kfree(save);
	return 0;
}

static const struct file_operations mlx5vf_save_fops = {
	.owner = THIS_MODULE,
	.read = mlx5vf_save_read,
	.poll = mlx5vf_save_poll,
	.unlocked_ioctl = mlx5vf_save_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.release = mlx5vf_save_release,
};

/* The first record: how big the stop-copy image will be, at most. */
static int mlx5vf_queue_stop_copy_size(struct mlx5vf_save_file *save,
				       u64 size)
{
	struct mlx5vf_record *rec;

	rec = kzalloc(sizeof(*rec), GFP_KERNEL_ACCOUNT);
	if (!rec)
		return -ENOMEM;
	rec->value = cpu_to_le64(size);
	rec->initial = save->precopy;
	mlx5vf_record_queue(save, rec, MLX5_VF_MIG_TAG_STOP_COPY_SIZE,
			    sizeof(rec->value));
	return 0;
}

/* Bytes the stream spends on an image of @total bytes saved @next at once. */
static u64 mlx5vf_stream_bytes(size_t next, u64 total)
{
	u64 records = next ? DIV_ROUND_UP_ULL(total, next) : 0;

	return total + records * MLX5VF_HDR_LEN;
}

/*
 * A session that ended in the middle of a chunked image left the rest in
 * the firmware, which hands it out before anything new: take it and drop
 * it.  A save that arms tracking starts afresh and needs none of this.
 */
static int mlx5vf_drain_chunks(struct mlx5vf_save_file *save)
{
	struct mlx5vf_device *mvdev = save->mvdev;
	struct mlx5vf_buf buf = {};
	int ret = 0;

	while (mvdev->fw_next_chunk) {
		size_t size = mvdev->fw_next_chunk;

		if (!buf.pages || mlx5vf_buf_size(&buf) < size) {
			mlx5vf_buf_free(mvdev, &buf);
			memset(&buf, 0, sizeof(buf));
			ret = mlx5vf_buf_alloc(mvdev, save->pdn, size,
					       DMA_FROM_DEVICE,
					       GFP_KERNEL_ACCOUNT, &buf);
			if (ret)
				break;
		}
		ret = mlx5vf_fw_save_sync(mvdev, &buf, &mvdev->fw_next_chunk);
		if (ret)
			break;
	}
	mlx5vf_buf_free(mvdev, &buf);
	return ret;
}

/* Queue the size record and start the first image of a session. */
static int mlx5vf_save_begin(struct mlx5vf_save_file *save)
{
	size_t next;
	u64 total;
	int ret;

	if (save->precopy)
		save->mvdev->fw_next_chunk = 0;
	ret = mlx5vf_drain_chunks(save);
	if (ret)
		return ret;
	ret = mlx5vf_fw_query_size(save->mvdev, MLX5VF_QUERY_FULL, &next,
				   &total);
	if (ret)
		return ret;
	if (!next)
		return -EIO;

	mutex_lock(&save->lock);
	ret = mlx5vf_queue_stop_copy_size(save, total);
	if (ret)
		goto unlock;
	if (save->precopy) {
		save->initial_total = MLX5VF_HDR_LEN + sizeof(__le64) +
				      mlx5vf_stream_bytes(next, total);
		save->initial_left = save->initial_total;
		ret = mlx5vf_save_start(save, next, false, true, true);
	} else {
		save->final = true;
		ret = mlx5vf_save_start(save, next, false, false, false);
	}
unlock:
	mutex_unlock(&save->lock);
	return ret;
}

/**
 * mlx5vf_save_open - start a save session
 * @mvdev: the device, with its state lock held
 * @precopy: PRE_COPY (the VF runs), rather than STOP_COPY (suspended)
 *
 * Return: the data file, or an ERR_PTR.  The device keeps a reference
 * until mlx5vf_save_end().
 */
struct file *mlx5vf_save_open(struct mlx5vf_device *mvdev, bool precopy)
{
	struct mlx5vf_save_file *save;
	int ret;

	lockdep_assert_held(&mvdev->state_lock);
	save = kzalloc(sizeof(*save), GFP_KERNEL_ACCOUNT);
	if (!save)
		return ERR_PTR(-ENOMEM);
	save->mvdev = mvdev;
	save->precopy = precopy;
	mutex_init(&save->lock);
	init_waitqueue_head(&save->wq);
	INIT_LIST_HEAD(&save->ready);
	INIT_WORK(&save->cmd.done, mlx5vf_save_done);

	save->filp = anon_inode_getfile("mlx5_vf_mig_save", &mlx5vf_save_fops,
					save, O_RDONLY);
	if (IS_ERR(save->filp)) {
		ret = PTR_ERR(save->filp);
		mutex_destroy(&save->lock);
		kfree(save);
		return ERR_PTR(ret);
	}
	stream_open(save->filp->f_inode, save->filp);
	/* The ioctl reaches the device: keep its memory while the file lives. */
	get_device(&mvdev->core.vdev.device);

	ret = mlx5vf_fw_alloc_pd(mvdev, &save->pdn);
	if (ret)
		goto put_file;
	mlx5_cmd_init_async_ctx(mvdev->mdev, &save->actx);
	mvdev->save = save;
	get_file(save->filp);

	ret = mlx5vf_save_begin(save);
	if (ret) {
		mlx5vf_save_end(save);
		goto put_file;
	}
	return save->filp;

put_file:
	WRITE_ONCE(save->ended, true);
	fput(save->filp);
	return ERR_PTR(ret);
}

/**
 * mlx5vf_save_final - save the stop-copy image of a pre-copy session
 * @save: the session; the device's state lock is held and the VF suspended
 *
 * Waits for a pre-copy save still in flight, then starts the last one.
 *
 * Return: 0 or a negative errno.
 */
int mlx5vf_save_final(struct mlx5vf_save_file *save)
{
	size_t next;
	u64 total;
	int ret;

	lockdep_assert_held(&save->mvdev->state_lock);
	wait_event(save->wq, mlx5vf_save_idle(save));

	mutex_lock(&save->lock);
	save->final = true;
	ret = save->error;
	if (ret)
		goto unlock;
	ret = mlx5vf_fw_query_size(save->mvdev, MLX5VF_QUERY_INCREMENTAL,
				   &next, &total);
	if (ret)
		goto unlock;
	if (next)
		ret = mlx5vf_save_start(save, next, true, false, false);
	else
		save->complete = true;
unlock:
	if (ret)
		WRITE_ONCE(save->error, ret);
	mutex_unlock(&save->lock);
	wake_up_all(&save->wq);
	return ret;
}

/**
 * mlx5vf_save_end - end a save session and free its firmware resources
 * @save: the session; the device's state lock is held
 *
 * Readers then get -ENODEV.  Drops the device's reference to the file.
 */
void mlx5vf_save_end(struct mlx5vf_save_file *save)
{
	struct mlx5vf_device *mvdev = save->mvdev;
	struct mlx5vf_record *rec, *tmp;

	lockdep_assert_held(&mvdev->state_lock);
	mutex_lock(&save->lock);
	WRITE_ONCE(save->ended, true);
	mutex_unlock(&save->lock);
	wake_up_all(&save->wq);

	/* No new command can start now: wait for the one in flight. */
	mlx5_cmd_cleanup_async_ctx(&save->actx);
	flush_work(&save->cmd.done);

	mutex_lock(&save->lock);
	list_for_each_entry_safe(rec, tmp, &save->ready, node) {
		list_del(&rec->node);
		mlx5vf_record_free(mvdev, rec);
	}
	if (mvdev->chunks)
		mvdev->fw_next_chunk = save->next_chunk;
	mutex_unlock(&save->lock);
	mlx5vf_fw_free_pd(mvdev, save->pdn);
	mvdev->save = NULL;
	fput(save->filp);
}

/* ---- resuming --------------------------------------------------------- */

/* Make @buf hold at least @size bytes; its content is not kept. */
static int mlx5vf_resume_reserve(struct mlx5vf_resume_file *resume,
				 u64 size, gfp_t gfp)
{
	struct mlx5vf_device *mvdev = resume->mvdev;

	if (resume->buf.pages && mlx5vf_buf_size(&resume->buf) >= size)
		return 0;
	mlx5vf_buf_free(mvdev, &resume->buf);
	return mlx5vf_buf_alloc(mvdev, resume->pdn, size, DMA_TO_DEVICE, gfp,
				&resume->buf);
}

/* A header is complete: decide what its payload is. */
static int mlx5vf_resume_header(struct mlx5vf_resume_file *resume)
{
	u64 size = le64_to_cpu(resume->hdr.record_size);
	u32 flags = le32_to_cpu(resume->hdr.flags);
	int ret;

	resume->got = 0;
	switch (le32_to_cpu(resume->hdr.tag)) {
	case MLX5_VF_MIG_TAG_FW_IMAGE:
		if (!size || size > MLX5VF_MAX_IMAGE)
			return -EINVAL;
		/* Without multi-load the firmware takes one image only. */
		if (resume->images && !resume->mvdev->precopy)
			return -EINVAL;
		ret = mlx5vf_resume_reserve(resume, size, GFP_KERNEL_ACCOUNT);
		if (ret)
			return ret;
		resume->phase = MLX5VF_RESUME_IMAGE;
		return 0;
	case MLX5_VF_MIG_TAG_STOP_COPY_SIZE:
		if (size < sizeof(resume->value))
			return -EINVAL;
		resume->phase = MLX5VF_RESUME_VALUE;
		return 0;
	default:
		if (!(flags & MLX5_VF_MIG_FLAG_OPTIONAL))
			return -EINVAL;
		resume->phase = size ? MLX5VF_RESUME_SKIP :
				       MLX5VF_RESUME_HEADER;
		return 0;
	}
}

/*
 * The announced stop-copy size lets the big image land in a buffer made
 * before it arrives.  Only a hint: a failure here is not one of the stream.
 */
static void mlx5vf_resume_prealloc(struct mlx5vf_resume_file *resume)
{
	u64 size = le64_to_cpu(resume->value);

	if (!size || size > MLX5VF_MAX_IMAGE)
		return;
	mlx5vf_resume_reserve(resume, size,
			      GFP_KERNEL_ACCOUNT | __GFP_NORETRY | __GFP_NOWARN);
}

/* Consume up to @len bytes of the stream; returns bytes taken or errno. */
static ssize_t mlx5vf_resume_step(struct mlx5vf_resume_file *resume,
				  const char __user *ubuf, size_t len)
{
	u64 size = le64_to_cpu(resume->hdr.record_size);
	size_t n;
	int ret;

	switch (resume->phase) {
	case MLX5VF_RESUME_HEADER:
		n = min_t(size_t, len, MLX5VF_HDR_LEN - resume->got);
		if (copy_from_user((u8 *)&resume->hdr + resume->got, ubuf, n))
			return -EFAULT;
		resume->got += n;
		if (resume->got < MLX5VF_HDR_LEN)
			return n;
		ret = mlx5vf_resume_header(resume);
		return ret ? ret : n;
	case MLX5VF_RESUME_IMAGE:
		n = min_t(u64, len, size - resume->got);
		ret = mlx5vf_buf_from_user(&resume->buf, resume->got, ubuf, n);
		if (ret)
			return ret;
		resume->got += n;
		if (resume->got < size)
			return n;
		ret = mlx5vf_fw_load(resume->mvdev, &resume->buf, size);
		if (ret)
			return ret;
		resume->images++;
		break;
	case MLX5VF_RESUME_VALUE:
		n = min_t(u64, len, size - resume->got);
		if (resume->got < sizeof(resume->value)) {
			size_t v = min_t(size_t, n,
					 sizeof(resume->value) - resume->got);

			if (copy_from_user((u8 *)&resume->value + resume->got,
					   ubuf, v))
				return -EFAULT;
		}
		resume->got += n;
		if (resume->got < size)
			return n;
		mlx5vf_resume_prealloc(resume);
		break;
	case MLX5VF_RESUME_SKIP:
		n = min_t(u64, len, size - resume->got);
		resume->got += n;
		if (resume->got < size)
			return n;
		break;
	default:
		return -EINVAL;
	}
	resume->phase = MLX5VF_RESUME_HEADER;
	resume->got = 0;
	return n;
}

static ssize_t mlx5vf_resume_write(struct file *filp, const char __user *ubuf,
				   size_t len, loff_t *pos)
{
	struct mlx5vf_resume_file *resume = filp->private_data;
	struct mlx5vf_device *mvdev = resume->mvdev;
	ssize_t done = 0, ret = 0;

	if (pos)
		return -ESPIPE;

	/* Loads are firmware commands on the VF: under the state lock. */
	mutex_lock(&mvdev->state_lock);
	mutex_lock(&resume->lock);
	if (resume->ended)
		ret = -ENODEV;
	else if (resume->error)
		ret = resume->error;
	while (!ret && len) {
		ret = mlx5vf_resume_step(resume, ubuf + done, len);
		if (ret < 0) {
			resume->error = ret;
			break;
		}
		done += ret;
		len -= ret;
		ret = 0;
	}
	mutex_unlock(&resume->lock);
	mlx5vf_state_unlock(mvdev);
	return ret ? ret : done;
}

static int mlx5vf_resume_release(struct inode *inode, struct file *filp)
{
	struct mlx5vf_resume_file *resume = filp->private_data;

	WARN_ON(!resume->ended);
	put_device(&resume->mvdev->core.vdev.device);
	mutex_destroy(&resume->lock);
	kfree(resume);
	return 0;
}

static const struct file_operations mlx5vf_resume_fops = {
	.owner = THIS_MODULE,
	.write = mlx5vf_resume_write,
	.release = mlx5vf_resume_release,
};

/**
 * mlx5vf_resume_open - start a resume session
 * @mvdev: the device, with its state lock held, the VF suspended
 *
 * Return: the data file, or an ERR_PTR.  The device keeps a reference
 * until mlx5vf_resume_end().
 */
struct file *mlx5vf_resume_open(struct mlx5vf_device *mvdev)
{
	struct mlx5vf_resume_file *resume;
	struct file *filp;
	int ret;

	lockdep_assert_held(&mvdev->state_lock);
	resume = kzalloc(sizeof(*resume), GFP_KERNEL_ACCOUNT);
	if (!resume)
		return ERR_PTR(-ENOMEM);
	resume->mvdev = mvdev;
	mutex_init(&resume->lock);

	ret = mlx5vf_fw_alloc_pd(mvdev, &resume->pdn);
	if (ret)
		goto free;
	filp = anon_inode_getfile("mlx5_vf_mig_resume", &mlx5vf_resume_fops,
				  resume, O_WRONLY);
	if (IS_ERR(filp)) {
		ret = PTR_ERR(filp);
		goto free_pd;
	}
	stream_open(filp->f_inode, filp);
	get_device(&mvdev->core.vdev.device);
	resume->filp = filp;
	mvdev->resume = resume;
	get_file(filp);
	return filp;

free_pd:
	mlx5vf_fw_free_pd(mvdev, resume->pdn);
free:
	mutex_destroy(&resume->lock);
	kfree(resume);
	return ERR_PTR(ret);
}

/**
 * mlx5vf_resume_finish - check that the whole stream arrived and loaded
 * @resume: the session; the device's state lock is held
 *
 * Return: 0, or -EINVAL for a stream cut short or holding no image, or
 * the error that broke it.
 */
int mlx5vf_resume_finish(struct mlx5vf_resume_file *resume)
{
	int ret;

	mutex_lock(&resume->lock);
	if (resume->error)
		ret = resume->error;
	else if (resume->phase != MLX5VF_RESUME_HEADER || resume->got ||
		 !resume->images)
		ret = -EINVAL;
	else
		ret = 0;
	mutex_unlock(&resume->lock);
	return ret;
}

/**
 * mlx5vf_resume_end - end a resume session and free its buffer
 * @resume: the session; the device's state lock is held
 */
void mlx5vf_resume_end(struct mlx5vf_resume_file *resume)
{
	struct mlx5vf_device *mvdev = resume->mvdev;

	lockdep_assert_held(&mvdev->state_lock);
	mutex_lock(&resume->lock);
	resume->ended = true;
	mlx5vf_buf_free(mvdev, &resume->buf);
	mutex_unlock(&resume->lock);
	mlx5vf_fw_free_pd(mvdev, resume->pdn);
	mvdev->resume = NULL;
	fput(resume->filp);
}
