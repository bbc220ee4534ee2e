#!/usr/bin/env python3
"""Enqueue/drain benchmark for pgqueuer (PyPI), for comparison with our own queue.

Setup:  pip install -r requirements.txt
Usage:  python bench.py --dsn postgresql://postgres@127.0.0.1:5432/bench \
            --jobs 100000 --workers 4 --batch-size 10

WARNING: drops and re-creates pgqueuer's own tables (pgqueuer_*) in the target
database for a clean run. Use a throw-away database.

Output (machine-readable, one line each):
    pgqueuer enqueue_jobs_per_sec=12345.6
    pgqueuer workers=4 jobs=100000 seconds=12.3 jobs_per_sec=8130.1
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time

import asyncpg
from pgqueuer import QueueManager
from pgqueuer.models import Job
from pgqueuer.queries import Queries

ENTRYPOINT = "bench_noop"


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--dsn", required=True, help="PostgreSQL DSN (asyncpg/libpq URL)")
    p.add_argument("--jobs", type=int, default=100_000, help="jobs to enqueue and drain")
    p.add_argument("--workers", type=int, default=1, help="concurrent QueueManagers")
    p.add_argument("--batch-size", type=int, default=10,
                   help="dequeue batch size per QueueManager (pgqueuer default: 10)")
    p.add_argument("--enqueue-batch", type=int, default=1000,
                   help="jobs per enqueue call (one multi-row INSERT each)")
    p.add_argument("--max-concurrent-tasks", type=int, default=0,
                   help="per-worker cap on picked jobs, 0 = unlimited (pgqueuer default); "
                        "if set it must be >= 2 * batch-size")
    p.add_argument("--timeout", type=float, default=600.0,
                   help="seconds allowed for the drain before failing")
    return p.parse_args()


async def reset_schema(dsn: str) -> None:
    """Uninstall (if present) and install pgqueuer's schema: same as `pgq uninstall; pgq install`."""
    conn = await asyncpg.connect(dsn)
    try:
        queries = Queries.from_asyncpg_connection(conn)
        if await queries.schema_is_installed():
            await queries.uninstall()
        await queries.install()
    finally:
        await conn.close()


async def enqueue(dsn: str, jobs: int, batch: int) -> float:
    """Insert `jobs` empty-payload jobs via batched enqueue() calls; returns jobs/sec."""
    conn = await asyncpg.connect(dsn)
    try:
        queries = Queries.from_asyncpg_connection(conn)
        start = time.perf_counter()
        for offset in range(0, jobs, batch):
            n = min(batch, jobs - offset)
            # List arguments make enqueue() one INSERT ... SELECT FROM UNNEST(...).
            await queries.enqueue([ENTRYPOINT] * n, [None] * n, [0] * n)
        return jobs / (time.perf_counter() - start)
    finally:
        await conn.close()


async def drain(args: argparse.Namespace) -> float:
    """Run `workers` QueueManagers until `jobs` handlers have run; returns elapsed seconds."""
    done = asyncio.Event()
    completed = 0
    # One dedicated connection per consumer, as a separate worker process would have.
    conns = [await asyncpg.connect(args.dsn) for _ in range(args.workers)]
    managers = [QueueManager(Queries.from_asyncpg_connection(c)) for c in conns]

    async def noop(job: Job) -> None:
        nonlocal completed
        completed += 1
        if completed == args.jobs:
            done.set()

    for qm in managers:
        qm.entrypoint(ENTRYPOINT)(noop)

    start = time.perf_counter()
    tasks = [
        asyncio.create_task(
            qm.run(batch_size=args.batch_size,
                   max_concurrent_tasks=args.max_concurrent_tasks or None)
        )
        for qm in managers
    ]
    try:
        # Wait for the completion count, but surface a crashed worker immediately.
        waiter = asyncio.create_task(done.wait())
        finished, _ = await asyncio.wait(
            [waiter, *tasks], timeout=args.timeout, return_when=asyncio.FIRST_COMPLETED
        )
        if waiter not in finished:
            for t in finished:
                t.result()  # re-raises the worker's exception
            raise SystemExit(
                f"pgqueuer ERROR: timeout after {args.timeout}s, "
                f"{completed}/{args.jobs} jobs completed"
            )
        # Stop the workers; leaving run() flushes the batched status-log buffer,
        # i.e. finished jobs are removed from the queue table. Count that in the time.
        for qm in managers:
            qm.shutdown.set()
        await asyncio.wait_for(asyncio.gather(*tasks), timeout=args.timeout)
        elapsed = time.perf_counter() - start
    finally:
        for t in tasks:
            t.cancel()
        for c in conns:
            await c.close()
    return elapsed


async def verify_empty(dsn: str) -> None:
    """Fail loudly if any job is left in the queue table after the drain."""
    conn = await asyncpg.connect(dsn)
    try:
        left = sum(s.count for s in await Queries.from_asyncpg_connection(conn).queue_size())
    finally:
        await conn.close()
    if left:
        raise SystemExit(f"pgqueuer ERROR: {left} jobs still in queue after drain")


async def main() -> None:
    args = parse_args()
    if args.max_concurrent_tasks and args.max_concurrent_tasks < 2 * args.batch_size:
        sys.exit("--max-concurrent-tasks must be 0 or >= 2 * --batch-size")
    await reset_schema(args.dsn)
    rate = await enqueue(args.dsn, args.jobs, args.enqueue_batch)
    print(f"pgqueuer enqueue_jobs_per_sec={rate:.1f}", flush=True)
    seconds = await drain(args)
    await verify_empty(args.dsn)
    print(f"pgqueuer workers={args.workers} jobs={args.jobs} "
          f"seconds={seconds:.3f} jobs_per_sec={args.jobs / seconds:.1f}", flush=True)


if __name__ == "__main__":
    try:  # pgqueuer's own CLI runs on uvloop (a dependency of pgqueuer on Linux/macOS).
        import uvloop
    except ImportError:
        asyncio.run(main())
    else:
        uvloop.run(main())
