"""Serving a homepage: the process's state (the active run's snapshot and ranker,
`state`), the page's entry points and stages (`home_page`, `inputs`, `reasons`, `carousels`,
`rerank`), the stored next page (`stored_pages`), the pending-impressions lock (`pending`), the
writes deferred past the response (`deferred`), the cards as HTML (`rendering`) and similar
courses (`similar`). A page view reads stored rows and does numpy work over the snapshot.
"""
