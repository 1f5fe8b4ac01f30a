"""Model numbers against hand counts of tests/fixtures/models/outreach.ndjson, on DuckDB and PostgreSQL.

The fixture, by email (A = alex.rivera@, B = bea.okafor@; S1 = "Quick question about
hiring", S2 = "Agenda for Thursday"; times UTC):

- em_e01 A S1, sent Mon 2024-03-04 09:00: opened 3 times (09:30, 10:00, next day), clicked
  twice (10:05, 10:06), replied 12:00.
- em_e02 A S1, sent 03-04 09:05 without userId; opened 11:05 with userId.
- em_e03 A S2, sent 03-04 09:10: opened, then unsubscribed.
- em_e04 A S2, sent Tue 03-05 09:00: bounced.
- em_e05 B S1, sent 03-05 10:00 but received a day later: opened twice; one open is
  delivered twice with the same messageId.
- em_e06..em_e09 B, sent the next week (03-11, 03-11, 03-12, 03-12); em_e10 A sent 03-13.
- em_e11 A S1: only an open, on 03-04 08:00 (its send is not in the data).

So 10 emails were sent, 1 bounced (9 delivered), 4 opened, 1 clicked, 1 replied and
1 unsubscribed: an open rate of 4/9 of delivered emails.
"""

from __future__ import annotations

from datetime import date, datetime

import pytest

from tests.helpers import rows

A, B = "alex.rivera@example.com", "bea.okafor@example.com"
S1, S2 = "Quick question about hiring", "Agenda for Thursday"
COUNT_NAMES = ("sent", "bounced", "delivered", "opened", "clicked", "replied", "unsubscribed")


def model(url: str, schema: str, name: str, order_by: str = "1") -> list[dict]:
    return rows(url, f'SELECT * FROM "{schema}_models"."{name}" ORDER BY {order_by}')


def counts(row: dict) -> tuple[int, ...]:
    return tuple(row[name] for name in COUNT_NAMES)


def test_funnel_counts_and_rates(outreach_target):
    url, schema = outreach_target
    [funnel] = model(url, schema, "funnel")

    assert counts(funnel) == (10, 1, 9, 4, 1, 1, 1)
    assert funnel["open_rate"] == pytest.approx(4 / 9)
    assert funnel["delivery_rate"] == pytest.approx(9 / 10)
    assert funnel["bounce_rate"] == pytest.approx(1 / 10)
    assert funnel["click_rate"] == pytest.approx(1 / 9)
    assert funnel["click_to_open_rate"] == pytest.approx(1 / 4)
    assert funnel["reply_rate"] == pytest.approx(1 / 9)
    assert funnel["unsubscribe_rate"] == pytest.approx(1 / 9)


def test_emails_one_row_per_email(outreach_target):
    url, schema = outreach_target
    emails = {row["email_id"]: row for row in model(url, schema, "emails")}

    assert sorted(emails) == [f"em_e{number:02d}" for number in range(1, 12)]
    first = emails["em_e01"]
    assert (first["sender"], first["prospect"], first["subject"]) == (A, "prospect01@example.org", S1)
    assert first["first_sent_at"] == datetime(2024, 3, 4, 9, 0)
    assert first["first_opened_at"] == datetime(2024, 3, 4, 9, 30)
    assert first["first_clicked_at"] == datetime(2024, 3, 4, 10, 5)
    assert first["replied_at"] == datetime(2024, 3, 4, 12, 0)
    assert (first["opens"], first["clicks"]) == (3, 2)
    assert first["delivered"] is True
    assert first["hours_to_first_open"] == pytest.approx(0.5)
    assert first["hours_to_reply"] == pytest.approx(3.0)
    assert first["bounced_at"] is None
    assert first["unsubscribed_at"] is None


def test_emails_edge_cases(outreach_target):
    url, schema = outreach_target
    emails = {row["email_id"]: row for row in model(url, schema, "emails")}

    # The send came without userId, so the prospect comes from the open.
    assert emails["em_e02"]["prospect"] == "prospect02@example.org"
    assert emails["em_e02"]["sender"] == A
    # Sent at 10:00 by `timestamp` although Segment received it a day later.
    assert emails["em_e05"]["first_sent_at"] == datetime(2024, 3, 5, 10, 0)
    # The open delivered twice is loaded once.
    assert emails["em_e05"]["opens"] == 2
    assert emails["em_e04"]["bounced_at"] == datetime(2024, 3, 5, 9, 1)
    assert emails["em_e04"]["delivered"] is False
    assert emails["em_e03"]["unsubscribed_at"] == datetime(2024, 3, 4, 15, 20)
    orphan = emails["em_e11"]
    assert orphan["first_sent_at"] is None
    assert orphan["opens"] == 1
    assert orphan["delivered"] is False
    assert orphan["hours_to_first_open"] is None


def test_email_events_stack_every_table(outreach_target):
    url, schema = outreach_target
    by_event = {row["event"]: row["n"] for row in rows(
        url, f'SELECT event, count(*) AS n FROM "{schema}_models".email_events GROUP BY event')}

    assert by_event == {"email_sent": 10, "email_opened": 8, "link_clicked": 2, "email_replied": 1,
                        "email_bounced": 1, "email_unsubscribed": 1}
    links = rows(url, f'SELECT link FROM "{schema}_models".email_events WHERE link IS NOT NULL ORDER BY link')
    assert [row["link"] for row in links] == ["https://example.com/demo", "https://example.com/pricing"]


def test_daily_rates_use_timestamp(outreach_target):
    url, schema = outreach_target
    daily = {row["sent_date"]: counts(row) for row in model(url, schema, "daily_rates")}

    assert daily == {
        date(2024, 3, 4): (3, 0, 3, 3, 1, 1, 1),
        date(2024, 3, 5): (2, 1, 1, 1, 0, 0, 0),
        date(2024, 3, 11): (2, 0, 2, 0, 0, 0, 0),
        date(2024, 3, 12): (2, 0, 2, 0, 0, 0, 0),
        date(2024, 3, 13): (1, 0, 1, 0, 0, 0, 0),
    }


def test_weekly_rates_start_on_monday(outreach_target):
    url, schema = outreach_target
    weekly = model(url, schema, "weekly_rates")

    assert [row["sent_week"] for row in weekly] == [date(2024, 3, 4), date(2024, 3, 11)]
    assert counts(weekly[0]) == (5, 1, 4, 4, 1, 1, 1)
    assert weekly[0]["open_rate"] == pytest.approx(1.0)
    assert counts(weekly[1]) == (5, 0, 5, 0, 0, 0, 0)
    assert weekly[1]["click_to_open_rate"] is None


def test_sender_and_subject_rates(outreach_target):
    url, schema = outreach_target
    senders = {row["sender"]: row for row in model(url, schema, "sender_rates")}
    subjects = {row["subject"]: row for row in model(url, schema, "subject_rates")}

    assert counts(senders[A]) == (5, 1, 4, 3, 1, 1, 1)
    assert senders[A]["open_rate"] == pytest.approx(3 / 4)
    assert counts(senders[B]) == (5, 0, 5, 1, 0, 0, 0)
    assert senders[B]["open_rate"] == pytest.approx(1 / 5)
    assert counts(subjects[S1]) == (6, 0, 6, 3, 1, 1, 0)
    assert counts(subjects[S2]) == (4, 1, 3, 1, 0, 0, 1)


def test_weekly_sender_and_subject_rates(outreach_target):
    url, schema = outreach_target
    by_sender = {(row["sent_week"], row["sender"]): counts(row)
                 for row in model(url, schema, "weekly_sender_rates", "1, 2")}
    by_subject = {(row["sent_week"], row["subject"]): counts(row)
                  for row in model(url, schema, "weekly_subject_rates", "1, 2")}
    first, second = date(2024, 3, 4), date(2024, 3, 11)

    assert by_sender == {
        (first, A): (4, 1, 3, 3, 1, 1, 1),
        (first, B): (1, 0, 1, 1, 0, 0, 0),
        (second, A): (1, 0, 1, 0, 0, 0, 0),
        (second, B): (4, 0, 4, 0, 0, 0, 0),
    }
    assert by_subject == {
        (first, S1): (3, 0, 3, 3, 1, 1, 0),
        (first, S2): (2, 1, 1, 1, 0, 0, 1),
        (second, S1): (3, 0, 3, 0, 0, 0, 0),
        (second, S2): (2, 0, 2, 0, 0, 0, 0),
    }


def test_daily_sender_and_subject_rates(outreach_target):
    url, schema = outreach_target
    by_sender = {(row["sent_date"], row["sender"]): row["sent"]
                 for row in model(url, schema, "daily_sender_rates", "1, 2")}
    by_subject = {(row["sent_date"], row["subject"]): row["sent"]
                  for row in model(url, schema, "daily_subject_rates", "1, 2")}

    assert by_sender == {(date(2024, 3, 4), A): 3, (date(2024, 3, 5), A): 1, (date(2024, 3, 5), B): 1,
                         (date(2024, 3, 11), B): 2, (date(2024, 3, 12), B): 2, (date(2024, 3, 13), A): 1}
    assert sum(by_subject.values()) == 10
    assert by_subject[(date(2024, 3, 4), S1)] == 2
    assert by_subject[(date(2024, 3, 4), S2)] == 1
