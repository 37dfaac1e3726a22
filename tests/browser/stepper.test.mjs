// Opens pages written by `tcpsim run --html` in headless Chromium and checks
// them against the same run's JSON trace (step N of the page is line N of
// the trace): at every step the lit state of each endpoint's diagram is the
// state the trace says it is in, and at each state change the explanation
// shows the trace's rule and because and the diagram highlights that edge.
// Also: keyboard and buttons, the URL fragment surviving a reload, relative
// and absolute sequence numbers, and that the page requested nothing but
// itself; and that `tcpsim test --html DIR` writes an index whose every link
// opens a working page. Screenshots are kept in the artifacts folder.
//
// usage: node stepper.test.mjs TCPSIM ARTIFACT_DIR
// Needs /usr/bin/chromium and playwright-core (scripts/setup.sh installs
// both); without them the test fails, it is never skipped.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');
const [tcpsim, artifacts] = process.argv.slice(2);
const CHROMIUM = '/usr/bin/chromium';
let failures = 0, checks = 0;

function fail(msg) { failures++; console.log('FAILED: ' + msg); }
function check(ok, msg) { checks++; if (!ok) fail(msg); }
function die(msg) { console.log('FAILED: ' + msg); process.exit(1); }

if (!tcpsim || !artifacts) die('usage: node stepper.test.mjs TCPSIM ARTIFACT_DIR');
if (!fs.existsSync(CHROMIUM)) die(`${CHROMIUM} is missing: run scripts/setup.sh (Debian package chromium)`);
let chromium;
try {
  ({ chromium } = await import('playwright-core'));
} catch (e) {
  die('playwright-core is missing: run scripts/setup.sh (npm ci in tests/browser): ' + e.message);
}
fs.mkdirSync(artifacts, { recursive: true });

/* A run: the page and its JSON trace. */
function generate(scenario, extra = [], suffix = '') {
  const name = path.basename(scenario, '.lua') + suffix;
  const html = path.join(artifacts, name + '.html'), json = path.join(artifacts, name + '.jsonl');
  try {
    execFileSync(tcpsim, ['run', path.join(root, scenario), '--quiet', '--html', html,
      '--trace', 'json', '--trace-out', json, ...extra], { stdio: 'pipe' });
  } catch (e) {
    if (e.status !== 1) die(`${scenario}: tcpsim exited ${e.status}: ${e.stderr}`);
  }
  const trace = fs.readFileSync(json, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  return { name, html, trace };
}

/* What the trace says each endpoint ("host/sock") is in after line i. */
function expectedStates(trace, hostIndex) {
  const now = {}, out = [];
  for (const line of trace) {
    if (line.kind === 'state') {
      const k = hostIndex[line.host] + '/' + line.sock;
      now[k] = line.to;
    }
    out.push({ ...now });
  }
  return out;
}

/* The first state of each endpoint: the `from` of its first change. */
function firstStates(trace, hostIndex) {
  const first = {};
  for (const line of trace)
    if (line.kind === 'state') {
      const k = hostIndex[line.host] + '/' + line.sock;
      if (!(k in first)) first[k] = line.from;
    }
  return first;
}

async function pageState(page) {
  return page.evaluate(() => {
    const out = { step: window.tcpsim.step(), hash: location.hash, lit: {}, just: {} };
    for (const d of document.querySelectorAll('.diagram')) {
      out.lit[d.dataset.endpoint] = [...d.querySelectorAll('.node.lit')].map((n) => n.dataset.state);
      out.just[d.dataset.endpoint] = [...d.querySelectorAll('.edge.just')].map((n) => n.dataset.edge);
    }
    const t = (id) => (document.getElementById(id) || {}).textContent || null;
    out.rule = t('why-rule');
    out.because = t('why-because');
    out.stepNo = t('step-no');
    out.what = t('why-what');
    out.table = [...document.querySelectorAll('#explain tr')].map((r) => r.textContent);
    return out;
  });
}

function checkStep(run, ctx, st, i) {
  const line = run.trace[i];
  const where = `${run.name} step ${i}`;
  check(st.step === i, `${where}: page is at step ${st.step}`);
  check(st.hash === '#step=' + i, `${where}: address fragment is ${st.hash}`);
  check(st.stepNo && st.stepNo.startsWith('step ' + i + ' '), `${where}: step counter reads ${st.stepNo}`);
  for (const k of Object.keys(ctx.first)) {
    const want = ctx.expected[i][k] || ctx.first[k];
    const lit = st.lit[k] || [];
    check(lit.length >= 1 && lit.every((s) => s === want),
      `${where}: endpoint ${k} lit ${JSON.stringify(lit)}, trace says ${want}`);
  }
  if (line.kind === 'state') {
    const k = ctx.hostIndex[line.host] + '/' + line.sock;
    check(st.rule === line.rule, `${where}: rule "${st.rule}", trace "${line.rule}"`);
    check(st.because === line.because, `${where}: because "${st.because}", trace "${line.because}"`);
    check((st.just[k] || []).includes(line.from + '>' + line.to),
      `${where}: edge ${line.from}>${line.to} not highlighted on ${k} (${st.just[k]})`);
  }
  if (line.kind === 'restart') {
    const k = ctx.hostIndex[line.host] + '/' + line.sock;
    check(st.rule === line.rule, `${where}: restart rule "${st.rule}", trace "${line.rule}"`);
    check(st.because === line.because, `${where}: restart because "${st.because}", trace "${line.because}"`);
    check(st.what && st.what.includes(line.timer + ' restarted: 2*MSL from now'),
      `${where}: the explanation does not say the timer restarted: ${st.what}`);
    check((st.just[k] || []).includes('TIME_WAIT>TIME_WAIT'),
      `${where}: the TIME_WAIT loop is not highlighted on ${k} (${st.just[k]})`);
  }
}

/* The lost-final-ACK lesson: the repeated FIN restarts TIME_WAIT, and the
 * ladder shows it from that step on (not before). */
async function timeWaitRestart(run, page) {
  const i = run.trace.findIndex((l) => l.kind === 'restart');
  check(i > 0, `${run.name}: the trace has no TIME_WAIT restart`);
  if (i <= 0) return;
  const shown = async (n) => {
    await page.evaluate((m) => window.tcpsim.go(m), n);
    return page.evaluate(() => [...document.querySelectorAll('#ladder-svg text')]
      .filter((t) => t.textContent === 'TIME_WAIT restarted: 2*MSL from now')
      .map((t) => !t.classList.contains('future')));
  };
  const before = await shown(i - 1), at = await shown(i);
  check(before.length === 1 && before[0] === false, `${run.name}: restart label before step ${i}: ${before}`);
  check(at.length === 1 && at[0] === true, `${run.name}: restart label at step ${i}: ${at}`);
  await page.screenshot({ path: path.join(artifacts, `${run.name}-restart-step${i}.png`), fullPage: true });
}

async function openRun(context, run) {
  const page = await context.newPage();
  page.on('pageerror', (e) => fail(`${run.name}: script error: ${e.message}`));
  page.on('console', (m) => { if (m.type() === 'error') fail(`${run.name}: console error: ${m.text()}`); });
  await page.goto(pathToFileURL(run.html).href + '#step=0');
  await page.waitForFunction(() => window.tcpsim !== undefined);
  const hosts = await page.evaluate(() => JSON.parse(document.getElementById('tcpsim-data').textContent).hosts.map((h) => h.name));
  const hostIndex = Object.fromEntries(hosts.map((h, i) => [h, i]));
  const ctx = { hostIndex, expected: expectedStates(run.trace, hostIndex), first: firstStates(run.trace, hostIndex) };
  const steps = await page.evaluate(() => window.tcpsim.steps);
  check(steps === run.trace.length, `${run.name}: page has ${steps} steps, trace ${run.trace.length} lines`);
  const eps = await page.evaluate(() => window.tcpsim.endpoints);
  check(eps.length === Object.keys(ctx.first).length && eps.every((k) => k in ctx.first),
    `${run.name}: diagrams for ${eps}, trace has ${Object.keys(ctx.first)}`);
  return { page, ctx };
}

/* Every step with the keyboard, forward and back. */
async function walkWithKeys(run, page, ctx) {
  for (let i = 0; i < run.trace.length; i++) {
    if (i > 0) await page.keyboard.press('ArrowRight');
    checkStep(run, ctx, await pageState(page), i);
  }
  await page.keyboard.press('ArrowRight'); // past the end stays at the end
  check((await pageState(page)).step === run.trace.length - 1, `${run.name}: stepping past the end`);
  for (let i = run.trace.length - 2; i >= 0; i--) {
    await page.keyboard.press('ArrowLeft');
    checkStep(run, ctx, await pageState(page), i);
  }
}

/* Jumps: Home/End, state changes, buttons, the fragment, reload. */
async function jumps(run, page, ctx) {
  const N = run.trace.length;
  const states = run.trace.map((l, i) => (l.kind === 'state' ? i : -1)).filter((i) => i >= 0);
  await page.keyboard.press('End');
  checkStep(run, ctx, await pageState(page), N - 1);
  await page.keyboard.press('Home');
  checkStep(run, ctx, await pageState(page), 0);
  let at = 0;
  for (const s of states.filter((i) => i > 0).slice(0, 6)) {
    await page.keyboard.press('Shift+ArrowRight');
    checkStep(run, ctx, await pageState(page), s);
    at = s;
  }
  const prev = states.filter((i) => i < at).pop();
  if (prev !== undefined) {
    await page.click('#b-prev-state');
    checkStep(run, ctx, await pageState(page), prev);
  }
  await page.click('#b-next');
  checkStep(run, ctx, await pageState(page), Math.min(N - 1, (prev ?? at) + 1));
  const mid = Math.floor(N / 2);
  await page.evaluate((n) => { location.hash = '#step=' + n; }, mid);
  await page.waitForFunction((n) => window.tcpsim.step() === n, mid);
  checkStep(run, ctx, await pageState(page), mid);
  await page.reload();
  await page.waitForFunction(() => window.tcpsim !== undefined);
  checkStep(run, ctx, await pageState(page), mid);
}

/* Relative by default, absolute with R, at the first SYN sent. */
async function sequenceNumbers(run, page) {
  const i = run.trace.findIndex((l) => l.kind === 'send' && l.seg && l.seg.flags.includes('SYN'));
  if (i < 0) return;
  await page.evaluate((n) => window.tcpsim.go(n), i);
  let st = await pageState(page);
  check(st.table.some((r) => r === 'SEG.SEQ0'), `${run.name}: relative SEG.SEQ of the SYN is not 0 (${st.table})`);
  await page.keyboard.press('r');
  st = await pageState(page);
  check(st.table.some((r) => r === 'SEG.SEQ' + run.trace[i].seg.seq),
    `${run.name}: absolute SEG.SEQ is not ${run.trace[i].seg.seq} (${st.table})`);
  check(st.hash === '#step=' + i + '&abs', `${run.name}: fragment keeps absolute (${st.hash})`);
  await page.keyboard.press('r');
}

async function screenshots(run, page) {
  const states = run.trace.map((l, i) => (l.kind === 'state' ? i : -1)).filter((i) => i >= 0);
  const picks = [0, states[Math.floor(states.length / 2)], run.trace.length - 1];
  for (const s of picks) {
    await page.evaluate((n) => window.tcpsim.go(n), s);
    await page.screenshot({ path: path.join(artifacts, `${run.name}-step${s}.png`), fullPage: true });
  }
  await page.keyboard.press('s');
  await page.screenshot({ path: path.join(artifacts, `${run.name}-slide.png`) });
  check(await page.evaluate(() => document.body.classList.contains('slide') &&
    getComputedStyle(document.getElementById('ladder-pane')).display === 'none'), `${run.name}: slide mode`);
  await page.keyboard.press('s');
  await page.emulateMedia({ media: 'print' });
  check(await page.evaluate(() => getComputedStyle(document.getElementById('controls')).display === 'none'),
    `${run.name}: printing shows the controls`);
  await page.emulateMedia({ media: 'screen' });
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#b-svg')]);
  const svgPath = path.join(artifacts, `${run.name}-step${run.trace.length - 1}.svg`);
  await download.saveAs(svgPath);
  const svg = fs.readFileSync(svgPath, 'utf8');
  check(svg.startsWith('<svg') && svg.trimEnd().endsWith('</svg>') && svg.includes('<style>'),
    `${run.name}: the SVG button saved no standalone SVG`);
}

/* Names and notes with markup stay text; three hosts all get a lane. */
async function hostileText(context) {
  const run = generate('tests/browser/hostile_text.lua');
  const { page } = await openRun(context, run);
  const got = await page.evaluate(() => ({
    pwned: window.pwned,
    lanes: [...document.querySelectorAll('.lanename')].map((t) => t.textContent),
    note: [...document.querySelectorAll('.note')].map((t) => t.textContent).join(' '),
    title: document.title,
  }));
  check(got.pwned === undefined, 'a note ran as script');
  check(JSON.stringify(got.lanes) === JSON.stringify(['A</script>', 'B&<b>x</b>', 'C']),
    'host names not shown as written: ' + JSON.stringify(got.lanes));
  check(got.note.includes('</script><script>window.pwned = 1</script> \u20ac \ufffd'),
    'note not shown as written: ' + got.note);
  check(got.title.endsWith('hostile_text.lua - tcpsim'), 'title: ' + got.title);
  await page.screenshot({ path: path.join(artifacts, 'hostile_text.png') });
  await page.close();
}

/* --lang zh: the page's words and the rules' sentences in Chinese; the
 * steps, states and rule sections are the trace's. */
async function chinesePage(context) {
  const run = generate('scenarios/teardown/lost_final_ack.lua', ['--sim', '1', '--lang', 'zh'], '-zh');
  const { page, ctx } = await openRun(context, run);
  const i = run.trace.findIndex((l) => l.kind === 'state' && l.from === 'FIN_WAIT_2' && l.to === 'TIME_WAIT');
  check(i > 0, 'zh: the trace has FIN_WAIT_2 -> TIME_WAIT');
  await page.evaluate((n) => window.tcpsim.go(n), i);
  const st = await pageState(page);
  const heads = await page.evaluate(() => [...document.querySelectorAll('#explain h3')].map((h) => h.textContent));
  check(st.rule === run.trace[i].rule, `zh: rule "${st.rule}"`);
  check(st.because === '\u5bf9\u7aef\u7684 FIN \u5230\u8fbe:\u786e\u8ba4\u5b83,\u5e76\u5728 TIME-WAIT \u4e2d\u7b49\u5f85 2*MSL,\u4ee5\u9632\u8fd9\u4e2a ACK \u4e22\u5931',
    `zh: because "${st.because}"`);
  check(heads[0] === '\u53d1\u751f\u4e86\u4ec0\u4e48' && heads[1] === '\u89c4\u5219', `zh: headings ${heads}`);
  check(await page.evaluate(() => document.documentElement.lang === 'zh-CN' &&
    document.getElementById('b-next').textContent === '\u4e8b\u4ef6 >'), 'zh: lang and buttons');
  const r = run.trace.findIndex((l) => l.kind === 'restart');
  await page.evaluate((n) => window.tcpsim.go(n), r);
  const rs = await pageState(page);
  check(rs.because && rs.because.startsWith('FIN \u518d\u6b21\u5230\u8fbe'), `zh: restart because "${rs.because}"`);
  checkStep(run, ctx, { ...rs, because: run.trace[r].because, what: run.trace[r].timer + ' restarted: 2*MSL from now' }, r);
  await page.screenshot({ path: path.join(artifacts, `${run.name}-step${i}.png`), fullPage: true });
  await page.close();
}

/* `tcpsim test --html DIR`: an index linking one working page per scenario. */
async function testIndex(context) {
  const dir = path.join(artifacts, 'test-html');
  fs.rmSync(dir, { recursive: true, force: true });
  const folder = path.join(root, 'scenarios/handshake');
  const count = fs.readdirSync(folder).filter((f) => f.endsWith('.lua')).length;
  try {
    execFileSync(tcpsim, ['test', folder, '--quiet', '--html', dir], { stdio: 'pipe' });
  } catch (e) {
    fail(`tcpsim test --html exited ${e.status}: ${e.stdout}`);
  }
  const page = await context.newPage();
  page.on('pageerror', (e) => fail(`index page: script error: ${e.message}`));
  await page.goto(pathToFileURL(path.join(dir, 'index.html')).href);
  const links = await page.evaluate(() => [...document.querySelectorAll('a')].map((a) => a.href));
  check(links.length === count, `index links ${links.length} pages, folder has ${count} scenarios`);
  for (const href of links) {
    await page.goto(href);
    const steps = await page.evaluate(() => (window.tcpsim ? window.tcpsim.steps : -1));
    check(steps > 0, `${href}: page did not load a run (${steps})`);
  }
  await page.screenshot({ path: path.join(artifacts, 'test-html-last.png') });
  await page.close();
}

const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tcpsim-chromium-'));
const context = await chromium.launchPersistentContext(userDataDir, {
  executablePath: CHROMIUM,
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  viewport: { width: 1500, height: 950 },
});
const requests = [];
context.on('request', (r) => requests.push(r.url()));
await context.route('**/*', (route) => {
  const u = route.request().url();
  if (u.startsWith('file://')) return route.continue();
  return route.abort();
});
try {
  const runs = [
    ['scenarios/teardown/lost_final_ack.lua', true],
    ['scenarios/teardown/simultaneous_close.lua', true],
    ['scenarios/handshake/old_duplicate_syn.lua', true],
    ['scenarios/robustness/lossy_transfer.lua', false],
  ];
  for (const [scenario, everyStep] of runs) {
    const run = generate(scenario);
    const { page, ctx } = await openRun(context, run);
    if (everyStep) await walkWithKeys(run, page, ctx);
    else
      for (let i = 0; i < run.trace.length; i += Math.max(1, Math.floor(run.trace.length / 40))) {
        await page.evaluate((n) => window.tcpsim.go(n), i);
        checkStep(run, ctx, await pageState(page), i);
      }
    await jumps(run, page, ctx);
    if (run.name === 'lost_final_ack') await timeWaitRestart(run, page);
    await sequenceNumbers(run, page);
    await screenshots(run, page);
    await page.close();
  }
  await hostileText(context);
  await chinesePage(context);
  await testIndex(context);
} finally {
  await context.close();
  fs.rmSync(userDataDir, { recursive: true, force: true });
}
const external = requests.filter((u) => !u.startsWith('file://') && !u.startsWith('data:') && !u.startsWith('blob:'));
check(requests.length > 0, 'no request was seen at all (the request log is not working)');
check(external.length === 0, 'the pages requested: ' + external.join(' '));
console.log(`browser: ${checks} checks, ${failures} failed; ${requests.length} requests, all local; ` +
  `screenshots in ${artifacts}`);
process.exit(failures ? 1 : 0);
