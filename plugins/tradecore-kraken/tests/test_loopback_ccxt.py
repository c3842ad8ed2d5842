"""The loopback server speaks Kraken's wire format to the real ccxt.kraken class."""

from __future__ import annotations

import ccxt
import pytest
from tradecore_kraken.loopback import OHLC_LIMIT


def kraken(server, timeout=2000):
    return ccxt.kraken(
        {"urls": {"api": {"public": server.url, "private": server.url}}, "enableRateLimit": False, "timeout": timeout}
    )


def test_markets_ohlc_and_trades_cursor(server):
    ex = kraken(server)
    ex.load_markets()
    assert ex.market("BTC/USD")["id"] == "XXBTZUSD"
    assert server.counts["Assets"] == 1 and server.counts["AssetPairs"] == 1
    candles = ex.fetch_ohlcv("BTC/USD", "1m")
    assert len(candles) == OHLC_LIMIT
    assert candles[-1][0] == (server.now_s - server.now_s % 60) * 1000  # the bar in progress comes last
    page = ex.publicGetTrades({"pair": "XXBTZUSD", "since": str(server.start_s * 10**9)})["result"]
    rows, last = page["XXBTZUSD"], page["last"]
    assert len(rows) == 1000 and isinstance(last, str) and len(last) == 19
    nxt = ex.publicGetTrades({"pair": "XXBTZUSD", "since": last})["result"]["XXBTZUSD"]
    assert nxt[0][2] >= rows[-1][2] and nxt[0][6] == rows[-1][6] + 1  # no trade skipped or repeated
    unified = ex.fetch_trades("BTC/USD", since=server.start_s * 1000)
    assert unified[-1]["info"][-1] == str(server.tapes["XXBTZUSD"].time_ns[999])  # ccxt appends the cursor


@pytest.mark.parametrize(
    ("kind", "error"),
    [
        ("http429", ccxt.RateLimitExceeded),
        ("http502", ccxt.ExchangeNotAvailable),
        ("http503", ccxt.ExchangeNotAvailable),
        ("rate_limit", ccxt.DDoSProtection),
        ("unavailable", ccxt.ExchangeNotAvailable),
        ("timeout", ccxt.RequestTimeout),
    ],
)
def test_faults_map_to_ccxt_network_errors(server, kind, error):
    ex = kraken(server, timeout=300)
    ex.load_markets()
    server.faults.rate, server.faults.kinds, server.faults.timeout_s = 1.0, (kind,), 0.5
    with pytest.raises(error):
        ex.publicGetTrades({"pair": "XXBTZUSD", "since": str(server.start_s * 10**9)})


def test_malformed_body_reaches_the_caller_as_text(server):
    """ccxt hands a truncated JSON body back as a string: fetch_trades would read it as 'no trades'."""
    ex = kraken(server)
    ex.load_markets()
    server.faults.rate, server.faults.kinds = 1.0, ("malformed",)
    assert isinstance(ex.publicGetTrades({"pair": "XXBTZUSD"}), str)
    assert ex.fetch_trades("BTC/USD") == []


def test_unknown_pair_and_bad_interval(server):
    ex = kraken(server)
    ex.load_markets()
    with pytest.raises(ccxt.BadSymbol):
        ex.fetch_trades("DOGE/USD")
    with pytest.raises(ccxt.BadRequest):
        ex.publicGetOHLC({"pair": "XXBTZUSD", "interval": 7})
    with pytest.raises(ccxt.ExchangeError):
        ex.publicGetTrades({"pair": "NOPE"})
