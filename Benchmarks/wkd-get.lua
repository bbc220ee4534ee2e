-- wrk: GET the direct-method URL of the hot entries, round robin, as clients ask (Host: bench.example).
-- Arguments: HASHES_FILE HOT (how many of the first hashes are asked).
local hashes = {}
local index = 0

function init(args)
    local hot = tonumber(args[2])
    for line in io.lines(args[1]) do
        if #hashes >= hot then break end
        hashes[#hashes + 1] = line
    end
    index = math.random(#hashes)
end

function request()
    index = index % #hashes + 1
    return wrk.format("GET", "/.well-known/openpgpkey/hu/" .. hashes[index], { ["Host"] = "bench.example" })
end
