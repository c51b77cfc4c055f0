"""WebVTT transcripts (Zoom, Teams, W3C) and Zoom chat exports."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from tests.adapters._shared_fixtures import DATA, shared_fixture

from afteraction.adapters.transcripts import parse_vtt, parse_zoom_chat, zoom_recording_start
from afteraction.core.errors import ImportFailed, ValidationError

START = datetime(2024, 5, 1, 10, 30, tzinfo=UTC)


def test_real_zoom_transcript() -> None:
    cues = parse_vtt(shared_fixture("vtt/cip_test_transcript/small_transcript.vtt"))
    assert len(cues) == 6
    assert [c.speaker for c in cues] == [
        "Ashlee Kupor (SL)",
        "Dora Demszky",
        None,  # cue 3 has no speaker prefix: not inherited from cue 2
        "Dora Demszky",
        "Dora Demszky",
        "Dora Demszky",
    ]
    assert (cues[0].start_seconds, cues[0].end_seconds, cues[0].text) == (
        0.51,
        1.55,
        "Let's do that",
    )
    assert cues[2].text == "No, it's gonna. I think it's"
    assert cues[5].end_seconds == pytest.approx(24.09)
    assert all(c.at is None for c in cues)


def test_real_empty_transcript() -> None:
    assert parse_vtt(shared_fixture("vtt/cip_test_transcript/empty_transcript.vtt")) == []


def test_real_zoom_chat() -> None:
    text = shared_fixture("vtt/cip_test_transcript/chat.txt").read_text(encoding="utf-8")
    cues = parse_zoom_chat(text, meeting_start=START)
    assert [(c.start_seconds, c.speaker) for c in cues] == [
        (669.0, "Ashlee Kupor"),
        (700.0, "Dora Demszky"),
        (703.0, "Ashlee Kupor"),
        (1020.0, "Dora Demszky"),
    ]
    assert cues[1].text == "hello \U0001f642"
    assert cues[3].text.startswith("https://raw.githubusercontent.com/")
    assert cues[0].at == START + timedelta(minutes=11, seconds=9)


def test_teams_and_w3c_features() -> None:
    warnings: list[str] = []
    cues = parse_vtt(DATA / "teams_meeting.vtt", recording_start=START, warnings=warnings)
    assert [(c.speaker, c.text) for c in cues] == [
        ("Jane Doe", "We rolled back & the errors\ndropped."),
        ("Bob O'Neil", "Confirmed <ok>"),
        (None, "no speaker here"),
    ]
    assert cues[1].start_seconds == 3723.25  # hh:mm:ss.ttt
    assert cues[2].start_seconds == 845.0  # mm:ss.ttt
    assert cues[0].at == START + timedelta(seconds=1)
    assert warnings == [
        "teams_meeting.vtt: line 26: bad cue timing '00:00:xx.000 --> 00:00:01.000'; cue skipped"
    ]


def test_zoom_file_name_gives_recording_start_and_bom_crlf_are_handled() -> None:
    cues = parse_vtt(DATA / "GMT20240501-103000_Recording.transcript.vtt")
    assert [(c.speaker, c.text, c.at) for c in cues] == [
        ("Ashlee Kupor (SL)", "Hello there", START),
        (None, "No speaker", START + timedelta(seconds=2)),
    ]
    assert zoom_recording_start("nothing.vtt") is None
    assert zoom_recording_start("GMT20241399-999999.vtt") is None


def test_text_input_cr_line_endings_and_odd_blocks() -> None:
    text = (
        "WEBVTT\r\rorphan line\r\r00:02.000 --> 00:01.000\rbackwards\r\r"
        "00:03.000 --> 00:04.000\rhttps://x.io: not a speaker"
    )
    warnings: list[str] = []
    cues = parse_vtt(text, warnings=warnings, source="meeting.vtt")
    assert [(c.speaker, c.text) for c in cues] == [(None, "https://x.io: not a speaker")]
    assert warnings == [
        "meeting.vtt: line 3: block without a cue timing skipped",
        "meeting.vtt: line 5: cue ends before it starts; cue skipped",
    ]


def test_hostile_vtt(tmp_path: Path) -> None:
    with pytest.raises(ImportFailed) as info:
        parse_vtt("1\n00:00.000 --> 00:01.000\nhi\n")
    assert info.value.where == "transcript.vtt: line 1"
    bad = tmp_path / "latin.vtt"
    bad.write_bytes(b"WEBVTT\n\n00:00.000 --> 00:01.000\ncaf\xe9\n")
    with pytest.raises(ImportFailed) as info:
        parse_vtt(bad)
    assert info.value.where == "latin.vtt: line 4"
    with pytest.raises(ImportFailed, match="cannot read"):
        parse_vtt(str(tmp_path / "missing.vtt"))
    with pytest.raises(ValidationError):
        parse_vtt("WEBVTT\n", recording_start=datetime(2024, 1, 1))  # noqa: DTZ001


def test_zoom_chat_newer_and_older_formats() -> None:
    warnings: list[str] = []
    cues = parse_zoom_chat((DATA / "zoom_chat_new.txt").read_text(), warnings=warnings)
    assert [(c.start_seconds, c.speaker, c.text) for c in cues] == [
        (36065.0, "Jane Doe", "Rolled back the deploy\nsecond line"),
        (36210.0, "Bob Smith", "thanks!"),
    ]
    assert warnings == ["chat.txt: 1 private message(s) skipped"]
    everything = parse_zoom_chat((DATA / "zoom_chat_new.txt").read_text(), include_private=True)
    assert everything[1].text == "secret stuff"
    old = parse_zoom_chat((DATA / "zoom_chat_old.txt").read_text())
    assert [(c.start_seconds, c.speaker, c.text) for c in old] == [
        (10.0, "Jane Doe", "Hi all"),
        (60.0, "Bob", "ack"),
    ]


def test_zoom_chat_text_before_any_header_is_an_error() -> None:
    with pytest.raises(ImportFailed) as info:
        parse_zoom_chat("\nhello\n00:00:01\tA:\thi\n")
    assert info.value.where == "chat.txt: line 2"
