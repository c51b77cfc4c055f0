"""Pure domain: entities, lifecycle rules, metrics math and analysis.

Only the standard library and numpy (for array math) may be imported here (an import-linter
contract enforces it), so every rule is a pure function that tests run without a database
or network.
"""
