-- Text a page must show as text, never run: host names and a note with
-- markup, a script end tag, a multi-byte character and a byte that is not
-- UTF-8. Used by stepper.test.mjs (not a scenario of its own: no
-- expectations).
local sim = tcpsim.new { seed = 1 }
local a, b, c = sim:host "A</script>", sim:host "B&<b>x</b>", sim:host "C"
sim:link(a, b, { delay = "10ms" })
sim:link(b, c, { delay = "10ms" })
sim:log("</script><script>window.pwned = 1</script> \226\130\172 \255")
b:listen(80)
a:connect(b, 80)
c:connect(b, 80)
sim:run_for "1s"
