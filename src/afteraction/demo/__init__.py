"""The demo: a fictional organisation, two years of incident history and one richly
documented flagship incident, kept as data files in the package and loaded through the
product's own importers and services.

Data (`data/`): the organisation (`org.yaml`), the vocabulary of the generated history
(`history.yaml`), the service levels (`service_levels.yaml`), the flagship's record and
analysis with the claims its story makes (`flagship/`); its raw evidence in real formats
(`evidence/flagship/`: Slack export, PagerDuty REST responses, HR roster, review-meeting
transcript and chat). Code: `story` reads and checks the data files into the plain records
of `model`, `generate.build_org` adds the seeded history, `flagship` reads the flagship,
`evidence_shift` moves its evidence to the day the demo is built for, `load`, `analysis` and
`service_levels` write it all to a database.
"""
