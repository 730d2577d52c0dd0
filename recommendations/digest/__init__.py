"""The weekly recommendations email: which members get one this week, what it shows (the
homepage's own carousels and explanations, minus what the last digest showed), sending it once
per member and week, and its signed links (a course click, unsubscribe)."""
