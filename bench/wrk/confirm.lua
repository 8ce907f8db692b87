-- POST /api/v1/confirmations, every request with a code never sent before (bench/city.py).
--
--   wrk -s bench/wrk/confirm.lua <url> -- <codes file> <threads>
--
-- Each wrk thread has its own Lua state, so each takes its own slice of the file: thread i
-- (from 0) sends lines i, i + threads, i + 2 * threads, ... in order. A thread that runs out
-- sends a code that does not exist, which the runner sees as errors. The cookie and CSRF
-- header come from wrk's -H options. Each receiver made several codes for one exchange, a few
-- seconds apart in the order sent, so every request says confirm_again (as a phone does once
-- its member has answered "yes, another visit"); without it the second code of an exchange
-- within the hour is a 409 asking that question. At the end the statuses answered are printed as
-- "statuses 201=1234 400=2" for the runner.

local threads = {}

function setup(thread)
   thread:set("id", #threads)
   table.insert(threads, thread)
end

function init(args)
   local path, thread_count = args[1], tonumber(args[2])
   codes, next_code, statuses = {}, 1, {}
   local line_number = 0
   for line in io.lines(path) do
      if line_number % thread_count == id then
         table.insert(codes, line)
      end
      line_number = line_number + 1
   end
   wrk.method = "POST"
   wrk.headers["Content-Type"] = "application/json"
end

function request()
   local code = codes[next_code] or "00000000000000000000000000"
   next_code = next_code + 1
   return wrk.format(nil, nil, nil, '{"code": "' .. code .. '", "confirm_again": true}')
end

function response(status, headers, body)
   statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
   local totals = {}
   for _, thread in ipairs(threads) do
      for status, count in pairs(thread:get("statuses")) do
         totals[status] = (totals[status] or 0) + count
      end
   end
   local words = {}
   for status, count in pairs(totals) do
      table.insert(words, status .. "=" .. count)
   end
   table.sort(words)
   io.write("statuses " .. table.concat(words, " ") .. "\n")
end
