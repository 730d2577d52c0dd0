"""Scripts the Makefile runs that are not tests: `make loadtest` (tools/load/) and `make faults`
(tools/faults/). Not packaged; tests may import them, they never import tests."""
