"""Whom a phrase is about: the word lists (people, roles and pronouns vs system nouns) and
`_Ctx`, the masked text with its sentence bounds and the small subject classifier the
rules' guards ask."""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable

_HUMAN = frozenset(
    "i we you he she they someone somebody anyone anybody nobody everyone everybody one "
    "engineer engineers engineering operator operators responder responders developer "
    "developers dev devs oncall on-call on-caller on-callers oncaller sre sres admin admins "
    "administrator administrators author authors reviewer reviewers review approver approvers "
    "commander ic team teams staff person people human humans dba dbas lead leads manager "
    "managers maintainer maintainers contractor contractors intern employee employees "
    "technician analyst member members colleague colleagues individual ops sysadmin sysadmins "
    "squad crew investigator".split()
)
_SYSTEM = frozenset(
    "it this that these those there service services check checks health request requests "
    "job jobs server servers disk disks deploy deploys deployment deployments pipeline "
    "pipelines database databases db replica replicas primary secondary node nodes cluster "
    "clusters host hosts instance instances pod pods container containers process processes "
    "query queries connection connections cache caches alert alerts alarm alarms page pages "
    "monitor monitors monitoring probe probes balancer balancers lb dns certificate "
    "certificates cert certs build builds test tests script scripts cron task tasks worker "
    "workers queue queues api endpoint endpoints client clients proxy gateway network link "
    "router switch firewall vm vms machine machines system systems migration migrations backup "
    "backups restore snapshot snapshots failover rollout rollback release change changes config "
    "configuration version update upgrade patch batch traffic packets message messages email "
    "emails notification notifications webhook webhooks heartbeat heartbeats lease lock leader "
    "follower shard shards partition partitions volume volumes bucket buckets storage region "
    "zone upstream downstream dependency library code commit tool tooling "
    "runbook dashboard dashboards graph graphs metric metrics log logs customer customers user "
    "users app apps application applications site website controller scheduler autoscaler "
    "daemon timeout retry retries limit quota capacity memory cpu rotation schedule escalation "
    "policy canary flag feature bot pager route routes record records resolver ttl index table "
    "rows transaction transactions writes reads replication lag playbook alerting paging "
    "postgres mysql redis kafka nginx haproxy consul etcd envoy s3 ec2 kubernetes k8s terraform "
    "vault jenkins outage incident issue problem bug error errors failure latency load "
    "sdk sdks cdn browser browsers device devices software hardware firmware datacenter "
    "datacenters generator generators power relay relays feed feeds sensor sensors pump pumps "
    "plant satellite satellites grid".split()
)
_PRONOUNS = frozenset(
    "i we you he she they someone somebody anyone anybody nobody everyone everybody one it "
    "this that these those there".split()
)
_PERSONAL = frozenset("i we you he she they someone somebody nobody".split())
_ADVERBS = frozenset("also still then just again already simply clearly really".split())
_PREPOSITIONS = frozenset(
    "during after before in on at for from with of by to into within despite without under "
    "over through across about around per via".split()
)
_DETERMINERS = frozenset("the a an this that our their its his her each every some any".split())
_CLAUSE_BREAK = re.compile(
    r"[,;:()\u2014\u2013]|\s-\s|\b(?:and|but|so|because|since|when|while|although|though|then|"
    r"meant|means|whereas|if|unless|once|until|after|before|as)\b",
    re.IGNORECASE,
)
_WORD = re.compile(r"[A-Za-z][\w'’-]*|\d[\w:.]*")
_NEGATION = frozenset("not no never nobody n't rather instead neither nor".split())

_PP_IRREGULAR = frozenset(
    "been done known seen caught taken run made built written got gotten found kept sent told "
    "thought brought set put read hit cut left held spent understood begun paid shut spun "
    "stood drawn given gone shown withdrawn undone rerun".split()
)
_HUMAN_ACTION = frozenset(
    "checked noticed escalated reviewed tested verified validated paged asked waited read "
    "followed known realised realized caught spotted looked rolled reverted acknowledged "
    "responded communicated informed told called stopped confirmed double-checked investigated "
    "considered anticipated foreseen seen flagged raised declared avoided prevented handled "
    "documented approved blocked staged monitored".split()
)


class _Ctx:
    """Masked text plus the sentence boundaries and name tokens the guards need."""

    def __init__(self, masked: str, headings: list[tuple[int, int]], people: Iterable[str]):
        self.text = masked
        self.headings = headings
        self.names = frozenset(
            part for name in people for part in re.split(r"[\s.]+", name.strip()) if len(part) > 1
        )
        bounds = re.finditer(r"[.!?](?=\s)|\n\s*\n|\n(?=\s*(?:[-*+#|]|\d+[.)])\s)|\|", masked)
        self.bounds = [0, *(m.end() for m in bounds)]

    def sentence_before(self, pos: int) -> str:
        i = bisect.bisect_right(self.bounds, pos) - 1
        return self.text[self.bounds[i] : pos]

    def at_sentence_start(self, pos: int) -> bool:
        return not re.sub(r"^\s*(?:[-*+]|\d+[.)]|#+)?\s*", "", self.sentence_before(pos))

    def in_heading(self, pos: int) -> bool:
        return any(a <= pos < b for a, b in self.headings)

    def word_class(self, word: str) -> str | None:
        if word in self.names:
            return "person"
        low = word.lower().rstrip(".")
        if low.endswith(("'s", "’s", "s'")):
            return None  # possessive: modifies the real head
        if low in _HUMAN:
            return "human"
        if low in _SYSTEM:
            return "system"
        return None

    def classify(self, words: list[str]) -> str:
        """Class of the first subject-like word, skipping prepositional phrases."""
        skip, found = 0, ""
        for i, word in enumerate(words):
            low = word.lower()
            if low == "one" and i + 1 < len(words):
                continue  # "one datacenter", "one of the nodes": a number, not a pronoun
            if skip:
                skip = skip if low in _DETERMINERS else skip - 1
                if low in _DETERMINERS or self.word_class(word) is None:
                    continue
                skip = 0
                continue
            if low in _PREPOSITIONS:
                skip = 2
                continue
            cls = self.word_class(word)
            if cls and low in _PRONOUNS:
                return found or cls
            if cls:
                found = cls
            elif found:
                return found  # the last noun of a compound is its head: "incident commander"
        return found or "unknown"

    def subject(self, pos: int) -> str:
        """Class of the subject of the verb phrase starting at `pos`: a pronoun or name right
        before it ("a change we did not catch"), else the nearest clause that has one, never
        looking past a semicolon."""
        before = self.sentence_before(pos)
        last = [w for w in _WORD.findall(before[-40:]) if w.lower() not in _ADVERBS][-1:]
        if last and (last[0] in self.names or last[0].lower() in _PERSONAL):
            return "person" if last[0] in self.names else "human"
        clauses = _CLAUSE_BREAK.split(before[before.rfind(";") + 1 :])
        for clause in reversed(clauses):
            cls = self.classify(_WORD.findall(clause or ""))
            if cls != "unknown":
                return cls
        return "unknown"

    def words_before(self, pos: int, n: int = 4) -> list[str]:
        clause = _CLAUSE_BREAK.split(self.sentence_before(pos))[-1]
        return [w.lower() for w in _WORD.findall(clause)][-n:]

    def negated(self, pos: int) -> bool:
        words = self.words_before(pos, 3)
        return any(w in _NEGATION or w.endswith(("n't", "n’t")) for w in words) or (
            "one" in words and "no" in words
        )


def _is_participle(word: str) -> bool:
    low = word.lower()
    return low in _PP_IRREGULAR or low.endswith(("ed", "en", "wn"))
