-- Several GET paths taken in turn (the planner's mix in the soak):
--   wrk -s mix.lua -H "Authorization: Bearer …" URL -- PATH[|PATH…]
-- Paths are separated by "|" since they contain commas.
local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(dir .. "report.lua")

local paths, n = {}, 0

function init(args)
  for p in string.gmatch(args[1] or "/", "[^|]+") do
    table.insert(paths, p)
  end
end

function request()
  n = n + 1
  return wrk.format("GET", paths[(n % #paths) + 1])
end
