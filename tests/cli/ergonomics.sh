#!/usr/bin/env bash
# The command's manners: did you mean, --help everywhere, a scenario from
# standard input, a template that runs, every knob of every profile, FAIL
# lines and errors that name the whole path, one simulation's outputs or all.
set -u
tcpsim=$(realpath "$1")
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fail=0
check() { if ! eval "$2"; then echo "FAILED: $1"; fail=1; else echo "ok: $1"; fi; }
f=scenarios/handshake/normal_open.lua

out=$("$tcpsim" run "$f" --profile linx 2>&1); rc=$?
check "unknown profile: exit 2, did you mean linux" '[ $rc -eq 2 ] && grep -q "did you mean linux?" <<<"$out"'
out=$("$tcpsim" test "$f" --profile rfc-9293 2>&1); rc=$?
check "test: unknown profile suggests rfc9293" '[ $rc -eq 2 ] && grep -q "did you mean rfc9293?" <<<"$out"'
out=$("$tcpsim" run "$f" --draws random 2>&1); rc=$?
check "run: --draws takes stream or keyed only" '[ $rc -eq 2 ] && grep -q "draws must be stream or keyed, got .random." <<<"$out"'
# --draws keyed is the scenario's draws = "keyed": the same run, byte for
# byte, and not the stream's (the link below loses and jitters).
lossy() { # extra tcpsim.new options
    printf 'local sim = tcpsim.new { seed = 4%s }
local a, b = sim:host "A", sim:host "B"
sim:link(a, b, { delay = "10ms", jitter = "3ms", loss = 0.2 })
local s = b:listen(80, { autoread = true })
local c = a:connect(b, 80)
sim:run_until(function() return c.state == "ESTABLISHED" end, "1min")
sim:run_for "100ms"
s:accept()
c:send(30000)
c:close()
sim:run()
expect(c):contains { "FIN_WAIT_2" }
' "$1"
}
lossy "" >"$tmp/d.lua"
flag=$("$tcpsim" run "$tmp/d.lua" --draws keyed --trace text 2>&1)
plain=$("$tcpsim" run "$tmp/d.lua" --trace text 2>&1)
lossy ', draws = "keyed"' >"$tmp/d.lua"
own=$("$tcpsim" run "$tmp/d.lua" --trace text 2>&1)
check "run: --draws keyed plays as draws = \"keyed\"" '[ "$flag" = "$own" ] && [ "$flag" != "$plain" ] && grep -q "^PASS" <<<"$flag"'
out=$("$tcpsim" run "$f" --sed 3 2>&1); rc=$?
check "run: --sed suggests --seed" '[ $rc -eq 2 ] && grep -q "did you mean --seed?" <<<"$out"'
out=$("$tcpsim" run "$f" --ladr 2>&1)
check "run: --ladr suggests --ladder" 'grep -q "did you mean --ladder?" <<<"$out"'
# Every option run's --help names is one the suggestion list knows: its
# name without its first letter is answered with the option itself.
for opt in $("$tcpsim" run --help | grep -o -- '--[a-z][a-z-]*' | sort -u); do
  [ "$opt" = --help ] && continue
  typo=--${opt:3}
  out=$("$tcpsim" run "$f" "$typo" 2>&1)
  check "run: $typo suggests $opt" 'grep -q -- "did you mean $opt?" <<<"$out"'
done
out=$("$tcpsim" test --junt x.xml 2>&1); rc=$?
check "test: --junt suggests --junit" '[ $rc -eq 2 ] && grep -q "did you mean --junit?" <<<"$out"'
out=$("$tcpsim" run "$f" --frobnicate 2>&1)
check "a word far from every option gets no guess" 'grep -q "unknown option" <<<"$out" && ! grep -q "did you mean" <<<"$out"'
out=$("$tcpsim" tset 2>&1); rc=$?
check "unknown command suggests test" '[ $rc -eq 2 ] && grep -q "did you mean test?" <<<"$out"'

for cmd in run test profiles new help man version; do
  out=$("$tcpsim" $cmd --help 2>&1); rc=$?
  check "tcpsim $cmd --help: exit 0, usage line" '[ $rc -eq 0 ] && head -1 <<<"$out" | grep -q "^usage: tcpsim $cmd"'
  check "tcpsim help $cmd says the same" '[ "$("$tcpsim" help $cmd)" = "$out" ]'
done
check "tcpsim --help lists every command" \
  '[ "$("$tcpsim" --help | grep -cE "^  (run|test|profiles|new|help|man|version) ")" = 7 ]'

out=$("$tcpsim" run - <"$f"); rc=$?
check "run - reads the scenario from standard input" '[ $rc -eq 0 ] && grep -q "^PASS" <<<"$out"'
out=$(printf 'local sim = tcpsim.new {}\nexpect(sim.seed):equals(2)\n' | "$tcpsim" run - 2>&1); rc=$?
check "a failure from standard input names stdin" '[ $rc -eq 1 ] && grep -q "^FAIL stdin:2:" <<<"$out"'

(cd "$tmp" && "$tcpsim" new first >/dev/null); rc=$?
check "new writes NAME.lua" '[ $rc -eq 0 ] && [ -s "$tmp/first.lua" ]'
check "the template is commented" '[ "$(grep -c "^--" "$tmp/first.lua")" -ge 10 ]'
out=$("$tcpsim" run "$tmp/first.lua"); rc=$?
check "the template runs and checks something" '[ $rc -eq 0 ] && grep -q "^PASS: [1-9]" <<<"$out"'
before=$(md5sum <"$tmp/first.lua")
(cd "$tmp" && "$tcpsim" new first.lua >/dev/null 2>&1); rc=$?
check "new never overwrites" '[ $rc -eq 2 ] && [ "$(md5sum <"$tmp/first.lua")" = "$before" ]'

out=$("$tcpsim" profiles -v); rc=$?
knobs=$("$tcpsim" profiles | sed -n '/^knobs/,$p' | tail -n +2 | tr ' ' '\n' | grep -v '^$')
check "profiles -v exits 0 and knows every knob" '[ $rc -eq 0 ] && ! grep -q "value unknown" <<<"$out"'
for p in rfc9293 linux bsd; do
  block=$(awk -v p="$p" '$0 == p {on=1; next} /^[a-z0-9]+$/ {on=0} on' <<<"$out")
  missing=$(for k in $knobs; do grep -q "^  $k " <<<"$block" || echo "$k"; done)
  check "profiles -v: $p shows all $(wc -w <<<"$knobs") knobs" '[ -n "$block" ] && [ -z "$missing" ]'
done
check "profiles -v: values differ where profiles differ (time_wait)" \
  '[ "$(grep "^  time_wait " <<<"$out" | sort -u | wc -l)" -ge 2 ]'

long="$tmp/a_folder_with_a_rather_long_name/and/more/levels/below/it"
mkdir -p "$long"; cp tests/bad/failing_expectation.lua "$long/f.lua"; cp tests/bad/runtime_error.lua "$long/r.lua"
out=$("$tcpsim" run "$long/f.lua" 2>&1)
check "a FAIL line carries the whole path" 'grep -qF "FAIL $long/f.lua:11:" <<<"$out"'
out=$("$tcpsim" run "$long/r.lua" 2>&1)
check "an error carries the whole path" 'grep -qF "tcpsim: error: $long/r.lua:" <<<"$out"'
out=$("$tcpsim" test "$long/f.lua")
check "test shows the whole path in the FAIL line" 'grep -qF "| FAIL $long/f.lua:11:" <<<"$out"'

# A file building several simulations: every one gets outputs, or --sim N.
m=scenarios/claims/simultaneous_open_profiles.lua
sims=$("$tcpsim" run "$m" | grep -c "simulation [0-9]* of")
"$tcpsim" run "$m" --quiet --pcap "$tmp/o.pcap" --trace json --trace-out "$tmp/t.jsonl"
check "each simulation gets its files ($sims)" \
  '[ "$sims" -ge 2 ] && [ "$(ls "$tmp"/o.sim*.pcap | wc -l)" = "$sims" ] && [ "$(ls "$tmp"/t.sim*.jsonl | wc -l)" = "$sims" ]'
check "the simulations' outputs differ" '! cmp -s "$tmp/t.sim1.jsonl" "$tmp/t.sim2.jsonl"'
"$tcpsim" run "$m" --quiet --sim 2 --trace json --trace-out "$tmp/two.jsonl"
check "--sim 2 writes the second one, unsuffixed" 'cmp -s "$tmp/two.jsonl" "$tmp/t.sim2.jsonl"'
out=$("$tcpsim" run "$m" --quiet --sim 99 --ladder 2>&1); rc=$?
check "--sim beyond the count is an error" '[ $rc -eq 2 ] && grep -q "made $sims simulations" <<<"$out"'
n=$("$tcpsim" run "$m" --quiet --ladder | grep -c "^== simulation")
check "ladders on standard output, one per simulation, headed" '[ "$n" = "$sims" ]'
# A profile knob set from Lua reaches the stack: shut_rd_discard under linux
# drops the bytes held at shutdown("rd") (FreeBSD's sorflush), which the
# linux profile alone keeps readable.
srd() {
  cat <<EOF
local sim = tcpsim.new { seed = 3, profile = "linux", shut_rd_discard = $1 }
local a, b = sim:host "A", sim:host "B"
sim:link(a, b, { delay = "10ms" })
local server = b:listen(80)
local client = a:connect(b, 80)
local peer = server:accept_wait()
client:send "first"
sim:run_for "1s"
peer:shutdown "rd"
expect(peer:recv(100) == nil):holds "held bytes dropped"
EOF
}
out=$(srd true | "$tcpsim" run - 2>&1); rc=$?
check "shut_rd_discard = true drops held bytes" '[ $rc -eq 0 ]'
out=$(srd false | "$tcpsim" run - 2>&1); rc=$?
check "shut_rd_discard = false keeps them" '[ $rc -eq 1 ]'
exit $fail
