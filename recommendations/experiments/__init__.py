"""A/B experiments on the homepage.

A member's variant is fixed by a hash of the experiment key and the member id and stored on
first exposure (`assignment`), so it never changes during the experiment even if an admin edits
the weights later; serving computes only the assigned variant's strategy
(`serving.home_page.home_page_serve`). Every impression and click carries the variant, and the
results compare each variant with the control (`results`): click-through per impression,
engaged learners and enrolments per impression, each with a Wilson interval and a
two-proportion z-test.
"""
