-- wrk script for the peer benchmark: POST /v1/chat/completions with a small JSON body.
-- Configured by environment variables (wrk's LuaJIT has os.getenv):
--   BENCH_STREAM=1          ask for "stream": true (SSE)
--   BENCH_HEADERS="a: b|c: d"  extra request headers (Portkey's routing headers)
--   BENCH_THREADS=N         wrk -t N (init() runs before later threads exist, so say it)
--   BENCH_SESSIONS=FILE     one X-Hermes-Session-Id per line; each request continues the next
--                           session round-robin (thread t of n takes lines t, t+n, t+2n, …, so
--                           no two threads share a session and, with far more sessions than
--                           connections, no session is asked for two turns at once)
-- done() prints one machine-readable line (latencies in µs):
--   BENCH_RESULT {"requests":…,"duration_us":…,"rps":…,"p50_us":…,"p90_us":…,"p99_us":…,
--                 "mean_us":…,"max_us":…,"non2xx":…,"bad_body":…,"eof_delimited":…,
--                 "err_connect":…,"err_read":…,"err_write":…,"err_timeout":…,
--                 "wrk_status_errors":…,"bytes":…}

local stream = os.getenv("BENCH_STREAM") == "1"
local sessions_file = os.getenv("BENCH_SESSIONS")
local extra = os.getenv("BENCH_HEADERS") or ""

local path = "/v1/chat/completions"
local body = '{"model":"demo-model","messages":[{"role":"user","content":"Hello, benchmark! Say something short."}],"stream":'
  .. (stream and "true" or "false") .. '}'

local function base_headers()
  local h = {
    ["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer sk-bench",
  }
  for pair in string.gmatch(extra, "[^|]+") do
    local k, v = string.match(pair, "^%s*([^:]+):%s*(.-)%s*$")
    if k then h[k] = v end
  end
  return h
end

local threads = {}
local counter = 0

function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

local fixed = nil      -- the one request, when not continuing sessions
local mine = nil       -- this thread's sessions
local next_index = 1
local headers = nil

function init(args)
  headers = base_headers()
  if sessions_file and sessions_file ~= "" then
    local all = {}
    for line in io.lines(sessions_file) do
      if line ~= "" then table.insert(all, line) end
    end
    local n = tonumber(os.getenv("BENCH_THREADS") or "1")
    mine = {}
    for i = (tid or 0) + 1, #all, n do table.insert(mine, all[i]) end
    if #mine == 0 then error("no sessions for thread " .. tostring(tid) .. " in " .. sessions_file) end
  else
    fixed = wrk.format("POST", path, headers, body)
  end
end

function request()
  if fixed then return fixed end
  headers["X-Hermes-Session-Id"] = mine[next_index]
  next_index = next_index % #mine + 1
  return wrk.format("POST", path, headers, body)
end

-- Every answer is checked: non-2xx, a 2xx body without the expected end ("[DONE]" for streams,
-- the upstream's content otherwise), and answers delimited by closing the connection (no
-- Content-Length, not chunked: wrk completes them at EOF but also counts a read error each).
non2xx, bad_body, eof_delimited = 0, 0, 0  -- globals: done() reads them with thread:get
local expect = stream and "[DONE]" or "bench upstream."

function response(status, headers, body)
  if status < 200 or status > 299 then
    non2xx = non2xx + 1
  elseif not string.find(body, expect, 1, true) then
    bad_body = bad_body + 1
  end
  local framed = false
  for k, v in pairs(headers) do
    local key = string.lower(k)
    if key == "content-length" or (key == "transfer-encoding" and string.find(string.lower(v), "chunked", 1, true)) then
      framed = true
      break
    end
  end
  if not framed then eof_delimited = eof_delimited + 1 end
end

function done(summary, latency, requests)
  local e = summary.errors
  local secs = summary.duration / 1e6
  local n2, bb, eof = 0, 0, 0
  for _, t in ipairs(threads) do
    n2 = n2 + (t:get("non2xx") or 0)
    bb = bb + (t:get("bad_body") or 0)
    eof = eof + (t:get("eof_delimited") or 0)
  end
  io.write(string.format(
    'BENCH_RESULT {"requests":%d,"duration_us":%d,"rps":%.1f,"p50_us":%d,"p90_us":%d,"p99_us":%d,' ..
    '"mean_us":%.1f,"max_us":%d,"non2xx":%d,"bad_body":%d,"eof_delimited":%d,' ..
    '"err_connect":%d,"err_read":%d,"err_write":%d,"err_timeout":%d,"wrk_status_errors":%d,"bytes":%d}\n',
    summary.requests, summary.duration, summary.requests / secs,
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.mean, latency.max, n2, bb, eof,
    e.connect, e.read, e.write, e.timeout, e.status, summary.bytes))
end
