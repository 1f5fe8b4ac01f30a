"""Deterministic, realistic Klenty exports in Segment's raw format.

Each email is a thread: the plan's root event (Email Sent), then the events whose
``sample`` rule follows it, each with its share and repeat count (some opened, fewer
clicked and replied, some bounced, a few unsubscribed). Senders and prospects use the
reserved example domains. Times spread over six weeks from a fixed start, so the same
seed always gives the same bytes. A few calls are delivered twice (same messageId, later
receivedAt), as happens when a sender retries.
"""

from __future__ import annotations

import gzip
import heapq
import json
import random
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

from klenty_wh.plan.model import Event, Plan, Presence, Property

START = datetime(2024, 3, 4, tzinfo=timezone.utc)
"""First send time of every sample: a Monday, so weekdays line up across seeds."""
SPAN_DAYS = 42
DUPLICATE_SHARE = 0.004
ANONYMOUS_SHARE_OF_ALLOWANCE = 0.4
"""Share of the plan's allowance for rows without userId that the sample uses (clean data stays valid)."""
DEFECT_KINDS = ("missing_required_property", "empty_text_property", "missing_url_property", "malformed_line")

_FIRST_NAMES = ("alex", "priya", "maya", "jonah", "li", "sofia", "raj", "ana", "omar", "emma", "noah",
                "zoe", "liam", "ivy", "kai", "lena", "marco", "nina", "owen", "ruth", "sam", "tara", "yuki")
_LAST_NAMES = ("rivera", "natarajan", "fernandes", "keller", "wei", "alvarez", "patel", "costa", "haddad",
               "schmidt", "okafor", "nguyen", "brown", "dubois", "kim", "rossi", "silva", "novak", "berg")
_COMPANIES = ("initech", "globex", "umbrella", "hooli", "vandelay", "acme", "stark", "wayne", "tyrell",
              "cyberdyne", "soylent", "wonka", "gringotts", "oscorp", "aperture", "monarch")
_SUBJECTS = ("Quick question about {company}'s Q{quarter} plans", "Following up on our call",
             "{first}, a 2-minute demo for {company}?", "Ideas to cut onboarding time at {company}",
             "Re: pricing for {company}", "Case study: how teams like {company} ship faster",
             "Worth a chat next week?", "Introducing Example Corp to {company}",
             "Your trial ends Friday", "Agenda for Thursday")
_LINK_PATHS = ("pricing", "demo", "case-studies/{company}", "book-a-call", "blog/outbound-playbook",
               "docs/getting-started", "webinar/q{quarter}")
_DELAYS = {  # seconds after the event the rule follows: (min, max)
    "default": (60, 3 * 86400),
}


@dataclass
class SampleSummary:
    """Counts of the calls ``klenty-wh sample`` wrote, by event, duplicate and defect."""

    path: Path
    events: int
    emails: int
    duplicates: int
    anonymous: int
    by_event: Counter = field(default_factory=Counter)
    defects: Counter = field(default_factory=Counter)
    files: int = 1

    def to_dict(self) -> dict:
        """Return the summary as JSON-ready data."""
        return {"path": str(self.path), "events": self.events, "emails": self.emails,
                "duplicates": self.duplicates, "anonymous": self.anonymous,
                "by_event": dict(self.by_event), "defects": dict(self.defects), "files": self.files}


class _People:
    """Senders and prospects, drawn once per sample."""

    def __init__(self, rng: random.Random, events: int) -> None:
        self.senders = [self._person(rng, "example.com") for _ in range(max(4, min(60, events // 4000)))]
        self.prospects = [self._person(rng, rng.choice(("example.org", "example.net")))
                          for _ in range(max(20, events // 6))]

    @staticmethod
    def _person(rng: random.Random, domain: str) -> dict:
        first, last = rng.choice(_FIRST_NAMES), rng.choice(_LAST_NAMES)
        company = rng.choice(_COMPANIES)
        suffix = rng.randrange(1000)
        return {"first": first.title(), "email": f"{first}.{last}{suffix}@{company}.{domain}", "company": company.title()}


def _message_id(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


class SampleGenerator:
    """Generate sample calls for a plan; iterate :meth:`calls` to get them in receipt order."""

    def __init__(self, plan: Plan, events: int, seed: int, defects: float = 0.0) -> None:
        self.plan = plan
        self.target = events
        self.seed = seed
        self.defect_share = defects
        self.rng = random.Random(seed)
        self.people = _People(self.rng, events)
        self.source_id = f"KlntySample{seed}"
        self.children = self._children_by_parent()
        self.summary_counts: Counter = Counter()
        self.defects: Counter = Counter()
        self.emails = 0
        self.duplicates = 0
        self.anonymous = 0
        allowance = 1.0 - plan.thresholds.user_id_min_share
        self.anonymous_share = allowance * ANONYMOUS_SHARE_OF_ALLOWANCE

    def _children_by_parent(self) -> dict[str | None, list[Event]]:
        children: dict[str | None, list[Event]] = {}
        for event in self.plan.events:
            children.setdefault(event.sample.after, []).append(event)
        for events in children.values():
            # Events that end a thread are decided first, so a bounce prevents the opens.
            events.sort(key=lambda event: not event.sample.ends_thread)
        return children

    def calls(self) -> Iterator[tuple[datetime, str]]:
        """Yield (receivedAt, JSON line) pairs, sorted by receivedAt.

        Threads start in time order, so a call can be yielded as soon as the next thread
        starts after it. Only the calls of recent threads are kept in memory.
        """
        pending: list[tuple[datetime, int, str]] = []
        count = 0
        sequence = 0
        gap = SPAN_DAYS * 86400 / max(1.0, self.target / self._expected_calls_per_thread())
        start = START
        while count < self.target:
            start = start + timedelta(seconds=self.rng.expovariate(1.0 / gap))
            while pending and pending[0][0] < start:
                received, _, line = heapq.heappop(pending)
                yield received, line
            for received, line, tally in self._thread(start):
                if count >= self.target:
                    break
                self._count(tally)
                sequence += 1
                heapq.heappush(pending, (received, sequence, line))
                count += 1
        while pending:
            received, _, line = heapq.heappop(pending)
            yield received, line

    def _count(self, tally: tuple[str, ...]) -> None:
        """Add one written call to the summary: its event, then "duplicate", "anonymous" or a defect."""
        event, *marks = tally
        if "duplicate" in marks:
            self.duplicates += 1
            return
        self.summary_counts[event] += 1
        for mark in marks:
            if mark == "anonymous":
                self.anonymous += 1
            else:
                self.defects[mark] += 1

    def _expected_calls_per_thread(self) -> float:
        def expected(parent: str | None) -> float:
            total = 0.0
            for event in self.children.get(parent, []):
                repeats = (1 + event.sample.max_repeats) / 2
                total += event.sample.share * repeats * (1 + expected(event.name))
            return total

        return max(1.0, expected(None))

    def _thread(self, sent_at: datetime) -> list[tuple[datetime, str, tuple[str, ...]]]:
        rng = self.rng
        self.emails += 1
        sender = rng.choice(self.people.senders)
        prospect = rng.choice(self.people.prospects)
        quarter = rng.randint(1, 4)
        fill = {"company": prospect["company"], "first": prospect["first"], "quarter": quarter}
        thread = {
            "email_id": f"em_{rng.getrandbits(40):010x}",
            "sender": sender["email"],
            "prospect": prospect["email"],
            "subject": rng.choice(_SUBJECTS).format(**fill),
            "link": "https://example.com/" + rng.choice(_LINK_PATHS).format(**fill).lower(),
        }
        calls: list[tuple[datetime, str, tuple[str, ...]]] = []
        self._emit_tree(None, sent_at, thread, calls)
        return calls

    def _emit_tree(self, parent: str | None, when: datetime, thread: dict, calls: list) -> bool:
        """Emit the events that follow ``parent``; return False when the thread ended."""
        for event in self.children.get(parent, []):
            rule = event.sample
            if self.rng.random() >= rule.share:
                continue
            repeats = 1 if rule.max_repeats == 1 else self.rng.randint(1, rule.max_repeats)
            moment = when
            for _ in range(repeats):
                low, high = _DELAYS["default"]
                moment = moment + timedelta(seconds=self.rng.randint(low, high) if parent else 0)
                calls += self._call(event, moment, thread)
                if not self._emit_tree(event.name, moment, thread, calls):
                    return False
            if rule.ends_thread:
                return False
        return True

    def _call(self, event: Event, moment: datetime, thread: dict) -> list[tuple[datetime, str, tuple[str, ...]]]:
        """Return the call as (receivedAt, JSON line, tally), and a retried copy for some.

        The tally names the event and marks the call as anonymous, a duplicate or defective;
        :meth:`calls` counts it only when the call is written.
        """
        rng = self.rng
        tally = [event.name]
        original = moment.replace(microsecond=rng.randrange(1000) * 1000)
        sent = original + timedelta(milliseconds=rng.randint(5, 2000))
        received = sent + timedelta(milliseconds=rng.randint(40, 900))
        record = {
            "channel": "server",
            "context": {"integration": {"name": "klenty", "version": "1.0.0"},
                        "library": {"name": "analytics-node", "version": "6.2.0"}},
            "event": event.name,
            "integrations": {},
            "messageId": _message_id(rng),
            "originalTimestamp": _iso(original),
            "projectId": self.source_id,
            "properties": self._properties(event, thread),
            "receivedAt": _iso(received),
            "sentAt": _iso(sent),
            "timestamp": _iso(received - (sent - original)),
            "type": "track",
            "version": 2,
        }
        if rng.random() < self.anonymous_share:
            record["anonymousId"] = str(uuid.UUID(int=rng.getrandbits(128), version=4))
            tally.append("anonymous")
        else:
            record["userId"] = thread["prospect"]
        line, defect = self._plant_defect(event, record)
        if defect:
            tally.append(defect)
        calls = [(received, line, tuple(tally))]
        if rng.random() < DUPLICATE_SHARE:
            # A retried delivery: same messageId, received later.
            retried = received + timedelta(seconds=rng.randint(1, 600))
            later = dict(record, receivedAt=_iso(retried))
            calls.append((retried, json.dumps(later, separators=(",", ":")), (event.name, "duplicate")))
        return calls

    def _properties(self, event: Event, thread: dict) -> dict:
        values = {}
        for prop, presence in event.properties_in(self.plan):
            if presence is Presence.OPTIONAL and self.rng.random() < 0.2:
                continue
            values[prop.key] = self._value(prop, thread)
        return values

    def _value(self, prop: Property, thread: dict):
        if prop.sample in ("email_id", "sender", "subject", "link"):
            return thread[prop.sample]
        if prop.type.value == "integer":
            return self.rng.randint(1, 10)
        if prop.type.value == "float":
            return round(self.rng.random() * 100, 2)
        if prop.type.value == "boolean":
            return self.rng.random() < 0.5
        if prop.type.value == "timestamp":
            return _iso(START)
        return f"{prop.column}-{self.rng.randrange(100)}"

    def _plant_defect(self, event: Event, record: dict) -> tuple[str, str | None]:
        """Return the call's JSON line, with a defect planted in some, and the defect's kind."""
        line = json.dumps(record, separators=(",", ":"))
        if not self.defect_share or self.rng.random() >= self.defect_share:
            return line, None
        required = [prop for prop, presence in event.properties_in(self.plan) if presence is Presence.REQUIRED]
        kinds = ["malformed_line"]
        if required:
            kinds.append("missing_required_property")
        if any(prop.non_empty for prop in required):
            kinds.append("empty_text_property")
        if any(prop.format == "url" for prop in required):
            kinds.append("missing_url_property")
        kind = self.rng.choice(kinds)
        properties = record["properties"]
        if kind == "malformed_line":
            return line[: len(line) // 2], kind
        if kind == "missing_url_property":
            properties.pop(next(prop.key for prop in required if prop.format == "url"), None)
        elif kind == "empty_text_property":
            properties[next(prop.key for prop in required if prop.non_empty)] = ""
        else:
            properties.pop(self.rng.choice([prop.key for prop in required if prop.key != "email_id"] or
                                           [required[0].key]), None)
        return json.dumps(record, separators=(",", ":")), kind


def write_sample(plan: Plan, events: int, seed: int, out: Path, layout: str = "file",
                 defects: float = 0.0) -> SampleSummary:
    """Write ``events`` sample calls to ``out`` and return what was written.

    ``layout`` is ``file`` (one NDJSON file, gzip when the name ends in ``.gz``) or ``s3``
    (``out/segment-logs/<source-id>/<UTC day in ms>/<name>.gz``, one gzip file per day of
    receipt, as Segment's S3 destination lays them out).
    """
    generator = SampleGenerator(plan, events, seed, defects)
    if layout == "s3":
        files = _write_s3(generator, out)
    else:
        out.parent.mkdir(parents=True, exist_ok=True)
        with _Output(out) as handle:
            for _, line in generator.calls():
                handle.write(line.encode("utf-8") + b"\n")
        files = 1
    return SampleSummary(path=out, events=sum(generator.summary_counts.values()) + generator.duplicates,
                         emails=generator.emails, duplicates=generator.duplicates, anonymous=generator.anonymous,
                         by_event=generator.summary_counts, defects=generator.defects, files=files)


class _Output:
    """Binary output file, gzip-compressed when ``gzip_output`` is true or the name ends in ``.gz``."""

    def __init__(self, path: Path, gzip_output: bool | None = None) -> None:
        self._file = path.open("wb")
        compress = path.name.endswith(".gz") if gzip_output is None else gzip_output
        # mtime=0 keeps the bytes the same for the same seed.
        self._stream = (gzip.GzipFile(filename="", mode="wb", fileobj=self._file, mtime=0)
                        if compress else self._file)

    def write(self, data: bytes) -> None:
        self._stream.write(data)

    def close(self) -> None:
        if self._stream is not self._file:
            self._stream.close()
        self._file.close()

    def __enter__(self) -> _Output:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


def _write_s3(generator: SampleGenerator, out: Path) -> int:
    root = out / "segment-logs" / generator.source_id
    handles: dict[int, _Output] = {}
    try:
        for received, line in generator.calls():
            day = received.replace(hour=0, minute=0, second=0, microsecond=0)
            day_ms = int(day.timestamp() * 1000)
            handle = handles.get(day_ms)
            if handle is None:
                folder = root / str(day_ms)
                folder.mkdir(parents=True, exist_ok=True)
                name = f"{day.strftime('%Y-%m-%d')}-{generator.seed:04d}.gz"
                handle = handles[day_ms] = _Output(folder / name, gzip_output=True)
            handle.write(line.encode("utf-8") + b"\n")
    finally:
        for handle in handles.values():
            handle.close()
    return len(handles)
