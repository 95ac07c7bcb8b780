-- One POST repeated: BENCH_PATH with the body read from BENCH_BODY_FILE.
local common = require("common")

local path = os.getenv("BENCH_PATH")
local file = assert(io.open(os.getenv("BENCH_BODY_FILE"), "rb"))
local body = file:read("*a")
file:close()
local kind = os.getenv("BENCH_KIND") or "write"
local prepared = nil

function request()
  if not common.sending() then
    return common.filler()
  end
  if prepared == nil then
    local headers = {["Content-Type"] = "application/json"}
    -- BENCH_AUTHORIZATION: an Authorization header value, for the case with [auth] mode = basic.
    local authorization = os.getenv("BENCH_AUTHORIZATION")
    if authorization then
      headers["Authorization"] = authorization
    end
    prepared = wrk.format("POST", path, headers, body)
  end
  return prepared
end

function response(status, headers, body)
  common.answered(status, kind)
end
