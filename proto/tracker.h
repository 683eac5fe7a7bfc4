/*
 * tracker.h - write trackers: the mechanisms behind an lfbshm provider's
 * GET_DIRTY answer.  Each one is a real write-tracking facility of the
 * kernel or a hypervisor; none relies on the writer reporting its writes.
 *
 *   uffd       userfaultfd async write-protect + PAGEMAP_SCAN get-and-clear
 *              (Linux >= 6.7), in-process or on another process's mapping;
 *              trap: a sync write-protect userfaultfd on the same range.
 *   kvm        the framebuffer is a KVM memory slot with dirty logging,
 *              written by guest code in a vCPU; KVM_GET_DIRTY_LOG;
 *              trap: the slot is made read-only and the first write exits.
 *   softdirty  /proc/PID/clear_refs + pagemap bit 55, only where a
 *              functional probe shows it works (silently broken when
 *              CONFIG_MEM_SOFT_DIRTY is off).
 *   none       no tracking: every answer is "all dirty", the consumer
 *              falls back to comparing.
 *
 * Trackers are chosen by run-time feature probes, never by kernel version.
 *
 * Error convention: functions returning int return 0 (or the documented
 * non-negative value) on success and a negative errno value on failure.
 * errno is unspecified afterwards.  A failing open or probe also writes a
 * one-line reason for people into the caller's buffer when one is given.
 *
 * Threading: get_dirty, arm_trap, disarm_trap and stop are called from one
 * thread at a time (the provider's serving thread).  The trap callback may
 * run on any thread (a fault handler, a vCPU thread), at most once per arm.
 */
#ifndef LFBSHM_TRACKER_H
#define LFBSHM_TRACKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

enum lfbshm_tracker_kind {
	LFBSHM_TRACKER_NONE = 0,
	LFBSHM_TRACKER_UFFD,
	LFBSHM_TRACKER_KVM,
	LFBSHM_TRACKER_SOFTDIRTY,
	LFBSHM_TRACKER_NKINDS
};

struct lfbshm_tracker;

/* Called once on the first write after a successful arm_trap. */
typedef void lfbshm_trap_fn(void *arg);

struct lfbshm_tracker_ops {
	/*
	 * Read and clear.  ORs a 1 into bitmap for every page written since
	 * the previous get_dirty (bit p of word p / 64 is page p; the caller
	 * supplies ceil(npages / 64) words, zeroed).  Sets *all_dirty when
	 * the tracker cannot tell (first call, call after stop, reset); the
	 * bitmap is then unspecified.  A get_dirty disarms a pending trap.
	 */
	int (*get_dirty)(struct lfbshm_tracker *t, uint64_t *bitmap,
	    bool *all_dirty);
	/*
	 * Stop paying for tracking where possible and call fn(arg) on the
	 * first write.  Returns 1 without arming when a write already
	 * happened since the previous get_dirty, 0 when armed, or -errno
	 * (-EOPNOTSUPP when the tracker has no trap).
	 */
	int (*arm_trap)(struct lfbshm_tracker *t, lfbshm_trap_fn *fn,
	    void *arg);
	/* Back to plain tracking; nothing written is lost. */
	int (*disarm_trap)(struct lfbshm_tracker *t);
	/* No consumer wants tracking: drop its cost.  The next get_dirty
	   restarts it and answers all_dirty. */
	int (*stop)(struct lfbshm_tracker *t);
	void (*close)(struct lfbshm_tracker *t);
};

/* Common head of every tracker; implementations embed it first. */
struct lfbshm_tracker {
	const struct lfbshm_tracker_ops *ops;
	enum lfbshm_tracker_kind kind;
	size_t npages;		/* pages of 4096 octets tracked */
	bool has_trap;		/* arm_trap can succeed */
};

const char *lfbshm_tracker_kind_name(enum lfbshm_tracker_kind kind);
/* "uffd", "kvm", "softdirty", "none" -> kind; -EINVAL otherwise. */
int lfbshm_tracker_kind_parse(const char *name);

/*
 * Functional probe: 0 when the mechanism works on this machine for this
 * process, else -errno with a reason in why.  For softdirty the probe
 * clears, writes a page and checks that pagemap bit 55 came up.
 */
int lfbshm_tracker_probe(enum lfbshm_tracker_kind kind, char *why,
    size_t whylen);

/* Process memory (anonymous, memfd, shm, shared file mapping) of this
   process; addr and len multiples of 4096.  The mapping must outlive the
   tracker. */
int lfbshm_tracker_uffd_open(void *addr, size_t len,
    struct lfbshm_tracker **out, char *why, size_t whylen);

/*
 * A mapping in another process that registered it for async write-protect
 * itself (e.g. the Xvfb preload shim).  uffd_async is that process's
 * registered userfaultfd, uffd_sync an unregistered one of the same
 * process for the trap, or -1 (no trap).  The tracker owns both fds from
 * the call on (a failing call closes them too) and scans
 * /proc/<pid>/pagemap.
 */
int lfbshm_tracker_uffd_open_remote(pid_t pid, uint64_t addr, size_t len,
    int uffd_async, int uffd_sync, struct lfbshm_tracker **out, char *why,
    size_t whylen);

int lfbshm_tracker_softdirty_open(void *addr, size_t len,
    struct lfbshm_tracker **out, char *why, size_t whylen);

int lfbshm_tracker_none_open(size_t len, struct lfbshm_tracker **out);

/*
 * The VRAM slot of a KVM virtual machine (proto/kvm-vm.h): slot number
 * `slot' maps guest-physical gpa to host memory addr for len octets.  The
 * tracker turns dirty logging on for that slot and owns its flags from then
 * on; the VM must outlive the tracker.
 */
struct kvmvm;
int lfbshm_tracker_kvm_open(struct kvmvm *vm, uint32_t slot, uint64_t gpa,
    void *addr, size_t len, struct lfbshm_tracker **out, char *why,
    size_t whylen);

void lfbshm_tracker_close(struct lfbshm_tracker *t);

#endif /* LFBSHM_TRACKER_H */
