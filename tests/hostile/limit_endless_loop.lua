-- an endless loop hits the instruction budget
-- command: run {file} --quiet --max-instructions 10000000
-- expect: exit 2
-- expect-error: limit_endless_loop.lua:5: instruction limit of 10000000 reached (an endless loop? raise it
while true do end
