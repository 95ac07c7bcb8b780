-- GETs cycling through the paths listed in BENCH_PATHS_FILE, one per line; each thread
-- starts at its own place in the list so that threads do not read in lockstep.
local common = require("common")

local prepared = {}
for line in io.lines(os.getenv("BENCH_PATHS_FILE")) do
  if line ~= "" then
    table.insert(prepared, wrk.format("GET", line))
  end
end
assert(#prepared > 0, "BENCH_PATHS_FILE lists no path")
local next_index = 1

function init(args)
  math.randomseed(common.now_us() % 2147483647)
  next_index = math.random(#prepared)
end

function request()
  if not common.sending() then
    return common.filler()
  end
  local item = prepared[next_index]
  next_index = next_index % #prepared + 1
  return item
end

function response(status, headers, body)
  common.answered(status, "read")
end
