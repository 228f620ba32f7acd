-- Public API reads as many clients behind a reverse proxy: each request
-- carries an X-Forwarded-For from a fixed population of 65,536 addresses
-- per thread (the server runs with --trust-forwarded), so the per-address
-- limit (600 a minute) is not what is measured; no address comes near it.
--   wrk -s public.lua URL -- PATH[,PATH…] [HEADER: VALUE]…
-- Several paths are taken in turn. Extra arguments are request headers,
-- e.g. "If-None-Match: \"abc\"" or "Accept-Encoding: gzip".
local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(dir .. "report.lua")

local threads = {}
local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("tid", counter)
  table.insert(threads, thread)
end

local paths, headers, n = {}, {}, 0

function init(args)
  for p in string.gmatch(args[1] or "/", "[^,]+") do
    table.insert(paths, p)
  end
  for i = 2, #args do
    local k, v = string.match(args[i], "^([^:]+):%s*(.*)$")
    if k then headers[k] = v end
  end
end

function request()
  n = n + 1
  local a = n % 65536
  headers["X-Forwarded-For"] = string.format("10.%d.%d.%d", tid % 256, math.floor(a / 256), a % 256)
  return wrk.format("GET", paths[(n % #paths) + 1], headers)
end
