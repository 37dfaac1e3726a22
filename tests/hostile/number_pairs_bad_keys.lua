-- pairs over a table with function keys
-- expect: exit 2
-- expect-error: number_pairs_bad_keys.lua:4: pairs: a table with function keys has no deterministic order 
for k in pairs({ [print] = 1 }) do end
