-- Reads a LuaLS annotation file (share/types/tcpsim.lua) and prints, as a
-- Lua chunk, the names it declares: for each class its fields (with "?" for
-- optional ones, inherited fields included) and methods, and the globals.
-- Run with lua5.4; tests/cli/annotations.sh feeds the result to a scenario.
local path = assert(arg[1], "usage: lua5.4 annotations_read.lua FILE")
local classes, order, vars, globals = {}, {}, {}, {}
local current, last_class
for line in io.lines(path) do
  local name, parent = line:match("^%-%-%-@class%s+([%w_.]+)%s*:?%s*([%w_.]*)")
  if name then
    current = { parent = parent ~= "" and parent or nil, fields = {}, methods = {} }
    classes[name], last_class = current, name
    order[#order + 1] = name
  else
    local field, opt = line:match("^%-%-%-@field%s+([%w_]+)(%??)")
    if field and current then
      current.fields[field] = opt == "?" and "optional" or "required"
    elseif not line:match("^%-%-%-") then
      current = nil
    end
    local var = line:match("^local%s+([%w_]+)%s*=%s*{}") or line:match("^([%w_]+)%s*=%s*{}")
    if var and last_class then vars[var] = last_class; last_class = nil end
    local owner, method = line:match("^function%s+([%w_]+)[:.]([%w_]+)%s*%(")
    if owner then
      classes[assert(vars[owner], "method of an unknown table: " .. owner)].methods[method] = true
    else
      local g = line:match("^function%s+([%w_]+)%s*%(")
      if g then globals[#globals + 1] = g end
    end
  end
end
-- Inherited fields, resolved once.
local function all_fields(name, out)
  local c = assert(classes[name], "unknown class " .. name)
  if c.parent then all_fields(c.parent, out) end
  for k, v in pairs(c.fields) do out[k] = v end
  return out
end
local function sorted(t)
  local keys = {}
  for k in pairs(t) do keys[#keys + 1] = k end
  table.sort(keys)
  return keys
end
io.write("return {\n  classes = {\n")
table.sort(order)
for _, name in ipairs(order) do
  io.write(("    [%q] = { fields = {"):format(name))
  local f = all_fields(name, {})
  for _, k in ipairs(sorted(f)) do io.write(("%s = %q, "):format(k, f[k])) end
  io.write("}, methods = {")
  for _, k in ipairs(sorted(classes[name].methods)) do io.write(("%q, "):format(k)) end
  io.write("} },\n")
end
io.write("  },\n  globals = {")
table.sort(globals)
for _, g in ipairs(globals) do io.write(("%q, "):format(g)) end
io.write("},\n}\n")
