"""One retrain, in the order it runs: read the activity into arrays (`activity`,
`table_arrays`), build the rules snapshot (`rules`), learn and evaluate the models (`learned`),
store the artifacts (`artifacts`), activate the run (`runs`), and precompute every member's row
(`precompute`). A failed run leaves the previous one serving.
"""
