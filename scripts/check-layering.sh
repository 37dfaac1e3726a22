#!/usr/bin/env bash
# Checks the layering the build cannot: every project header a folder
# includes must belong to the folder itself or to one it may use, and only
# sim/lua/ includes Lua. One line per folder, as in docs/design.md:
#   folder       may use
set -u
cd "$(dirname "$0")/.."
RULES='
sim/core     -
stack        -
sim/net      sim/kern sim/core stack
sim/log      sim/core stack
sim/render   sim/log sim/core stack
sim/lua      sim/net sim/pkt sim/kern sim/log sim/core stack
sim/kern     stack
sim/explore  sim/net sim/kern sim/core stack
sim/pkt      sim/net sim/kern sim/core stack
sim/cli      sim/lua sim/render sim/explore sim/pkt sim/net sim/kern sim/log sim/core stack
bench        sim/net sim/kern sim/core stack
'
FOLDERS="sim/core stack sim/net sim/log sim/render sim/kern sim/explore sim/pkt sim/lua sim/cli"
fail=0
# owner HEADER: the folder whose files include HEADER, or nothing.
owner() {
  for f in $FOLDERS; do
    [ -e "$f/$1" ] && { echo "$f"; return; }
  done
}
while read -r folder allowed; do
  [ -n "$folder" ] && [ -d "$folder" ] || continue
  files=$(find "$folder" -name '*.c' -o -name '*.h')
  [ -n "$files" ] || continue
  if [ "$folder" != sim/lua ]; then
    hits=$(grep -nE '#[[:space:]]*include[[:space:]]*[<"](lua|lauxlib|lualib)' $files)
    [ -n "$hits" ] && { echo "layering: $folder must not include Lua"; echo "$hits"; fail=1; }
  fi
  while IFS=: read -r file line hdr; do
    [ -n "$hdr" ] || continue
    own=$(owner "$hdr")
    [ -z "$own" ] || [ "$own" = "$folder" ] && continue
    case " $allowed " in
      *" $own "*) ;;
      *) echo "layering: $file:$line includes $own/$hdr ($folder may use: $allowed)"; fail=1 ;;
    esac
  done < <(grep -noE '#[[:space:]]*include[[:space:]]*"[^"]+"' $files | sed -E 's/#[[:space:]]*include[[:space:]]*"([^"]+)"/\1/')
done <<< "$RULES"
[ $fail -eq 0 ] && echo "layering: ok"
exit $fail
