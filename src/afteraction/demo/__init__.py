"""The demo: a fictional organisation, two years of incident history and one richly
documented flagship incident, kept as data files in the package and loaded through the
product's own importers and services.

Data (`data/`): the organisation (`org.yaml`), the vocabulary of the generated history
(`history.yaml`), the flagship's record and analysis (`flagship/`); its raw evidence in real
formats (`evidence/flagship/`: Slack export, PagerDuty REST responses, HR roster,
review-meeting transcript and chat). Code: `story` reads and checks the data files into the
plain records of `model`, `generate.build_org` adds the seeded history, `flagship` reads the
flagship, `load` and `analysis` write it all to a database.
"""
