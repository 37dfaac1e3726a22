-- after Lua memory ran out while the simulator built a hook's segment, the error reaches the
-- script as an ordinary error and the simulation is whole: freed memory lets it run on
-- command: run {file} --quiet --max-memory 8MiB
-- expect: exit 0
local sim = tcpsim.new {}
local a, b = sim:host "A", sim:host "B"
local link = sim:link(a, b, { delay = "10ms" })
local server = b:listen(80)
local client = a:connect(b, 80)
local hold, chunk, draining = nil, 0, true
local function fill() hold = { string.rep("x", chunk), hold } end
local function grow() hold = { hold } end
link:hook(function(seg)
  if not draining then return nil end
  hold = { seg, hold }
  for _, n in ipairs { 65536, 4096, 256, 41 } do
    chunk = n
    while pcall(fill) do end
  end
  while pcall(grow) do end
end)
local ok, err = pcall(sim.run_for, sim, "1s")
hold, draining = nil, false
expect(ok):equals(false)
expect(tostring(err):find("not enough memory", 1, true) ~= nil):equals(true)
sim:run_for "1s"
expect(client.state):equals("ESTABLISHED")
