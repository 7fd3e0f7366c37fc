"""The Lua scripts behind :class:`dedup_service.store.RedisIndex`, kept in one place.

Each script runs atomically inside Redis. They share a prelude of helpers;
key names are ``P .. <one-letter kind> .. <binary id>`` where ``P`` is the
namespace prefix (``dd{<namespace>}``), see :mod:`dedup_service.store` for the
schema. Every key a script touches carries the same ``{namespace}`` hash
tag, so on Redis Cluster all of them live in one slot (keys computed inside
a script are therefore always local to the node running it).

Record layout (string ``P r <iid>``), bytes:
``0-3`` cluster root iid (big-endian u32), ``4-11`` added (f64 LE),
``12-19`` published (f64 LE, NaN when unknown), ``20-27`` retention bucket
end in ms (u64 BE, doubles as the bucket's key suffix), ``28..28+4P``
signature (uint32 LE), then the external id (UTF-8).
"""

from __future__ import annotations

__all__ = ["ADD", "CLUSTER", "GET", "LINK", "LINKS", "PURGE_SCAN", "REMOVE"]

_PRELUDE = r"""
local function drop_id(v, id)
  local s = 1
  while true do
    local j = string.find(v, id, s, true)
    if not j then return v end
    if (j - 1) % 4 == 0 then return string.sub(v, 1, j - 1) .. string.sub(v, j + 4) end
    s = j + 1
  end
end

local function ext_id(rec, siglen)
  return string.sub(rec, 29 + siglen)
end

-- resolve an external id (by digest) to its iid, checking the stored id
local function resolve(P, idkey, digest, ext, siglen)
  local iid = redis.call('HGET', idkey, digest)
  if not iid then return nil, nil end
  local rec = redis.call('GET', P .. 'r' .. iid)
  if not rec or ext_id(rec, siglen) ~= ext then return nil, nil end
  return iid, rec
end

-- forget one article everywhere; bkeys/bfields are its band buckets
local function remove_doc(P, iid, rec, idkey, digest, bkeys, bfields)
  for i = 1, #bkeys do
    local v = redis.call('HGET', bkeys[i], bfields[i])
    if v then
      local nv = drop_id(v, iid)
      if #nv == 0 then redis.call('HDEL', bkeys[i], bfields[i])
      elseif nv ~= v then redis.call('HSET', bkeys[i], bfields[i], nv) end
    end
  end
  if redis.call('HGET', idkey, digest) == iid then redis.call('HDEL', idkey, digest) end
  local lk = P .. 'l' .. iid
  for _, other in ipairs(redis.call('HKEYS', lk)) do
    redis.call('HDEL', P .. 'l' .. other, iid)
  end
  redis.call('DEL', lk)
  local root = string.sub(rec, 1, 4)
  local mk = P .. 'k' .. root
  if redis.call('ZREM', mk, iid) == 1 then
    local rest = redis.call('ZRANGE', mk, 0, -1)
    if #rest <= 1 then
      redis.call('DEL', mk)
      if #rest == 1 then redis.call('SETRANGE', P .. 'r' .. rest[1], 0, rest[1]) end
    elseif root == iid then
      local nroot = rest[1]
      redis.call('RENAME', mk, P .. 'k' .. nroot)
      for _, m in ipairs(rest) do redis.call('SETRANGE', P .. 'r' .. m, 0, nroot) end
    end
  end
  local tb = string.sub(rec, 21, 28)
  if tb ~= '\0\0\0\0\0\0\0\0' then
    local ek = P .. 'e' .. tb
    local v = redis.call('GET', ek)
    if v then
      local nv = drop_id(v, iid)
      if #nv == 0 then
        redis.call('DEL', ek)
        redis.call('ZREM', P .. 'E', tb)
      elseif nv ~= v then redis.call('SET', ek, nv) end
    end
  end
  redis.call('DEL', P .. 'r' .. iid, P .. 't' .. iid)
  if redis.call('HINCRBY', P .. 'm', 'n', -1) <= 0 then redis.call('DEL', P .. 'm') end
end
"""

#: KEYS: idmap, b1..bB, [old b1..bB]
#: ARGV: P, mode (add|query), layout, siglen, digest, ext, record (no root),
#:       tokens, B, f1..fB, old_iid, old_check, [old f1..fB]
#: Returns {"ok", iid, cand_iid, cand_rec, cand_tokens, ...} or
#:         {"exists", old_iid, old_rec} when the id is stored and no
#:         (matching) old_iid was passed: the caller computes the old bands
#:         and calls again with them.
ADD = _PRELUDE + r"""
local P, mode, layout, siglen = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4])
local digest, ext, rec, tokens = ARGV[5], ARGV[6], ARGV[7], ARGV[8]
local B = tonumber(ARGV[9])
local old_iid, old_check = ARGV[10 + B], ARGV[11 + B]
local mk = P .. 'm'
local cur = redis.call('HGET', mk, 'L')
if cur and cur ~= layout then
  return redis.error_reply('LAYOUT namespace was built with ' .. cur .. ', this index uses ' .. layout)
end
local idkey = KEYS[1]
local prev, prev_rec = resolve(P, idkey, digest, ext, siglen)
if mode == 'add' and prev then
  if (redis.call('GET', P .. 't' .. prev) or '') == tokens then return {'same'} end  -- a retry: nothing to do
  if prev ~= old_iid or string.sub(prev_rec, 5, 12) ~= old_check then
    return {'exists', prev, prev_rec}
  end
end
local seen, ids = {}, {}
for i = 1, B do
  local v = redis.call('HGET', KEYS[1 + i], ARGV[9 + i])
  if v then
    for j = 1, #v, 4 do
      local id = string.sub(v, j, j + 3)
      if not seen[id] and id ~= prev then seen[id] = true; ids[#ids + 1] = id end
    end
  end
end
table.sort(ids)
local out = {'ok', ''}
for _, id in ipairs(ids) do
  local r = redis.call('GET', P .. 'r' .. id)
  if r then
    out[#out + 1] = id; out[#out + 1] = r
    out[#out + 1] = redis.call('GET', P .. 't' .. id) or ''
  end
end
if mode ~= 'add' then return out end
if prev then
  local okeys, ofields = {}, {}
  for i = 1, B do okeys[i] = KEYS[1 + B + i]; ofields[i] = ARGV[11 + B + i] end
  remove_doc(P, prev, prev_rec, idkey, digest, okeys, ofields)
end
if not redis.call('HGET', mk, 'L') then redis.call('HSET', mk, 'L', layout) end
local iid = struct.pack('>I4', redis.call('HINCRBY', mk, 's', 1))
redis.call('HINCRBY', mk, 'n', 1)
redis.call('SET', P .. 'r' .. iid, iid .. rec)
if #tokens > 0 then redis.call('SET', P .. 't' .. iid, tokens) end
redis.call('HSET', idkey, digest, iid)
for i = 1, B do
  local k, f = KEYS[1 + i], ARGV[9 + i]
  local v = redis.call('HGET', k, f)
  if v then redis.call('HSET', k, f, v .. iid) else redis.call('HSET', k, f, iid) end
end
local tb = string.sub(rec, 17, 24)
if tb ~= '\0\0\0\0\0\0\0\0' then
  redis.call('APPEND', P .. 'e' .. tb, iid)
  local hi, lo = struct.unpack('>I4I4', tb)
  redis.call('ZADD', P .. 'E', 'NX', hi * 4294967296 + lo, tb)
end
out[2] = iid
return out
"""

#: KEYS: idmap. ARGV: P, siglen, digest, ext. Returns {iid, rec, tokens} or {}.
GET = _PRELUDE + r"""
local iid, rec = resolve(ARGV[1], KEYS[1], ARGV[3], ARGV[4], tonumber(ARGV[2]))
if not iid then return {} end
return {iid, rec, redis.call('GET', ARGV[1] .. 't' .. iid) or ''}
"""

#: KEYS: idmap, b1..bB. ARGV: P, siglen, digest, ext, iid, check, f1..fB.
#: Returns 1 removed, -1 when that record is gone or changed (caller re-reads).
REMOVE = _PRELUDE + r"""
local P, siglen, iid = ARGV[1], tonumber(ARGV[2]), ARGV[5]
local rec = redis.call('GET', P .. 'r' .. iid)
if not rec or ext_id(rec, siglen) ~= ARGV[4] or string.sub(rec, 5, 12) ~= ARGV[6] then return -1 end
local bkeys, bfields = {}, {}
for i = 2, #KEYS do bkeys[#bkeys + 1] = KEYS[i]; bfields[#bfields + 1] = ARGV[5 + i] end
remove_doc(P, iid, rec, KEYS[1], ARGV[3], bkeys, bfields)
return 1
"""

#: KEYS: idmap a, idmap b. ARGV: P, siglen, digest a, ext a, digest b, ext b,
#: the link as seen from a, the link as seen from b. Returns the surviving root's record, or an error for unknown ids.
LINK = _PRELUDE + r"""
local P, siglen = ARGV[1], tonumber(ARGV[2])
local ia, ra = resolve(P, KEYS[1], ARGV[3], ARGV[4], siglen)
if not ia then return redis.error_reply('NOTFOUND ' .. ARGV[4]) end
local ib, rb = resolve(P, KEYS[2], ARGV[5], ARGV[6], siglen)
if not ib then return redis.error_reply('NOTFOUND ' .. ARGV[6]) end
redis.call('HSET', P .. 'l' .. ia, ib, ARGV[7])
redis.call('HSET', P .. 'l' .. ib, ia, ARGV[8])
local ca, cb = string.sub(ra, 1, 4), string.sub(rb, 1, 4)
if ca == cb then return redis.call('GET', P .. 'r' .. ca) end
local keep, drop = ca, cb
if cb < ca then keep, drop = cb, ca end
local kk, dk = P .. 'k' .. keep, P .. 'k' .. drop
local moved = redis.call('ZRANGE', dk, 0, -1)
if #moved == 0 then moved = {drop} end
if redis.call('EXISTS', kk) == 0 then
  redis.call('ZADD', kk, struct.unpack('>I4', keep), keep)
end
for _, m in ipairs(moved) do
  redis.call('ZADD', kk, struct.unpack('>I4', m), m)
  redis.call('SETRANGE', P .. 'r' .. m, 0, keep)
end
redis.call('DEL', dk)
return redis.call('GET', P .. 'r' .. keep)
"""

#: KEYS: idmap. ARGV: P, siglen, digest, ext.
#: Returns {root ext id, then per member in insertion order: ext id,
#: published (8 bytes, f64 LE, NaN when unknown), words} or {} when unknown:
#: what choosing the canonical copy needs, without signatures or words.
CLUSTER = _PRELUDE + r"""
local P, siglen = ARGV[1], tonumber(ARGV[2])
local iid, rec = resolve(P, KEYS[1], ARGV[3], ARGV[4], siglen)
if not iid then return {} end
local root = string.sub(rec, 1, 4)
local out = {ext_id(redis.call('GET', P .. 'r' .. root), siglen)}
local ms = redis.call('ZRANGE', P .. 'k' .. root, 0, -1)
if #ms == 0 then ms = {root} end
for _, m in ipairs(ms) do
  local r = redis.call('GET', P .. 'r' .. m)
  out[#out + 1] = ext_id(r, siglen)
  out[#out + 1] = string.sub(r, 13, 20)
  out[#out + 1] = math.floor(redis.call('STRLEN', P .. 't' .. m) / 4)
end
return out
"""

#: KEYS: idmap. ARGV: P, siglen, digest, ext.
#: Returns {other ext id, link value, ...} for every stored link.
LINKS = _PRELUDE + r"""
local P, siglen = ARGV[1], tonumber(ARGV[2])
local iid = resolve(P, KEYS[1], ARGV[3], ARGV[4], siglen)
if not iid then return {} end
local kv = redis.call('HGETALL', P .. 'l' .. iid)
local out = {}
for i = 1, #kv, 2 do
  local r = redis.call('GET', P .. 'r' .. kv[i])
  if r then out[#out + 1] = ext_id(r, siglen); out[#out + 1] = kv[i + 1] end
end
return out
"""

#: KEYS: (none). ARGV: P, cutoff_ms, limit.
#: Returns {iid, rec, ...} for up to ``limit`` live articles in retention
#: buckets that ended at or before the cutoff; drops dead ids and empty
#: buckets on the way (read-mostly: the caller removes the live ones).
PURGE_SCAN = r"""
local P, cutoff, limit = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local out = {}
local bks = redis.call('ZRANGEBYSCORE', P .. 'E', '-inf', cutoff, 'LIMIT', 0, 4)
for _, b in ipairs(bks) do
  local ek = P .. 'e' .. b
  local v = redis.call('GET', ek) or ''
  local live = 0
  for j = 1, #v, 4 do
    if #out >= 2 * limit then return out end
    local id = string.sub(v, j, j + 3)
    local r = redis.call('GET', P .. 'r' .. id)
    if r and string.sub(r, 21, 28) == b then
      out[#out + 1] = id; out[#out + 1] = r; live = live + 1
    end
  end
  if live == 0 then
    redis.call('DEL', ek)
    redis.call('ZREM', P .. 'E', b)
  end
end
return out
"""
