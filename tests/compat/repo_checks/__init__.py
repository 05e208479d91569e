"""Per-repository footprints and testinfra checks for tests/compat/test_repos_lab.py."""
