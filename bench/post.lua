-- wrk script for bench/ingest: POST /orders; every answer other than 202 counts as an error.
-- Prints one JSON line (after "JSON ") with the totals over all threads.
wrk.method = "POST"
wrk.path = "/orders"
wrk.body = '{"product":"ingest","quantity":1,"price":9.99}'
wrk.headers["Content-Type"] = "application/json"

local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) non202 = 0; first = "" end
function response(status, headers, body)
  if status ~= 202 then
    non202 = non202 + 1
    if first == "" then first = "HTTP " .. status end
  end
end
function done(summary, latency, requests)
  local bad, first_error = 0, ""
  for _, t in ipairs(threads) do
    bad = bad + t:get("non202")
    if first_error == "" then first_error = t:get("first") end
  end
  local e = summary.errors
  local socket = e.connect + e.read + e.write + e.timeout
  local seconds = summary.duration / 1e6
  io.write(string.format('JSON {"sent":%d,"accepted":%d,"errors":%d,"seconds":%.3f,"perSecond":%.1f,"p50Ms":%.2f,"p99Ms":%.2f,"maxMs":%.2f,"firstError":%s}\n',
    summary.requests, summary.requests - bad, bad + socket, seconds, (summary.requests - bad) / seconds,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000,
    first_error ~= "" and ('"' .. first_error .. '"') or (socket > 0 and '"socket errors"' or "null")))
end
