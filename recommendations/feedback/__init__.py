"""What members do with recommendations and courses, recorded: impressions, clicks,
dismissals and their undo (`services`), the reads behind the dismissed list and the click
redirect (`selectors`), the events API's batches (`events`) and the interactions CSV import
(`imports`), with the per-day and per-reason counts the homepage reads.
"""
