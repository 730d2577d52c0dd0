"""The learned ranker, which orders the cards inside each homepage carousel.

Training (inside a retrain): every impression of the last RANKER_WINDOW_DAYS is an example,
positive when it was clicked or the member enrolled in the course within
RANKER_ENROL_WINDOW_HOURS; negatives may be down-sampled and never-shown random courses
injected (`examples`). Features are built in bulk from the run's snapshot, the members' skills,
the activity arrays and the members' stored learned rows (`features`); the split is by time and
the engine fits the global and mixed models (`training`); the run stores both and their offline
AUCs. Serving: the same features for the few dozen cards of one page and one dot product per
card (`serving`).
"""
