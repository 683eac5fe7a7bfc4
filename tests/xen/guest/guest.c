/*
 * The Xen test guest, 32-bit protected mode part (boot.S set the VBE mode
 * and jumped here with interrupts off, flat segments, no paging).
 *
 * It draws pattern.h's deterministic workloads into the linear framebuffer
 * and reacts to input, polling the devices on every PIT tick (XG_HZ) and
 * sleeping in HLT in between:
 *   - COM1 input "!<digit>" selects workload <digit>; "?" asks for a status
 *     line.  (Status goes to port 0xe9, i.e. Xen's console, and to COM1.)
 *   - a PS/2 key press (set-1 make code, via the i8042 at 0x60/0x64) fills
 *     the next key slot with xg_key_colour(code) and is reported as
 *     "LFBGUEST key 0x1e";
 *   - PS/2 mouse packets move a square pointer, white, red while the left
 *     button is down, reported as "LFBGUEST pointer X Y B".
 * Every line the guest prints starts with "LFBGUEST ".
 */
#include <stdint.h>
#include "pattern.h"

/* from boot.S */
extern volatile uint32_t xg_ticks;
extern uint32_t xg_lfb;
extern uint16_t xg_pitch, xg_vbe_mode;
extern const uint8_t xg_config[16];
extern const uint32_t xg_exc_table[32];
void isr_timer(void);
void isr_irq_master(void);
void isr_irq_slave(void);
void guest_main(void);
void guest_exception(uint32_t vector, uint32_t err, uint32_t eip);

volatile uint32_t xg_ticks;

static uint32_t width, height, pitch;	/* pitch in pixels */
static volatile uint32_t *fb;

/* ------------------------------------------------------------ ports */
static inline void outb(uint16_t port, uint8_t v)
{
	__asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline uint8_t inb(uint16_t port)
{
	uint8_t v;

	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

void *memset(void *d, int c, uint32_t n);
void *memset(void *d, int c, uint32_t n)
{
	uint8_t *p = d;

	while (n--)
		*p++ = (uint8_t)c;
	return d;
}

/* ------------------------------------------------------------ output */
static void putch(char c)
{
	int i;

	outb(0xe9, (uint8_t)c);
	for (i = 0; i < 1000 && !(inb(0x3fd) & 0x20); i++)
		;
	outb(0x3f8, (uint8_t)c);
}

static void puts_(const char *s)
{
	while (*s)
		putch(*s++);
}

static void putu(uint32_t v)
{
	char b[11];
	int n = 0;

	do
		b[n++] = (char)('0' + v % 10);
	while (v /= 10);
	while (n)
		putch(b[--n]);
}

static void putx(uint32_t v)
{
	int i, started = 0;

	puts_("0x");
	for (i = 28; i >= 0; i -= 4) {
		uint32_t d = (v >> i) & 15;
		if (d || started || i == 0) {
			putch((char)(d < 10 ? '0' + d : 'a' + d - 10));
			started = 1;
		}
	}
}

void guest_exception(uint32_t vector, uint32_t err, uint32_t eip)
{
	puts_("LFBGUEST FAIL exception ");
	putu(vector);
	puts_(" stack ");
	putx(err);
	putch(' ');
	putx(eip);
	putch('\n');
}

/* ------------------------------------------------------------ drawing */
static inline void px(uint32_t x, uint32_t y, uint32_t c)
{
	fb[y * pitch + x] = c;
}

static void fill(uint32_t x0, uint32_t y0, uint32_t w, uint32_t h, uint32_t c)
{
	uint32_t x, y;

	for (y = y0; y < y0 + h && y < height; y++)
		for (x = x0; x < x0 + w && x < width; x++)
			px(x, y, c);
}

static void draw_bg(void)
{
	uint32_t x, y;

	for (y = 0; y < height; y++)
		for (x = 0; x < width; x++)
			px(x, y, xg_bg(x, y));
}

/* ------------------------------------------------------------ pointer */
static struct {
	int shown, x, y, buttons;
	uint32_t under[XG_CUR_SIZE * XG_CUR_SIZE];
	uint8_t pkt[3];
	int npkt;
} cur;

static void cursor_hide(void)
{
	int i, j;

	if (!cur.shown)
		return;
	for (j = 0; j < XG_CUR_SIZE; j++)
		for (i = 0; i < XG_CUR_SIZE; i++)
			px((uint32_t)(cur.x + i), (uint32_t)(cur.y + j),
			   cur.under[j * XG_CUR_SIZE + i]);
	cur.shown = 0;
}

static void cursor_show(void)
{
	uint32_t c = (cur.buttons & 1) ? XG_CUR_PRESSED : XG_CUR_COLOUR;
	int i, j;

	for (j = 0; j < XG_CUR_SIZE; j++)
		for (i = 0; i < XG_CUR_SIZE; i++) {
			uint32_t x = (uint32_t)(cur.x + i), y = (uint32_t)(cur.y + j);
			cur.under[j * XG_CUR_SIZE + i] = fb[y * pitch + x];
			px(x, y, c);
		}
	cur.shown = 1;
}

/* After drawing under a shown pointer: take the new pixels as what is under
 * it, and draw it again. */
static void cursor_refresh(void)
{
	if (cur.shown) {
		cur.shown = 0;
		cursor_show();
	}
}

static void mouse_byte(uint8_t b)
{
	int dx, dy, shown;

	if (cur.npkt == 0 && !(b & 0x08))
		return;			/* out of sync: wait for a first byte */
	cur.pkt[cur.npkt++] = b;
	if (cur.npkt < 3)
		return;
	cur.npkt = 0;
	dx = cur.pkt[1] - ((cur.pkt[0] & 0x10) ? 256 : 0);
	dy = cur.pkt[2] - ((cur.pkt[0] & 0x20) ? 256 : 0);
	shown = cur.shown;
	cursor_hide();
	if (!shown && cur.x == 0 && cur.y == 0) {
		cur.x = (int)width / 2;
		cur.y = (int)height / 2;
	}
	cur.x += dx;
	cur.y -= dy;			/* PS/2: positive is up */
	if (cur.x < 0)
		cur.x = 0;
	if (cur.y < 0)
		cur.y = 0;
	if (cur.x > (int)width - XG_CUR_SIZE)
		cur.x = (int)width - XG_CUR_SIZE;
	if (cur.y > (int)height - XG_CUR_SIZE)
		cur.y = (int)height - XG_CUR_SIZE;
	cur.buttons = cur.pkt[0] & 7;
	cursor_show();
	puts_("LFBGUEST pointer ");
	putu((uint32_t)cur.x);
	putch(' ');
	putu((uint32_t)cur.y);
	putch(' ');
	putu((uint32_t)cur.buttons);
	putch('\n');
}

/* ------------------------------------------------------------ keys */
static uint32_t nkeys;
static int e0;

static void key_byte(uint8_t b)
{
	uint32_t code, slot;

	if (b == 0xe0) {
		e0 = 1;
		return;
	}
	code = b | (e0 ? 0x100u : 0);
	e0 = 0;
	if (b & 0x80 || b == 0xe1 || b == 0xfa || b == 0xfe || b == 0)
		return;			/* releases, pause prefix, replies */
	slot = nkeys++ % XG_KEY_SLOTS;
	fill(XG_KEY_X + slot * XG_KEY_W + 2, XG_KEY_Y, XG_KEY_W - 4, XG_KEY_H,
	     xg_key_colour(code));
	cursor_refresh();
	puts_("LFBGUEST key ");
	putx(code);
	puts_(" slot ");
	putu(slot);
	putch('\n');
}

/* ------------------------------------------------------------ i8042 */
static int kbc_wait_write(void)
{
	int i;

	for (i = 0; i < 100000; i++)
		if (!(inb(0x64) & 0x02))
			return 0;
	return -1;
}

static int kbc_read(void)
{
	int i;

	for (i = 0; i < 100000; i++)
		if (inb(0x64) & 0x01)
			return inb(0x60);
	return -1;
}

static void kbc_cmd(uint8_t c)
{
	kbc_wait_write();
	outb(0x64, c);
}

static void kbc_data(uint8_t d)
{
	kbc_wait_write();
	outb(0x60, d);
}

static void mouse_init(void)
{
	int cfg, ack;

	while (inb(0x64) & 0x01)
		(void)inb(0x60);
	kbc_cmd(0xa8);			/* enable the aux port */
	kbc_cmd(0x20);			/* read the command byte */
	cfg = kbc_read();
	if (cfg >= 0) {
		cfg &= ~0x20;		/* aux clock on */
		cfg &= ~0x03;		/* no IRQ 1/12: we poll */
		kbc_cmd(0x60);
		kbc_data((uint8_t)cfg);
	}
	kbc_cmd(0xd4);
	kbc_data(0xf6);			/* defaults */
	(void)kbc_read();
	kbc_cmd(0xd4);
	kbc_data(0xf4);			/* enable reporting */
	ack = kbc_read();
	puts_("LFBGUEST mouse ");
	puts_(ack == 0xfa ? "on\n" : "no ack\n");
}

static void poll_kbc(void)
{
	int i;
	uint8_t st;

	for (i = 0; i < 64; i++) {
		st = inb(0x64);
		if (!(st & 0x01))
			break;
		if (st & 0x20)
			mouse_byte(inb(0x60));
		else
			key_byte(inb(0x60));
	}
}

/* ------------------------------------------------------------ workloads */
static struct {
	int id;
	uint32_t next;		/* tick of the next step */
	uint32_t n;		/* steps so far */
} wl;

static void status(void)
{
	puts_("LFBGUEST status workload ");
	putu((uint32_t)wl.id);
	puts_(" steps ");
	putu(wl.n);
	puts_(" keys ");
	putu(nkeys);
	puts_(" ticks ");
	putu(xg_ticks);
	putch('\n');
}

static void workload_start(int id)
{
	cursor_hide();
	wl.id = id;
	wl.n = 0;
	nkeys = 0;		/* the background covers the key slots again */
	wl.next = xg_ticks;
	draw_bg();
	if (id == XG_WL_TYPING)
		fill(XG_TEXT_X, XG_TEXT_Y, XG_TEXT_COLS * XG_CELL_W,
		     XG_TEXT_ROWS * XG_CELL_H, XG_TEXT_BG);
	if (cur.x || cur.y)
		cursor_show();
	puts_("LFBGUEST workload ");
	putu((uint32_t)id);
	putch('\n');
}

static void draw_cell(uint32_t i)
{
	uint32_t cell = i % (XG_TEXT_COLS * XG_TEXT_ROWS);
	uint32_t x0 = XG_TEXT_X + (cell % XG_TEXT_COLS) * XG_CELL_W;
	uint32_t y0 = XG_TEXT_Y + (cell / XG_TEXT_COLS) * XG_CELL_H;
	uint32_t gx, gy;

	if (cell == 0 && i != 0)	/* the box is full: clear it */
		fill(XG_TEXT_X, XG_TEXT_Y, XG_TEXT_COLS * XG_CELL_W,
		     XG_TEXT_ROWS * XG_CELL_H, XG_TEXT_BG);
	for (gy = 0; gy < XG_CELL_H; gy++)
		for (gx = 0; gx < XG_CELL_W; gx++)
			px(x0 + gx, y0 + gy, xg_glyph_bit(cell, gx, gy) ?
			   XG_TEXT_FG : XG_TEXT_BG);
}

static void workload_step(void)
{
	uint32_t x, y, period;

	switch (wl.id) {
	case XG_WL_BLINK:
		period = XG_BLINK_MS * XG_HZ / 1000;
		break;
	case XG_WL_TYPING:
		period = XG_TYPE_MS * XG_HZ / 1000;
		break;
	case XG_WL_FULL:
		period = XG_FULL_MS * XG_HZ / 1000;
		break;
	default:
		return;
	}
	if ((int32_t)(xg_ticks - wl.next) < 0)
		return;
	wl.next = xg_ticks + period;
	switch (wl.id) {
	case XG_WL_BLINK:
		fill(XG_BLINK_X, XG_BLINK_Y, XG_BLINK_W, XG_BLINK_H,
		     (wl.n & 1) ? XG_BLINK_OFF : XG_BLINK_ON);
		break;
	case XG_WL_TYPING:
		draw_cell(wl.n);
		break;
	case XG_WL_FULL:
		for (y = 0; y < height; y++)
			for (x = 0; x < width; x++)
				px(x, y, xg_full(x, y, wl.n));
		break;
	}
	wl.n++;
	cursor_refresh();
}

/* ------------------------------------------------------------ COM1 */
static int bang;

static void poll_serial(void)
{
	int i;
	uint8_t c;

	for (i = 0; i < 16 && (inb(0x3fd) & 0x01); i++) {
		c = inb(0x3f8);
		if (bang && c >= '0' && c < '0' + XG_WL_COUNT)
			workload_start(c - '0');
		else if (c == '?')
			status();
		bang = c == '!';
	}
}

/* ------------------------------------------------------------ setup */
static struct {
	uint16_t lo, sel;
	uint8_t zero, type;
	uint16_t hi;
} __attribute__((packed)) idt[256];

static void set_gate(int v, uint32_t fn)
{
	idt[v].lo = (uint16_t)fn;
	idt[v].sel = 0x08;
	idt[v].zero = 0;
	idt[v].type = 0x8e;
	idt[v].hi = (uint16_t)(fn >> 16);
}

static void setup_interrupts(void)
{
	struct {
		uint16_t limit;
		uint32_t base;
	} __attribute__((packed)) d = { sizeof(idt) - 1, (uint32_t)idt };
	uint16_t div = 1193182 / XG_HZ;
	int v;

	for (v = 0; v < 32; v++)
		set_gate(v, xg_exc_table[v]);
	for (v = 0x20; v < 0x28; v++)
		set_gate(v, (uint32_t)isr_irq_master);
	for (v = 0x28; v < 0x30; v++)
		set_gate(v, (uint32_t)isr_irq_slave);
	set_gate(0x20, (uint32_t)isr_timer);
	__asm__ volatile("lidt %0" : : "m"(d));

	/* PICs: vectors 0x20/0x28, only IRQ 0 unmasked */
	outb(0x20, 0x11);
	outb(0xa0, 0x11);
	outb(0x21, 0x20);
	outb(0xa1, 0x28);
	outb(0x21, 0x04);
	outb(0xa1, 0x02);
	outb(0x21, 0x01);
	outb(0xa1, 0x01);
	outb(0x21, 0xfe);
	outb(0xa1, 0xff);
	/* PIT channel 0: rate generator at XG_HZ */
	outb(0x43, 0x34);
	outb(0x40, (uint8_t)div);
	outb(0x40, (uint8_t)(div >> 8));
}

void guest_main(void)
{
	int w = xg_config[4];

	width = xg_config[6] | (uint32_t)xg_config[7] << 8;
	height = xg_config[8] | (uint32_t)xg_config[9] << 8;
	pitch = xg_pitch / 4;
	fb = (volatile uint32_t *)xg_lfb;
	setup_interrupts();
	mouse_init();
	if (w >= XG_WL_COUNT)
		w = XG_WL_IDLE;
	workload_start(w);
	puts_("LFBGUEST ready mode=");
	putu(width);
	putch('x');
	putu(height);
	puts_("x32 pitch=");
	putu(xg_pitch);
	puts_(" lfb=");
	putx(xg_lfb);
	puts_(" vbe=");
	putx(xg_vbe_mode);
	puts_(" workload=");
	putu((uint32_t)w);
	putch('\n');
	for (;;) {
		__asm__ volatile("sti; hlt; cli" ::: "memory");
		poll_serial();
		poll_kbc();
		workload_step();
	}
}
