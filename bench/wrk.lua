-- One benchmark case for wrk. The harness says what to send through environment variables:
--   BENCH_METHOD, BENCH_PATH (may hold {id}: a random customer id, or {offset}: the next page
--   of a walk through the whole list), BENCH_ALTERNATE (a second path, sent every other
--   request), BENCH_BODY, BENCH_CONTENT_TYPE, BENCH_AUTHORIZATION, BENCH_HOST, BENCH_COOKIE,
--   BENCH_ID_MIN, BENCH_ID_MAX, BENCH_PAGE_END, BENCH_DELAY_MS (a pause before each request:
--   a light load, whose latency shows how the server treats a caller beside a heavy one).
-- It ends with one line the harness reads: BENCH {json}.

local method = os.getenv("BENCH_METHOD") or "GET"
local path = os.getenv("BENCH_PATH") or "/"
local alternate = os.getenv("BENCH_ALTERNATE")
local body = os.getenv("BENCH_BODY")
local id_min = tonumber(os.getenv("BENCH_ID_MIN") or "1")
local id_max = tonumber(os.getenv("BENCH_ID_MAX") or "1")
local page_end = tonumber(os.getenv("BENCH_PAGE_END") or "100")
local delay_ms = tonumber(os.getenv("BENCH_DELAY_MS") or "0")

local headers = {}
if os.getenv("BENCH_AUTHORIZATION") then
  headers["Authorization"] = os.getenv("BENCH_AUTHORIZATION")
end
if os.getenv("BENCH_HOST") then
  headers["Host"] = os.getenv("BENCH_HOST")
end
if os.getenv("BENCH_COOKIE") then
  headers["Cookie"] = os.getenv("BENCH_COOKIE")
end
if body then
  headers["Content-Type"] = os.getenv("BENCH_CONTENT_TYPE") or "application/json"
end

local sent = 0
local offset = 0

local function random_id()
  return tostring(math.random(id_min, id_max))
end

local function next_offset()
  local current = offset
  offset = (offset + 100) % page_end
  return tostring(current)
end

function init(args)
  math.randomseed(os.time())
end

if delay_ms > 0 then
  function delay()
    return delay_ms
  end
end

function request()
  sent = sent + 1
  local target = path
  if alternate and sent % 2 == 0 then
    target = alternate
  end
  target = target:gsub("{id}", random_id):gsub("{offset}", next_offset)
  return wrk.format(method, target, headers, body)
end

function done(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format(
    'BENCH {"requests": %d, "duration_us": %d, "socket_errors": %d, "non_2xx": %d, ' ..
    '"p50_us": %d, "p99_us": %d}\n',
    summary.requests, summary.duration,
    errors.connect + errors.read + errors.write + errors.timeout, errors.status,
    latency:percentile(50), latency:percentile(99)))
end
