import pytest

from tests.privacy import world as w


@pytest.fixture
def world(db):
    return w.build()
