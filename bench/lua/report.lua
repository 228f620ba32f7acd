-- Shared by every bench script: at the end, one machine-readable line
--   WRKJSON {"requests":…,"rps":…,"p50_ms":…,…}
-- so the drivers (bench/bench.py, bench/soak.py) never parse wrk's text.
-- A script may set `extra_fields(summary)` returning a JSON fragment.

local function num(x)
  return string.format("%.6g", x)
end

function done(summary, latency, requests)
  local secs = summary.duration / 1e6
  local e = summary.errors
  local fields = {
    '"requests":' .. summary.requests,
    '"seconds":' .. num(secs),
    '"rps":' .. num(summary.requests / secs),
    '"bytes":' .. summary.bytes,
    '"p50_ms":' .. num(latency:percentile(50) / 1000),
    '"p90_ms":' .. num(latency:percentile(90) / 1000),
    '"p99_ms":' .. num(latency:percentile(99) / 1000),
    '"max_ms":' .. num(latency.max / 1000),
    '"mean_ms":' .. num(latency.mean / 1000),
    '"err_connect":' .. e.connect,
    '"err_read":' .. e.read,
    '"err_write":' .. e.write,
    '"err_timeout":' .. e.timeout,
    '"err_status":' .. e.status,
  }
  if extra_fields then
    table.insert(fields, extra_fields(summary))
  end
  io.write("WRKJSON {" .. table.concat(fields, ",") .. "}\n")
end
