-- A plain GET of the URL on the command line (headers with -H).
local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(dir .. "report.lua")
