// browser.js - drives headless Chromium through noVNC for the browser
// tests (test-browser.sh, test-browser-password.sh, test-gateway.sh),
// with playwright-core (found through NODE_PATH).  Run by the script,
// which has started lfbvnc-demo (frozen), lfbvncd and maybe a gateway,
// and which checks the pictures this writes with imgdiff afterwards.
//
// Environment, every mode: MODE (viewer, the default; gateway; picture),
// URL (the page to open, see below), WIDTH, HEIGHT (the demos' size), OUT
// (a directory for the pictures and the browser profile), CHROMIUM (the
// browser), DEADLINE_MS (the whole run).
//
// MODE=viewer: URL is the landing URL lfbvncd reports (its web root),
// VNC_PORT the RFB port it must lead to, FB the demo's framebuffer (a
// /proc/PID/fd/N path), DEMO_PID and DEMO_LOG (to freeze and thaw the
// demo: SIGUSR2, then its log says "paused" or "resumed"); PASSWORD and
// WRONG_PASSWORD when the guest has a password.  Steps, each bounded (the
// demo draws the idle desktop, frozen but while input is sent):
//  0. with WRONG_PASSWORD: open URL; noVNC must show its credentials
//     prompt; WRONG_PASSWORD is typed into it, and noVNC must show the
//     refusal, never connect, and show no frame (OUT/page-wrong.png);
//  1. as a user: open URL; it must redirect to noVNC's vnc.html with
//     autoconnect and our RFB port (and no password), noVNC must connect
//     (html.noVNC_connected) -- with PASSWORD, after its credentials
//     prompt opened and PASSWORD was typed into it; without, with no
//     prompt -- and its canvas must come close to the framebuffer (noVNC
//     asks for Tight with JPEG): OUT/shot-user.png is the canvas' pixels
//     (whatever CSS scaling shows), OUT/page-user.png the page as seen;
//  2. the same page with noVNC's SetEncodings stripped of the JPEG quality
//     levels: the canvas must equal the framebuffer exactly
//     (OUT/shot-exact1.png);
//  3. a pointer move and click through the page must draw the pointer
//     where it was aimed, and the canvas must show it (shot-exact2.png);
//  4. typed keys must change the terminal, and the canvas must show it
//     (shot-exact3.png).
// The frames read from FB go to OUT/frameN.raw (1 to 3) for imgdiff.
//
// MODE=gateway: URL is a gateway's web root (websockify --web, routing
// by token); GUESTS is "TOKEN=FB TOKEN=FB..." (each token's demo
// framebuffer), UNKNOWN_TOKEN one the gateway does not know.  For each
// token, noVNC from the gateway with path "websockify?token=TOKEN",
// lossless as in step 2, must connect and its canvas must equal that
// guest's frame (OUT/frame-TOKEN.raw, OUT/shot-TOKEN.png) and no other
// guest's; with UNKNOWN_TOKEN, noVNC must fail to connect.
//
// MODE=picture: the web viewer as a user sees it, for the README: URL as
// in viewer mode (and PASSWORD, FB), the browser window as large as the
// frame (noVNC scales 1:1), lossless as in step 2; once the canvas equals
// the frame (OUT/frame-picture.raw, OUT/shot-picture.png), with noVNC's
// status gone and its control bar open, the page goes to
// OUT/page-picture.png.
//
// Prints one line per step; exits 0, or 1 saying what went wrong (with
// the pages' console, and OUT/failed-PAGE.png).
'use strict';

const fs = require('fs');
const path = require('path');
const { chromium } = require('playwright-core');

const env = (k) => {
	if (process.env[k] === undefined || process.env[k] === '')
		throw new Error(`${k} is not set`);
	return process.env[k];
};
const MODE = process.env.MODE || 'viewer';
const W = Number(env('WIDTH')), H = Number(env('HEIGHT'));
const OUT = env('OUT');
const t0 = Date.now();
const deadline = t0 + Number(process.env.DEADLINE_MS || 40000);
const since = () => ((Date.now() - t0) / 1000).toFixed(1) + ' s';
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const left = () => Math.max(0, deadline - Date.now());
const say = (s) => console.log(`browser.js: ${s} (${since()})`);

// The visible frame of the framebuffer fb, as RGBA like ImageData; the
// XRGB8888 little-endian octets as read go to OUT/NAME.raw for imgdiff.
function readFrame(fb, name) {
	const n = W * H * 4;
	const buf = Buffer.alloc(n);
	const fd = fs.openSync(fb, 'r');
	try {
		let got = 0;
		while (got < n) {
			const r = fs.readSync(fd, buf, got, n - got, got);
			if (r <= 0)
				throw new Error(`short read of ${fb}`);
			got += r;
		}
	} finally {
		fs.closeSync(fd);
	}
	fs.writeFileSync(path.join(OUT, `${name}.raw`), buf);
	for (let i = 0; i < n; i += 4) {
		const b = buf[i];
		buf[i] = buf[i + 2];
		buf[i + 2] = b;
		buf[i + 3] = 255;
	}
	return buf;
}

// How many pixels of two frames differ, and where.
function diffBox(a, b) {
	const r = { n: 0, x0: W, y0: H, x1: -1, y1: -1 };
	for (let i = 0; i < a.length; i += 4) {
		if (a[i] === b[i] && a[i + 1] === b[i + 1] && a[i + 2] === b[i + 2])
			continue;
		const x = (i / 4) % W, y = Math.floor(i / 4 / W);
		r.n++;
		r.x0 = Math.min(r.x0, x);
		r.y0 = Math.min(r.y0, y);
		r.x1 = Math.max(r.x1, x);
		r.y1 = Math.max(r.y1, y);
	}
	r.text = `${r.n} pixels in (${r.x0},${r.y0})-(${r.x1},${r.y1})`;
	return r;
}

// SIGUSR2, then wait for the demo to log the new state.
async function toggle(word) {
	const count = () => (fs.readFileSync(env('DEMO_LOG'), 'utf8')
	    .match(new RegExp(`^lfbvnc-demo: ${word}$`, 'gm')) || []).length;
	const before = count();
	process.kill(Number(env('DEMO_PID')), 'SIGUSR2');
	for (let i = 0; i < 50 && count() === before; i++)
		await sleep(100);
	if (count() === before)
		throw new Error(`the demo did not log "${word}"`);
	await sleep(300);	// a frame being drawn may still finish
}

// In the page: the canvas against the frame window.__want: how many
// pixels differ, the first few, the mean absolute error per channel.
function pageCompare() {
	const c = document.querySelector('#noVNC_container canvas');
	if (c === null)
		return { error: 'no canvas' };
	const want = window.__want;
	if (c.width !== want.w || c.height !== want.h)
		return { error: `canvas is ${c.width}x${c.height}` };
	const got = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
	let n = 0, sum = 0;
	const first = [];
	for (let i = 0; i < got.length; i += 4) {
		const d = Math.abs(got[i] - want.px[i]) +
		    Math.abs(got[i + 1] - want.px[i + 1]) +
		    Math.abs(got[i + 2] - want.px[i + 2]);
		if (d === 0)
			continue;
		n++;
		sum += d;
		if (first.length < 5) {
			const p = i / 4, hex = (a, j) => ((a[j] << 16) |
			    (a[j + 1] << 8) | a[j + 2]).toString(16).padStart(6, '0');
			first.push(`(${p % c.width},${Math.floor(p / c.width)}) ` +
			    `${hex(got, i)} want ${hex(want.px, i)}`);
		}
	}
	return { ndiff: n, mean: sum / (got.length / 4 * 3), first };
}

// Poll until the canvas equals frame (exact) or, lossy, is within a mean
// absolute error of 3 and has stopped changing (imgdiff judges the
// picture then); up to ms.  The last result.
async function waitCanvas(page, frame, ms, lossy) {
	await page.evaluate(({ b64, w, h }) => {
		const s = atob(b64), px = new Uint8Array(s.length);
		for (let i = 0; i < s.length; i++)
			px[i] = s.charCodeAt(i);
		window.__want = { px, w, h };
	}, { b64: frame.toString('base64'), w: W, h: H });
	const until = Date.now() + Math.min(ms, left());
	let r, last;
	do {
		last = r;
		r = await page.evaluate(pageCompare);
		if (r.ndiff === 0)
			break;
		if (lossy && r.mean <= 3 && last !== undefined &&
		    last.ndiff === r.ndiff && last.mean === r.mean)
			break;
		await sleep(lossy ? 300 : 100);
	} while (Date.now() < until);
	r.ok = r.ndiff === 0 || (lossy && r.mean <= 3);
	return r;
}

const describe = (r) => r.error ||
    `${r.ndiff} pixels differ (mean abs error ${r.mean.toFixed(3)}): ` +
    r.first.join(', ');

// For the exact page: SetEncodings without the JPEG quality levels
// (pseudo-encodings -32 to -23), so Tight stays lossless.  noVNC 1.3
// sends every message in a WebSocket message of its own.
function losslessShim() {
	const send = WebSocket.prototype.send;
	window.__shim = 'idle';
	WebSocket.prototype.send = function (data) {
		if (ArrayBuffer.isView(data) && data.byteLength >= 4) {
			const b = new Uint8Array(data.buffer, data.byteOffset,
			    data.byteLength);
			const n = (b[2] << 8) | b[3];
			if (b[0] === 2 && b.byteLength === 4 + 4 * n) {
				const dv = new DataView(b.buffer, b.byteOffset);
				const keep = [];
				for (let i = 0; i < n; i++) {
					const e = dv.getInt32(4 + 4 * i);
					if (e < -32 || e > -23)
						keep.push(e);
				}
				const out = new Uint8Array(4 + 4 * keep.length);
				const ov = new DataView(out.buffer);
				out[0] = 2;
				ov.setUint16(2, keep.length);
				keep.forEach((e, i) => ov.setInt32(4 + 4 * i, e));
				window.__shim = `sent ${keep.length} of ${n} encodings`;
				return send.call(this, out);
			}
		}
		return send.call(this, data);
	};
}

async function savePictures(page, name) {
	const url = await page.evaluate(() => {
		const c = document.querySelector('#noVNC_container canvas');
		return c === null ? null : c.toDataURL('image/png');
	});
	if (url !== null)
		fs.writeFileSync(path.join(OUT, `shot-${name}.png`),
		    Buffer.from(url.replace(/^data:image\/png;base64,/, ''),
		    'base64'));
	await page.screenshot({ path: path.join(OUT, `page-${name}.png`),
	    timeout: 5000 });
}

// A page whose console and errors are shown when a step fails.
async function newPage(ctx, name) {
	const page = await ctx.newPage();
	page.logs = [];
	page.on('console', (m) => page.logs.push(`${name}: console ` +
	    `${m.type()}: ${m.text()}`));
	page.on('pageerror', (e) => page.logs.push(`${name}: page error: ` +
	    e.message));
	page.name = name;
	pages.push(page);
	return page;
}

// In the page: where noVNC's connection stands -- "connected", a
// credentials prompt open, an error shown ("error: TEXT"), or none of
// these yet (null).
function noVNCState() {
	const open = (id, cls) => {
		const e = document.getElementById(id);
		return e !== null && e.classList.contains(cls);
	};
	if (document.documentElement.classList.contains('noVNC_connected'))
		return 'connected';
	if (open('noVNC_credentials_dlg', 'noVNC_open'))
		return 'credentials';
	if (open('noVNC_status', 'noVNC_status_error'))
		return 'error: ' +
		    document.getElementById('noVNC_status').textContent;
	return null;
}

async function waitState(page) {
	const h = await page.waitForFunction(noVNCState, null,
	    { polling: 50, timeout: Math.min(15000, left()) });
	return h.jsonValue();
}

// Waits until noVNC has connected (or, with want "error", failed).  When
// password is set, noVNC's credentials prompt must open first and the
// password is typed into it as a user would; without one, a prompt fails
// the step, and so does connecting without a prompt when there is one.
async function connect(page, password, want = 'connected') {
	let state = await waitState(page);
	if (password !== undefined) {
		if (state !== 'credentials')
			throw new Error(`${page.name}: noVNC did not ask for ` +
			    `the password (${state})`);
		say(`${page.name}: noVNC asks for the password`);
		// The prompt focuses its field after 100 ms: click it.
		await page.click('#noVNC_password_input', { timeout: 5000 });
		await page.keyboard.type(password, { delay: 10 });
		await page.click('#noVNC_credentials_button', { timeout: 5000 });
		await page.waitForSelector('#noVNC_credentials_dlg.noVNC_open',
		    { state: 'detached', timeout: 5000 });
		state = await waitState(page);
	}
	if (want === 'connected' ? state !== 'connected' :
	    !/^error: /.test(state))
		throw new Error(`${page.name}: noVNC is in state ${state}, ` +
		    `want ${want}`);
	say(`${page.name}: noVNC ${state}`);
}

// Opens url, which must not fail at the HTTP level.
async function open(page, url) {
	const resp = await page.goto(url, { timeout: Math.min(10000, left()) });
	if (resp === null || !resp.ok())
		throw new Error(`GET ${url}: ${resp && resp.status()}`);
}

let pages = [];

async function main() {
	// The picture: the window as large as the frame, so noVNC's
	// scale-to-fit draws it 1:1.
	const viewport = MODE === 'picture' ? { width: W, height: H } :
	    { width: 1024, height: 768 };
	const ctx = await chromium.launchPersistentContext(
	    path.join(OUT, 'profile'), {
		executablePath: env('CHROMIUM'),
		headless: true,
		timeout: 20000,
		args: ['--no-sandbox', '--disable-gpu', '--disable-quic',
		    '--no-first-run', '--disable-background-networking',
		    '--disable-component-update', '--disable-sync'],
		viewport,
	});
	const watchdog = setTimeout(() => {
		console.log(`browser.js: FAIL: deadline passed (${since()})`);
		process.exit(1);
	}, left());
	const modes = { viewer: runViewer, gateway: runGateway,
	    picture: runPicture };
	try {
		if (!(MODE in modes))
			throw new Error(`unknown MODE ${MODE}`);
		await modes[MODE](ctx);
	} catch (e) {
		for (const page of pages) {
			if (page.isClosed())
				continue;
			for (const l of page.logs.slice(-15))
				console.log(`browser.js: ${l}`);
			await page.screenshot({ path: path.join(OUT,
			    `failed-${page.name}.png`), timeout: 5000 })
			    .catch(() => {});
		}
		throw e;
	} finally {
		clearTimeout(watchdog);
		await ctx.close();
	}
}

// The landing URL must lead to noVNC's page, connecting at once to our
// RFB port, with no password in it (that is typed into the prompt).
// Returns the page's URL.
async function landing(page) {
	await open(page, env('URL'));
	const u = new URL(page.url());
	if (u.pathname !== '/vnc.html' ||
	    u.searchParams.get('port') !== env('VNC_PORT') ||
	    u.searchParams.get('autoconnect') !== '1' ||
	    u.searchParams.has('password'))
		throw new Error(`${env('URL')} led to ${page.url()}`);
	say(`${page.name}: ${env('URL')} -> ${u.pathname}${u.search}`);
	return page.url();
}

async function runViewer(ctx) {
	const password = process.env.PASSWORD || undefined;
	const wrong = process.env.WRONG_PASSWORD || undefined;
	const fb = env('FB');

	// 0. a wrong password: refused, no frame
	if (wrong !== undefined) {
		if (password === undefined || wrong === password)
			throw new Error('WRONG_PASSWORD needs a PASSWORD unlike it');
		const page = await newPage(ctx, 'wrong');
		await landing(page);
		await connect(page, wrong, 'error');
		const frame = readFrame(fb, 'frame0');
		// A moment for a late frame to arrive, were one sent.
		await sleep(500);
		const state = await page.evaluate(noVNCState);
		if (state === 'connected')
			throw new Error('wrong: noVNC connected after all');
		const r = await waitCanvas(page, frame, 0, true);
		await page.screenshot({ path: path.join(OUT, 'page-wrong.png'),
		    timeout: 5000 });
		if (r.error === undefined && r.ok)
			throw new Error('wrong: the canvas shows the frame');
		say(`wrong: no frame shown (${r.error ||
		    `${r.ndiff} pixels differ`})`);
		await page.close();
	}

	// 1. as a user: the web root, its redirect, noVNC's defaults (Tight
	// with JPEG at quality 6: the picture is close, not equal)
	const user = await newPage(ctx, 'user');
	const viewerUrl = await landing(user);
	await connect(user, password);
	const frame1 = readFrame(fb, 'frame1');
	let r = await waitCanvas(user, frame1, 15000, true);
	await savePictures(user, 'user');
	if (!r.ok)
		throw new Error(`user: the canvas never came close to the ` +
		    `framebuffer: ${describe(r)}`);
	say(`user: the canvas is close to the framebuffer: ${r.ndiff} ` +
	    `pixels differ, mean abs error ${r.mean.toFixed(3)}`);
	await user.close();

	// 2. the same page, lossless: every pixel
	const exact = await newPage(ctx, 'exact');
	await exact.addInitScript(losslessShim);
	await open(exact, viewerUrl);
	await connect(exact, password);
	await checkShim(exact);
	r = await waitCanvas(exact, frame1, 15000, false);
	await savePictures(exact, 'exact1');
	if (!r.ok)
		throw new Error(`exact: the canvas never equalled the ` +
		    `framebuffer: ${describe(r)}`);
	say(`exact: the canvas equals the framebuffer (${W}x${H})`);

	// 3. the pointer: moved and clicked through the page, it must be
	// drawn where it was aimed (the demo draws it, and a dot per click,
	// with its tip at the pointer's position; the idle desktop draws
	// nothing else), and the canvas must show the new frame.
	const canvas = await exact.$('#noVNC_container canvas');
	const box = await canvas.boundingBox();
	// The canvas is scaled to the page: aim at fractions of it.
	const at = (fx, fy) => [box.x + box.width * fx, box.y + box.height * fy];
	const px = Math.round(W * 0.3), py = Math.round(H * 0.5);
	await toggle('resumed');
	await exact.mouse.move(...at(0.1, 0.9), { steps: 3 });
	await exact.mouse.move(...at(0.3, 0.5), { steps: 5 });
	await exact.mouse.down();
	await exact.mouse.up();
	await sleep(400);
	await toggle('paused');
	const frame2 = readFrame(fb, 'frame2');
	const d2 = diffBox(frame1, frame2);
	if (d2.n === 0)
		throw new Error('the demo did not react to the pointer');
	if (d2.x0 < px - 4 || d2.y0 < py - 4 || d2.x1 > px + 40 ||
	    d2.y1 > py + 40)
		throw new Error(`the pointer aimed at (${px},${py}) changed ` +
		    `${d2.text}`);
	say(`the pointer aimed at (${px},${py}) changed ${d2.text}`);
	r = await waitCanvas(exact, frame2, 15000, false);
	await savePictures(exact, 'exact2');
	if (!r.ok)
		throw new Error('exact: the canvas never showed the pointer: ' +
		    describe(r));
	say('exact: the canvas equals the new frame');

	// 4. keys, typed into the page (the click focused noVNC's canvas):
	// they appear in the demo's terminal.
	await toggle('resumed');
	await exact.keyboard.type('lfbvnc', { delay: 30 });
	await exact.keyboard.press('Enter');
	await sleep(400);
	await toggle('paused');
	const frame3 = readFrame(fb, 'frame3');
	const d3 = diffBox(frame2, frame3);
	if (d3.n === 0)
		throw new Error('the demo did not react to the keys');
	say(`the keys changed ${d3.text}`);
	r = await waitCanvas(exact, frame3, 15000, false);
	await savePictures(exact, 'exact3');
	if (!r.ok)
		throw new Error('exact: the canvas never showed the keys: ' +
		    describe(r));
	say('exact: the canvas equals the new frame');
}

// The lossless shim must have rewritten noVNC's SetEncodings.
async function checkShim(page) {
	const shim = await page.evaluate(() => window.__shim);
	if (!/^sent /.test(shim))
		throw new Error(`${page.name}: noVNC sent no SetEncodings ` +
		    `message of its own (${shim}): has noVNC changed?`);
	say(`${page.name}: ${shim}`);
}

// noVNC from the gateway, asking it for token's guest.
function gatewayUrl(token) {
	const u = new URL('vnc.html', env('URL'));
	u.searchParams.set('autoconnect', '1');
	u.searchParams.set('resize', 'scale');
	u.searchParams.set('path', `websockify?token=${token}`);
	return u.href;
}

async function runGateway(ctx) {
	const guests = env('GUESTS').split(' ').map((g) => {
		const [token, fb] = g.split('=');
		return { token, frame: readFrame(fb, `frame-${token}`) };
	});
	if (guests.length < 2)
		throw new Error('GUESTS names fewer than two guests');
	// The guests' pictures must differ, or no check below could tell
	// them apart.
	for (const [i, g] of guests.entries())
		for (const o of guests.slice(i + 1))
			if (diffBox(g.frame, o.frame).n === 0)
				throw new Error(`guests ${g.token} and ${o.token} ` +
				    'show the same picture');

	for (const g of guests) {
		const page = await newPage(ctx, g.token);
		await page.addInitScript(losslessShim);
		const url = gatewayUrl(g.token);
		await open(page, url);
		say(`${g.token}: ${url}`);
		await connect(page);
		await checkShim(page);
		let r = await waitCanvas(page, g.frame, 15000, false);
		await savePictures(page, g.token);
		if (!r.ok)
			throw new Error(`${g.token}: the canvas never equalled ` +
			    `its guest's framebuffer: ${describe(r)}`);
		say(`${g.token}: the canvas equals its guest's framebuffer`);
		for (const o of guests.filter((o) => o !== g)) {
			r = await waitCanvas(page, o.frame, 0, false);
			if (r.ok)
				throw new Error(`${g.token}: the canvas equals ` +
				    `${o.token}'s framebuffer`);
			say(`${g.token}: and not ${o.token}'s (${r.ndiff} ` +
			    'pixels differ)');
		}
		await page.close();
	}

	// A token the gateway does not know: no connection.
	const token = env('UNKNOWN_TOKEN');
	const page = await newPage(ctx, 'unknown');
	await open(page, gatewayUrl(token));
	await connect(page, undefined, 'error');
	await page.screenshot({ path: path.join(OUT, 'page-unknown.png'),
	    timeout: 5000 });
	await page.close();
}

async function runPicture(ctx) {
	const page = await newPage(ctx, 'picture');
	await page.addInitScript(losslessShim);
	await landing(page);
	await connect(page, process.env.PASSWORD || undefined);
	await checkShim(page);
	const frame = readFrame(env('FB'), 'frame-picture');
	const r = await waitCanvas(page, frame, 15000, false);
	await savePictures(page, 'picture');
	if (!r.ok)
		throw new Error('picture: the canvas never equalled the ' +
		    `framebuffer: ${describe(r)}`);
	// noVNC shows "Connected" for 1.5 s and folds its control bar away
	// 2 s after connecting; then the bar is opened again as a user
	// would, with a click on its handle, so that the picture shows it is
	// noVNC; 2 s later the bar has dimmed to its idle look, and stays.
	const bar = (open) => page.waitForFunction((want) =>
	    !document.getElementById('noVNC_status')
		.classList.contains('noVNC_open') &&
	    document.getElementById('noVNC_control_bar')
		.classList.contains('noVNC_open') === want, open,
	    { polling: 100, timeout: Math.min(10000, left()) });
	await bar(false);
	await page.click('#noVNC_control_bar_handle', { timeout: 5000 });
	await bar(true);
	await sleep(2600);
	await page.screenshot({ path: path.join(OUT, 'page-picture.png'),
	    timeout: 5000 });
	say('picture: OUT/page-picture.png');
}

main().then(() => process.exit(0), (e) => {
	console.log(`browser.js: FAIL: ${e.message} (${since()})`);
	process.exit(1);
});
