"""Functional tests: the live stack, the fake Hub, PulpApi and the factories come from
pulp_hugging_face.pytest_plugin (a pytest11 entry point). Fixtures shared by several test
files of this folder only are here."""
