"""The printed table of a run and its JSON file under bench/results/."""
import json

# Issue 6's targets: same-run ratio to the baseline, per backend and case.
RATIO_TARGETS = {
    ("sqlite", "start"): 0.45,
    ("sqlite", "start_ext"): 0.35,
    ("sqlite", "read"): 0.6,
    ("sqlite", "anonymous_active"): 0.5,
    ("sqlite", "customer_services"): 0.5,
    ("mysql", "start"): 0.3,
    # Issue 15: metrics and the access log cost at most 10 % of Start Service (ratio on / off).
    ("sqlite", "observability"): 0.9,
    ("mysql", "observability"): 0.9,
    # Issue 11's: identification among 1M profiles, and Create Customer.
    ("sqlite", "identify"): 0.5,
    ("sqlite", "identify_profile"): 0.5,
    ("sqlite", "create_profile"): 0.45,
}
# Issue 12: Start Service with [auth] mode = basic, as a share of Start Service without auth.
AUTH_TARGET = 0.9
P99_TARGET_MS = 25
RSS_TARGET_MB = 80
# Above this share of the cores taken by other processes, a figure says more about them than us.
BUSY_OTHER_CORES = 0.2
# The GET baseline before and after a backend's cases should agree within this.
DRIFT_TOLERANCE = 0.10

HEADER = (f"{'backend':<9}{'case':<48}{'req/s':>9}{'p50 ms':>8}{'p99 ms':>8}{'errors':>8}{'x base':>8}"
          f"{'other':>7}  {'rows=2xx':<10}{'targets'}")


def target_misses(backend, key, case):
    """The issue-6 targets this case misses, in words; empty when it meets them all."""
    load = case["load"]
    misses = []
    target = RATIO_TARGETS.get((backend, key))
    if target is not None and (case["ratio"] or 0) < target:
        misses.append(f"ratio<{target}")
    if backend == "sqlite" and load["latency_ms"]["p99"] >= P99_TARGET_MS:
        misses.append(f"p99>={P99_TARGET_MS}ms")
    if "vs_without_auth" in case and case["vs_without_auth"] < AUTH_TARGET:
        misses.append(f"x{case['vs_without_auth']} of no auth<{AUTH_TARGET}")
    if load["errors"]:
        misses.append("errors")
    return misses


def _row(backend, title, load, ratio, other, rows="", targets=""):
    other_text = "-" if other is None else f"{other:.2f}"
    return (f"{backend:<9}{title[:47]:<48}{load['requests_per_s']:>9.1f}{load['latency_ms']['p50']:>8.2f}"
            f"{load['latency_ms']['p99']:>8.2f}{load['errors']:>8}{ratio:>8}{other_text:>7}  {rows:<10}{targets}")


def format_table(results):
    lines = [HEADER, "-" * len(HEADER)]
    notes = []
    busy = []
    for number, (backend, run) in enumerate(results["backends"].items()):
        if number:
            lines.append("")
        if "skipped" in run:
            lines.append(f"{backend:<9}skipped: {run['skipped']}")
            continue
        for key, load in run["baseline"]["cases"].items():
            other = load["cpu"]["other_cores"]
            if other is not None and other > BUSY_OTHER_CORES:
                busy.append(f"baseline before {backend}: {key}")
            lines.append(_row("baseline", results["baseline_titles"][key], load, "1.000", other))
        for key, case in run["cases"].items():
            if case["status"] != "ok":
                lines.append(f"{backend:<9}{case['title'][:47]:<48}{case['status']}: {case['reason']}")
                continue
            rows = ""
            if "rows" in case:
                rows = "equal" if all(check["equal"] for check in case["rows"].values()) else "DIFFER"
                if rows == "DIFFER":
                    notes.append(f"{backend} {key}: rows written vs 2xx: {case['rows']}")
            misses = target_misses(backend, key, case)
            load = case["load"]
            if load["errors"] or load["notes"]:
                notes.append(f"{backend} {key}: statuses {load['statuses']}, socket errors "
                             f"{load['socket_errors']}, {'; '.join(load['notes'])}")
            ratio = f"{case['ratio']:.3f}" if case["ratio"] is not None else "-"
            other = case["cpu"]["other_cores"]
            if other is not None and other > BUSY_OTHER_CORES:
                busy.append(f"{backend} {key}")
            lines.append(_row(backend, case["title"], load, ratio, other, rows,
                              "NOT MET: " + ", ".join(misses) if misses else "met"))
            if "vs_without_auth" in case:
                lines.append(f"{'':<9}  x{case['vs_without_auth']} of {case['title'].split(',')[0]} without auth "
                             f"(target >= {AUTH_TARGET})")
    lines.append("")
    for backend, run in results["backends"].items():
        if "skipped" in run:
            continue
        memory = run.get("memory", {})
        log = run.get("log", {})
        fill = run.get("fill", {})
        fill_text = (f"fill {fill['rows']:,} rows in {fill['seconds']} s" if "rows" in fill
                     else f"no fill ({fill.get('skipped', 'not run')})")
        profile_fill = run.get("profile_fill")
        if profile_fill:
            fill_text += (f"; profiles {profile_fill['rows']:,} in {profile_fill['seconds']} s" if "rows" in profile_fill
                          else f"; no profile fill ({profile_fill['skipped']})")
        rss_after = memory.get("max_rss_after_mb", 0)
        rss_verdict = "met" if rss_after < RSS_TARGET_MB else "NOT MET"
        baseline_peak = run["baseline"]["memory"].get("peak_rss_mb", "-")
        lines.append(
            f"{backend}: {run['workers']} workers (baseline: {run['baseline']['workers']}, RSS peak "
            f"{baseline_peak} MB); worker RSS peak {memory.get('peak_rss_mb', '-')} MB, "
            f"after the run {rss_after} MB (target < {RSS_TARGET_MB}: {rss_verdict}); "
            f"'database is locked' lines: {log.get('database is locked', '-')}; "
            f"tracebacks: {log.get('Traceback', '-')}; {fill_text}")
        drift = run.get("baseline_drift")
        if drift:
            lines.append(f"{backend}: GET baseline {drift['get_before']} req/s before the cases, "
                         f"{drift['get_after']} after (x{drift['ratio']})")
        if drift and drift["ratio"] is not None and abs(drift["ratio"] - 1) > DRIFT_TOLERANCE:
            notes.append(f"WARNING: {backend}: the GET baseline moved from {drift['get_before']} to "
                         f"{drift['get_after']} req/s during the cases (x{drift['ratio']}): its ratios are "
                         f"uncertain by that much.")
    lines.extend(notes)
    if busy:
        lines.append(f"WARNING: other processes took over {BUSY_OTHER_CORES} cores during {', '.join(busy)} "
                     f"(column 'other'): those figures understate the server and the baseline alike.")
    return "\n".join(lines)


def write_json(results, path):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=2, sort_keys=False) + "\n")
