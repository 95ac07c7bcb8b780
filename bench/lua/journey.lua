-- An IVR journey per connection: start a service, two states (start, then transition),
-- three tasks (two started and ended, the last left for the service end to complete),
-- complete the service. The service_id comes from the start answer; state and task IDs
-- follow SPEC §2 (numbered per service from 1, in start order). A non-2xx answer ends
-- the journey and the next one starts afresh.
local common = require("common")

local json_headers = {["Content-Type"] = "application/json"}

-- kind: what a 2xx of the step wrote, for the rows-versus-answers check in bench/run.py.
local steps = {
  {kind = "service", route = "/services/start", body = nil},   -- body set in init(): the caller's number
  {kind = "state", route = "/services/%s/states/start",
   body = '{"state_type":1,"application_type":400,"application_id":40}'},
  {kind = "task", route = "/services/%s/tasks/start", body = '{"task_type":10,"state_id":1}'},
  {kind = "other", route = "/services/%s/tasks/1/end", body = '{"disposition":1}'},
  {kind = "state", route = "/services/%s/states/transition",
   body = '{"from":{"state_id":1,"disposition":1},"to":{"state_type":2}}'},
  {kind = "task", route = "/services/%s/tasks/start", body = '{"task_type":11,"state_id":2}'},
  {kind = "other", route = "/services/%s/tasks/2/end", body = '{"disposition":1}'},
  {kind = "task", route = "/services/%s/tasks/start", body = '{"task_type":12,"state_id":2}'},
  {kind = "other", route = "/services/%s/end", body = '{"disposition":10,"disposition_desc":"resolved in IVR"}'},
}

local step = 1
local service_id = nil
local awaiting = false

function init(args)
  math.randomseed(common.now_us() % 2147483647)
  local caller = string.format("07%08d", math.random(0, 99999999))
  steps[1].body = '{"contact_key":"' .. caller .. '","service_type":100,"media_type":1,'
                  .. '"application_type":400,"application_id":40,"interaction_id":"IVR-BENCH"}'
end

function request()
  if not common.sending() then
    return common.filler()
  end
  if awaiting then
    -- The previous request got no answer (a socket error): this journey cannot go on.
    step = 1
  end
  awaiting = true
  local current = steps[step]
  return wrk.format("POST", string.format(current.route, service_id), json_headers, current.body)
end

function response(status, headers, body)
  local measured = common.answered(status, steps[step].kind)
  if measured == nil then
    return
  end
  awaiting = false
  if not measured then
    common.note("step " .. step .. " POST " .. string.gsub(steps[step].route, "%%s", "<id>")
                .. " answered " .. status)
    step = 1
    return
  end
  if step == 1 then
    service_id = string.match(body, '"service_id"%s*:%s*"?(%d+)')
    if service_id == nil then
      common.count("bad_body")
      common.note("POST /services/start answered without a service_id")
      return
    end
  end
  if step == #steps then
    common.count("journeys")
    step = 1
  else
    step = step + 1
  end
end
