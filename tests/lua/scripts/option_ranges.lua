-- checks: 33
-- Each socket option's range at its edges. The ranges are tcp_setopt's
-- (stack/tcp_user.c setopt_held: keepidle and keepintvl 1 to
-- UINT64_MAX / 4 ns, msl and user_timeout 0 to UINT64_MAX / 4, keepcnt 1
-- to 255, sndbuf and rcvbuf 1 to TCP_BUF_MAX = 2^30, mss 64 to 65495, isn
-- 0 to 2^32 - 1): both edges must be taken by the scenario's check and by
-- the stack on a listener (no state refuses any of them before the first
-- connection), and one past each edge must be refused at the scenario's
-- line, naming the option, the value and the range.
local sim = tcpsim.new { seed = 1 }
local a = sim:host "A"
local MAXD = 4611686018427387903 -- UINT64_MAX / 4 = 2^62 - 1
local ranges = {
  { "keepidle", 1, MAXD, "ns" },
  { "keepintvl", 1, MAXD, "ns" },
  { "msl", 0, MAXD, "ns" },
  { "user_timeout", 0, MAXD, "ns" },
  { "keepcnt", 1, 255 },
  { "sndbuf", 1, 1073741824 },
  { "rcvbuf", 1, 1073741824 },
  { "mss", 64, 65495 },
  { "isn", 0, 4294967295 },
}
local port = 1000
local function listen_with(name, v, unit)
  port = port + 1
  local opts = { [name] = unit and tcpsim.ns(v) or v }
  return pcall(function() return a:listen(port, opts) end)
end
for _, r in ipairs(ranges) do
  local name, lo, hi, unit = r[1], r[2], r[3], r[4]
  local suffix = unit and " ns" or ""
  local want = string.format("host:listen: %s must be in [%d,%d]%s, got ", name, lo, hi, suffix)
  for _, v in ipairs { lo, hi } do
    local ok, err = listen_with(name, v, unit)
    expect(ok, name .. " = " .. v):holds(tostring(err))
  end
  if lo > 0 then
    local ok, err = listen_with(name, lo - 1, unit)
    expect(not ok and err:find(want .. (lo - 1), 1, true) ~= nil, name .. " below"):holds(tostring(err))
  end
  local ok, err = listen_with(name, hi + 1, unit)
  expect(not ok and err:find(want .. (hi + 1), 1, true) ~= nil, name .. " above"):holds(tostring(err))
end
