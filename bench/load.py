"""Server load: N concurrent sessions changing the period on GoalGap's demo, against a bare
Streamlit page (bench/bare_page.py) under the same load, measured in one run.

    python -m bench.load --sessions 25 --changes 6 --rounds 2

Sessions are driven at the protocol level (Streamlit's websocket `/_stcore/stream`, BackMsg and
ForwardMsg protobufs), as a browser drives them but without a browser's cost: each session opens
the app, finds the sidebar's period selectbox ("Which") and picks the next period `--changes`
times, one after the other; a change's latency is from sending it to the server's
`script_finished`. Rounds alternate between the bare page and the demo so both meet the same
machine. Prints (and with --out writes) the median and p95 of each and the ratio of the medians.
Starts both servers itself (ports --port and --bare-port) unless --no-start.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import websockets
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

from bench import publish

ROOT = Path(__file__).resolve().parents[1]
BARE_PAGE = Path(__file__).with_name("bare_page.py")
PERIOD_LABEL = "Which"
DONE = ForwardMsg.ScriptFinishedStatus.Value("FINISHED_SUCCESSFULLY")


@dataclass(frozen=True)
class Target:
    name: str
    script: Path
    port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


class Session:
    """One browser tab's worth of protocol: reruns with widget states, waits for the run's end."""

    def __init__(self, ws: websockets.ClientConnection) -> None:
        self.ws = ws
        self.page_hash = ""
        self.period: tuple[str, list[str]] | None = None   # widget id, options

    async def rerun(self, widget: tuple[str, str] | None = None) -> float:
        msg = BackMsg()
        msg.rerun_script.query_string = ""
        msg.rerun_script.page_script_hash = self.page_hash
        if widget:
            state = msg.rerun_script.widget_states.widgets.add()
            state.id, state.string_value = widget
        started = time.perf_counter()
        await self.ws.send(msg.SerializeToString())
        while True:
            fwd = ForwardMsg()
            fwd.ParseFromString(await self.ws.recv())
            kind = fwd.WhichOneof("type")
            if kind == "new_session":
                self.page_hash = fwd.new_session.page_script_hash
            elif kind == "delta" and fwd.delta.WhichOneof("type") == "new_element":
                element = fwd.delta.new_element
                if element.WhichOneof("type") == "exception":
                    raise RuntimeError(f"the app showed an exception: {element.exception.message}")
                if element.WhichOneof("type") == "selectbox" and element.selectbox.label == PERIOD_LABEL:
                    self.period = (element.selectbox.id, list(element.selectbox.options))
            elif kind == "script_finished" and fwd.script_finished == DONE:
                return time.perf_counter() - started


async def drive(target: Target, changes: int, opened: asyncio.Queue, start_gate: asyncio.Event) -> list[float]:
    """One session: open the app, say so, wait for the others, then pick the next period
    `changes` times; the latencies of those changes."""
    ws_url = target.url.replace("http", "ws") + "/_stcore/stream"
    async with websockets.connect(ws_url, subprotocols=["streamlit"], max_size=None,
                                  origin=target.url, open_timeout=60, ping_timeout=None) as ws:
        session = Session(ws)
        await session.rerun()
        if session.period is None:
            raise RuntimeError(f"{target.name}: no '{PERIOD_LABEL}' selectbox on the first page")
        opened.put_nowait(1)
        await start_gate.wait()
        widget_id, options = session.period
        out = []
        for i in range(changes):
            out.append(await session.rerun((widget_id, options[(i + 1) % len(options)])))
        return out


async def load(target: Target, sessions: int, changes: int) -> list[float]:
    """`sessions` sessions open the app, then all change periods at once."""
    opened: asyncio.Queue = asyncio.Queue()
    gate = asyncio.Event()
    tasks = [asyncio.create_task(drive(target, changes, opened, gate)) for _ in range(sessions)]
    for _ in range(sessions):
        waiting = asyncio.create_task(opened.get())
        await asyncio.wait([waiting, *tasks], return_when=asyncio.FIRST_COMPLETED)
        if not waiting.done():      # a session failed before opening: report it
            waiting.cancel()
            gate.set()
            break
    gate.set()
    return [x for result in await asyncio.gather(*tasks) for x in result]


def start(target: Target) -> subprocess.Popen:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", str(target.script), "--server.headless",
                             "true", "--server.port", str(target.port), "--server.address", "127.0.0.1"],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 90
    while time.time() < deadline:
        try:
            if urllib.request.urlopen(f"{target.url}/_stcore/health", timeout=2).read() == b"ok":
                return proc
        except OSError:
            time.sleep(0.3)
    proc.kill()
    raise SystemExit(f"{target.name}: the server did not start on port {target.port}")


def cpu_seconds(proc: subprocess.Popen | None) -> float:
    """CPU time (user + system) the server process has used so far; NaN for a server not started here.
    On a machine shared with other work this, per period change, is the steadier measure: the
    latencies also carry everyone else's load."""
    if proc is None:
        return float("nan")
    with open(f"/proc/{proc.pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measured(target: Target, proc: subprocess.Popen | None, sessions: int, changes: int,
             cpu: dict[str, float]) -> list[float]:
    """One round of load on `target`; its server's CPU time is added to cpu[target.name]."""
    before = cpu_seconds(proc)
    out = asyncio.run(load(target, sessions, changes))
    cpu[target.name] = cpu.get(target.name, 0.0) + cpu_seconds(proc) - before
    return out


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20, method="inclusive")[-1] if len(values) > 1 else values[0]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.load", description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, default=25)
    parser.add_argument("--changes", type=int, default=6, help="period changes per session and round")
    parser.add_argument("--rounds", type=int, default=2, help="bare, demo, bare, demo, …")
    parser.add_argument("--port", type=int, default=8612, help="GoalGap's server")
    parser.add_argument("--bare-port", type=int, default=8622, help="the bare page's server")
    parser.add_argument("--no-start", action="store_true", help="use servers already running on those ports")
    parser.add_argument("--same-port", action="store_true",
                        help="one port for both (--port): each round starts its server, warms it up and stops it, "
                             "for machines where only one port may be used")
    parser.add_argument("--warm-changes", type=int, default=2,
                        help="period changes of the one warm-up session before measuring (2: as before; "
                             "--changes: every period the rounds use is computed once first)")
    parser.add_argument("--out", help="append the result (Markdown) to this file")
    args = parser.parse_args(argv)
    demo = Target("GoalGap demo", ROOT / "app.py", args.port)
    bare = Target("bare page", BARE_PAGE, args.port if args.same_port else args.bare_port)
    results: dict[str, list[float]] = {bare.name: [], demo.name: []}
    cpu: dict[str, float] = {}
    if args.same_port:
        for _ in range(args.rounds):
            for target in (bare, demo):
                proc = start(target)
                try:
                    asyncio.run(load(target, 1, args.warm_changes))      # warm up: import and load the sample
                    results[target.name] += measured(target, proc, args.sessions, args.changes, cpu)
                finally:
                    proc.terminate()
                    proc.wait(timeout=20)
    else:
        procs = {} if args.no_start else {demo.name: start(demo), bare.name: start(bare)}
        try:
            for target in (bare, demo):     # warm up: first runs import and load the sample
                asyncio.run(load(target, 1, args.warm_changes))
            for _ in range(args.rounds):
                for target in (bare, demo):
                    results[target.name] += measured(target, procs.get(target.name), args.sessions, args.changes,
                                                     cpu)
        finally:
            for proc in procs.values():
                proc.terminate()
                proc.wait(timeout=20)
    load_avg = os.getloadavg()[0]
    heading = (f"{args.sessions} concurrent sessions × {args.changes} period changes × {args.rounds} rounds "
               f"({os.cpu_count()} cores, load average {load_avg:.1f} at the end"
               f"{', servers in turn on one port' if args.same_port else ''}, "
               f"warm-up {args.warm_changes} period changes):")
    lines = [heading, "", "| page | changes | median (s) | p95 (s) | server CPU per change (ms) |",
             "|---|---|---|---|---|"]
    for name, values in results.items():
        lines.append(f"| {name} | {len(values)} | {statistics.median(values):.2f} | {p95(values):.2f} | "
                     f"{1000 * cpu.get(name, float('nan')) / len(values):.0f} |")
    ratio = statistics.median(results[demo.name]) / statistics.median(results[bare.name])
    cpu_ratio = (cpu.get(demo.name, float("nan")) / len(results[demo.name])) / (
        cpu.get(bare.name, float("nan")) / len(results[bare.name]))
    lines += ["", f"median ratio (demo ÷ bare): {ratio:.2f} × (target ≤ 2 ×); server CPU per change: "
                  f"{cpu_ratio:.2f} ×"]
    publish(lines, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
