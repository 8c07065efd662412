-- Argo CD health of an anvil.dev ProxmoxTemplate (gopher-lua, Lua 5.1).
local hs = { status = "Progressing", message = "waiting for the anvil operator" }
if obj.metadata.deletionTimestamp ~= nil then
  hs.message = "deleting its templates"
  return hs
end
if obj.status == nil or obj.status.phase == nil then return hs end
if obj.status.observedGeneration ~= nil and obj.metadata.generation ~= nil and obj.status.observedGeneration < obj.metadata.generation then
  hs.message = "the operator has not seen the latest spec yet"
  return hs
end
local phase = obj.status.phase
local message = obj.status.message
if message == nil then message = "" end
if phase == "Ready" then
  hs.status = "Healthy"
  hs.message = "template ready"
  if obj.status.templateName ~= nil then hs.message = "template " .. obj.status.templateName .. " ready" end
elseif phase == "Failed" then
  hs.status = "Degraded"
  hs.message = "Failed: " .. message
else
  hs.message = phase
  if message ~= "" then hs.message = phase .. ": " .. message end
end
return hs
