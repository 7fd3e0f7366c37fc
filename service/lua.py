"""The Lua scripts behind :class:`dedup_service.store.RedisIndex`, kept in one place.

Each script runs atomically inside Redis and is registered through redis-py
(:func:`register`: ``client.register_script``, which loads a script again on
``NOSCRIPT``). Every script starts with the prelude that
:func:`dedup_service.layout.lua_prelude` generates from the record layout
table, then the shared helpers below; the hand-written parts read records
only through those generated names (``rec_root(rec)``, ``IID_LEN`` ...),
never through bare byte offsets (a test checks it).

Conventions shared by every script: ``KEYS[1]`` is the namespace's meta
hash ``P m``; ``ARGV[1]`` the key prefix ``P`` (``dd{<namespace>}``),
``ARGV[2]`` the layout string, ``ARGV[3]`` the signature length in bytes.
A script refuses a namespace stored with another layout (error
``LAYOUT <stored layout>``). The other keys are computed inside the
scripts from ``P``; they carry the same ``{namespace}`` hash tag, so on
Redis Cluster they live in the slot of ``KEYS[1]`` (passing them all in
``KEYS`` is issue 18's work).
"""

from __future__ import annotations

from dedup_service.layout import lua_prelude

__all__ = ["ADD", "CLUSTER", "GET", "LAYOUT_ERROR", "LINK", "LINKS", "NOTFOUND_ERROR", "PURGE_SCAN", "REMOVE",
           "SCRIPTS", "register"]

#: Error replies the scripts give, translated by ``RedisIndex``.
LAYOUT_ERROR = "LAYOUT"
NOTFOUND_ERROR = "NOTFOUND"

_HELPERS = f"""
local E_LAYOUT, E_NOTFOUND = '{LAYOUT_ERROR} ', '{NOTFOUND_ERROR} '
""" + r"""
local P, layout, siglen = ARGV[1], ARGV[2], tonumber(ARGV[3])
local mk = KEYS[1]
local stored_layout = redis.call('HGET', mk, 'L')
if stored_layout and stored_layout ~= layout then
  return redis.error_reply(E_LAYOUT .. stored_layout)
end

local function drop_id(v, id)
  local s = 1
  while true do
    local j = string.find(v, id, s, true)
    if not j then return v end
    if (j - 1) % IID_LEN == 0 then return string.sub(v, 1, j - 1) .. string.sub(v, j + IID_LEN) end
    s = j + 1
  end
end

-- resolve an external id (by digest) to its iid, checking the stored id
local function resolve(idkey, digest, ext)
  local iid = redis.call('HGET', idkey, digest)
  if not iid then return nil, nil end
  local rec = redis.call('GET', P .. 'r' .. iid)
  if not rec or rec_ext(rec, siglen) ~= ext then return nil, nil end
  return iid, rec
end

-- every packed iid of a value, in order
local function iids(v)
  local out = {}
  for j = 1, #v, IID_LEN do out[#out + 1] = string.sub(v, j, j + IID_LEN - 1) end
  return out
end

-- forget one article everywhere; bkeys/bfields are its band buckets
local function remove_doc(iid, rec, idkey, digest, bkeys, bfields)
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
  local root = rec_root(rec)
  local ck = P .. 'k' .. root
  if redis.call('ZREM', ck, iid) == 1 then
    local rest = redis.call('ZRANGE', ck, 0, -1)
    if #rest <= 1 then
      redis.call('DEL', ck)
      if #rest == 1 then redis.call('SETRANGE', P .. 'r' .. rest[1], REC_ROOT_OFFSET, rest[1]) end
    elseif root == iid then
      local nroot = rest[1]
      redis.call('RENAME', ck, P .. 'k' .. nroot)
      for _, m in ipairs(rest) do redis.call('SETRANGE', P .. 'r' .. m, REC_ROOT_OFFSET, nroot) end
    end
  end
  local tb = rec_bucket(rec)
  if tb ~= NO_BUCKET then
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
  if redis.call('HINCRBY', mk, 'n', -1) <= 0 then redis.call('DEL', mk) end
end

-- up to `limit` live articles {iid, rec, ...} in retention buckets that ended
-- at or before `cutoff` (ms); drops dead ids' empty buckets on the way
local function expired(cutoff, limit)
  local out, found = {}, 0
  if limit <= 0 then return out end
  for _, b in ipairs(redis.call('ZRANGEBYSCORE', P .. 'E', '-inf', cutoff, 'LIMIT', 0, limit)) do
    local ek = P .. 'e' .. b
    local live = 0
    for _, id in ipairs(iids(redis.call('GET', ek) or '')) do
      if found >= limit then return out end
      local r = redis.call('GET', P .. 'r' .. id)
      if r and rec_bucket(r) == b then
        out[#out + 1] = id; out[#out + 1] = r; live = live + 1; found = found + 1
      end
    end
    if live == 0 then
      redis.call('DEL', ek)
      redis.call('ZREM', P .. 'E', b)
    end
  end
  return out
end
"""

_PRELUDE = lua_prelude() + _HELPERS

#: KEYS: meta, idmap, b1..bB, [old b1..bB]
#: ARGV: P, layout, siglen, mode (add|query), digest, ext, record (root
#:       zero), tokens, B, purge cutoff (ms), purge limit (0: none),
#:       old_iid, old_check, f1..fB, [old f1..fB]
#: Returns, with ``expired`` the purge scan's {iid, rec, ...} (removed by
#: the caller, who knows their bands):
#:   {"ok", expired, iid, {cand_iid, cand_rec, cand_tokens, ...}};
#:   {"same", expired} for a retry (same id, same words: nothing written);
#:   {"exists", expired, old_iid, old_rec} when the id is stored with other
#:   words and no (matching) old_iid was passed: the caller computes the old
#:   bands and calls again with them.
ADD = _PRELUDE + r"""
local mode, digest, ext, rec, tokens = ARGV[4], ARGV[5], ARGV[6], ARGV[7], ARGV[8]
local B = tonumber(ARGV[9])
local gone = expired(tonumber(ARGV[10]), tonumber(ARGV[11]))
local old_iid, old_check = ARGV[12], ARGV[13]
local F = 13  -- ARGV position: the band fields follow it
local idkey = KEYS[2]
local prev, prev_rec = resolve(idkey, digest, ext)
if mode == 'add' and prev then
  if (redis.call('GET', P .. 't' .. prev) or '') == tokens then return {'same', gone} end
  if prev ~= old_iid or rec_added(prev_rec) ~= old_check then
    return {'exists', gone, prev, prev_rec}
  end
end
local seen, ids = {}, {}
for i = 1, B do
  local v = redis.call('HGET', KEYS[2 + i], ARGV[F + i])
  if v then
    for _, id in ipairs(iids(v)) do
      if not seen[id] and id ~= prev then seen[id] = true; ids[#ids + 1] = id end
    end
  end
end
table.sort(ids)
local cands = {}
for _, id in ipairs(ids) do
  local r = redis.call('GET', P .. 'r' .. id)
  if r then
    cands[#cands + 1] = id; cands[#cands + 1] = r
    cands[#cands + 1] = redis.call('GET', P .. 't' .. id) or ''
  end
end
if mode ~= 'add' then return {'ok', gone, '', cands} end
if prev then
  local okeys, ofields = {}, {}
  for i = 1, B do okeys[i] = KEYS[2 + B + i]; ofields[i] = ARGV[F + B + i] end
  remove_doc(prev, prev_rec, idkey, digest, okeys, ofields)
end
if not redis.call('HGET', mk, 'L') then redis.call('HSET', mk, 'L', layout) end
local iid = pack_iid(redis.call('HINCRBY', mk, 's', 1))
redis.call('HINCRBY', mk, 'n', 1)
rec = rec_with_root(rec, iid)
redis.call('SET', P .. 'r' .. iid, rec)
if #tokens > 0 then redis.call('SET', P .. 't' .. iid, tokens) end
redis.call('HSET', idkey, digest, iid)
for i = 1, B do
  local k, f = KEYS[2 + i], ARGV[F + i]
  local v = redis.call('HGET', k, f)
  if v then redis.call('HSET', k, f, v .. iid) else redis.call('HSET', k, f, iid) end
end
local tb = rec_bucket(rec)
if tb ~= NO_BUCKET then
  redis.call('APPEND', P .. 'e' .. tb, iid)
  redis.call('ZADD', P .. 'E', 'NX', bucket_number(tb), tb)
end
return {'ok', gone, iid, cands}
"""

#: KEYS: meta, idmap. ARGV: P, layout, siglen, digest, ext. Returns {iid, rec, tokens} or {}.
GET = _PRELUDE + r"""
local iid, rec = resolve(KEYS[2], ARGV[4], ARGV[5])
if not iid then return {} end
return {iid, rec, redis.call('GET', P .. 't' .. iid) or ''}
"""

#: Removes several articles in one call.
#: KEYS: meta, then per article: idmap, b1..bB.
#: ARGV: P, layout, siglen, B, then per article: digest, ext, iid, check, f1..fB.
#: Returns per article 1 (removed) or -1 (that record is gone or changed:
#: the caller re-reads).
REMOVE = _PRELUDE + r"""
local B = tonumber(ARGV[4])
local HEAD, PER = 4, 4  -- ARGV position: the shared args, then per article 4 args before its B fields
local out = {}
local n = (#KEYS - 1) / (B + 1)
for a = 0, n - 1 do
  local k, f = 1 + a * (B + 1), HEAD + a * (B + PER)  -- this article's keys and args start after these
  local digest, ext, iid, check = ARGV[f + 1], ARGV[f + 2], ARGV[f + 3], ARGV[f + 4]
  local rec = redis.call('GET', P .. 'r' .. iid)
  if not rec or rec_ext(rec, siglen) ~= ext or rec_added(rec) ~= check then
    out[#out + 1] = -1
  else
    local bkeys, bfields = {}, {}
    for i = 1, B do bkeys[i] = KEYS[k + 1 + i]; bfields[i] = ARGV[f + 4 + i] end
    remove_doc(iid, rec, KEYS[k + 1], digest, bkeys, bfields)
    out[#out + 1] = 1
  end
end
return out
"""

#: KEYS: meta, idmap a, idmap b. ARGV: P, layout, siglen, digest a, ext a,
#: digest b, ext b, the link as seen from a, the link as seen from b.
#: Returns the surviving root's record, or a NOTFOUND error for an unknown id.
LINK = _PRELUDE + r"""
local ia, ra = resolve(KEYS[2], ARGV[4], ARGV[5])
if not ia then return redis.error_reply(E_NOTFOUND .. ARGV[5]) end
local ib, rb = resolve(KEYS[3], ARGV[6], ARGV[7])
if not ib then return redis.error_reply(E_NOTFOUND .. ARGV[7]) end
redis.call('HSET', P .. 'l' .. ia, ib, ARGV[8])
redis.call('HSET', P .. 'l' .. ib, ia, ARGV[9])
local ca, cb = rec_root(ra), rec_root(rb)
if ca == cb then return redis.call('GET', P .. 'r' .. ca) end
local keep, drop = ca, cb
if cb < ca then keep, drop = cb, ca end
local kk, dk = P .. 'k' .. keep, P .. 'k' .. drop
local moved = redis.call('ZRANGE', dk, 0, -1)
if #moved == 0 then moved = {drop} end
if redis.call('EXISTS', kk) == 0 then
  redis.call('ZADD', kk, iid_number(keep), keep)
end
for _, m in ipairs(moved) do
  redis.call('ZADD', kk, iid_number(m), m)
  redis.call('SETRANGE', P .. 'r' .. m, REC_ROOT_OFFSET, keep)
end
redis.call('DEL', dk)
return redis.call('GET', P .. 'r' .. keep)
"""

#: KEYS: meta, idmap. ARGV: P, layout, siglen, digest, ext.
#: Returns {root ext id, then per member in insertion order: ext id,
#: published (the record's raw field), words} or {} when unknown:
#: what choosing the canonical copy needs, without signatures or words.
CLUSTER = _PRELUDE + r"""
local iid, rec = resolve(KEYS[2], ARGV[4], ARGV[5])
if not iid then return {} end
local root = rec_root(rec)
local out = {rec_ext(redis.call('GET', P .. 'r' .. root), siglen)}
local ms = redis.call('ZRANGE', P .. 'k' .. root, 0, -1)
if #ms == 0 then ms = {root} end
for _, m in ipairs(ms) do
  local r = redis.call('GET', P .. 'r' .. m)
  out[#out + 1] = rec_ext(r, siglen)
  out[#out + 1] = rec_published(r)
  out[#out + 1] = math.floor(redis.call('STRLEN', P .. 't' .. m) / TOKEN_LEN)
end
return out
"""

#: KEYS: meta, idmap. ARGV: P, layout, siglen, digest, ext.
#: Returns {other ext id, link value, ...} for every stored link.
LINKS = _PRELUDE + r"""
local iid = resolve(KEYS[2], ARGV[4], ARGV[5])
if not iid then return {} end
local lk = P .. 'l' .. iid
local others, values = redis.call('HKEYS', lk), redis.call('HVALS', lk)  -- same order: no write between
local out = {}
for i, other in ipairs(others) do
  local r = redis.call('GET', P .. 'r' .. other)
  if r then out[#out + 1] = rec_ext(r, siglen); out[#out + 1] = values[i] end
end
return out
"""

#: KEYS: meta. ARGV: P, layout, siglen, cutoff_ms, limit.
#: Returns {iid, rec, ...} for up to ``limit`` live expired articles (the
#: caller removes them); read-mostly, like the scan at the start of ADD.
PURGE_SCAN = _PRELUDE + r"""
return expired(tonumber(ARGV[4]), tonumber(ARGV[5]))
"""

#: Every script by name.
SCRIPTS: dict[str, str] = {"ADD": ADD, "CLUSTER": CLUSTER, "GET": GET, "LINK": LINK, "LINKS": LINKS,
                           "PURGE_SCAN": PURGE_SCAN, "REMOVE": REMOVE}


def register(client) -> dict:
    """Every script as a redis-py ``Script`` bound to ``client`` (no round trip:
    a script is loaded on its first ``NOSCRIPT``)."""
    return {name: client.register_script(src) for name, src in SCRIPTS.items()}
