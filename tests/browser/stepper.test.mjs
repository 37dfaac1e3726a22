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
  const counter = ctx.zh ? '\u7b2c ' + i + ' \u6b65 ' : 'step ' + i + ' ';
  check(st.stepNo && st.stepNo.startsWith(counter), `${where}: step counter reads ${st.stepNo}`);
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

/* The other controls: the first/last buttons, PageDown/PageUp, the slider,
 * and the key of each endpoint (1-9: its next state change), against the
 * trace. */
async function controls(run, page, ctx) {
  const N = run.trace.length, T = run.trace;
  const states = T.map((l, i) => (l.kind === 'state' ? i : -1)).filter((i) => i >= 0);
  await page.click('#b-end');
  checkStep(run, ctx, await pageState(page), N - 1);
  await page.click('#b-start');
  checkStep(run, ctx, await pageState(page), 0);
  await page.keyboard.press('PageDown');
  checkStep(run, ctx, await pageState(page), states.find((i) => i > 0));
  await page.keyboard.press('PageUp');
  checkStep(run, ctx, await pageState(page), states.filter((i) => i < states.find((j) => j > 0)).pop() ?? states.find((i) => i > 0));
  const third = Math.floor(N / 3);
  await page.evaluate((n) => {
    const sl = document.getElementById('slider');
    sl.value = n;
    sl.dispatchEvent(new Event('input'));
  }, third);
  checkStep(run, ctx, await pageState(page), third);
  const eps = await page.evaluate(() => window.tcpsim.endpoints);
  for (let k = 0; k < Math.min(eps.length, 9); k++) {
    await page.evaluate(() => window.tcpsim.go(0));
    const want = T.findIndex((l, i) => i > 0 && l.kind === 'state' && ctx.hostIndex[l.host] + '/' + l.sock === eps[k]);
    await page.keyboard.press(String(k + 1));
    const st = await pageState(page);
    check(want > 0 && st.step === want, `${run.name}: key ${k + 1} went to step ${st.step}, endpoint ${eps[k]}'s next change is ${want}`);
  }
}

/* The ladder's marks against the trace: a cross per lost packet, RTX #N on
 * each segment sent again (same host, ports, seq, length and flags less
 * PSH, carrying data, SYN or FIN), a bracket per timer that fired after a
 * send or a state, and the compressed idle stretches said on the axis. */
async function ladderMarks(run, page) {
  const T = run.trace;
  const lost = new Set(T.filter((l) => l.kind === 'drop').map((l) => l.pkt));
  const seen = {}, rtx = [];
  for (const l of T) {
    if (l.kind !== 'send' || !l.seg || !(l.seg.len > 0 || /SYN|FIN/.test(l.seg.flags))) continue;
    const key = [l.src, l.seg.sport, l.seg.dport, l.seg.seq, l.seg.len, l.seg.flags.replace('PSH,', '')].join(':');
    seen[key] = (seen[key] || 0) + 1;
    if (seen[key] > 1) rtx.push('RTX #' + (seen[key] - 1));
  }
  let idle = 0;
  for (let i = 1; i < T.length; i++) if (T[i].t_ns - T[i - 1].t_ns > 2e9) idle++;
  /* A segment the stack did not take in says what became of it: answered
   * when the trace's next line is that host sending on that connection at
   * the same time, dropped otherwise. */
  const rejects = T.map((l, i) => {
    if (l.kind !== 'reject') return null;
    const r = T[i + 1];
    const answered = r && r.kind === 'send' && r.t_ns === l.t_ns && r.src === l.host && r.seg &&
      (!l.seg || (r.seg.sport === l.seg.dport && r.seg.dport === l.seg.sport));
    return answered ? `${l.note}: answered with ${r.seg.flags.replace(/(^|,)PSH/, '').replace(/^,/, '')}` : `dropped: ${l.note}`;
  }).filter((x) => x);
  const evs = await page.evaluate(() => [...document.querySelectorAll('#ladder-svg text.ev.err')].map((t) => t.textContent)
    .filter((t) => !/^error /.test(t)));
  check(JSON.stringify(evs) === JSON.stringify(rejects), `${run.name}: reject labels ${evs}, trace ${rejects}`);
  const got = await page.evaluate(() => ({
    crosses: document.querySelectorAll('#ladder-svg path.cross').length,
    marks: [...document.querySelectorAll('#ladder-svg text.mark')].map((t) => t.textContent),
    brackets: [...document.querySelectorAll('#ladder-svg text.brlabel')].map((t) => t.textContent),
    gaps: [...document.querySelectorAll('#ladder-svg text.gapmark')].map((t) => t.textContent),
  }));
  check(got.crosses === lost.size, `${run.name}: ${got.crosses} crosses, the trace lost ${lost.size} packets`);
  const marks = got.marks.flatMap((m) => m.match(/RTX #\d+/g) || []).sort();
  check(JSON.stringify(marks) === JSON.stringify(rtx.sort()), `${run.name}: marks ${marks}, trace ${rtx}`);
  const timers = T.filter((l) => l.kind === 'timer').map((l) => l.timer);
  const shown = got.brackets.filter((b) => !/restarted/.test(b));
  for (const t of new Set(timers))
    check(shown.some((b) => b.includes(t)), `${run.name}: no bracket for the ${t} timer (${shown})`);
  check(got.gaps.length === idle && got.gaps.every((g) => / s idle, compressed$/.test(g)),
    `${run.name}: ${got.gaps.length} compressed stretches shown, ${idle} in the trace: ${got.gaps}`);
  return { lost: lost.size, rtx: rtx.length, idle, answered: rejects.filter((x) => /answered/.test(x)).length };
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

/* SACK blocks (format 3): under the linux profile the lossy run's receiver
 * sends them; the first segment that carries blocks shows them in the
 * options row, absolute with 'r' as the trace writes them, and relative to
 * the same base as SEG.ACK. */
async function sackBlocks(context) {
  const run = generate('scenarios/robustness/lossy_transfer.lua', ['--profile', 'linux'], '-linux');
  const i = run.trace.findIndex((l) => l.kind === 'send' && l.seg && l.seg.sack);
  check(i > 0, `${run.name}: the trace has no SACK blocks`);
  if (i <= 0) return;
  const { page } = await openRun(context, run);
  await page.evaluate((n) => window.tcpsim.go(n), i);
  const row = (st) => st.table.find((r) => r.startsWith('options')) || '';
  const [l, r] = run.trace[i].seg.sack[0];
  let st = await pageState(page);
  const ackRow = st.table.find((t) => t.startsWith('SEG.ACK')) || '';
  const relAck = Number(ackRow.slice('SEG.ACK'.length));
  check(row(st).includes('SACK ' + (relAck + (l - run.trace[i].seg.ack)) + '\u2013' + (relAck + (r - run.trace[i].seg.ack))),
    `${run.name} step ${i}: relative SACK block not shown (${row(st)}, ${ackRow})`);
  await page.keyboard.press('r');
  st = await pageState(page);
  check(row(st).includes('SACK ' + l + '\u2013' + r), `${run.name} step ${i}: absolute SACK block ${l}-${r} not shown (${row(st)})`);
  await page.close();
}

/* The TCB each endpoint should have after every line of the trace, by RFC
 * 9293's assignments applied to the segments on the wire (not read from
 * the stack): ISS is the seq of its SYN (\u00a73.10.1), IRS the seq of the
 * peer's (\u00a73.10.7.2, \u00a73.10.7.3); SND.NXT passes what it sent (SYN and
 * FIN count one); RCV.NXT passes what arrived in order; SND.UNA is the
 * highest acceptable ACK that arrived (\u00a73.10.7.4, fifth step). Values
 * are relative to ISS (SND) and IRS (RCV). For runs without reordering. */
function tcbModel(trace, sockets, hostIndex) {
  const M = 2 ** 32, now = {}, out = [];
  const ep = (h, lport, rport) => sockets.find((s) => s.h === h && s.lport === lport && s.rport === rport);
  const seqLen = (g) => g.len + (g.flags.includes('SYN') ? 1 : 0) + (g.flags.includes('FIN') ? 1 : 0);
  for (const l of trace) {
    if ((l.kind === 'send' || l.kind === 'deliver') && l.seg) {
      const g = l.seg, out_ = l.kind === 'send';
      const s = out_ ? ep(hostIndex[l.src], g.sport, g.dport) : ep(hostIndex[l.dst], g.dport, g.sport);
      if (s) {
        const k = s.h + '/' + s.sock, m = (now[k] = now[k] || { una: 0, nxt: 0, rnxt: 0 });
        if (out_) {
          if (g.flags.includes('SYN') && m.iss === undefined) m.iss = g.seq;
          if (m.iss !== undefined) m.nxt = Math.max(m.nxt, ((g.seq - m.iss) % M + M) % M + seqLen(g));
        } else {
          if (g.flags.includes('SYN') && m.irs === undefined) m.irs = g.seq;
          const rel = m.irs === undefined ? -1 : ((g.seq - m.irs) % M + M) % M;
          if (rel >= 0 && rel <= m.rnxt) m.rnxt = Math.max(m.rnxt, rel + seqLen(g));
          if (g.flags.includes('ACK') && m.iss !== undefined) {
            const a = ((g.ack - m.iss) % M + M) % M;
            if (a > m.una && a <= m.nxt) m.una = a;
          }
        }
      }
    }
    out.push(JSON.parse(JSON.stringify(now)));
  }
  return out;
}

async function tcbCells(page) {
  return page.evaluate(() => {
    const cols = {};
    for (const td of document.querySelectorAll('#tcb td')) (cols[td.dataset.ep] = cols[td.dataset.ep] || {})[td.dataset.var] = td.dataset.v;
    const timers = [...document.querySelectorAll('#timer-events li')].map((li) => li.dataset.ep + ' ' + li.dataset.timer + ' ' + li.dataset.what);
    return { cols, timers };
  });
}

/* The TCB panel against the model: at the last step of every instant (all
 * calls of that instant done) every endpoint's columns; at each delivery
 * the receiver's RCV.NXT and SND.UNA already (a call's variables hold from
 * the step that began it). RFC 6298 (5.1, 5.2): RTX runs exactly while
 * something is unacknowledged. TIME_WAIT's deadline is when the trace says
 * it fired. Fired timers and the TIME_WAIT restart are listed. */
async function tcbPanel(run, page, ctx) {
  const sockets = await page.evaluate(() => JSON.parse(document.getElementById('tcpsim-data').textContent).sockets);
  const model = tcbModel(run.trace, sockets, ctx.hostIndex), T = run.trace, N = T.length;
  const fires = (k, i) => T.find((l, j) => j > i && l.kind === 'timer' && l.timer === 'TIME_WAIT' &&
    ctx.hostIndex[l.host] + '/' + l.sock === k);
  const msOf = (ns) => { const us = Math.floor(ns / 1000); return Math.floor(us / 1000) + '.' + String(us % 1000).padStart(3, '0'); };
  let compared = 0;
  for (let i = 0; i < N; i++) {
    const settled = i === N - 1 || T[i + 1].t_ns > T[i].t_ns;
    const line = T[i];
    if (!settled && line.kind !== 'deliver' && line.kind !== 'timer' && line.kind !== 'restart') continue;
    await page.evaluate((n) => window.tcpsim.go(n), i);
    const { cols, timers } = await tcbCells(page);
    const where = `${run.name} step ${i}`;
    for (const [k, m] of Object.entries(model[i])) {
      const st = ctx.expected[i][k] || ctx.first[k];
      if (st === 'LISTEN' || st === 'CLOSED' || m.iss === undefined) continue;
      const c = cols[k];
      check(c !== undefined, `${where}: no TCB column for ${k} (${st})`);
      if (!c) continue;
      const to = line.kind === 'deliver' && line.seg &&
        sockets.find((q) => q.h === ctx.hostIndex[line.dst] && q.lport === line.seg.dport && q.rport === line.seg.sport);
      const dlv = to && to.h + '/' + to.sock === k;
      if (dlv && c.state.startsWith('CLOSED')) {
        /* the segment ends the connection: the TCB is deleted (the state line follows) */
        const nxt = T.find((l, j) => j > i && l.kind === 'state' && ctx.hostIndex[l.host] + '/' + l.sock === k);
        check(nxt && nxt.to === 'CLOSED' && nxt.t_ns === line.t_ns, `${where}: ${k} TCB deleted at a delivery that does not close it`);
      } else if (dlv) {
        check(c['RCV.NXT'] === String(m.rnxt), `${where}: ${k} RCV.NXT ${c['RCV.NXT']} at the delivery, RFC says ${m.rnxt}`);
        check(c['SND.UNA'] === String(m.una), `${where}: ${k} SND.UNA ${c['SND.UNA']} at the delivery, RFC says ${m.una}`);
      }
      if (!settled) continue;
      compared++;
      check(c.state === st, `${where}: ${k} TCB state ${c.state}, trace ${st}`);
      check(c.ISS === String(m.iss), `${where}: ${k} ISS ${c.ISS}, its SYN had seq ${m.iss}`);
      check(c['SND.UNA'] === String(m.una) && c['SND.NXT'] === String(m.nxt),
        `${where}: ${k} SND.UNA/NXT ${c['SND.UNA']}/${c['SND.NXT']}, RFC says ${m.una}/${m.nxt}`);
      if (st !== 'SYN_SENT') {
        check(c.IRS === String(m.irs), `${where}: ${k} IRS ${c.IRS}, the peer's SYN had seq ${m.irs}`);
        check(c['RCV.NXT'] === String(m.rnxt), `${where}: ${k} RCV.NXT ${c['RCV.NXT']}, RFC says ${m.rnxt}`);
      }
      check(/(^|, )RTX /.test(c.timers) === (m.una < m.nxt),
        `${where}: ${k} timers "${c.timers}" with ${m.nxt - m.una} unacknowledged`);
      if (st === 'TIME_WAIT' && fires(k, i))
        check(c.timers.includes('TIME_WAIT at ' + msOf(fires(k, i).t_ns) + ' ms'),
          `${where}: ${k} timers "${c.timers}", the trace fires TIME_WAIT at ${fires(k, i).t}`);
    }
    const who = line.host !== undefined ? ctx.hostIndex[line.host] + '/' + line.sock : '';
    if (line.kind === 'timer')
      check(timers.includes(`${who} ${line.timer} fired`), `${where}: timer ${line.timer} fired not listed (${timers})`);
    if (line.kind === 'restart')
      check(timers.includes(`${who} ${line.timer} restarted`), `${where}: ${line.timer} restart not listed (${timers})`);
  }
  check(compared > 0, `${run.name}: no TCB was compared`);
  /* Absolute: ISS plus the relative value, as on the wire. */
  const syn = T.findIndex((l) => l.kind === 'send' && l.seg && l.seg.flags === 'SYN');
  if (syn >= 0) {
    await page.evaluate((n) => window.tcpsim.go(n), syn);
    await page.keyboard.press('r');
    const { cols } = await tcbCells(page);
    const k = Object.keys(model[syn]).find((q) => model[syn][q].iss === T[syn].seg.seq);
    check(k && cols[k] && cols[k]['SND.NXT'] === String((T[syn].seg.seq + 1) % 2 ** 32),
      `${run.name}: absolute SND.NXT after the SYN is ${k && cols[k] && cols[k]['SND.NXT']}`);
    await page.keyboard.press('r');
  }
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

/* The page's own English words, as the English page writes them, and the
 * words of the rules and of the profile's difference line. */
const ENGLISH = /\b(step|steps|socket|port|ports|flags|options|timer|timers|dropped|idle|compressed|Keys|fired|armed|cancelled|restarted|previous|next|first|last|slide|absolute|relative|happened|Rules?|Profile|Segment|link|lost|was|deleted|scale|permitted|timestamps|error|nothing|differs|state change|sent|received|application|called|check|call|bit|field|eighth|fifth|third|fourth|second|lasts|fixed|scenario|orphaned|gives|carries|reopens|restarts|knob|connections|timeout)\b/;

/* At every step of a --lang zh page, no English of the page's own is left:
 * the explanation, with the rule (RFC 9293's section number kept) and the
 * profile's difference line (#why-profile), less the stack's short notes
 * at the end of the "what happened" line; the ladder's words, the
 * diagrams' titles and edge labels (the one just taken shows the rule),
 * the controls, their titles and the key help. The rule and the profile
 * line are also checked to be written in Chinese. */
async function noEnglishLeft(run, page) {
  const found = new Set();
  let rules = 0, diffs = 0;
  for (let i = 0; i < run.trace.length; i++) {
    await page.evaluate((n) => window.tcpsim.go(n), i);
    const texts = await page.evaluate(() => {
      const out = [];
      const ex = document.getElementById('explain').cloneNode(true);
      const whole = [...ex.querySelectorAll('.rule, #why-profile')];
      for (const n of whole) { out.push(n.textContent); n.remove(); }
      for (const n of ex.querySelectorAll('p, h2, h3, th, li, td')) out.push(n.textContent.replace(/\([^()]*\)$/, ''));
      for (const n of document.querySelectorAll('#ladder-svg text:not(.seglabel), #ladder-svg title, .diagram h4, .elabel'))
        out.push(n.textContent);
      for (const n of document.querySelectorAll('#controls button, #controls label, #controls [title], #step-no, #help, #subtitle'))
        out.push(n.textContent, n.title || '');
      return out;
    });
    for (const t of texts) if (ENGLISH.test(t.replace('#step=N', ''))) found.add(t);
    const own = await page.evaluate(() => [...document.querySelectorAll('#explain .rule')].map((n) => n.textContent)
      .concat([document.getElementById('why-profile')].filter((n) => !n.classList.contains('none')).map((n) => '=' + n.textContent)));
    for (const t of own) {
      check(/[\u4e00-\u9fff]/.test(t), `zh step ${i}: not in Chinese: ${t}`);
      if (t[0] === '=') diffs++; else rules++;
    }
  }
  check(found.size === 0, `zh: English left on the page: ${[...found].slice(0, 12).join(' | ')}`);
  check(rules > 0 && diffs > 0, `zh: rules (${rules}) and profile lines (${diffs}) were seen`);
}

/* --lang zh: the page's words and the rules' sentences in Chinese; the
 * steps, states and rule sections are the trace's. */
async function chinesePage(context) {
  const run = generate('scenarios/teardown/lost_final_ack.lua', ['--sim', '1', '--lang', 'zh'], '-zh');
  const { page, ctx } = await openRun(context, run);
  ctx.zh = true;
  await noEnglishLeft(run, page);
  const i = run.trace.findIndex((l) => l.kind === 'state' && l.from === 'FIN_WAIT_2' && l.to === 'TIME_WAIT');
  check(i > 0, 'zh: the trace has FIN_WAIT_2 -> TIME_WAIT');
  await page.evaluate((n) => window.tcpsim.go(n), i);
  const st = await pageState(page);
  const heads = await page.evaluate(() => [...document.querySelectorAll('#explain h3')].map((h) => h.textContent));
  /* RFC 9293 §3.10.7.4, "Eighth, check the FIN bit", in Chinese; the section is the trace's. */
  check(st.rule === 'RFC 9293 \u00a73.10.7.4,\u7b2c\u516b\u6b65(\u68c0\u67e5 FIN \u4f4d)' &&
    run.trace[i].rule.startsWith('RFC 9293 \u00a73.10.7.4, eighth step'), `zh: rule "${st.rule}"`);
  check(st.just[ctx.hostIndex[run.trace[i].host] + '/' + run.trace[i].sock].includes('FIN_WAIT_2>TIME_WAIT') &&
    await page.evaluate(() => [...document.querySelectorAll('.elabel.just')].map((n) => n.textContent).includes('\u00a73.10.7.4 \u7b2c\u516b\u6b65')),
    'zh: the edge just taken is labelled \u00a73.10.7.4 \u7b2c\u516b\u6b65');
  /* The scenario sets MSL = 30 s, so TIME_WAIT lasts 2*MSL = 60 s; RFC 9293
   * \u00a73.4.1's MSL is 2 minutes, 2*MSL = 240 s. */
  const pd = await page.evaluate(() => document.getElementById('why-profile').textContent);
  check(pd === '\u672c\u573a\u666f:TIME_WAIT \u6301\u7eed 60 s(RFC 9293:2*MSL = 240 s)\u3002',
    `zh: profile line "${pd}"`);
  check(st.because === '\u5bf9\u7aef\u7684 FIN \u5230\u8fbe:\u786e\u8ba4\u5b83,\u5e76\u5728 TIME-WAIT \u4e2d\u7b49\u5f85 2*MSL,\u4ee5\u9632\u8fd9\u4e2a ACK \u4e22\u5931',
    `zh: because "${st.because}"`);
  check(heads[0] === '\u53d1\u751f\u4e86\u4ec0\u4e48' && heads[1] === '\u89c4\u5219', `zh: headings ${heads}`);
  check(await page.evaluate(() => document.documentElement.lang === 'zh-CN' &&
    document.getElementById('b-next').textContent === '\u4e8b\u4ef6 >'), 'zh: lang and buttons');
  const r = run.trace.findIndex((l) => l.kind === 'restart');
  await page.evaluate((n) => window.tcpsim.go(n), r);
  const rs = await pageState(page);
  check(rs.because && rs.because.startsWith('FIN \u518d\u6b21\u5230\u8fbe'), `zh: restart because "${rs.because}"`);
  check(rs.rule === 'RFC 9293 \u00a73.10.7.4,\u7b2c\u516b\u6b65(\u68c0\u67e5 FIN \u4f4d),\u5728 TIME-WAIT \u4e2d',
    `zh: restart rule "${rs.rule}"`);
  checkStep(run, ctx, { ...rs, rule: run.trace[r].rule, because: run.trace[r].because,
    what: run.trace[r].timer + ' restarted: 2*MSL from now' }, r);
  await page.screenshot({ path: path.join(artifacts, `${run.name}-step${i}.png`), fullPage: true });
  await page.close();
}

/* The page's embedded data against docs/outputs.md ("The page's data"):
 * its format is the table's last row, and every field the pages carry is
 * named there. */
function dataDocumented(files) {
  const doc = fs.readFileSync(path.join(root, 'docs/outputs.md'), 'utf8');
  const at = doc.indexOf("**The page's data.**");
  check(at >= 0, "docs/outputs.md has no \"The page's data\" paragraph");
  const part = doc.slice(at, doc.indexOf('`tcpsim test --html DIR`', at));
  const rows = [...part.matchAll(/^\| (\d+) \|/gm)].map((m) => +m[1]);
  const keys = new Set();
  const walk = (v) => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object')
      for (const [k, x] of Object.entries(v)) {
        keys.add(k);
        if (k !== 'tm') walk(x); /* tm's keys are timer names, not fields */
      }
  };
  for (const f of files) {
    const html = fs.readFileSync(f, 'utf8');
    const m = /<script type="application\/json" id="tcpsim-data">\n([\s\S]*?)\n<\/script>/.exec(html);
    check(m, `${f}: no embedded data`);
    if (!m) continue;
    const data = JSON.parse(m[1]);
    check(rows.length > 0 && data.format === rows[rows.length - 1],
      `${path.basename(f)}: format ${data.format}, docs/outputs.md's last format is ${rows[rows.length - 1]}`);
    walk(data);
  }
  const missing = [...keys].filter((k) => !part.includes('`' + k + '`'));
  check(keys.has('tcb') && keys.has('rzh') && keys.has('pdiff'), `the pages lack tcb, rzh or pdiff: ${[...keys]}`);
  check(missing.length === 0, `fields of the page's data not in docs/outputs.md: ${missing.join(' ')}`);
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
  const marks = [];
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
    await controls(run, page, ctx);
    marks.push(await ladderMarks(run, page));
    if (run.name === 'lost_final_ack') await timeWaitRestart(run, page);
    if (run.name === 'lost_final_ack' || run.name === 'simultaneous_close') await tcbPanel(run, page, ctx);
    await sequenceNumbers(run, page);
    await screenshots(run, page);
    await page.close();
  }
  check(marks.some((m) => m.lost > 0) && marks.some((m) => m.rtx > 0) && marks.some((m) => m.idle > 0) &&
    marks.some((m) => m.answered > 0),
    'the runs showed no loss, retransmission or idle stretch: ' + JSON.stringify(marks));
  await sackBlocks(context);
  await hostileText(context);
  await chinesePage(context);
  dataDocumented(fs.readdirSync(artifacts).filter((f) => f.endsWith('.html')).map((f) => path.join(artifacts, f)));
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
