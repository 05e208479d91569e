"""The exporter: scheduled collection cycles, /metrics served from the last snapshot.

`schedule` ticks every --interval; each tick hands one cycle to a single worker
thread (a tick that finds the previous cycle still running is skipped, so cycles
never overlap and the schedule does not drift by the cycle's own length). The
HTTP server only reads the last complete snapshot: a scrape never causes SSH.
SIGTERM/SIGINT stop the loop, give a running cycle STOP_GRACE_S to finish and
close connections (which ends what a stuck cycle waits on); SIGHUP re-reads
--web-config (a bad file is logged and the old one kept). Each round of a cycle
has a hard deadline (cycle.py), so one stuck host never freezes the others' data.

Listening: the default is port 9469 on all interfaces, like other Prometheus
exporters (Prometheus usually scrapes from another machine). Protect it with
`--web-config` (TLS and basic auth, the exporter toolkit's format), a firewall,
or `--listen 127.0.0.1:9469` when Prometheus runs on the same machine.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FuturesTimeout
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any

from fleetkit.monitoring.cycle import Collection, Targets, open_pool
from fleetkit.monitoring.shard import Shard
from fleetkit.monitoring.snapshot import FleetSnapshot

if TYPE_CHECKING:
    from fleetkit.monitoring.httpserver import Limits
    from fleetkit.monitoring.web import Server
    from fleetkit.monitoring.webconfig import WebConfig

log = logging.getLogger("fleetkit.monitoring")

STOP_GRACE_S = 5.0  # a running cycle gets this long after SIGTERM before connections close
OPENMETRICS_ACCEPT = "application/openmetrics-text; version=1.0.0; charset=utf-8"


@dataclass(frozen=True)
class ExporterOptions:
    """What `fleetkit exporter` was asked for."""

    inventory: str
    limit: str | None = None
    listen: str = ":9469"
    interval: float = 15.0
    timeout: float = 10.0
    web_config: Path | None = None
    max_series_per_host: int = 10_000
    shard: Shard = field(default_factory=Shard)


class MetricsCache:
    """Renders /metrics once per snapshot and format; scrapes get the stored bytes.

    The registry's collector reads `pinned`, which is set (under the lock) to the
    snapshot being rendered, so the bytes always match the key they are stored under.
    After a cycle, prewarm() renders the formats scrapers have asked for (text until
    a scraper asks for OpenMetrics), so no scrape pays for rendering.
    """

    def __init__(
        self, latest: Callable[[], FleetSnapshot | None], *, max_series_per_host: int = 10_000
    ) -> None:
        from fleetkit.monitoring.collector import make_registry

        self._latest = latest
        self._pinned: FleetSnapshot | None = None
        self._registry = make_registry(
            lambda: self._pinned, max_series_per_host=max_series_per_host
        )
        self._cache: dict[str, tuple[FleetSnapshot | None, bytes]] = {}
        self._asked: dict[str, str] = {}  # content type -> an Accept header that chose it
        self._lock = threading.Lock()

    def render(self, accept: str = "") -> tuple[bytes, str]:
        """(body, content type) for an Accept header, from the latest snapshot."""
        from prometheus_client.exposition import choose_encoder

        encoder, ctype = choose_encoder(accept)
        snap = self._latest()
        with self._lock:
            self._asked.setdefault(ctype, accept)
            cached = self._cache.get(ctype)
            if cached is not None and cached[0] is snap:
                return cached[1], ctype
            self._pinned = snap
            body = encoder(self._registry)
            self._cache[ctype] = (snap, body)
            return body, ctype

    def text(self) -> str:
        """The latest snapshot in the Prometheus text format."""
        return self.render("")[0].decode()

    def prewarm(self) -> None:
        """Render the formats scrapers use now (after a cycle), off the scrape path."""
        with self._lock:
            wanted = list(self._asked.values()) or [""]
        for accept in wanted:
            self.render(accept)


@contextmanager
def open_collection(options: ExporterOptions, *, cwd: Path | None = None) -> Iterator[Collection]:
    """Load the inventory, select hosts (this --shard's) and hold one HostPool for the
    collection's life. Shard 0 also holds the swarm managers and k8s servers of the
    whole selection, to read the cluster from; the other shards report no cluster."""
    from fleetkit.executor.pool import iter_unique
    from fleetkit.inventory.load import load_inventory
    from fleetkit.inventory.select import select_hosts

    inventory = load_inventory(options.inventory)
    selected = select_hosts(inventory, "all", options.limit, cwd=cwd or Path.cwd())
    shard = options.shard
    hosts = shard.select(selected)
    if shard.count == 1:
        targets = Targets.from_inventory(inventory, hosts)
    else:
        cluster_from = selected if shard.reports_cluster else ()
        targets = Targets.from_inventory(inventory, hosts, cluster_from=cluster_from)
        log.info("shard %s: %d of %d selected hosts", shard, len(hosts), len(selected))
    pool_hosts = iter_unique([*hosts, *targets.managers, *targets.k8s_servers])
    with open_pool(inventory, pool_hosts, options.timeout) as pool:
        yield Collection(
            targets,
            pool,
            timeout=options.timeout,
            interval=options.interval,
        )


def run_once(collection: Collection, *, max_series_per_host: int = 10_000) -> str:
    """One cycle, returned as the metrics text (`fleetkit exporter --once`)."""
    collection.cycle()
    cache = MetricsCache(lambda: collection.latest, max_series_per_host=max_series_per_host)
    return cache.text()


class CycleRunner:
    """Runs cycles on one worker thread, never two at once; logs and survives failures."""

    def __init__(self, collection: Collection, cache: MetricsCache) -> None:
        self._collection = collection
        self._cache = cache
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="fk-cycle")
        self._running: Future[None] | None = None
        self._closing = False

    def tick(self) -> None:
        """Start a cycle unless one is still running (then this tick is skipped)."""
        if self._running is not None and not self._running.done():
            log.warning("previous cycle still running: skipping this tick")
            return
        self._running = self._worker.submit(self._cycle)

    def _cycle(self) -> None:
        try:
            snap = self._collection.cycle()
            self._cache.prewarm()
        except Exception:  # one bad cycle must not stop the exporter
            if self._closing:  # the pool closed under a cycle abandoned at shutdown
                log.debug("abandoned cycle ended", exc_info=True)
            else:
                log.exception("collection cycle failed")
            return
        up = sum(1 for h in snap.hosts if h.up)
        level = logging.INFO if snap.cycle == 1 else logging.DEBUG
        log.log(
            level,
            "cycle %d: %d/%d hosts up in %.2fs",
            snap.cycle,
            up,
            len(snap.hosts),
            snap.cycle_duration_s,
        )

    def close(self, grace: float = STOP_GRACE_S) -> bool:
        """Stop: wait at most grace seconds for a running cycle; True if none is left.
        The caller then closes the pool, which unblocks a cycle still running."""
        self._closing = True
        running = self._running
        finished = True
        if running is not None and not running.done():
            try:
                running.result(timeout=grace)
            except FuturesTimeout:
                log.warning("the running cycle did not finish within %gs: abandoning it", grace)
                finished = False
        self._worker.shutdown(wait=False, cancel_futures=True)
        return finished


def http_limits(max_connections: int = 1024) -> Limits:
    """Connection limits that fit the process's open-file limit (raised to its hard limit),
    leaving room for the SSH connections to hosts."""
    import resource

    from fleetkit.monitoring.httpserver import Limits

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = max_connections + 1024
    if soft != resource.RLIM_INFINITY and soft < wanted:
        target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (ValueError, OSError):
            pass
    room = max_connections if soft == resource.RLIM_INFINITY else max(64, soft - 1024)
    return Limits(max_connections=min(max_connections, room))


def serve(
    collection: Collection,
    options: ExporterOptions,
    stop: threading.Event,
    *,
    web_config: WebConfig | None = None,
    reload: threading.Event | None = None,
) -> None:
    """Serve /metrics and run scheduled cycles until stop is set; reload re-reads the web config."""
    import schedule

    from fleetkit.monitoring import web

    host, port = web.parse_listen(options.listen)
    cache = MetricsCache(lambda: collection.latest, max_series_per_host=options.max_series_per_host)
    app = web.MetricsApp(cache.render, ready=lambda: collection.latest is not None)
    server = web.serve(app, host, port, web_config, limits=http_limits())
    runner = CycleRunner(collection, cache)
    log.info(
        "fleetkit exporter listening on %s (%d hosts, a cycle every %gs)",
        server.url,
        len(collection.targets.hosts),
        options.interval,
    )
    try:
        scheduler = schedule.Scheduler()
        # schedule is typed for int intervals; a float works (it builds a timedelta)
        scheduler.every(options.interval).seconds.do(runner.tick)  # type: ignore[arg-type]
        runner.tick()
        while not stop.is_set():
            if reload is not None and reload.is_set():
                reload.clear()
                reload_web_config(server, options.web_config)
            scheduler.run_pending()
            idle = scheduler.idle_seconds
            stop.wait(min(max(idle if idle is not None else 0.5, 0.01), 0.5))
    finally:
        log.info("stopping: finishing the running cycle, closing connections")
        server.shutdown()
        runner.close(STOP_GRACE_S)


def reload_web_config(server: Server, path: Path | None) -> bool:
    """SIGHUP: read the web config again and use it; on any error log it and keep the old one."""
    from fleetkit.errors import MonitoringError
    from fleetkit.monitoring.webconfig import load_web_config

    if path is None:
        log.info("SIGHUP: no --web-config to reload")
        return False
    try:
        server.reload(load_web_config(path))
    except MonitoringError as err:
        log.error("SIGHUP: keeping the previous web config: %s", err)
        return False
    log.info("SIGHUP: reloaded the web config %s", path)
    return True


@contextmanager
def stop_on_signals(reload: threading.Event | None = None) -> Iterator[threading.Event]:
    """An event set by SIGTERM or SIGINT while the block runs; SIGHUP sets `reload`
    (handlers restored after)."""
    stop = threading.Event()

    def handler(signum: int, frame: FrameType | None) -> None:
        log.info("received %s", signal.Signals(signum).name)
        if signum == signal.SIGHUP and reload is not None:
            reload.set()
        else:
            stop.set()

    previous: dict[signal.Signals, Any] = {}
    signals = [signal.SIGTERM, signal.SIGINT] + ([signal.SIGHUP] if reload is not None else [])
    for sig in signals:
        previous[sig] = signal.signal(sig, handler)
    try:
        yield stop
    finally:
        for which, old in previous.items():
            signal.signal(which, old)


def run(options: ExporterOptions, *, once: bool = False) -> str | None:
    """`fleetkit exporter`: --once returns one cycle's metrics text; else serve until a signal."""
    from fleetkit.monitoring.web import parse_listen
    from fleetkit.monitoring.webconfig import load_web_config

    # bad input is exit 2 before any host is touched, --once too
    parse_listen(options.listen)
    web_config = load_web_config(options.web_config) if options.web_config else None
    start = time.monotonic()
    with open_collection(options) as collection:
        if once:
            return run_once(collection, max_series_per_host=options.max_series_per_host)
        reload = threading.Event()
        with stop_on_signals(reload) as stop:
            serve(collection, options, stop, web_config=web_config, reload=reload)
    log.info("stopped after %.0fs", time.monotonic() - start)
    return None
