"""The workspace pages and JSON endpoints: transcript (merged, safe, filtered, hover
cards), annotation by API and by plain form, timeline suggestions through the form,
people JSON, analysis notes, and who may change what."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from afteraction.core import times
from afteraction.storage.evidence_tables import TranscriptCue
from tests.analysis_fixtures import build
from tests.web.conftest import post_form, soup


def test_transcript_merges_sources_and_renders_safely(
    login_as: Callable[..., TestClient], db: Session
) -> None:
    built = build(db)
    client = login_as("viewer")
    response = client.get(f"/incidents/INC-{built.incident}/transcript")
    assert response.status_code == 200
    page = soup(response)
    kinds = [li["class"] for li in page.select("#transcript > li.item")]
    assert ["item", "page"] in kinds and ["item", "cue"] in kinds
    assert "<script>alert(1)</script>" not in response.text
    assert "deleted or hidden in the source" in response.text
    assert (
        page.select_one(f"#m{built.messages['ana1']} details.thread") is not None
    )  # the reply is folded
    card = page.select_one(f"#m{built.messages['ana1']} .hovercard").get_text(" ")
    assert "SRE" in card and "Payments" in card and "on call" in card
    assert page.select(".annotate, a.annotate-link") == []  # viewers read only
    offered = [o.get_text() for o in page.select("#tperson option")]
    assert offered == ["anyone", "Ana Ortiz", "Ben Cho", "Cy Dale", "Dee Unknown"]  # names
    ben = client.get(
        f"/incidents/INC-{built.incident}/transcript", params={"person": built.people["ben"]}
    )
    shown = {li["id"] for li in soup(ben).select("#transcript li.msg")}
    assert f"m{built.messages['ben1']}" in shown and f"m{built.messages['cy1']}" not in shown
    chosen = soup(ben).select_one("#tperson option[selected]")
    assert chosen is not None and chosen.get_text() == "Ben Cho"
    found = client.get(f"/incidents/INC-{built.incident}/transcript", params={"q": "rolling"})
    matched = {li["id"] for li in soup(found).select("#transcript li.msg")}
    assert f"m{built.messages['ben1']}" in matched and f"m{built.messages['cy1']}" not in matched


def test_annotate_by_api_and_by_form(login_as: Callable[..., TestClient], db: Session) -> None:
    built = build(db)
    client = login_as("investigator")
    api = f"/api/v1/incidents/INC-{built.incident}/annotations"
    ok = client.post(api, json={"message_id": built.messages["ben1"], "tag": "repair"})
    assert ok.status_code == 201 and ok.json()["overlaps"] == []
    bad = client.post(api, json={"message_id": built.other_message, "tag": "repair"})
    assert bad.status_code == 422 and bad.json()["error"]["details"]["field"] == "message_id"
    hidden = client.post(api, json={"message_id": built.messages["hidden"], "tag": "repair"})
    assert hidden.status_code == 422 and "deleted" in hidden.json()["error"]["message"]
    form = post_form(
        client,
        f"/incidents/INC-{built.incident}/annotations",
        {"message_id": built.messages["cy1"], "tag": "mitigation", "note": "rollback"},
    )
    assert form.status_code == 303
    tagged = client.get(f"/incidents/INC-{built.incident}/transcript", params={"tag": "mitigation"})
    marked = {li["id"] for li in soup(tagged).select("#transcript li.msg")}
    assert f"m{built.messages['cy1']}" in marked and f"m{built.messages['ben1']}" not in marked
    assert (
        client.get(api, params={"tag": "repair"}).json()["items"][0]["message_id"]
        == built.messages["ben1"]
    )


def test_timeline_accept_through_the_form(login_as: Callable[..., TestClient], db: Session) -> None:
    built = build(db)
    client = login_as("investigator")
    url = f"/incidents/INC-{built.incident}/timeline"
    page = soup(client.get(url))
    key = page.select_one("#suggestions input[name=key]")["value"]
    accepted = post_form(client, f"{url}/suggestions", {"key": key, "decision": "accept"})
    assert accepted.status_code == 303
    after = soup(client.get(url))
    assert len(after.select("#timeline li.entry")) == 1
    assert key not in {i["value"] for i in after.select("#suggestions input[name=key]")}
    entry = client.get(f"/api/v1/incidents/INC-{built.incident}/timeline").json()["items"][0]
    moved = post_form(
        client, f"{url}/{entry['id']}", {"milestone": "detected", "allow_out_of_order": "1"}
    )
    assert moved.status_code == 303
    assert (
        client.get(f"/api/v1/incidents/INC-{built.incident}").json()["milestones"]["detected"]
        is not None
    )


def test_people_page_and_api(login_as: Callable[..., TestClient], db: Session) -> None:
    built = build(db)
    client = login_as("responder")
    data = client.get(f"/api/v1/incidents/INC-{built.incident}/people").json()
    people = {p["name"]: p for p in data["people"]}
    assert people["Ana Ortiz"]["arrival"] == "paged"
    assert people["Dee Unknown"]["time_zone"] is None
    assert "explanations" in people["Ana Ortiz"] and data["rollup"]["people_count"] == 4
    page = client.get(f"/incidents/INC-{built.incident}/people")
    assert "systems signal, not a performance score" in page.text
    assert "<svg" in page.text and "<abbr title=" in page.text


def test_notes_and_permissions(login_as: Callable[..., TestClient], db: Session) -> None:
    built = build(db)
    client = login_as("responder")
    api = f"/api/v1/incidents/INC-{built.incident}/notes"
    assert client.post(api, json={"kind": "theme", "text": "x"}).status_code == 403
    client = login_as("investigator", email="i2@example.com")
    made = post_form(
        client,
        f"/incidents/INC-{built.incident}/analysis",
        {
            "kind": "risk",
            "text": "Pool limits are set by hand",
            "evidence": f"message:{built.messages['cy1']}",
        },
    )
    assert made.status_code == 303
    page = client.get(f"/incidents/INC-{built.incident}/analysis")
    assert "Pool limits are set by hand" in page.text and f"#m{built.messages['cy1']}" in page.text
    assert client.get(f"/incidents/INC-{built.incident}/interviews").status_code == 200


def test_a_time_without_a_zone_is_refused_alike_by_the_api_and_the_forms(
    login_as: Callable[..., TestClient], db: Session
) -> None:
    built = build(db)
    client = login_as("investigator")
    naive, expected = "2026-11-01T10:05", times.naive_message("at")
    api = client.post(
        f"/api/v1/incidents/INC-{built.incident}/timeline", json={"at": naive, "text": "x"}
    )
    assert api.status_code == 422
    assert api.json()["error"]["message"] == expected
    assert api.json()["error"]["details"]["field"] == "at"
    url = f"/incidents/INC-{built.incident}/timeline"
    form = post_form(client, url, {"at": naive, "text": "x"})  # no zone chosen beside it
    assert form.status_code == 422 and expected in soup(form).get_text(" ")
    jump = client.get(f"/incidents/INC-{built.incident}/transcript", params={"at": naive})
    assert jump.status_code == 422 and expected in soup(jump).get_text(" ")
    # the pages' own forms and links send the zone they show (UTC) beside the input
    page = soup(client.get(url))
    assert page.select_one("#add-h ~ form input[name=time_zone]")["value"] == "UTC"
    zoned = post_form(client, url, {"at": naive, "time_zone": "UTC", "text": "x"})
    assert zoned.status_code == 303
    entries = client.get(f"/api/v1/incidents/INC-{built.incident}/timeline").json()["items"]
    assert "2026-11-01T10:05:00+00:00" in [e["at"] for e in entries]
    shown = client.get(
        f"/incidents/INC-{built.incident}/transcript", params={"at": naive, "time_zone": "UTC"}
    )
    assert shown.status_code == 200


def test_timeline_bulk_decisions_names_and_days(
    login_as: Callable[..., TestClient], db: Session
) -> None:
    """Suggestions are decided in bulk; the views take names; entries sit under day markers
    with UTC on hover; odd filter values are a page, never a 500."""
    built = build(db)
    client = login_as("investigator")
    url = f"/incidents/INC-{built.incident}/timeline"
    keys = [i["value"] for i in soup(client.get(url)).select("#suggestions input[name=key]")]
    assert len(keys) >= 2
    nothing = post_form(client, f"{url}/suggestions", {"decision": "accept"})
    assert nothing.status_code == 303 and "Nothing chosen" in client.get(url).text
    done = post_form(client, f"{url}/suggestions", {"key": keys[:2], "decision": "accept"})
    assert done.status_code == 303
    page = soup(client.get(url))
    assert "Added 2 suggestions to the timeline" in page.text
    assert len(page.select("#timeline li.entry")) == 2
    assert page.select("#timeline h3.day-marker")
    stamp = page.select_one("#timeline li.entry time")
    assert stamp["title"].endswith(" UTC")
    again = post_form(client, f"{url}/suggestions", {"key": keys[0], "decision": "dismiss"})
    assert again.status_code == 422 and "already accepted or dismissed" in again.text
    named = soup(client.get(url, params={"view": "person", "value": "ana"}))
    everyone = soup(client.get(url, params={"view": "person", "value": "nobody-by-this-name"}))
    assert len(named.select("#timeline li.entry")) <= 2
    assert not everyone.select("#timeline li.entry")
    assert "No entry matches person" in everyone.text
    for params in (
        {"view": "person", "value": "12abc"},
        {"view": "channel", "value": "#"},
        {"view": "bogus", "value": "x"},
        {"view": "channel", "value": "9" * 30},
    ):
        assert client.get(url, params=params).status_code == 200, params


def test_call_cues_are_in_the_transcript_and_annotated_like_messages(
    login_as: Callable[..., TestClient], db: Session
) -> None:
    built = build(db)
    cue = db.scalar(select(TranscriptCue.id).where(TranscriptCue.text == "Review meeting opened"))
    client = login_as("investigator")
    url = f"/incidents/INC-{built.incident}/transcript"
    page = soup(client.get(url))
    item = page.select_one(f"#c{cue}")
    assert item is not None and "Review meeting opened" in item.get_text()
    assert item.select_one(".author").get_text() == "Ana Ortiz"
    times_shown = [li.time["datetime"] for li in page.select("#transcript > li.item")]
    assert times_shown == sorted(times_shown)  # in time order with the messages
    link = item.select_one("a.annotate-link")  # a link per item, one form on the page
    assert (link["data-field"], link["data-id"]) == ("cue_id", str(cue))
    assert item.select("form") == [] and len(page.select("form#annotate-form")) == 1
    opened = soup(client.get(url + link["href"]))  # without JavaScript: the item's own form
    assert opened.select_one(f"#c{cue} form.annotate input[name=cue_id]")["value"] == str(cue)
    assert len(opened.select("form.annotate input[name=cue_id]")) == 1
    form = post_form(
        client,
        f"/incidents/INC-{built.incident}/annotations",
        {"cue_id": cue, "tag": "mitigation", "note": "said in the call"},
    )
    assert form.status_code == 303 and form.headers["location"].endswith(f"#c{cue}")
    marked = soup(client.get(url)).select_one(f"#c{cue} .marks .mark")
    assert marked is not None and marked.get_text() == "mitigation"
    assert marked["title"] == "said in the call"
    api = f"/api/v1/incidents/INC-{built.incident}/annotations"
    by_api = client.post(api, json={"cue_id": cue, "note": "again"})
    assert by_api.status_code == 201 and by_api.json()["message_id"] is None
    foreign = client.post(api, json={"cue_id": cue + 1000, "note": "no"})
    assert foreign.status_code == 422
    assert foreign.json()["error"]["details"]["field"] == "cue_id"


def test_the_transcript_api_reads_what_the_tab_shows(
    login_as: Callable[..., TestClient], db: Session
) -> None:
    """One reading (`services.transcript_reads`) for the tab and the API: the same items in
    the same order for the same filters, with replies folded under their thread, marks
    named, a window and its next cursor, and the incident's visibility."""
    built = build(db)
    client = login_as("investigator")
    tab = f"/incidents/INC-{built.incident}/transcript"
    api = f"/api/v1/incidents/INC-{built.incident}/transcript"

    def shown(params: dict[str, object]) -> list[str]:
        page = soup(client.get(tab, params=params))
        return [li["id"] for li in page.select("#transcript > li.item")]

    def read(params: dict[str, object]) -> list[str]:
        answer = client.get(api, params=params)
        assert answer.status_code == 200, answer.text
        return [f"{'c' if i['kind'] == 'cue' else i['kind'][0]}{i['id']}" for i in
                answer.json()["items"]]  # fmt: skip

    everything = client.get(api).json()
    assert {i["kind"] for i in everything["items"]} >= {"message", "page", "cue"}
    ids = [i for i in read({}) if i.startswith(("m", "c"))]
    assert ids == [i for i in shown({}) if i.startswith(("m", "c"))]
    parent = next(
        i
        for i in everything["items"]
        if i["kind"] == "message" and i["id"] == built.messages["ana1"]
    )
    assert parent["replies"] and parent["channel"]  # the reply is folded, as on the tab
    ben = {"person": built.people["ben"]}
    assert read(ben) == [i for i in shown(ben) if i.startswith("m")]
    assert f"m{built.messages['ben1']}" in read(ben)
    assert f"m{built.messages['cy1']}" not in read(ben)
    assert read({"q": "rolling"}) == [f"m{built.messages['ben1']}"]

    marked = client.post(
        f"{api.rsplit('/', 1)[0]}/annotations",
        json={"message_id": built.messages["cy1"], "tag": "mitigation"},
    ).json()
    tagged = client.get(api, params={"tag": "mitigation"}).json()["items"]
    assert [i["id"] for i in tagged] == [built.messages["cy1"]]
    assert tagged[0]["annotations"] == [marked["id"]]
    assert read({"tag": "mitigation"}) == [i for i in shown({"tag": "mitigation"}) if i[0] == "m"]

    first = client.get(api, params={"limit": 2}).json()
    assert len(first["items"]) >= 2 and first["next"] is not None
    after = client.get(api, params={"limit": 2, **first["next"]}).json()
    assert not {i["id"] for i in after["items"] if i["kind"] == "message"} & {
        i["id"] for i in first["items"] if i["kind"] == "message"
    }
    half = client.get(api, params={"after": first["next"]["after"]})
    assert half.status_code == 422 and half.json()["error"]["details"]["field"] == "after"
    naive = client.get(api, params={"at": "2026-03-02T10:00:00"})
    assert naive.status_code == 422
    assert client.get("/api/v1/incidents/INC-999/transcript").status_code == 404
