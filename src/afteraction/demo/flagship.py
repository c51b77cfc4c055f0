"""The flagship demo incident and the writer of its raw evidence files.

What lives here: the story of one SEV1 (a retry-policy config push that exhausted the ledger
connection pool), as a `DemoIncident` for `build_org`, and `write_flagship_evidence`, which
renders the same story as files in the formats real importers read: an unpacked Slack
export, PagerDuty REST responses, an HR roster CSV, a Zoom WebVTT transcript and Zoom chat.
What must not: randomness that depends on the history seed, the clock, or the network. Times
are anchored to `today` (the flagship starts 13 days before it); the local-time remarks in
the story assume the default `today` of 2026-11-02.

Run `python -m afteraction.demo.flagship [TARGET]` to regenerate the committed files.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import random
import re
import sys
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from afteraction.demo.model import (
    DemoActionItem,
    DemoIncident,
    DemoOrg,
    DemoPerson,
    DemoReference,
    DemoRole,
    DemoUpdate,
)

FLAGSHIP_DAYS_AGO = 13
DOMAIN = "brightloop.example"
WORKSPACE = "brightloop"
SLACK_TEAM_ID = "T0BRL7LOOP"
PD_SUBDOMAIN = "https://brightloop.pagerduty.com"
PD_API = "https://api.pagerduty.com"
GH = "https://github.com/brightloop"
JIRA = "https://brightloop.atlassian.net/browse"
GRAFANA = "https://grafana.brightloop.example/d"
ZOOM_URL = "https://brightloop.zoom.us/j/93012457781"
INC_CHANNEL_ID = "C0INC7PAY01"
SIDE_CHANNEL_ID = "C0PAYENG042"
SIDE_CHANNEL = "payments-eng"
PAYLANE_GUEST_ID = "U0PLXVNDR1"
"""A Slack Connect guest from the payment provider, mentioned but absent from users.json."""
INCBOT_ID = "U0INCBOT01"
INCBOT_BOT_ID = "B0INCBOT01"
ALERT_BOT_ID = "B0ALERTMGR"
DEPLOY_BOT_ID = "B0DEPLOYS1"
TITLE = "Payments failing with timeouts after retry-policy config change"
SLUG = "payments-timeouts"

HANDLES = {
    "maya": "maya.thompson",
    "arjun": "arjun.mehta",
    "lena": "lena.vogel",
    "ben": "ben.carter",
    "isabel": "isabel.duarte",
    "kofi": "kofi.mensah",
    "rahul": "rahul.iyer",
    "daniel": "daniel.okafor",
    "jordan": "jordan.reyes",
    "wei": "wei.zhang",
    "chloe": "chloe.martin",
    "priya": "priya.nair",
    "marta": "marta.kowalski",
    "olivia": "olivia.brooks",
    "ethan": "ethan.park",
    "nadia": "nadia.petrova",
    "tomas": "tomas.herrera",
    "sarah": "sarah.cohen",
    "david": "david.levi",
    "sam": "sam.oduya",
    "carlos": "carlos.mendoza",
    "grace": "grace.kim",
    "omar": "omar.haddad",
    "elena": "elena.marsh",
    "peter": "peter.alvarez",
}

# The Slack conversation. One message per line:
#   <day> <HH:MM:SS> <inc|pe> <who> [flags] | <text>
# Indented lines continue the line above. day counts from the flagship day (UTC).
# who is a handle, "alert" or "deploy" (integration
# posts without a user) or "incbot" (the incident bot user). Flags: #key starts a thread,
# >key replies in it, ~N edited N seconds later, +emoji:h1,h2 reactions, join or
# join:<inviter> channel joins, topic sets the channel topic, file:<name> shares a file.
# In text: @handle mentions, [[url|label]] links, !here broadcasts, $N the incident number,
# $CHAN a link to the incident channel, \n a new line; & < > are escaped on output.
SCRIPT = r"""
-3 09:12:40 pe priya | reminder: payments guild sync moved to Thursday this week
-3 10:05:02 pe marta #flaky | anyone else seeing `test_refund_partial` flake on CI? 3 red runs
    today
-3 10:22:51 pe wei >flaky | yes, it depends on wall-clock time. I'll pin it
-3 10:23:30 pe marta >flaky +thumbsup:wei | thanks!
-3 16:40:09 pe daniel | Paylane timeout declines were 0.8% yesterday, highest this quarter.
    [[$GRAF/pay1api/payments-api-overview?var-panel=provider|provider timeouts]]
-3 16:52:33 pe rahul #timeouts | can we get that under 0.2% before the holiday freeze? merchants
    are noticing
-3 17:01:12 pe daniel >timeouts | I'll look at the retry policy, we only retry once today
-3 17:03:50 pe priya >timeouts | careful, `authorize_and_reserve` has history. Tomás knows it best
-2 08:30:15 pe chloe | hello! second week on call shadowing, I'll be lurking in here more :wave:
-2 08:31:02 pe wei +wave:chloe,marta,priya | welcome Chloe!
-2 13:15:44 pe jordan | PSA: ledger-staging is down for the Postgres 16 upgrade until 15:00 UTC
-2 19:20:05 pe daniel | drafting the retry change, should have a PR tomorrow
-1 07:45:27 pe marta | settlement batch ran 14 min longer last night, watching it
-1 11:02:16 pe priya #flags | do we have a flag for retry counts or is it config only?
-1 11:10:48 pe daniel >flags | config only, `retry-policy` in the config service. pushes go
    straight out, no canary
-1 11:12:03 pe priya >flags | ok, noted
-1 18:05:39 pe omar | Support weekly: top payment complaints are timeout declines (34 tickets) and
    refund delays (12)
-1 21:30:00 pe wei | handing over primary tomorrow 18:00 UTC to Jordan, I'll be secondary
0 07:58:12 pe marta | morning all :wave: reminder that the settlement batch moved to 02:00 UTC this
    week
0 08:03:40 pe chloe #envq | quick q: is ledger-staging seeded with merchant data or do I need to
    run the fixtures job?
0 08:20:02 pe priya >envq | fixtures job, it gets wiped every Sunday. `make seed-ledger` in
    payments-api
0 08:21:15 pe chloe >envq +pray:chloe | thanks!
0 09:47:51 pe wei | closing out my shift notes: 2 low-urgency pages overnight, both Paylane
    timeouts that self-healed
0 15:31:08 pe daniel #pr2317 +eyes:priya,jordan | PR for the provider retry policy is up:
    [[$GH/payments-api/pull/2317|payments-api#2317]] — moves Paylane call retries from 1 to 4 with
    200ms backoff. Should cut the timeout declines we keep seeing. Reviews welcome :pray:
0 16:02:33 pe priya >pr2317 | LGTM overall, the provider timeouts have been painful. Did we check
    what the retry wraps? ledger pool is only 40 per pod
0 16:09:10 pe daniel >pr2317 ~45 | good q — ledger calls happen after the provider call returns, so
    retries shouldn't touch the pool. shipping as a config push after lunch
0 16:10:02 pe priya >pr2317 +thumbsup:daniel | :+1:
0 18:44:19 pe jordan | on call handoff done, I have payments primary this week. Wei is secondary
0 20:25:04 pe deploy | Config push *payments-api/retry-policy* v41 → v42 to production by
    daniel-okafor ([[$GH/payments-api/pull/2317|#2317]]). Canary: skipped (config change)
0 20:26:30 pe daniel +crossed_fingers:priya | retry policy is live :crossed_fingers: watching the
    provider timeout dashboard
0 20:38:40 pe alert | [FIRING:1] PaymentsAPIHighErrorRate payments-api: 5xx ratio 6.1% > 5% for 5m
0 20:40:12 pe chloe | seeing a lot of `PoolTimeoutError` in payments-api logs, is that normal??
0 20:46:05 pe omar | Support here: 3 merchants reporting declined payments with `PL-503` in the
    last 10 min. Anything known?
0 20:47:30 pe chloe >envq | (unrelated to my question, sorry, wrong thread)
0 20:52:18 pe wei +eyes:omar,chloe | ack'd the page, looking. it's 5am here so bear with me
    :sweat_smile:
0 20:55:02 pe jordan | I'm here, sorry, was on the subway with no signal. Declaring.
0 20:56:30 pe incbot | :rotating_light: INC-$N declared: *Payments failing with timeouts on
    payments-api* (SEV2) by @jordan. Join $CHAN
0 20:56:30 inc incbot join |
0 20:56:31 inc jordan join:incbot |
0 20:56:32 inc wei join:incbot |
0 20:56:40 inc incbot topic | SEV2 | payments-api timeouts | IC: unassigned
0 20:56:41 inc incbot | INC-$N declared by @jordan. Severity *SEV2*. Affected: payments-api. Please
    assign a commander with `/inc role commander @someone`.
0 20:57:05 inc maya join |
0 20:57:48 inc maya | I'll take IC. @jordan can you drive the investigation? @wei can you look at
    the provider side? Bridge: [[$ZOOM|Zoom bridge]]
0 20:58:10 inc incbot | @maya is now *commander* for INC-$N
0 20:58:30 inc maya topic | SEV2 | payments-api timeouts | IC: @maya | bridge pinned
0 20:58:55 inc grace join |
0 20:59:31 inc grace | I'll take comms. First status page post going out in 5 min, I'll mirror
    updates in #payments-eng
0 20:59:58 inc chloe join |
0 21:00:20 inc chloe | I can scribe if that helps? I'm new but I can keep notes
0 21:00:41 inc maya +heart:chloe | yes please, thank you @chloe
0 21:01:02 inc alert | [FIRING:2] PaymentsAPIHighErrorRate, CheckoutSuccessRateLow (checkout-api
    success 81%)
0 21:02:14 inc wei #paylane | Paylane status page says "degraded performance in US-East" since
    20:15. Could be them?
0 21:03:09 inc jordan >paylane | checking their latency on our side
0 21:04:40 inc grace >paylane | I'll ask their support. looping in @@U0PLXVNDR1 from Paylane via
    the shared channel
0 21:05:21 inc sam join |
0 21:05:55 inc sam #cert | FYI we rotated the edge-gw intermediate cert at 20:20. Could that be
    related?
0 21:06:30 inc maya >cert | thanks Sam, can you check handshake errors per route?
0 21:07:02 inc jordan | payments-api 5xx at 9.8% and climbing.
    [[$GRAF/pay1api/payments-api-overview?from=now-1h|payments-api overview]]
0 21:08:11 inc nadia join |
0 21:08:50 inc nadia #lag | events-pipeline lag on `ledger.entries` jumped from 2s to 4min at
    20:35. Is ledger down?
0 21:09:33 inc priya join |
0 21:10:02 inc priya | here from payments, reading up
0 21:11:17 inc sam >cert | handshake errors are flat and only `/v1/payments` is erroring, every
    other route is fine. I don't think it's the cert
0 21:11:59 inc maya >cert +white_check_mark:sam | crossing the cert off, thanks
0 21:12:40 inc jordan | ledger primary CPU 31%, no locks piling up, replication lag 0. ledger
    itself looks healthy
0 21:13:26 inc olivia join |
0 21:13:50 inc ethan join |
0 21:14:08 inc wei >paylane | Paylane p99 from our side is 480ms (< 500ms SLO), same as yesterday.
    And our errors are `PoolTimeoutError`, not provider 5xx. I don't think it's Paylane
0 21:15:30 inc jordan >paylane +thumbsup:wei,maya | agree, crossing it off
0 21:16:02 inc grace >paylane | Paylane support confirms their degradation is EU card tokenisation
    only. Not us
0 21:16:44 inc alert | [FIRING:2] PaymentsAPIHighErrorRate, CheckoutSuccessRateLow (checkout-api
    success 77%)
0 21:18:12 inc jordan #pool | payments-api logs: `PoolTimeoutError: could not acquire ledger
    connection in 5000ms`. The pool of 40 per pod is saturated and pgbouncer `cl_waiting` is 380
0 21:19:01 inc maya >pool | that's the best lead so far. What's holding the connections?
0 21:20:15 inc nadia >lag | if ledger is healthy then the lag is a symptom: fewer entries get
    written, so the consumer sits waiting. I'll stay around in case
0 21:20:49 inc jordan >lag | yes, makes sense
0 21:21:37 inc chloe | notes so far: Paylane ruled out (21:14), edge-gw cert ruled out (21:11),
    ledger healthy, pool saturated (21:18)
0 21:22:10 inc maya +100:chloe | great notes
0 21:23:40 inc david join |
0 21:24:05 inc maya | what changed in the last hour? deploys, config pushes, flags?
0 21:25:12 inc jordan #change | deploy log shows a config push at 20:25 by Daniel: retry-policy v41
    → v42, [[$GH/payments-api/pull/2317|payments-api#2317]]
0 21:25:59 inc jordan >change | that's 6 minutes before the error rate starts to rise
0 21:27:02 inc maya | @daniel could you join us? No blame at all, you know this change best and
    we'd love your context
0 21:27:31 inc daniel join:maya |
0 21:28:55 inc daniel | here. The change raises Paylane retries 1 → 4 with 200ms backoff. Retries
    should only wrap the provider call
0 21:30:11 inc priya | @daniel which function is the decorator on? I remember
    `authorize_and_reserve` being retried as one unit
0 21:33:02 inc daniel #decorator ~120 | oh. The retry decorator wraps `authorize_and_reserve`,
    which opens the ledger transaction *first*. So every retry holds a ledger connection for up to
    4× the provider timeout
0 21:33:40 inc maya >decorator | that would explain the pool. Thank you Daniel
0 21:34:12 inc maya #rollback | Proposal: roll back retry-policy to v41 now. Objections?
0 21:34:40 inc jordan >rollback | +1
0 21:34:52 inc priya >rollback | +1 roll back
0 21:35:10 inc daniel >rollback | rolling back now
0 21:37:02 pe deploy | Config push *payments-api/retry-policy* v42 → v41 to production by
    daniel-okafor (rollback)
0 21:37:30 inc daniel | rollback pushed: retry-policy is v41 everywhere
0 21:38:05 inc grace | Status page updated: "We are investigating elevated payment failures. A
    change has been rolled back."
0 21:41:14 inc jordan | 5xx at 11% → 9%. Slowly going down?
0 21:45:22 inc jordan | 7%. Better but not gone. Pool still saturated, `cl_waiting` 340
0 21:46:50 inc alert | [FIRING:2] PaymentsAPIHighErrorRate, CheckoutSuccessRateLow (checkout-api
    success 74%)
0 21:48:03 inc maya #stuck | rollback only partly helped. Hypothesis: connections taken by the
    retries are still held, idle in transaction
0 21:49:31 inc priya >stuck | plausible. the old retries are gone but whatever they left open is
    still there
0 21:51:09 inc jordan >stuck | `SELECT count(*) FROM pg_stat_activity WHERE state = 'idle in
    transaction'` → 287 on ledger primary
0 21:52:20 inc maya >stuck | that's it then. How do we release them safely?
0 21:55:12 inc grace | support volume climbing: 41 merchant tickets. US evening peak starts in ~1h
0 21:57:49 inc ethan | checkout side: we're seeing the same, checkout-api just surfaces the
    payments errors. Nothing to roll back on our end
0 22:01:40 inc jordan file:checkout-success-rate.png | checkout success down to 58% in us-east
0 22:02:31 inc alert | [FIRING:3] PaymentsAPIHighErrorRate, CheckoutSuccessRateLow,
    LedgerPoolSaturated (checkout-api success 58%)
0 22:04:05 inc maya +rotating_light:jordan,grace,priya | !here upgrading to SEV1. This is now all
    hands for payments. Please keep side discussions in threads
0 22:04:20 inc maya topic | SEV1 | payments-api timeouts | IC: @maya | bridge pinned
0 22:04:31 inc incbot | Severity changed *SEV2 → SEV1* by @maya
0 22:04:31 pe incbot | INC-$N is now *SEV1*. Updates in $CHAN
0 22:05:50 inc carlos join |
0 22:06:33 inc elena join |
0 22:07:12 pe rahul #who | who pushed a retry change on a Tuesday afternoon without a canary? this
    should have gone through change review
0 22:08:40 pe ethan >who | honestly it's human error plain and simple, the config should have been
    tested against the ledger pool
0 22:10:02 pe elena >who +pray:grace,priya,olivia | let's hold that for the learning review. Right
    now the focus is mitigation. @rahul could you help Grace with merchant comms?
0 22:10:44 pe rahul >who | fair. on it
0 22:11:30 pe grace | *Stakeholder update 1* (22:10 UTC): payments failing for ~40% of checkouts in
    US; merchants & partners notified via status page. Change rolled back, recovery partial. Team
    working on releasing stuck database connections. Next update 22:40
0 22:12:09 inc jordan | @tomas you wrote the ledger client pooling when you were on payments. Any
    chance you can take a look? Connections don't seem to come back after a timeout
0 22:14:25 inc tomas join:jordan |
0 22:15:02 inc tomas | hi! reading up
0 22:17:36 inc tomas #client | yes, there's a known gap: on `ProviderTimeout` the client re-raises
    before `release()`. It's [[$JIRA/PAY-1882|PAY-1882]] from last year. The connection only goes
    back when pgbouncer's `idle_transaction_timeout` fires, and I think that's 0 (disabled) on
    ledger
0 22:18:50 inc maya >client | so restarting payments-api pods should free them?
0 22:19:41 inc tomas >client | it frees the client side. pgbouncer keeps the server connections
    until the backend transactions end, so you may need both
0 22:20:30 inc jordan >client | let's do the restart first, it's the safe one
0 22:21:04 inc maya >client +thumbsup:jordan,tomas | go
0 22:24:10 inc jordan | rolling restart of payments-api started (48 pods, 25% surge)
0 22:31:47 inc jordan | 50% of pods restarted. 5xx 6%
0 22:38:55 inc alert | [FIRING:3] PaymentsAPIHighErrorRate, CheckoutSuccessRateLow,
    LedgerPoolSaturated (checkout-api success 79%)
0 22:40:12 inc jordan | restart done. 5xx 4%, `cl_waiting` 210. Still 240 idle in transaction on
    the primary
0 22:41:30 pe grace | *Stakeholder update 2* (22:40 UTC): partial recovery, about 1 in 25 payments
    still failing. Next step is releasing database connections. Next update 23:10
0 22:43:05 inc chloe #kill | maybe a naive question, but would killing the idle-in-transaction
    backends on the ledger primary help?
0 22:44:18 inc maya >kill | not naive at all. Who knows ledger's pgbouncer and Postgres well enough
    to do that safely at peak?
0 22:46:02 inc wei >kill | Peter used to do those. He left in February and the runbook for it is
    out of date
0 22:47:30 inc priya >kill | I'd rather not guess with `pg_terminate_backend` on the ledger primary
    during peak
0 22:48:12 inc maya | moving to the bridge to work through options, will summarise here
0 23:03:40 pe omar | merchants asking for an ETA, two big ones threatening to switch processors
0 23:10:05 pe grace | *Stakeholder update 3* (23:10 UTC): no change, ~4% of payments failing. Team
    on a call working through options. Next update 23:40
0 23:16:50 inc alert | [FIRING:2] PaymentsAPIHighErrorRate, LedgerPoolSaturated
0 23:42:15 inc grace | it's been quiet here for almost an hour. Anything I can tell merchants? 96
    tickets now
0 23:45:30 inc maya #db | sorry, we were heads-down on the bridge trying to reproduce in staging.
    Summary: rollback done, restarts helped partly, ledger still has ~240 idle-in-transaction
    backends. We need a database person
0 23:46:44 inc ben join |
0 23:47:20 inc ben >db | Platform primary this week is Isabel. Lena knows the ledger pgbouncer
    config best but she's not on call, and it's nearly 2am in Berlin
0 23:48:01 inc maya >db | paging Isabel first
0 23:52:40 inc isabel join:maya |
0 23:55:12 inc isabel | I'm here. I can kill backends, but I'm not confident about the reserve pool
    settings on ledger-pgbouncer. That config is Lena's and it's not in the repo
0 23:58:31 inc isabel >db | I'd feel a lot better with Lena on this
0 23:59:50 inc maya >db | ok. I'm going to page Lena. Sorry Lena :bow:
1 00:03:12 inc lena join:maya |
1 00:08:40 inc lena | hi. reading back, give me 5 min
1 00:10:30 pe grace | *Stakeholder update 4* (00:10 UTC): database specialist joined; fix being
    prepared. ~4% of payments failing. Next update 00:40
1 00:15:58 inc lena #plan | ledger-pgbouncer has `default_pool_size=40`, `reserve_pool_size=0`,
    `idle_transaction_timeout=0`. 242 server connections idle in transaction, oldest 3h41m. Plan:
    (1) set `idle_transaction_timeout=60s` and RELOAD, (2) terminate idle-in-tx backends older than
    5 min on the primary, (3) `reserve_pool_size=20` for tonight. OK?
1 00:16:40 inc maya >plan | go
1 00:17:05 inc tomas >plan +thumbsup:lena | +1, the client reconnects fine after a terminated
    backend
1 00:17:30 inc isabel >plan | I'll watch replication and locks while you do it
1 00:21:44 inc lena >plan | (1) and (3) done, pgbouncer reloaded
1 00:24:02 inc lena >plan | terminating backends now
1 00:29:20 inc lena >plan | terminated 238 backends, 4 left are active real transactions
1 00:33:05 inc jordan +tada:maya,lena,grace,isabel,tomas,daniel,priya +pray:chloe,wei | 5xx 0.4%,
    that's baseline! `cl_waiting` 0
1 00:34:10 inc maya | mitigated at 00:33 UTC. Moving to monitoring. Lena, Isabel, Tomás: thank you.
    Lena please go back to sleep
1 00:34:55 inc incbot | INC-$N status changed to *monitoring* by @maya
1 00:36:40 inc alert | [RESOLVED] PaymentsAPIHighErrorRate, CheckoutSuccessRateLow,
    LedgerPoolSaturated
1 00:40:18 pe grace | *Stakeholder update 5* (00:40 UTC): payments recovered at 00:33 UTC. We are
    monitoring. Merchants can retry failed payments
1 00:41:02 pe omar +raised_hands:grace | :raised_hands: telling the merchants now
1 00:44:50 inc lena | going back to bed. I left `idle_transaction_timeout=60s` in place; the
    reserve pool needs reverting tomorrow: [[$JIRA/PLAT-2291|PLAT-2291]]
1 00:46:02 inc daniel | thank you all, and sorry for the trouble this caused
1 00:47:30 inc maya | no apologies needed Daniel, this one has lots of contributors. Let's pick it
    up in the review
1 01:25:12 inc arjun join |
1 01:30:04 inc maya #handoff | handing IC to @arjun (7am in Bengaluru) for the monitoring phase.
    Summary: trigger was retry-policy v42, rolled back 21:37; stuck ledger connections released by
    Lena 00:29; open fix is PAY-1882
1 01:30:40 inc incbot | @arjun is now *commander* for INC-$N
1 01:31:15 inc arjun >handoff | I have IC. Will watch through the EU morning and the settlement
    batch at 02:00
1 01:31:40 inc arjun topic | SEV1 | mitigated, monitoring | IC: @arjun
1 02:48:30 inc arjun | settlement batch finished fine with the new timeout. All quiet
1 05:02:11 inc wei | morning from Singapore, overnight looks clean. Going to catch up on sleep
1 07:40:05 inc marta join |
1 07:41:20 inc marta | morning, read the backlog. Anything needed from payments EU?
1 07:50:48 inc arjun | @marta could you pair with Priya on the PAY-1882 fix?
1 09:10:33 inc priya #fix | draft fix for the release-on-timeout path:
    [[$GH/payments-api/pull/2321|payments-api#2321]] — @tomas could you review, you know this code
    best
1 09:42:18 inc tomas >fix | reviewed, one comment about the async path. Otherwise +1
1 11:05:52 inc lena | reverted the temporary reserve pool to 0, kept the 60s idle timeout. PR for
    the config in the repo: [[$GH/infra/pull/884|infra#884]]
1 14:30:27 inc daniel | added a test that fails before the fix. Also a PR to move the retry
    decorator to the provider call only: [[$GH/payments-api/pull/2324|payments-api#2324]]
1 15:40:02 pe deploy | Deploy *payments-api* v2026.10.21-2 to production by priya-nair
    ([[$GH/payments-api/pull/2321|#2321]]). Canary: 30 min, passed
1 16:05:41 inc arjun | fix deployed and the canary was clean through the EU/US overlap peak.
    Resolving
1 16:06:00 inc incbot | INC-$N *resolved* by @arjun
1 16:08:12 inc arjun | follow-ups so far: PAY-1882 fix (done), retry decorator scope (#2324),
    ledger-pgbouncer config in the repo (PLAT-2291), canary for config pushes, pgbouncer runbook
1 16:20:09 inc maya | investigator for the learning review will be @sarah, who wasn't in the
    response. Review meeting next week
1 16:21:30 inc sarah join:maya |
1 16:22:02 inc sarah | thanks all. I'll read everything first and reach out for short interviews
    this week
2 09:55:14 pe daniel #sorry | I feel terrible about this one. I should have checked where the
    decorator was applied
2 10:02:40 pe priya >sorry | I approved it and asked the same question and we both missed it. This
    is on the process as much as anyone
2 10:20:03 pe rahul >sorry | honestly the root cause is that Daniel failed to check the pool
    limits, but yes the review missed it too. Let's talk in the review
2 10:31:48 pe jordan >sorry +heart:daniel,priya | the config push skipping the canary is the part
    that worries me. That's been true for every config change since forever
2 18:00:00 inc arjun | closing the incident record. Learning review in progress with @sarah
0 20:41:02 pe marta | @chloe which pod? I can look in a sec
0 20:43:30 pe chloe | payments-api-7c9f, but it's on several pods actually
0 20:44:12 pe marta | hm, and the provider timeout panel looks normal
0 20:49:05 pe omar | now 7 merchants. Sending them to the status page for now
0 20:58:02 pe grace | I'm taking comms for INC-$N. Stakeholder updates will be posted here every 30
    min
0 21:00:05 pe olivia | checkout is seeing the payment errors surface in our error budget, following
    along in $CHAN
0 21:03:44 inc jordan | 5xx ratio 8.9%, all from POST /v1/payments/authorize
0 21:06:02 inc grace | status page: "Investigating elevated payment failures" posted
0 21:09:58 inc wei >paylane | comparing provider latency histograms now
0 21:10:40 inc maya | @priya thanks. Can you check the payments-api deploy history for today, not
    just config?
0 21:11:30 inc priya | last code deploy was yesterday 17:02, nothing since
0 21:17:33 inc wei | I'll look at the pgbouncer side then
0 21:23:15 inc wei >pool | pgbouncer `SHOW POOLS` for ledger: cl_active 40, cl_waiting 384,
    sv_active 40, sv_idle 0
0 21:26:40 inc maya >change | thanks. Does the timing line up exactly?
0 21:26:58 inc jordan >change | errors start 20:31, push finished 20:25:40. 5 min later the pool is
    full
0 21:31:44 inc daniel | checking the code now
0 21:36:05 pe marta | rollback of the retry-policy going out now per $CHAN
0 21:36:40 pe omar | thanks, telling merchants we have a lead
0 21:39:50 inc jordan | pods picking up v41, config reload log shows all 48 pods on v41 by 21:38
0 21:43:02 inc nadia >lag | lag on `ledger.entries` down to 2min
0 21:50:12 inc chloe | notes: rollback 21:37, 5xx 11% → 7%, pool still saturated (21:45)
0 21:53:40 inc wei >stuck | oldest idle in transaction is from 20:33, so the first minutes after
    the push
0 21:56:20 pe rahul | joining late, what's the blast radius right now?
0 21:56:58 pe grace | ~30% of US payments failing, see $CHAN
0 22:00:12 inc jordan | 5xx 9%, it's going back up as traffic rises
0 22:03:10 pe olivia | checkout success 58% is the worst we've had this year
0 22:06:58 inc maya | @grace can you get an update out with SEV1 wording?
0 22:07:40 inc grace | on it
0 22:13:30 pe omar | 41 → 63 tickets. Two enterprise merchants asking for a call
0 22:15:40 pe rahul | I can take the enterprise merchant calls with Omar
0 22:22:05 inc daniel | confirmed in the code: `finally` never runs on the retry path because the
    timeout is raised from inside the retry wrapper. Same as PAY-1882
0 22:26:18 inc jordan | 25% of pods restarted, 5xx 8% (the restarting pods drop some traffic)
0 22:35:02 inc jordan | 75% restarted, 5xx 5%
0 22:37:44 inc nadia | lag back to 5s, dropping out. Good luck all
0 22:44:58 inc jordan >kill | it might, but some of those could be real in-flight captures. Killing
    those mid-write is what worries me
0 22:49:03 inc grace | I'll keep posting stakeholder updates in #payments-eng meanwhile
0 23:18:48 inc incbot | Reminder: no update in this channel for 30 minutes. @maya please post a
    status update
0 23:21:30 pe omar | 96 tickets. Pinned macro for merchants:\n> Please retry the payment, we're
    working on it
0 23:36:12 inc alert | [FIRING:2] PaymentsAPIHighErrorRate, LedgerPoolSaturated (5xx 4.1%)
0 23:40:02 pe grace | *Stakeholder update 3b* (23:40 UTC): still about 4% failing. The team is on a
    call and will update shortly
0 23:49:12 inc maya >db | @isabel you're Platform primary, paging you now. Sorry for the late hour
0 23:56:02 inc isabel >db | looking at ledger-primary now. 241 idle in transaction, 4 real writes
1 00:02:40 inc maya >db | Lena paged by phone, she acked
1 00:11:30 inc lena >db | thanks Isabel. The reserve pool setting lives on the hosts in
    `/etc/pgbouncer/ledger.ini`, not in the repo
1 00:12:20 inc isabel >db | that explains why I couldn't find it
1 00:19:02 inc chloe | notes: plan from Lena agreed 00:16, executing
1 00:26:40 inc isabel >plan | replication fine, no lock waits
1 00:31:12 inc jordan | 5xx 1.2% and falling
1 00:38:02 inc chloe | notes: mitigated 00:33. Scribe signing off, thanks everyone
1 00:39:15 inc wei | going back to sleep too, ping me if anything
1 00:50:33 pe rahul | thanks everyone. Daniel, thanks for jumping in so fast
1 09:20:11 pe priya | PR for PAY-1882 is up, Tomás reviewing. Would like a second reviewer from
    payments: @marta?
1 09:31:40 pe marta | on it
1 13:02:55 pe jordan | wrote up the timeline from my side for Sarah, in the incident doc
1 16:12:30 pe grace | *Stakeholder update 6* (16:10 UTC): INC-$N is resolved. A learning review
    will follow; report expected next week
1 16:30:48 pe rahul | thanks all. Investigator is Sarah Cohen from Data, please make time for her
    interviews
2 11:15:20 pe sarah | hi all, I'm investigating INC-$N. I'd like 30 min with Daniel, Jordan, Wei,
    Chloe, Priya and Tomás this week. Nothing you say in an interview goes in the report unless you
    agree
2 11:20:02 pe chloe | happy to!
2 11:24:37 pe daniel | sure, thanks Sarah
2 17:48:15 inc sarah | I've pinned the calibration doc here:
    [[https://docs.brightloop.example/reviews/INC-$N|calibration doc]]. Please vote on 2-5 themes
    by Tuesday
"""


@dataclass(slots=True)
class Line:
    """One parsed line of the script, before it becomes a Slack message."""

    at: datetime
    channel: str
    who: str
    text: str
    thread_start: str | None = None
    thread_reply: str | None = None
    edited_after: int | None = None
    reactions: list[tuple[str, list[str]]] = field(default_factory=list)
    join: bool = False
    inviter: str | None = None
    topic: bool = False
    file: str | None = None


def flagship_day(today: date) -> date:
    return today - timedelta(days=FLAGSHIP_DAYS_AGO)


def at(today: date, day: int, clock: str) -> datetime:
    """UTC instant `clock` (HH:MM:SS) on day `day` counted from the flagship day."""
    hours, minutes, seconds = (int(part) for part in clock.split(":"))
    base = datetime.combine(flagship_day(today) + timedelta(days=day), time(), tzinfo=UTC)
    return base + timedelta(hours=hours, minutes=minutes, seconds=seconds)


def _apply_flag(line: Line, flag: str) -> None:
    if flag.startswith("#"):
        line.thread_start = flag[1:]
    elif flag.startswith(">"):
        line.thread_reply = flag[1:]
    elif flag.startswith("~"):
        line.edited_after = int(flag[1:])
    elif flag.startswith("+"):
        name, _, users = flag[1:].partition(":")
        line.reactions.append((name, users.split(",")))
    elif flag == "join" or flag.startswith("join:"):
        line.join = True
        line.inviter = flag[5:] or None
    elif flag == "topic":
        line.topic = True
    elif flag.startswith("file:"):
        line.file = flag[5:]
    else:
        raise ValueError(f"unknown script flag {flag!r}")


def _joined(script: str) -> list[str]:
    """Script lines with indented continuation lines folded into the line above."""
    rows: list[str] = []
    for raw in script.strip().splitlines():
        if raw.startswith(" ") and rows:
            rows[-1] += " " + raw.strip()
        else:
            rows.append(raw)
    return rows


def parse_script(today: date, script: str = "") -> list[Line]:
    """Parse the conversation script into lines ordered by time (stable within a second)."""
    lines = []
    for raw in _joined(script or SCRIPT):
        head, sep, text = raw.partition(" | ")
        if not sep:
            head, text = raw.removesuffix(" |"), ""
        day, clock, channel, who, *flags = head.split()
        line = Line(at(today, int(day), clock), channel, who, text.strip())
        for flag in flags:
            _apply_flag(line, flag)
        lines.append(line)
    return sorted(lines, key=lambda item: item.at)


# --------------------------------------------------------------------------- Slack export

TZ_LABELS = {
    "America/Los_Angeles": ("Pacific Standard Time", "Pacific Daylight Time"),
    "America/New_York": ("Eastern Standard Time", "Eastern Daylight Time"),
    "Europe/London": ("Greenwich Mean Time", "British Summer Time"),
    "Europe/Dublin": ("Greenwich Mean Time", "Irish Standard Time"),
    "Europe/Berlin": ("Central European Time", "Central European Summer Time"),
    "Asia/Kolkata": ("India Standard Time", "India Standard Time"),
    "Asia/Singapore": ("Singapore Standard Time", "Singapore Standard Time"),
    "Australia/Sydney": ("Australian Eastern Standard Time", "Australian Eastern Daylight Time"),
}

_TOKEN_RE = re.compile(
    r"\[\[(?P<url>[^|\]]+)\|(?P<label>[^\]]+)\]\]"
    r"|@@(?P<raw>U[A-Z0-9]+)"
    r"|@(?P<handle>[a-z]+)"
    r"|(?P<here>!here)"
    r"|(?P<chan>\$CHAN)"
)


def escape(text: str) -> str:
    """Slack escapes exactly three characters in message text."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


@dataclass(slots=True)
class Cast:
    """Who is who in the story, resolved against the organisation."""

    org: DemoOrg
    number: int
    today: date

    @property
    def channel_name(self) -> str:
        return f"inc-{self.number}-{SLUG}"

    def person(self, handle: str) -> DemoPerson:
        return self.org.person(f"{HANDLES[handle]}@{DOMAIN}")

    def user_id(self, who: str) -> str:
        return INCBOT_ID if who == "incbot" else self.person(who).slack_id

    def render(self, text: str) -> str:
        """Script text → Slack mrkdwn with mentions, links and escaping."""
        text = text.replace("\\n", "\n")
        for name, value in (
            ("$N", str(self.number)),
            ("$GH", GH),
            ("$JIRA", JIRA),
            ("$GRAF", GRAFANA),
            ("$ZOOM", ZOOM_URL),
        ):
            text = text.replace(name, value)
        out, pos = [], 0
        for match in _TOKEN_RE.finditer(text):
            out.append(escape(text[pos : match.start()]))
            out.append(self._control(match))
            pos = match.end()
        out.append(escape(text[pos:]))
        return "".join(out)

    def _control(self, match: re.Match[str]) -> str:
        if match["url"]:
            return f"<{escape(match['url'])}|{escape(match['label'])}>"
        if match["raw"]:
            return f"<@{match['raw']}>"
        if match["handle"]:
            handle = match["handle"]
            return f"<@{self.user_id(handle)}>" if handle in HANDLES else escape(match[0])
        if match["here"]:
            return "<!here>"
        return f"<#{INC_CHANNEL_ID}|{self.channel_name}>"


def _avatar(email: str, size: int) -> str:
    digest = hashlib.md5(email.encode(), usedforsecurity=False).hexdigest()
    return f"https://secure.gravatar.com/avatar/{digest}.jpg?s={size}&d=identicon"


def _user_profile(person: DemoPerson) -> dict[str, object]:
    first = person.name.split()[0]
    return {
        "avatar_hash": "g"
        + hashlib.md5(person.email.encode(), usedforsecurity=False).hexdigest()[:11],
        "image_72": _avatar(person.email, 72),
        "first_name": first,
        "real_name": person.name,
        "display_name": first.lower(),
        "team": SLACK_TEAM_ID,
        "name": person.email.split("@")[0],
        "is_restricted": False,
        "is_ultra_restricted": False,
    }


def _tz_fields(zone: str, instant: datetime) -> tuple[str, int]:
    local = instant.astimezone(ZoneInfo(zone))
    offset = local.utcoffset() or timedelta()
    standard, daylight = TZ_LABELS[zone]
    return (daylight if local.dst() else standard), int(offset.total_seconds())


def slack_user(person: DemoPerson, exported: datetime) -> dict[str, object]:
    label, offset = _tz_fields(person.time_zone, exported)
    first, _, last = person.name.partition(" ")
    deleted = person.end_date is not None and person.end_date <= exported.date()
    profile: dict[str, object] = {
        "title": person.title,
        "phone": "",
        "skype": "",
        "real_name": person.name,
        "real_name_normalized": person.name.replace("á", "a"),
        "display_name": first.lower(),
        "display_name_normalized": first.lower(),
        "fields": None,
        "status_text": "",
        "status_emoji": "",
        "avatar_hash": _user_profile(person)["avatar_hash"],
        "email": person.email,
        "first_name": first,
        "last_name": last,
    }
    profile.update(
        {f"image_{size}": _avatar(person.email, size) for size in (24, 32, 48, 72, 192, 512)}
    )
    profile["team"] = SLACK_TEAM_ID
    return {
        "id": person.slack_id,
        "team_id": SLACK_TEAM_ID,
        "name": person.email.split("@")[0],
        "deleted": deleted,
        "color": hashlib.md5(person.name.encode(), usedforsecurity=False).hexdigest()[:6],
        "real_name": person.name,
        "tz": person.time_zone,
        "tz_label": label,
        "tz_offset": offset,
        "profile": profile,
        "is_admin": person.title == "VP Engineering",
        "is_owner": False,
        "is_primary_owner": False,
        "is_restricted": False,
        "is_ultra_restricted": False,
        "is_bot": False,
        "is_app_user": False,
        "updated": int(exported.timestamp()) - 86400 * (len(person.name) % 40 + 1),
    }


def _bot_user(
    user_id: str, bot_id: str, name: str, real: str, deleted: bool, exported: datetime
) -> dict[str, object]:
    return {
        "id": user_id,
        "team_id": SLACK_TEAM_ID,
        "name": name,
        "deleted": deleted,
        "color": "4bbe2e",
        "real_name": real,
        "tz": "America/Los_Angeles",
        "tz_label": _tz_fields("America/Los_Angeles", exported)[0],
        "tz_offset": _tz_fields("America/Los_Angeles", exported)[1],
        "profile": {
            "title": "",
            "real_name": real,
            "real_name_normalized": real,
            "display_name": "",
            "display_name_normalized": "",
            "fields": None,
            "status_text": "",
            "status_emoji": "",
            "bot_id": bot_id,
            "api_app_id": "A" + bot_id[1:],
            "always_active": True,
            "first_name": real,
            "last_name": "",
            "image_72": f"https://avatars.slack-edge.com/2024-03-11/{bot_id.lower()}_72.png",
            "team": SLACK_TEAM_ID,
        },
        "is_admin": False,
        "is_owner": False,
        "is_primary_owner": False,
        "is_restricted": False,
        "is_ultra_restricted": False,
        "is_bot": True,
        "is_app_user": False,
        "updated": int(exported.timestamp()) - 86400 * 90,
    }


def slack_users(org: DemoOrg, exported: datetime) -> list[dict[str, object]]:
    users = [slack_user(person, exported) for person in org.people]
    users.append(
        _bot_user(INCBOT_ID, INCBOT_BOT_ID, "incident-bot", "Incident Bot", False, exported)
    )
    users.append(_bot_user("U0STATUSPG", "B0STATUSPG", "statuspage", "Statuspage", True, exported))
    return sorted(users, key=lambda user: str(user["id"]))


class _Clock:
    """Hands out Slack `ts` strings: seconds plus a 6-digit fraction, unique per channel."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.last: dict[str, tuple[int, int]] = {}

    def ts(self, channel: str, instant: datetime) -> str:
        seconds = int(instant.timestamp())
        fraction = self.rng.randrange(100, 999000)
        prev_seconds, prev_fraction = self.last.get(channel, (0, 0))
        if seconds == prev_seconds and fraction <= prev_fraction:
            fraction = prev_fraction + 1
        self.last[channel] = (seconds, fraction)
        return f"{seconds}.{fraction:06d}"


def _alert_message(cast: Cast, line: Line, ts: str) -> dict[str, object]:
    firing = "FIRING" in line.text
    title = line.text.split(" (")[0]
    details = line.text
    dashboard = f"{GRAFANA}/pay1api/payments-api-overview"
    return {
        "type": "message",
        "subtype": "bot_message",
        "text": "",
        "ts": ts,
        "bot_id": ALERT_BOT_ID,
        "username": "Alertmanager",
        "attachments": [
            {
                "id": 1,
                "color": "d63232" if firing else "2eb886",
                "fallback": cast.render(line.text),
                "title": cast.render(title),
                "title_link": dashboard,
                "text": cast.render(details),
                "mrkdwn_in": ["text"],
            }
        ],
    }


def _deploy_message(cast: Cast, line: Line, ts: str) -> dict[str, object]:
    return {
        "type": "message",
        "subtype": "bot_message",
        "text": cast.render(line.text),
        "ts": ts,
        "bot_id": DEPLOY_BOT_ID,
        "username": "Deploys",
        "icons": {"emoji": ":rocket:"},
    }


def _system_message(cast: Cast, line: Line, ts: str) -> dict[str, object]:
    user = cast.user_id(line.who)
    if line.topic:
        topic = cast.render(line.text)
        return {
            "user": user,
            "type": "message",
            "subtype": "channel_topic",
            "ts": ts,
            "text": f"<@{user}> set the channel topic: {topic}",
            "topic": topic,
        }
    message: dict[str, object] = {"user": user}
    if line.inviter:
        message["inviter"] = cast.user_id(line.inviter)
    message.update(
        {
            "type": "message",
            "subtype": "channel_join",
            "ts": ts,
            "text": f"<@{user}> has joined the channel",
        }
    )
    return message


def _file(line: Line, user: str, ts: str) -> dict[str, object]:
    assert line.file is not None
    file_id = "F0" + hashlib.sha256(line.file.encode()).hexdigest()[:9].upper()
    private = f"https://files.slack.com/files-pri/{SLACK_TEAM_ID}-{file_id}"
    token = "?t=xoxe-0000000000-demo-not-a-real-token"
    created = int(float(ts))
    return {
        "id": file_id,
        "created": created,
        "timestamp": created,
        "name": line.file,
        "title": line.file.rsplit(".", 1)[0].replace("-", " "),
        "mimetype": "image/png",
        "filetype": "png",
        "pretty_type": "PNG",
        "user": user,
        "mode": "hosted",
        "editable": False,
        "is_external": False,
        "external_type": "",
        "size": 48213,
        "url_private": f"{private}/{line.file}{token}",
        "url_private_download": f"{private}/download/{line.file}{token}",
        "thumb_360": f"{private}/{line.file.replace('.png', '_360.png')}{token}",
        "original_w": 1642,
        "original_h": 820,
        "permalink": f"https://{WORKSPACE}.slack.com/files/{user}/{file_id}/{line.file}",
        "is_public": True,
    }


def _human_message(cast: Cast, line: Line, ts: str, rng: random.Random) -> dict[str, object]:
    user = cast.user_id(line.who)
    message: dict[str, object] = {
        "client_msg_id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        "type": "message",
        "text": cast.render(line.text),
        "user": user,
        "ts": ts,
    }
    if line.who == "incbot":
        message.pop("client_msg_id")
        message["bot_id"] = INCBOT_BOT_ID
        message["bot_profile"] = {
            "id": INCBOT_BOT_ID,
            "app_id": "A0INCBOT01",
            "name": "Incident Bot",
            "deleted": False,
            "team_id": SLACK_TEAM_ID,
        }
    else:
        message.update(
            {
                "team": SLACK_TEAM_ID,
                "user_team": SLACK_TEAM_ID,
                "source_team": SLACK_TEAM_ID,
                "user_profile": _user_profile(cast.person(line.who)),
            }
        )
    if line.file:
        message["subtype"] = "file_share"
        message["files"] = [_file(line, user, ts)]
        message["upload"] = True
        message["display_as_bot"] = False
    if line.edited_after:
        edited = int(float(ts)) + line.edited_after
        message["edited"] = {"user": user, "ts": f"{edited}.000000"}
    if line.reactions:
        message["reactions"] = [
            {"name": name, "users": [cast.user_id(h) for h in handles], "count": len(handles)}
            for name, handles in line.reactions
        ]
    return message


def _message(cast: Cast, line: Line, ts: str, rng: random.Random) -> dict[str, object]:
    if line.who == "alert":
        return _alert_message(cast, line, ts)
    if line.who == "deploy":
        return _deploy_message(cast, line, ts)
    if line.join or line.topic:
        return _system_message(cast, line, ts)
    return _human_message(cast, line, ts, rng)


def _link_threads(lines: list[Line], messages: list[dict[str, object]]) -> None:
    parents: dict[tuple[str, str], dict[str, object]] = {}
    for line, message in zip(lines, messages, strict=True):
        if line.thread_start:
            parents[(line.channel, line.thread_start)] = message
            message["thread_ts"] = message["ts"]
        elif line.thread_reply:
            parent = parents[(line.channel, line.thread_reply)]
            message["thread_ts"] = parent["ts"]
            message["parent_user_id"] = parent.get("user")
            replies = parent.setdefault("replies", [])
            assert isinstance(replies, list)
            replies.append({"user": message.get("user"), "ts": message["ts"]})
    for parent in parents.values():
        replies = parent.get("replies", [])
        assert isinstance(replies, list)
        users = list(dict.fromkeys(reply["user"] for reply in replies))
        parent["reply_count"] = len(replies)
        parent["reply_users_count"] = len(users)
        parent["latest_reply"] = replies[-1]["ts"] if replies else parent["ts"]
        parent["reply_users"] = users


def slack_messages(cast: Cast) -> dict[str, list[dict[str, object]]]:
    """Messages per channel name, in `ts` order."""
    rng = random.Random(20261020)
    clock = _Clock(rng)
    lines = parse_script(cast.today)
    names = {"inc": cast.channel_name, "pe": SIDE_CHANNEL}
    messages = [_message(cast, line, clock.ts(line.channel, line.at), rng) for line in lines]
    _link_threads(lines, messages)
    by_channel: dict[str, list[dict[str, object]]] = {name: [] for name in names.values()}
    for line, message in zip(lines, messages, strict=True):
        by_channel[names[line.channel]].append(message)
    return by_channel


def _members(messages: list[dict[str, object]], extra: Iterable[str]) -> list[str]:
    seen = dict.fromkeys(extra)
    for message in messages:
        user = message.get("user")
        if isinstance(user, str) and not user.startswith("U0PLX"):
            seen[user] = None
    return sorted(seen)


def _last_topic(messages: list[dict[str, object]]) -> tuple[str, str, int]:
    for message in reversed(messages):
        if message.get("subtype") == "channel_topic":
            return str(message["topic"]), str(message["user"]), int(float(str(message["ts"])))
    return "", "", 0


def slack_channels(cast: Cast, by_channel: dict[str, list[dict[str, object]]]) -> list[object]:
    inc = by_channel[cast.channel_name]
    side = by_channel[SIDE_CHANNEL]
    created = int(at(cast.today, 0, "20:56:30").timestamp())
    topic, topic_by, topic_at = _last_topic(inc)
    side_members = [
        cast.person(h).slack_id
        for h in (
            "rahul",
            "daniel",
            "jordan",
            "wei",
            "chloe",
            "priya",
            "marta",
            "tomas",
            "peter",
            "ben",
        )
    ]
    side_created = int(datetime(2021, 3, 2, 17, 4, 11, tzinfo=UTC).timestamp())
    return [
        _channel(
            INC_CHANNEL_ID,
            cast.channel_name,
            created,
            INCBOT_ID,
            _members(inc, []),
            (topic, topic_by, topic_at),
            (f"Incident INC-{cast.number}: {TITLE}", INCBOT_ID, created),
        ),
        _channel(
            SIDE_CHANNEL_ID,
            SIDE_CHANNEL,
            side_created,
            cast.person("rahul").slack_id,
            _members(side, side_members),
            (
                "Payments team | on call: see PagerDuty | incidents go to #incidents",
                cast.person("rahul").slack_id,
                side_created + 3600,
            ),
            ("Day-to-day chat of the Payments team", cast.person("rahul").slack_id, side_created),
        ),
    ]


def _channel(
    channel_id: str,
    name: str,
    created: int,
    creator: str,
    members: list[str],
    topic: tuple[str, str, int],
    purpose: tuple[str, str, int],
) -> dict[str, object]:
    return {
        "id": channel_id,
        "name": name,
        "created": created,
        "creator": creator,
        "is_archived": False,
        "is_general": False,
        "members": members,
        "topic": {"value": topic[0], "creator": topic[1], "last_set": topic[2]},
        "purpose": {"value": purpose[0], "creator": purpose[1], "last_set": purpose[2]},
    }


def _dump(value: object) -> str:
    return json.dumps(value, indent=4, ensure_ascii=False) + "\n"


def _write(path: Path, text: str, written: list[Path]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8", newline="")
    written.append(path)


def write_slack(target: Path, cast: Cast, written: list[Path]) -> None:
    """An unpacked Slack export: users.json, channels.json and day files bucketed by UTC."""
    exported = datetime.combine(cast.today, time(), tzinfo=UTC)
    by_channel = slack_messages(cast)
    _write(target / "users.json", _dump(slack_users(cast.org, exported)), written)
    _write(target / "channels.json", _dump(slack_channels(cast, by_channel)), written)
    for channel, messages in by_channel.items():
        days: dict[str, list[dict[str, object]]] = {}
        for message in messages:
            instant = datetime.fromtimestamp(float(str(message["ts"])), tz=UTC)
            days.setdefault(instant.date().isoformat(), []).append(message)
        for day, day_messages in days.items():
            _write(target / channel / f"{day}.json", _dump(day_messages), written)


# --------------------------------------------------------------------------- PagerDuty

PD_INCIDENT_ID = "Q2PAYTMOUT7LXK"
PD_INCIDENT_NUMBER = 48213
PD_SERVICE = ("PSVCPAY", "payments-api (production)")
PD_TEAMS = {"payments": ("PTPAYMT", "Payments"), "platform": ("PTPLATF", "Platform")}
PD_POLICIES = {
    "payments": ("PEPPAY1", "Payments escalation policy"),
    "platform": ("PEPPLAT", "Platform escalation policy"),
    "ic": ("PEPINCC", "Incident commanders"),
}
PD_SCHEDULES = {
    "pay-primary": ("PSCHPP1", "Payments primary", "payments", 1),
    "pay-secondary": ("PSCHPS2", "Payments secondary", "payments", 2),
    "plat-primary": ("PSCHLP1", "Platform primary", "platform", 1),
    "ic": ("PSCHIC1", "Incident commanders (follow the sun)", "ic", 1),
}


def _iso(instant: datetime) -> str:
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _ref(kind: str, ref_id: str, summary: str, path: str, html: bool = True) -> dict[str, object]:
    ref: dict[str, object] = {
        "id": ref_id,
        "type": f"{kind}_reference",
        "summary": summary,
        "self": f"{PD_API}/{path}/{ref_id}",
    }
    ref["html_url"] = f"{PD_SUBDOMAIN}/{path}/{ref_id}" if html else None
    return ref


def _user_ref(person: DemoPerson) -> dict[str, object]:
    return _ref("user", person.pagerduty_id, person.name, "users")


def _incident_ref() -> dict[str, object]:
    return _ref("incident", PD_INCIDENT_ID, f"[#{PD_INCIDENT_NUMBER}] {_pd_title()}", "incidents")


def _pd_title() -> str:
    return "PaymentsAPIHighErrorRate: payments-api 5xx ratio above 5%"


def _service_ref() -> dict[str, object]:
    return _ref("service", PD_SERVICE[0], PD_SERVICE[1], "services")


def _team_refs(*teams: str) -> list[dict[str, object]]:
    return [_ref("team", PD_TEAMS[t][0], PD_TEAMS[t][1], "teams") for t in teams]


# (day, clock, type, agent handle or None, person handle, channel type, extra)
PD_LOG: tuple[tuple[int, str, str, str | None, str | None, str, str], ...] = (
    (0, "20:38:45", "trigger", None, None, "api", ""),
    (0, "20:38:46", "assign", None, "jordan", "auto", ""),
    (0, "20:38:50", "notify", None, "jordan", "push_notification", ""),
    (0, "20:41:50", "notify", None, "jordan", "phone_notification", ""),
    (0, "20:48:45", "escalate", None, "wei", "timeout", "2"),
    (0, "20:48:50", "notify", None, "wei", "phone_notification", ""),
    (0, "20:51:10", "acknowledge", "wei", None, "website", ""),
    (0, "20:55:40", "acknowledge", "jordan", None, "website", ""),
    (0, "20:57:10", "annotate", "jordan", None, "note", "Declared INC-$N in Slack, $CHAN"),
    (0, "20:58:20", "annotate", "maya", None, "note", "Maya Thompson is incident commander."),
    (0, "22:04:40", "annotate", "maya", None, "note", "Upgraded to SEV1 (priority P1)."),
    (0, "23:48:30", "assign", "maya", "isabel", "website", ""),
    (0, "23:48:35", "notify", None, "isabel", "push_notification", ""),
    (0, "23:50:35", "notify", None, "isabel", "phone_notification", ""),
    (0, "23:51:20", "acknowledge", "isabel", None, "website", ""),
    (1, "00:00:30", "assign", "maya", "lena", "website", ""),
    (1, "00:00:36", "notify", None, "lena", "phone_notification", ""),
    (1, "00:01:40", "notify", None, "lena", "sms_notification", ""),
    (1, "00:02:05", "acknowledge", "lena", None, "website", ""),
    (
        1,
        "00:34:20",
        "annotate",
        "maya",
        None,
        "note",
        "Mitigated 00:33 UTC: idle-in-transaction ledger backends terminated; pgbouncer "
        "idle_transaction_timeout=60s.",
    ),
    (1, "01:30:30", "assign", "maya", "arjun", "website", ""),
    (1, "01:30:50", "notify", None, "arjun", "push_notification", ""),
    (
        1,
        "16:06:00",
        "resolve",
        "arjun",
        None,
        "website",
        "Fix for PAY-1882 deployed (payments-api#2321); canary clean.",
    ),
)

_PD_ADDRESSES = {
    "push_notification": None,
    "phone_notification": "+1 555 0100",
    "sms_notification": "+1 555 0100",
}


def _log_summary(
    kind: str, agent: DemoPerson | None, person: DemoPerson | None, channel: str
) -> str:
    how = channel.replace("_notification", "").replace("push", "push notification")
    target = person.name if person else ""
    by = agent.name if agent else ""
    return {
        "trigger": "Triggered through the API.",
        "assign": f"Assigned to {target}" + (f" by {by}." if agent else "."),
        "notify": f"Notified {target} by {how}.",
        "escalate": f"Escalated to {target} by timeout.",
        "acknowledge": f"Acknowledged by {by}.",
        "annotate": f"Note added by {by}.",
        "resolve": f"Resolved by {by}.",
    }[kind]


def _log_entry(
    cast: Cast, index: int, row: tuple[int, str, str, str | None, str | None, str, str]
) -> dict[str, object]:
    day, clock, kind, agent_h, person_h, channel, extra = row
    created = at(cast.today, day, clock)
    agent = cast.person(agent_h) if agent_h else None
    person = cast.person(person_h) if person_h else None
    entry_id = "R" + hashlib.sha256(f"pd-log:{index}".encode()).hexdigest()[:25].upper()
    entry: dict[str, object] = {
        "id": entry_id,
        "type": f"{kind}_log_entry",
        "summary": _log_summary(kind, agent, person, channel),
        "self": f"{PD_API}/log_entries/{entry_id}?incident_id={PD_INCIDENT_ID}",
        "html_url": f"{PD_SUBDOMAIN}/incidents/{PD_INCIDENT_ID}/log_entries/{entry_id}",
        "created_at": _iso(created),
        "agent": _user_ref(agent) if agent else _service_ref(),
        "channel": {"type": channel},
        "service": _service_ref(),
        "incident": _incident_ref(),
        "teams": _team_refs("payments"),
        "contexts": [],
        "event_details": {},
    }
    _log_specifics(cast, entry, kind, person, channel, created, extra)
    return entry


def _log_specifics(
    cast: Cast,
    entry: dict[str, object],
    kind: str,
    person: DemoPerson | None,
    channel: str,
    created: datetime,
    extra: str,
) -> None:
    if kind == "trigger":
        entry["event_details"] = {"description": _pd_title()}
        entry["contexts"] = [
            {
                "type": "link",
                "href": f"{GRAFANA}/pay1api/payments-api-overview",
                "text": "payments-api overview",
            }
        ]
    elif kind == "notify" and person is not None:
        entry["channel"] = {
            "type": "auto",
            "notification": {
                "id": "PN" + person.pagerduty_id[1:],
                "type": channel,
                "started_at": _iso(created),
                "address": _PD_ADDRESSES[channel],
                "status": "success",
                "user": _user_ref(person),
            },
        }
        entry["user"] = _user_ref(person)
    elif kind in ("assign", "escalate") and person is not None:
        entry["assignees"] = [_user_ref(person)]
        if kind == "escalate":
            entry["escalation_level"] = int(extra)
    elif kind == "acknowledge":
        entry["acknowledgement_timeout"] = 1800
    elif kind in ("annotate", "resolve") and extra:
        note = extra.replace("$N", str(cast.number)).replace("$CHAN", f"#{cast.channel_name}")
        entry["channel"] = {"type": channel, "summary": note}
        entry["note"] = note


def pd_log_entries(cast: Cast) -> list[dict[str, object]]:
    return [_log_entry(cast, index, row) for index, row in enumerate(PD_LOG)]


def pd_incident(cast: Cast) -> dict[str, object]:
    wei, jordan, arjun = cast.person("wei"), cast.person("jordan"), cast.person("arjun")
    created, resolved = at(cast.today, 0, "20:38:45"), at(cast.today, 1, "16:06:00")
    first = pd_log_entries(cast)[0]
    return {
        "id": PD_INCIDENT_ID,
        "type": "incident",
        "summary": f"[#{PD_INCIDENT_NUMBER}] {_pd_title()}",
        "self": f"{PD_API}/incidents/{PD_INCIDENT_ID}",
        "html_url": f"{PD_SUBDOMAIN}/incidents/{PD_INCIDENT_ID}",
        "incident_number": PD_INCIDENT_NUMBER,
        "title": _pd_title(),
        "created_at": _iso(created),
        "updated_at": _iso(resolved),
        "status": "resolved",
        "incident_key": hashlib.sha256(b"PaymentsAPIHighErrorRate/payments-api").hexdigest()[:32],
        "service": _service_ref(),
        "assignments": [],
        "assigned_via": "escalation_policy",
        "last_status_change_at": _iso(resolved),
        "last_status_change_by": _user_ref(arjun),
        "resolved_at": _iso(resolved),
        "first_trigger_log_entry": {
            "id": first["id"],
            "type": "trigger_log_entry_reference",
            "summary": first["summary"],
            "self": first["self"],
            "html_url": first["html_url"],
        },
        "alert_counts": {"all": 3, "triggered": 0, "resolved": 3},
        "is_mergeable": True,
        "incident_type": {"name": "incident_default"},
        "escalation_policy": _ref(
            "escalation_policy", *PD_POLICIES["payments"], "escalation_policies"
        ),
        "teams": _team_refs("payments"),
        "pending_actions": [],
        "acknowledgements": [
            {"at": _iso(at(cast.today, 0, "20:51:10")), "acknowledger": _user_ref(wei)},
            {"at": _iso(at(cast.today, 0, "20:55:40")), "acknowledger": _user_ref(jordan)},
        ],
        "alert_grouping": None,
        "priority": {
            "id": "PPRIO1X",
            "type": "priority_reference",
            "summary": "P1",
            "self": f"{PD_API}/priorities/PPRIO1X",
        },
        "resolve_reason": None,
        "conference_bridge": {
            "conference_number": "+1 555 0199,,93012457781#",
            "conference_url": ZOOM_URL,
        },
        "incidents_responders": [],
        "responder_requests": [],
        "urgency": "high",
    }


def _pd_role(person: DemoPerson) -> str:
    if person.department != "Engineering":
        return "limited_user"
    return "admin" if "Manager" in person.title or person.title.startswith("VP") else "user"


def pd_users(cast: Cast) -> list[dict[str, object]]:
    """PagerDuty users: everyone employed on the flagship day (leavers are removed)."""
    day = flagship_day(cast.today)
    users = []
    for person in cast.org.people:
        if person.end_date is not None and person.end_date <= day:
            continue
        teams = [t for t in ("payments", "platform") if person.team == t]
        users.append(
            {
                "id": person.pagerduty_id,
                "type": "user",
                "summary": person.name,
                "self": f"{PD_API}/users/{person.pagerduty_id}",
                "html_url": f"{PD_SUBDOMAIN}/users/{person.pagerduty_id}",
                "name": person.name,
                "email": person.email,
                "time_zone": person.time_zone,
                "color": "purple",
                "role": _pd_role(person),
                "avatar_url": "https://pd-static-assets.pagerduty.com/users/blank-avatar.png",
                "description": "",
                "invitation_sent": False,
                "created_via_sso": True,
                "job_title": person.title,
                "teams": _team_refs(*teams),
                "contact_methods": [],
                "notification_rules": [],
            }
        )
    return sorted(users, key=lambda user: str(user["id"]))


# Weekly rotations hand over on the flagship day at 18:00 UTC (payments) or the day before
# at 09:00 UTC (platform); commanders follow the sun in 12-hour shifts.
def _rotations(today: date) -> dict[str, list[tuple[str, datetime, datetime]]]:
    week = timedelta(days=7)
    pay = at(today, 0, "18:00:00")
    plat = at(today, -1, "09:00:00")
    ic = at(today, 0, "00:00:00")
    half = timedelta(hours=12)
    return {
        "pay-primary": [("wei", pay - week, pay), ("jordan", pay, pay + week)],
        "pay-secondary": [("marta", pay - week, pay), ("wei", pay, pay + week)],
        "plat-primary": [("lena", plat - week, plat), ("isabel", plat, plat + week)],
        "ic": [
            (("arjun", "maya")[i % 2], ic + i * half, ic + (i + 1) * half) for i in range(-2, 6)
        ],
    }


def _schedule_ref(key: str) -> dict[str, object]:
    schedule_id, name, _, _ = PD_SCHEDULES[key]
    return _ref("schedule", schedule_id, name, "schedules")


def pd_oncalls(cast: Cast) -> list[dict[str, object]]:
    """Who was on call while the flagship was open (the `since`/`until` window)."""
    since, until = at(cast.today, 0, "20:00:00"), at(cast.today, 1, "17:00:00")
    oncalls = []
    for key, shifts in _rotations(cast.today).items():
        _, _, policy, level = PD_SCHEDULES[key]
        for handle, start, end in shifts:
            if start < until and end > since:
                oncalls.append(
                    {
                        "user": _user_ref(cast.person(handle)),
                        "schedule": _schedule_ref(key),
                        "escalation_policy": _ref(
                            "escalation_policy", *PD_POLICIES[policy], "escalation_policies"
                        ),
                        "escalation_level": level,
                        "start": _iso(start),
                        "end": _iso(end),
                    }
                )
    oncalls.append(
        {
            "user": _user_ref(cast.person("ben")),
            "schedule": None,
            "escalation_policy": _ref(
                "escalation_policy", *PD_POLICIES["platform"], "escalation_policies"
            ),
            "escalation_level": 2,
            "start": None,
            "end": None,
        }
    )
    return oncalls


def pd_schedules(cast: Cast) -> list[dict[str, object]]:
    schedules: list[dict[str, object]] = []
    for key, shifts in _rotations(cast.today).items():
        schedule_id, name, policy, _ = PD_SCHEDULES[key]
        people = list(dict.fromkeys(handle for handle, _, _ in shifts))
        entries = [
            {"start": _iso(s), "end": _iso(e), "user": _user_ref(cast.person(h))}
            for h, s, e in shifts
        ]
        turn = 43200 if key == "ic" else 604800
        zone = "Etc/UTC" if key == "ic" else "America/New_York"
        schedules.append(
            {
                "id": schedule_id,
                "type": "schedule",
                "summary": name,
                "self": f"{PD_API}/schedules/{schedule_id}",
                "html_url": f"{PD_SUBDOMAIN}/schedules/{schedule_id}",
                "name": name,
                "time_zone": zone,
                "description": f"{name} rotation",
                "escalation_policies": [
                    _ref("escalation_policy", *PD_POLICIES[policy], "escalation_policies")
                ],
                "users": [_user_ref(cast.person(h)) for h in people],
                "teams": _team_refs("payments" if policy == "payments" else "platform"),
                "schedule_layers": [
                    {
                        "id": "L" + schedule_id[1:],
                        "name": "Layer 1",
                        "start": entries[0]["start"],
                        "end": None,
                        "rotation_virtual_start": entries[0]["start"],
                        "rotation_turn_length_seconds": turn,
                        "users": [{"user": _user_ref(cast.person(h))} for h in people],
                        "restrictions": [],
                        "rendered_schedule_entries": entries,
                        "rendered_coverage_percentage": 100.0,
                    }
                ],
                "overrides_subschedule": {
                    "name": "Overrides",
                    "rendered_schedule_entries": [],
                    "rendered_coverage_percentage": 0,
                },
                "final_schedule": {
                    "name": "Final Schedule",
                    "rendered_schedule_entries": entries,
                    "rendered_coverage_percentage": 100.0,
                },
            }
        )
    return schedules


def write_pagerduty(target: Path, cast: Cast, written: list[Path]) -> None:
    page = {"limit": 100, "offset": 0, "more": False, "total": None}
    entries = pd_log_entries(cast)
    _write(target / "incident.json", _dump({"incident": pd_incident(cast)}), written)
    _write(target / "log_entries.json", _dump({"log_entries": entries, **page}), written)
    _write(target / "users.json", _dump({"users": pd_users(cast), **page}), written)
    _write(target / "oncalls.json", _dump({"oncalls": pd_oncalls(cast), **page}), written)
    _write(target / "schedules.json", _dump({"schedules": pd_schedules(cast), **page}), written)


# --------------------------------------------------------------------------- roster

ROSTER_COLUMNS = (
    "name",
    "email",
    "location",
    "title",
    "team",
    "manager",
    "startDate",
    "endDate",
    "timezone",
    "previousTeam",
    "teamChangeDate",
)


def roster_csv(org: DemoOrg) -> str:
    """The HR roster as a CSV export (manager by email, previous team by name)."""
    names = {team.slug: team.name for team in org.teams}
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(ROSTER_COLUMNS)
    for person in sorted(org.people, key=lambda p: p.name):
        previous = max(person.past_teams, key=lambda item: item[2], default=None)
        writer.writerow(
            [
                person.name,
                person.email,
                person.location,
                person.title,
                names[person.team],
                person.manager_email or "",
                person.start_date.isoformat(),
                person.end_date.isoformat() if person.end_date else "",
                person.time_zone,
                names[previous[0]] if previous else "",
                previous[2].isoformat() if previous else "",
            ]
        )
    return buffer.getvalue()


# --------------------------------------------------------------------------- transcripts

REVIEW_DAY = 9
REVIEW_CUES: tuple[tuple[str, str], ...] = (
    (
        "Sarah Cohen",
        "Okay, I think we have most people. Thanks for coming. This is the learning "
        "review for INC-$N, the payments timeouts on the twentieth.",
    ),
    (
        "Sarah Cohen",
        "Ground rules: we're here to understand how it made sense at the time, not "
        "to find someone to blame. Fixes and deep dives go to the parking lot.",
    ),
    (
        "Sarah Cohen",
        "I read both Slack channels and the PagerDuty log, and talked to six of you "
        "this week. I'll walk through the narrative, then the three themes you voted for.",
    ),
    (
        "Sarah Cohen",
        "At 20:25 UTC a config push raised Paylane retries from one to four. Six "
        "minutes later the ledger connection pool started to fill up.",
    ),
    (
        "Daniel Okafor",
        "Can I add some context? The retries were meant to wrap only the provider "
        "call. I really believed the ledger reservation happened after it.",
    ),
    (
        "Daniel Okafor",
        "And Priya asked exactly that in review, and I answered from memory "
        "instead of opening the file.",
    ),
    (
        "Priya Nair",
        "Which was a reasonable answer. I remembered the decorator being around "
        "there, but I didn't open the file either.",
    ),
    (
        "Sarah Cohen",
        "That's the first theme. The decorator sits on authorize_and_reserve, and "
        "nothing in the name tells you it holds a connection.",
    ),
    (
        "Tomás Herrera",
        "I wrote that client. The release-on-timeout gap has been in PAY-1882 for a year.",
    ),
    (
        "Sarah Cohen",
        "So the ticket existed and never reached the top of the queue. Rahul, what "
        "did that look like from planning?",
    ),
    (
        "Rahul Iyer",
        "It was ranked below the holiday features every cycle. We knew about it; it "
        "never looked urgent next to them.",
    ),
    (
        "Sarah Cohen",
        "The alert fired at 20:38. Jordan was on the subway, so it escalated to Wei "
        "at 20:48, almost five in the morning in Singapore.",
    ),
    ("Jordan Reyes", "No signal between stations. I had four missed calls when I came up."),
    (
        "Sarah Cohen",
        "Chloe had seen PoolTimeoutError in the logs at 20:40, in payments-eng, "
        "before anyone was paged.",
    ),
    (
        "Chloe Martin",
        "I wasn't sure it was abnormal, so I asked instead of paging. I'm three "
        "months in, I don't know yet what normal looks like.",
    ),
    (
        "Maya Thompson",
        "That message was the best early signal we had. Nobody on the response "
        "was reading that channel.",
    ),
    (
        "Sarah Cohen",
        "Three hypotheses were raised and ruled out in about fifteen minutes: "
        "Paylane, the edge-gw certificate and Kafka lag. Each fit the dashboards at the time.",
    ),
    ("Sam Oduya", "The certificate was mine. Same time window, so it was worth five minutes."),
    (
        "Sarah Cohen",
        "The rollback at 21:37 lowered the error rate but didn't end it, because "
        "connections already taken stayed idle in transaction.",
    ),
    (
        "Maya Thompson",
        "That's where the time went. We knew what was wrong by 21:51 and didn't "
        "know who could fix it safely.",
    ),
    (
        "Sarah Cohen",
        "Which is theme two: what we know about ledger's pgbouncer lives with one "
        "person, and she was not on call.",
    ),
    (
        "Lena Vogel",
        "I don't mind being called. I mind that I was the only option. The config "
        "isn't even in the repo, it's on the hosts.",
    ),
    (
        "Isabel Duarte",
        "I was Platform on call. I could run the commands, but I didn't know what "
        "the reserve pool was safe to set to.",
    ),
    (
        "Sarah Cohen",
        "Before that there was almost an hour where the incident channel was quiet "
        "while everyone was on the bridge.",
    ),
    (
        "Grace Kim",
        "From support that hour was the hardest part. Ninety tickets and nothing to "
        "tell merchants.",
    ),
    ("Maya Thompson", "Fair. I should have posted a summary before we went heads-down."),
    ("Sarah Cohen", "Let's not grade it. What would have made posting easier in that moment?"),
    (
        "Maya Thompson",
        "A scribe on the bridge. Chloe was taking notes in Slack, but the bridge had nobody.",
    ),
    (
        "Sarah Cohen",
        "Theme three: config pushes skip the canary. Every config change since the "
        "config service was built has gone straight to production.",
    ),
    (
        "Elena Marsh",
        "I'll own that one. We decided it when config changes were small, and nobody revisited it.",
    ),
    (
        "Jordan Reyes",
        "The rollback was fast because it was a config push, though. I don't want to lose that.",
    ),
    (
        "Sarah Cohen",
        "Good tension to keep. Parking lot: a canary for config, the pgbouncer "
        "config in the repo, a runbook for idle-in-transaction.",
    ),
    (
        "Tomás Herrera",
        "I can walk the payments team through the ledger client. I left the team "
        "eight months ago and I'm still the one who knows it.",
    ),
    ("", "yeah that would be great"),
    (
        "Sarah Cohen",
        "What went well: Lena had it mitigated within half an hour of joining, and "
        "the handoff to Arjun at half past one was clean.",
    ),
    (
        "Arjun Mehta",
        "The summary thread Maya left made the handoff easy. I'd like that to be the default.",
    ),
    (
        "Sarah Cohen",
        "Action items are in the doc with owners. I'll send a three-question survey after this.",
    ),
    ("Daniel Okafor", "Thanks for running this. It was easier to talk about than I expected."),
    ("Rahul Iyer", "And I'm sorry about my message in payments-eng that night. It didn't help."),
    ("Sarah Cohen", "Thanks everyone. The report draft goes out on Monday."),
)

ZOOM_CHAT: tuple[tuple[str, str, str], ...] = (
    (
        "00:01:12",
        "Grace Kim",
        "status page history: https://status.brightloop.example/incidents/7y2kq",
    ),
    ("00:02:05", "Sarah Cohen", "calibration doc: https://docs.brightloop.example/reviews/INC-$N"),
    ("00:06:48", "Jordan Reyes", "Wei sends his notes, it's midnight in Singapore"),
    ("00:09:30", "Chloe Martin", "the message was at 20:40:12 UTC if anyone wants the link"),
    ("00:15:51", "Lena Vogel", "PLAT-2291 is the pgbouncer config move"),
    ("00:19:02", "Elena Marsh", "+1 to keeping config rollbacks fast"),
    ("00:22:37", "Tomás Herrera", "I'll book the ledger client walkthrough for next Thursday"),
    ("00:24:10", "Priya Nair", "👍"),
    ("00:27:44", "Sarah Cohen", "survey: https://forms.brightloop.example/review-survey"),
)


def _vtt_time(seconds: float) -> str:
    millis = round(seconds * 1000)
    hours, rem = divmod(millis, 3_600_000)
    minutes, rem = divmod(rem, 60_000)
    secs, ms = divmod(rem, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}.{ms:03d}"


def review_vtt(number: int) -> str:
    """The review meeting as a Zoom cloud-recording transcript (speaker as `Name: ` prefix)."""
    rng = random.Random(20261029)
    blocks = ["WEBVTT"]
    start = 2.31
    for index, (speaker, text) in enumerate(REVIEW_CUES, start=1):
        body = text.replace("$N", str(number))
        length = max(1.2, len(body) / 15.5)
        end = start + length
        payload = f"{speaker}: {body}" if speaker else body
        blocks.append(f"{index}\n{_vtt_time(start)} --> {_vtt_time(end)}\n{payload}")
        start = end + rng.uniform(0.3, 9.0)
    return "\n\n".join(blocks) + "\n"


def zoom_chat(number: int) -> str:
    return "".join(
        f"{clock}\t{name}:\t{text.replace('$N', str(number))}\n" for clock, name, text in ZOOM_CHAT
    )


# --------------------------------------------------------------------------- the incident record


def _email(handle: str) -> str:
    return f"{HANDLES[handle]}@{DOMAIN}"


def _milestones(today: date) -> dict[str, datetime | None]:
    return {
        "started": at(today, 0, "20:31:00"),
        "detected": at(today, 0, "20:38:40"),
        "declared": at(today, 0, "20:56:30"),
        "acknowledged": at(today, 0, "20:51:10"),
        "mitigated": at(today, 1, "00:33:05"),
        "resolved": at(today, 1, "16:06:00"),
        "closed": at(today, 2, "18:00:00"),
    }


# (role, handle, start (day, clock), end (day, clock) or None)
ROLES: tuple[tuple[str, str, tuple[int, str], tuple[int, str] | None], ...] = (
    ("commander", "maya", (0, "20:57:48"), (1, "01:30:04")),
    ("commander", "arjun", (1, "01:30:04"), (1, "16:06:00")),
    ("communications lead", "grace", (0, "20:59:31"), (1, "16:06:00")),
    ("scribe", "chloe", (0, "21:00:20"), (1, "00:34:10")),
    ("responder", "wei", (0, "20:51:10"), (1, "05:02:11")),
    ("responder", "jordan", (0, "20:55:02"), (1, "16:06:00")),
    ("responder", "sam", (0, "21:05:21"), (0, "21:11:59")),
    ("responder", "nadia", (0, "21:08:11"), (0, "21:20:49")),
    ("responder", "priya", (0, "21:09:33"), (1, "16:06:00")),
    ("responder", "daniel", (0, "21:27:31"), (1, "16:06:00")),
    ("responder", "tomas", (0, "22:14:25"), (1, "09:42:18")),
    ("responder", "isabel", (0, "23:52:40"), (1, "00:33:05")),
    ("responder", "lena", (1, "00:03:12"), (1, "11:05:52")),
    ("investigator", "sarah", (1, "16:20:09"), None),
)

UPDATES: tuple[tuple[int, str, str, str, str], ...] = (
    (
        0,
        "21:38:05",
        "investigating",
        "grace",
        "We are investigating elevated payment failures. A recent change has been rolled back.",
    ),
    (
        0,
        "22:11:30",
        "identified",
        "grace",
        "Payments are failing for about 40% of checkouts in the US. Recovery after the rollback is "
        "partial; the team is releasing stuck database connections.",
    ),
    (
        0,
        "22:41:30",
        "identified",
        "grace",
        "Partial recovery: about 1 in 25 payments still fails. Next step is releasing database "
        "connections.",
    ),
    (
        0,
        "23:10:05",
        "identified",
        "grace",
        "No change: about 4% of payments failing. The team is working through options.",
    ),
    (
        1,
        "00:10:30",
        "identified",
        "grace",
        "A database specialist has joined and a fix is being prepared.",
    ),
    (
        1,
        "00:40:18",
        "monitoring",
        "grace",
        "Payments recovered at 00:33 UTC. We are monitoring. Merchants can retry failed payments.",
    ),
    (
        1,
        "16:06:00",
        "resolved",
        "arjun",
        "A permanent fix is deployed and has been stable through a traffic peak. Resolved.",
    ),
)

# (title, kind, owner, due in days after the flagship day, status, url)
ACTIONS: tuple[tuple[str, str, str, int, str, str], ...] = (
    (
        "Release the ledger connection on provider timeout",
        "recovery",
        "priya",
        1,
        "done",
        f"{JIRA}/PAY-1882",
    ),
    (
        "Scope the retry decorator to the provider call only",
        "prevention",
        "daniel",
        14,
        "in progress",
        f"{GH}/payments-api/pull/2324",
    ),
    (
        "Move ledger-pgbouncer configuration into the infra repository",
        "prevention",
        "lena",
        21,
        "in progress",
        f"{JIRA}/PLAT-2291",
    ),
    (
        "Run config pushes through a canary that spans a traffic peak",
        "prevention",
        "ben",
        45,
        "open",
        f"{JIRA}/PLAT-2298",
    ),
    (
        "Runbook: releasing idle-in-transaction connections on ledger",
        "learning",
        "isabel",
        14,
        "open",
        f"{JIRA}/PLAT-2299",
    ),
    (
        "Ledger client walkthrough for the payments team",
        "learning",
        "tomas",
        16,
        "open",
        f"{JIRA}/PAY-1907",
    ),
    (
        "Commander checklist: post a summary before moving to the bridge",
        "learning",
        "maya",
        7,
        "done",
        f"{JIRA}/PLAT-2301",
    ),
    (
        "Reconcile merchants with failed payments during the incident",
        "recovery",
        "grace",
        3,
        "done",
        f"{JIRA}/SUP-412",
    ),
)

REFERENCES: tuple[tuple[str, str, str], ...] = (
    ("github pr", f"{GH}/payments-api/pull/2317", "payments-api#2317 Raise Paylane retries to 4"),
    (
        "github pr",
        f"{GH}/payments-api/pull/2321",
        "payments-api#2321 Release ledger connection on provider timeout",
    ),
    ("github pr", f"{GH}/payments-api/pull/2324", "payments-api#2324 Retry only the provider call"),
    ("github pr", f"{GH}/infra/pull/884", "infra#884 ledger-pgbouncer config in the repository"),
    (
        "github commit",
        f"{GH}/payments-api/commit/9f3c2e1b7a4d6058c1e2f3a4b5c6d7e8f9a0b1c2",
        "Rollback of retry-policy to v41",
    ),
    ("jira", f"{JIRA}/PAY-1882", "PAY-1882 Ledger client does not release connection on timeout"),
    ("jira", f"{JIRA}/PLAT-2291", "PLAT-2291 Revert temporary pgbouncer reserve pool"),
    ("dashboard", f"{GRAFANA}/pay1api/payments-api-overview", "payments-api overview"),
    ("dashboard", f"{GRAFANA}/pgb7ldg/ledger-pgbouncer", "ledger pgbouncer pools"),
)

CUSTOMER_IMPACT = (
    "From 20:31 to 00:33 UTC a growing share of card payments failed with timeouts: up to 42% "
    "of US checkouts around 22:00 UTC and about 4% after 22:40. Roughly 11,800 payment "
    "attempts failed and merchants opened 96 support tickets."
)


def build_flagship_incident(number: int, people: Iterable[DemoPerson], today: date) -> DemoIncident:
    """The flagship as a tracked incident; `people` must contain the cast."""
    known = {person.email for person in people}
    missing = sorted({_email(h) for h in HANDLES} - known)
    if missing:
        raise ValueError(f"flagship cast missing from the organisation: {missing}")
    day0 = flagship_day(today)
    return DemoIncident(
        number=number,
        title=TITLE,
        summary=(
            "A config push raised payment-provider retries from one to four. Each retry held a "
            "ledger database connection, the pool ran out and payments timed out. The rollback "
            "helped only partly: connections stayed idle in transaction until a database "
            "engineer, paged off call at 2am her time, released them."
        ),
        severity="SEV1",
        status="closed",
        type="default",
        private=False,
        services=("payments-api", "ledger", "checkout-api"),
        teams=("payments", "platform", "checkout"),
        tags=("config-change", "retry", "database", "pool", "severity-upgrade"),
        customer_impact=CUSTOMER_IMPACT,
        milestones=_milestones(today),
        roles=tuple(
            DemoRole(role, _email(handle), at(today, *start), at(today, *end) if end else None)
            for role, handle, start, end in ROLES
        ),
        updates=tuple(
            DemoUpdate(at(today, day, clock), status, body, _email(handle))
            for day, clock, status, handle, body in UPDATES
        ),
        action_items=tuple(
            DemoActionItem(title, kind, _email(owner), day0 + timedelta(days=due), status, url)
            for title, kind, owner, due, status, url in ACTIONS
        ),
        references=tuple(DemoReference(kind, url, title) for kind, url, title in REFERENCES),
        problem="PRB-101",
        flagship=True,
        impacts=((at(today, 0, "20:31:00"), at(today, 1, "00:33:05")),),  # CUSTOMER_IMPACT
    )


# --------------------------------------------------------------------------- files

README = """# Flagship demo incident: raw evidence

Fictional data. Brightloop, its people, services and incidents do not exist; every name,
address, id and token here was generated by `python -m afteraction.demo.flagship` and is
committed so importers can be demonstrated (and tested) on files in real formats.
Regenerate with that command; a test fails when these files drift from the generator.

Incident INC-$N, "$TITLE" (SEV2 upgraded to SEV1), $DAY.

- `slack/users.json` (Slack export users.json): everyone in the organisation, the incident
  bot and a deleted bot; the person who left the company is `deleted: true`.
- `slack/channels.json` (Slack export channels.json): `#$CHANNEL` (the incident channel) and
  `#payments-eng` (the owning team's channel).
- `slack/<channel>/<YYYY-MM-DD>.json` (Slack export day files, bucketed by UTC day): joins
  (invited and self-joined), topic changes, threads, reactions, edits, an uploaded file whose
  URLs carry a `?t=xoxe-` token, Alertmanager and deploy bot posts without `user`.
- `pagerduty/incident.json` (`GET /incidents/{id}`): the PagerDuty incident.
- `pagerduty/log_entries.json` (`GET /incidents/{id}/log_entries`): trigger, notifications,
  escalation (with `escalation_level`), acknowledgements, manual assignments, notes, resolve.
- `pagerduty/users.json` (`GET /users`): PagerDuty users.
- `pagerduty/oncalls.json` (`GET /oncalls` over the incident window): who was on call, per
  escalation level.
- `pagerduty/schedules.json` (`GET /schedules` with rendered entries): rotations around the
  incident.
- `roster.csv` (HR roster): name, email, location, title, team, manager (email), start and
  end dates, time zone, previous team and the date they left it.
- `transcripts/review-meeting.vtt` (Zoom cloud-recording WebVTT): the learning review meeting
  on $REVIEW, speakers as `Name: ` prefixes, one cue unattributed.
- `transcripts/zoom-chat.txt` (Zoom chat export): chat from the same meeting.

The mention `<@$GUEST>` is a Slack Connect guest from the payment provider and is
deliberately absent from `users.json`.
"""


def readme(cast: Cast) -> str:
    values = {
        "$N": str(cast.number),
        "$TITLE": TITLE,
        "$DAY": flagship_day(cast.today).isoformat(),
        "$CHANNEL": cast.channel_name,
        "$REVIEW": (flagship_day(cast.today) + timedelta(days=REVIEW_DAY)).isoformat(),
        "$GUEST": PAYLANE_GUEST_ID,
    }
    text = README
    for name, value in values.items():
        text = text.replace(name, value)
    return text


def flagship_of(org: DemoOrg) -> DemoIncident:
    return next(incident for incident in org.incidents if incident.flagship)


def write_flagship_evidence(target_dir: Path, org: DemoOrg) -> list[Path]:
    """Write every evidence file of the flagship under `target_dir`; return their paths."""
    incident = flagship_of(org)
    started = incident.milestones["started"]
    assert started is not None
    today = started.date() + timedelta(days=FLAGSHIP_DAYS_AGO)
    cast = Cast(org, incident.number, today)
    written: list[Path] = []
    _write(target_dir / "README.md", readme(cast), written)
    write_slack(target_dir / "slack", cast, written)
    write_pagerduty(target_dir / "pagerduty", cast, written)
    _write(target_dir / "roster.csv", roster_csv(org), written)
    _write(target_dir / "transcripts" / "review-meeting.vtt", review_vtt(cast.number), written)
    _write(target_dir / "transcripts" / "zoom-chat.txt", zoom_chat(cast.number), written)
    return sorted(written)


DEFAULT_TARGET = Path(__file__).resolve().parent / "evidence" / "flagship"


def main(argv: list[str] | None = None) -> int:
    from afteraction.demo.generate import build_org

    args = sys.argv[1:] if argv is None else argv
    target = Path(args[0]) if args else DEFAULT_TARGET
    paths = write_flagship_evidence(target, build_org())
    sys.stdout.write(f"wrote {len(paths)} files under {target}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
