/*
 * kvm-vm.c - a minimal KVM VMM for lfbvnc's demo and test guests; see
 * kvm-vm.h for the interface and providers/guest/guest-abi.h for the guest
 * memory map.
 *
 * Why the guest runs at CPL 3: this machine's KVM is kvm_pvm, which runs
 * only guest user mode natively; CPL 0 goes through KVM's instruction
 * emulator (~1.5-2 us per loop iteration against ~1 ns), and 32-bit paging
 * triple-faults (research/dirty-tracking.md, section 5).  So the vCPU is
 * created directly in 64-bit mode at CPL 3 with KVM_SET_SREGS: user
 * selectors 0x33/0x2b, 4-level identity page tables with U/S set, and a
 * real GDT and busy 64-bit TSS behind the cached descriptors so that the
 * state is also architecturally valid for VMX/SVM entry checks.  There is
 * no IDT: the guest takes no interrupts, and an exception ends in a triple
 * fault (KVM_EXIT_SHUTDOWN), which kvmvm_run reports with the guest's rip.
 *
 * The guest rings the host by storing to GUEST_DOORBELL_GPA, which no slot
 * backs (OUT/HLT #GP at CPL 3): KVM_EXIT_MMIO.
 *
 * Run-state machine, under vm->m:
 *   running  a thread is inside kvmvm_run;
 *   in_run   that thread is in, or about to enter, KVM_RUN;
 *   pause    kvmvm_pause nesting count: the loop does not enter KVM_RUN;
 *   stop     kvmvm_stop was called: the loop returns.
 * To get the vCPU out of KVM_RUN, the waker sets run->immediate_exit (for
 * a thread that has not entered yet) and sends kvmvm_kick_signal() to it
 * (for a thread inside, whose KVM_RUN then returns EINTR).
 *
 * Slots (vm->slots, the slot ioctls and mmio hooks) are under vm->slot_m.
 * Lock order: slot_m before m.
 */
#include "config.h"

#include <sys/ioctl.h>
#include <sys/mman.h>

#include <linux/kvm.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "kvm-vm.h"
#include "../providers/guest/guest-abi.h"

/* x86-64 page-table entry bits. */
#define PTE_P		0x001ULL
#define PTE_RW		0x002ULL
#define PTE_US		0x004ULL
#define PTE_A		0x020ULL
#define PTE_D		0x040ULL

#define CR0_PE		0x00000001ULL
#define CR0_MP		0x00000002ULL
#define CR0_ET		0x00000010ULL
#define CR0_NE		0x00000020ULL
#define CR0_WP		0x00010000ULL
#define CR0_PG		0x80000000ULL
#define CR4_PAE		0x00000020ULL
#define CR4_OSFXSR	0x00000200ULL
#define CR4_OSXMMEXCPT	0x00000400ULL
#define EFER_LME	0x00000100ULL
#define EFER_LMA	0x00000400ULL

#define TSS_OFFSET	0x80		/* in the GDT page */
#define TSS_LIMIT	0x67
#define GDT_ENTRIES	10

#define PAGE		4096ULL
#define BIG_PAGE	(2ULL << 20)

struct kvmvm_slot {
	bool		 used;
	uint64_t	 gpa;
	void		*host;
	size_t		 len;
	uint32_t	 flags;
	kvmvm_mmio_fn	*hook;
	void		*hookarg;
};

struct kvmvm {
	int		 kvmfd;
	int		 vmfd;
	int		 vcpufd;
	struct kvm_run	*run;
	size_t		 runsize;
	uint8_t		*ram;
	size_t		 ramsize;
	uint64_t	 pt_next;	/* next free page-table page (GPA) */

	pthread_mutex_t	 slot_m;
	pthread_cond_t	 slot_cv;	/* hook_busy went to 0 */
	struct kvmvm_slot slots[KVMVM_MAX_SLOTS];
	unsigned int	 hook_busy;

	pthread_mutex_t	 m;
	pthread_cond_t	 cv;		/* any run-state or mailbox change */
	bool		 running;
	bool		 in_run;
	pthread_t	 thread;
	unsigned int	 pause;
	bool		 stop;
	bool		 failed;	/* run failed or guest exited */
	bool		 ran;		/* KVM_RUN was called */
	char		 why[256];
};

static pthread_once_t kick_once = PTHREAD_ONCE_INIT;

static void
why_set(char *why, size_t whylen, const char *fmt, ...)
    __attribute__((__format__(__printf__, 3, 4)));

static void
why_set(char *why, size_t whylen, const char *fmt, ...)
{
	va_list ap;

	if (why == NULL || whylen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(why, whylen, fmt, ap);
	va_end(ap);
}

/* Record the reason of a failure on vm; returns err for tail calls. */
static int
vm_fail(struct kvmvm *vm, int err, const char *fmt, ...)
    __attribute__((__format__(__printf__, 3, 4)));

static int
vm_fail(struct kvmvm *vm, int err, const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&vm->m);
	va_start(ap, fmt);
	vsnprintf(vm->why, sizeof(vm->why), fmt, ap);
	va_end(ap);
	pthread_mutex_unlock(&vm->m);
	return err;
}

const char *
kvmvm_why(struct kvmvm *vm, char *buf, size_t len)
{
	if (len == 0)
		return buf;
	pthread_mutex_lock(&vm->m);
	snprintf(buf, len, "%s", vm->why);
	pthread_mutex_unlock(&vm->m);
	return buf;
}

int
kvmvm_kick_signal(void)
{
	/* A real-time signal nobody else in lfbvnc uses. */
	return SIGRTMIN + 5;
}

static void
kick_handler(int sig)
{
	(void)sig;	/* only there to interrupt KVM_RUN */
}

static void
kick_install(void)
{
	struct sigaction sa, old;
	int sig = kvmvm_kick_signal();

	if (sigaction(sig, NULL, &old) == -1)
		return;
	/* Keep a handler the program installed; any handler interrupts. */
	if (!(old.sa_flags & SA_SIGINFO) &&
	    (old.sa_handler == SIG_DFL || old.sa_handler == SIG_IGN)) {
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = kick_handler;
		sigemptyset(&sa.sa_mask);
		sa.sa_flags = 0;	/* no SA_RESTART: KVM_RUN must return */
		(void)sigaction(sig, &sa, NULL);
	}
}

/* Open /dev/kvm and check the API version: fd or -errno + why. */
static int
open_kvm(char *why, size_t whylen)
{
	int fd, err, v;

	fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (fd == -1) {
		err = errno;
		why_set(why, whylen, "/dev/kvm: %s", strerror(err));
		return -err;
	}
	v = ioctl(fd, KVM_GET_API_VERSION, 0);
	if (v != KVM_API_VERSION) {
		why_set(why, whylen, "/dev/kvm: API version %d, need %d", v,
		    KVM_API_VERSION);
		close(fd);
		return -ENOTSUP;
	}
	return fd;
}

/* The capabilities this VMM relies on, checked on the VM fd. */
static int
check_caps(int kvmfd, int vmfd, char *why, size_t whylen)
{
	static const struct {
		int		 cap;
		const char	*name;
	} caps[] = {
		{ KVM_CAP_USER_MEMORY, "KVM_CAP_USER_MEMORY" },
		{ KVM_CAP_READONLY_MEM, "KVM_CAP_READONLY_MEM" },
		{ KVM_CAP_IMMEDIATE_EXIT, "KVM_CAP_IMMEDIATE_EXIT" },
		{ KVM_CAP_EXT_CPUID, "KVM_CAP_EXT_CPUID" },
	};
	size_t i;
	int n;

	for (i = 0; i < sizeof(caps) / sizeof(caps[0]); i++) {
		if (ioctl(vmfd, KVM_CHECK_EXTENSION, caps[i].cap) <= 0 &&
		    ioctl(kvmfd, KVM_CHECK_EXTENSION, caps[i].cap) <= 0) {
			why_set(why, whylen, "KVM lacks %s", caps[i].name);
			return -ENOTSUP;
		}
	}
	n = ioctl(vmfd, KVM_CHECK_EXTENSION, KVM_CAP_NR_MEMSLOTS);
	if (n > 0 && n < 2) {
		why_set(why, whylen, "KVM has %d memory slots, need 2", n);
		return -ENOTSUP;
	}
	return 0;
}

int
kvmvm_probe(char *why, size_t whylen)
{
	int kvmfd, vmfd, rc, err;

	if ((kvmfd = open_kvm(why, whylen)) < 0)
		return kvmfd;
	vmfd = ioctl(kvmfd, KVM_CREATE_VM, 0);
	if (vmfd == -1) {
		err = errno;
		why_set(why, whylen, "KVM_CREATE_VM: %s", strerror(err));
		rc = -err;
		goto out;
	}
	rc = check_caps(kvmfd, vmfd, why, whylen);
	close(vmfd);
 out:
	close(kvmfd);
	return rc;
}

/* Allocate a page-table page in guest RAM: GPA, or 0 when out of room. */
static uint64_t
pt_alloc(struct kvmvm *vm)
{
	uint64_t gpa = vm->pt_next;

	if (gpa >= GUEST_PT_END)
		return 0;
	vm->pt_next += PAGE;
	memset(vm->ram + gpa, 0, PAGE);
	return gpa;
}

/*
 * Map [gpa, gpa + len) at the same virtual address with 4 KiB pages and
 * pte flags (0: leave unmapped).  Everything lies in the first GiB, under
 * PML4[0] -> PDPT[0] -> one page directory at GUEST_PT_GPA + 2 pages.
 * 4 KiB pages keep the guest's view as fine-grained as KVM's dirty log.
 * A and D are preset so that neither the CPU nor, under shadow paging,
 * KVM has to set them on first use.
 */
static int
pt_map(struct kvmvm *vm, uint64_t gpa, uint64_t len, uint64_t flags)
{
	uint64_t *pd = (uint64_t *)(vm->ram + GUEST_PT_GPA + 2 * PAGE);
	uint64_t *pt, end = gpa + len, ptgpa;
	unsigned int pdi;

	if (end > (1ULL << 30) || (gpa & (PAGE - 1)) || (len & (PAGE - 1)))
		return -EINVAL;
	for (; gpa < end; gpa += PAGE) {
		pdi = (unsigned int)(gpa / BIG_PAGE);
		if (!(pd[pdi] & PTE_P)) {
			if ((ptgpa = pt_alloc(vm)) == 0)
				return -ENOSPC;
			pd[pdi] = ptgpa | PTE_P | PTE_RW | PTE_US | PTE_A;
		}
		pt = (uint64_t *)(vm->ram + (pd[pdi] & ~(PAGE - 1)));
		pt[(gpa / PAGE) % 512] = flags ? (gpa | flags) : 0;
	}
	return 0;
}

static int
build_page_tables(struct kvmvm *vm)
{
	const uint64_t user = PTE_P | PTE_RW | PTE_US | PTE_A | PTE_D;
	const uint64_t kern = PTE_P | PTE_RW | PTE_A | PTE_D;
	uint64_t *pml4, *pdpt, pml4gpa, pdptgpa, pdgpa;
	int rc;

	vm->pt_next = GUEST_PT_GPA;
	pml4gpa = pt_alloc(vm);
	pdptgpa = pt_alloc(vm);
	pdgpa = pt_alloc(vm);
	pml4 = (uint64_t *)(vm->ram + pml4gpa);
	pdpt = (uint64_t *)(vm->ram + pdptgpa);
	pml4[0] = pdptgpa | PTE_P | PTE_RW | PTE_US | PTE_A;
	pdpt[0] = pdgpa | PTE_P | PTE_RW | PTE_US | PTE_A;

	/* Page 0 and the page tables stay unmapped. */
	if ((rc = pt_map(vm, GUEST_GDT_GPA, PAGE, kern)) != 0 ||
	    (rc = pt_map(vm, GUEST_MAILBOX_GPA, GUEST_MAILBOX_SIZE,
	    user)) != 0 ||
	    (rc = pt_map(vm, GUEST_LOAD_GPA, vm->ramsize - GUEST_LOAD_GPA,
	    user)) != 0 ||
	    (rc = pt_map(vm, GUEST_DOORBELL_GPA, PAGE, user)) != 0 ||
	    (rc = pt_map(vm, GUEST_VRAM_GPA, GUEST_VRAM_MAX, user)) != 0)
		return rc;
	return 0;
}

static void
build_gdt(struct kvmvm *vm)
{
	uint64_t *gdt = (uint64_t *)(vm->ram + GUEST_GDT_GPA);
	uint64_t tss = GUEST_GDT_GPA + TSS_OFFSET;
	uint8_t *tssp = vm->ram + tss;

	memset(gdt, 0, PAGE);
	/* 64-bit code DPL 0, data DPL 0, data DPL 3, 64-bit code DPL 3. */
	gdt[GUEST_SEL_KCODE >> 3] = 0x00af9b000000ffffULL;
	gdt[GUEST_SEL_KDATA >> 3] = 0x00cf93000000ffffULL;
	gdt[GUEST_SEL_UDATA >> 3] = 0x00cff3000000ffffULL;
	gdt[GUEST_SEL_UCODE >> 3] = 0x00affb000000ffffULL;
	/* 16-octet busy 64-bit TSS descriptor (type 0xb). */
	gdt[GUEST_SEL_TSS >> 3] = TSS_LIMIT |
	    ((tss & 0xffffffULL) << 16) | (0x8bULL << 40) |
	    (((tss >> 24) & 0xffULL) << 56);
	gdt[(GUEST_SEL_TSS >> 3) + 1] = tss >> 32;
	/* I/O map base past the limit: no I/O permission bitmap. */
	tssp[0x66] = TSS_LIMIT + 1;
}

static void
seg(struct kvm_segment *s, uint16_t sel, uint8_t type, bool code)
{
	memset(s, 0, sizeof(*s));
	s->base = 0;
	s->limit = 0xffffffff;
	s->selector = sel;
	s->type = type;
	s->present = 1;
	s->dpl = sel & 3;
	s->s = 1;
	s->g = 1;
	s->l = code ? 1 : 0;
	s->db = code ? 0 : 1;
}

/* 64-bit mode at CPL 3: see the top of the file. */
static int
setup_sregs(struct kvmvm *vm)
{
	struct kvm_sregs sr;

	if (ioctl(vm->vcpufd, KVM_GET_SREGS, &sr) == -1)
		return -errno;
	seg(&sr.cs, GUEST_SEL_UCODE, 0xb, true);
	seg(&sr.ds, GUEST_SEL_UDATA, 0x3, false);
	sr.es = sr.fs = sr.gs = sr.ss = sr.ds;
	memset(&sr.tr, 0, sizeof(sr.tr));
	sr.tr.base = GUEST_GDT_GPA + TSS_OFFSET;
	sr.tr.limit = TSS_LIMIT;
	sr.tr.selector = GUEST_SEL_TSS;
	sr.tr.type = 0xb;
	sr.tr.present = 1;
	memset(&sr.ldt, 0, sizeof(sr.ldt));
	sr.ldt.type = 0x2;
	sr.ldt.unusable = 1;
	sr.gdt.base = GUEST_GDT_GPA;
	sr.gdt.limit = GDT_ENTRIES * 8 - 1;
	sr.idt.base = 0;
	sr.idt.limit = 0;
	sr.cr0 = CR0_PE | CR0_MP | CR0_ET | CR0_NE | CR0_WP | CR0_PG;
	sr.cr3 = GUEST_PT_GPA;
	sr.cr4 = CR4_PAE | CR4_OSFXSR | CR4_OSXMMEXCPT;
	sr.efer = EFER_LME | EFER_LMA;
	if (ioctl(vm->vcpufd, KVM_SET_SREGS, &sr) == -1)
		return -errno;
	return 0;
}

/* Give the vCPU the host-supported CPUID, as any VMM does. */
static int
setup_cpuid(struct kvmvm *vm)
{
	struct kvm_cpuid2 *c = NULL;
	int n, rc;

	for (n = 64; n <= 4096; n *= 2) {
		free(c);
		c = calloc(1, sizeof(*c) + (size_t)n * sizeof(c->entries[0]));
		if (c == NULL)
			return -ENOMEM;
		c->nent = (uint32_t)n;
		if (ioctl(vm->kvmfd, KVM_GET_SUPPORTED_CPUID, c) == 0)
			break;
		if (errno != E2BIG) {
			rc = -errno;
			goto out;
		}
	}
	if (n > 4096) {
		rc = -E2BIG;
		goto out;
	}
	rc = ioctl(vm->vcpufd, KVM_SET_CPUID2, c) == -1 ? -errno : 0;
 out:
	free(c);
	return rc;
}

static int
set_region(struct kvmvm *vm, uint32_t slot, uint64_t gpa, void *host,
    uint64_t len, uint32_t flags)
{
	struct kvm_userspace_memory_region r;

	memset(&r, 0, sizeof(r));
	r.slot = slot;
	r.flags = flags;
	r.guest_phys_addr = gpa;
	r.memory_size = len;
	r.userspace_addr = (uint64_t)(uintptr_t)host;
	if (ioctl(vm->vmfd, KVM_SET_USER_MEMORY_REGION, &r) == -1)
		return -errno;
	return 0;
}

static void
mailbox_init(struct kvmvm *vm)
{
	struct guest_mailbox *mb = kvmvm_mailbox(vm);

	memset(mb, 0, sizeof(*mb));
	mb->magic = GUEST_MAILBOX_MAGIC;
	mb->abi = GUEST_ABI_VERSION;
	mb->ram_size = vm->ramsize;
}

int
kvmvm_create(struct kvmvm **out, size_t ram_size, char *why, size_t whylen)
{
	struct kvmvm *vm;
	pthread_condattr_t ca;
	int rc, mmapsize;

	*out = NULL;
	if (ram_size < GUEST_RAM_MIN || ram_size > GUEST_RAM_MAX ||
	    ram_size % BIG_PAGE != 0) {
		why_set(why, whylen, "guest RAM size %zu: not a multiple of "
		    "2 MiB in [%u, %u]", ram_size, GUEST_RAM_MIN,
		    GUEST_RAM_MAX);
		return -EINVAL;
	}
	pthread_once(&kick_once, kick_install);
	if ((vm = calloc(1, sizeof(*vm))) == NULL) {
		why_set(why, whylen, "out of memory");
		return -ENOMEM;
	}
	vm->kvmfd = vm->vmfd = vm->vcpufd = -1;
	vm->run = MAP_FAILED;
	vm->ram = MAP_FAILED;
	vm->ramsize = ram_size;
	pthread_mutex_init(&vm->slot_m, NULL);
	pthread_cond_init(&vm->slot_cv, NULL);
	pthread_mutex_init(&vm->m, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&vm->cv, &ca);
	pthread_condattr_destroy(&ca);

	if ((rc = open_kvm(why, whylen)) < 0)
		goto fail;
	vm->kvmfd = rc;
	if ((vm->vmfd = ioctl(vm->kvmfd, KVM_CREATE_VM, 0)) == -1) {
		rc = -errno;
		why_set(why, whylen, "KVM_CREATE_VM: %s", strerror(-rc));
		goto fail;
	}
	if ((rc = check_caps(vm->kvmfd, vm->vmfd, why, whylen)) != 0)
		goto fail;

	vm->ram = mmap(NULL, ram_size, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (vm->ram == MAP_FAILED) {
		rc = -errno;
		why_set(why, whylen, "guest RAM: mmap: %s", strerror(-rc));
		goto fail;
	}
	if ((rc = build_page_tables(vm)) != 0) {
		why_set(why, whylen, "guest page tables: %s", strerror(-rc));
		goto fail;
	}
	build_gdt(vm);
	mailbox_init(vm);
	if ((rc = set_region(vm, KVMVM_SLOT_RAM, 0, vm->ram, ram_size,
	    0)) != 0) {
		why_set(why, whylen, "RAM slot: %s", strerror(-rc));
		goto fail;
	}
	vm->slots[KVMVM_SLOT_RAM].used = true;
	vm->slots[KVMVM_SLOT_RAM].gpa = 0;
	vm->slots[KVMVM_SLOT_RAM].host = vm->ram;
	vm->slots[KVMVM_SLOT_RAM].len = ram_size;

	if ((vm->vcpufd = ioctl(vm->vmfd, KVM_CREATE_VCPU, 0)) == -1) {
		rc = -errno;
		why_set(why, whylen, "KVM_CREATE_VCPU: %s", strerror(-rc));
		goto fail;
	}
	mmapsize = ioctl(vm->kvmfd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (mmapsize < (int)sizeof(struct kvm_run)) {
		rc = mmapsize == -1 ? -errno : -EINVAL;
		why_set(why, whylen, "KVM_GET_VCPU_MMAP_SIZE: %d", mmapsize);
		goto fail;
	}
	vm->runsize = (size_t)mmapsize;
	vm->run = mmap(NULL, vm->runsize, PROT_READ | PROT_WRITE, MAP_SHARED,
	    vm->vcpufd, 0);
	if (vm->run == MAP_FAILED) {
		rc = -errno;
		why_set(why, whylen, "kvm_run: mmap: %s", strerror(-rc));
		goto fail;
	}
	if ((rc = setup_cpuid(vm)) != 0) {
		why_set(why, whylen, "KVM_SET_CPUID2: %s", strerror(-rc));
		goto fail;
	}
	if ((rc = setup_sregs(vm)) != 0) {
		why_set(why, whylen, "KVM_SET_SREGS (64-bit CPL 3): %s",
		    strerror(-rc));
		goto fail;
	}
	*out = vm;
	return 0;

 fail:
	kvmvm_destroy(vm);
	return rc;
}

void
kvmvm_destroy(struct kvmvm *vm)
{
	if (vm == NULL)
		return;
	if (vm->run != MAP_FAILED)
		munmap(vm->run, vm->runsize);
	if (vm->vcpufd != -1)
		close(vm->vcpufd);
	if (vm->vmfd != -1)
		close(vm->vmfd);
	if (vm->kvmfd != -1)
		close(vm->kvmfd);
	if (vm->ram != MAP_FAILED)
		munmap(vm->ram, vm->ramsize);
	pthread_cond_destroy(&vm->cv);
	pthread_mutex_destroy(&vm->m);
	pthread_cond_destroy(&vm->slot_cv);
	pthread_mutex_destroy(&vm->slot_m);
	free(vm);
}

void *
kvmvm_gpa_to_host(struct kvmvm *vm, uint64_t gpa, size_t len)
{
	if (gpa >= vm->ramsize || len > vm->ramsize - gpa)
		return NULL;
	return vm->ram + gpa;
}

struct guest_mailbox *
kvmvm_mailbox(struct kvmvm *vm)
{
	return (struct guest_mailbox *)(void *)(vm->ram + GUEST_MAILBOX_GPA);
}

int
kvmvm_add_slot(struct kvmvm *vm, uint32_t slot, uint64_t gpa, void *host,
    size_t len, uint32_t flags)
{
	struct kvmvm_slot *s;
	uint32_t i;
	int rc;

	if (slot >= KVMVM_MAX_SLOTS || len == 0 || len % PAGE != 0 ||
	    gpa % PAGE != 0 || (uintptr_t)host % PAGE != 0 ||
	    (flags & ~(uint32_t)(KVM_MEM_LOG_DIRTY_PAGES | KVM_MEM_READONLY)))
		return vm_fail(vm, -EINVAL, "slot %u: bad arguments", slot);
	pthread_mutex_lock(&vm->slot_m);
	if (vm->slots[slot].used) {
		rc = vm_fail(vm, -EEXIST, "slot %u: in use", slot);
		goto out;
	}
	for (i = 0; i < KVMVM_MAX_SLOTS; i++) {
		s = &vm->slots[i];
		if (s->used && gpa < s->gpa + s->len && s->gpa < gpa + len) {
			rc = vm_fail(vm, -EEXIST, "slot %u overlaps slot %u",
			    slot, i);
			goto out;
		}
	}
	if (gpa < GUEST_DOORBELL_GPA + PAGE && GUEST_DOORBELL_GPA < gpa + len) {
		rc = vm_fail(vm, -EINVAL, "slot %u covers the doorbell", slot);
		goto out;
	}
	if ((rc = set_region(vm, slot, gpa, host, len, flags)) != 0) {
		vm_fail(vm, rc, "KVM_SET_USER_MEMORY_REGION slot %u: %s", slot,
		    strerror(-rc));
		goto out;
	}
	s = &vm->slots[slot];
	memset(s, 0, sizeof(*s));
	s->used = true;
	s->gpa = gpa;
	s->host = host;
	s->len = len;
	s->flags = flags;
 out:
	pthread_mutex_unlock(&vm->slot_m);
	return rc;
}

int
kvmvm_set_slot_flags(struct kvmvm *vm, uint32_t slot, uint32_t flags)
{
	struct kvmvm_slot *s;
	int rc, rc2;

	if (slot >= KVMVM_MAX_SLOTS || slot == KVMVM_SLOT_RAM ||
	    (flags & ~(uint32_t)(KVM_MEM_LOG_DIRTY_PAGES | KVM_MEM_READONLY)))
		return vm_fail(vm, -EINVAL, "slot %u: bad flags", slot);
	pthread_mutex_lock(&vm->slot_m);
	s = &vm->slots[slot];
	if (!s->used) {
		rc = vm_fail(vm, -ENOENT, "slot %u: no such slot", slot);
		goto out;
	}
	if (s->flags == flags) {
		rc = 0;
		goto out;
	}
	if ((s->flags ^ flags) & KVM_MEM_READONLY) {
		/*
		 * KVM rejects a READONLY change on a live slot with EINVAL
		 * (kvm_set_memory_region: "(new->flags ^ old->flags) &
		 * KVM_MEM_READONLY"; checked by test-tracker-kvm), so
		 * delete (size 0) and re-create it.
		 */
		if ((rc = set_region(vm, slot, s->gpa, s->host, 0, 0)) != 0) {
			vm_fail(vm, rc, "slot %u: delete: %s", slot,
			    strerror(-rc));
			goto out;
		}
		rc = set_region(vm, slot, s->gpa, s->host, s->len, flags);
		if (rc != 0) {
			rc2 = set_region(vm, slot, s->gpa, s->host, s->len,
			    s->flags);
			if (rc2 != 0)
				s->used = false;
			vm_fail(vm, rc, "slot %u: re-create with flags "
			    "%#x: %s%s", slot, flags, strerror(-rc),
			    rc2 != 0 ? " (and the slot is lost)" : "");
			goto out;
		}
	} else if ((rc = set_region(vm, slot, s->gpa, s->host, s->len,
	    flags)) != 0) {
		vm_fail(vm, rc, "slot %u: flags %#x: %s", slot, flags,
		    strerror(-rc));
		goto out;
	}
	s->flags = flags;
 out:
	pthread_mutex_unlock(&vm->slot_m);
	return rc;
}

int
kvmvm_slot_info(struct kvmvm *vm, uint32_t slot, uint64_t *gpa, void **host,
    size_t *len, uint32_t *flags)
{
	struct kvmvm_slot *s;
	int rc = 0;

	if (slot >= KVMVM_MAX_SLOTS)
		return -EINVAL;
	pthread_mutex_lock(&vm->slot_m);
	s = &vm->slots[slot];
	if (!s->used)
		rc = -ENOENT;
	else {
		if (gpa != NULL)
			*gpa = s->gpa;
		if (host != NULL)
			*host = s->host;
		if (len != NULL)
			*len = s->len;
		if (flags != NULL)
			*flags = s->flags;
	}
	pthread_mutex_unlock(&vm->slot_m);
	return rc;
}

size_t
kvmvm_dirty_bitmap_size(struct kvmvm *vm, uint32_t slot)
{
	const size_t bpl = 8 * sizeof(unsigned long);
	size_t len = 0, npages;

	if (kvmvm_slot_info(vm, slot, NULL, NULL, &len, NULL) != 0)
		return 0;
	/* KVM: ALIGN(npages, BITS_PER_LONG) / 8 */
	npages = len / PAGE;
	return (npages + bpl - 1) / bpl * sizeof(unsigned long);
}

int
kvmvm_get_dirty_log(struct kvmvm *vm, uint32_t slot, unsigned long *bitmap)
{
	struct kvm_dirty_log dl;

	memset(&dl, 0, sizeof(dl));
	dl.slot = slot;
	dl.dirty_bitmap = bitmap;
	if (ioctl(vm->vmfd, KVM_GET_DIRTY_LOG, &dl) == -1)
		return -errno;
	return 0;
}

int
kvmvm_set_mmio_hook(struct kvmvm *vm, uint32_t slot, kvmvm_mmio_fn *fn,
    void *arg)
{
	struct kvmvm_slot *s;
	int rc = 0;

	if (slot >= KVMVM_MAX_SLOTS)
		return -EINVAL;
	pthread_mutex_lock(&vm->slot_m);
	s = &vm->slots[slot];
	if (!s->used)
		rc = -ENOENT;
	else {
		s->hook = fn;
		s->hookarg = arg;
		/* The caller may free arg once we return. */
		while (fn == NULL && vm->hook_busy > 0)
			pthread_cond_wait(&vm->slot_cv, &vm->slot_m);
	}
	pthread_mutex_unlock(&vm->slot_m);
	return rc;
}

int
kvmvm_load(struct kvmvm *vm, const void *image, size_t len)
{
	struct guest_header h;
	struct kvm_regs regs;
	int r, rc;
	bool running, ran;

	pthread_mutex_lock(&vm->m);
	running = vm->running;
	ran = vm->ran;
	pthread_mutex_unlock(&vm->m);
	if (running)
		return vm_fail(vm, -EBUSY, "load: the vCPU is running");
	if (len < sizeof(h))
		return vm_fail(vm, -ENOEXEC, "guest image: %zu octets", len);
	memcpy(&h, image, sizeof(h));
	if (h.magic != GUEST_MAGIC || h.abi != GUEST_ABI_VERSION)
		return vm_fail(vm, -ENOEXEC, "guest image: magic %#x abi %u, "
		    "want %#x abi %u", h.magic, h.abi, GUEST_MAGIC,
		    GUEST_ABI_VERSION);
	if (h.load != GUEST_LOAD_GPA || h.image_end < h.load + len ||
	    h.bss_end < h.image_end ||
	    h.bss_end > vm->ramsize - GUEST_STACK_MIN ||
	    h.entry < h.load + sizeof(h) || h.entry >= h.image_end)
		return vm_fail(vm, -ENOEXEC, "guest image: bad layout (load "
		    "%#llx entry %#llx end %#llx bss %#llx, %zu octets, RAM "
		    "%zu)", (unsigned long long)h.load,
		    (unsigned long long)h.entry,
		    (unsigned long long)h.image_end,
		    (unsigned long long)h.bss_end, len, vm->ramsize);
	/*
	 * An MMIO exit is complete only once KVM_RUN is re-entered; with
	 * immediate_exit set that completes it and returns EINTR at once
	 * (KVM API, "immediate_exit"), so the registers set below are not
	 * overwritten by the completion of the old guest's last store.
	 */
	if (ran) {
		__atomic_store_n(&vm->run->immediate_exit, 1,
		    __ATOMIC_RELAXED);
		r = ioctl(vm->vcpufd, KVM_RUN, 0);
		rc = r == -1 ? -errno : -EIO;
		__atomic_store_n(&vm->run->immediate_exit, 0,
		    __ATOMIC_RELAXED);
		if (rc != -EINTR)
			return vm_fail(vm, rc, "load: completing the last "
			    "exit: %s", strerror(-rc));
	}
	memcpy(vm->ram + GUEST_LOAD_GPA, image, len);
	memset(vm->ram + GUEST_LOAD_GPA + len, 0, h.bss_end - h.load - len);

	if ((rc = setup_sregs(vm)) != 0)
		return vm_fail(vm, rc, "KVM_SET_SREGS: %s", strerror(-rc));
	memset(&regs, 0, sizeof(regs));
	regs.rip = h.entry;
	regs.rsp = GUEST_STACK_TOP(vm->ramsize);
	regs.rflags = 0x2;
	if (ioctl(vm->vcpufd, KVM_SET_REGS, &regs) == -1) {
		rc = -errno;
		return vm_fail(vm, rc, "KVM_SET_REGS: %s", strerror(-rc));
	}
	pthread_mutex_lock(&vm->m);
	vm->failed = false;
	pthread_mutex_unlock(&vm->m);
	return 0;
}

/* Copy a NUL-terminated guest string (in RAM) for a message. */
static void
guest_string(struct kvmvm *vm, uint64_t gpa, char *buf, size_t len)
{
	size_t i;

	for (i = 0; i + 1 < len && gpa + i < vm->ramsize; i++) {
		buf[i] = (char)vm->ram[gpa + i];
		if (buf[i] == '\0')
			return;
		if (buf[i] < 0x20 || buf[i] > 0x7e)
			buf[i] = '?';
	}
	buf[i] = '\0';
}

static int
guest_crash(struct kvmvm *vm, const char *what)
{
	struct kvm_regs r;
	struct kvm_sregs sr;

	memset(&r, 0, sizeof(r));
	memset(&sr, 0, sizeof(sr));
	(void)ioctl(vm->vcpufd, KVM_GET_REGS, &r);
	(void)ioctl(vm->vcpufd, KVM_GET_SREGS, &sr);
	return vm_fail(vm, -EIO, "guest %s at rip %#llx rsp %#llx (cr2 %#llx)",
	    what, (unsigned long long)r.rip, (unsigned long long)r.rsp,
	    (unsigned long long)sr.cr2);
}

static int
handle_doorbell(struct kvmvm *vm, kvmvm_doorbell_fn *fn, void *arg)
{
	struct kvm_run *run = vm->run;
	struct guest_mailbox *mb = kvmvm_mailbox(vm);
	uint64_t off = run->mmio.phys_addr - GUEST_DOORBELL_GPA, value = 0;
	uint32_t code = (uint32_t)(off / 8);
	char msg[200];
	int rc;

	if (!run->mmio.is_write) {
		/* Reads of the doorbell page return zeroes. */
		memset(run->mmio.data, 0, sizeof(run->mmio.data));
		return 0;
	}
	memcpy(&value, run->mmio.data,
	    run->mmio.len < sizeof(value) ? run->mmio.len : sizeof(value));
	if (fn != NULL && (rc = fn(arg, code, value)) != 0)
		return rc;

	switch (code) {
	case GUEST_DB_WAIT:
		pthread_mutex_lock(&vm->m);
		while (!vm->stop && __atomic_load_n(&mb->cmd_seq,
		    __ATOMIC_ACQUIRE) == (uint32_t)value)
			pthread_cond_wait(&vm->cv, &vm->m);
		pthread_mutex_unlock(&vm->m);
		return 0;
	case GUEST_DB_DONE:
	case GUEST_DB_READY:
		pthread_mutex_lock(&vm->m);
		pthread_cond_broadcast(&vm->cv);
		pthread_mutex_unlock(&vm->m);
		return 0;
	case GUEST_DB_EXIT:
		pthread_mutex_lock(&vm->m);
		vm->failed = true;
		snprintf(vm->why, sizeof(vm->why), "guest exited with %lld",
		    (long long)value);
		pthread_cond_broadcast(&vm->cv);
		pthread_mutex_unlock(&vm->m);
		return KVMVM_GUEST_EXIT;
	case GUEST_DB_PANIC:
		guest_string(vm, value, msg, sizeof(msg));
		return vm_fail(vm, -EIO, "guest panic: %s", msg);
	case GUEST_DB_PUTS:
		guest_string(vm, value, msg, sizeof(msg));
		log_info("guest: %s", msg);
		return 0;
	default:
		return 0;
	}
}

static int
handle_mmio(struct kvmvm *vm, kvmvm_doorbell_fn *fn, void *arg)
{
	struct kvm_run *run = vm->run;
	uint64_t gpa = run->mmio.phys_addr;
	struct kvmvm_slot *s;
	kvmvm_mmio_fn *hook = NULL;
	void *hookarg = NULL;
	char what[80];
	uint32_t i;
	int rc;

	if (gpa >= GUEST_DOORBELL_GPA && gpa < GUEST_DOORBELL_GPA + PAGE)
		return handle_doorbell(vm, fn, arg);

	pthread_mutex_lock(&vm->slot_m);
	for (i = 0; i < KVMVM_MAX_SLOTS; i++) {
		s = &vm->slots[i];
		if (s->used && gpa >= s->gpa && gpa < s->gpa + s->len) {
			if (run->mmio.len > s->gpa + s->len - gpa)
				break;
			hook = s->hook;
			hookarg = s->hookarg;
			break;
		}
	}
	if (hook != NULL)
		vm->hook_busy++;
	pthread_mutex_unlock(&vm->slot_m);
	if (hook == NULL) {
		snprintf(what, sizeof(what), "%s unbacked memory at gpa %#llx",
		    run->mmio.is_write ? "wrote to" : "read",
		    (unsigned long long)gpa);
		return guest_crash(vm, what);
	}

	rc = hook(hookarg, gpa, run->mmio.data, run->mmio.len,
	    run->mmio.is_write != 0);

	pthread_mutex_lock(&vm->slot_m);
	if (--vm->hook_busy == 0)
		pthread_cond_broadcast(&vm->slot_cv);
	pthread_mutex_unlock(&vm->slot_m);
	if (rc < 0)
		vm_fail(vm, rc, "MMIO hook at %#llx: %s",
		    (unsigned long long)gpa, strerror(-rc));
	return rc < 0 ? rc : 0;
}

static int
handle_exit(struct kvmvm *vm, kvmvm_doorbell_fn *fn, void *arg)
{
	struct kvm_run *run = vm->run;

	switch (run->exit_reason) {
	case KVM_EXIT_MMIO:
		return handle_mmio(vm, fn, arg);
	case KVM_EXIT_INTR:
		return 0;
	case KVM_EXIT_SHUTDOWN:
		return guest_crash(vm, "triple fault (no IDT: an exception)");
	case KVM_EXIT_HLT:
		return guest_crash(vm, "halted");
	case KVM_EXIT_IO:
		return guest_crash(vm, "did port I/O");
	case KVM_EXIT_FAIL_ENTRY:
		return vm_fail(vm, -EIO, "KVM_EXIT_FAIL_ENTRY, reason %#llx",
		    (unsigned long long)
		    run->fail_entry.hardware_entry_failure_reason);
	case KVM_EXIT_INTERNAL_ERROR:
		return vm_fail(vm, -EIO, "KVM_EXIT_INTERNAL_ERROR, "
		    "suberror %u", run->internal.suberror);
	default:
		return guest_crash(vm, "caused an unexpected KVM exit");
	}
}

int
kvmvm_run(struct kvmvm *vm, kvmvm_doorbell_fn *fn, void *arg)
{
	sigset_t set, old;
	int rc, r, err;

	pthread_mutex_lock(&vm->m);
	if (vm->running) {
		pthread_mutex_unlock(&vm->m);
		return -EBUSY;
	}
	vm->running = true;
	vm->thread = pthread_self();
	pthread_mutex_unlock(&vm->m);

	/* The kick signal must reach this thread while it is in KVM_RUN. */
	sigemptyset(&set);
	sigaddset(&set, kvmvm_kick_signal());
	pthread_sigmask(SIG_UNBLOCK, &set, &old);

	pthread_mutex_lock(&vm->m);
	for (;;) {
		while (vm->pause > 0 && !vm->stop)
			pthread_cond_wait(&vm->cv, &vm->m);
		if (vm->stop) {
			vm->stop = false;
			rc = KVMVM_STOPPED;
			break;
		}
		__atomic_store_n(&vm->run->immediate_exit, 0,
		    __ATOMIC_RELAXED);
		vm->in_run = true;
		vm->ran = true;
		pthread_mutex_unlock(&vm->m);

		r = ioctl(vm->vcpufd, KVM_RUN, 0);
		err = errno;

		pthread_mutex_lock(&vm->m);
		vm->in_run = false;
		pthread_cond_broadcast(&vm->cv);
		if (r == -1) {
			if (err == EINTR || err == EAGAIN)
				continue;
			snprintf(vm->why, sizeof(vm->why), "KVM_RUN: %s",
			    strerror(err));
			rc = -err;
			break;
		}
		pthread_mutex_unlock(&vm->m);
		rc = handle_exit(vm, fn, arg);
		pthread_mutex_lock(&vm->m);
		if (rc != 0)
			break;
	}
	if (rc < 0)
		vm->failed = true;
	vm->running = false;
	pthread_cond_broadcast(&vm->cv);
	pthread_mutex_unlock(&vm->m);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return rc;
}

/* Under vm->m: get the vCPU thread out of KVM_RUN soon. */
static void
kick_locked(struct kvmvm *vm)
{
	if (!vm->in_run || pthread_equal(vm->thread, pthread_self()))
		return;
	__atomic_store_n(&vm->run->immediate_exit, 1, __ATOMIC_RELAXED);
	pthread_kill(vm->thread, kvmvm_kick_signal());
}

void
kvmvm_stop(struct kvmvm *vm)
{
	pthread_mutex_lock(&vm->m);
	vm->stop = true;
	kick_locked(vm);
	pthread_cond_broadcast(&vm->cv);
	pthread_mutex_unlock(&vm->m);
}

void
kvmvm_pause(struct kvmvm *vm)
{
	pthread_mutex_lock(&vm->m);
	vm->pause++;
	if (vm->in_run && !pthread_equal(vm->thread, pthread_self())) {
		kick_locked(vm);
		while (vm->in_run)
			pthread_cond_wait(&vm->cv, &vm->m);
	}
	pthread_mutex_unlock(&vm->m);
}

void
kvmvm_resume(struct kvmvm *vm)
{
	pthread_mutex_lock(&vm->m);
	if (vm->pause > 0 && --vm->pause == 0)
		pthread_cond_broadcast(&vm->cv);
	pthread_mutex_unlock(&vm->m);
}

int64_t
kvmvm_cmd_post(struct kvmvm *vm, uint32_t cmd, const uint64_t *args,
    unsigned int nargs, const void *data, size_t datalen)
{
	struct guest_mailbox *mb = kvmvm_mailbox(vm);
	uint32_t seq;

	if (nargs > GUEST_MAILBOX_NARGS || datalen > GUEST_MAILBOX_DATA)
		return -EINVAL;
	pthread_mutex_lock(&vm->m);
	seq = mb->cmd_seq;
	if (__atomic_load_n(&mb->ack_seq, __ATOMIC_ACQUIRE) != seq) {
		pthread_mutex_unlock(&vm->m);
		return -EBUSY;	/* the previous command is still running */
	}
	mb->cmd = cmd;
	memset(mb->arg, 0, sizeof(mb->arg));
	if (nargs > 0)
		memcpy(mb->arg, args, nargs * sizeof(args[0]));
	if (datalen > 0)
		memcpy(mb->data, data, datalen);
	__atomic_store_n(&mb->stop, 0, __ATOMIC_RELAXED);
	seq++;
	__atomic_store_n(&mb->cmd_seq, seq, __ATOMIC_RELEASE);
	pthread_cond_broadcast(&vm->cv);
	pthread_mutex_unlock(&vm->m);
	return seq;
}

int
kvmvm_cmd_wait(struct kvmvm *vm, int64_t seq, int timeout_ms,
    int32_t *status)
{
	struct guest_mailbox *mb = kvmvm_mailbox(vm);
	struct timespec dl;
	int rc = 0;

	clock_gettime(CLOCK_MONOTONIC, &dl);
	dl.tv_sec += timeout_ms / 1000;
	dl.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (dl.tv_nsec >= 1000000000L) {
		dl.tv_sec++;
		dl.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&vm->m);
	while (__atomic_load_n(&mb->ack_seq, __ATOMIC_ACQUIRE) !=
	    (uint32_t)seq) {
		if (vm->failed) {
			rc = -EPIPE;
			break;
		}
		if (pthread_cond_timedwait(&vm->cv, &vm->m, &dl) ==
		    ETIMEDOUT &&
		    __atomic_load_n(&mb->ack_seq, __ATOMIC_ACQUIRE) !=
		    (uint32_t)seq) {
			rc = -ETIMEDOUT;
			break;
		}
	}
	if (rc == 0 && status != NULL)
		*status = mb->status;
	pthread_mutex_unlock(&vm->m);
	return rc;
}

void
kvmvm_cmd_stop(struct kvmvm *vm)
{
	struct guest_mailbox *mb = kvmvm_mailbox(vm);

	__atomic_store_n(&mb->stop, 1, __ATOMIC_RELEASE);
}

int
kvmvm_input_push(struct kvmvm *vm, const struct guest_input *ev)
{
	struct guest_mailbox *mb = kvmvm_mailbox(vm);
	uint32_t head;
	int rc = 0;

	pthread_mutex_lock(&vm->m);
	head = mb->in_head;
	if (head - __atomic_load_n(&mb->in_tail, __ATOMIC_ACQUIRE) >=
	    GUEST_INPUT_RING)
		rc = -ENOBUFS;
	else {
		mb->in[head % GUEST_INPUT_RING] = *ev;
		__atomic_store_n(&mb->in_head, head + 1, __ATOMIC_RELEASE);
	}
	pthread_mutex_unlock(&vm->m);
	return rc;
}
