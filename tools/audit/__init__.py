"""`make audit-latest`: the dependency audit from PyPI's project JSON."""
