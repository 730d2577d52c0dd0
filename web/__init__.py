"""The pages and operations that compose several apps.

The homepage (the member's recommendations and the visitor's), the course page (the course, the
member's activity on it, similar courses), the skill merge that must move both catalog and
members rows, and the skills changelist's member counts. The top layer: it imports catalog,
members and recommendations, and nothing imports it.
"""
