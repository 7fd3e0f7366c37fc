"""The Lua scripts behind :class:`dedup_service.store.RedisIndex`, kept in one place.

Each script runs atomically inside Redis and is registered through redis-py
(:func:`register`: ``client.register_script``, which loads a script again on
``NOSCRIPT``). Every script starts with the prelude that
:func:`dedup_service.layout.lua_prelude` generates from the record layout
table, then the shared helpers below; the hand-written parts read records
only through those generated names (``rec_root(rec)``, ``IID_LEN`` ...),
never through bare byte offsets (a test checks it).

Conventions shared by every script: ``KEYS[1..8]`` are the namespace's
fixed keys (:data:`FIXED_KEYS`: the meta hash ``P m``, the retention index
``P E``, the pending index ``P p``, the cluster names ``P N``, the fresh-name
counters ``P K``, the fresh-shaped ids ``P T``, the decisions' marker ``P Dz``
and pinned canonical copies ``P Dp``); the
script's own keys follow (id map and band and value bucket shards, named
by the caller from the article's id and signature). ``ARGV[1]`` is the key prefix ``P`` (``dd{<namespace>}``),
``ARGV[2]`` the layout string, ``ARGV[3]`` the signature length in bytes.
A script refuses a namespace stored with another layout (error
``LAYOUT <stored layout>``).

Redis Cluster: every key the caller can name is passed in ``KEYS``. The
keys named by internal ids that a script finds on its way (records, word
ids, links, clusters, versions, retention buckets and joined bitmap
chunks of candidates and members) cannot be known before it runs; the script builds them from ``P``, which carries
the ``{namespace}`` hash tag, so they hash to the slot of ``KEYS[1]`` and
live on the node that runs the script (open-source Redis Cluster serves
them; a proxy that insists on every key in ``KEYS``, as some managed
services do, would refuse the scripts).

Kept in one module on purpose (~800 lines, most of them Lua): the scripts share
one prelude and one set of names, and reading them together is how a reviewer
checks which keys each script touches.
"""

from __future__ import annotations

from dedup_service.layout import lua_prelude

#: The namespace's fixed keys (suffixes of ``P``), passed first in every script's KEYS.
FIXED_KEYS = (b"m", b"E", b"p", b"N", b"K", b"T", b"Dz", b"Dp")

__all__ = ["ABOUT", "ADD", "ATTACH", "CLUSTER", "FIXED_KEYS", "GET", "LAYOUT_ERROR", "LINKS", "MEMBERS", "NOTFOUND_ERROR",
           "PENDING_SCAN", "PURGE_SCAN", "REMOVE", "SCRIPTS", "SETTLE", "STORY", "register"]

#: Error replies the scripts give, translated by ``RedisIndex``.
LAYOUT_ERROR = "LAYOUT"
NOTFOUND_ERROR = "NOTFOUND"

_HELPERS = f"""
local E_LAYOUT, E_NOTFOUND = '{LAYOUT_ERROR} ', '{NOTFOUND_ERROR} '
""" + r"""
local P, layout, siglen = ARGV[1], ARGV[2], tonumber(ARGV[3])
-- KEYS[1..K] are the namespace's fixed keys (meta, retention index, pending
-- index, cluster names); a script's own keys follow
local K = 8  -- ARGV position (KEYS): the fixed keys' count
local mk, rk, pk, nk = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local kk, tk, dzk, dpk = KEYS[5], KEYS[6], KEYS[7], KEYS[8]  -- fresh-name counters, fresh-shaped ids, decisions
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

local function root_of(iid)
  return redis.call('GETRANGE', P .. 'r' .. iid, REC_ROOT_OFFSET, REC_ROOT_OFFSET + IID_LEN - 1)
end

-- the joined bitmap's chunk holding iid number `n` (key ``P J <first
-- iid>``, JOINED_CHUNK bits each: dedup_service.layout.joined_chunk) and
-- `n`'s bit in it
local function joined_at(n)
  local first = n - n % JOINED_CHUNK
  return P .. 'J' .. pack_iid(first), n - first
end

-- `iid` joins the cluster rooted at `root`; an article whose root is not
-- itself has its bit set in the joined bitmap, so that a look-up resolves
-- the roots of the others without reading their records
local function set_root(iid, root)
  redis.call('SETRANGE', P .. 'r' .. iid, REC_ROOT_OFFSET, root)
  if root ~= iid then
    local k, b = joined_at(iid_number(iid))
    redis.call('SETBIT', k, b, 1)
  end
end

-- `iid` is removed: its bit is cleared, and the chunk it leaves all-zero
-- deleted (a chunk exists only while one of its bits is set: bounded by
-- the live articles, whatever the iids ever added)
local function unjoin(iid)
  local k, b = joined_at(iid_number(iid))
  if redis.call('GETBIT', k, b) == 1 then
    redis.call('SETBIT', k, b, 0)
    if redis.call('BITCOUNT', k) == 0 then redis.call('DEL', k) end
  end
end

-- the cluster root of each of `ids` (nil for one whose record is gone):
-- one read of each joined bitmap chunk they fall in (over their span in
-- it), then a record read only for those whose bit is set
local function roots_of(ids)
  local spans, chunks, at = {}, {}, {}
  for j, id in ipairs(ids) do
    local k, b = joined_at(iid_number(id))
    local s = spans[k]
    if not s then s = {lo = b, hi = b}; spans[k] = s; chunks[#chunks + 1] = k
    elseif b < s.lo then s.lo = b
    elseif b > s.hi then s.hi = b end
    at[j] = {key = k, bit = b}
  end
  for _, k in ipairs(chunks) do
    local s = spans[k]
    s.first = math.floor(s.lo / BYTE_BITS)
    s.bits = redis.call('GETRANGE', k, s.first, math.floor(s.hi / BYTE_BITS))
  end
  local out = {}
  for j, id in ipairs(ids) do
    local s, b = spans[at[j].key], at[j].bit
    local byte = string.byte(s.bits, math.floor(b / BYTE_BITS) - s.first + 1)  -- nil past its end: clear
    if not byte or bit.band(byte, bit.rshift(BYTE_HIGH, b % BYTE_BITS)) == 0 then out[j] = id
    else
      local r = root_of(id)
      if #r == IID_LEN then out[j] = r end
    end
  end
  return out
end

local function words_of(iid) return math.floor(redis.call('STRLEN', P .. 't' .. iid) / TOKEN_LEN) end

local function pub_of(rec)
  local p = published_number(rec_published(rec))
  if p ~= p then return math.huge end  -- NaN: unknown
  return p
end

-- the rule of dedup.cluster.canonical_index: earliest published, then most words, then first added
local function better(x, rx, y, ry)
  local qx = redis.call('SISMEMBER', dpk, rec_ext(rx, siglen))  -- an editor's pick first (dedup.decisions)
  local qy = redis.call('SISMEMBER', dpk, rec_ext(ry, siglen))
  if qx ~= qy then return qx == 1 end
  local px, py = pub_of(rx), pub_of(ry)
  if px ~= py then return px < py end
  local wx, wy = words_of(x), words_of(y)
  if wx ~= wy then return wx > wy end
  return x < y
end

-- the rule of a version's first copy (dedup.cluster.latest_version): earliest published, then first added
local function earlier(x, rx, y, ry)
  local px, py = pub_of(rx), pub_of(ry)
  if px ~= py then return px < py end
  return x < y
end

local function pub_score(rec)
  local p = pub_of(rec)
  if p == math.huge then return '+inf' end
  return string.format('%.17g', p)
end

-- the first copy of the version holding `iid` (record `rec`)
local function first_of(iid, rec)
  local v = redis.call('GET', P .. 'v' .. rec_version(rec))
  if v then return version_first(v) end
  return iid
end

-- the first copy of version `vr` among the members of cluster `root` but
-- `skip` (O(cluster), like recanon: only when a version's first copy leaves)
local function refirst(root, vr, skip)
  local best, brec
  for _, m in ipairs(redis.call('ZRANGE', P .. 'k' .. root, 0, -1)) do
    if m ~= skip then
      local r = redis.call('GET', P .. 'r' .. m)
      if r and rec_version(r) == vr and (not best or earlier(m, r, best, brec)) then best, brec = m, r end
    end
  end
  return best, brec
end

-- the cluster rooted at `root`: its name (its founder's external id, kept
-- while any member lives) and its canonical member's iid
local function cluster_info(root)
  local n = redis.call('GET', P .. 'n' .. root)
  if n then return string.sub(n, IID_LEN + 1), string.sub(n, 1, IID_LEN) end
  return rec_ext(redis.call('GET', P .. 'r' .. root), siglen), root
end

-- cluster names: ``P N`` maps the name of every cluster that has a name key
-- (``P n <root>``) to its root, so that a new cluster never takes a name a
-- live one holds (a cluster named by its founder keeps the name after the
-- founder is removed, and the founder's id may be posted again)
local function set_name(root, canon, name)
  redis.call('SET', P .. 'n' .. root, canon .. name)
  redis.call('HSET', nk, name, root)
end

local function drop_name(root, name)
  redis.call('DEL', P .. 'n' .. root)
  if redis.call('HGET', nk, name) == root then
    redis.call('HDEL', nk, name)
    redis.call('HDEL', kk, name)  -- the fresh names counted under it start again
  end
end

-- whether `name` is held by a live cluster other than one rooted at
-- `root` whose only members are the `leaving` ones (nil: none leave)
local function name_held(name, root, leaving)
  local holder = redis.call('HGET', nk, name)
  if not holder then return false end
  return not (holder == root and redis.call('ZCARD', P .. 'k' .. root) <= leaving)
end

-- stored ids that could be fresh names (``<x>~<digits>``) are listed in
-- ``P T`` (id -> iid), so that fresh_name sees them without the id map
-- (whose keys are hashes of the id the scripts cannot compute)
local function fresh_like(ext) return string.find(ext, '~%d+$') ~= nil end

local function id_stored(ext)
  local iid = redis.call('HGET', tk, ext)
  if not iid then return false end
  local rec = redis.call('GET', P .. 'r' .. iid)
  return rec ~= false and rec_ext(rec, siglen) == ext
end

-- the name of a new story founded under `base`, which a live story holds:
-- the next of ``<base>~2``, ``~3`` ... (counted per held name in ``P K``,
-- while its story lives: a name once given is not given again meanwhile)
-- that no live cluster holds (see name_held) and no stored article has as
-- its id. Always one: each name skipped is skipped for good (its count
-- moved past it), so the names tried over all adds are the names given
-- plus the names taken, not a search per add
local function fresh_name(base, root, leaving)
  while true do
    local name = base .. '~' .. (redis.call('HINCRBY', kk, base, 1) + 1)
    if not name_held(name, root, leaving) and not id_stored(name) then return name end
  end
end

-- pick the canonical member of a cluster of two or more again (after its canonical left or changed)
local function recanon(root, name)
  local best, brec
  for _, m in ipairs(redis.call('ZRANGE', P .. 'k' .. root, 0, -1)) do
    local r = redis.call('GET', P .. 'r' .. m)
    if r and (not best or better(m, r, best, brec)) then best, brec = m, r end
  end
  if best then set_name(root, best, name) end
end

-- `iid`'s published changed: its cluster's canonical may change
local function published_changed(iid)
  local root = root_of(iid)
  if redis.call('EXISTS', P .. 'n' .. root) == 0 then return end
  local name, canon = cluster_info(root)
  if canon == iid then recanon(root, name)
  elseif better(iid, redis.call('GET', P .. 'r' .. iid), canon, redis.call('GET', P .. 'r' .. canon)) then
    set_name(root, iid, name)
  end
  -- and its version's first copy may change (O(cluster) for a version of two or more, like recanon)
  local rec = redis.call('GET', P .. 'r' .. iid)
  local vr = rec_version(rec)
  local vk, old, new = P .. 'v' .. vr, iid, iid
  local v = redis.call('GET', vk)
  if v then
    old, new = version_first(v), refirst(root, vr, nil)
    redis.call('SET', vk, pack_version(new, version_count(v)))
  end
  local uk = P .. 'u' .. root
  if redis.call('ZREM', uk, old) == 1 then redis.call('ZADD', uk, pub_score(redis.call('GET', P .. 'r' .. new)), new) end
end

-- merge two clusters by their roots: the older cluster (smaller root iid)
-- keeps its name; the newer one's members move (O(newer cluster))
local function merge(ca, cb)
  if ca == cb then return ca end
  local keep, drop = ca, cb
  if cb < ca then keep, drop = cb, ca end
  local kname, kcanon = cluster_info(keep)
  local dname, dcanon = cluster_info(drop)
  local dd = P .. 'Dk' .. dname  -- the members editors' decisions name follow their story (dedup.decisions)
  if redis.call('EXISTS', dd) == 1 then
    redis.call('SUNIONSTORE', P .. 'Dk' .. kname, P .. 'Dk' .. kname, dd)
    if kname ~= dname then redis.call('DEL', dd) end
  end
  local kk, dk = P .. 'k' .. keep, P .. 'k' .. drop
  local moved = redis.call('ZRANGE', dk, 0, -1)
  if #moved == 0 then moved = {drop} end
  if redis.call('EXISTS', kk) == 0 then redis.call('ZADD', kk, iid_number(keep), keep) end
  for _, m in ipairs(moved) do
    redis.call('ZADD', kk, iid_number(m), m)
    set_root(m, keep)
  end
  local du = P .. 'u' .. drop  -- the versions with updates move too (O(newer cluster))
  for _, m in ipairs(redis.call('ZRANGE', du, 0, -1)) do
    redis.call('ZADD', P .. 'u' .. keep, redis.call('ZSCORE', du, m), m)
  end
  redis.call('DEL', dk, du)
  drop_name(drop, dname)
  if better(dcanon, redis.call('GET', P .. 'r' .. dcanon), kcanon, redis.call('GET', P .. 'r' .. kcanon)) then
    kcanon = dcanon
  end
  set_name(keep, kcanon, kname)
  return keep
end

-- the first ABOUT_HEAD + M bytes of an article's about value (title, url,
-- source; not the text), '' when it has none
local function about_meta(iid)
  local k = P .. 'a' .. iid
  local h = redis.call('GETRANGE', k, 0, ABOUT_HEAD - 1)
  if #h < ABOUT_HEAD then return '' end
  return redis.call('GETRANGE', k, 0, ABOUT_HEAD + about_len(h) - 1)
end

-- an article's best link {other ext, value, other iid}, or nil (none, or the other is gone)
local function best_link(iid)
  local l = redis.call('GET', P .. 'l' .. iid)
  if not l then return nil end
  local r = redis.call('GET', P .. 'r' .. string.sub(l, 1, IID_LEN))
  if not r then return nil end
  return rec_ext(r, siglen), string.sub(l, IID_LEN + 1), string.sub(l, 1, IID_LEN)
end

-- the bounded candidates of an article whose bands are KEYS[K+1+i]/ARGV[F+i]:
-- every bucket read in its most recent BUCKET_KEEP entries (buckets are
-- trimmed to them on write), a crowded one (CROWD entries or more) in its
-- oldest and newest only; candidates counted by band collisions and
-- grouped by cluster root; per cluster its oldest candidate + the
-- REPRESENTATIVES-1 with most collisions; at most MAX_CANDIDATES in all
-- (most collisions first, then oldest); returned {iid, rec, tokens, ...}
-- in insertion order (with_about: and the about_meta of each, else '')
-- a's best link to b (kind index `kind`) in versions (dedup.cluster.latest_version):
-- exact, near or reused (dedup.cluster.VERSION_JOINS), a alone in its version joins b's (first copy and count
-- kept in P v, and in P u when listed); update, both versions' first
-- copies are listed in P u <root>. O(1).
local function version_link(ia, ib, kind, root)
  local ra = redis.call('GET', P .. 'r' .. ia)
  local rb = redis.call('GET', P .. 'r' .. ib)
  local uk = P .. 'u' .. root
  if joins_version(kind) then
    if rec_version(ra) ~= ia or redis.call('EXISTS', P .. 'v' .. ia) == 1 then return end  -- not alone: stays
    local vr = rec_version(rb)
    local vk = P .. 'v' .. vr
    local v = redis.call('GET', vk)
    local first, n = ib, 1
    if v then first, n = version_first(v), version_count(v) end
    redis.call('SETRANGE', P .. 'r' .. ia, REC_VERSION_OFFSET, vr)
    if earlier(ia, ra, first, redis.call('GET', P .. 'r' .. first)) then
      if redis.call('ZREM', uk, first) == 1 then redis.call('ZADD', uk, pub_score(ra), ia) end
      first = ia
    end
    redis.call('SET', vk, pack_version(first, n + 1))
  elseif kind == KIND_UPDATE then
    local fa, fb = first_of(ia, ra), first_of(ib, rb)
    redis.call('ZADD', uk, pub_score(redis.call('GET', P .. 'r' .. fa)), fa)
    redis.call('ZADD', uk, pub_score(redis.call('GET', P .. 'r' .. fb)), fb)
  end
end

-- what dedup.cluster.latest_version needs of a cluster (root, canonical
-- iid), in O(log n): {} when none of its versions has an update (the
-- latest is the canonical copy), else the last-published listed first
-- copy and the canonical's version's first copy, each {ext id, raw
-- published, iid}
local function latest_summary(root, canon)
  local top = redis.call('ZREVRANGE', P .. 'u' .. root, 0, 0)[1]
  if not top then return {} end
  local rt = redis.call('GET', P .. 'r' .. top)
  local cf = first_of(canon, redis.call('GET', P .. 'r' .. canon))
  local rc = redis.call('GET', P .. 'r' .. cf)
  return {rec_ext(rt, siglen), rec_published(rt), top, rec_ext(rc, siglen), rec_published(rc), cf}
end

-- short-inside-long (dedup.index.short_in_long, the same arithmetic):
-- whether `c` single-value collisions between texts of `wa` and `wb` words
-- make a candidate; SIL = {mct = min_contained_tokens, t = containment, shingle = shingle_size}
local function short_in_long(c, wa, wb, SIL)
  local short, long = math.min(wa, wb), math.max(wa, wb)
  local k = SIL.shingle - 1
  local s, lng = math.max(short - k, 1), math.max(long - k, 1)
  local t = SIL.t
  local expected = (siglen / SIG_VALUE_LEN) * t * s / (lng + s - t * s)
  return short >= SIL.mct and short <= SHORT_IN_LONG * long and c >= math.max(MIN_ROW_COLLISIONS, ROW_SHARE * expected)
end

-- field i of the concatenated value bucket fields G
local function value_field(G, i) return string.sub(G, (i - 1) * VALUE_FIELD_LEN + 1, i * VALUE_FIELD_LEN) end

-- the ids sharing a value with an article whose value buckets are
-- KEYS[RK+i] / value_field(G, i) (i = 1..R), one per shared value: a stock
-- bucket gives none
local function values_read(R, RK, G)
  local hits = {}
  for i = 1, R do
    local v = redis.call('HGET', KEYS[RK + i], value_field(G, i))
    if v and not row_is_stock(v) then
      for j = 1, #v, IID_LEN do hits[#hits + 1] = string.sub(v, j, j + IID_LEN - 1) end
    end
  end
  return hits
end

-- bucket `iid` under each of its values, in the same pass returning the
-- ids that were there (dedup.index.MemoryIndex._put_rows): a bucket that
-- already holds ROW_KEEP ids becomes stock (counted, gives no ids)
local function values_write(R, RK, G, iid)
  local hits = {}
  for i = 1, R do
    local k, f = KEYS[RK + i], value_field(G, i)
    if redis.call('HSETNX', k, f, iid) == 0 then  -- most values are one article's only: one call
      local v = redis.call('HGET', k, f)
      if row_is_stock(v) then redis.call('HSET', k, f, row_stock(row_stock_count(v) + 1))
      elseif #v < ROW_KEEP * IID_LEN then
        for j = 1, #v, IID_LEN do hits[#hits + 1] = string.sub(v, j, j + IID_LEN - 1) end
        redis.call('HSET', k, f, v .. iid)
      else redis.call('HSET', k, f, row_stock(ROW_KEEP + 1)) end
    end
  end
  return hits
end

-- take `iid` out of its value buckets (a stock one counts one fewer)
local function values_remove(iid, keys, G)
  for i = 1, #keys do
    local f = value_field(G, i)
    local v = redis.call('HGET', keys[i], f)
    if v then
      local nv
      if row_is_stock(v) then
        local n = row_stock_count(v) - 1
        if n > 0 then nv = row_stock(n) else nv = '' end
      else nv = drop_id(v, iid) end
      if #nv == 0 then redis.call('HDEL', keys[i], f)
      elseif nv ~= v then redis.call('HSET', keys[i], f, nv) end
    end
  end
end

-- the short-inside-long candidates among `hits` (not `prev`, not in
-- `known`) of an article of `words` words: at most MAX_CONTAINED, most
-- collisions first, then oldest; returned in insertion order
local function contained(hits, prev, known, words, SIL)
  if #hits < MIN_ROW_COLLISIONS then return {} end
  local count, ids = {}, {}
  for _, id in ipairs(hits) do
    local c = count[id]
    if c then count[id] = c + 1 else count[id] = 1; ids[#ids + 1] = id end
  end
  local got = {}
  for _, id in ipairs(ids) do
    if count[id] >= MIN_ROW_COLLISIONS and id ~= prev and not known[id]
       and short_in_long(count[id], words, words_of(id), SIL) then
      got[#got + 1] = id
    end
  end
  table.sort(got, function(x, y)
    if count[x] ~= count[y] then return count[x] > count[y] end
    return x < y
  end)
  local out = {}
  for j = 1, math.min(MAX_CONTAINED, #got) do out[j] = got[j] end
  table.sort(out)
  return out
end

-- the ids bucket value `v` gives from position `from`, oldest first: all,
-- or a crowded one's (CROWD or more) oldest and newest; `prev` (an
-- article's own stored iid: a retry, a re-add, a query of a stored text)
-- is left out before the rule counts them. An add (no `prev`) reads a
-- crowded bucket's two ends only.
local function bucket_ids(v, from, prev)
  if not prev and #v - from + 1 >= CROWD * IID_LEN then
    return {string.sub(v, from, from + IID_LEN - 1), string.sub(v, #v - IID_LEN + 1)}
  end
  local got = {}
  for j = from, #v, IID_LEN do
    local id = string.sub(v, j, j + IID_LEN - 1)
    if id ~= prev then got[#got + 1] = id end
  end
  if #got >= CROWD then return {got[1], got[#got]} end
  return got
end

-- (with `hits`, the ids sharing single values with the article, and
-- SIL, its words and short-inside-long parameters: the short-inside-long
-- candidates follow the others, see ``contained``)
local function lookup(B, F, prev, with_about, hits, words, SIL)
  local count, ids = {}, {}
  for i = 1, B do
    local v = redis.call('HGET', KEYS[K + 1 + i], ARGV[F + i])
    if v then
      local from = math.max(1, #v - BUCKET_KEEP * IID_LEN + 1)
      for _, id in ipairs(bucket_ids(v, from, prev)) do
        local c = count[id]
        if c then count[id] = c + 1 else count[id] = 1; ids[#ids + 1] = id end
      end
    end
  end
  local groups, roots = {}, {}
  local root_of_id = roots_of(ids)
  for j, id in ipairs(ids) do
    local root = root_of_id[j]
    if root then
      local g = groups[root]
      if not g then g = {}; groups[root] = g; roots[#roots + 1] = root end
      g[#g + 1] = id
    end
  end
  local function most(x, y)
    if count[x] ~= count[y] then return count[x] > count[y] end
    return x < y
  end
  local picked, by_count, top = {}, {}, 0
  for _, root in ipairs(roots) do
    local g = groups[root]
    if #g > 1 then
      table.sort(g)
      picked[#picked + 1] = g[1]  -- the cluster's oldest candidate
      local rest = {}
      for j = 1, #g - 1 do rest[j] = g[j + 1] end
      table.sort(rest, most)
      for j = 1, math.min(REPRESENTATIVES - 1, #rest) do picked[#picked + 1] = rest[j] end
    else picked[#picked + 1] = g[1] end
  end
  for _, id in ipairs(picked) do  -- most collisions first, then oldest: by count, each count's ids sorted
    local c = count[id]
    local l = by_count[c]
    if not l then l = {}; by_count[c] = l end
    l[#l + 1] = id
    if c > top then top = c end
  end
  local chosen, known = {}, {}
  for c = top, 1, -1 do
    local l = by_count[c]
    if l and #chosen < MAX_CANDIDATES then
      table.sort(l)
      for j = 1, math.min(#l, MAX_CANDIDATES - #chosen) do chosen[#chosen + 1] = l[j]; known[l[j]] = true end
    end
  end
  table.sort(chosen)
  for _, id in ipairs(contained(hits, prev, known, words, SIL)) do chosen[#chosen + 1] = id end
  local cands = {}
  if #chosen == 0 then return cands end
  local rkeys, tkeys = {}, {}
  for j, id in ipairs(chosen) do rkeys[j] = P .. 'r' .. id; tkeys[j] = P .. 't' .. id end
  local recs, toks = redis.call('MGET', unpack(rkeys)), redis.call('MGET', unpack(tkeys))
  for j, id in ipairs(chosen) do
    if recs[j] then
      cands[#cands + 1] = id; cands[#cands + 1] = recs[j]
      cands[#cands + 1] = toks[j] or ''
      cands[#cands + 1] = with_about and about_meta(id) or ''
    end
  end
  return cands
end

-- `iid` leaves its version (before it leaves cluster `root`): the
-- version counts one fewer, finds its first copy again when that was
-- `iid` (O(cluster)), and is dropped with its last member
local function leave_version(iid, rec, root)
  local vr = rec_version(rec)
  local vk, uk = P .. 'v' .. vr, P .. 'u' .. root
  local listed = redis.call('ZREM', uk, iid) == 1
  local v = redis.call('GET', vk)
  if not v then return end
  local n = version_count(v) - 1
  if n <= 0 then redis.call('DEL', vk); return end
  local first = version_first(v)
  if first == iid then
    local r
    first, r = refirst(root, vr, iid)
    if not first then redis.call('DEL', vk); return end
    if listed then redis.call('ZADD', uk, pub_score(r), first) end
  end
  redis.call('SET', vk, pack_version(first, n))
end

-- candidates {iid, rec, tokens, about, ...} as five strings that Python reads
-- in one go (dedup_service.layout.unpack_candidates): the records' header and
-- signature back to back, each one's id, tokens and about lengths, then the
-- ids, the tokens and the abouts back to back
local function pack_candidates(c)
  local fixed, lens, exts, toks, abouts = {}, {}, {}, {}, {}
  local j = 0
  local function take() j = j + 1; return c[j] end
  while j < #c do
    local _, rec, tok, about = take(), take(), take(), take()  -- iid, record, tokens, about_meta
    local ext = rec_ext(rec, siglen)
    fixed[#fixed + 1] = string.sub(rec, 1, REC_HEADER + siglen)
    lens[#lens + 1] = candidate_lens(#ext, #tok, #about)
    exts[#exts + 1], toks[#toks + 1], abouts[#abouts + 1] = ext, tok, about
  end
  return {table.concat(fixed), table.concat(lens), table.concat(exts), table.concat(toks), table.concat(abouts)}
end

-- clear the pending flag of the articles {iid .. added, ...} (packed back to
-- back) that a client confirmed without a link (RedisIndex.attach defers
-- that write to its next script call); one whose record is gone, replaced or
-- no longer pending is left alone
local function settle(packed)
  local step = IID_LEN + REC_ADDED_LEN
  for j = 1, #packed, step do
    local id, added = string.sub(packed, j, j + IID_LEN - 1), string.sub(packed, j + IID_LEN, j + step - 1)
    local k = P .. 'r' .. id
    local head = redis.call('GETRANGE', k, 0, REC_HEADER - 1)
    if #head == REC_HEADER and rec_added(head) == added and bit.band(flags_number(rec_flags(head)), PENDING) ~= 0 then
      redis.call('SETRANGE', k, REC_FLAGS_OFFSET, string.char(0))
      redis.call('ZREM', pk, id)
    end
  end
end

-- forget one article everywhere; bkeys/bfields are its band buckets,
-- vkeys/G its value buckets (those of a text of fewer than `mct` words
-- are not read: it had none)
local function remove_doc(iid, rec, idkey, digest, bkeys, bfields, vkeys, G, mct)
  if #vkeys > 0 and words_of(iid) >= mct then values_remove(iid, vkeys, G) end
  leave_version(iid, rec, rec_root(rec))
  for i = 1, #bkeys do
    local v = redis.call('HGET', bkeys[i], bfields[i])
    if v then
      local nv = drop_id(v, iid)
      if #nv == 0 then redis.call('HDEL', bkeys[i], bfields[i])
      elseif nv ~= v then redis.call('HSET', bkeys[i], bfields[i], nv) end
    end
  end
  if redis.call('HGET', idkey, digest) == iid then redis.call('HDEL', idkey, digest) end
  local ext = rec_ext(rec, siglen)
  if fresh_like(ext) and redis.call('HGET', tk, ext) == iid then redis.call('HDEL', tk, ext) end
  redis.call('DEL', P .. 'l' .. iid)  -- links to it from others dangle: readers skip them
  if bit.band(flags_number(rec_flags(rec)), PENDING) ~= 0 then redis.call('ZREM', pk, iid) end
  local root = rec_root(rec)
  local ck = P .. 'k' .. root
  if redis.call('ZREM', ck, iid) == 1 then  -- the cluster keeps its root key and name while a member lives
    local name, canon = cluster_info(root)
    if redis.call('ZCARD', ck) == 0 then
      redis.call('DEL', ck, P .. 'u' .. root)
      drop_name(root, name)
    elseif canon == iid then recanon(root, name) end
  end
  local tb = rec_bucket(rec)
  if tb ~= NO_BUCKET then
    local ek = P .. 'e' .. tb
    local v = redis.call('GET', ek)
    if v then
      local nv = drop_id(v, iid)
      if #nv == 0 then
        redis.call('DEL', ek)
        redis.call('ZREM', rk, tb)
      elseif nv ~= v then redis.call('SET', ek, nv) end
    end
  end
  unjoin(iid)
  redis.call('DEL', P .. 'r' .. iid, P .. 't' .. iid, P .. 'a' .. iid)
  if redis.call('HINCRBY', mk, 'n', -1) <= 0 then redis.call('DEL', mk) end
end

-- up to `limit` live articles {iid, rec, ...} in retention buckets that ended
-- at or before `cutoff` (ms); drops dead ids' empty buckets on the way
local function expired(cutoff, limit)
  local out, found = {}, 0
  if limit <= 0 then return out end
  for _, b in ipairs(redis.call('ZRANGEBYSCORE', rk, '-inf', cutoff, 'LIMIT', 0, limit)) do
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
      redis.call('ZREM', rk, b)
    end
  end
  return out
end
"""

_PRELUDE = lua_prelude() + _HELPERS

#: KEYS: meta, retention index, pending index, names, idmap, b1..bB, v1..vR,
#:       [old b1..bB, old v1..vRO]
#: ARGV: P, layout, siglen, mode (add|query), digest, ext, record (root
#:       zero), tokens, B, purge cutoff (ms), purge limit (0: none),
#:       old_iid, old_check, about ('=' + ``layout.pack_about``, whose '' is
#:       none; '' alone: leave the stored one as it is),
#:       min_contained_tokens, containment, shingle_size,
#:       f1..fB, G, [old f1..fB, old G], and last the articles whose
#:       pending flag to clear first (mode add; see ``settle``)
#: (``v``/``G``: the value buckets, short-inside-long, and their fields
#: concatenated: R of them, 0 for a text that has none; the old article's
#: RO are read only if its stored words are enough)
#: Returns, with ``expired`` the purge scan's {iid, rec, ...} (removed by
#: the caller, who knows their bands) and ``cands`` the bounded candidates
#: (see ``lookup``), their records, tokens and about_meta ('' unless query)
#: packed by ``pack_candidates``:
#: (each reply with candidates ends with 1 when editors' decisions exist, ``P Dz``)
#:   {"ok", expired, iid, cands, decisions, name}: stored, pending (flags)
#:   when cands is not empty, until ATTACH; name '' when its story is
#:   named by its id, else the fresh name its story took (when the id
#:   names a live story, its founder removed or replaced while its members
#:   live: ``fresh_name``, always found in this call);
#:   {"same", expired} for a retry of a linked article (same id, same
#:   words: nothing written but a changed ``published`` or about);
#:   {"pending", expired, iid, cands, decisions, name} for a retry of an
#:   article still pending: the caller confirms and attaches again
#:   (repair); name as for "ok", its story's (the fresh name its first
#:   add took stays its story's, though every candidate is gone);
#:   {"exists", expired, old_iid, old_rec} when the id is stored with other
#:   words and no (matching) old_iid was passed: the caller computes the old
#:   bands and calls again with them;
#:   a query's reply ends with 1 when its id names a live cluster (its add
#:   needs a fresh name).
ADD = _PRELUDE + r"""
local mode, digest, ext, rec, tokens = ARGV[4], ARGV[5], ARGV[6], ARGV[7], ARGV[8]
local B = tonumber(ARGV[9])
local gone = expired(tonumber(ARGV[10]), tonumber(ARGV[11]))
if mode == 'add' then settle(ARGV[#ARGV]) end
local old_iid, old_check, about = ARGV[12], ARGV[13], ARGV[14]
local keep_about = about == ''
about = string.sub(about, #'=' + 1)  -- after the '=' that says "store this"
local SIL = {mct = tonumber(ARGV[15]), t = tonumber(ARGV[16]), shingle = tonumber(ARGV[17])}
local F = 17  -- ARGV position: the band fields follow it, then the value fields
local G = ARGV[F + B + 1]  -- ARGV position: after the band fields
local OG = old_iid ~= '' and ARGV[F + B + 1 + B + 1] or ''  -- ARGV position: after the old band fields
local R, RO = #G / VALUE_FIELD_LEN, #OG / VALUE_FIELD_LEN
local idkey = KEYS[K + 1]
local VK = K + 1 + B  -- KEYS position: the value buckets follow it
local words = math.floor(#tokens / TOKEN_LEN)
local prev, prev_rec = resolve(idkey, digest, ext)
if mode == 'add' and prev then
  if (redis.call('GET', P .. 't' .. prev) or '') == tokens then
    local pub = rec_published(rec)
    if rec_published(prev_rec) ~= pub then
      redis.call('SETRANGE', P .. 'r' .. prev, REC_PUBLISHED_OFFSET, pub)
      published_changed(prev)
    end
    local ak = P .. 'a' .. prev
    if not keep_about and (redis.call('GET', ak) or '') ~= about then
      if #about > 0 then redis.call('SET', ak, about) else redis.call('DEL', ak) end
    end
    if bit.band(flags_number(rec_flags(prev_rec)), PENDING) ~= 0 then
      local cands = lookup(B, F, prev, false, values_read(R, VK, G), words, SIL)
      if #cands == 0 then
        redis.call('SETRANGE', P .. 'r' .. prev, REC_FLAGS_OFFSET, string.char(0))
        redis.call('ZREM', pk, prev)
      end
      local story = cluster_info(rec_root(prev_rec))  -- its story's name: a fresh one when it took one
      return {'pending', gone, prev, pack_candidates(cands), redis.call('EXISTS', dzk), story ~= ext and story or ''}
    end
    return {'same', gone}
  end
  if prev ~= old_iid or rec_added(prev_rec) ~= old_check then
    return {'exists', gone, prev, prev_rec}
  end
end
if mode ~= 'add' then  -- '1' third: the id is stored with these very words (Index.stored)
  local same = prev and (redis.call('GET', P .. 't' .. prev) or '') == tokens
  return {'ok', gone, same and '1' or '', pack_candidates(lookup(B, F, prev, true, values_read(R, VK, G), words, SIL)),
          redis.call('EXISTS', dzk), redis.call('HEXISTS', nk, ext)}
end
local name  -- the new cluster's name when its founder's id is held (by a cluster that outlived its founder)
local prev_root = prev and rec_root(prev_rec)  -- prev's story, when prev is all that is left of it, frees its name
if name_held(ext, prev_root, 1) then name = fresh_name(ext, prev_root, 1) end
local cands
if prev then
  cands = lookup(B, F, prev, false, values_read(R, VK, G), words, SIL)
  local okeys, ofields, vkeys, vfields = {}, {}, {}, {}
  for i = 1, B do okeys[i] = KEYS[VK + R + i]; ofields[i] = ARGV[F + B + 1 + i] end  -- ARGV position
  for i = 1, RO do vkeys[i] = KEYS[VK + R + B + i] end
  remove_doc(prev, prev_rec, idkey, digest, okeys, ofields, vkeys, OG, SIL.mct)
end
if not redis.call('HGET', mk, 'L') then redis.call('HSET', mk, 'L', layout) end
local iid = pack_iid(redis.call('HINCRBY', mk, 's', 1))
if prev then values_write(R, VK, G, iid)
else cands = lookup(B, F, nil, false, values_write(R, VK, G, iid), words, SIL) end  -- one pass: read and write
redis.call('HINCRBY', mk, 'n', 1)
rec = rec_with_version(rec_with_root(rec, iid), iid)
if #cands > 0 then
  rec = rec_with_flags(rec, string.char(PENDING))
  redis.call('ZADD', pk, added_number(rec_added(rec)), iid)
end
redis.call('SET', P .. 'r' .. iid, rec)
if #tokens > 0 then redis.call('SET', P .. 't' .. iid, tokens) end
if #about > 0 then redis.call('SET', P .. 'a' .. iid, about) end
redis.call('HSET', idkey, digest, iid)
if fresh_like(ext) then redis.call('HSET', tk, ext, iid) end
if name then  -- a cluster of one with a name of its own
  redis.call('ZADD', P .. 'k' .. iid, iid_number(iid), iid)
  set_name(iid, iid, name)
end
local keep = BUCKET_KEEP * IID_LEN
for i = 1, B do
  local k, f = KEYS[K + 1 + i], ARGV[F + i]
  local v = redis.call('HGET', k, f)
  if v then
    v = v .. iid
    if #v > keep then v = string.sub(v, #v - keep + 1) end  -- a bucket keeps its most recent entries
    redis.call('HSET', k, f, v)
  else redis.call('HSET', k, f, iid) end
end
local tb = rec_bucket(rec)
if tb ~= NO_BUCKET then
  redis.call('APPEND', P .. 'e' .. tb, iid)
  redis.call('ZADD', rk, 'NX', bucket_number(tb), tb)
end
return {'ok', gone, iid, pack_candidates(cands), redis.call('EXISTS', dzk), name or ''}
"""

#: KEYS: the fixed ones, idmap. ARGV: P, layout, siglen, digest, ext. Returns {iid, rec, tokens} or {}.
GET = _PRELUDE + r"""
local iid, rec = resolve(KEYS[K + 1], ARGV[4], ARGV[5])
if not iid then return {} end
return {iid, rec, redis.call('GET', P .. 't' .. iid) or ''}
"""

#: Removes several articles in one call.
#: KEYS: the fixed ones, then per article: idmap, b1..bB, v1..vR.
#: ARGV: P, layout, siglen, B, R (0 or num_perm: the value buckets, read
#: only for an article of min_contained_tokens words or more),
#: min_contained_tokens, then per article: digest, ext, iid, check,
#: G (its R value fields concatenated), f1..fB.
#: Returns per article 1 (removed) or -1 (that record is gone or changed:
#: the caller re-reads).
REMOVE = _PRELUDE + r"""
local B, R, mct = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
local HEAD, PER = 6, 5  -- ARGV position: the shared args, then per article 5 args before its B fields
local out = {}
local n = (#KEYS - K) / (B + R + 1)
for a = 0, n - 1 do
  local k, f = K + a * (B + R + 1), HEAD + a * (B + PER)  -- this article's keys and args start after these
  local digest, ext, iid, check, G = ARGV[f + 1], ARGV[f + 2], ARGV[f + 3], ARGV[f + 4], ARGV[f + 5]
  local rec = redis.call('GET', P .. 'r' .. iid)
  if not rec or rec_ext(rec, siglen) ~= ext or rec_added(rec) ~= check then
    out[#out + 1] = -1
  else
    local bkeys, bfields, vkeys = {}, {}, {}
    for i = 1, B do bkeys[i] = KEYS[k + 1 + i]; bfields[i] = ARGV[f + PER + i] end
    for i = 1, R do vkeys[i] = KEYS[k + 1 + B + i] end
    remove_doc(iid, rec, KEYS[k + 1], digest, bkeys, bfields, vkeys, G, mct)
    out[#out + 1] = 1
  end
end
return out
"""

#: KEYS: the fixed ones, idmap a, idmap o1..on. ARGV: P, layout, siglen, digest a,
#: ext a, then per other: digest, ext, the link as seen from a (packed).
#: Stores a's best link (the first other still stored: the caller sends
#: them best first) as ``P l <a>`` = other iid + value, merges a's cluster
#: with every stored other's, clears a's pending flag; by the best link's
#: kind, a joins the other's version (``exact``, ``near``: when a is alone
#: in its own) or both versions are listed as updated (``update``).
#: Returns {cluster name, canonical ext id, the best other's about_meta
#: ('' when none), the latest-version summary (``latest_summary``), index
#: of each other found (1-based) ...},
#: or a NOTFOUND error when a is not stored.
ATTACH = _PRELUDE + r"""
local ia = resolve(KEYS[K + 1], ARGV[4], ARGV[5])
if not ia then return redis.error_reply(E_NOTFOUND .. ARGV[5]) end
local kept, best, best_kind, best_about = {}, nil, nil, ''
for j = 1, #KEYS - K - 1 do  -- ARGV position: the fixed keys, then a's idmap
  local f = 5 + (j - 1) * 3  -- ARGV position: this other's digest, ext, link value follow it
  local ib = resolve(KEYS[K + 1 + j], ARGV[f + 1], ARGV[f + 2])
  if ib and ib ~= ia then
    local value = ARGV[f + 3]  -- ARGV position
    if not best then
      redis.call('SET', P .. 'l' .. ia, ib .. value); best, best_kind = ib, link_kind(value)
      best_about = about_meta(ib)
    end
    merge(root_of(ia), root_of(ib))
    kept[#kept + 1] = j
  end
end
redis.call('SETRANGE', P .. 'r' .. ia, REC_FLAGS_OFFSET, string.char(0))
redis.call('ZREM', pk, ia)
local root = root_of(ia)
if best then version_link(ia, best, best_kind, root) end
local name, canon = cluster_info(root)
local out = {name, rec_ext(redis.call('GET', P .. 'r' .. canon), siglen), best_about, latest_summary(root, canon)}
for _, j in ipairs(kept) do out[#out + 1] = j end
return out
"""

#: KEYS: the fixed ones. ARGV: P, layout, siglen, the articles whose pending
#: flag to clear (see ``settle``). Returns 1.
SETTLE = _PRELUDE + r"""
settle(ARGV[4])
return 1
"""

#: The stories of several articles in one call.
#: KEYS: the fixed ones, idmap 1..n. ARGV: P, layout, siglen, text (1: the articles'
#: whole about values, their text included; 0: about_meta), then per
#: article: digest, ext.
#: Returns per article {} when unknown, else {cluster name, canonical ext
#: id, best link's other ext id or '', its value or '', the record, its
#: about, the best other's (or the partner's) about_meta, the
#: latest-version summary (``latest_summary``), the partner's ext id or
#: ''}: an article's answer in one bounded look-up, whatever its cluster's
#: size. The partner, for an article with no live best link in a cluster
#: of two or more (its best match was removed, or it has none: others
#: linked to it), is another member that stands for its cluster: the
#: canonical copy, or when that is the article itself, the oldest other
#: member (``dedup.index.Story.partner``).
STORY = _PRELUDE + r"""
local want_text = ARGV[4] == '1'
local out = {}
for j = K + 1, #KEYS do  -- ARGV position: the fixed keys, then one idmap per article
  local f = 4 + (j - K - 1) * 2  -- ARGV position: this article's digest and ext follow it
  local iid, rec = resolve(KEYS[j], ARGV[f + 1], ARGV[f + 2])
  if not iid then out[#out + 1] = {}
  else
    local name, canon = cluster_info(rec_root(rec))
    local other, value, oiid = best_link(iid)
    local partner = ''
    if not other then  -- no live best link: another member stands for its cluster
      local p = canon ~= iid and canon or nil
      if not p then
        for _, m in ipairs(redis.call('ZRANGE', P .. 'k' .. rec_root(rec), 0, 1)) do
          if m ~= iid then p = m; break end
        end
      end
      if p then partner, oiid = rec_ext(redis.call('GET', P .. 'r' .. p), siglen), p end
    end
    local mine = want_text and (redis.call('GET', P .. 'a' .. iid) or '') or about_meta(iid)
    out[#out + 1] = {name, rec_ext(redis.call('GET', P .. 'r' .. canon), siglen), other or '', value or '', rec,
                     mine, oiid and about_meta(oiid) or '', latest_summary(rec_root(rec), canon), partner}
  end
end
return out
"""

#: KEYS: the fixed ones, idmap 1..n. ARGV: P, layout, siglen, want_text (1:
#: whole about values, their text included; 0: about_meta), then per article:
#: digest, ext. Returns per article its about value ('' when it has none or
#: is unknown).
ABOUT = _PRELUDE + r"""
local out, want_text = {}, ARGV[4] == '1'
for j = K + 1, #KEYS do  -- ARGV position: the fixed keys, then one idmap per article
  local f = 4 + (j - K - 1) * 2  -- ARGV position: this article's digest and ext follow it
  local iid = resolve(KEYS[j], ARGV[f + 1], ARGV[f + 2])
  out[#out + 1] = iid and (want_text and (redis.call('GET', P .. 'a' .. iid) or '') or about_meta(iid)) or ''
end
return out
"""

#: KEYS: the fixed ones, idmap. ARGV: P, layout, siglen, digest, ext.
#: Returns {cluster name, then per member in insertion order: ext id,
#: published (the record's raw field), words} or {} when unknown:
#: what choosing the canonical copy needs, without signatures or words.
CLUSTER = _PRELUDE + r"""
local iid, rec = resolve(KEYS[K + 1], ARGV[4], ARGV[5])
if not iid then return {} end
local root = rec_root(rec)
local out = {(cluster_info(root))}
local ms = redis.call('ZRANGE', P .. 'k' .. root, 0, -1)
if #ms == 0 then ms = {iid} end
for _, m in ipairs(ms) do
  local r = redis.call('GET', P .. 'r' .. m)
  out[#out + 1] = rec_ext(r, siglen)
  out[#out + 1] = rec_published(r)
  out[#out + 1] = words_of(m)
end
return out
"""

#: KEYS: the fixed ones, idmap. ARGV: P, layout, siglen, digest, ext, start, count.
#: One page of the story named ARGV[5], else of the one holding the article ARGV[5]: {cluster name, canonical ext
#: id, members in all, then per member of the page (insertion order): ext
#: id, published (raw), words, best link's other ext id or '', its value or
#: '', its about_meta}
#: or {} when unknown. Work: O(log n + count).
MEMBERS = _PRELUDE + r"""
local root = redis.call('HGET', nk, ARGV[5])  -- a story's name first: it keeps it after its founder is gone
local iid
if not root then
  local rec
  iid, rec = resolve(KEYS[K + 1], ARGV[4], ARGV[5])
  if not iid then return {} end
  root = rec_root(rec)
end
local name, canon = cluster_info(root)
local start, count = tonumber(ARGV[6]), tonumber(ARGV[7])
local ck = P .. 'k' .. root
local total, ms = redis.call('ZCARD', ck), nil
if total == 0 then
  total, ms = 1, {}
  if start == 0 and count > 0 then ms = {iid or root} end
else
  ms = redis.call('ZRANGE', ck, start, start + count - 1)
end
local out = {name, rec_ext(redis.call('GET', P .. 'r' .. canon), siglen), total}
for _, m in ipairs(ms) do
  local r = redis.call('GET', P .. 'r' .. m)
  local other, value = best_link(m)
  out[#out + 1] = rec_ext(r, siglen); out[#out + 1] = rec_published(r); out[#out + 1] = words_of(m)
  out[#out + 1] = other or ''; out[#out + 1] = value or ''; out[#out + 1] = about_meta(m)
end
return out
"""

#: KEYS: the fixed ones, idmap. ARGV: P, layout, siglen, digest, ext.
#: Returns {other ext id, link value} for the article's best link, or {}.
LINKS = _PRELUDE + r"""
local iid = resolve(KEYS[K + 1], ARGV[4], ARGV[5])
if not iid then return {} end
local other, value = best_link(iid)
if not other then return {} end
return {other, value}
"""

#: KEYS: the fixed ones. ARGV: P, layout, siglen, cutoff_ms, limit.
#: Returns {iid, rec, ...} for up to ``limit`` live expired articles (the
#: caller removes them); read-mostly, like the scan at the start of ADD.
PURGE_SCAN = _PRELUDE + r"""
return expired(tonumber(ARGV[4]), tonumber(ARGV[5]))
"""

#: KEYS: the fixed ones. ARGV: P, layout, siglen, cutoff (seconds), limit.
#: Returns {iid, rec, tokens, ...} for up to ``limit`` articles still
#: pending (stored with candidates, never linked: the link step failed and
#: the client never retried) that were added at or before ``cutoff``;
#: read-only (the caller confirms and attaches them).
PENDING_SCAN = _PRELUDE + r"""
local out = {}
for _, id in ipairs(redis.call('ZRANGEBYSCORE', pk, '-inf', ARGV[4], 'LIMIT', 0, tonumber(ARGV[5]))) do
  out[#out + 1] = id; out[#out + 1] = redis.call('GET', P .. 'r' .. id)
  out[#out + 1] = redis.call('GET', P .. 't' .. id) or ''
end
return out
"""

#: Every script by name.
SCRIPTS: dict[str, str] = {
    "ABOUT": ABOUT, "ADD": ADD, "ATTACH": ATTACH, "CLUSTER": CLUSTER, "GET": GET, "LINKS": LINKS, "MEMBERS": MEMBERS,
    "PENDING_SCAN": PENDING_SCAN, "PURGE_SCAN": PURGE_SCAN, "REMOVE": REMOVE, "SETTLE": SETTLE, "STORY": STORY,
}


def register(client) -> dict:
    """Every script as a redis-py ``Script`` bound to ``client`` (no round trip:
    a script is loaded on its first ``NOSCRIPT``)."""
    return {name: client.register_script(src) for name, src in SCRIPTS.items()}


# -- editors' decisions and the web page's views (issue 17) -----------------
# One block, appended. Keys (keyspace.py's table): ``P Dp`` the pinned
# canonical ids, ``P Dk <story name>`` the story's members that a decision
# names (``merge`` above unions them), read by ``better`` and ``merge``.

#: KEYS: the fixed ones, idmap f, idmap s1..sn.
#: ARGV: P, layout, siglen, f digest, f ext, then per s: digest, ext.
#: The articles s1..sn (all in f's story, not its founder) leave it and
#: form one story, rooted at the oldest of them (its name): their records'
#: roots, the two member sets, the new story's canonical; the rest's
#: canonical again only when it left (O(rest), as a removal of the
#: canonical does); their best links to articles that stay are dropped;
#: their entries in ``P Dk`` move with them; each leaves its version and
#: starts one of its own (the new story's latest is its canonical copy
#: until an update comes; the rest's versions find their first copies
#: among those who stay, O(rest) when one left). Work: O(n) otherwise.
#: The new story is named by its oldest article's id unless a live story
#: holds that name, else by a fresh name (``fresh_name``).
#: Returns {new story name, old story name} or an error: NOTFOUND <id>,
#: SPLIT_APART <id> (in another story), SPLIT_FOUNDER <id> (founded it).
SPLIT = _PRELUDE + r"""
local fi, frec = resolve(KEYS[K + 1], ARGV[4], ARGV[5])
if not fi then return redis.error_reply(E_NOTFOUND .. ARGV[5]) end
local root = rec_root(frec)
local ms, inset = {}, {}
for j = K + 2, #KEYS do  -- ARGV position: the fixed keys, f's idmap, one idmap per s
  local f = 5 + (j - K - 2) * 2  -- ARGV position: this s's digest and ext follow it
  local iid, rec = resolve(KEYS[j], ARGV[f + 1], ARGV[f + 2])
  if not iid then return redis.error_reply(E_NOTFOUND .. ARGV[f + 2]) end
  if rec_root(rec) ~= root then return redis.error_reply('SPLIT_APART ' .. ARGV[f + 2]) end
  if iid == root then return redis.error_reply('SPLIT_FOUNDER ' .. ARGV[f + 2]) end
  ms[#ms + 1] = iid; inset[iid] = true
end
local name, canon = cluster_info(root)
table.sort(ms)
local nroot = ms[1]
local nname = rec_ext(redis.call('GET', P .. 'r' .. nroot), siglen)
local named = #ms > 1  -- the new story has a name key (and a member set)
if name_held(nname, root, #ms) then  -- its founder's id names a live story: a fresh name
  nname = fresh_name(nname, root, #ms)
  named = true
end
local ck, nck = P .. 'k' .. root, P .. 'k' .. nroot
local dk, ndk = P .. 'Dk' .. name, P .. 'Dk' .. nname
local best, brec
for _, m in ipairs(ms) do
  local r = redis.call('GET', P .. 'r' .. m)
  redis.call('ZREM', ck, m)
  set_root(m, nroot)
  if named then redis.call('ZADD', nck, iid_number(m), m) end
  if not best or better(m, r, best, brec) then best, brec = m, r end
  local _, _, other = best_link(m)
  if other and not inset[other] then redis.call('DEL', P .. 'l' .. m) end
  redis.call('SMOVE', dk, ndk, rec_ext(r, siglen))
end
for _, m in ipairs(ms) do  -- versions: each leaves the story's (which finds its first copies among those who stay)
  leave_version(m, redis.call('GET', P .. 'r' .. m), root)
  redis.call('SETRANGE', P .. 'r' .. m, REC_VERSION_OFFSET, m)
end
if named then set_name(nroot, best, nname) end
if redis.call('EXISTS', ck) == 0 then  -- every member left a story whose founder was removed
  redis.call('DEL', P .. 'u' .. root)
  drop_name(root, name)
elseif inset[canon] then recanon(root, name) end
return {nname, name}
"""

#: KEYS: the fixed ones, idmap c. ARGV: P, layout, siglen, digest, ext.
#: ``c`` becomes its story's canonical copy (``P Dp`` holds it, whether
#: or not it is stored yet); the story's former canonical, when it was an
#: editor's pick too, is picked no longer. O(1).
#: Returns {the superseded pick's ext id or '', the story's name or ''}.
PIN = _PRELUDE + r"""
redis.call('SADD', dpk, ARGV[5])
local iid, rec = resolve(KEYS[K + 1], ARGV[4], ARGV[5])
if not iid then return {'', ''} end
local root = rec_root(rec)
local name, canon = cluster_info(root)
if redis.call('EXISTS', P .. 'n' .. root) == 0 or canon == iid then return {'', name} end
local cext = rec_ext(redis.call('GET', P .. 'r' .. canon), siglen)
local superseded = ''
if redis.call('SISMEMBER', dpk, cext) == 1 then
  redis.call('SREM', dpk, cext); superseded = cext
end
set_name(root, iid, name)
return {superseded, name}
"""

#: KEYS: the fixed ones. ARGV: P, layout, siglen, from (an internal id
#: number; 0: the newest), count. The stored articles among internal ids
#: from, from-1, ... (count of them: insertion order, newest first):
#: {the next from (0: none left), then per article: id number, ext id,
#: added (raw), published (raw), story name, about_meta}. O(count).
RECENT = _PRELUDE + r"""
local top, count = tonumber(ARGV[4]), tonumber(ARGV[5])
local s = tonumber(redis.call('HGET', mk, 's') or '0')
if top <= 0 or top > s then top = s end
local low = math.max(1, top - count + 1)
local out = {top >= 1 and low - 1 or 0}
for n = top, low, -1 do
  local iid = pack_iid(n)
  local r = redis.call('GET', P .. 'r' .. iid)
  if r then
    out[#out + 1] = n; out[#out + 1] = rec_ext(r, siglen); out[#out + 1] = rec_added(r)
    out[#out + 1] = rec_published(r); out[#out + 1] = (cluster_info(rec_root(r))); out[#out + 1] = about_meta(iid)
  end
end
return out
"""

SCRIPTS.update({"PIN": PIN, "RECENT": RECENT, "SPLIT": SPLIT})
__all__ += ["PIN", "RECENT", "SPLIT"]
