from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from regovar.cron import CronError, parse_cron


@pytest.mark.parametrize(
    "text,at,latest",
    [
        ("*/5 * * * *", datetime(2026, 12, 4, 10, 17, 42), datetime(2026, 12, 4, 10, 15)),
        ("*/5 * * * *", datetime(2026, 12, 4, 10, 15, 0), datetime(2026, 12, 4, 10, 15)),
        ("* * * * *", datetime(2026, 12, 4, 10, 17, 42), datetime(2026, 12, 4, 10, 17)),
        ("0 3 * * sat", datetime(2026, 12, 4, 10, 0), datetime(2026, 11, 28, 3, 0)),  # a Friday
        ("0 3 * * 6", datetime(2026, 12, 5, 3, 0), datetime(2026, 12, 5, 3, 0)),
        ("30 2 1 * *", datetime(2026, 3, 1, 2, 29), datetime(2026, 2, 1, 2, 30)),
        ("0 0 29 2 *", datetime(2026, 12, 4), datetime(2024, 2, 29, 0, 0)),
        ("@weekly", datetime(2026, 12, 4, 10, 0), datetime(2026, 11, 29, 0, 0)),  # Sunday
        ("@yearly", datetime(2026, 12, 4, 10, 0), datetime(2026, 1, 1, 0, 0)),
        ("15,45 8-17 * * mon-fri", datetime(2026, 12, 5, 12, 0), datetime(2026, 12, 4, 17, 45)),
        ("0 12 * jan-mar *", datetime(2026, 12, 4), datetime(2026, 3, 31, 12, 0)),
        ("0 0 * * 7", datetime(2026, 12, 4), datetime(2026, 11, 29, 0, 0)),  # 7 is Sunday too
        # Both day fields restricted: either matches (the 1st, or a Monday).
        ("0 0 1 * mon", datetime(2026, 12, 4), datetime(2026, 12, 1, 0, 0)),
        ("0 0 13 * mon", datetime(2026, 12, 4), datetime(2026, 11, 30, 0, 0)),
    ],
)
def test_latest_tick(text, at, latest):
    cron = parse_cron(text)
    assert cron.latest(at) == latest
    assert cron.matches(latest)
    assert cron.next_after(latest - timedelta(minutes=1)) == latest


@pytest.mark.parametrize(
    "text,at,following",
    [
        ("*/5 * * * *", datetime(2026, 12, 4, 10, 15), datetime(2026, 12, 4, 10, 20)),
        ("0 3 * * sat", datetime(2026, 12, 4, 10, 0), datetime(2026, 12, 5, 3, 0)),
        ("0 0 1 1 *", datetime(2026, 12, 31, 23, 59), datetime(2027, 1, 1, 0, 0)),
    ],
)
def test_next_tick(text, at, following):
    assert parse_cron(text).next_after(at) == following


@pytest.mark.parametrize(
    "text,problem",
    [
        ("* * * *", "needs 5 fields"),
        ("60 * * * *", "minute 60 is outside 0-59"),
        ("* 24 * * *", "hour 24 is outside 0-23"),
        ("* * 0 * *", "day of month 0 is outside 1-31"),
        ("* * * 13 *", "month 13 is outside 1-12"),
        ("* * * * 8", "day of week 8 is outside 0-7"),
        ("*/0 * * * *", "step must be at least 1"),
        ("5-1 * * * *", "range 5-1 is backwards"),
        ("x * * * *", "minute 'x' is not a number"),
        ("* * * * funday", "is not a number"),
        ("0 0 31 2 *", "never fires"),
        ("", "needs 5 fields"),
        ("1/ * * * *", "has no step after /"),
        ("9" * 5000 + " * * * *", "is outside 0-59"),
        ("٣ * * * *", "is not a number"),
    ],
)
def test_bad_schedules_say_what_is_wrong(text, problem):
    with pytest.raises(CronError, match=problem):
        parse_cron(text)


def test_a_bad_schedule_in_the_settings_names_the_variable():
    from regovar.config import SettingsError, load_settings

    with pytest.raises(SettingsError, match=r"REGOVAR_SCHEDULE_MONITOR: .*minute 61"):
        load_settings(env={"REGOVAR_SCHEDULE_MONITOR": "61 * * * *"})
    assert load_settings(env={"REGOVAR_SCHEDULE_MAIL": ""}).schedule_mail == ""


@pytest.mark.parametrize(
    "variable,value,problem",
    [
        ("REGOVAR_SMTP_PORT", "99999", "between 1 and 65535"),
        ("REGOVAR_SMTP_PORT", "2_5", "must be an integer"),
        ("REGOVAR_SMTP_TIMEOUT_S", "0", "between 1 and 3600"),
        ("REGOVAR_ARCHIVE_AFTER_DAYS", "-5", "between 0 and"),
        ("REGOVAR_INBOX_SETTLE_SECONDS", "-100", "between 0 and"),
        ("REGOVAR_MAIL_FROM", "x@y\nBcc: evil@z", "is not an email address"),
        ("REGOVAR_ALERT_EMAILS", "ops@lab.example,not-an-address", "is not an email address"),
        ("REGOVAR_ALERT_EMAILS", "bøb@x.example", "in ASCII"),
        ("REGOVAR_SMTP_HOST", "a" * 300, "is not a host name"),
        ("REGOVAR_INBOXES", "/srv/runs=exomes,/srv/other=x", "separate drop folders with"),
        ("REGOVAR_INBOXES", "relative/runs", "is not an absolute folder path"),
        ("REGOVAR_SCHEDULE_ARCHIVE", "@weely", "unknown shortcut"),
    ],
)
def test_bad_settings_say_which_and_why(variable, value, problem):
    from regovar.config import SettingsError, load_settings

    with pytest.raises(SettingsError, match=problem):
        load_settings(env={variable: value})
