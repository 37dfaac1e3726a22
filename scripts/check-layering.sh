#!/usr/bin/env bash
# Checks the layering the build cannot: the core includes no stack header,
# the stack no core header, and nothing outside sim/lua/ includes Lua.
set -u
cd "$(dirname "$0")/.."
fail=0
check() { # folder, forbidden-include regex, message
  hits=$(grep -rnE "#[[:space:]]*include[[:space:]]*[<\"]($2)" "$1" --include='*.c' --include='*.h' 2>/dev/null)
  if [ -n "$hits" ]; then
    echo "layering: $3"; echo "$hits"; fail=1
  fi
}
check sim/core 'tcp[_a-z]*\.h|rlog[_a-z]*\.h|lua|lauxlib|lualib' "sim/core must not include stack, output or Lua headers"
check stack 'sim_[a-z]*\.h|rlog[_a-z]*\.h|lua|lauxlib|lualib' "stack/ must not include core, output or Lua headers"
check bench 'lua|lauxlib|lualib' "bench/ must not include Lua"
check sim/kern 'lua|lauxlib|lualib|rlog[_a-z]*\.h' "sim/kern must not include Lua or output headers"
check sim/core 'kern[_a-z]*\.h' "sim/core must not include kernel-endpoint headers"
check stack 'kern[_a-z]*\.h' "stack/ must not include kernel-endpoint headers"
for f in sim/lua/rlog*.c sim/lua/rlog*.h; do
  [ -e "$f" ] || continue
  grep -nE '#[[:space:]]*include[[:space:]]*[<"](lua|lauxlib|lualib)' "$f" && { echo "layering: $f (tcpsim_out) must not include Lua"; fail=1; }
done
[ $fail -eq 0 ] && echo "layering: ok"
exit $fail
