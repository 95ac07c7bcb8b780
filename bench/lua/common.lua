-- Shared by every case script: a measured window, counters and latencies kept per wrk
-- thread, and one summary line for bench/wrk.py to parse.
--
-- bench runs wrk with -t N -c N, so each thread drives exactly one connection and its
-- request() and response() strictly alternate: a latency is the time between the two,
-- and the journey can follow its own answers.
--
-- When the window closes, a thread sends only BENCH_FILLER_PATH (a cheap GET) until wrk
-- stops. So every counted request was answered before wrk stops, which makes "rows
-- written = 2xx answers" exact; and no connection sits idle, which a gunicorn sync worker
-- would otherwise hold open, starving the requests still queued behind it.
local ffi = require("ffi")

ffi.cdef[[
typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
int clock_gettime(int clock_id, bench_timespec *tp);
]]

local CLOCK_MONOTONIC = 1
local timespec = ffi.new("bench_timespec")
local window_us = tonumber(os.getenv("BENCH_WINDOW_S") or "10") * 1000000
local filler_path = os.getenv("BENCH_FILLER_PATH") or "/healthz"
local deadline_us = nil
local sent_us = nil
local latencies = {}
local statuses = {}

local common = {}

function common.now_us()
  ffi.C.clock_gettime(CLOCK_MONOTONIC, timespec)
  return tonumber(timespec.tv_sec) * 1000000 + tonumber(timespec.tv_nsec) / 1000
end

-- Counters are flat globals of numbers and strings, so that done(), in wrk's main Lua
-- state, can copy them out with thread:get (wrk 4.1 crashes copying a nested table).
local COUNTERS = {"sent", "ok", "non2xx", "bad_body", "journeys", "first_us", "last_us"}
for _, name in ipairs(COUNTERS) do
  _G["bench_" .. name] = 0
end
bench_index = 0         -- set by setup(): 1 for wrk's first thread
bench_kinds = ""        -- "service,state": kinds of 2xx seen; each counted in bench_kind_<kind>
bench_statuses = ""     -- "404=3,500=1": non-2xx answers by status
bench_latencies = ""    -- "812,903,...": microseconds of every counted answer, set at window close
bench_note = ""         -- the first problem a script wants reported, in words
local closed = false
local checked = false

function common.count(name)
  _G["bench_" .. name] = _G["bench_" .. name] + 1
end

local function close_window()
  closed = true
  bench_latencies = table.concat(latencies, ",")
end

-- Call first thing in request(). Returns false when this request is not part of the
-- measurement: wrk's own check of the request before the load starts (its first thread
-- calls request() once for that), and every request after the window; the script then
-- returns common.filler() instead of its own request.
function common.sending()
  if bench_index == 1 and not checked then
    checked = true
    return false
  end
  if closed then
    return false
  end
  local now = common.now_us()
  if deadline_us == nil then
    bench_first_us = now
    deadline_us = now + window_us
  elseif now >= deadline_us then
    close_window()
    return false
  end
  bench_sent = bench_sent + 1
  sent_us = now
  return true
end

function common.note(text)
  if bench_note == "" then
    bench_note = text
  end
end

function common.filler()
  return wrk.format("GET", filler_path)
end

-- Call first thing in response(). Returns nil for an answer that is not measured, else
-- true for a 2xx (counted under kind) and false for any other status.
function common.answered(status, kind)
  if sent_us == nil then
    return nil
  end
  local now = common.now_us()
  latencies[#latencies + 1] = math.floor(now - sent_us + 0.5)
  sent_us = nil
  bench_last_us = now
  if status >= 200 and status < 300 then
    bench_ok = bench_ok + 1
    if kind then
      local key = "bench_kind_" .. kind
      if _G[key] == nil then
        _G[key] = 0
        bench_kinds = bench_kinds == "" and kind or (bench_kinds .. "," .. kind)
      end
      _G[key] = _G[key] + 1
    end
    return true
  end
  bench_non2xx = bench_non2xx + 1
  statuses[status] = (statuses[status] or 0) + 1
  local parts = {}
  for code, count in pairs(statuses) do
    table.insert(parts, code .. "=" .. count)
  end
  bench_statuses = table.concat(parts, ",")
  return false
end

local threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("bench_index", #threads)
end

local function split(text, separator)
  local items = {}
  for item in string.gmatch(text, "[^" .. separator .. "]+") do
    table.insert(items, item)
  end
  return items
end

local function json(value)
  local kind = type(value)
  if kind == "table" then
    local parts = {}
    for key, item in pairs(value) do
      table.insert(parts, string.format("%q:%s", tostring(key), json(item)))
    end
    return "{" .. table.concat(parts, ",") .. "}"
  elseif kind == "number" then
    return string.format("%.17g", value)
  elseif kind == "string" then
    return string.format("%q", value)
  end
  return tostring(value)
end

function done(summary, latency, requests)
  local per_thread = {}
  for index, thread in ipairs(threads) do
    local counters = {}
    for _, name in ipairs(COUNTERS) do
      counters[name] = thread:get("bench_" .. name)
    end
    counters.kinds = {}
    for _, kind in ipairs(split(thread:get("bench_kinds"), ",")) do
      counters.kinds[kind] = thread:get("bench_kind_" .. kind)
    end
    counters.statuses = {}
    for _, pair in ipairs(split(thread:get("bench_statuses"), ",")) do
      local code, count = string.match(pair, "(%d+)=(%d+)")
      counters.statuses[code] = tonumber(count)
    end
    -- Empty when the window never closed (wrk stopped first): wrk.py refuses such a run.
    counters.latencies_us = thread:get("bench_latencies")
    counters.note = thread:get("bench_note")
    per_thread[index] = counters
  end
  local result = {
    threads = per_thread,
    socket_errors = {connect = summary.errors.connect, read = summary.errors.read,
                     write = summary.errors.write, timeout = summary.errors.timeout},
  }
  io.write("BENCH_RESULT ", json(result), "\n")
end

return common
