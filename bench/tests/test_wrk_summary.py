"""Reading the scripts' BENCH_RESULT line into a Load."""
import json

import pytest

from bench.wrk import WrkError, parse_result, percentile


def result_line(*threads, socket_errors=None):
    result = {"threads": {str(n): thread for n, thread in enumerate(threads, 1)},
              "socket_errors": socket_errors or {"connect": 0, "read": 0, "write": 0, "timeout": 0}}
    return "Running 10s test\nBENCH_RESULT " + json.dumps(result) + "\nRequests/sec: 1\n"


def thread(*, sent, ok, non2xx=0, first_us=1_000_000, last_us=2_000_000, latencies=(1000,), **extra):
    return {"sent": sent, "ok": ok, "non2xx": non2xx, "bad_body": 0, "journeys": 0,
            "first_us": first_us, "last_us": last_us, "kinds": {"write": ok}, "statuses": {},
            "latencies_us": ",".join(str(value) for value in latencies), "note": "", **extra}


def test_threads_are_summed_over_the_window_from_first_request_to_last_answer():
    load = parse_result(result_line(
        thread(sent=3, ok=3, first_us=1_000_000, last_us=3_000_000, latencies=(1000, 2000, 3000)),
        thread(sent=2, ok=1, non2xx=1, first_us=1_500_000, last_us=3_000_000, latencies=(4000, 5000),
               statuses={"500": 1})))
    assert (load.ok, load.non2xx, load.answers, load.lost) == (4, 1, 5, 0)
    assert load.seconds == 2.0
    assert load.requests_per_s == 2.5
    assert load.statuses == {"500": 1}
    assert load.kinds == {"write": 4}
    assert load.latency_ms["p50"] == 3.0
    assert load.latency_ms["max"] == 5.0


def test_socket_errors_and_non_2xx_are_errors_and_unanswered_requests_are_lost():
    load = parse_result(result_line(thread(sent=4, ok=2, non2xx=1, latencies=(1, 2, 3)),
                                    socket_errors={"connect": 0, "read": 1, "write": 0, "timeout": 0}))
    assert load.errors == 2
    assert load.lost == 1


def test_a_thread_that_never_closed_its_window_is_refused():
    with pytest.raises(WrkError, match="never got past the window"):
        parse_result(result_line(thread(sent=1, ok=1, latencies=())))


def test_output_without_a_summary_is_refused():
    with pytest.raises(WrkError, match="no BENCH_RESULT"):
        parse_result("Running 10s test\n")


def test_percentile_is_nearest_rank():
    values = list(range(1, 101))
    assert percentile(values, 0.50) == 50
    assert percentile(values, 0.99) == 99
    assert percentile([7], 0.99) == 7
    assert percentile([], 0.5) == 0.0
