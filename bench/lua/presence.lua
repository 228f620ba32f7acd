-- Presence writes, each with a client id never used before:
--   SOAK_PREFIX=run17 SOAK_T0=<unix seconds> \
--   wrk -s presence.lua -H "Authorization: Bearer …" URL/api/v1/presence
-- Every thread counts its 2xx answers by the client id in the answer's
-- body, and keeps the bodies of requests without a 2xx answer (a request
-- in flight when wrk stops, or a refused one): done() prints them as
-- PENDING lines so the driver can retry them, as a phone does, and then
-- check the store grew by exactly the number of acknowledged writes.
local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(dir .. "report.lua")

local threads = {}
local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("tid", counter)
  table.insert(threads, thread)
end

local prefix = os.getenv("SOAK_PREFIX") or "soak"
local t0 = tonumber(os.getenv("SOAK_T0") or "0")
local units = { "police", "security_guard", "night_walkers", "field_worker", "municipal_staff" }
local seq = 0
sent, acked, pending, refused = 0, 0, {}, {}

local function body(id, i)
  -- Positions on a 40 x 40 grid over central Linköping, starts spread
  -- over the day that ended an hour before t0, 5 to 29 minutes long (so
  -- nothing lies in the future).
  local lon = 15.585 + (i % 40) * 0.0015
  local lat = 58.395 + (math.floor(i / 40) % 40) * 0.0008
  local start = t0 - 90000 + (i * 37) % 86400
  local stop = start + 300 + (i % 25) * 60
  return string.format(
    '{"type":"Feature","geometry":{"type":"Point","coordinates":[%.6f,%.6f]},'
      .. '"properties":{"unit_type":"%s","started_at":"%s","ended_at":"%s","client_id":"%s"}}',
    lon, lat, units[(i % #units) + 1],
    os.date("!%Y-%m-%dT%H:%M:%SZ", start), os.date("!%Y-%m-%dT%H:%M:%SZ", stop), id)
end

local headers = {}

function init(args)
  -- wrk.format replaces wrk.headers (the -H options) when given a table.
  for k, v in pairs(wrk.headers) do headers[k] = v end
  headers["Content-Type"] = "application/geo+json"
end

function request()
  seq = seq + 1
  sent = sent + 1
  local id = string.format("%s-%d-%d", prefix, tid, seq)
  local b = body(id, seq * 7 + tid)
  pending[id] = b
  return wrk.format("POST", nil, headers, b)
end

function response(status, headers, b)
  if status >= 200 and status < 300 then
    local id = string.match(b, '"client_id":"([^"]+)"')
    if id and pending[id] then
      pending[id] = nil
      acked = acked + 1
    end
  else
    refused[status] = (refused[status] or 0) + 1
    if refused[status] <= 3 then
      io.write("REFUSED " .. status .. " " .. string.sub(b, 1, 300) .. "\n")
    end
  end
end

function extra_fields(summary)
  local s, a = 0, 0
  for _, t in ipairs(threads) do
    s = s + t:get("sent")
    a = a + t:get("acked")
    for id, b in pairs(t:get("pending")) do
      io.write("PENDING " .. b .. "\n")
    end
  end
  return '"sent":' .. s .. ',"acked":' .. a
end
