-- wrk -s client-addresses.lua <url> -- <n>: every request names a client address
-- (CF-Connecting-IP, as Cloudflare sets it on every request), the next of n addresses in
-- turn, so n clients share the load the way many clients of one colo do. The addresses are
-- the RFC 5737 documentation ranges (192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24: at most
-- 768). The requests are formatted once in init: a per-request wrk.format would cost the
-- client CPU the server needs on a 2-core machine.
local requests = {}
local count = 0
local nextIndex = 0

function init(args)
  count = tonumber(args[1]) or 256
  local nets = { "192.0.2.", "198.51.100.", "203.0.113." }
  if count < 1 or count > 256 * #nets then error("client-addresses.lua: 1 to 768 addresses, got " .. tostring(args[1])) end
  for i = 0, count - 1 do
    local ip = nets[math.floor(i / 256) + 1] .. (i % 256)
    requests[i + 1] = wrk.format(nil, nil, { ["CF-Connecting-IP"] = ip })
  end
end

function request()
  nextIndex = nextIndex % count + 1
  return requests[nextIndex]
end
