// SPDX-License-Identifier: GPL-3.0-or-later
// tests/browser/wat.mjs -- an administrator at qvd-wat in Debian's chromium
// (headless, driven by playwright-core): every step through the pages, and
// after each step the database holds what the page says.  Prints TAP lines
// without numbers ("ok - ...", "not ok - ...", "# ...") for
// tests/t/wat_browser.sh, which counts them.
//
//   node wat.mjs URL PHASE   (PHASE 1: set up the farm, 2: run its VM)
// Environment: PGHOST, PGDATABASE (the rig's), ARTIFACTS (screenshots).

import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chromium } from 'playwright-core';

const [base, phase] = process.argv.slice(2);
const artifacts = process.env.ARTIFACTS || '.';
const dialogs = [];

function q(sql) {
	return execFileSync('psql', ['-X', '-q', '-At', '-h', process.env.PGHOST,
		'-U', 'qvd', process.env.PGDATABASE, '-c', sql]).toString().trim();
}

function report(ok, desc, detail) {
	console.log(`${ok ? 'ok' : 'not ok'} - ${desc}`);
	if (!ok && detail)
		for (const l of String(detail).split('\n').slice(0, 20))
			console.log(`#   ${l}`);
}

function is(desc, got, want) {
	report(got === want, desc, `got:  ${got}\nwant: ${want}`);
}

function like(desc, got, re) {
	report(re.test(got), desc, `got:  ${got}\nwant: ${re}`);
}

async function flash(page) {
	return (await page.locator('#flash').textContent()).trim();
}

// Reload a list until its row for name shows a cell with text.
async function waitRow(page, url, name, text, seconds) {
	for (let i = 0; i < seconds * 2; i++) {
		await page.goto(base + url);
		const row = page.locator('#list tr', { hasText: name });
		if (await row.count() && (await row.first().textContent()).includes(text))
			return true;
		await page.waitForTimeout(500);
	}
	return false;
}

async function login(page) {
	await page.goto(base + '/');
	await page.fill('#login', 'admin');
	await page.fill('#password', 'admin');
	await page.click('#submit');
	await page.waitForSelector('#totals');
}

// Tick the row of name in the list and press a button.
async function act(page, name, button) {
	await page.locator('#list tr', { hasText: name }).locator('input[name=id]').check();
	await page.click(button);
	await page.waitForSelector('#flash');
}

async function phase1(page) {
	await page.goto(base + '/');
	like('without a session the WAT shows its login page', page.url(), /\/login$/);
	await page.fill('#login', 'admin');
	await page.fill('#password', 'wrong');
	await page.click('#submit');
	is('a wrong password is refused', (await page.textContent('#error')).trim(),
		'Wrong login or password');
	await login(page);
	like('admin/admin logs in to the dashboard', await page.textContent('h1'),
		/Welcome to QVD/);

	await page.click('nav >> text=Users');
	await page.click('#new');
	await page.fill('input[name=login]', 'dora');
	await page.fill('input[name=password]', 'pw1');
	await page.fill('input[name=confirm]', 'pw2');
	await page.click('button[type=submit]');
	is('a password and a different confirmation are refused',
		await flash(page), 'the password and its confirmation differ');
	is('and no user was made', q("SELECT count(*) FROM users"), '0');
	await page.goto(base + '/users/new');
	await page.fill('input[name=login]', 'dora');
	await page.fill('input[name=password]', 'pw1');
	await page.fill('input[name=confirm]', 'pw1');
	await page.click('button[type=submit]');
	like('new user: the page says it was added', await flash(page),
		/^User added with id \d+$/);
	like('the users page lists her with state 0 / 0',
		await page.locator('#list tr', { hasText: 'dora' }).textContent(), /dora0 \/ 0/);
	is('the database has her', q("SELECT login FROM users"), 'dora');

	await page.click('nav >> text=OS flavours');
	await page.click('#new');
	is('a new OSF offers memory 256 by default',
		await page.inputValue('input[name=memory]'), '256');
	await page.fill('input[name=name]', 'desk');
	await page.fill('input[name=memory]', '512');
	await page.click('button[type=submit]');
	like('new OSF: added', await flash(page), /^OSF added with id \d+$/);
	is('the database has it with 512 MB', q("SELECT name, memory FROM osfs"),
		'desk|512');
	await page.goto(base + '/osf/new');
	await page.fill('input[name=name]', '<script>alert(1)</script>');
	await page.click('button[type=submit]');
	like('a refused name with <script> comes back as text',
		await flash(page), /^OSF name '<script>alert\(1\)<\/script>' is not allowed/);
	is('and never runs', dialogs.length, 0);
	is('and nothing was added', q("SELECT count(*) FROM osfs"), '1');
	await page.goto(base + '/osf/new');
	await page.fill('input[name=name]', 'spare');
	await page.click('button[type=submit]');
	await act(page, 'spare', '#do-delete');
	is('deleting it asks first, then deletes', await flash(page), '1 OSFs deleted.');
	is('the database agrees', q("SELECT count(*) FROM osfs"), '1');

	await page.click('nav >> text=Nodes');
	await page.click('#new');
	await page.fill('input[name=name]', 'node1');
	await page.fill('input[name=address]', '10.3.15.2');
	await page.click('button[type=submit]');
	like('new node: added', await flash(page), /^Host added with id \d+$/);
	is('the database has it', q("SELECT name, address FROM hosts"),
		'node1|10.3.15.2');

	await page.click('nav >> text=Disk images');
	await page.click('#new');
	await page.selectOption('select[name=osf_id]', { label: 'desk' });
	await page.selectOption('select[name=file]', 'test-image.tar.gz');
	await page.check('input[name=delete_after]');
	await page.click('button[type=submit]');
	await page.waitForURL(/\/di\/job\//);
	like('new DI: a progress page while it copies', page.url(), /\/di\/job\/[0-9a-f]{32}$/);
	await page.waitForSelector('#job[data-state=done]', { timeout: 60000 });
	like('which ends saying it was added', await page.textContent('#job'),
		/DI added with id 1 \(version [0-9-]+\)/);
	is('the database has it, default and head', q("SELECT string_agg(tag, ' ' " +
		"ORDER BY tag) FROM di_tags WHERE di_id = 1 AND tag IN ('default', 'head')"),
		'default head');
	is('and the staging file was deleted (delete after action)',
		existsSync(process.env.STAGING + '/test-image.tar.gz'), false);
	await page.goto(base + '/di/new');
	await page.selectOption('select[name=file]', 'spare.tar.gz');
	await page.click('button[type=submit]');
	await page.waitForURL(/\/di\/job\//);
	await page.waitForSelector('#job[data-state=done]', { timeout: 60000 });
	await page.click('text=Back to the disk images');
	await page.locator('#row-2 input[type=radio]').check();
	await page.click('#do-default');
	is('set defaults: done', await flash(page), '1 defaults set.');
	is('DI 2 is now the default in the database',
		q("SELECT di_id FROM di_tags WHERE tag = 'default'"), '2');
	is('and its radio is the checked one',
		await page.locator('#row-2 input[type=radio]').isChecked(), true);
	await page.locator('#row-1 input[type=radio]').check();
	await page.click('#do-default');
	is('set back to DI 1', q("SELECT di_id FROM di_tags WHERE tag = 'default'"), '1');

	await page.click('nav >> text=Users');
	await page.locator('#list tr', { hasText: 'dora' }).locator('a').click();
	like("the user's page", await page.textContent('h1'), /Users » dora/);
	await page.fill('#newvm input[name=name]', 'dora-desk');
	await page.selectOption('#newvm select[name=osf_id]', { label: 'desk' });
	await page.click('#newvm button[type=submit]');
	like('new VM: added, and the VM list shown', await flash(page),
		/^VM added with id \d+$/);
	like('the list has it', await page.textContent('#list'), /dora-desk\s*dora\s*desk\s*default\s*stopped/);
	is('the database has it for dora', q("SELECT v.name, u.login, o.name FROM " +
		"vms v JOIN users u ON u.id = v.user_id JOIN osfs o ON o.id = v.osf_id"),
		'dora-desk|dora|desk');

	const before = q("SELECT password FROM users WHERE login = 'dora'");
	await page.goto(base + '/users/');
	await page.locator('#list tr', { hasText: 'dora' }).locator('a').click();
	await page.fill('#passwd input[name=password]', 'n3w');
	await page.fill('#passwd input[name=confirm]', 'n3w');
	await page.click('#passwd button[type=submit]');
	is('change password: done', await flash(page), "Password of user 'dora' changed");
	report(q("SELECT password FROM users WHERE login = 'dora'") !== before,
		'a new hash is stored');
}

async function phase2(page) {
	await login(page);
	await page.click('nav >> text=Virtual machines');
	await act(page, 'dora-desk', '#do-start');
	is('start: done', await flash(page), 'Started 1 VMs.');
	report(await waitRow(page, '/vm/', 'dora-desk', 'running', 90),
		'the list shows it running');
	is('and so does the database', q("SELECT vm_state FROM vm_runtimes"), 'running');
	await page.screenshot({ path: artifacts + '/wat-vm-list.png', fullPage: true });
	await page.locator('#list a', { hasText: /^\d+$/ }).first().click();
	is('its page shows the node', (await page.textContent('#vm-node td')).trim(), 'node1');
	is('and its IP', (await page.textContent('#vm-ip td')).trim(),
		q("SELECT vm_address FROM vm_runtimes"));
	like('and how to reach its console', await page.textContent('#console'),
		/qa vm console -f id=\d+/);
	await page.goto(base + '/');
	like('the dashboard counts it running',
		await page.textContent('#pie-vms figcaption'), /running: 1/);
	await page.screenshot({ path: artifacts + '/wat-dashboard.png', fullPage: true });

	await page.click('nav >> text=Virtual machines');
	await act(page, 'dora-desk', '#do-block');
	is('block (after confirming): done', await flash(page), 'Blocked 1 VMs.');
	like('the list says blocked', await page.locator('#list tr',
		{ hasText: 'dora-desk' }).textContent(), /yes$/);
	is('the database says blocked', q("SELECT blocked FROM vm_runtimes"), 't');
	await act(page, 'dora-desk', '#do-unblock');
	is('unblock: done', await flash(page), 'Unblocked 1 VMs.');
	is('the database says not blocked', q("SELECT blocked FROM vm_runtimes"), 'f');
	await act(page, 'dora-desk', '#do-stop');
	is('stop: done', await flash(page), 'Stopped 1 VMs.');
	report(await waitRow(page, '/vm/', 'dora-desk', 'stopped', 90),
		'the list shows it stopped');
	is('and so does the database', q("SELECT vm_state FROM vm_runtimes"), 'stopped');
	await page.check('#all');
	await page.click('#do-delete');
	await page.waitForSelector('#flash');
	is('select all, delete (after confirming): done, homes kept',
		await flash(page), '1 VMs deleted. Their home directories are kept in ' +
		'path.storage.homefs (qa vm del homes=delete removes them with the VMs).');
	is('the database has no VM', q("SELECT count(*) FROM vms"), '0');
	is('block, unblock and delete each asked first', dialogs.length, 3);

	await page.click('#logout');
	like('log out: the login page', page.url(), /\/login$/);
	await page.goto(base + '/vm/');
	like('and the pages need a login again', page.url(), /\/login$/);
}

const browser = await chromium.launch({
	executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
	args: ['--no-sandbox'],
});
const page = await browser.newPage();
try {
	page.setDefaultTimeout(15000);
	page.on('dialog', d => { dialogs.push(d.message()); d.accept(); });
	await (phase === '1' ? phase1(page) : phase2(page));
} catch (e) {
	const shot = `${artifacts}/wat-failure-${phase}.png`;
	await page.screenshot({ path: shot, fullPage: true }).catch(() => {});
	report(false, `phase ${phase} ran to its end`,
		`${e.stack}\nat ${page.url()}; screenshot in ${shot}`);
} finally {
	await browser.close();
}
