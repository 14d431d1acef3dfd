/**
 * The Lua scripts of the Redis store (docs/scaling.md "Data in Redis"). Redis
 * runs a script as one atomic step, so each ChatStore method is one script:
 * the decision and the change cannot be split by another node's call, which
 * is the cluster's form of the lock discipline in chat-store.ts. A script
 * that changes what other nodes must know PUBLISHes it in the same step, so
 * every node's feed sees the changes (and group messages) in the one order
 * Redis applied them.
 *
 * Every script gets the key prefix as ARGV[1] and this node's id as ARGV[2].
 * Names are folded with string.lower: names are ASCII (docs/usage.md "Names").
 */

/** Helpers shared by the scripts: key names, leaving a group, taking a client offline. */
const PRELUDE = `
local P = ARGV[1]
local NODE = ARGV[2]
local function k(...) return P .. ':' .. table.concat({...}, ':') end
local function publish(json) redis.call('PUBLISH', k('events'), json) end
local function q(s) return cjson.encode(s) end
local function tick() return redis.call('INCR', k('ctr')) end
-- A member's groups: the sorted set mg:<fm> of folded groups (in join order) and its name as shown in mname.
local function leave(fm, only, origin)
  local fg = only
  if not fg or fg == '' then fg = redis.call('ZRANGE', k('mg', fm), 0, 0)[1] end
  if not fg or not redis.call('ZSCORE', k('mg', fm), fg) then return false end
  local shownMember = redis.call('HGET', k('mname'), fm)
  redis.call('ZREM', k('members', fg), shownMember)
  redis.call('ZREM', k('mg', fm), fg)
  if redis.call('EXISTS', k('mg', fm)) == 0 then redis.call('HDEL', k('mname'), fm) end
  local rec = redis.call('HGET', k('grec'), fg)
  local shown = rec and cjson.decode(rec).name or fg
  publish('{"t":"left","node":' .. q(origin) .. ',"group":' .. q(shown) .. ',"member":' .. q(shownMember) .. '}')
  return shown
end
local function leaveAll(fm, origin)
  local left = {}
  for _, fg in ipairs(redis.call('ZRANGE', k('mg', fm), 0, -1)) do left[#left + 1] = leave(fm, fg, origin) end
  return left
end
local function offline(fm, origin, maxOffline)
  local entry = cjson.decode(redis.call('HGET', k('entry'), fm))
  entry.online = false
  local json = cjson.encode(entry)
  redis.call('HSET', k('entry'), fm, json)
  redis.call('HDEL', k('owner'), fm)
  redis.call('ZADD', k('offline'), tick(), fm)
  while redis.call('ZCARD', k('offline')) > maxOffline do
    local oldest = redis.call('ZPOPMIN', k('offline'))[1]
    redis.call('HDEL', k('entry'), oldest)
    redis.call('ZREM', k('order'), oldest)
  end
  publish('{"t":"table","node":' .. q(origin) .. ',"entry":' .. json .. '}')
  return json, leaveAll(fm, origin)
end
`;

/** ARGV: P, node, folded, name, host, port, key, owner tag, account JSON, ekey, ekeySig ('' when none). */
export const REGISTER = `${PRELUDE}
local fm, name, host, port, key, tag = ARGV[3], ARGV[4], ARGV[5], tonumber(ARGV[6]), ARGV[7], ARGV[8]
local ekey, ekeySig = ARGV[10], ARGV[11]
local acct = redis.call('HGET', k('acct'), fm)
local shown = name
local a = nil
if acct then
  a = cjson.decode(acct)
  if a.key ~= key then return {'name_owned'} end
  shown = a.name
end
local holder = redis.call('HGET', k('owner'), fm)
if holder then return {'name_in_use', holder} end
if not acct then
  redis.call('HSET', k('acct'), fm, ARGV[9])
elseif ekey ~= '' and (a.ekey ~= ekey or a.ekeySig ~= ekeySig) then
  a.ekey, a.ekeySig = ekey, ekeySig
  redis.call('HSET', k('acct'), fm, cjson.encode(a))
end
local enc = ''
if ekey ~= '' then enc = ',"ekey":' .. q(ekey) .. ',"ekeySig":' .. q(ekeySig) end
local json = '{"name":' .. q(shown) .. ',"host":' .. q(host) .. ',"port":' .. port .. ',"online":true,"key":' .. q(key) .. enc .. '}'
redis.call('HSET', k('entry'), fm, json)
redis.call('ZADD', k('order'), 'NX', tick(), fm)
redis.call('HSET', k('owner'), fm, tag)
redis.call('ZREM', k('offline'), fm)
redis.call('SADD', k('node', NODE), fm)
publish('{"t":"table","node":' .. q(NODE) .. ',"entry":' .. json .. '}')
return {'ok', json}
`;

/** ARGV: P, node, folded, owner tag, max offline entries. */
export const DISCONNECT = `${PRELUDE}
local fm = ARGV[3]
if redis.call('HGET', k('owner'), fm) ~= ARGV[4] then return false end
redis.call('SREM', k('node', NODE), fm)
local json, left = offline(fm, NODE, tonumber(ARGV[5]))
return {json, unpack(left)}
`;

/** ARGV: P, node, folded, owner tag. */
export const DELETE_ACCOUNT = `${PRELUDE}
local fm = ARGV[3]
local acct = redis.call('HGET', k('acct'), fm)
if not acct or redis.call('HGET', k('owner'), fm) ~= ARGV[4] then return false end
local name = cjson.decode(acct).name
for _, key in ipairs({'acct', 'entry', 'owner'}) do redis.call('HDEL', k(key), fm) end
redis.call('ZREM', k('order'), fm)
redis.call('ZREM', k('offline'), fm)
redis.call('SREM', k('node', NODE), fm)
redis.call('DEL', k('mbox', fm), k('mboxid', fm))
local gone = '{"name":' .. q(name) .. ',"host":"0.0.0.0","port":0,"online":false,"key":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="}'
publish('{"t":"table","node":' .. q(NODE) .. ',"entry":' .. gone .. '}')
return {'ok', unpack(leaveAll(fm, NODE))}
`;

/** Every table entry in first-registration order. ARGV: P, node. */
export const CLIENTS = `${PRELUDE}
local out = {}
for _, fm in ipairs(redis.call('ZRANGE', k('order'), 0, -1)) do
  local e = redis.call('HGET', k('entry'), fm)
  if e then out[#out + 1] = e end
end
return out
`;

/** ARGV: P, node, folded group, group record JSON, folded creator, max groups, max per creator ('' = none). */
export const CREATE_GROUP = `${PRELUDE}
local fg, fc = ARGV[3], ARGV[5]
if redis.call('HEXISTS', k('grec'), fg) == 1 then return 'group_exists' end
if ARGV[6] ~= '' and redis.call('ZCARD', k('groups')) >= tonumber(ARGV[6]) then return 'too_many_groups' end
if ARGV[7] ~= '' and tonumber(redis.call('HGET', k('created'), fc) or '0') >= tonumber(ARGV[7]) then
  return 'group_quota'
end
redis.call('HSET', k('grec'), fg, ARGV[4])
redis.call('ZADD', k('groups'), tick(), fg)
redis.call('HINCRBY', k('created'), fc, 1)
return 'ok'
`;

/** ARGV: P, node, folded group, folded deleter. */
export const DELETE_GROUP = `${PRELUDE}
local fg = ARGV[3]
local rec = redis.call('HGET', k('grec'), fg)
if not rec then return {'no_such_group'} end
local r = cjson.decode(rec)
if string.lower(r.creator) ~= ARGV[4] then return {'not_creator', r.creator} end
local members = redis.call('ZRANGE', k('members', fg), 0, -1)
for _, m in ipairs(members) do
  local fm = string.lower(m)
  redis.call('ZREM', k('mg', fm), fg)
  if redis.call('EXISTS', k('mg', fm)) == 0 then redis.call('HDEL', k('mname'), fm) end
end
redis.call('DEL', k('members', fg), k('hist', fg), k('seq', fg))
redis.call('HDEL', k('grec'), fg)
redis.call('ZREM', k('groups'), fg)
redis.call('HINCRBY', k('created'), string.lower(r.creator), -1)
publish('{"t":"groupDeleted","node":' .. q(NODE) .. ',"group":' .. q(r.name) .. ',"members":' .. cjson.encode(members) .. '}')
return {'ok', cjson.encode(members)}
`;

/** Group names in creation order. ARGV: P, node. */
export const GROUPS = `${PRELUDE}
local out = {}
for _, fg in ipairs(redis.call('ZRANGE', k('groups'), 0, -1)) do
  out[#out + 1] = cjson.decode(redis.call('HGET', k('grec'), fg)).name
end
return out
`;

/** ARGV: P, node, folded member, member, folded group, keep ('1': stay in the other groups). */
export const JOIN = `${PRELUDE}
local fm, member, fg = ARGV[3], ARGV[4], ARGV[5]
local rec = redis.call('HGET', k('grec'), fg)
if not rec then return {'no_such_group'} end
local shown = cjson.decode(rec).name
if redis.call('ZSCORE', k('mg', fm), fg) then return {'ok', false, shown} end
local left = false
if ARGV[6] ~= '1' then
  for _, g in ipairs(leaveAll(fm, NODE)) do left = g end
end
redis.call('ZADD', k('members', fg), tick(), member)
redis.call('ZADD', k('mg', fm), tick(), fg)
redis.call('HSET', k('mname'), fm, member)
publish('{"t":"joined","node":' .. q(NODE) .. ',"group":' .. q(shown) .. ',"member":' .. q(member) .. '}')
return {'ok', left, shown}
`;

/** ARGV: P, node, folded member, folded group it must be in ('' = its first). */
export const LEAVE = `${PRELUDE}
return leave(ARGV[3], ARGV[4], NODE)
`;

/** Members in join order, or false for no such group. ARGV: P, node, folded group. */
export const MEMBERS = `${PRELUDE}
if redis.call('HEXISTS', k('grec'), ARGV[3]) == 0 then return false end
return redis.call('ZRANGE', k('members', ARGV[3]), 0, -1)
`;

/**
 * Appends to the group's history and publishes it, in one step: the seq
 * (INCR) and the order every node's feed sees are the same order.
 * ARGV: P, node, folded group, from JSON, text JSON, at, history limit.
 */
export const APPEND = `${PRELUDE}
local fg = ARGV[3]
local rec = redis.call('HGET', k('grec'), fg)
if not rec then return false end
local seq = redis.call('INCR', k('seq', fg))
local limit = tonumber(ARGV[7])
if limit > 0 then
  redis.call('RPUSH', k('hist', fg), '{"seq":' .. seq .. ',"from":' .. ARGV[4] .. ',"text":' .. ARGV[5] .. ',"at":' .. ARGV[6] .. '}')
  redis.call('LTRIM', k('hist', fg), -limit, -1)
end
publish('{"t":"msg","node":' .. q(NODE) .. ',"group":' .. q(cjson.decode(rec).name) .. ',"seq":' .. seq .. ',"from":' .. ARGV[4] .. ',"text":' .. ARGV[5] .. '}')
return seq
`;

/** ARGV: P, node, folded sender, folded receiver, message id, message JSON, limit. */
export const SAVE = `${PRELUDE}
local sender = redis.call('HGET', k('acct'), ARGV[3])
if not sender or redis.call('HEXISTS', k('acct'), ARGV[4]) == 0 then return 'unknown_client' end
if redis.call('HEXISTS', k('mboxid', ARGV[4]), ARGV[5]) == 1 then return 'saved' end
if redis.call('LLEN', k('mbox', ARGV[4])) >= tonumber(ARGV[7]) then return 'mailbox_full' end
redis.call('RPUSH', k('mbox', ARGV[4]), '{"message":' .. ARGV[6] .. ',"senderKey":' .. q(cjson.decode(sender).key) .. '}')
redis.call('HSET', k('mboxid', ARGV[4]), ARGV[5], 1)
return 'saved'
`;

/** ARGV: P, node, folded name, ids... */
export const DELETE_SAVED = `${PRELUDE}
local gone = {}
for i = 4, #ARGV do
  gone[ARGV[i]] = true
  redis.call('HDEL', k('mboxid', ARGV[3]), ARGV[i])
end
local box = redis.call('LRANGE', k('mbox', ARGV[3]), 0, -1)
redis.call('DEL', k('mbox', ARGV[3]))
for _, item in ipairs(box) do
  if not gone[cjson.decode(item).message.id] then redis.call('RPUSH', k('mbox', ARGV[3]), item) end
end
return 1
`;

/**
 * After an outage: this node's names whose connection is gone (their
 * disconnect could not reach Redis) go offline now. ARGV: P, node, max
 * offline, the owner tags still connected here...
 */
export const RECONCILE = `${PRELUDE}
local live = {}
for i = 4, #ARGV do live[ARGV[i]] = true end
local n = 0
for _, fm in ipairs(redis.call('SMEMBERS', k('node', NODE))) do
  local tag = redis.call('HGET', k('owner'), fm)
  if not tag or string.sub(tag, 1, #NODE + 1) ~= NODE .. ':' or not live[tag] then
    redis.call('SREM', k('node', NODE), fm)
    if tag and string.sub(tag, 1, #NODE + 1) == NODE .. ':' then
      offline(fm, NODE, tonumber(ARGV[3]))
      n = n + 1
    end
  end
end
return n
`;

/**
 * A node without goodbye (its heartbeat key expired) or one saying goodbye:
 * its clients go offline and leave their groups, published as if that node
 * had done it. Exactly one caller does it: the one whose SREM removed the
 * node from the set. ARGV: P, node (the caller), dead node, max offline.
 */
export const REAP = `${PRELUDE}
local dead = ARGV[3]
if redis.call('EXISTS', k('alive', dead)) == 1 and dead ~= NODE then return false end
if redis.call('SREM', k('nodes'), dead) == 0 and dead ~= NODE then return false end
local n = 0
for _, fm in ipairs(redis.call('SMEMBERS', k('node', dead))) do
  local tag = redis.call('HGET', k('owner'), fm)
  if tag and string.sub(tag, 1, #dead + 1) == dead .. ':' then
    offline(fm, dead, tonumber(ARGV[4]))
    n = n + 1
  end
end
redis.call('DEL', k('node', dead))
return n
`;
