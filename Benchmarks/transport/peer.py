"""postfix-mta-sts-resolver (PyPI) as the transport benchmark's peer: its own socketmap responder, in its
fastest configuration (internal LRU cache, uvloop when installed), with the benchmark's 1,000 enforce
policies put in its cache first, exactly as it would have cached them after fetching them.

    peer.py PORT DOMAINS
"""
import asyncio
import sys
import time

from postfix_mta_sts_resolver import utils
from postfix_mta_sts_resolver.base_cache import CacheEntry
from postfix_mta_sts_resolver.internal_cache import InternalLRUCache
from postfix_mta_sts_resolver.responder import STSSocketmapResponder


async def main(port, count):
    cfg = utils.populate_cfg_defaults({
        "host": "127.0.0.1", "port": port, "reuse_port": True,
        # No look-up during the run: every cached entry stays fresh.
        "cache_grace": 86400,
        "zones": {"postfix": {"strict_testing": False, "timeout": 4, "require_sni": True}},
    })
    cache = InternalLRUCache(cache_size=count * 2)
    await cache.setup()
    now = time.time()
    for index in range(1, count + 1):
        name = "d%d.bench.example" % index
        await cache.set(name, CacheEntry(now, "bench1", {
            "version": "STSv1", "mode": "enforce", "mx": ["mx1." + name, "*." + name], "max_age": 86400}))
    responder = STSSocketmapResponder(cfg, asyncio.get_running_loop(), cache)
    await responder.start()
    print("postfix-mta-sts-resolver listening on 127.0.0.1:%d with %d cached policies" % (port, count), flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    try:
        import uvloop
        uvloop.install()
    except ImportError:
        pass
    asyncio.run(main(int(sys.argv[1]), int(sys.argv[2])))
