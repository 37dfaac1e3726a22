-- A timer_hz whose jiffy is not a whole number of nanoseconds (Linux's
-- HZ 300): refused with the values that work, not rounded silently.
-- expect-exit: 2
-- expect-error: timer_hz must be 0 (exact timers) or a divisor of 1000000000 up to 1000000 (100, 250, 1000; a jiffy is whole nanoseconds); got 300
local sim = tcpsim.new { profile = "linux", timer_hz = 300 }
sim:host "A"
