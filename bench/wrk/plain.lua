-- GET of one path with no token, for the server's limits: /healthz (a route that runs SELECT 1
-- through the thread pool) and /docs (an async route that touches no database).
-- Argument after "--": the path.
dofile(debug.getinfo(1, "S").source:sub(2):match("(.*/)") .. "common.lua")

function build(path)
   return wrk.format("GET", path)
end
