// End-to-end test of the console in a real browser (Debian's chromium, driven by playwright-core)
// against the real switchyard binary and a real MQTT broker with a simulated device:
// log in; create an MQTT gateway with the form; see a sensor's values appear and change live;
// draw its history; build a dashboard with a value tile, a chart and a switch; toggle the switch
// and see the command on the broker, and the device's answer on the switch; create a task and a
// schedule with the forms; with a resource handler, see the task fire on the sensor's value: its
// count and last-fired time change live on its page and its command reaches the broker; upload
// firmware; run and download a backup; a set for a sleeping node waits in the gateway's queue
// view until the node wakes. Before the browser starts, the committed API types
// (src/api/openapi.gen.ts) must be what openapi-typescript makes of this binary's
// /api/openapi.json, so they cannot drift from the route table.
//
// Needs: the binary ($SWITCHYARD_BIN, else $CARGO_TARGET_DIR/debug/switchyard), /usr/bin/chromium,
// mosquitto and mosquitto_pub/sub. When one is missing it prints "SKIPPED: <why>" and exits 0,
// except under CI=true, where it fails.

import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, existsSync, readFileSync, writeFileSync, rmSync, mkdirSync, statSync } from 'node:fs';
import { tmpdir, homedir } from 'node:os';
import { join, dirname } from 'node:path';
import { createServer, createConnection } from 'node:net';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';
import { generate, fetchDocument, OUTPUT as GENERATED_TYPES } from '../scripts/gen-api.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const repo = join(here, '..', '..');
// Screenshots go to a temporary folder unless SWITCHYARD_SCREENSHOTS names one (docs/screenshots
// to refresh the documentation's pictures), so a test run never changes tracked files.
const shots = process.env.SWITCHYARD_SCREENSHOTS ?? join(tmpdir(), 'switchyard-screenshots');
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const targetDir = process.env.CARGO_TARGET_DIR ?? join(homedir(), '.cache', 'switchyard-target');
const BIN = process.env.SWITCHYARD_BIN ?? join(targetDir, 'debug', 'switchyard');
const PASSWORD = 'console-test-pass-1';
const T = 15_000;

function skip(why) {
  if (process.env.CI === 'true') {
    console.error(`FAILED: the browser test cannot run: ${why}`);
    process.exit(1);
  }
  console.log(`SKIPPED: ${why}`);
  process.exit(0);
}

function which(cmd) {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

if (!existsSync(BIN)) skip(`no switchyard binary at ${BIN} (cargo build -p switchyard-server)`);
if (!existsSync(CHROMIUM)) skip(`no browser at ${CHROMIUM} (apt-get install chromium)`);
for (const c of ['mosquitto', 'mosquitto_pub', 'mosquitto_sub']) if (!which(c)) skip(`${c} not installed (apt-get install mosquitto mosquitto-clients)`);

function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
async function until(what, f, timeout = T) {
  const end = Date.now() + timeout;
  let last;
  while (Date.now() < end) {
    try {
      const v = await f();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    await sleep(150);
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${last.message}` : ''}`);
}

const children = [];
function start(cmd, args, env = {}) {
  const p = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  p.stdout.on('data', (d) => (out += d));
  p.stderr.on('data', (d) => (out += d));
  p.output = () => out;
  children.push(p);
  return p;
}
function cleanup() {
  for (const p of children) if (p.exitCode === null) p.kill('SIGTERM');
}
process.on('exit', cleanup);

const tmp = mkdtempSync(join(tmpdir(), 'switchyard-e2e-'));
const mqttPort = await freePort();
const httpPort = await freePort();
const broker = start('mosquitto', ['-p', String(mqttPort)]);
const server = start(BIN, ['serve', '--data-dir', join(tmp, 'data'), '--http', `127.0.0.1:${httpPort}`], {
  SWITCHYARD_ADMIN_PASSWORD: PASSWORD,
  RUST_LOG: 'warn',
});
const base = `http://127.0.0.1:${httpPort}`;

// What the gateway publishes to the device: collected from the broker all along. The watcher
// starts only once the broker listens (mosquitto_sub gives up at once on a refused connection)
// and counts as ready once it has heard a probe.
const heard = [];
const listening = () =>
  new Promise((done) => {
    const c = createConnection(mqttPort, '127.0.0.1');
    c.on('connect', () => (c.destroy(), done(true)));
    c.on('error', () => done(false));
  });
await until('the broker to listen', listening, 10_000);
const sub = start('mosquitto_sub', ['-p', String(mqttPort), '-t', 'sim-in/#', '-t', 'sim-in', '-v']);
sub.stdout.on('data', (d) => heard.push(...String(d).split('\n').filter(Boolean)));
await until('the broker watcher to subscribe', async () => {
  execFileSync('mosquitto_pub', ['-p', String(mqttPort), '-t', 'sim-in/probe', '-m', 'probe']);
  return heard.some((l) => l.startsWith('sim-in/probe'));
}, 10_000);
const publish = (line) => execFileSync('mosquitto_pub', ['-p', String(mqttPort), '-t', 'sim-out/1', '-m', line]);

let token;
async function api(method, path, body) {
  const res = await fetch(base + path, {
    method,
    headers: { 'Content-Type': 'application/json', ...(token ? { Authorization: `Bearer ${token}` } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

let browser;
let failed = false;
try {
  await until('the server to answer', async () => (await fetch(`${base}/api/status`)).ok, 30_000).catch((e) => {
    throw new Error(`${e.message}\n${server.output()}`);
  });
  token = (await api('POST', '/api/user/login', { username: 'admin', password: PASSWORD })).token;

  // --- the committed generated types match the binary's OpenAPI document
  const generated = await generate(await fetchDocument(base, { token }));
  if (generated !== readFileSync(GENERATED_TYPES, 'utf8')) {
    writeFileSync(join(tmpdir(), 'openapi.gen.ts'), generated);
    throw new Error(`web/src/api/openapi.gen.ts is stale: the binary's /api/openapi.json gives ${join(tmpdir(), 'openapi.gen.ts')}; run \`npm run gen:api\` against it and commit`);
  }
  console.log('ok: web/src/api/openapi.gen.ts matches the binary\'s /api/openapi.json');

  browser = await chromium.launchPersistentContext(join(tmp, 'profile'), {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1360, height: 860 },
    acceptDownloads: true,
  });
  const page = browser.pages()[0] ?? (await browser.newPage());
  page.setDefaultTimeout(T);
  const consoleErrors = [];
  page.on('pageerror', (e) => consoleErrors.push(String(e)));
  mkdirSync(shots, { recursive: true });
  const shot = async (name) => {
    await page.evaluate(() => window.scrollTo(0, 0));
    await sleep(250);
    await page.screenshot({ path: join(shots, `${name}.png`) });
  };

  // --- log in
  await page.goto(base + '/');
  await page.getByLabel('Username').fill('admin');
  await page.getByLabel('Password').fill('wrong-password');
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.getByRole('alert').getByText('wrong username or password').waitFor();
  await page.getByLabel('Password').fill(PASSWORD);
  await shot('login');
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.getByRole('navigation', { name: 'Main' }).waitFor();
  await page.locator('[data-live="live"]').waitFor();
  console.log('ok: logged in, websocket live');

  // --- create an MQTT gateway with the form
  await page.getByRole('link', { name: 'Gateways' }).click();
  await page.getByRole('link', { name: 'New gateway' }).click();
  await page.locator('input[name=id]').fill('gw1');
  await page.locator('input[name=description]').fill('Simulated device over MQTT');
  await page.locator('select[name=provider]').selectOption('echo');
  await page.locator('select[name=transport]').selectOption('mqtt');
  await page.locator('input[name=broker]').fill(`tcp://127.0.0.1:${mqttPort}`);
  await page.locator('input[name=subscribe]').fill('sim-out/#');
  await page.locator('input[name=publish]').fill('sim-in');
  await shot('gateway-form');
  await page.getByRole('button', { name: 'Save' }).click();
  await page.getByRole('heading', { name: 'gateway gw1' }).waitFor();
  const gw = await api('GET', '/api/gateway/gw1');
  assert.equal(gw.provider.type, 'echo');
  assert.equal(gw.provider.protocol.broker, `tcp://127.0.0.1:${mqttPort}`);
  await page.getByRole('link', { name: 'Gateways' }).click();
  const gwRow = page.locator('tr[data-id="gw1"]');
  await gwRow.waitFor();
  await until('the gateway to show up, live', async () => (await gwRow.locator('.badge').innerText()).toLowerCase() === 'up', 30_000);
  console.log('ok: gateway created with the form, its state went up live');

  // --- a sensor's values appear and change live
  await api('POST', '/api/field', { id: 'gw1.1.1.temp', gatewayId: 'gw1', nodeId: '1', sourceId: '1', fieldId: 'temp', name: 'Hall temperature', metricType: 'gauge_float', unit: '°C' });
  await api('POST', '/api/field', { id: 'gw1.1.2.light', gatewayId: 'gw1', nodeId: '1', sourceId: '2', fieldId: 'light', name: 'Hall light', metricType: 'binary' });
  await page.getByRole('link', { name: 'Fields' }).click();
  const tempCell = page.locator('tr[data-id="gw1.1.1.temp"] .field-value');
  await tempCell.waitFor();
  publish('1;1;temp;21.5');
  await until('21.5 °C on the fields page', async () => (await tempCell.innerText()) === '21.50 °C');
  const navigations = [];
  page.on('framenavigated', (f) => f === page.mainFrame() && navigations.push(f.url()));
  for (const v of ['21.7', '22.1', '22.75']) {
    publish(`1;1;temp;${v}`);
    await sleep(400);
  }
  await until('22.75 °C, live', async () => (await tempCell.innerText()) === '22.75 °C');
  assert.deepEqual(navigations, [], 'the page did not reload');
  await shot('fields');
  console.log('ok: a simulated sensor value appeared and changed live');

  // --- history chart of the field
  await page.getByRole('link', { name: 'gw1.1.1.temp' }).click();
  await page.getByTestId('field-value').getByText('22.75 °C').waitFor();
  await page.getByLabel('Aggregation').selectOption('raw');
  await until('a chart with points', async () => Number(await page.locator('.history .chart').getAttribute('data-points')) >= 3, 20_000);
  assert.ok(await page.locator('.history .chart canvas').count(), 'the chart draws on a canvas');
  await shot('field-history');
  console.log('ok: the field history chart draws the points');

  // --- a sleeping node's queue: a set waits in the gateway until the node wakes
  await api('POST', '/api/node', { gatewayId: 'gw1', nodeId: '9', name: 'Garden valve', labels: { sleep_node: 'true' } });
  await api('POST', '/api/field', { id: 'gw1.9.1.valve', gatewayId: 'gw1', nodeId: '9', sourceId: '1', fieldId: 'valve', metricType: 'binary' });
  await api('POST', '/api/action', [{ resource: 'field:gw1.9.1.valve', payload: 'on' }]);
  await page.getByRole('link', { name: 'Gateways' }).click();
  await page.locator('tr[data-id="gw1"]').getByRole('link', { name: 'gw1' }).click();
  await page.locator('summary', { hasText: 'Sleeping queue' }).click();
  const queued = page.getByRole('table', { name: 'sleeping queue' }).locator('tbody tr');
  await until('the set in the sleeping queue', async () => (await queued.count()) === 1 && (await queued.first().innerText()).includes('valve='));
  assert.ok(!heard.some((l) => l.startsWith('sim-in/9')), `sent to a sleeping node: ${heard.join(' | ')}`);
  await shot('sleeping-queue');
  publish('9;awake');
  await until('the queued set to reach the woken node', async () => heard.some((l) => l.startsWith('sim-in/9 9;1;valve;')));
  await page.getByRole('button', { name: 'refresh' }).click();
  await page.getByText('Nothing waits for a sleeping node.').waitFor();
  console.log('ok: a set for a sleeping node waited in the queue view and went out when the node woke');

  // --- a dashboard with a value tile, a chart and a switch
  await page.getByRole('link', { name: 'Dashboards' }).click();
  await page.getByRole('button', { name: 'Create one' }).click();
  await page.locator('input[name=title]').fill('Home');
  await page.getByRole('button', { name: 'Create', exact: true }).click();
  await page.getByRole('button', { name: 'Save layout' }).waitFor();
  async function addWidget(kind, configure) {
    await page.getByRole('button', { name: '+ Add widget' }).click();
    await page.getByRole('dialog').getByRole('button', { name: kind, exact: true }).click();
    await configure(page.getByRole('dialog'));
    await page.getByRole('dialog').getByRole('button', { name: 'Apply' }).click();
    await page.getByRole('dialog').waitFor({ state: 'detached' });
  }
  await addWidget('Value tile', (d) => d.getByRole('combobox', { name: 'Field', exact: true }).fill('gw1.1.1.temp'));
  await addWidget('Switch', async (d) => {
    await d.locator('input[name=title]').fill('Hall light');
    await d.getByRole('combobox', { name: 'Field', exact: true }).fill('gw1.1.2.light');
  });
  await addWidget('Time-series chart', async (d) => {
    await d.getByRole('combobox', { name: 'Field 1' }).fill('gw1.1.1.temp');
    await d.getByRole('combobox', { name: 'Aggregation' }).selectOption('raw');
  });
  await page.getByRole('button', { name: 'Save layout' }).click();
  await page.getByRole('button', { name: 'Edit' }).waitFor();
  const saved = await api('GET', '/api/dashboard/home');
  assert.deepEqual(saved.widgets.map((w) => w.type), ['value', 'switch', 'chart']);
  const tile = page.getByTestId('tile-value');
  await until('the tile shows the value', async () => (await tile.innerText()) === '22.75 °C');
  publish('1;1;temp;23.25');
  await until('the tile changes live', async () => (await tile.innerText()) === '23.25 °C');
  await until('the dashboard chart draws', async () => Number(await page.locator('[data-widget=chart] .chart').getAttribute('data-points')) >= 3, 20_000);
  console.log('ok: dashboard built with the widget editor; tile and chart live');

  // --- toggle the switch: the command reaches the device on the broker; the device's answer shows
  const sw = page.getByRole('switch', { name: 'Hall light' });
  assert.equal(await sw.getAttribute('aria-checked'), 'false');
  const before = heard.length;
  // A click that lands while the grid is still settling after the edit can be taken as the start
  // of a drag and never reach the switch. Click until the console has sent the action (and say
  // so); from there on, the command must reach the device.
  for (let attempt = 1; ; attempt++) {
    const sent = page.waitForResponse((r) => r.url().includes('/api/action') && r.request().method() === 'POST', { timeout: 5_000 });
    await sw.click();
    try {
      const answer = await sent;
      assert.equal(answer.status(), 200, `the action answered ${answer.status()}`);
      break;
    } catch (e) {
      if (attempt >= 3 || !String(e).includes('Timeout')) throw e;
      console.log(`note: click ${attempt} on the switch sent no action; clicking again`);
    }
  }
  const cmd = await until('the command on the broker', async () => heard.slice(before).find((l) => / 1;2;light;/.test(l)));
  console.log(`ok: switch sent "${cmd}" to the device`);
  const value = cmd.split(';')[3];
  publish(`1;2;light;${value}`);
  await until('the switch shows the device state', async () => (await sw.getAttribute('aria-checked')) === 'true');
  console.log('ok: the switch shows the state the device reported');
  await shot('dashboard');
  await page.setViewportSize({ width: 390, height: 844 });
  await sleep(500);
  await shot('dashboard-phone');
  await page.setViewportSize({ width: 1360, height: 860 });

  // --- a resource handler, then a task from the form that notifies it, and see the task fire
  await page.getByRole('link', { name: 'Handlers' }).click();
  await page.getByRole('link', { name: 'New handler' }).click();
  await page.locator('input[name=id]').fill('switch_light');
  await page.locator('input[name=description]').fill('Sets fields and other resources');
  await page.locator('select[name=type]').selectOption('resource');
  await page.getByRole('button', { name: 'Save' }).click();
  await page.getByRole('heading', { name: 'handler switch_light' }).waitFor();
  assert.equal((await api('GET', '/api/handler/switch_light')).type, 'resource');

  await page.getByRole('link', { name: 'Tasks' }).click();
  await page.getByRole('link', { name: 'New task' }).click();
  await page.locator('input[name=id]').fill('hot_hall');
  await page.locator('input[name=description]').fill('Light on when the hall is hot');
  await page.getByRole('button', { name: '+ variable' }).click();
  await page.getByRole('combobox', { name: 'Variable var1' }).fill('field:gw1.1.1.temp');
  await page.getByRole('button', { name: '+ condition' }).nth(1).click();
  await page.getByRole('textbox', { name: 'Variable', exact: true }).fill('var1.current.value');
  await page.locator('.filter-row').last().getByLabel('Operator').selectOption('gt');
  await page.locator('.filter-row').last().getByLabel('Value').fill('25');
  await page.getByRole('group', { name: 'Handlers' }).getByLabel('switch_light').check();
  await page.getByRole('button', { name: '+ parameter' }).click();
  const param = page.locator('.params fieldset').last();
  await param.getByRole('combobox', { name: 'Field', exact: true }).fill('field:gw1.1.2.light');
  await param.getByLabel('Payload').fill('false');
  await shot('task-form');
  await page.getByRole('button', { name: 'Save' }).click();
  await page.getByRole('heading', { name: 'task hot_hall' }).waitFor();
  const task = await api('GET', '/api/task/hot_hall');
  assert.equal(task.variables.var1.quickId, 'field:gw1.1.1.temp');
  assert.deepEqual(task.evaluationConfig.rule.conditions, [{ variable: 'var1.current.value', operator: 'gt', value: '25' }]);
  assert.deepEqual(task.handlers, ['switch_light']);
  assert.deepEqual(task.handlerParameters.param1, { type: 'resource_by_quick_id', quickId: 'field:gw1.1.2.light', payload: 'false' });
  console.log('ok: task created with the form');

  // The hall gets hot: the task fires, its page counts it live, and the handler's command for the
  // light reaches the device on the broker.
  const taskCount = page.getByTestId('task-count');
  assert.equal(await taskCount.innerText(), '0 times');
  const beforeTask = heard.length;
  const navBefore = navigations.length;
  publish('1;1;temp;26.5');
  const lightOff = await until('the task\'s command on the broker', async () => heard.slice(beforeTask).find((l) => / 1;2;light;/.test(l)));
  assert.notEqual(lightOff.split(';')[3], value, 'the task switches the light the other way');
  await until('the task page to count the firing, live', async () => /^[1-9]\d* times$/.test(await taskCount.innerText()));
  await page.getByTestId('task-last-success').getByText(/ago|now/).waitFor();
  assert.equal(navigations.length, navBefore, 'the task page did not reload');
  const fired = await api('GET', '/api/task/hot_hall');
  assert.ok(fired.state.executedCount >= 1 && fired.state.lastStatus === true, JSON.stringify(fired.state));
  await shot('task');
  console.log(`ok: the task fired on 26.5 °C: "${lightOff}" on the broker, shown live on its page`);

  await page.getByRole('link', { name: 'Schedules' }).click();
  await page.getByRole('link', { name: 'New schedule' }).click();
  await page.locator('input[name=id]').fill('mornings');
  await page.locator('input[name=cronExpression]').fill('0 30 7 * * MON-FRI');
  await page.getByTestId('cron-preview').getByText('at 07:30, on Monday, Tuesday, Wednesday, Thursday, Friday').waitFor();
  await page.getByRole('button', { name: 'Save' }).click();
  await page.getByRole('heading', { name: 'schedule mornings' }).waitFor();
  console.log('ok: schedule with a cron preview');

  // --- firmware upload
  await page.getByRole('link', { name: 'Firmware' }).click();
  await page.getByRole('link', { name: 'Upload firmware' }).click();
  await page.locator('input[name=id]').fill('blink_v1');
  await page.getByRole('button', { name: 'Save' }).click();
  await page.getByRole('heading', { name: 'firmware blink_v1' }).waitFor();
  const hex = join(tmp, 'blink.hex');
  writeFileSync(hex, ':100000000C9434000C9446000C9446000C9446006A\n:00000001FF\n');
  await page.getByLabel('Firmware file').setInputFiles(hex);
  await page.getByRole('button', { name: 'Upload' }).click();
  await page.getByTestId('firmware-file').getByText('blink.hex').waitFor();
  const fw = await api('GET', '/api/firmware/blink_v1');
  assert.match(fw.file.checksum, /^sha256:[0-9a-f]{64}$/);
  console.log('ok: firmware uploaded');

  // --- backup: run one, download it
  await page.getByRole('link', { name: 'Backup & restore' }).click();
  await page.getByRole('button', { name: 'Run a backup now' }).click();
  const backupRow = page.locator('tbody tr[data-id]').first();
  await backupRow.waitFor();
  const [download] = await Promise.all([page.waitForEvent('download'), backupRow.getByRole('button', { name: 'Download' }).click()]);
  const file = join(tmp, 'backup-download');
  await download.saveAs(file);
  assert.ok(statSync(file).size > 100, 'the downloaded backup has content');
  await shot('backup');
  console.log(`ok: backup made and downloaded (${statSync(file).size} bytes)`);

  await page.getByRole('link', { name: 'Status' }).click();
  await page.getByRole('heading', { name: 'Services' }).waitFor();
  assert.deepEqual(consoleErrors, [], 'no script errors in the page');

  // --- log out
  await page.getByRole('button', { name: 'Log out' }).click();
  await page.getByRole('button', { name: 'Log in' }).waitFor();
  console.log('ok: logged out');
  console.log('PASSED: console end-to-end test');
} catch (e) {
  failed = true;
  console.error('FAILED:', e.stack ?? e);
  try {
    const p = browser?.pages()[0];
    if (p) await p.screenshot({ path: join(tmp, 'failure.png') }), console.error(`screenshot of the failure: ${join(tmp, 'failure.png')}`);
  } catch {
    /* nothing more to show */
  }
  try {
    const status = await api('GET', '/api/status');
    console.error('--- gateway counters ---\n' + JSON.stringify(status.services?.gateways ?? status.services, null, 1).slice(0, 4000));
    console.error('--- node gw1.1 ---\n' + JSON.stringify(await api('GET', '/api/node/gw1.1')));
  } catch {
    /* the server may be gone */
  }
  console.error('--- broker traffic heard ---\n' + heard.slice(-20).join('\n'));
  console.error('--- server output ---\n' + server.output().slice(-4000));
  void broker;
} finally {
  await browser?.close().catch(() => {});
  cleanup();
  if (!failed) rmSync(tmp, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);
