def test_teams_involved_are_named_once(db) -> None:  # type: ignore[no-untyped-def]
    from afteraction.core.access import SYSTEM
    from afteraction.demo.load import load_demo
    from afteraction.services import incidents as repo
    from afteraction.services import reports as report_store

    load_demo(db)
    incident = repo.get_incident(db, SYSTEM, "INC-301")
    teams = report_store.gather_facts(db, incident).teams
    assert len(teams) == len({t.casefold() for t in teams}), teams
    assert "Payments" in teams and "payments" not in teams
