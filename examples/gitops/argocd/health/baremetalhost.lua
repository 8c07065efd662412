-- Argo CD health of an anvil.dev BareMetalHost (gopher-lua, Lua 5.1).
-- Healthy: installed (Provisioned) or nothing to do (Ready). Progressing: anvil is working on it.
-- Degraded: the install failed with its retries spent, or the spec cannot be acted on.
-- Suspended: seen on the network but not declared (Discovered): it waits for a person to give it a template.
local hs = { status = "Progressing", message = "waiting for the anvil operator" }
local function condition(t)
  if obj.status == nil or obj.status.conditions == nil then return nil end
  for _, c in ipairs(obj.status.conditions) do
    if c.type == t then return c end
  end
  return nil
end
if obj.metadata.deletionTimestamp ~= nil then
  hs.message = "deleting"
  return hs
end
if obj.status == nil or obj.status.state == nil then return hs end
if obj.status.observedGeneration ~= nil and obj.metadata.generation ~= nil and obj.status.observedGeneration < obj.metadata.generation then
  hs.message = "the operator has not seen the latest spec yet"
  return hs
end
local state = obj.status.state
local ready = condition("Ready")
local detail = obj.status.errorMessage
if (detail == nil or detail == "") and ready ~= nil then detail = ready.message end
if detail == nil then detail = "" end
if state == "Provisioned" or state == "Ready" then
  hs.status = "Healthy"
  hs.message = state
elseif state == "Failed" then
  hs.status = "Degraded"
  hs.message = "Failed: " .. detail
elseif state == "Discovered" then
  hs.status = "Suspended"
  hs.message = "Discovered on the network; give it a templateRef to install it"
elseif state == "Pending" and obj.status.errorMessage ~= nil and obj.status.errorMessage ~= "" then
  -- Pending with an error: the spec cannot be acted on (missing template or Secret, MAC in use, bad kernel args...).
  local kind = obj.status.errorType
  if kind == nil then kind = "Error" end
  hs.status = "Degraded"
  hs.message = kind .. ": " .. obj.status.errorMessage
else
  hs.message = state
  if obj.status.currentInstall ~= nil and obj.status.currentInstall.progress ~= nil then
    hs.message = state .. " " .. obj.status.currentInstall.progress
  end
end
return hs
