"""Reports name the zone their days are in, the machine's own zone included."""

from __future__ import annotations

import datetime as dt

from tokopt.ledger.timezones import local_name, zone, zone_label


def test_a_zone_is_named(monkeypatch):
    assert zone_label(zone("UTC")) == "UTC"
    assert zone_label(zone("Europe/Berlin")) == "Europe/Berlin"
    monkeypatch.setenv("TZ", "America/New_York")
    assert local_name() == "America/New_York"
    assert zone_label(zone("local")) == "local (America/New_York)"
    monkeypatch.setenv("TZ", ":Asia/Tokyo")
    assert zone_label(zone(None)) == "local (Asia/Tokyo)"


def test_without_a_name_the_local_zone_is_its_offset(monkeypatch, tmp_path):
    monkeypatch.setenv("TZ", "not a zone")
    name = local_name()
    # whatever the machine says, the label is an IANA name or an abbreviation with its offset
    assert "/" in name or name == "UTC" or "UTC+" in name or "UTC-" in name
    assert isinstance(zone("local").utcoffset(dt.datetime(2026, 1, 1)), dt.timedelta)
