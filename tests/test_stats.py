"""Statistics and periods, with no app at all: every expected number is worked out by hand."""

from datetime import date
from math import sqrt

import pytest

from reports import stats
from reports.periods import Period, PeriodError, make_period, month_label, parse_period, shift_months


@pytest.mark.parametrize(("df", "expected"), [
    (1, 12.706), (2, 4.303), (5, 2.571), (10, 2.228), (23, 2.069), (30, 2.042), (100, 1.984), (1000, 1.962),
])
def test_t_quantile_matches_the_printed_tables(df, expected):
    assert stats.t_quantile(0.975, df) == pytest.approx(expected, abs=5e-4)


def test_t_quantile_other_levels_and_symmetry():
    assert stats.t_quantile(0.995, 3) == pytest.approx(5.841, abs=5e-4)
    assert stats.t_quantile(0.9, 1) == pytest.approx(3.078, abs=5e-4)
    assert stats.t_quantile(0.025, 5) == pytest.approx(-2.571, abs=5e-4)
    assert stats.t_quantile(0.5, 7) == 0.0


def test_t_quantile_tends_to_the_normal_quantile():
    assert stats.t_quantile(0.975, 10**7) == pytest.approx(1.95996, abs=1e-4)


@pytest.mark.parametrize("p", [0, 1, -0.1, 1.5])
def test_t_quantile_refuses_impossible_probabilities(p):
    with pytest.raises(ValueError):
        stats.t_quantile(p, 3)


def test_t_cdf_known_values():
    assert stats.t_cdf(0, 4) == 0.5
    assert stats.t_cdf(1, 1) == pytest.approx(0.75)  # Cauchy: 1/2 + atan(1)/π
    assert stats.t_cdf(-2.776445, 4) == pytest.approx(0.025, abs=1e-6)


def test_mean_and_sample_sd_by_hand():
    # 75, 75, 50, 50: mean 62.5; squared deviations 4 × 156.25 = 625; 625 / 3 = 208.33
    assert stats.mean([75, 75, 50, 50]) == 62.5
    assert stats.sample_sd([75, 75, 50, 50]) == pytest.approx(sqrt(625 / 3))
    assert stats.sample_sd([2, 4, 4, 4, 5, 5, 7, 9]) == pytest.approx(2.13809, abs=1e-5)


def test_mean_and_sd_skip_missing_values_and_need_data():
    assert stats.mean([]) is None
    assert stats.mean([None, None]) is None
    assert stats.mean([None, 80, 90]) == 85
    assert stats.sample_sd([80]) is None
    assert stats.sample_sd([80, None]) is None


def test_t_interval_by_hand():
    # mean 62.5, sd = sqrt(625/3) = 14.4338, t(0.975, 3) = 3.18245:
    # half width = 3.18245 × 14.4338 / 2 = 22.9673
    low, high = stats.t_interval([75, 75, 50, 50])
    assert low == pytest.approx(39.5327, abs=1e-4)
    assert high == pytest.approx(85.4673, abs=1e-4)


def test_t_interval_two_visits():
    # 60, 80: mean 70, sd 14.1421, t(0.975, 1) = 12.7062, half = 12.7062 × 14.1421 / √2 = 127.062
    low, high = stats.t_interval([60, 80])
    assert (low, high) == (pytest.approx(70 - 127.062, abs=1e-3), pytest.approx(70 + 127.062, abs=1e-3))
    assert stats.t_interval([60, 80], bounds=(0, 100)) == (0, 100)


def test_t_interval_needs_two_values():
    assert stats.t_interval([]) is None
    assert stats.t_interval([88.0]) is None
    assert stats.t_interval([88.0, None]) is None


def test_identical_scores_have_a_zero_width_interval():
    assert stats.t_interval([70, 70, 70]) == (70, 70)
    assert stats.sample_sd([70, 70, 70]) == 0


def test_summary_of_one_visit_has_no_interval_or_spread():
    assert stats.summary([88.0]) == {"score": 88.0, "n": 1, "sd": None, "ci_low": None, "ci_high": None}
    assert stats.summary([]) == {"score": None, "n": 0, "sd": None, "ci_low": None, "ci_high": None}


def test_region_average_weighs_each_branch_the_same():
    # Branch X: one visit at 40. Branch Y: three visits at 80, 90, 100 (mean 90).
    x, y = [40.0], [80.0, 90.0, 100.0]
    region = stats.branch_weighted({"X": stats.mean(x), "Y": stats.mean(y)})
    assert region == 65.0                       # (40 + 90) / 2
    assert stats.mean(x + y) == 77.5            # the visit mean, which the region must not use
    assert region != stats.mean(x + y)


def test_branch_weighted_ignores_branches_without_data():
    assert stats.branch_weighted({"X": 40.0, "Y": None}) == 40.0
    assert stats.branch_weighted([]) is None
    assert stats.branch_weighted([None]) is None


def test_change_against_previous_period():
    assert stats.change(62.5, 100.0) == -37.5
    assert stats.change(None, 80.0) is None
    assert stats.change(80.0, None) is None


def test_rank_best_first_ties_share_and_no_data_unranked():
    assert stats.rank([90, 80, 80, 70, None]) == [1, 2, 2, 4, None]
    assert stats.rank([None, 50]) == [None, 1]


def test_incomplete_beta_edges_and_symmetry():
    assert stats.incomplete_beta(2, 3, 0) == 0
    assert stats.incomplete_beta(2, 3, 1) == 1
    # I_x(a, b) = 1 − I_{1−x}(b, a); I_0.5(a, a) = 0.5
    assert stats.incomplete_beta(2.5, 1.5, 0.3) == pytest.approx(1 - stats.incomplete_beta(1.5, 2.5, 0.7))
    assert stats.incomplete_beta(4, 4, 0.5) == pytest.approx(0.5)
    # I_x(1, 1) = x
    assert stats.incomplete_beta(1, 1, 0.37) == pytest.approx(0.37)


# --- Periods -------------------------------------------------------------------------------

def test_default_period_is_twelve_months_to_today():
    period = make_period(None, None, today=date(2026, 11, 23))
    assert (period.start, period.end) == (date(2025, 11, 23), date(2026, 11, 23))
    assert period.days == 366
    assert period.label == "23 Nov 2025 – 23 Nov 2026"


def test_from_defaults_to_twelve_months_before_to():
    period = make_period(None, date(2028, 2, 29))
    assert period.start == date(2027, 2, 28)


def test_previous_period_has_equal_length_and_ends_the_day_before():
    period = Period(date(2026, 1, 1), date(2026, 6, 30))
    previous = period.previous()
    assert previous.end == date(2025, 12, 31)
    assert previous.days == period.days == 181
    assert previous.start == date(2025, 7, 4)


def test_months_cover_every_month_the_period_touches():
    assert Period(date(2025, 11, 23), date(2026, 2, 1)).months() == ["2025-11", "2025-12", "2026-01", "2026-02"]
    assert Period(date(2026, 3, 5), date(2026, 3, 5)).months() == ["2026-03"]
    assert month_label("2026-01") == "Jan 2026"


def test_shift_months_clamps_to_the_month_end():
    assert shift_months(date(2026, 3, 31), -1) == date(2026, 2, 28)
    assert shift_months(date(2026, 12, 15), 1) == date(2027, 1, 15)
    assert shift_months(date(2026, 1, 15), -13) == date(2024, 12, 15)


def test_parse_period_reads_iso_dates_and_blanks():
    period = parse_period("2026-01-01", "2026-06-30")
    assert (period.start, period.end) == (date(2026, 1, 1), date(2026, 6, 30))
    assert parse_period("", " ", today=date(2026, 5, 1)).start == date(2025, 5, 1)
    assert Period(date(2026, 1, 1), date(2026, 6, 30)).slug() == "2026-01-01_2026-06-30"


@pytest.mark.parametrize(("start", "end", "field", "words"), [
    ("2026-13-01", None, "from", "not a date"),
    ("yesterday", None, "from", "YYYY-MM-DD"),
    ("2026-1-5", None, "from", "not a date"),
    ("2026-W01-1", None, "from", "not a date"),
    (None, "31/01/2026", "to", "not a date"),
    ("0001-01-01", "2026-01-01", "from", "out of range"),
    (None, "9999-12-31", "to", "out of range"),
    ("2026-07-01", "2026-06-30", "from", "after"),
    ("2020-01-01", "2026-01-02", "from", "at most 5 years"),
])
def test_bad_periods_say_what_is_wrong(start, end, field, words):
    with pytest.raises(PeriodError) as caught:
        parse_period(start, end)
    assert words in str(caught.value)
    assert caught.value.field == field


def test_five_years_exactly_is_allowed():
    period = parse_period("2021-01-02", "2026-01-02")
    assert period.start == date(2021, 1, 2)
