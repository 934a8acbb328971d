-- wrk hook for bench_actors.py: requests spread over N actor names, counted exactly.
--
--   wrk ... -s wrk_actors.lua URL -- METHOD PATH NAMES PREFIX [BODY]
--
-- PATH may contain "{name}"; each request replaces it with PREFIX..i for a random i in
-- [0, NAMES). Uniformly random rather than rotating: that is how independent clients spread,
-- and it lets two connections sometimes queue on one name, as they would in real traffic. Each
-- wrk thread gets its own seed, since identically seeded threads would walk the same names in
-- lockstep and collide far more than chance.
--
-- Unlike wrk_report.lua alone, this script counts what it sent (request() runs once per request
-- written) and which answers were 2xx, so bench_actors.py can check an actor's balance against
-- the deposits made: requests still in flight when wrk stops are sent but never answered, and
-- the server completes them anyway. The summary is printed by wrk_report.lua's hook, with the
-- counts added as "counts": {"sent", "answered", "ok_2xx"}.

local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(here .. "wrk_report.lua")

local threads = {}  -- main Lua state: every thread, so done() can collect their counters

function setup(thread)
  table.insert(threads, thread)
  thread:set("seed", #threads)
end

-- The rest runs in each thread's own Lua state.
local requests = {}
sent, answered, ok_2xx = 0, 0, 0  -- globals, so done() can read them with thread:get()

function init(args)
  local method, path, names, prefix, body = args[1], args[2], tonumber(args[3]), args[4], args[5]
  if body == "" then body = nil end
  for i = 1, names do
    -- A function as the replacement, so a "%" in a name is never read as a capture reference.
    local name = prefix .. (i - 1)
    requests[i] = wrk.format(method, path:gsub("{name}", function() return name end), nil, body)
  end
  math.randomseed(seed * 7919)
end

function request()
  sent = sent + 1
  return requests[math.random(#requests)]
end

function response(status, headers, body)
  answered = answered + 1
  if status >= 200 and status < 300 then ok_2xx = ok_2xx + 1 end
end

done = function(summary, latency, _)
  local total = {sent = 0, answered = 0, ok_2xx = 0}
  for _, thread in ipairs(threads) do
    for key in pairs(total) do total[key] = total[key] + thread:get(key) end
  end
  report(summary, latency, string.format('"counts":{"sent":%d,"answered":%d,"ok_2xx":%d}',
                                         total.sent, total.answered, total.ok_2xx))
end
