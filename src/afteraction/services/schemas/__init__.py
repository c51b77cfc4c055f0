"""Read models shared by the API and the CLI's `--json`: one Pydantic model per result shape,
so both print the same fields. The web layer declares them as response models and adds its
own request bodies (`afteraction.web.schemas`); the CLI prints them with
`model_dump(mode="json")`. One module per aggregate."""

from afteraction.services.schemas.common import ReadModel, Timestamp
from afteraction.services.schemas.imports import (
    ImportSummaryRead,
    SourceList,
    SourceRead,
    SourceRemovalRead,
    import_summary_read,
    source_read,
    source_removal_read,
)
from afteraction.services.schemas.incidents import (
    IncidentDetail,
    IncidentPage,
    IncidentRead,
    MilestoneTimes,
    RoleRead,
    UpdateRead,
    incident_detail,
    incident_read,
    role_read,
    update_read,
)
from afteraction.services.schemas.people import PeopleAnalysisRead, people_analysis_read
from afteraction.services.schemas.users import UserRead, user_read

__all__ = [
    "ImportSummaryRead",
    "IncidentDetail",
    "IncidentPage",
    "IncidentRead",
    "MilestoneTimes",
    "PeopleAnalysisRead",
    "ReadModel",
    "RoleRead",
    "SourceList",
    "SourceRead",
    "SourceRemovalRead",
    "Timestamp",
    "UpdateRead",
    "UserRead",
    "import_summary_read",
    "incident_detail",
    "incident_read",
    "people_analysis_read",
    "role_read",
    "source_read",
    "source_removal_read",
    "update_read",
    "user_read",
]
