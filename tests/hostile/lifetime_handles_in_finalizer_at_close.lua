-- Handles used from a finalizer that runs when the state closes, after
-- the simulation's own __gc (finalizers run newest first: this table is
-- older than the simulation): each use is refused, none reaches the freed
-- net, and the refusal is what the finalizer prints.
-- expect: exit 0
-- expect-error: lifetime_handles_in_finalizer_at_close.lua:11: attempt to use a finished simulation
local host, sock
setmetatable({}, {
  __gc = function()
    local ok, err = pcall(function()
      sock:on_state(function() end)
      return sock.state
    end)
    print("finalizer:", ok, err)
    ok, err = pcall(function() return host:listen(81) end)
    print("finalizer:", ok, err)
    ok, err = pcall(tostring, host)
    print("finalizer:", ok, err)
  end,
})
local sim = tcpsim.new {}
local peer
host, peer = sim:host "A", sim:host "B"
sim:link(host, peer, { delay = "10ms" })
sock = peer:listen(80)
sim:run_to "1s"
expect(sock.state):equals "LISTEN"
