"""`make faults`: the fault drills."""
