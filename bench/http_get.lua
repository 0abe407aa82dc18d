-- wrk script for bench/http_bench.sh: one signed-in user GETs one path over and over
-- (GET /info?cursor=N or GET /orders). The request is static, so wrk builds it once.
--   ISUCOIN_BENCH_COOKIE='isucoin_session=...' wrk ... -s bench/http_get.lua URL
-- done() prints one "WRK key=value ..." line that http_bench.sh parses.

wrk.headers["Cookie"] = os.getenv("ISUCOIN_BENCH_COOKIE")

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "WRK requests=%d duration_us=%d non2xx=%d connect=%d read=%d write=%d timeout=%d " ..
    "p50_us=%d p99_us=%d max_us=%d\n",
    summary.requests, summary.duration, e.status, e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(99), latency.max))
end
