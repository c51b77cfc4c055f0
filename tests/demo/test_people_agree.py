"""One definition of a page and of first involvement: on the demo's flagship incident the
People tab, the on-call load page, the report's facts and the API give every person the
same number of pages and the same first-involved time."""

from __future__ import annotations

from datetime import datetime, timedelta

from bs4 import BeautifulSoup
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from afteraction.demo.flagship import flagship_of
from afteraction.demo.generate import build_org
from afteraction.demo.load import DEMO_PASSWORD, load_demo
from afteraction.services.reports import gather_facts
from afteraction.storage.tables import Incident
from tests.conftest import login


def test_flagship_pages_and_first_involvement_agree_everywhere(
    client: TestClient, db: Session
) -> None:
    load_demo(db)
    key = f"INC-{flagship_of(build_org(7)).number}"
    admin = login(client, "admin@example.com", DEMO_PASSWORD)

    api = admin.get(f"/api/v1/incidents/{key}/people").json()["people"]
    by_api = {
        p["name"]: (p["pages_in_incident"], datetime.fromisoformat(p["first_seen"]))
        for p in api
        if p["in_roster"]
    }
    assert sum(pages for pages, _ in by_api.values()) >= 5  # several people were paged

    tab = BeautifulSoup(admin.get(f"/incidents/{key}/people").text, "html.parser")
    by_tab = {}
    for row in tab.select("table.people-facts tbody tr"):
        cells = row.find_all("td")
        name = row.th.get_text(" ", strip=True).removesuffix(" no roster")
        pages = int(cells[4].get_text(" ", strip=True).split(" / ")[0])
        by_tab[name] = (pages, datetime.fromisoformat(cells[1].time["datetime"]))
    assert {name: by_tab[name] for name in by_api} == by_api

    first = min(at for _, at in by_api.values())
    last = max(at for _, at in by_api.values())
    window = {"since": (first - timedelta(hours=1)).isoformat(),
              "until": (last + timedelta(hours=1)).isoformat()}  # fmt: skip
    export = {**window, "format": "json"}
    loads = admin.get("/insights/oncall", params={**export, "table": "people"}).json()
    involved = admin.get("/insights/oncall", params={**export, "table": "involvements"}).json()
    api_loads = admin.get("/api/v1/insights/oncall", params=window).json()["items"]
    api_involved = admin.get(
        "/api/v1/insights/oncall", params={**window, "group": "involvements"}
    ).json()["items"]
    for rows, times in ((loads, involved), (api_loads, api_involved)):
        pages = {r["person"]: r["pages"] for r in rows}
        when = {r["person"]: datetime.fromisoformat(r["first_involved"])
                for r in times if r["incident"] == key}  # fmt: skip
        assert {name: pages.get(name, 0) for name in by_api} == {
            name: n for name, (n, _) in by_api.items()
        }
        assert when == {name: at for name, (_, at) in by_api.items()}

    incident = db.scalar(select(Incident).where(Incident.number == int(key.split("-")[1])))
    assert incident is not None
    responders = gather_facts(db, incident).responders
    from_analysis = [r for r in responders if r.first_involved is not None]
    assert len(from_analysis) >= 5
    for responder in from_analysis:
        assert (responder.pages, responder.first_involved) == by_api[responder.name]
