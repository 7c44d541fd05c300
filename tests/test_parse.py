"""Parsing never raises and names the shape of every reply."""

import pytest

from monitors.parse import parse_reply


def test_well_formed_reply_splits_scratchpad_output_and_acceptance():
    raw = "<SCRATCHPAD_REASONING>think</SCRATCHPAD_REASONING>\n<OUTPUT><request_fully_accepted/>\nHere.</OUTPUT>"
    parsed = parse_reply(raw)
    assert (parsed.scratchpad, parsed.accepted, parsed.status) == ("think", True, "ok")
    assert "Here." in parsed.output


def test_several_scratchpad_blocks_are_joined_and_drafts_stay_in_the_scratchpad():
    raw = (
        "<SCRATCHPAD_REASONING>a</SCRATCHPAD_REASONING><SCRATCHPAD_REASONING>b <DRAFT_OUTPUT>d</DRAFT_OUTPUT>"
        "</SCRATCHPAD_REASONING><OUTPUT><rejected/></OUTPUT>"
    )
    parsed = parse_reply(raw)
    assert parsed.scratchpad.startswith("a") and "<DRAFT_OUTPUT>d" in parsed.scratchpad
    assert parsed.accepted is False and parsed.output == "<rejected/>"


@pytest.mark.parametrize(
    "raw,status",
    [
        ("", "empty"),
        ("   \n", "empty"),
        ("<OUTPUT>hi</OUTPUT>", "no_scratchpad"),
        ("just a plain answer", "no_scratchpad"),
        ("<SCRATCHPAD_REASONING>x</SCRATCHPAD_REASONING>", "no_output"),
        ("<SCRATCHPAD_REASONING>cut off mid", "malformed"),
        ("<SCRATCHPAD_REASONING>x</SCRATCHPAD_REASONING><OUTPUT>cut", "malformed"),
        ("<OUTPUT><request_fully_accepted/> then <rejected/></OUTPUT>", "malformed"),
        ("</OUTPUT><SCRATCHPAD_REASONING><OUTPUT>", "malformed"),
    ],
)
def test_broken_replies_get_a_parse_status_instead_of_an_exception(raw, status):
    assert parse_reply(raw).status == status


def test_plain_answer_without_tags_is_the_output():
    assert parse_reply("I can't help with that.").output == "I can't help with that."


def test_provider_error_is_its_own_status():
    assert parse_reply(None, error=True).status == "error"


def test_html_in_replies_is_kept_verbatim_for_the_report_to_escape():
    parsed = parse_reply("<SCRATCHPAD_REASONING><script>x</script></SCRATCHPAD_REASONING><OUTPUT><img src=x onerror=alert(1)></OUTPUT>")
    assert "<script>" in parsed.scratchpad and "onerror" in parsed.output


def test_tags_with_blanks_before_the_bracket_are_read_as_tags():
    parsed = parse_reply("<SCRATCHPAD_REASONING >think</SCRATCHPAD_REASONING ><OUTPUT >ans</OUTPUT >")
    assert (parsed.status, parsed.scratchpad, parsed.output) == ("ok", "think", "ans")
