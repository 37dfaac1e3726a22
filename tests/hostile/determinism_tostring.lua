-- tostring() and print() never show an address (which differs between runs)
-- expect: exit 0
-- expect-error: host A	table	thread
-- expect-not: : 0x
print({}, print, 1, nil, "x", 2.5)
local sim = tcpsim.new{}
print(sim, sim:host "A", tostring({}), coroutine.create(print))
sim:log(tostring({}))
expect(tostring({})):equals("table")
