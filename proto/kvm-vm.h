/*
 * kvm-vm.h - a minimal KVM virtual machine monitor for lfbvnc's demo and
 * test guests: one VM, RAM at guest-physical 0, extra memory slots (VRAM),
 * one vCPU in 64-bit mode at CPL 3 running a flat binary built with the
 * providers/guest runtime.  The guest memory map, the doorbell and the
 * mailbox are defined in providers/guest/guest-abi.h.
 *
 * Error convention: functions returning int return 0 (or the documented
 * non-negative value) on success and a negative errno value on failure;
 * errno is unspecified afterwards.  kvmvm_probe and kvmvm_create also write
 * a one-line reason into why (when whylen > 0); the other functions keep
 * the reason of their last failure for kvmvm_why().
 *
 * Threading:
 *  - kvmvm_run runs the vCPU on the calling thread until stopped; any one
 *    thread may call it, one at a time.
 *  - kvmvm_stop, kvmvm_pause/kvmvm_resume, kvmvm_cmd_post/kvmvm_cmd_wait,
 *    kvmvm_get_dirty_log and the slot functions may be called from any
 *    thread while the vCPU runs; KVM_GET_DIRTY_LOG concurrent with a
 *    running vCPU was verified on kvm_pvm with 0 lost pages
 *    (research/dirty-tracking.md, section 5).
 *  - Doorbell callbacks and MMIO hooks run on the vCPU thread, with the
 *    vCPU stopped.
 *  - A thread stuck in KVM_RUN is kicked out with kvmvm_kick_signal()
 *    (a real-time signal; kvmvm installs an empty handler for it unless
 *    the program has one) plus kvm_run->immediate_exit, which closes the
 *    race of a signal that arrives just before KVM_RUN is entered.
 */
#ifndef LFBVNC_KVM_VM_H
#define LFBVNC_KVM_VM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct kvmvm;
struct guest_mailbox;

#define KVMVM_SLOT_RAM		0	/* RAM, made by kvmvm_create */
#define KVMVM_MAX_SLOTS		8	/* slot numbers 0..7 */

/* kvmvm_run's non-error results. */
#define KVMVM_STOPPED		0	/* kvmvm_stop() */
#define KVMVM_GUEST_EXIT	1	/* the guest rang GUEST_DB_EXIT */

/*
 * Functional probe: /dev/kvm opens, KVM_CREATE_VM works, and the caps this
 * VMM needs are there (USER_MEMORY, READONLY_MEM for the trap,
 * IMMEDIATE_EXIT for stopping, two memory slots).  0 or -errno + why.
 */
int	 kvmvm_probe(char *why, size_t whylen);

/*
 * A VM with ram_size octets of RAM (slot 0, GUEST_RAM_MIN..GUEST_RAM_MAX,
 * a multiple of 2 MiB), its page tables and GDT, an initialised mailbox
 * and one vCPU set up for 64-bit CPL 3 (the entry point comes from
 * kvmvm_load).
 */
int	 kvmvm_create(struct kvmvm **out, size_t ram_size, char *why,
	    size_t whylen);
/* The vCPU thread must have returned from kvmvm_run. */
void	 kvmvm_destroy(struct kvmvm *vm);

/* Reason for the last failure of a call on vm ("" if none). */
const char *kvmvm_why(struct kvmvm *vm, char *buf, size_t len);

/*
 * Back guest-physical [gpa, gpa + len) with host memory (page-aligned,
 * must outlive the slot).  flags: KVM_MEM_LOG_DIRTY_PAGES,
 * KVM_MEM_READONLY.  A slot for the framebuffer must lie in the VRAM
 * window (GUEST_VRAM_GPA, GUEST_VRAM_MAX) to be mapped in the guest.
 */
int	 kvmvm_add_slot(struct kvmvm *vm, uint32_t slot, uint64_t gpa,
	    void *host, size_t len, uint32_t flags);
/*
 * Change a slot's flags.  KVM refuses to change KVM_MEM_READONLY on a live
 * slot (EINVAL, verified), so that change deletes and re-creates the slot:
 * the dirty log is lost, and a running vCPU touching the range meanwhile
 * takes an MMIO exit.  Callers that care pause the vCPU (kvmvm_pause).
 */
int	 kvmvm_set_slot_flags(struct kvmvm *vm, uint32_t slot, uint32_t flags);
int	 kvmvm_slot_info(struct kvmvm *vm, uint32_t slot, uint64_t *gpa,
	    void **host, size_t *len, uint32_t *flags);
/* Octets of the unsigned long bitmap KVM_GET_DIRTY_LOG fills for slot. */
size_t	 kvmvm_dirty_bitmap_size(struct kvmvm *vm, uint32_t slot);
/* KVM_GET_DIRTY_LOG (classic mode: atomic get, clear and write-protect). */
int	 kvmvm_get_dirty_log(struct kvmvm *vm, uint32_t slot,
	    unsigned long *bitmap);

/*
 * Called on the vCPU thread for a KVM_EXIT_MMIO inside a slot's range,
 * i.e. an access KVM did not complete itself (the slot is read-only or
 * momentarily deleted).  The hook performs the access against host
 * memory: for a write it stores len octets of data at gpa, for a read it
 * fills data.  0, or -errno to make kvmvm_run fail.
 */
typedef int kvmvm_mmio_fn(void *arg, uint64_t gpa, uint8_t *data,
    uint32_t len, bool is_write);
/* Install (fn != NULL) or remove a slot's hook; removal waits for a
   running hook call to return. */
int	 kvmvm_set_mmio_hook(struct kvmvm *vm, uint32_t slot,
	    kvmvm_mmio_fn *fn, void *arg);

/*
 * Copy a flat guest image (providers/guest: struct guest_header first) to
 * GUEST_LOAD_GPA and point the vCPU at its entry with a fresh stack.
 * Only while the vCPU is not running.
 */
int	 kvmvm_load(struct kvmvm *vm, const void *image, size_t len);

/* Host view of guest RAM [gpa, gpa + len), or NULL outside RAM. */
void	*kvmvm_gpa_to_host(struct kvmvm *vm, uint64_t gpa, size_t len);
struct guest_mailbox *kvmvm_mailbox(struct kvmvm *vm);

/*
 * Doorbell callback, on the vCPU thread: code and value as rung by the
 * guest (guest-abi.h).  Return 0 to let kvmvm handle the code and resume
 * the guest, a positive value to make kvmvm_run return it (a later
 * kvmvm_run resumes the guest), or -errno to make kvmvm_run fail.
 * kvmvm's own handling after a 0: GUEST_DB_WAIT parks the vCPU until
 * kvmvm_cmd_post or kvmvm_stop; GUEST_DB_DONE wakes kvmvm_cmd_wait;
 * GUEST_DB_EXIT returns KVMVM_GUEST_EXIT; GUEST_DB_PANIC fails with -EIO;
 * GUEST_DB_PUTS logs the message with log_info; other codes are ignored.
 */
typedef int kvmvm_doorbell_fn(void *arg, uint32_t code, uint64_t value);

/*
 * Run the vCPU on this thread until kvmvm_stop (KVMVM_STOPPED), the
 * guest's exit (KVMVM_GUEST_EXIT), a callback's positive value, or an
 * error (-errno; -EIO with the reason in kvmvm_why for a guest crash).
 * fn may be NULL.  -EBUSY if another thread is in kvmvm_run.
 */
int	 kvmvm_run(struct kvmvm *vm, kvmvm_doorbell_fn *fn, void *arg);
/*
 * Make kvmvm_run return KVMVM_STOPPED as soon as the vCPU is out of
 * KVM_RUN (or a callback returns).  A stop issued while nobody is in
 * kvmvm_run makes the next kvmvm_run return at once.
 */
void	 kvmvm_stop(struct kvmvm *vm);
/*
 * Keep the vCPU out of KVM_RUN: on return the vCPU is not executing guest
 * code and will not until the matching kvmvm_resume (nestable).  Returns
 * at once if the vCPU thread is elsewhere (in a callback, a hook, or not
 * running).  Cost when the guest runs: one signal and one exit.
 */
void	 kvmvm_pause(struct kvmvm *vm);
void	 kvmvm_resume(struct kvmvm *vm);

/*
 * Mailbox command channel (guest-abi.h).  kvmvm_cmd_post copies nargs
 * arguments (and, if datalen > 0, data into mb->data), clears mb->stop,
 * posts cmd and returns its sequence number (>= 0 as int64_t) or -errno.
 * kvmvm_cmd_wait waits until the guest acknowledged seq and returns the
 * guest's status in *status; -ETIMEDOUT after timeout_ms, -EPIPE if
 * kvmvm_run failed or the guest exited.  kvmvm_cmd_stop sets mb->stop.
 */
int64_t	 kvmvm_cmd_post(struct kvmvm *vm, uint32_t cmd, const uint64_t *args,
	    unsigned int nargs, const void *data, size_t datalen);
int	 kvmvm_cmd_wait(struct kvmvm *vm, int64_t seq, int timeout_ms,
	    int32_t *status);
void	 kvmvm_cmd_stop(struct kvmvm *vm);

/*
 * Queue an input event in the mailbox ring (guest-abi.h) for the guest to
 * take with guest_next_input().  -ENOBUFS when the guest has not consumed
 * GUEST_INPUT_RING events yet.  Any thread; does not wake the guest.
 */
struct guest_input;
int	 kvmvm_input_push(struct kvmvm *vm, const struct guest_input *ev);

/* The signal kvmvm uses to kick a vCPU thread out of KVM_RUN. */
int	 kvmvm_kick_signal(void);

#endif /* LFBVNC_KVM_VM_H */
