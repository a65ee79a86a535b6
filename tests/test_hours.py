"""Branch opening hours (SPEC §8 ``outside_hours``): the parser's rules and located messages, and
the two ways HQ sets them (the branch form and the branches CSV), each refusing a bad value."""

from __future__ import annotations

from datetime import time

import pytest
from survey.extensions import db
from survey.hours import HoursError, is_open, parse_hours
from survey.models import Branch

from .test_hq_places import HEADER, field_block, regions, text_of, upload  # noqa: F401 - regions is a fixture


def test_days_ranges_and_several_times_are_read():
    hours = parse_hours("Mo-Fr 09:00-12:00,13:00-18:00; Sa 09:00-13:00")

    assert hours[0] == [(540, 720), (780, 1080)] and hours[4] == hours[0]
    assert hours[5] == [(540, 780)] and 6 not in hours
    assert is_open(hours, 0, time(9, 0)) and is_open(hours, 5, time(12, 59))
    assert not is_open(hours, 0, time(12, 30)) and not is_open(hours, 0, time(18, 0))
    assert not is_open(hours, 6, time(10, 0))
    assert parse_hours("mo,we 08:00-24:00")[2] == [(480, 1440)]


@pytest.mark.parametrize("text, words", [
    ("Mo-Fr 09:00-18:00; Sa 13:00-09:00", "“Sa 13:00-09:00”: 13:00-09:00 ends before it starts."),
    ("Mo-Fr 09:00-18:00; We 17:00-19:00", "“We 17:00-19:00”: 17:00-19:00 overlaps other hours on We."),
    ("Mo 09:00-12:00,11:00-13:00", "“Mo 09:00-12:00,11:00-13:00”: 11:00-13:00 overlaps other hours on Mo."),
    ("Xy 09:00-18:00", "“Xy 09:00-18:00”: “Xy” is not a day"),
    ("Fr-Mo 09:00-18:00", "“Fr-Mo 09:00-18:00”: “Fr-Mo” is not a range of days"),
    ("Mo 9-18", "“Mo 9-18”: “9-18” is not a time range such as 09:00-18:00."),
    ("Mo 09:00-25:00", "“Mo 09:00-25:00”: “09:00-25:00” is not a time of day"),
    ("always", "“always”: write days and times"),
    (" ; ", "Write at least one day with its hours"),
])
def test_bad_hours_are_refused_naming_the_part(text, words):
    with pytest.raises(HoursError) as refused:
        parse_hours(text)
    assert words in str(refused.value)


def test_the_branch_form_keeps_bad_hours_with_the_message_beside_them(hq, make_branch):
    branch = make_branch("BR-001", "NORTH")
    typed = "Mo-Fr 09:00-18:00; Sa 13:00-09:00"

    form = {"code": "BR-001", "name": "One", "region_id": str(branch.region_id)}
    response = hq.post(f"/hq/branches/{branch.id}/edit", {**form, "opening_hours": typed})

    assert response.status_code == 422
    block = field_block(text_of(response), "opening_hours")
    assert "13:00-09:00 ends before it starts." in block and f'value="{typed}"' in block
    good = hq.post(f"/hq/branches/{branch.id}/edit", {**form, "opening_hours": "Mo-Fr 09:00-18:00"})
    assert good.status_code == 302
    db.session.expire_all()
    assert db.session.get(Branch, branch.id).opening_hours == "Mo-Fr 09:00-18:00"


def test_the_branches_csv_takes_hours_as_a_fifth_column_and_locates_a_bad_one(hq, regions):  # noqa: F811
    header = HEADER.strip() + ",opening_hours\n"
    bad = (header + "BR-001,One,NORTH,,Mo-Fr 09:00-18:00\n" + "BR-002,Two,NORTH,,Mo 10:00-09:00\n").encode()

    refused = upload(hq, bad)

    assert refused.status_code == 422
    assert "Line 3: opening hours “Mo 10:00-09:00”: 10:00-09:00 ends before it starts." in text_of(refused)
    assert db.session.scalar(db.select(db.func.count(Branch.id))) == 0

    good = header + "BR-001,One,NORTH,,Mo-Fr 09:00-18:00\nBR-002,Two,NORTH,,\n"
    assert upload(hq, good.encode()).status_code == 302
    hours = dict(db.session.execute(db.select(Branch.code, Branch.opening_hours)).all())
    assert hours == {"BR-001": "Mo-Fr 09:00-18:00", "BR-002": None}
    # A file without the column leaves the hours as they are.
    assert upload(hq, (HEADER + "BR-001,One renamed,NORTH,\n").encode()).status_code == 302
    db.session.expire_all()
    assert db.session.scalar(db.select(Branch.opening_hours).filter_by(code="BR-001")) == "Mo-Fr 09:00-18:00"
