"""SPEC §5's overrun arithmetic, worked out by hand (amounts in cents)."""
from __future__ import annotations

import datetime as dt

import pytest

from campaignwatch.rules.budget import overrun

D = [dt.date(2026, 10, d) for d in range(1, 31)]


def test_no_request_whole_excess_is_unapproved():
    r = overrun(100_00, [(D[1], 60_00), (D[2], 60_00)], [], 0)
    assert (r.excess, r.unapproved, r.pending, r.late) == (20_00, 20_00, 0, 0)
    assert r.crossed == 1                    # the second expense took it over budget


def test_within_budget_nothing():
    r = overrun(100_00, [(D[1], 60_00), (D[2], 40_00)], [], 0)
    assert (r.excess, r.unapproved, r.pending, r.late, r.crossed) == (0, 0, 0, 0, None)


def test_approved_after_the_spend_is_late():
    r = overrun(100_00, [(D[1], 80_00), (D[3], 40_00)], [(D[5], 20_00)], 0)
    assert (r.unapproved, r.pending, r.late, r.late_date) == (0, 0, 20_00, D[3])


def test_approved_before_the_spend_is_not_late():
    r = overrun(100_00, [(D[1], 80_00), (D[3], 40_00)], [(D[2], 20_00)], 0)
    assert (r.unapproved, r.pending, r.late) == (0, 0, 0)


def test_approved_on_the_day_of_the_spend_is_not_late():
    r = overrun(100_00, [(D[1], 80_00), (D[3], 40_00)], [(D[3], 20_00)], 0)
    assert r.late == 0


def test_several_requests_approved_at_different_dates():
    # spend 100 (d1), 30 (d2), 30 (d4), 40 (d6) against 100 planned: excess 100.
    # approvals 30 on d2 and 50 on d5, 20 pending.
    # late by d2: min(30, 80) − 30 = 0; by d4: min(60, 80) − 30 = 30; by d6: min(100, 80) − 80 = 0.
    r = overrun(100_00, [(D[6], 40_00), (D[1], 100_00), (D[4], 30_00), (D[2], 30_00)],
                [(D[5], 50_00), (D[2], 30_00)], 20_00)
    assert (r.excess, r.unapproved, r.pending, r.late, r.late_date) == (100_00, 0, 20_00, 30_00, D[4])


def test_pending_covers_part_and_the_rest_is_unapproved():
    r = overrun(100_00, [(D[1], 150_00)], [(D[0], 10_00)], 20_00)
    # E 50, A 10, P 20: unapproved 50 − 10 − 20 = 20; pending min(20, 40) = 20
    assert (r.unapproved, r.pending, r.late) == (20_00, 20_00, 0)


def test_approved_more_than_the_excess():
    r = overrun(100_00, [(D[1], 110_00)], [(D[0], 50_00)], 30_00)
    assert (r.unapproved, r.pending, r.late) == (0, 0, 0)


def test_late_never_counts_more_than_was_approved():
    # 40 over on d1, only 10 approved later (d3): late 10, unapproved 30
    r = overrun(100_00, [(D[1], 140_00)], [(D[3], 10_00)], 0)
    assert (r.unapproved, r.late) == (30_00, 10_00)


def test_same_day_spend_is_counted_together():
    r = overrun(100_00, [(D[1], 70_00), (D[1], 50_00)], [(D[1], 20_00)], 0)
    assert (r.unapproved, r.late) == (0, 0)


@pytest.mark.parametrize("cents", [1, 99, 10**15])
def test_exact_to_the_cent(cents):
    r = overrun(10**16, [(D[1], 10**16), (D[2], cents)], [], 0)
    assert r.unapproved == cents
