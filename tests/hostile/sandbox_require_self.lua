-- a module that requires itself ends with a clear error
-- expect: exit 2
-- expect-error: C stack overflow
require 'hostile_self_require'
