from catalog.models import Course


def test_level_label_is_the_level_display_for_every_level():
    for level in Course.Level.values:
        course = Course(level=level)
        assert course.level_label == course.get_level_display()
    assert Course(level="advanced").level_label == "Advanced"


def test_an_unknown_level_labels_itself_as_get_level_display_does():
    course = Course(level="expert")
    assert course.level_label == course.get_level_display() == "expert"
