"""`hubscope targets` over a database recorded from the stand-in hub's answers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from proxy.cli import cli
from proxy.cli.targets import parse_time
from proxy.targets import iso
from tests.targets.recorder import Recorder, installation_doc

APPLE = "0a" * 32


def targets(db: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, ["targets", "--db", str(db), *args])


def as_json(db: Path, *args: str) -> dict[str, Any]:
    result = targets(db, *args, "--output", "json")
    assert result.exit_code == 0, result.output
    found: dict[str, Any] = json.loads(result.output)
    return found


@pytest.fixture
def recorded(recorder: Recorder, tmp_path: Path) -> tuple[Path, dict[str, Any]]:
    """Three registrations and an installation with a template; one registration deleted."""
    ids: dict[str, Any] = {
        "kept": recorder.register("Apple", APPLE, ["sports", "boston"]),
        "other": recorder.register("Gcm", "gcm-1", ["sports"]),
        "gone": recorder.register("Apple", "0b" * 32, ["sports"]),
    }
    recorder.install(installation_doc("phone-1", "apns", "0c" * 32, ["sports"], {"promo": []}))
    deleted = recorder.call("DELETE", f"/registrations/{ids['gone']}", headers={"If-Match": "*"})
    ids["deleted_at"] = deleted.started_at
    db = tmp_path / "rec.db"
    recorder.save(db)
    return db, ids


def test_who_a_send_reaches(recorded: tuple[Path, dict[str, Any]]) -> None:
    db, ids = recorded
    report = as_json(db, "--expr", "sports && !boston", "--format", "apple")
    assert report["format"] == "apple" and report["expression"] == "sports && !boston"
    assert [(r["kind"], r["id"], r["registration"]) for r in report["reached"]] == [
        ("installation", "phone-1", "native")
    ]
    missed = {(m["id"], m["registration"]): m["check"] for m in report["missed"]}
    assert missed == {
        (ids["kept"], "native"): "tags",
        (ids["other"], "native"): "format",
        (ids["gone"], None): "exists",
        ("phone-1", "template 'promo'"): "format",
    }


def test_as_of_a_time_before_the_delete(recorded: tuple[Path, dict[str, Any]]) -> None:
    db, ids = recorded
    report = as_json(db, "--expr", "sports", "--format", "apple", "--at", str(ids["deleted_at"]))
    assert {r["id"] for r in report["reached"]} == {ids["kept"], ids["gone"], "phone-1"}
    assert report["at"] == iso(ids["deleted_at"])


def test_explain_step_by_step(recorded: tuple[Path, dict[str, Any]]) -> None:
    db, ids = recorded
    result = targets(db, "--expr", "sports && !boston", "--format", "apple", "--explain", APPLE)
    assert result.exit_code == 0, result.output
    text = result.output
    assert f"Why {APPLE}:" in text
    assert f"registration {ids['kept']}, native registration {ids['kept']}: not reached" in text
    assert "    ✓ format: format apple: a native apns registration" in text
    assert (
        "    ✗ tags: expression `sports && !boston` is false: `!boston` is false "
        "(has 'boston', which a ! excludes)"
    ) in text
    report = as_json(db, "--expr", "sports", "--format", "template", "--explain", "0b" * 32)
    [gone] = report["explain"]["registrations"]
    assert gone["reached"] is False and gone["steps"][0]["check"] == "exists"
    assert gone["steps"][0]["detail"].startswith("no registration left: deleted at ")


def test_explaining_something_never_recorded(recorded: tuple[Path, dict[str, Any]]) -> None:
    db, _ = recorded
    result = targets(db, "--expr", "sports", "--explain", "nobody")
    assert result.exit_code == 0
    assert "Nothing recorded for 'nobody' before this time" in result.output


def test_a_target_the_service_refuses_exits_1(recorded: tuple[Path, dict[str, Any]]) -> None:
    db, _ = recorded
    expression = " || ".join(f"t{n}" for n in range(21))
    result = targets(db, "--expr", expression, "--format", "apple")
    assert result.exit_code == 1
    assert "The service refuses this send (400): The tag expression has 21 tags; at most 20" in (
        result.output
    )
    report = json.loads(targets(db, "--expr", "a b", "--output", "json").output)
    assert report["refused"] == "The tag expression 'a b' is invalid" and report["reached"] == []


def test_text_lists_reached_then_left_out(recorded: tuple[Path, dict[str, Any]]) -> None:
    db, ids = recorded
    result = targets(db, "--format", "template")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].endswith("· format template · `(broadcast)` · as of the end of the recording")
    assert lines[1] == "Reached: 1 registrations on 1 devices"
    assert (
        lines[2].startswith("  installation phone-1  apns  0c0c0c")
        and "template 'promo'" in lines[2]
    )
    assert lines[3] == "Left out: 4 registrations on 4 devices"


def test_usage_errors(recorded: tuple[Path, dict[str, Any]], recorder: Recorder) -> None:
    db, _ = recorded
    assert targets(db, "--session", "nope").exit_code == 2
    assert targets(db, "--format", "fcm").exit_code == 2
    assert targets(db, "--at", "yesterday").exit_code == 2
    assert targets(db, "--hub", "elsewhere").exit_code == 2
    second = Recorder(recorder.hubs)
    second.register("Apple", APPLE, ["x"])
    second.save(db, session="second")
    result = targets(db, "--expr", "x")
    assert result.exit_code == 2 and "several hubs" in result.output
    report = as_json(db, "--expr", "x", "--hub", second.name)
    assert len(report["reached"]) == 1
    report = as_json(db, "--expr", "sports", "--session", "targets", "--format", "gcm")
    assert len(report["reached"]) == 1


@pytest.mark.parametrize(
    ("text", "expected"),
    [("1700000000.5", 1700000000.5), ("2023-11-14T22:13:20Z", 1700000000.0),
     ("2023-11-14T22:13:20", 1700000000.0), ("2023-11-15T00:13:20+02:00", 1700000000.0)],
)  # fmt: skip
def test_times(text: str, expected: float) -> None:
    assert parse_time(text) == expected
