"""The synthetic source as a member of a correlated basket: distinct, correlated, reproducible pairs."""

from __future__ import annotations

import numpy as np

from tradecore.data.synthetic import SyntheticParams, generate_candles


def closes(symbols, **kw):
    params = {"bars": 3000, "seed": 5, "correlation": 0.6, **kw}
    return np.array(
        [
            generate_candles(SyntheticParams(symbol=s, asset_index=i, **params))["close"].to_numpy()
            for i, s in enumerate(symbols)
        ]
    )


def test_basket_members_are_distinct_correlated_and_reproducible():
    c = closes(["AAA/USD", "BBB/USD", "CCC/USD"])
    r = np.diff(np.log(c), axis=1)
    corr = np.corrcoef(r)[np.triu_indices(3, 1)]
    assert ((corr > 0.4) & (corr < 0.8)).all()
    assert len({round(float(p), 6) for p in c[:, 0]}) == 3  # own price levels
    np.testing.assert_array_equal(c, closes(["AAA/USD", "BBB/USD", "CCC/USD"]))
    # a member depends on its place, not on which others are in the basket
    np.testing.assert_array_equal(c[:2], closes(["AAA/USD", "BBB/USD"]))
    assert not np.array_equal(closes(["AAA/USD"], correlation=0.0)[0], c[0])
