-- wrk script: each request takes the next path from paths.txt (written by paths.py), so the
-- 16 connections cycle through all the queries.
-- usage: wrk -t2 -c16 -d20s -s benches/http/rotate.lua http://127.0.0.1:7700
local paths = {}
for line in io.lines(os.getenv("KOTAE_PATHS") or "paths.txt") do
  paths[#paths + 1] = line
end
local i = 0
request = function()
  i = i % #paths + 1
  return wrk.format("GET", paths[i])
end
