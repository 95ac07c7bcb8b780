"""The Snowflake generator of SPEC §8, driven by a scripted clock."""
import json
import threading

import pytest
from hypothesis import given, strategies as st

from app.ids import EPOCH_MS, LAYOUTS, ClockMovedBackwards, IdUnavailable, Layout, SnowflakeGenerator
from tests.support import ScriptedClock

DEFAULT, WIDE = LAYOUTS["default"], LAYOUTS["wide"]
T = EPOCH_MS + 123_456_789    # any millisecond the layouts can hold


def generator(clock, *, layout=DEFAULT, worker_id=5, max_clock_skew_ms=5, last_ms=0):
    return SnowflakeGenerator(layout, worker_id, max_clock_skew_ms=max_clock_skew_ms,
                              clock=clock, sleep=clock.sleep, last_ms=last_ms)


def test_layouts_have_the_spec_bit_widths():
    assert (DEFAULT.timestamp_bits, DEFAULT.worker_bits, DEFAULT.sequence_bits) == (41, 6, 6)
    assert (WIDE.timestamp_bits, WIDE.worker_bits, WIDE.sequence_bits) == (41, 10, 12)
    assert EPOCH_MS == 1767225600000   # 2026-01-01T00:00:00Z


@pytest.mark.parametrize("layout", [DEFAULT, WIDE], ids=["default", "wide"])
@pytest.mark.parametrize("when", [EPOCH_MS, T, EPOCH_MS + (1 << 41) - 1])
def test_compose_and_decompose_round_trip(layout, when):
    for worker_id in (0, 1, layout.max_workers - 1):
        for sequence in (0, 1, layout.max_sequence):
            snowflake = layout.compose(when, worker_id, sequence)
            assert 0 <= snowflake <= layout.max_id
            assert layout.decompose(snowflake) == (when, worker_id, sequence)


@pytest.mark.parametrize("arguments", [
    (EPOCH_MS - 1, 0, 0), (EPOCH_MS + (1 << 41), 0, 0), (T, 64, 0), (T, -1, 0), (T, 0, 64), (T, 0, -1),
])
def test_compose_refuses_what_the_default_layout_cannot_hold(arguments):
    with pytest.raises(ValueError):
        DEFAULT.compose(*arguments)


def test_default_ids_are_exact_json_numbers():
    largest = DEFAULT.compose(EPOCH_MS + (1 << 41) - 1, 63, 63)
    assert largest == DEFAULT.max_id == 2**53 - 1
    exported = DEFAULT.export(largest)
    assert exported == largest and isinstance(exported, int)
    # What an ECMAScript client parses is a double; every default ID survives it.
    assert float(json.loads(json.dumps({"service_id": exported}))["service_id"]) == largest


def test_wide_ids_are_exported_as_strings():
    largest = WIDE.compose(EPOCH_MS + (1 << 41) - 1, WIDE.max_workers - 1, WIDE.max_sequence)
    assert largest == WIDE.max_id == 2**63 - 1      # positive in a signed 64-bit column
    assert largest > 2**53
    assert json.dumps({"service_id": WIDE.export(largest)}) == f'{{"service_id": "{largest}"}}'


@pytest.mark.parametrize("layout", [DEFAULT, WIDE], ids=["default", "wide"])
def test_an_id_holds_the_time_the_worker_and_a_sequence(layout):
    clock = ScriptedClock(T)
    ids = generator(clock, layout=layout, worker_id=3)
    assert [layout.decompose(ids.next_id()) for _ in range(3)] == [(T, 3, 0), (T, 3, 1), (T, 3, 2)]
    clock.advance(7)
    assert layout.decompose(ids.next_id()) == (T + 7, 3, 0)
    assert clock.sleeps == []


def test_worker_id_outside_the_layout_is_refused():
    with pytest.raises(ValueError):
        generator(ScriptedClock(T), worker_id=DEFAULT.max_workers)


def test_sequence_exhaustion_waits_for_the_next_millisecond():
    clock = ScriptedClock(T)
    ids = generator(clock)
    first_ms = [ids.next_id() for _ in range(DEFAULT.max_sequence + 1)]
    assert [DEFAULT.decompose(i)[2] for i in first_ms] == list(range(64))
    assert clock.sleeps == []
    after = ids.next_id()
    assert clock.sleeps, "the generator must wait rather than wrap the sequence"
    assert DEFAULT.decompose(after)[0] > T
    assert after > first_ms[-1]


@pytest.mark.parametrize("back_ms", [1, 3, 5])
def test_a_small_step_back_is_waited_out(back_ms):
    clock = ScriptedClock(T)
    ids = generator(clock, max_clock_skew_ms=5)
    before = ids.next_id()
    clock.advance(-back_ms)
    after = ids.next_id()
    assert clock.sleeps, "the generator must wait for the clock to catch up"
    assert after > before
    assert DEFAULT.decompose(after)[0] >= T


@pytest.mark.parametrize("skew, back_ms", [(5, 6), (5, 1000), (0, 1)])
def test_a_larger_step_back_is_refused(skew, back_ms):
    clock = ScriptedClock(T)
    ids = generator(clock, max_clock_skew_ms=skew)
    before = ids.next_id()
    clock.advance(-back_ms)
    with pytest.raises(ClockMovedBackwards) as refused:
        ids.next_id()
    assert isinstance(refused.value, IdUnavailable)
    assert refused.value.error_code == "CLOCK_MOVED_BACKWARDS"
    assert f"{back_ms} ms" in refused.value.message
    assert clock.sleeps == []
    # Once the clock has caught up, IDs resume where they left off.
    clock.advance(back_ms)
    assert ids.next_id() > before


def test_a_new_holder_of_a_worker_id_continues_after_the_last_one():
    clock = ScriptedClock(T)
    previous = generator(clock, worker_id=9)
    issued = [previous.next_id() for _ in range(3)]
    # Same worker ID, same millisecond: without the previous holder's last_ms it would
    # hand out (T, 9, 0) again.
    successor = generator(clock, worker_id=9, last_ms=previous.last_ms)
    first = successor.next_id()
    assert first > max(issued)
    assert DEFAULT.decompose(first)[0] > T


@given(steps=st.lists(st.tuples(st.integers(min_value=-5, max_value=3), st.integers(min_value=1, max_value=70)),
                      min_size=1, max_size=40))
def test_ids_strictly_increase(steps):
    # The clock wanders: repeats, small steps back (waited out), jumps; bursts exhaust sequences.
    clock = ScriptedClock(T)
    ids = generator(clock, max_clock_skew_ms=5)
    issued = []
    for move, burst in steps:
        clock.advance(move)
        issued += [ids.next_id() for _ in range(burst)]
    assert all(a < b for a, b in zip(issued, issued[1:]))


def test_threads_sharing_a_generator_get_distinct_ids():
    # The real clock: a tiny layout makes threads contend for sequence numbers.
    tiny = Layout("tiny", 41, 1, 2, as_string=False)
    ids = SnowflakeGenerator(tiny, 1)
    results = [[] for _ in range(8)]
    start = threading.Barrier(len(results))

    def draw(out):
        start.wait()
        out.extend(ids.next_id() for _ in range(500))

    threads = [threading.Thread(target=draw, args=(out,)) for out in results]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    issued = [i for out in results for i in out]
    assert len(set(issued)) == len(issued) == 4000
    for out in results:
        assert out == sorted(out)


@pytest.mark.parametrize("layout", [DEFAULT, WIDE], ids=["default", "wide"])
@pytest.mark.parametrize("offset_ms", [-1, -86_400_000])
def test_a_clock_before_the_id_epoch_is_refused(layout, offset_ms):
    clock = ScriptedClock(EPOCH_MS + offset_ms)
    with pytest.raises(IdUnavailable) as refused:
        generator(clock, layout=layout).next_id()
    assert refused.value.error_code == "CLOCK_OUT_OF_RANGE"
    clock.advance(-offset_ms)
    assert layout.decompose(generator(clock, layout=layout).next_id())[0] == EPOCH_MS
