-- invalid UTF-8 and control characters in names reach the SVG as valid XML
-- command: run {file} --quiet --svg {tmp}/x.svg
-- check-xml: {tmp}/x.svg
-- expect: exit 0
local sim = tcpsim.new {}
local a, b = sim:host '\xff\xfeA\1', sim:host 'B\xc3'
sim:link(a, b, {})
b:listen(80)
local c = a:connect(b, 80)
sim:log('note \xed\xa0\x80 <&> \2')
sim:run_for '1s'
expect(c):state 'ESTABLISHED'
