-- require names cannot climb out of the search folders
-- expect: exit 2
-- expect-error: sandbox_require_dotdot.lua:4: require: module name '../../../../etc/passwd' may hold only 
require '../../../../etc/passwd'
