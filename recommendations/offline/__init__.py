"""Measuring the recommendations offline: the active run against a held-out split or a test
file (`evaluation`), the benchmark behind `make bench` (`benchmark`), and the simulated A/B test
on the demo generator's hidden preferences (`simulation`).
"""
