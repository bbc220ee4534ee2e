-- wrk script for Benchmarks/run-aliases.sh: each request creates a new alias (a unique address per
-- thread and request) for a random account through POST /v1/accounts/:id/aliases.
--   wrk … -s Benchmarks/alias-create.lua URL -- ACCOUNTS PREFIX TOKEN
local next_thread = 0
function setup(thread)
    thread:set("thread_id", next_thread)
    next_thread = next_thread + 1
end

function init(args)
    accounts = tonumber(args[1])
    prefix = args[2]
    wrk.headers["Authorization"] = "Bearer " .. args[3]
    wrk.headers["Content-Type"] = "application/json"
    counter = 0
    math.randomseed(thread_id * 7919 + 17)
end

function request()
    counter = counter + 1
    local body = string.format('{"address": "%s-%d-%d@mail.example"}', prefix, thread_id, counter)
    return wrk.format("POST", "/v1/accounts/" .. math.random(1, accounts) .. "/aliases", nil, body)
end
