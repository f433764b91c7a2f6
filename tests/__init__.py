"""The template's tests."""

import pytest

# A fixture plugin of the image tests (pytest_plugins): rewrite its asserts too.
pytest.register_assert_rewrite("tests.image_job")
