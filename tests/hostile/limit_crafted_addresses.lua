-- host addresses chosen to collide in the address lookup, as anyone can
-- choose them offline (its hash is unkeyed): runs of eight whose home
-- slots at 8,192 slots all lie in one window of 64; each add would walk
-- the whole pile, so past 2,048 slots in a row the add is refused
-- expect: exit 2
-- expect-error: limit_crafted_addresses.lua:25: sim:host: host h2073: too many host addresses hash next to 10.3.191.168 (over 2048 in a row
-- expect-not: out of memory
local function mix(x) -- the lookup's 64-bit finaliser (splitmix64's)
    x = (x ~ (x >> 30)) * 0xbf58476d1ce4e5b9
    x = (x ~ (x >> 27)) * 0x94d049bb133111eb
    return x ~ (x >> 31)
end
local function dotted(a)
    return string.format('%d.%d.%d.%d', a >> 24, a >> 16 & 255, a >> 8 & 255, a & 255)
end
local sim = tcpsim.new {}
local n = 0
local run = 10 << 21 -- 10.0.0.0, eight addresses a run
while n < 4000 do
    -- a run's home slot at 8,192 slots: its hash shifted past the offset bits
    if (mix(run) << 3) & 8191 < 64 then
        for offset = 0, 7 do
            n = n + 1
            local name = 'h' .. n
            sim:host { name = name, addr = dotted(run << 3 | offset) }
        end
    end
    run = run + 1
end
