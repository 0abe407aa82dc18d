-- wrk script for bench/http_bench.sh: POST /orders from many signed-in users.
--   wrk ... -s bench/http_orders.lua URL -- COOKIE_FILE MODE
-- COOKIE_FILE: one "isucoin_session=..." per line (one line per user).
-- MODE "rest":  buys at 1000-1999, sells at 3000-3999: they never cross, the book grows.
-- MODE "cross": buys and sells at 2500 (amount 1): every other order trades, so matching,
--               bank settlement and read-model updates run during the phase.
-- Requests alternate buy/sell and rotate over the users. done() prints one
-- "WRK key=value ..." line that http_bench.sh parses.

local cookies = {}
local mode = "rest"
local n = 0

function init(args)
  for line in io.lines(args[1]) do
    if #line > 0 then cookies[#cookies + 1] = line end
  end
  assert(#cookies > 0, "no cookies in " .. args[1])
  mode = args[2] or "rest"
  math.randomseed(os.time() + #cookies)
  n = math.random(0, 1000)  -- threads start at different users
end

function request()
  n = n + 1
  local side, price
  if n % 2 == 0 then side = "buy" else side = "sell" end
  if mode == "cross" then
    price = 2500
  elseif side == "buy" then
    price = 1000 + n % 1000
  else
    price = 3000 + n % 1000
  end
  -- Consecutive orders (a buy and the sell after it) come from different users.
  local cookie = cookies[n % #cookies + 1]
  return wrk.format("POST", "/orders", {
    ["Cookie"] = cookie,
    ["Content-Type"] = "application/x-www-form-urlencoded",
  }, "type=" .. side .. "&amount=1&price=" .. price)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "WRK requests=%d duration_us=%d non2xx=%d connect=%d read=%d write=%d timeout=%d " ..
    "p50_us=%d p99_us=%d max_us=%d\n",
    summary.requests, summary.duration, e.status, e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(99), latency.max))
end
