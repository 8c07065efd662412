-- Argo CD health of an anvil.dev AutoinstallTemplate (gopher-lua, Lua 5.1): Healthy when it compiles.
local hs = { status = "Progressing", message = "waiting for the anvil operator" }
if obj.status == nil or obj.status.conditions == nil then return hs end
if obj.status.observedGeneration ~= nil and obj.metadata.generation ~= nil and obj.status.observedGeneration < obj.metadata.generation then
  hs.message = "the operator has not seen the latest spec yet"
  return hs
end
for _, c in ipairs(obj.status.conditions) do
  if c.type == "Valid" then
    if c.status == "True" then
      hs.status = "Healthy"
    else
      hs.status = "Degraded"
    end
    hs.message = c.message
    return hs
  end
end
return hs
