/* tcpsim stepper page: draws the run embedded in #tcpsim-data (one object per
 * run log entry, in order: step N is entry N of `tcpsim run --trace json`) as
 * a ladder and one RFC 9293 state diagram per endpoint, and explains each
 * step. Uses nothing outside this page. */
(function () {
  'use strict';
  var D = JSON.parse(document.getElementById('tcpsim-data').textContent);
  var E = D.entries, H = D.hosts, N = E.length;
  var SVGNS = 'http://www.w3.org/2000/svg';
  var STATES = ['CLOSED', 'LISTEN', 'SYN_SENT', 'SYN_RECEIVED', 'ESTABLISHED', 'FIN_WAIT_1',
    'FIN_WAIT_2', 'CLOSE_WAIT', 'CLOSING', 'LAST_ACK', 'TIME_WAIT'];
  var COLORS = {CLOSED: '#e4e7ec', LISTEN: '#d1e9ff', SYN_SENT: '#fde68a', SYN_RECEIVED: '#fcd34d',
    ESTABLISHED: '#a7f3d0', FIN_WAIT_1: '#fbcfe8', FIN_WAIT_2: '#f9a8d4', CLOSE_WAIT: '#c7d2fe',
    CLOSING: '#f0abfc', LAST_ACK: '#a5b4fc', TIME_WAIT: '#fdba74'};
  var cur = 0, absolute = false;
  /* --lang zh: the page's own words in Simplified Chinese (the rules' sentences come as e.zh). */
  var ZH = D.lang === 'zh';
  function tr(en, zh) { return ZH ? zh : en; }
  function because(e) { return ZH && e.zh ? e.zh : e.because; }
  function rule(e) { return ZH && e.rzh ? e.rzh : e.rule; }

  function hname(h) { return h >= 0 && h < H.length ? H[h].name : '?'; }
  function el(tag, attrs, text) {
    var n = document.createElementNS(SVGNS, tag);
    for (var k in attrs) if (Object.prototype.hasOwnProperty.call(attrs, k)) n.setAttribute(k, attrs[k]);
    if (text !== undefined) n.textContent = text;
    return n;
  }
  function html(tag, cls, text) {
    var n = document.createElement(tag);
    if (cls) n.className = cls;
    if (text !== undefined) n.textContent = text;
    return n;
  }
  function ms(tns) {
    var us = Math.floor(tns / 1000);
    var whole = Math.floor(us / 1000), frac = String(us % 1000);
    return whole + '.' + '000'.slice(frac.length) + frac;
  }
  function isPkt(e) {
    return ['send', 'deliver', 'drop', 'dup', 'hold', 'release', 'corrupt', 'delay'].indexOf(e.kind) >= 0;
  }

  /* ---- analysis: endpoints, packets, retransmissions, ISNs ---------------- */
  var EPS = [], epOf = {};
  (D.sockets || []).forEach(function (s) {
    var k = s.h + '/' + s.sock;
    epOf[k] = EPS.length;
    EPS.push({h: s.h, sock: s.sock, lport: s.lport, rport: s.rport, trans: [], key: k});
  });
  var hostEps = H.map(function () { return []; });
  EPS.forEach(function (ep, k) { hostEps[ep.h].push(k); });
  E.forEach(function (e, i) {
    if (e.kind === 'state' || e.kind === 'restart') {
      var k = epOf[e.h + '/' + e.sock];
      if (k === undefined) return;
      if (e.kind === 'state') EPS[k].trans.push(i);
      e.ep = k;
    }
  });
  EPS.forEach(function (ep, k) {
    var n = hostEps[ep.h].length;
    ep.name = hname(ep.h) + (n > 1 ? ' #' + ep.sock : '');
    ep.idx = k;
    ep.start = ep.trans.length ? E[ep.trans[0]].from : 'CLOSED';
  });
  /* States changed (and timers restarted) by entry i (a delivery), as entry indexes. */
  var causedBy = {};
  E.forEach(function (e, i) {
    if ((e.kind === 'state' || e.kind === 'restart') && e.ce !== undefined)
      (causedBy[e.ce] = causedBy[e.ce] || []).push(i);
  });
  /* Each packet: where it was sent, where it ended, marks. */
  var PK = {};
  function pk(id) { return PK[id] || (PK[id] = {send: -1, end: -1, how: '', marks: []}); }
  var seen = {}, isn = {};
  E.forEach(function (e, i) {
    if (!isPkt(e)) return;
    var p = pk(e.pkt);
    if (e.kind === 'send' || e.kind === 'dup') {
      p.send = i;
      if (e.kind === 'dup') p.marks.push(tr('DUP of ' + e.origin, 'DUP(\u5206\u7ec4 ' + e.origin + ' \u7684\u526f\u672c)'));
      if (e.seg) {
        var s = e.seg, key = e.s + ':' + s.sport + '>' + s.dport;
        if (s.flags.indexOf('SYN') >= 0 && isn[key] === undefined) isn[key] = s.seq;
        var carries = s.len > 0 || /SYN|FIN/.test(s.flags);
        var id = key + ':' + s.seq + ':' + s.len + ':' + s.flags.replace('PSH,', '');
        if (carries && e.kind === 'send') {
          if (seen[id] !== undefined) {
            seen[id].n += 1;
            p.rtx = seen[id].n;
            p.marks.push('RTX #' + p.rtx);
          } else seen[id] = {n: 0};
        }
      }
    } else if (e.kind === 'deliver' || e.kind === 'drop') {
      if (p.send < 0) p.send = i;
      p.end = i; p.how = e.kind;
      if (e.kind === 'drop') p.reason = e.reason;
    } else if (e.kind === 'delay') p.marks.push(tr('delayed', '\u5ef6\u8fdf'));
    else if (e.kind === 'hold') p.marks.push(tr('held', '\u6263\u7559'));
    else if (e.kind === 'corrupt') p.marks.push(tr('corrupt', '\u635f\u574f'));
  });
  /* TIME_WAIT restarts (RFC 9293 \u00a73.10.7.4, TIME-WAIT: a retransmitted FIN
   * is acknowledged and restarts the 2 MSL timeout), as the stack reported them. */
  var restartAt = {}, restartsOf = {};
  E.forEach(function (e, i) {
    if (e.kind !== 'restart' || e.ep === undefined) return;
    restartAt[i] = e.ep;
    (restartsOf[e.ep] = restartsOf[e.ep] || []).push(i);
  });
  /* ---- connection variables -------------------------------------------------
   * Each endpoint's TCB as its stack reported it after each call (entry
   * field tcb: a record holds from that step on), in step order. */
  var TCBS = EPS.map(function () { return []; });
  E.forEach(function (e, i) {
    (e.tcb || []).forEach(function (r) {
      var k = epOf[r.h + '/' + r.sock];
      if (k !== undefined) TCBS[k].push({at: i, r: r});
    });
  });
  /* The index in TCBS[k] of the record in force at step i, or -1. */
  function tcbIdx(k, i) {
    var t = TCBS[k], lo = 0, hi = t.length - 1, best = -1;
    while (lo <= hi) {
      var mid = (lo + hi) >> 1;
      if (t[mid].at <= i) { best = mid; lo = mid + 1; } else hi = mid - 1;
    }
    return best;
  }
  /* RFC 9293 \u00a73.3.1 names; 'snd'/'rcv': relative to ISS/IRS unless absolute;
   * 'rcv' and 'peer': learnt from the peer's SYN, unknown in SYN_SENT. */
  var TCB_VARS = [['SND.UNA', 'una', 'snd'], ['SND.NXT', 'nxt', 'snd'], ['SND.WND', 'swnd', 'peer'],
    ['ISS', 'iss', ''], ['RCV.NXT', 'rnxt', 'rcv'], ['RCV.WND', 'rwnd', 'rcv'], ['IRS', 'irs', 'rcv']];
  function tcbVal(r, v) {
    if (r.st === 'CLOSED' || ((v[2] === 'rcv' || v[2] === 'peer') && r.st === 'SYN_SENT')) return '\u2014';
    var x = r[v[1]];
    if (absolute || (v[0] !== 'SND.UNA' && v[0] !== 'SND.NXT' && v[0] !== 'RCV.NXT')) return String(x);
    var base = v[2] === 'snd' ? r.iss : r.irs;
    return String(((x - base) % 4294967296 + 4294967296) % 4294967296);
  }
  function timerList(r) {
    var names = Object.keys(r.tm);
    if (r.st === 'CLOSED' || !names.length) return '\u2014';
    return names.map(function (n) { return n + ' ' + tr('at', '\u5230\u671f') + ' ' + ms(r.tm[n]) + ' ms'; }).join(', ');
  }
  /* What happened to endpoint k's timers at step i: armed, restarted,
   * cancelled (the records before and after the call), fired (the step). */
  function timerEvents(k, i) {
    var out = [], e = E[i], x = tcbIdx(k, i);
    var fired = e.kind === 'timer' && epOf[e.h + '/' + e.sock] === k ? e.timer : '';
    if (fired) out.push({timer: fired, what: 'fired'});
    if (restartAt[i] === k && x >= 0) out.push({timer: e.timer, what: 'restarted', at: TCBS[k][x].r.tm[e.timer]});
    if (x < 0 || TCBS[k][x].at !== i) return out;
    var now = TCBS[k][x].r.tm, was = x > 0 ? TCBS[k][x - 1].r.tm : {};
    var names = Object.keys(was).concat(Object.keys(now).filter(function (n) { return !(n in was); }));
    names.forEach(function (n) {
      if (!(n in now)) { if (n !== fired) out.push({timer: n, what: 'cancelled'}); }
      else if (!(n in was) || (n === fired && now[n] !== was[n])) out.push({timer: n, what: 'armed', at: now[n]});
      else if (now[n] !== was[n]) out.push({timer: n, what: 'restarted', at: now[n]});
    });
    return out;
  }
  var TIMER_WORDS = {fired: ['fired', '\u5230\u671f'], cancelled: ['cancelled', '\u53d6\u6d88'],
    armed: ['armed', '\u542f\u52a8'], restarted: ['restarted', '\u91cd\u65b0\u542f\u52a8']};
  function timerText(ep, t) {
    var w = tr(TIMER_WORDS[t.what][0], TIMER_WORDS[t.what][1]);
    return ep.name + ': ' + t.timer + ' ' + w + (t.at !== undefined ? tr(', fires at ', '\uff0c\u5230\u671f\u65f6\u523b ') +
      ms(t.at) + ' ms (' + tr('in ', '') + ms(t.at - E[cur].t_ns) + ' ms' + tr('', '\u540e') + ')' : '');
  }

  function relSeq(e, field) {
    var s = e.seg;
    if (!s) return 0;
    if (absolute) return s[field];
    var key = field === 'seq' ? e.s + ':' + s.sport + '>' + s.dport : e.d + ':' + s.dport + '>' + s.sport;
    var base = isn[key];
    if (base === undefined) return s[field];
    return ((s[field] - base) % 4294967296 + 4294967296) % 4294967296;
  }
  /* A SACK block's edge, in the space of SEG.ACK (the receiver's view of
   * the sender's data), relative as relSeq makes SEG.ACK. */
  function relEdge(e, v) {
    var s = e.seg;
    if (absolute) return v;
    var base = isn[e.d + ':' + s.dport + '>' + s.sport];
    if (base === undefined) return v;
    return ((v - base) % 4294967296 + 4294967296) % 4294967296;
  }
  function label(e) {
    var s = e.seg;
    if (!s) return 'malformed (' + e.malformed + ')';
    var t = s.flags.replace(/(^|,)PSH/, '').replace(/^,/, '') + ' seq=' + relSeq(e, 'seq');
    if (s.flags.indexOf('ACK') >= 0) t += ' ack=' + relSeq(e, 'ack');
    if (s.len > 0) t += ' len=' + s.len;
    if (s.win === 0 && s.flags.indexOf('RST') < 0) t += ' win=0';
    return t;
  }

  /* ---- the state at a step ------------------------------------------------ */
  /* The last transition of endpoint k at or before step i, or -1. */
  function lastTrans(k, i) {
    var t = EPS[k].trans, lo = 0, hi = t.length - 1, best = -1;
    while (lo <= hi) {
      var mid = (lo + hi) >> 1;
      if (t[mid] <= i) { best = t[mid]; lo = mid + 1; } else hi = mid - 1;
    }
    return best;
  }
  function stateAt(k, i) {
    var j = lastTrans(k, i);
    return j < 0 ? EPS[k].start : E[j].to;
  }

  /* ---- ladder layout ------------------------------------------------------- */
  var LANE0 = 150, LANEGAP = Math.max(220, Math.min(420, 560 / Math.max(1, H.length - 1)));
  var TOP = 56, ROW = 17, IDLE_NS = 2e9;
  function laneX(h) { return LANE0 + h * LANEGAP; }
  var Y = [], gaps = [];
  (function () {
    var y = TOP;
    for (var i = 0; i < N; i++) {
      if (i > 0) {
        var dt = E[i].t_ns - E[i - 1].t_ns;
        if (dt > 0) {
          var g = 4 + 10 * Math.log10(1 + dt / 1e6);
          if (dt > IDLE_NS) { g = Math.min(g, 44); gaps.push({y: y + ROW / 2, dt: dt}); }
          y += g;
        }
        y += ROW;
      }
      Y.push(y);
    }
    Y.total = y + 40;
  })();

  var ladderSvg, items = [], nowBar;
  function track(node, a, b) { node.dataset.a = a; node.dataset.b = b === undefined ? a : b; items.push(node); return node; }
  function side(h) { return h === 0 ? -1 : 1; }

  function drawLanes(svg) {
    H.forEach(function (host, h) {
      var x = laneX(h);
      svg.appendChild(el('line', {'class': 'lane', x1: x, y1: TOP - 14, x2: x, y2: Y.total - 10}));
      svg.appendChild(el('text', {'class': 'lanename', x: x, y: 18}, host.name));
      svg.appendChild(el('text', {'class': 'axis', x: x, y: 32, 'text-anchor': 'middle'},
        host.addr + (host.profile ? '  ' + host.profile : '')));
    });
    svg.appendChild(el('text', {'class': 'axis', x: 6, y: 32}, tr('time (ms)', '\u65f6\u95f4 (ms)')));
    var last = -1;
    E.forEach(function (e, i) {
      if (e.t_ns === last) return;
      last = e.t_ns;
      svg.appendChild(el('text', {'class': 'axis', x: 6, y: Y[i] + 4}, ms(e.t_ns)));
    });
    gaps.forEach(function (g) {
      svg.appendChild(el('line', {'class': 'gapline', x1: 4, x2: laneX(H.length - 1) + 60, y1: g.y, y2: g.y}));
      svg.appendChild(el('text', {'class': 'gapmark', x: LANE0 + 24, y: g.y - 3},
        '\u2248 ' + (g.dt / 1e9).toFixed(3) + tr(' s idle, compressed', ' s \u7a7a\u95f2,\u5df2\u538b\u7f29')));
    });
  }

  function drawBands(svg) {
    EPS.forEach(function (ep, k) {
      var pos = hostEps[ep.h].indexOf(k), sd = side(ep.h);
      var x = laneX(ep.h) + sd * (5 + 9 * pos) - (sd < 0 ? 7 : 0);
      var t = ep.trans;
      for (var j = 0; j < t.length; j++) {
        var i = t[j], e = E[i], y0 = Y[i], y1 = j + 1 < t.length ? Y[t[j + 1]] : Y.total - 10;
        if (e.to === 'CLOSED' && j + 1 === t.length) y1 = y0 + 4;
        track(svg.appendChild(el('rect', {'class': 'band', x: x, y: y0, width: 7, height: Math.max(2, y1 - y0),
          fill: COLORS[e.to] || '#ddd'})), i);
        var lx = laneX(ep.h) + sd * (14 + 9 * hostEps[ep.h].length);
        track(svg.appendChild(el('text', {'class': 'bandlabel', x: lx, y: y0 + 4,
          'text-anchor': sd < 0 ? 'end' : 'start'}, (hostEps[ep.h].length > 1 ? '#' + ep.sock + ' ' : '') + e.to)), i);
      }
    });
  }

  function drawPacket(svg, id) {
    var p = PK[id];
    if (p.send < 0) return;
    var e = E[p.send];
    if (e.s < 0 || e.d < 0) return;
    var x1 = laneX(e.s), y1 = Y[p.send], x2, y2, lost = p.how === 'drop';
    var endI = p.end >= 0 ? p.end : N - 1;
    if (lost) {
      x2 = x1 + (laneX(e.d) - x1) * 0.45;
      y2 = Math.max(Y[endI], y1 + 12);
    } else if (p.end >= 0) {
      x2 = laneX(e.d); y2 = Y[endI];
    } else {
      x2 = x1 + (laneX(e.d) - x1) * 0.3; y2 = y1 + 10;
    }
    var ctl = e.seg && /SYN|FIN|RST/.test(e.seg.flags);
    var cls = 'arrow' + (ctl ? ' ctl' : '') + (lost ? ' lost' : '') + (p.rtx ? ' rtx' : '') +
      (e.kind === 'dup' ? ' dup' : '');
    var g = el('g', {});
    g.appendChild(el('line', {'class': cls, x1: x1, y1: y1, x2: x2, y2: y2,
      'marker-end': lost ? '' : 'url(#head)'}));
    if (lost) {
      g.appendChild(el('path', {'class': 'cross', d: 'M' + (x2 - 5) + ' ' + (y2 - 5) + 'l10 10m0 -10l-10 10'}));
      g.appendChild(el('text', {'class': 'seglabel lost', x: x2 + (x2 > x1 ? 8 : -8), y: y2 + 4,
        'text-anchor': x2 > x1 ? 'start' : 'end'}, tr('lost: ', '\u4e22\u5931:') + p.reason));
    }
    var ang = Math.atan2(y2 - y1, x2 - x1) * 180 / Math.PI, flip = Math.abs(ang) > 90;
    var mx = x1 + (x2 - x1) * (lost ? 0.5 : 0.5), my = y1 + (y2 - y1) * 0.5;
    var text = label(e);
    var t = el('text', {'class': 'seglabel' + (lost ? ' lost' : ''), x: mx, y: my - 4, 'text-anchor': 'middle',
      transform: 'rotate(' + (flip ? ang + 180 : ang) + ' ' + mx + ' ' + my + ')'}, text);
    g.appendChild(t);
    if (p.marks.length)
      g.appendChild(el('text', {'class': 'mark', x: x1 + side(e.s) * -6 + (x2 > x1 ? 8 : -8), y: y1 - 3,
        'text-anchor': x2 > x1 ? 'start' : 'end'}, p.marks.join(' ')));
    track(svg.appendChild(g), p.send, endI);
  }

  function brackets(svg) {
    E.forEach(function (e, i) {
      if (e.kind !== 'timer') return;
      var k = epOf[e.h + '/' + e.sock];
      var from = -1, what = e.timer;
      if (e.timer === 'TIME_WAIT' || e.timer === 'FIN_WAIT_2') {
        for (var j = i - 1; j >= 0; j--)
          if ((E[j].kind === 'state' && E[j].h === e.h && E[j].sock === e.sock && E[j].to === e.timer) ||
              (e.timer === 'TIME_WAIT' && restartAt[j] === k)) { from = j; break; }
        what = e.timer === 'TIME_WAIT' ? '2MSL (TIME_WAIT)' : tr('FIN_WAIT_2 timeout', 'FIN_WAIT_2 \u8d85\u65f6');
      } else if (k !== undefined) {
        for (var m = i - 1; m >= 0; m--)
          if (E[m].kind === 'send' && E[m].s === e.h && E[m].seg && E[m].seg.sport === EPS[k].lport) { from = m; break; }
        what = e.timer;
      }
      if (from < 0) return;
      var pos = k === undefined ? 0 : hostEps[e.h].length;
      var x = laneX(e.h) + side(e.h) * (22 + 9 * pos + 90), y0 = Y[from], y1 = Y[i];
      var d = side(e.h) < 0 ? 6 : -6;
      var g = el('g', {});
      g.appendChild(el('path', {'class': 'bracket', d: 'M' + (x + d) + ' ' + y0 + 'h' + (-d) + 'V' + y1 + 'h' + d}));
      g.appendChild(el('text', {'class': 'brlabel', x: x + (d > 0 ? -2 : 2), y: y0 - 3, 'text-anchor': d > 0 ? 'start' : 'end'}, what));
      g.appendChild(el('title', {}, e.timer === 'TIME_WAIT' || e.timer === 'FIN_WAIT_2' ? what + tr(': from entering the state to the timer firing', ':\u4ece\u8fdb\u5165\u8be5\u72b6\u6001\u5230\u8ba1\u65f6\u5668\u5230\u671f')
        : e.timer + tr(' timer: from the last segment this socket sent to the timer firing', ' \u8ba1\u65f6\u5668:\u4ece\u8fd9\u4e2a\u5957\u63a5\u5b57\u53d1\u51fa\u7684\u6700\u540e\u4e00\u4e2a\u62a5\u6587\u6bb5\u5230\u8ba1\u65f6\u5668\u5230\u671f')));
      track(svg.appendChild(g), i);
    });
  }

  /* The flags of the segment a rejected segment (entry i) was answered
   * with: the next entry, that host sending on the same connection at the
   * same instant (as the text ladder says it); '' when it was dropped. */
  function answer(i) {
    var e = E[i], r = E[i + 1];
    if (!r || r.kind !== 'send' || r.t_ns !== e.t_ns || r.s !== e.h || !r.seg) return '';
    if (e.seg && (r.seg.sport !== e.seg.dport || r.seg.dport !== e.seg.sport)) return '';
    return r.seg.flags.replace(/(^|,)PSH/, '').replace(/^,/, '');
  }
  function eventText(e, i) {
    if (restartAt[i] !== undefined) return tr('TIME_WAIT restarted: 2*MSL from now', 'TIME_WAIT \u91cd\u65b0\u8ba1\u65f6:\u4ece\u73b0\u5728\u8d77 2*MSL');
    if (e.kind === 'user') return e.call + '()';
    if (e.kind === 'timer') return tr('timer ', '\u8ba1\u65f6\u5668 ') + e.timer;
    if (e.kind === 'error') return tr('error ', '\u9519\u8bef ') + e.error;
    if (e.kind === 'reject') {
      var a = answer(i);
      return a ? e.note + tr(': answered with ', ':\u56de\u590d ') + a : tr('dropped: ', '\u4e22\u5f03:') + e.note;
    }
    return '';
  }

  function drawEvents(svg) {
    E.forEach(function (e, i) {
      var t = eventText(e, i);
      if (t) {
        var hh = e.h !== undefined ? e.h : e.d, sd = side(hh), x = laneX(hh) - sd * 8, out = restartAt[i] !== undefined;
        if (out) x = laneX(hh) + sd * (14 + 9 * hostEps[hh].length);
        track(svg.appendChild(el('text', {'class': out ? 'brlabel' : 'ev' + (e.kind === 'error' || e.kind === 'reject' ? ' err' : ''),
          x: x, y: Y[i] + 4, 'text-anchor': (sd < 0) !== out ? 'start' : 'end'}, t)), i);
      } else if (e.kind === 'note' || e.kind === 'link') {
        var txt = e.kind === 'note' ? '\u2014 ' + e.text : '\u2014 ' + tr('link ', '\u94fe\u8def ') + hname(e.s) + '>' + hname(e.d) + (e.up ? tr(' up', ' \u6062\u590d') : tr(' down', ' \u65ad\u5f00'));
        track(svg.appendChild(el('text', {'class': 'note', x: LANE0 + 10, y: Y[i] + 4}, txt)), i);
      }
    });
  }

  function drawLadder() {
    var box = document.getElementById('ladder');
    box.textContent = '';
    items = [];
    var w = laneX(Math.max(0, H.length - 1)) + 260;
    var svg = el('svg', {xmlns: SVGNS, width: w, height: Y.total, viewBox: '0 0 ' + w + ' ' + Y.total, id: 'ladder-svg'});
    var defs = el('defs', {});
    var mk = el('marker', {id: 'head', markerWidth: 9, markerHeight: 8, refX: 8.5, refY: 4, orient: 'auto', markerUnits: 'userSpaceOnUse'});
    mk.appendChild(el('path', {d: 'M0 0L9 4L0 8z', fill: '#1f4e9c'}));
    defs.appendChild(mk);
    svg.appendChild(defs);
    svg.appendChild(el('rect', {x: 0, y: 0, width: w, height: Y.total, fill: '#fff'}));
    nowBar = svg.appendChild(el('rect', {'class': 'now', x: 0, y: 0, width: w, height: ROW}));
    drawLanes(svg);
    drawBands(svg);
    Object.keys(PK).map(Number).sort(function (a, b) { return a - b; }).forEach(function (id) { drawPacket(svg, id); });
    brackets(svg);
    drawEvents(svg);
    box.appendChild(svg);
    ladderSvg = svg;
  }

  /* ---- state diagrams ------------------------------------------------------ */
  /* As in RFC 9293 Figure 5, CLOSED is drawn twice: at the top (before the
   * connection) and at the bottom (where closing ends). */
  var POS = {CLOSED: [190, 20], LISTEN: [190, 72], SYN_RECEIVED: [70, 128], SYN_SENT: [310, 128],
    ESTABLISHED: [190, 184], FIN_WAIT_1: [70, 240], CLOSE_WAIT: [310, 240], FIN_WAIT_2: [70, 306],
    CLOSING: [190, 276], LAST_ACK: [310, 306], TIME_WAIT: [130, 370], CLOSED2: [310, 370]};
  /* Where an edge ends: closing from a synchronized state ends at the bottom CLOSED. */
  function target(a, b) {
    return b === 'CLOSED' && ['CLOSED', 'LISTEN', 'SYN_SENT'].indexOf(a) < 0 ? 'CLOSED2' : b;
  }
  /* RFC 9293 Figure 5 (and the FIN_WAIT_1 -> TIME_WAIT of its note 2). */
  var STD = [['CLOSED', 'LISTEN'], ['CLOSED', 'SYN_SENT'], ['LISTEN', 'CLOSED'], ['LISTEN', 'SYN_RECEIVED'],
    ['LISTEN', 'SYN_SENT'], ['SYN_SENT', 'CLOSED'], ['SYN_SENT', 'SYN_RECEIVED'], ['SYN_SENT', 'ESTABLISHED'],
    ['SYN_RECEIVED', 'LISTEN'], ['SYN_RECEIVED', 'ESTABLISHED'], ['SYN_RECEIVED', 'FIN_WAIT_1'],
    ['ESTABLISHED', 'FIN_WAIT_1'], ['ESTABLISHED', 'CLOSE_WAIT'], ['FIN_WAIT_1', 'FIN_WAIT_2'],
    ['FIN_WAIT_1', 'CLOSING'], ['FIN_WAIT_1', 'TIME_WAIT'], ['FIN_WAIT_2', 'TIME_WAIT'],
    ['CLOSE_WAIT', 'LAST_ACK'], ['CLOSING', 'TIME_WAIT'], ['LAST_ACK', 'CLOSED'], ['TIME_WAIT', 'CLOSED']];
  var DIAG = [];
  /* "\u00a73.10.7.4 eighth" from the rule ("\u00a73.10.7.4 \u7b2c\u516b\u6b65" from the Chinese one). */
  function shortRule(e) {
    var m = ZH ? /(\u00a7[0-9.]+)(?:,(?:[A-Z-]+,)?(\u7b2c.(?:\u6b65|\u9879)))?/.exec(rule(e) || '')
      : /(\u00a7[0-9.]+)(?:, ([a-z]+) (?:step|check))?/.exec(e.rule || '');
    return m ? m[1] + (m[2] ? ' ' + m[2] : '') : rule(e);
  }
  /* A loop on the left of a state's box (TIME_WAIT restarted). */
  function loopPath(a) {
    var x = POS[a][0] - 52, y = POS[a][1];
    return {d: 'M' + x + ' ' + (y - 5) + 'C' + (x - 40) + ' ' + (y - 28) + ' ' + (x - 40) + ' ' + (y + 22) + ' ' + x + ' ' + (y + 5),
      lx: x - 30, ly: y - 18};
  }
  function edgePath(a, b, bend) {
    var p = POS[a], q = POS[b];
    var x1 = p[0], y1 = p[1], x2 = q[0], y2 = q[1];
    var dx = x2 - x1, dy = y2 - y1, len = Math.sqrt(dx * dx + dy * dy) || 1;
    /* leave and enter at the box edges (boxes are 104 x 22) */
    var tx = Math.abs(dx) > 1e-6 ? 52 / Math.abs(dx) : 1e9, ty = Math.abs(dy) > 1e-6 ? 11 / Math.abs(dy) : 1e9;
    var t = Math.min(tx, ty);
    var sx = x1 + dx * t, sy = y1 + dy * t, ex = x2 - dx * t, ey = y2 - dy * t;
    var cx = (sx + ex) / 2 - dy / len * bend, cy = (sy + ey) / 2 + dx / len * bend;
    return {d: 'M' + sx + ' ' + sy + 'Q' + cx + ' ' + cy + ' ' + ex + ' ' + ey, lx: (sx + 2 * cx + ex) / 4, ly: (sy + 2 * cy + ey) / 4};
  }
  function drawDiagrams() {
    var box = document.getElementById('diagrams');
    box.textContent = '';
    DIAG = [];
    EPS.forEach(function (ep, k) {
      var div = html('div', 'diagram');
      div.dataset.endpoint = ep.key;
      var title = ep.name + tr(' (socket ', '(\u5957\u63a5\u5b57 ') + ep.sock + (ep.lport ? tr(', port ', ',\u7aef\u53e3 ') + ep.lport + (ep.rport ? ' \u2192 ' + ep.rport : '') : '') + ')';
      div.appendChild(html('h4', '', (k < 9 ? '[' + (k + 1) + '] ' : '') + title));
      var svg = el('svg', {xmlns: SVGNS, width: 380, height: 396, viewBox: '0 0 380 396', 'class': 'sd'});
      var defs = el('defs', {});
      ['g', 't', 'j'].forEach(function (c) {
        var m = el('marker', {id: 'h' + c + k, markerWidth: 7, markerHeight: 6, refX: 6.5, refY: 3, orient: 'auto', markerUnits: 'userSpaceOnUse'});
        m.appendChild(el('path', {d: 'M0 0L7 3L0 6z', fill: c === 'g' ? '#c9ced6' : c === 't' ? '#e89a9b' : '#ff7f0e'}));
        defs.appendChild(m);
      });
      svg.appendChild(defs);
      var edges = {};
      STD.forEach(function (s) { edges[s[0] + '>' + s[1]] = {a: s[0], b: s[1], std: true}; });
      ep.trans.forEach(function (i) {
        var key = E[i].from + '>' + E[i].to;
        if (!edges[key]) edges[key] = {a: E[i].from, b: E[i].to, std: false};
      });
      if (restartsOf[k]) edges['TIME_WAIT>TIME_WAIT'] = {a: 'TIME_WAIT', b: 'TIME_WAIT', std: false};
      var d = {k: k, div: div, nodes: {}, edges: edges};
      Object.keys(edges).forEach(function (key) {
        var ed = edges[key], back = edges[ed.b + '>' + ed.a], to = target(ed.a, ed.b);
        var bend = back ? 14 : (ed.std ? 0 : 40);
        if (to === 'CLOSED2' && !ed.std) bend = POS[ed.a][0] < 190 ? 50 : -30;
        var pth = ed.a === ed.b ? loopPath(ed.a) : edgePath(ed.a, to, bend);
        ed.path = svg.appendChild(el('path', {'class': 'edge', d: pth.d, 'marker-end': 'url(#hg' + k + ')'}));
        ed.label = el('text', {'class': 'elabel', x: pth.lx, y: pth.ly - 2, 'text-anchor': 'middle'}, '');
        ed.path.dataset.edge = key;
      });
      STATES.concat(['CLOSED2']).forEach(function (s) {
        var p = POS[s], name = s === 'CLOSED2' ? 'CLOSED' : s;
        var g = el('g', {'class': 'node', 'data-state': name});
        g.appendChild(el('rect', {x: p[0] - 52, y: p[1] - 11, width: 104, height: 22}));
        g.appendChild(el('text', {x: p[0], y: p[1] + 4}, name));
        svg.appendChild(g);
        d.nodes[s] = g;
      });
      Object.keys(edges).forEach(function (key) { svg.appendChild(edges[key].label); });
      div.appendChild(svg);
      box.appendChild(div);
      DIAG.push(d);
    });
    if (!EPS.length) box.appendChild(html('p', 'none', tr('No endpoint changed state in this run.', '\u8fd9\u6b21\u8fd0\u884c\u4e2d\u6ca1\u6709\u7aef\u70b9\u6539\u53d8\u72b6\u6001\u3002')));
  }
  function updateDiagrams() {
    DIAG.forEach(function (d) {
      var ep = EPS[d.k], st = stateAt(d.k, cur), last = lastTrans(d.k, cur);
      var visited = {}, steps = {};
      visited[ep.start] = true;
      ep.trans.forEach(function (i) {
        if (i > cur) return;
        visited[E[i].to] = true;
        var key = E[i].from + '>' + E[i].to;
        (steps[key] = steps[key] || []).push(i);
      });
      /* The edge just taken: the last transition, or the TIME_WAIT loop when a restart came after it. */
      var justAt = last;
      (restartsOf[d.k] || []).forEach(function (i) {
        if (i > cur) return;
        (steps['TIME_WAIT>TIME_WAIT'] = steps['TIME_WAIT>TIME_WAIT'] || []).push(i);
        if (i > justAt) justAt = i;
      });
      var justKey = justAt < 0 ? '' : justAt === last ? E[last].from + '>' + E[last].to : 'TIME_WAIT>TIME_WAIT';
      /* The CLOSED that is lit: the bottom one once the connection closed from a synchronized state. */
      var closedAt = last >= 0 && target(E[last].from, E[last].to) === 'CLOSED2' ? 'CLOSED2' : 'CLOSED';
      STATES.concat(['CLOSED2']).forEach(function (s) {
        var name = s === 'CLOSED2' ? 'CLOSED' : s;
        var lit = name === st && (name !== 'CLOSED' || s === closedAt);
        var seenHere = s === 'CLOSED2' ? closedAt === 'CLOSED2' : visited[s];
        d.nodes[s].setAttribute('class', 'node' + (lit ? ' lit' : seenHere ? ' visited' : ''));
      });
      Object.keys(d.edges).forEach(function (key) {
        var ed = d.edges[key], just = key === justKey;
        var c = just ? 'just' : steps[key] ? 'taken' : '';
        ed.path.setAttribute('class', 'edge' + (c ? ' ' + c : ''));
        ed.path.setAttribute('marker-end', 'url(#h' + (c ? c[0] : 'g') + d.k + ')');
        ed.label.setAttribute('class', 'elabel' + (c ? ' ' + c : ''));
        ed.label.textContent = just ? shortRule(E[justAt]) : steps[key] ? tr('step ' + steps[key].join(', '), '\u7b2c ' + steps[key].join('\u3001') + ' \u6b65') : '';
      });
      d.div.classList.toggle('active', justAt >= 0 && (justAt === cur || involved(cur).indexOf(d.k) >= 0));
      d.div.dataset.state = st;
    });
  }
  function involved(i) {
    var e = E[i], out = [];
    if (e.kind === 'state' || e.kind === 'restart') out.push(e.ep);
    (causedBy[i] || []).forEach(function (j) { out.push(E[j].ep); });
    return out;
  }

  /* ---- explanation ---------------------------------------------------------- */
  function segTable(e) {
    var s = e.seg, t = html('table');
    var rows = [['SEG.SEQ', relSeq(e, 'seq')], ['SEG.ACK', s.flags.indexOf('ACK') >= 0 ? relSeq(e, 'ack') : tr('(no ACK flag)', '(\u6ca1\u6709 ACK \u6807\u5fd7)')],
      ['SEG.LEN', s.len], ['SEG.WND', s.win], [tr('flags', '\u6807\u5fd7'), s.flags], [tr('ports', '\u7aef\u53e3'), s.sport + ' \u2192 ' + s.dport]];
    var opts = [];
    if (s.mss !== undefined) opts.push('MSS ' + s.mss);
    if (s.ws !== undefined) opts.push(tr('window scale ', '\u7a97\u53e3\u7f29\u653e ') + s.ws);
    if (s.sackok) opts.push(tr('SACK permitted', '\u5141\u8bb8 SACK'));
    if (s.ts_val !== undefined) opts.push(tr('timestamps ', '\u65f6\u95f4\u6233 ') + s.ts_val + '/' + s.ts_ecr);
    if (s.sack) opts.push('SACK ' + s.sack.map(function (b) {
      return relEdge(e, b[0]) + '\u2013' + relEdge(e, b[1]);
    }).join(', '));
    if (opts.length) rows.push([tr('options', '\u9009\u9879'), opts.join(', ')]);
    rows.forEach(function (r) {
      var tr = html('tr');
      tr.appendChild(html('th', '', r[0]));
      tr.appendChild(html('td', '', String(r[1])));
      t.appendChild(tr);
    });
    return t;
  }
  function what(e, i) {
    var p = e.pkt !== undefined ? PK[e.pkt] : null;
    if (ZH && e.kind !== 'restart') return whatZh(e, p, i);
    switch (e.kind) {
      case 'send': return hname(e.s) + ' sent packet ' + e.pkt + ' to ' + hname(e.d) + ': ' + label(e) +
        (p && p.rtx ? ' \u2014 retransmission #' + p.rtx + ' of this segment' : '') +
        (p && p.how === 'drop' ? ' (it will be lost: ' + p.reason + ')' : '');
      case 'deliver': return hname(e.d) + ' received packet ' + e.pkt + ' from ' + hname(e.s) + ': ' + label(e);
      case 'restart': if (ZH) return (EPS[e.ep] ? EPS[e.ep].name : hname(e.h)) + ':' + e.timer + ' \u91cd\u65b0\u8ba1\u65f6:\u4ece\u73b0\u5728\u8d77 2*MSL(' + e.note + ')\u3002';
        return (EPS[e.ep] ? EPS[e.ep].name : hname(e.h)) + ': ' + e.timer + ' restarted: 2*MSL from now (' +
        e.note + (e.cause_pkt !== undefined ? ', packet ' + e.cause_pkt : '') + '). ' +
        (/FIN/.test(e.note) ? 'The FIN came again, so the ACK sent for it was lost; the ACK is sent again.' : '');
      case 'drop': return 'The network dropped packet ' + e.pkt + ' on its way ' + hname(e.s) + '>' + hname(e.d) + ' (' + e.reason + ')';
      case 'dup': return 'The link made packet ' + e.pkt + ', a copy of packet ' + e.origin;
      case 'delay': return 'The link delayed packet ' + e.pkt + ' by ' + ms(e.delay_ns) + ' ms more';
      case 'hold': return 'A fault rule holds packet ' + e.pkt;
      case 'release': return 'A fault rule released packet ' + e.pkt;
      case 'corrupt': return 'One bit of packet ' + e.pkt + ' was flipped on the way';
      case 'state': return EPS[e.ep] ? EPS[e.ep].name + ': ' + e.from + ' \u2192 ' + e.to + ' (' + e.cause + ': ' + e.note + ')' : e.from + ' \u2192 ' + e.to;
      case 'timer': return hname(e.h) + ' socket ' + e.sock + ': the ' + e.timer + ' timer fired';
      case 'user': return hname(e.h) + ' socket ' + e.sock + ': the application called ' + e.call + '()';
      case 'error': return hname(e.h) + ' socket ' + e.sock + ': the connection ended with ' + e.error;
      case 'reject': return answer(i) ? hname(e.h) + ' did not take the segment in (' + e.note + ') and answered it with ' + answer(i) :
        hname(e.h) + ' threw the segment away: ' + e.note;
      case 'note': return 'Scenario note: ' + e.text;
      case 'link': return 'Link ' + hname(e.s) + '>' + hname(e.d) + (e.up ? ' came up' : ' went down');
    }
    return e.kind;
  }
  function whatZh(e, p, i) {
    switch (e.kind) {
      case 'send': return hname(e.s) + ' \u5411 ' + hname(e.d) + ' \u53d1\u9001\u5206\u7ec4 ' + e.pkt + ':' + label(e) +
        (p && p.rtx ? ' \u2014 \u8fd9\u4e2a\u62a5\u6587\u6bb5\u7684\u7b2c ' + p.rtx + ' \u6b21\u91cd\u4f20' : '') +
        (p && p.how === 'drop' ? '(\u5b83\u5c06\u4e22\u5931:' + p.reason + ')' : '');
      case 'deliver': return hname(e.d) + ' \u6536\u5230\u6765\u81ea ' + hname(e.s) + ' \u7684\u5206\u7ec4 ' + e.pkt + ':' + label(e);
      case 'drop': return '\u7f51\u7edc\u5728 ' + hname(e.s) + '>' + hname(e.d) + ' \u9014\u4e2d\u4e22\u5f03\u4e86\u5206\u7ec4 ' + e.pkt + '(' + e.reason + ')';
      case 'state': return (EPS[e.ep] ? EPS[e.ep].name + ':' : '') + e.from + ' \u2192 ' + e.to + '(' + ({user: '\u7528\u6237', segment: '\u62a5\u6587\u6bb5', timer: '\u8ba1\u65f6\u5668'}[e.cause] || e.cause) + ':' + e.note + ')';
      case 'timer': return hname(e.h) + ' \u5957\u63a5\u5b57 ' + e.sock + ':' + e.timer + ' \u8ba1\u65f6\u5668\u5230\u671f';
      case 'user': return hname(e.h) + ' \u5957\u63a5\u5b57 ' + e.sock + ':\u5e94\u7528\u8c03\u7528\u4e86 ' + e.call + '()';
      case 'error': return hname(e.h) + ' \u5957\u63a5\u5b57 ' + e.sock + ':\u8fde\u63a5\u4ee5 ' + e.error + ' \u7ed3\u675f';
      case 'reject': return answer(i) ? hname(e.h) + ' \u6ca1\u6709\u63a5\u6536\u8fd9\u4e2a\u62a5\u6587\u6bb5(' + e.note + '),\u5e76\u4ee5 ' + answer(i) + ' \u56de\u590d' :
        hname(e.h) + ' \u4e22\u5f03\u4e86\u62a5\u6587\u6bb5:' + e.note;
      case 'note': return '\u573a\u666f\u6ce8\u91ca:' + e.text;
      case 'dup': return '\u94fe\u8def\u590d\u5236\u51fa\u5206\u7ec4 ' + e.pkt + ',\u5b83\u662f\u5206\u7ec4 ' + e.origin + ' \u7684\u526f\u672c';
      case 'delay': return '\u94fe\u8def\u628a\u5206\u7ec4 ' + e.pkt + ' \u518d\u5ef6\u8fdf\u4e86 ' + ms(e.delay_ns) + ' ms';
      case 'hold': return '\u4e00\u6761\u6545\u969c\u89c4\u5219\u6263\u7559\u4e86\u5206\u7ec4 ' + e.pkt;
      case 'release': return '\u4e00\u6761\u6545\u969c\u89c4\u5219\u653e\u884c\u4e86\u5206\u7ec4 ' + e.pkt;
      case 'corrupt': return '\u5206\u7ec4 ' + e.pkt + ' \u5728\u9014\u4e2d\u6709\u4e00\u4e2a\u6bd4\u7279\u88ab\u7ffb\u8f6c';
      case 'link': return '\u94fe\u8def ' + hname(e.s) + '>' + hname(e.d) + (e.up ? ' \u6062\u590d' : ' \u65ad\u5f00');
    }
    return e.kind;
  }
  function ruleBlock(box, j, main) {
    var s = E[j], who = EPS[s.ep] ? EPS[s.ep].name + ': ' : '';
    if (!main) box.appendChild(html('p', '', who + (s.kind === 'restart' ? s.timer + tr(' restarted', ' \u91cd\u65b0\u8ba1\u65f6') : s.from + ' \u2192 ' + s.to)));
    var r = html('p', 'rule', rule(s));
    var b = html('p', '', because(s));
    if (main) { r.id = 'why-rule'; b.id = 'why-because'; }
    box.appendChild(r);
    box.appendChild(b);
  }
  function explain() {
    var e = E[cur], box = document.getElementById('explain');
    box.textContent = '';
    if (!N) { box.appendChild(html('p', 'none', tr('The run recorded nothing.', '\u8fd9\u6b21\u8fd0\u884c\u6ca1\u6709\u8bb0\u5f55\u4efb\u4f55\u4e1c\u897f\u3002'))); return; }
    var h = html('h2', '', tr('Step ' + cur + ' of ' + (N - 1), '\u7b2c ' + cur + ' \u6b65(\u5171 ' + (N - 1) + ' \u6b65)') + ' \u2014 t = ' + e.t + ' s');
    box.appendChild(h);
    box.appendChild(html('h3', '', tr('What happened', '\u53d1\u751f\u4e86\u4ec0\u4e48')));
    var w = html('p', '', what(e, cur));
    w.id = 'why-what';
    box.appendChild(w);
    var own = e.kind === 'state' || e.kind === 'restart';
    var rules = own ? [cur] : (causedBy[cur] || []);
    box.appendChild(html('h3', '', own ? tr('Rule', '\u89c4\u5219') : tr('Rules this caused', '\u7531\u6b64\u5f15\u8d77\u7684\u89c4\u5219')));
    if (rules.length) rules.forEach(function (j) { ruleBlock(box, j, j === cur); });
    else box.appendChild(html('p', 'none', e.kind === 'deliver' ? tr('No state change: the segment was processed within its state.', '\u72b6\u6001\u6ca1\u6709\u53d8\u5316:\u62a5\u6587\u6bb5\u5728\u5f53\u524d\u72b6\u6001\u5185\u5904\u7406\u3002') : tr('No state change at this step.', '\u8fd9\u4e00\u6b65\u6ca1\u6709\u72b6\u6001\u53d8\u5316\u3002')));
    var hostIdx = e.h !== undefined ? e.h : e.kind === 'deliver' ? e.d : e.s;
    var prof = hostIdx !== undefined && hostIdx >= 0 && H[hostIdx] ? H[hostIdx].profile : '';
    box.appendChild(html('h3', '', tr('Profile', '\u914d\u7f6e') + (prof ? ' (' + prof + ')' : '')));
    var diffs = rules.filter(function (j) { return E[j].pdiff; }).map(function (j) { return E[j].pdiff; });
    var pd = html('p', diffs.length ? '' : 'none', diffs.length ? diffs.join(' ') : tr('Nothing at this step differs from RFC 9293.', '\u8fd9\u4e00\u6b65\u4e0e RFC 9293 \u6ca1\u6709\u5dee\u522b\u3002'));
    pd.id = 'why-profile';
    box.appendChild(pd);
    if (e.seg) {
      box.appendChild(html('h3', '', tr('Segment (' + (absolute ? 'absolute' : 'relative to each side\'s ISN') + ')',
        '\u62a5\u6587\u6bb5(' + (absolute ? '\u7edd\u5bf9\u5e8f\u5217\u53f7' : '\u76f8\u5bf9\u4e8e\u5404\u65b9 ISN') + ')')));
      box.appendChild(segTable(e));
    }
    tcbPanel(box);
  }
  /* Each endpoint's TCB at this step (one column per endpoint that has
   * one), what changed at this step, and its timers. */
  function tcbPanel(box) {
    box.appendChild(html('h3', '', tr('TCB variables (' + (absolute ? 'absolute' : 'SND relative to ISS, RCV to IRS') + ')',
      'TCB \u53d8\u91cf(' + (absolute ? '\u7edd\u5bf9\u5e8f\u5217\u53f7' : 'SND \u76f8\u5bf9\u4e8e ISS,RCV \u76f8\u5bf9\u4e8e IRS') + ')')));
    var cols = [];
    EPS.forEach(function (ep, k) {
      var x = tcbIdx(k, cur);
      if (x < 0) return;
      var r = TCBS[k][x].r, changed = TCBS[k][x].at === cur;
      if (r.st === 'LISTEN' || (r.st === 'CLOSED' && !changed)) return;
      cols.push({ep: ep, r: r, prev: changed && x > 0 ? TCBS[k][x - 1].r : null, fresh: changed && x === 0});
    });
    if (!cols.length) {
      box.appendChild(html('p', 'none', tr('No connection has a TCB at this step (none opened yet, or all closed).',
        '\u8fd9\u4e00\u6b65\u6ca1\u6709\u8fde\u63a5\u6709 TCB(\u5c1a\u672a\u6253\u5f00\u6216\u5df2\u5168\u90e8\u5173\u95ed)\u3002')));
    } else {
      var t = html('table');
      t.id = 'tcb';
      var head = html('tr');
      head.appendChild(html('th', '', ''));
      cols.forEach(function (c) { head.appendChild(html('th', '', c.ep.name)); });
      t.appendChild(head);
      var rows = [[tr('state', '\u72b6\u6001'), function (r) { return r.st === 'CLOSED' ? tr('CLOSED (TCB deleted)', 'CLOSED(TCB \u5df2\u5220\u9664)') : r.st; }]];
      TCB_VARS.forEach(function (v) { rows.push([v[0], function (r) { return tcbVal(r, v); }]); });
      rows.push([tr('timers', '\u8ba1\u65f6\u5668'), timerList]);
      rows.forEach(function (row) {
        var tr_ = html('tr');
        tr_.appendChild(html('th', '', row[0]));
        cols.forEach(function (c) {
          var v = row[1](c.r), was = c.prev && (c.r.st !== 'CLOSED' || row === rows[0]) ? row[1](c.prev) : null;
          var td = html('td', c.fresh || (was !== null && was !== v) ? 'chg' : '', v);
          td.dataset.ep = c.ep.key;
          td.dataset['var'] = row[0];
          td.dataset.v = v;
          if (was !== null && was !== v) td.appendChild(html('span', 'was', ' (' + tr('was ', '\u539f\u4e3a ') + was + ')'));
          tr_.appendChild(td);
        });
        t.appendChild(tr_);
      });
      box.appendChild(t);
    }
    var evs = [];
    EPS.forEach(function (ep, k) {
      timerEvents(k, cur).forEach(function (te) { te.ep = ep; evs.push(te); });
    });
    box.appendChild(html('h3', '', tr('Timers at this step', '\u8fd9\u4e00\u6b65\u7684\u8ba1\u65f6\u5668')));
    if (!evs.length) box.appendChild(html('p', 'none', tr('No timer was armed, restarted, cancelled or fired.', '\u6ca1\u6709\u8ba1\u65f6\u5668\u542f\u52a8\u3001\u91cd\u65b0\u542f\u52a8\u3001\u53d6\u6d88\u6216\u5230\u671f\u3002')));
    else {
      var ul = html('ul');
      ul.id = 'timer-events';
      evs.forEach(function (te) {
        var li = html('li', '', timerText(te.ep, te));
        li.dataset.ep = te.ep.key;
        li.dataset.timer = te.timer;
        li.dataset.what = te.what;
        ul.appendChild(li);
      });
      box.appendChild(ul);
    }
  }

  /* ---- stepping --------------------------------------------------------- */
  var itemsA = [], itemsB = [];
  function indexItems() {
    itemsA = items.map(function (n) { return +n.dataset.a; });
    itemsB = items.map(function (n) { return +n.dataset.b; });
  }
  function updateLadder() {
    for (var k = 0; k < items.length; k++) {
      var a = itemsA[k], b = itemsB[k];
      items[k].classList.toggle('future', a > cur);
      items[k].classList.toggle('inflight', a <= cur && b > cur);
    }
    if (N) {
      nowBar.setAttribute('y', Y[cur] - ROW / 2 - 1);
      var pane = document.getElementById('ladder');
      var y = Y[cur];
      if (y < pane.scrollTop + 40 || y > pane.scrollTop + pane.clientHeight - 40)
        pane.scrollTop = Math.max(0, y - pane.clientHeight / 2);
    }
  }
  function go(i, fromHash) {
    if (!N) return;
    cur = Math.max(0, Math.min(N - 1, i | 0));
    document.getElementById('slider').value = cur;
    document.getElementById('step-no').textContent = tr('step ' + cur + ' / ' + (N - 1), '\u7b2c ' + cur + ' \u6b65 / ' + (N - 1)) + '  (' + ms(E[cur].t_ns) + ' ms)';
    document.body.dataset.step = cur;
    updateLadder();
    updateDiagrams();
    explain();
    if (!fromHash) {
      var h = '#step=' + cur + (absolute ? '&abs' : '');
      try { history.replaceState(null, '', h); } catch (err) { location.hash = h; }
    }
  }
  function nextState(dir, only) {
    for (var i = cur + dir; i >= 0 && i < N; i += dir)
      if (E[i].kind === 'state' && (only === undefined || E[i].ep === only)) return go(i);
  }
  function readHash() {
    var m = /step=(\d+)/.exec(location.hash);
    absolute = /(^|[#&])abs($|&)/.test(location.hash);
    document.getElementById('t-abs').checked = absolute;
    return m ? +m[1] : 0;
  }
  function setAbsolute(v) {
    absolute = v;
    document.getElementById('t-abs').checked = v;
    drawLadder();
    indexItems();
    go(cur);
  }
  function exportSvg() {
    var s = new XMLSerializer().serializeToString(ladderSvg);
    var css = Array.prototype.map.call(document.styleSheets[0].cssRules, function (r) { return r.cssText; }).join('\n');
    s = s.replace(/(<svg[^>]*>)/, '$1<style>' + css.replace(/</g, '') + '</style>');
    var a = document.createElement('a');
    a.href = URL.createObjectURL(new Blob([s], {type: 'image/svg+xml'}));
    a.download = 'step-' + cur + '.svg';
    document.body.appendChild(a);
    a.click();
    a.remove();
  }
  function bind() {
    var $ = function (id) { return document.getElementById(id); };
    $('b-start').onclick = function () { go(0); };
    $('b-end').onclick = function () { go(N - 1); };
    $('b-prev').onclick = function () { go(cur - 1); };
    $('b-next').onclick = function () { go(cur + 1); };
    $('b-prev-state').onclick = function () { nextState(-1); };
    $('b-next-state').onclick = function () { nextState(1); };
    $('slider').max = Math.max(0, N - 1);
    $('slider').oninput = function () { go(+this.value); };
    $('t-abs').onchange = function () { setAbsolute(this.checked); };
    $('b-slide').onclick = function () { document.body.classList.toggle('slide'); };
    $('b-svg').onclick = exportSvg;
    $('b-help').onclick = function () { $('help').hidden = !$('help').hidden; };
    window.addEventListener('hashchange', function () { go(readHash(), true); });
    document.addEventListener('keydown', function (ev) {
      if (ev.target && ev.target.tagName === 'INPUT' && ev.target.type === 'range' && /Arrow|Home|End/.test(ev.key)) ev.preventDefault();
      if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
      var k = ev.key;
      if (k === 'ArrowRight' && ev.shiftKey) nextState(1);
      else if (k === 'ArrowLeft' && ev.shiftKey) nextState(-1);
      else if (k === 'ArrowRight') go(cur + 1);
      else if (k === 'ArrowLeft') go(cur - 1);
      else if (k === 'PageDown') nextState(1);
      else if (k === 'PageUp') nextState(-1);
      else if (k === 'Home') go(0);
      else if (k === 'End') go(N - 1);
      else if (k === 'r' || k === 'R') setAbsolute(!absolute);
      else if (k === 's' || k === 'S') document.body.classList.toggle('slide');
      else if (k === '?') $('help').hidden = !$('help').hidden;
      else if (/^[1-9]$/.test(k) && +k <= EPS.length) nextState(1, +k - 1);
      else return;
      ev.preventDefault();
    });
  }

  document.getElementById('title').textContent = D.title;
  if (ZH) {
    document.documentElement.lang = 'zh-CN';
    [['b-prev-state', '<< \u72b6\u6001'], ['b-prev', '< \u4e8b\u4ef6'], ['b-next', '\u4e8b\u4ef6 >'],
      ['b-next-state', '\u72b6\u6001 >>'], ['b-slide', '\u5e7b\u706f\u7247'], ['b-svg', 'SVG']].forEach(function (b) {
      document.getElementById(b[0]).textContent = b[1];
    });
    document.getElementById('t-abs').parentNode.lastChild.textContent = ' \u7edd\u5bf9\u5e8f\u5217\u53f7 (R)';
    [['b-start', '\u7b2c\u4e00\u6b65 (Home)'], ['b-prev-state', '\u4e0a\u4e00\u6b21\u72b6\u6001\u53d8\u5316 (Shift+\u2190, PageUp)'],
      ['b-prev', '\u4e0a\u4e00\u4e2a\u4e8b\u4ef6 (\u2190)'], ['b-next', '\u4e0b\u4e00\u4e2a\u4e8b\u4ef6 (\u2192)'],
      ['b-next-state', '\u4e0b\u4e00\u6b21\u72b6\u6001\u53d8\u5316 (Shift+\u2192, PageDown)'], ['b-end', '\u6700\u540e\u4e00\u6b65 (End)'],
      ['b-slide', '\u5e7b\u706f\u7247\u6a21\u5f0f (S)'], ['b-svg', '\u628a\u8fd9\u4e00\u6b65\u7684\u68af\u5f62\u56fe\u5b58\u4e3a SVG'],
      ['b-help', '\u6309\u952e (?)'], ['slider', '\u6b65\u9aa4']].forEach(function (b) {
      var n = document.getElementById(b[0]);
      if (b[0] === 'slider') n.setAttribute('aria-label', b[1]); else n.title = b[1];
    });
    document.getElementById('controls').setAttribute('aria-label', '\u6b65\u8fdb\u63a7\u5236');
    document.getElementById('help').textContent = '\u6309\u952e:\u2190/\u2192 \u4e0a/\u4e0b\u4e00\u4e2a\u4e8b\u4ef6\uff1bShift+\u2190/\u2192 \u6216 PageUp/PageDown ' +
      '\u4e0a/\u4e0b\u4e00\u6b21\u72b6\u6001\u53d8\u5316\uff1bHome/End \u7b2c\u4e00\u6b65/\u6700\u540e\u4e00\u6b65\uff1b1-9 \u7aef\u70b9 1-9 \u7684\u4e0b\u4e00\u6b21\u72b6\u6001\u53d8\u5316\uff1b' +
      'R \u76f8\u5bf9/\u7edd\u5bf9\u5e8f\u5217\u53f7\uff1bS \u5e7b\u706f\u7247\u6a21\u5f0f\u3002\u5730\u5740\u4e2d\u7684 #step=N \u4fdd\u7559\u5f53\u524d\u6b65\u9aa4:\u94fe\u63a5\u6216\u5237\u65b0\u90fd\u4f1a\u56de\u5230\u8fd9\u4e00\u6b65\u3002';
  }
  document.getElementById('subtitle').textContent = ZH ? '\u914d\u7f6e ' + (D.profile || '?') + ',\u79cd\u5b50 ' + D.seed + ',' +
    N + ' \u6b65,' + EPS.length + ' \u4e2a\u7aef\u70b9\u3002\u7528 \u2190/\u2192 \u9010\u6b65(Shift:\u72b6\u6001\u53d8\u5316),Home/End\uff1b\u9664\u975e\u52fe\u9009\u201c\u7edd\u5bf9\u201d,\u5e8f\u5217\u53f7\u76f8\u5bf9\u4e8e\u5404\u65b9\u7684 ISN\u3002' :
    'profile ' + (D.profile || '?') + ', seed ' + D.seed + ', ' +
    N + ' steps, ' + EPS.length + ' endpoints. Step with \u2190/\u2192 (Shift: state changes), Home/End; ' +
    'seq and ack relative to each side\'s ISN unless \u201cabsolute\u201d is ticked.';
  var start = readHash();
  drawLadder();
  indexItems();
  drawDiagrams();
  bind();
  go(start, true);
  window.tcpsim = {steps: N, step: function () { return cur; }, go: go, endpoints: EPS.map(function (ep) { return ep.key; })};
})();
