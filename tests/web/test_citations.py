"""Citing evidence by pointing: the cite bar and tick boxes in the Transcript, Timeline and
People tabs, the note form's chips (never an id), removing a chip, citing in an existing
note, and refusals that keep what the user wrote."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from afteraction.services import citations
from afteraction.storage.db import writing
from afteraction.storage.evidence_tables import TranscriptCue
from afteraction.storage.tables import Person
from tests.analysis_fixtures import Built, build
from tests.web.conftest import post_form, soup


def _cue(db: Session) -> int:
    found = db.scalar(select(TranscriptCue.id).where(TranscriptCue.text == "Review meeting opened"))
    assert found is not None
    return found


def _url(built: Built, tail: str = "analysis") -> str:
    return f"/incidents/INC-{built.incident}/{tail}"


def _notes(client: TestClient, built: Built) -> list[dict[str, Any]]:
    response = client.get(f"/api/v1/incidents/INC-{built.incident}/notes")
    assert response.status_code == 200
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def test_the_tabs_offer_tick_boxes_and_the_cite_bar_only_to_investigators(
    login_as: Callable[..., TestClient], db: Session
) -> None:
    built = build(db)
    client = login_as("investigator")
    transcript = soup(client.get(_url(built, "transcript")))
    bar = transcript.select_one("form#cite-form")
    assert bar is not None and bar["action"] == _url(built) and bar["method"] == "get"
    options = [o["value"] for o in bar.select("select[name=into] option")]
    assert options[:2] == ["theme", "contributing_factor"]
    picks = {box["value"] for box in transcript.select("input.cite-pick")}
    assert f"message:{built.messages['cy1']}" in picks and f"cue:{_cue(db)}" in picks
    assert f"message:{built.messages['hidden']}" not in picks  # its text is gone
    assert all(box["form"] == "cite-form" for box in transcript.select("input.cite-pick"))
    people = soup(client.get(_url(built, "people")))
    assert f"person:{built.people['ana']}" in {b["value"] for b in people.select("input.cite-pick")}
    assert soup(client.get(_url(built, "timeline"))).select_one("form#cite-form") is not None
    viewer = login_as("viewer", email="v2@example.com")
    for tab in ("transcript", "timeline", "people"):
        page = soup(viewer.get(_url(built, tab)))
        assert page.select("input.cite-pick") == [] and page.select_one("#cite-form") is None


def test_cited_items_show_as_chips_with_text_time_and_person_and_are_saved(
    login_as: Callable[..., TestClient], db: Session
) -> None:
    built = build(db)
    client = login_as("investigator")
    refs = [f"message:{built.messages['cy1']}", f"cue:{_cue(db)}", f"person:{built.people['ana']}"]
    response = client.get(_url(built), params={"into": "contributing_factor", "cite": refs})
    assert response.status_code == 200
    form = soup(response).select_one("#compose form")
    assert form.select_one("select[name=kind] option[selected]")["value"] == "contributing_factor"
    chips = form.select("li.chip")
    assert [c.select_one("input[name=evidence]")["value"] for c in chips] == refs
    shown = [c.select_one(".chip-body").get_text(" ", strip=True) for c in chips]
    assert "Cy Dale" in shown[0] and "UTC" in shown[0]
    assert "Ana Ortiz" in shown[1] and "Review meeting opened" in shown[1]
    assert shown[2].startswith("people Ana Ortiz")
    assert not any(ref in text for ref in refs for text in shown)  # never an id
    saved = post_form(
        client,
        _url(built),
        {"kind": "contributing_factor", "text": "The pool was sized by hand", "evidence": refs},
    )
    assert saved.status_code == 303
    (note,) = _notes(client, built)
    assert [f"{e['type']}:{e['id']}" for e in note["evidence"]] == refs
    page = soup(client.get(_url(built)))
    listed = page.select_one(f"#note-{note['id']} ul.chips")
    assert listed is not None and len(listed.select("li.chip")) == 3
    assert listed.select_one("a")["href"].endswith(f"#m{built.messages['cy1']}")


def test_a_chip_is_removed_and_an_existing_note_gets_more_evidence(
    login_as: Callable[..., TestClient], db: Session
) -> None:
    built = build(db)
    client = login_as("investigator")
    first, second = f"message:{built.messages['cy1']}", f"message:{built.messages['ben1']}"
    dropped = post_form(
        client,
        _url(built),
        {"kind": "risk", "text": "Limits set by hand", "evidence": [first, second], "drop": first},
    )
    assert dropped.status_code == 200 and _notes(client, built) == []
    form = soup(dropped).select_one("#compose form")
    assert [i["value"] for i in form.select("input[name=evidence]")] == [second]
    assert form.select_one("textarea[name=text]").get_text() == "Limits set by hand"
    assert post_form(client, _url(built), {"kind": "risk", "text": "Limits", "evidence": second})
    (note,) = _notes(client, built)
    offered = soup(client.get(_url(built, "timeline"))).select("select[name=into] option")
    assert f"note:{note['id']}" in {o["value"] for o in offered}
    more = client.get(_url(built), params={"into": f"note:{note['id']}", "cite": first})
    form = soup(more).select_one("#compose form")
    assert form.select_one("input[name=note_id]")["value"] == str(note["id"])
    assert [i["value"] for i in form.select("input[name=evidence]")] == [second, first]
    saved = post_form(
        client,
        _url(built),
        {"note_id": note["id"], "kind": "risk", "text": "Limits", "evidence": [second, first]},
    )
    assert saved.status_code == 303
    (note,) = _notes(client, built)
    assert [e["id"] for e in note["evidence"]] == [built.messages["ben1"], built.messages["cy1"]]


def test_evidence_of_another_incident_is_refused_and_the_form_keeps_the_text(
    login_as: Callable[..., TestClient], db: Session
) -> None:
    built = build(db)
    with writing(db):
        stranger = Person(name="Not Involved", email="stranger@example.com")
        db.add(stranger)
    client = login_as("investigator")
    foreign = [f"message:{built.other_message}", f"person:{stranger.id}", "entry:999999"]
    preview = soup(client.get(_url(built), params={"into": "theme", "cite": foreign}))
    refusals = [p.get_text() for p in preview.select("#compose p.error")]
    assert len(refusals) == 3 and all("not evidence of this incident" in r for r in refusals)
    assert preview.select("#compose input[name=evidence]") == []
    for ref in foreign:
        refused = post_form(
            client, _url(built), {"kind": "theme", "text": "Alerts were noisy", "evidence": ref}
        )
        assert refused.status_code == 422, ref
        form = soup(refused).select_one("#compose form")
        assert form.select_one("textarea[name=text]").get_text() == "Alerts were noisy"
        assert "not evidence of this incident" in soup(refused).select_one("#compose").get_text()
    typed = post_form(client, _url(built), {"kind": "theme", "text": "x", "evidence": "msg12"})
    assert typed.status_code == 422 and "like message:12" in typed.text
    assert _notes(client, built) == []


def test_citations_of_stored_evidence_read_like_the_chips(db: Session) -> None:
    built = build(db)
    shown = citations.citations(
        db,
        [
            {"type": "page", "id": built.page_ids[0]},
            {"type": "message", "id": 10**9},  # gone: left out
            {"type": "person", "id": built.people["cy"]},
        ],
    )
    assert [(c.type, c.where) for c in shown] == [("page", "paging"), ("person", "people")]
    assert shown[0].text.startswith("page ") and shown[1].who == "Cy Dale"
    labels = citations.evidence_labels(db, [{"type": "person", "id": built.people["dee"]}])
    assert labels[("person", built.people["dee"])]["label"] == "Dee Unknown"  # no title: no colon
