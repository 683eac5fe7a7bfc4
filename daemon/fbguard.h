/*
 * fbguard.h - read a guest framebuffer that may shrink under us.
 *
 * An lfbshm provider may hand us a framebuffer file that is not sealed
 * against shrinking (lfbshm_consumer_fb_can_shrink): a plain file such
 * as an Xvfb -fbdir screen.  When its owner truncates it, reading a page
 * of the mapping past the new end raises SIGBUS, whose default action
 * kills the worker and drops every client of the guest.
 *
 * fbguard_scan() runs scan_pages() (the only code that reads guest
 * pixels) under a guard: a SIGBUS handler, installed at the first call
 * (SA_SIGINFO), siglongjmp()s back to it when the kernel reports a fault
 * inside the guarded mapping on the thread that set the guard.  Any
 * other SIGBUS (another address, another thread, one sent with kill(2))
 * gets the default action, as without the guard.
 *
 * After a fault the scanner is consistent but its shadow may hold part
 * of a copy whose tile was not marked yet: the caller must mark every
 * tile (scan_mark_all) so that the clients get the shadow as it is.
 *
 * One guard at a time per thread; not reentrant.
 */
#ifndef LFBVNC_FBGUARD_H
#define LFBVNC_FBGUARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "scan.h"

/*
 * scan_pages(s, fb, dirty, npages, all) with faults at [fb, fb + len)
 * caught.  Its result (>= 0), or -EFAULT with *fault_off the offset of
 * the faulting address from fb.
 */
int fbguard_scan(struct scanner *s, const uint8_t *fb, size_t len,
    const uint64_t *dirty, size_t npages, bool all, size_t *fault_off);

#endif /* LFBVNC_FBGUARD_H */
