-- GET /api/v1/renewal-groups, each request signed in as the next customer's buyer.
dofile(debug.getinfo(1, "S").source:sub(2):match("(.*/)") .. "common.lua")

function build(customer)
   return wrk.format("GET", "/api/v1/renewal-groups", {
      ["Authorization"] = "Bearer " .. customer.token,
   })
end
