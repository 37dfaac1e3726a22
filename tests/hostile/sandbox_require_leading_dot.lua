-- require names cannot start with a dot
-- expect: exit 2
-- expect-error: sandbox_require_leading_dot.lua:4: require: module name '.hidden' may hold only letters, d
require '.hidden'
