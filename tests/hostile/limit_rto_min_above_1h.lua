-- an RTO floor above an hour: the RTO estimator keeps microseconds in 32 bits (as Linux's
-- tcp_sock does), so a floor past 71 minutes would wrap; the host is refused where it is made,
-- at its line, naming the knob and the bound
-- command: run {file} --quiet
-- expect: exit 2
-- expect-error: limit_rto_min_above_1h.lua:8: sim:host: rto_min must be at most 1h (the RTO is kept in 32-bit microseconds, as Linux's tcpi_rto); got 80min
local sim = tcpsim.new {}
local a = sim:host { name = "A", profile = "linux", rto_min = "80min", rto_max = "3h" }
local b = sim:host "B"
sim:link(a, b, { delay = "1ms" })
b:listen(80)
a:connect(b, 80)
sim:run_for "10ms"
