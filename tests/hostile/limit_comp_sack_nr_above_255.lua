-- a SACK-compression limit above 255: Linux's tcp_comp_sack_nr is a u8 sysctl (0..255) and the
-- count it bounds is kept in 8 bits, so a larger limit would never be reached; the host is
-- refused where it is made, at its line
-- command: run {file} --quiet
-- expect: exit 2
-- expect-error: limit_comp_sack_nr_above_255.lua:8: sim:host: comp_sack_nr must be 0..255 (Linux's tcp_comp_sack_nr is 8 bits); got 256
local sim = tcpsim.new {}
local a = sim:host { name = "A", profile = "linux", comp_sack_nr = 256 }
local b = sim:host "B"
sim:link(a, b, { delay = "1ms" })
b:listen(80)
a:connect(b, 80)
sim:run_for "10ms"
