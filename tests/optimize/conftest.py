from __future__ import annotations

import pytest

from tests.conftest import PRICING_DIR
from tokopt import pricing


@pytest.fixture(scope="module")
def catalog() -> pricing.Catalog:
    return pricing.load_catalog(PRICING_DIR)
