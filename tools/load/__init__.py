"""`make loadtest`: the load test, and the process plumbing the fault drills share."""
