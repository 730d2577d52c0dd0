"""People to learn with: member-to-member suggestions among discoverable members (training,
the stored rows, serving with reasons, the page views, clicks and hides). See the app README."""
