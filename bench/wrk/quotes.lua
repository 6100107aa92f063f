-- POST /api/v1/quotes: a renewal quote of the customer's five eligible annual subscriptions,
-- each request for the next customer, signed in as that customer's buyer.
dofile(debug.getinfo(1, "S").source:sub(2):match("(.*/)") .. "common.lua")

function build(customer)
   local lines = {}
   for _, sid in ipairs(customer.subscriptions) do
      table.insert(lines, '{"subscription_id": "' .. sid .. '"}')
   end
   return wrk.format("POST", "/api/v1/quotes", {
      ["Authorization"] = "Bearer " .. customer.token,
      ["Content-Type"] = "application/json",
   }, '{"type": "renewal", "lines": [' .. table.concat(lines, ", ") .. "]}")
end
