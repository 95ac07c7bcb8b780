"""A mixed load on shared services from several app hosts, and what it must leave in every node.

Threads send, back to back and each to a host picked at random: service starts with
extension values, and state and task starts on a few shared services, so that two hosts
write to one service through different Galera nodes at the same moment.
"""
import random
import time
from collections import Counter
from dataclasses import dataclass

from tests.load import KEYS_PER_START, RECORDS_PER_START, StartLoad, request, start_body

CHILD_KINDS = {"states": "state_id", "tasks": "task_id"}


@dataclass(frozen=True)
class Answer:
    kind: str                   # "services", "states" or "tasks"
    host: str
    status: int | None          # None: no answer (the connection broke)
    done_s: float               # time.monotonic() when the answer came
    error_code: str | None = None
    service_id: int | None = None
    number: int | None = None   # state_id or task_id
    contact_key: str | None = None


class MixedLoad(StartLoad):
    """`threads` clients sending starts of services, states and tasks until stop()."""

    def __init__(self, hosts, shared_services, *, threads, tag):
        super().__init__(hosts[0], connections=threads, tag=tag)
        self.hosts = hosts
        self.shared = shared_services

    def _run(self, thread_no):
        chooser = random.Random(thread_no)
        while (number := self._next_number()) is not None:
            host = chooser.choice(self.hosts)
            kind = chooser.choice(("services", "states", "tasks"))
            if kind == "services":
                answer = self._start_service(host, f"{self.tag}-{thread_no}-{number}")
            else:
                answer = self._start_child(host, kind, chooser.choice(self.shared))
            with self._lock:
                self.answers.append(answer)

    @staticmethod
    def _start_service(host, contact_key):
        status, body = request(host, "POST", "/services/start", start_body(contact_key))
        return Answer("services", host, status, time.monotonic(), _error_code(body),
                      service_id=(body or {}).get("service_id") if status == 201 else None, contact_key=contact_key)

    @staticmethod
    def _start_child(host, kind, service_id):
        path = f"/services/{service_id}/{kind}/start"
        status, body = request(host, "POST", path, {kind[:-1] + "_type": 1})
        number = (body or {}).get(CHILD_KINDS[kind]) if status == 201 else None
        return Answer(kind, host, status, time.monotonic(), _error_code(body), service_id=service_id, number=number)

    def snapshot(self):
        with self._lock:
            return list(self.answers)


def _error_code(body):
    return ((body or {}).get("error") or {}).get("error_code")


def start_shared_services(host, count):
    ids = []
    for number in range(count):
        status, body = request(host, "POST", "/services/start", {"contact_key": f"shared-{number}", "service_type": 1})
        assert status == 201, (status, body)
        ids.append(body["service_id"])
    return ids


# --- what every node must hold afterwards ---------------------------------------------

def assert_answers_are_201_or_503(answers):
    statuses = Counter(answer.status for answer in answers)
    assert set(statuses) <= {201, 503}, f"answers other than 201 and 503: {statuses}"
    codes = Counter(answer.error_code for answer in answers if answer.status == 503)
    assert set(codes) <= {"DATABASE_UNAVAILABLE", "WRITE_OUTCOME_UNKNOWN"}, codes


def assert_node_holds_every_answer(node, database, answers, shared):
    """Every 201 is stored whole in this node; numbering is gap-free; nothing unexplained is stored."""
    created = [answer for answer in answers if answer.status == 201]
    _assert_services(node, database, answers, created)
    for kind, column in CHILD_KINDS.items():
        _assert_children(node, database, kind, column, [a for a in created if a.kind == kind], shared)


def _assert_services(node, database, answers, created):
    starts = [answer for answer in created if answer.kind == "services"]
    ids = [answer.service_id for answer in starts]
    assert len(set(ids)) == len(ids), "one service_id answered twice"
    rows = node.query(
        "SELECT s.id, s.contact_key, (SELECT COUNT(*) FROM extension_record r WHERE r.service_id = s.id),"
        " (SELECT COUNT(*) FROM extension_unique_key k WHERE k.service_id = s.id AND k.owner_no = 0)"
        " FROM service s WHERE s.contact_key NOT LIKE 'shared-%%'", database=database)
    stored = {contact_key: (service_id, records, keys) for service_id, contact_key, records, keys in rows}
    assert len(stored) == len(rows), "two services stored for one start"
    for answer in starts:
        assert stored.get(answer.contact_key) == (answer.service_id, RECORDS_PER_START, KEYS_PER_START), (
            f"{node.name}: answered 201 but not stored whole: {answer} -> {stored.get(answer.contact_key)}")
    in_doubt = {answer.contact_key for answer in answers if answer.kind == "services" and answer.status != 201}
    unexplained = set(stored) - {answer.contact_key for answer in starts} - in_doubt
    assert not unexplained, f"{node.name}: stored but never answered: {sorted(unexplained)[:5]}"
    half = {key: row for key, row in stored.items() if row[1:] != (RECORDS_PER_START, KEYS_PER_START)}
    assert not half, f"{node.name}: half-stored services: {list(half.items())[:5]}"


def _assert_children(node, database, kind, column, created, shared):
    table = kind[:-1]
    numbers = {service_id: [] for service_id in shared}
    for service_id, number in node.query(f"SELECT service_id, {column} FROM {table} ORDER BY service_id, {column}",
                                         database=database):
        numbers.setdefault(service_id, []).append(number)
    last = dict(node.query(f"SELECT id, last_{column} FROM service WHERE id IN ({', '.join(map(str, shared))})",
                           database=database))
    for service_id in shared:
        stored = numbers[service_id]
        assert stored == list(range(1, len(stored) + 1)), f"{node.name}: {kind} of {service_id} not gap-free"
        assert last[service_id] == len(stored), f"{node.name}: last_{column} of {service_id} is not its count"
    answered = [(answer.service_id, answer.number) for answer in created]
    assert len(set(answered)) == len(answered), f"one {column} answered twice"
    missing = [pair for pair in answered if pair[1] not in set(numbers.get(pair[0], ()))]
    assert not missing, f"{node.name}: {kind} answered 201 but not stored: {missing[:5]}"


def assert_nodes_equal(nodes, database, tables=("service", "state", "task", "extension_record",
                                                "extension_unique_key")):
    # A plain read first: wsrep_sync_wait makes it wait until the node applied everything.
    sums = {}
    for node in nodes:
        node.query("SELECT COUNT(*) FROM service", database=database)
        sums[node.name] = node.query(f"CHECKSUM TABLE {', '.join(tables)}", database=database)
    assert len({rows for rows in sums.values()}) == 1, f"nodes differ: {sums}"
