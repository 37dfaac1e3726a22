-- collectgarbage is absent
-- expect: exit 2
-- expect-error: sandbox_collectgarbage.lua:4: attempt to call a nil value (global 'collectgarbage')
collectgarbage('collect')
