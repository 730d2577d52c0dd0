"""Scripts the Makefile runs that are not tests: `make loadtest` (tools/load/), `make faults`
(tools/faults/) and `make audit-latest` (tools/audit/). Not packaged; tests may import them,
they never import tests."""
