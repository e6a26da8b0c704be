"""The Redis side of the shared frontier: the connection (its password from the
environment only), the keys of a source, how requests are written (JSON, never pickle),
and the Lua scripts that move requests between the queue and the workers atomically."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import socket
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import redis

from pipelines.config import Config
from pipelines.config.cluster import REDIS_PASSWORD_ENV

LEASE_SECONDS = 30.0  # a worker silent this long is gone: its requests go back to the queue
HEARTBEAT_SECONDS = 5.0
SEED_BATCH = 10_000  # URL keys per round trip when the store's are copied to Redis
SOCKET_TIMEOUT = 10.0


# KEYS: workers, inflight, requests. Takes the requests of workers whose lease is over (or
# that are not registered at all) back to the queue; returns how many.
REAP_SCRIPT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local all = redis.call('HGETALL', KEYS[2])
local back = 0
for i = 1, #all, 2 do
  local owner, score = string.match(all[i + 1], '^(.*)|([^|]*)$')
  if not redis.call('ZSCORE', KEYS[1], owner) then
    redis.call('HDEL', KEYS[2], all[i])
    redis.call('ZADD', KEYS[3], score, all[i])
    back = back + 1
  end
end
"""
# + KEYS: seen, once, failed, queued; ARGV: worker, lease (ms). Returns {fresh, back}.
JOIN_SCRIPT = (
    REAP_SCRIPT
    + """
local fresh = 0
if redis.call('ZCARD', KEYS[1]) == 0 then
  fresh = 1
  redis.call('DEL', KEYS[4], KEYS[5], KEYS[6])
  if redis.call('EXISTS', KEYS[7]) == 1 then
    redis.call('SUNIONSTORE', KEYS[4], KEYS[7])
  end
end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
return {fresh, back}
"""
)
# ARGV: worker, lease (ms). Keeps the worker alive; returns the requests taken back.
BEAT_SCRIPT = (
    REAP_SCRIPT + "\nredis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])\nreturn back\n"
)
# ARGV: worker. Requests in flight in other live workers (after reaping), and waiting.
BUSY_SCRIPT = (
    REAP_SCRIPT
    + """
local others = 0
local owners = redis.call('HVALS', KEYS[2])
for _, v in ipairs(owners) do
  if string.match(v, '^(.*)|') ~= ARGV[1] then others = others + 1 end
end
return {others, redis.call('ZCARD', KEYS[3])}
"""
)
# KEYS: requests, inflight; ARGV: worker. The best request, moved to inflight atomically.
POP_SCRIPT = """
local r = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
if #r == 0 then return false end
redis.call('ZREM', KEYS[1], r[1])
redis.call('HSET', KEYS[2], r[1], ARGV[1] .. '|' .. r[2])
return r[1]
"""
# KEYS: workers, inflight, requests; ARGV: worker. This worker's requests back to the queue.
LEAVE_SCRIPT = """
local all = redis.call('HGETALL', KEYS[2])
local back = 0
for i = 1, #all, 2 do
  local owner, score = string.match(all[i + 1], '^(.*)|([^|]*)$')
  if owner == ARGV[1] then
    redis.call('HDEL', KEYS[2], all[i])
    redis.call('ZADD', KEYS[3], score, all[i])
    back = back + 1
  end
end
redis.call('ZREM', KEYS[1], ARGV[1])
return back
"""


def display_url(url: str) -> str:
    """The Redis URL as it may be shown: no password, whatever it holds."""
    parts = urlsplit(url)
    netloc = parts.netloc.rpartition("@")[2]  # host and port, as written
    if parts.username:
        netloc = f"{parts.username}@{netloc}"
    query = urlencode([(k, v) for k, v in parse_qsl(parts.query) if k.lower() != "password"])
    return urlunsplit((parts.scheme, netloc, parts.path, query, ""))


def dataset_id(config: Config) -> str:
    """A short, stable name of the dataset: its keys never meet another dataset's."""
    if config.store_url is not None:
        parts = urlsplit(config.store_url)
        query = [(k, v) for k, v in parse_qsl(parts.query) if k.lower() not in ("password",)]
        where = f"{parts.hostname}:{parts.port or 5432}{parts.path}?{urlencode(query)}"
        identity = "postgresql://" + where
    else:
        identity = f"sqlite://{socket.gethostname()}{config.store_path.resolve()}"
    return hashlib.sha1(identity.encode()).hexdigest()[:12]


def key_prefix(config: Config, source: str) -> str:
    return f"newswatch:{config.cluster.project}:{dataset_id(config)}:{source}"


def connect(url: str) -> redis.Redis:
    """A client of the server at ``url``; the password comes from the environment only."""
    password = os.environ.get(REDIS_PASSWORD_ENV) or None
    client: redis.Redis = redis.Redis.from_url(
        url,
        password=password,
        socket_timeout=SOCKET_TIMEOUT,
        socket_connect_timeout=SOCKET_TIMEOUT,
        retry_on_timeout=False,
    )
    return client


def describe(exc: BaseException) -> str:
    """A Redis error as one line, without what the URL or the environment held."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    refused = isinstance(exc, redis.AuthenticationError) or "NOAUTH" in text
    if refused and not os.environ.get(REDIS_PASSWORD_ENV):
        return f"the server wants a password: set {REDIS_PASSWORD_ENV}"
    if refused:
        return f"the server refused the password in {REDIS_PASSWORD_ENV}"
    return text


class JsonSerializer:
    """Requests as JSON: bytes and non-text dict keys are wrapped, nothing is executed."""

    @staticmethod
    def dumps(obj: Any) -> bytes:
        return json.dumps(_wrap(obj), separators=(",", ":")).encode()

    @staticmethod
    def loads(data: bytes | str) -> Any:
        return _unwrap(json.loads(data))


def _wrap(obj: Any) -> Any:
    if isinstance(obj, bytes):
        return {"__b": base64.b64encode(obj).decode("ascii")}
    if isinstance(obj, dict):
        if all(isinstance(k, str) and not k.startswith("__") for k in obj):
            return {k: _wrap(v) for k, v in obj.items()}
        return {"__d": [[_wrap(k), _wrap(v)] for k, v in obj.items()]}
    if isinstance(obj, list | tuple):
        return [_wrap(v) for v in obj]
    return obj


def _unwrap(obj: Any) -> Any:
    if isinstance(obj, dict):
        if "__b" in obj:
            return base64.b64decode(obj["__b"])
        if "__d" in obj:
            return {_unwrap(k): _unwrap(v) for k, v in obj["__d"]}
        return {k: _unwrap(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_unwrap(v) for v in obj]
    return obj
