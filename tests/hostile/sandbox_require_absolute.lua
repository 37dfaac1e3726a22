-- require of an absolute path is refused
-- expect: exit 2
-- expect-error: sandbox_require_absolute.lua:4: require: module name '/etc/passwd' may hold only letters, 
require '/etc/passwd'
