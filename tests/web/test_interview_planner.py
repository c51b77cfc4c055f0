"""The interview planner: a person with an interview of the incident is shown as already
planned and not offered again, and a second interview of them is refused, on the page and
in the API; but only to those who may see that interview (to anyone else it does not
exist, so nothing on the planner changes)."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from afteraction.core.access import SYSTEM
from afteraction.services import incident_roles
from afteraction.storage.analysis_tables import Interview
from afteraction.storage.db import writing
from tests.analysis_fixtures import at, build
from tests.conftest import login, make_user
from tests.web.conftest import post_form, soup


def _rows(client: TestClient, number: int) -> dict[str, object]:
    """Planner rows by name: the hidden person id of its form, or its 'already' badge."""
    page = soup(client.get(f"/incidents/INC-{number}/interviews"))
    rows: dict[str, object] = {}
    for row in page.select("article.planner-row"):
        name = row.h3.contents[0].strip() if row.h3 else ""
        field = row.select_one('input[name="person_id"]')
        planned = row.select_one("p.hint .badge")
        link = row.select_one("p.hint a")
        rows[name] = (
            (planned.get_text(), link["href"]) if planned and link else (field or {}).get("value")
        )
    return rows


def test_a_planned_interviewee_is_not_offered_again(client: TestClient, db: Session) -> None:
    built = build(db)
    with writing(db):
        incident_roles.assign_role(
            db, SYSTEM, built.incident, role="investigator", person_id=built.people["dee"],
            start=at(60),
        )  # fmt: skip
    make_user(db, "inv@example.com", "investigator", person_id=built.people["dee"])
    make_user(db, "other-inv@example.com", "investigator")
    login(client, "inv@example.com")
    ana, ben = built.people["ana"], built.people["ben"]
    before = _rows(client, built.incident)
    assert before["Ana Ortiz"] == str(ana) and before["Ben Cho"] == str(ben)
    api = f"/api/v1/incidents/INC-{built.incident}/interviews"
    made = client.post(api, json={"person_id": ana})
    assert made.status_code == 201, made.text
    iid = made.json()["id"]

    again = client.post(api, json={"person_id": ana, "questions": ["again?"]})
    assert again.status_code == 409
    error = again.json()["error"]
    assert error["message"] == (
        f"Ana Ortiz already has an interview for INC-{built.incident} (interview {iid}): "
        "open that interview instead of planning another"
    )
    assert error["details"]["interview_id"] == iid
    after = _rows(client, built.incident)
    assert after["Ana Ortiz"] == ("already planned", f"#interview-{iid}")
    assert after["Ben Cho"] == str(ben)  # the others are still offered

    refused = post_form(client, f"/incidents/INC-{built.incident}/interviews", {"person_id": ana})
    assert refused.status_code == 303
    assert (
        refused.headers["location"] == f"/incidents/INC-{built.incident}/interviews#interview-{iid}"
    )
    shown = client.get(refused.headers["location"]).text
    assert "Not saved: Ana Ortiz already has an interview" in shown
    held = client.patch(f"{api}/{iid}", json={"held_at": "2026-11-02T10:00:00+00:00"})
    assert held.status_code == 200, held.text
    assert _rows(client, built.incident)["Ana Ortiz"] == ("interviewed", f"#interview-{iid}")
    assert "Ana Ortiz was interviewed" in client.post(api, json={"person_id": ana}).text
    count = select(func.count()).select_from(Interview).where(Interview.person_id == ana)
    assert db.scalar(count) == 1

    # an investigator who may not see that interview is told nothing of it
    client.cookies.clear()
    client.headers.pop("X-CSRF-Token", None)
    login(client, "other-inv@example.com")
    assert _rows(client, built.incident) == before
    own = client.post(api, json={"person_id": ana})
    assert own.status_code == 201, own.text
