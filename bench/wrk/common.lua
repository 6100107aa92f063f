-- What the three scripts share: each thread's share of the customers, one prebuilt request
-- per customer, a count of the answers that were not 2xx, and a done() that prints one line
-- of JSON for bench/http_load.py.
--
-- Arguments after "--": DATA_FILE THREADS OFFSET, or a PATH for plain.lua. With the environment
-- variable RENEWQUOTE_PACE set to a rate (requests a second, all threads together), each thread
-- hands out its share of send times at even intervals and a connection waits for the next one
-- (wrk's delay(), defined only then, as wrk schedules every request through a timer once a
-- script has one): the load is paced at that rate while the server keeps up, and falls below
-- it when it does not. The data file has
-- one customer a line, "token sid1 sid2 sid3 sid4 sid5". Thread i of n takes the customers
-- i, i + n, i + 2n..., so no two threads send for the same customer, and each thread starts
-- OFFSET customers in (the warm-up starts at 0, the measured run further on).
--
-- wrk calls response() for every answer once it is defined; that costs it a little parsing,
-- and is the only way to see a 1xx or 3xx (its own count is of statuses above 399).

local threads = {}
local pace_rate = tonumber(os.getenv("RENEWQUOTE_PACE") or "")
local interval_ms = nil -- between two sends of this thread, when paced
local next_at = nil
local next_id = 0

function setup(thread)
   next_id = next_id + 1
   thread:set("id", next_id)
   table.insert(threads, thread)
end

local requests = {}
local position = 0
non2xx = 0
first_failure = nil

local function customers(path, id, count)
   local mine = {}
   local index = 0
   for line in io.lines(path) do
      if (index % count) + 1 == id then
         local fields = {}
         for field in line:gmatch("%S+") do
            table.insert(fields, field)
         end
         table.insert(mine, { token = fields[1], subscriptions = { unpack(fields, 2) } })
      end
      index = index + 1
   end
   return mine
end

function init(args)
   if args[2] == nil then
      requests[1] = build(args[1])
   else
      local count = tonumber(args[2])
      for _, customer in ipairs(customers(args[1], id, count)) do
         table.insert(requests, build(customer))
      end
      -- Where this thread starts among its own customers.
      position = math.floor(tonumber(args[3] or "0") / count) % #requests
      if pace_rate ~= nil then
         interval_ms = 1000 * count / pace_rate
      end
   end
end

local ffi = require("ffi")
ffi.cdef [[
   typedef struct { long tv_sec; long tv_nsec; } rq_timespec;
   int clock_gettime(int clock, rq_timespec *now);
]]
local clock_now = ffi.new("rq_timespec")
local function now_ms()
   ffi.C.clock_gettime(1, clock_now) -- CLOCK_MONOTONIC
   return tonumber(clock_now.tv_sec) * 1000 + tonumber(clock_now.tv_nsec) / 1e6
end

if pace_rate ~= nil then
   function delay()
      if interval_ms == nil then
         return 0 -- before init()
      end
      local now = now_ms()
      if next_at == nil or next_at < now - interval_ms then
         next_at = now -- no catching up in a burst after the server fell behind
      end
      local wait = next_at - now
      next_at = next_at + interval_ms
      return wait > 0 and wait or 0
   end
end

function request()
   -- Rotate through the customers: consecutive requests are for different customers.
   position = position % #requests + 1
   return requests[position]
end

function response(status, headers, body)
   if status < 200 or status > 299 then
      non2xx = non2xx + 1
      if first_failure == nil then
         first_failure = status .. " " .. string.sub(body or "", 1, 300)
      end
   end
end

local function quoted(text)
   return '"' .. text:gsub('[%c"\\]', function(c)
      return string.format("\\u%04x", c:byte())
   end) .. '"'
end

-- wrk hands done() its latency histogram corrected for coordinated omission: each answer slower
-- than the run's mean interval per connection also counts the requests that connection would
-- have sent meanwhile. So the percentiles are what a steady stream of callers would see, and
-- above the times the answers took one by one when the server stalls now and then.
function done(summary, latency, requests)
   local failures = 0
   local failure = nil
   for _, thread in ipairs(threads) do
      failures = failures + (thread:get("non2xx") or 0)
      failure = failure or thread:get("first_failure")
   end
   local e = summary.errors
   local fields = {
      '"requests": ' .. summary.requests,
      '"duration_us": ' .. summary.duration,
      '"bytes": ' .. summary.bytes,
      '"non2xx": ' .. failures,
      '"connect": ' .. e.connect,
      '"read": ' .. e.read,
      '"write": ' .. e.write,
      '"timeout": ' .. e.timeout,
      '"status_over_399": ' .. e.status,
      '"p50_us": ' .. latency:percentile(50),
      '"p90_us": ' .. latency:percentile(90),
      '"p99_us": ' .. latency:percentile(99),
      '"p999_us": ' .. latency:percentile(99.9),
      '"max_us": ' .. latency.max,
      '"mean_us": ' .. latency.mean,
      '"first_failure": ' .. (failure and quoted(failure) or "null"),
   }
   io.write("RENEWQUOTE_RESULT {" .. table.concat(fields, ", ") .. "}\n")
end
