"""wrk: installed from Debian's packages when missing, run with a case's Lua script, its summary read."""
import json
import math
import os
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

LUA_DIR = Path(__file__).with_name("lua")
# After its window a script sends only cheap filler GETs (see lua/common.lua) until wrk
# stops; this is how long that lasts, long enough for the last measured request to finish.
TAIL_S = 1
# A request slower than this is counted by wrk as a timeout instead of a latency.
TIMEOUT_S = 2
RESULT_MARK = "BENCH_RESULT "


class WrkError(RuntimeError):
    """wrk could not be installed or run, or its script failed."""


def ensure_wrk():
    """The path of wrk, installing Debian's package first when it is missing (needs root)."""
    found = shutil.which("wrk")
    if found:
        return found
    print("wrk is missing: installing it from Debian's packages", flush=True)
    install = ["apt-get", "install", "-y", "-q", "wrk"]
    if subprocess.run(install, stdout=subprocess.DEVNULL).returncode != 0:
        # A fresh machine may have no package lists yet; fetch them once and retry.
        subprocess.run(["apt-get", "update", "-q"], stdout=subprocess.DEVNULL, check=True)
        subprocess.run(install, stdout=subprocess.DEVNULL, check=True)
    found = shutil.which("wrk")
    if not found:
        raise WrkError("apt-get installed wrk but it is not on PATH")
    return found


def wrk_version(wrk):
    completed = subprocess.run([wrk, "-v"], capture_output=True, text=True)
    first_line = (completed.stdout + completed.stderr).splitlines()[0]
    return first_line.split(" Copyright")[0].strip()


@dataclass
class Load:
    """What one wrk run measured, over its window (first request sent to last answer)."""
    ok: int
    non2xx: int
    socket_errors: int
    lost: int               # sent but never answered (cut off by a socket error, or still in flight)
    bad_body: int           # a 2xx whose body lacked what the script needed
    seconds: float
    latency_ms: dict
    statuses: dict = field(default_factory=dict)
    kinds: dict = field(default_factory=dict)       # 2xx answers per kind of request
    journeys: int = 0
    notes: list = field(default_factory=list)       # distinct problems the script reported

    @property
    def answers(self):
        return self.ok + self.non2xx

    @property
    def requests_per_s(self):
        return self.answers / self.seconds if self.seconds > 0 else 0.0

    @property
    def errors(self):
        return self.non2xx + self.socket_errors + self.bad_body

    def as_dict(self):
        return {
            "requests_per_s": round(self.requests_per_s, 1),
            "answers": self.answers, "ok_2xx": self.ok, "non_2xx": self.non2xx,
            "socket_errors": self.socket_errors, "lost": self.lost, "bad_body": self.bad_body,
            "errors": self.errors, "seconds": round(self.seconds, 3),
            "latency_ms": self.latency_ms, "statuses": self.statuses, "ok_by_kind": self.kinds,
            "journeys": self.journeys, "notes": self.notes,
        }


def run_wrk(wrk, url, script, *, seconds, connections, env=None):
    """Drive url for `seconds` with the Lua script from LUA_DIR; one connection per wrk thread.

    Raises WrkError when wrk fails or its script reports an error: a script that fails
    to load makes wrk fall back to plain GETs, which must never pass for a measurement.
    """
    run_env = dict(os.environ)
    run_env.update(env or {})
    run_env["LUA_PATH"] = f"{LUA_DIR}/?.lua;;"
    run_env["BENCH_WINDOW_S"] = str(seconds)
    command = [wrk, "-t", str(connections), "-c", str(connections), "-d", f"{seconds + TAIL_S}s",
               "--timeout", f"{TIMEOUT_S}s", "-s", str(LUA_DIR / script), url]
    try:
        completed = subprocess.run(command, env=run_env, capture_output=True, text=True,
                                   timeout=seconds + TAIL_S + 60)
    except subprocess.TimeoutExpired as error:
        raise WrkError(f"wrk did not finish: {' '.join(command)}") from error
    if completed.returncode != 0 or completed.stderr.strip():
        raise WrkError(f"wrk failed ({completed.returncode}): {completed.stderr.strip()[:2000]}")
    return parse_result(completed.stdout)


def percentile(sorted_values, fraction):
    """Nearest-rank percentile of an ascending list; 0.0 for an empty one."""
    if not sorted_values:
        return 0.0
    rank = max(1, math.ceil(fraction * len(sorted_values)))
    return sorted_values[rank - 1]


def parse_result(stdout):
    """The Load from wrk's output; raises WrkError when the script printed no summary."""
    line = next((text for text in stdout.splitlines() if text.startswith(RESULT_MARK)), None)
    if line is None:
        raise WrkError("wrk printed no BENCH_RESULT line; output:\n" + stdout[-2000:])
    result = json.loads(line[len(RESULT_MARK):])
    # Lua tables come out as JSON objects keyed "1", "2", ...; a thread that never sent is left out.
    threads = [thread for thread in result["threads"].values() if thread.get("sent", 0) > 0]
    statuses, kinds, latencies = {}, {}, []
    unclosed = 0
    for thread in threads:
        for status, count in (thread.get("statuses") or {}).items():
            statuses[status] = statuses.get(status, 0) + int(count)
        for kind, count in (thread.get("kinds") or {}).items():
            kinds[kind] = kinds.get(kind, 0) + int(count)
        if thread.get("latencies_us"):
            latencies.extend(int(value) for value in thread["latencies_us"].split(","))
        else:
            unclosed += 1
    if unclosed:
        raise WrkError(f"{unclosed} wrk thread(s) never got past the window: a connection hung")
    latencies.sort()
    ok = sum(int(thread["ok"]) for thread in threads)
    non2xx = sum(int(thread["non2xx"]) for thread in threads)
    sent = sum(int(thread["sent"]) for thread in threads)
    if threads:
        seconds = (max(thread["last_us"] for thread in threads)
                   - min(thread["first_us"] for thread in threads)) / 1e6
    else:
        seconds = 0.0
    return Load(
        ok=ok, non2xx=non2xx,
        socket_errors=sum(int(count) for count in result["socket_errors"].values()),
        lost=sent - ok - non2xx,
        bad_body=sum(int(thread.get("bad_body", 0)) for thread in threads),
        seconds=seconds,
        latency_ms={
            "p50": round(percentile(latencies, 0.50) / 1000, 2),
            "p90": round(percentile(latencies, 0.90) / 1000, 2),
            "p99": round(percentile(latencies, 0.99) / 1000, 2),
            "max": round((latencies[-1] if latencies else 0) / 1000, 2),
            "mean": round(sum(latencies) / len(latencies) / 1000, 2) if latencies else 0.0,
        },
        statuses=statuses, kinds=kinds,
        journeys=sum(int(thread.get("journeys", 0)) for thread in threads),
        notes=sorted({thread["note"] for thread in threads if thread.get("note")}),
    )
