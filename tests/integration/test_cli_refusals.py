"""Numbers given to the ``flask awards`` commands: a digit that is not 0-9 ("²" passes
``str.isdigit()`` and fails ``int()``, "٣" passes ``int()``) or a number no row can have stops
the command with one line saying what is wrong and exit code 2, never a traceback."""

from __future__ import annotations

import pytest

from tests.factories import arrange, make_call

SUPERSCRIPT_TWO = "²"
ARABIC_THREE = "٣"
HUGE = "99999999999999999999"


@pytest.fixture
def call_slug(app):
    return arrange(app, lambda session: make_call(session).slug)


def refused(result, *words: str) -> str:
    """The command stopped with a usage error: exit code 2, no traceback, one line starting
    with "Error:" that names the value."""
    assert result.exit_code == 2, (result.exit_code, result.output, result.exception)
    assert isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    errors = [line for line in result.output.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1, result.output
    for word in words:
        assert word in errors[0], errors[0]
    return errors[0]


@pytest.mark.parametrize("head_id", [SUPERSCRIPT_TWO, ARABIC_THREE, "1" * 30, "-1", ""])
def test_audit_verify_refuses_a_head_whose_id_is_not_digits(app, runner, head_id):
    result = runner.invoke(args=["awards", "audit", "verify", "--against", f"{head_id}:abcd"])
    refused(result, "--against", "ID:HASH")


@pytest.mark.parametrize("command", [["results", "status"], ["ranking"]])
@pytest.mark.parametrize("ref", [SUPERSCRIPT_TWO, ARABIC_THREE, HUGE])
def test_a_call_named_by_a_strange_number_is_not_found(app, runner, command, ref):
    result = runner.invoke(args=["awards", *command, ref])
    refused(result, "CALL", ref)


@pytest.mark.parametrize("number", [SUPERSCRIPT_TWO, ARABIC_THREE, HUGE, "-1", "1.5"])
def test_ranking_round_must_be_written_in_digits(app, runner, call_slug, number):
    result = runner.invoke(args=["awards", "ranking", call_slug, "--round", number])
    refused(result, "--round", "0-9")


def test_score_import_round_must_be_written_in_digits(app, runner, call_slug, tmp_path):
    ballots = tmp_path / "ballots.csv"
    ballots.write_text("entry,juror,criterion,score\n", encoding="utf-8")
    for number in (ARABIC_THREE, HUGE):
        result = runner.invoke(
            args=["awards", "scores", "import", call_slug, str(ballots), "--round", number])
        refused(result, "--round", "0-9")


def test_jury_remind_and_commission_tally_read_rounds_in_digits(app, runner):
    for number in (ARABIC_THREE, HUGE):
        refused(runner.invoke(args=["awards", "jury", "remind", "--round", number]),
                "--round", "0-9")
        refused(runner.invoke(args=["awards", "commission", "tally", number]),
                "ROUND", "0-9")


def test_a_call_can_still_be_named_by_its_id(app, runner):
    call_id = arrange(app, lambda session: make_call(session).id)
    result = runner.invoke(args=["awards", "results", "status", str(call_id)])
    assert result.exit_code == 0, result.output
    assert "no results published or scheduled" in result.output
