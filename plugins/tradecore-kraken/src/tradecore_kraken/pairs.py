"""Kraken pair names: dump altnames (XBTUSD, XBTUSDC) and ccxt symbols (BTC/USD, BTC/USDC), both ways."""

from __future__ import annotations

import re

from tradecore.api import TradecoreError

#: Kraken's own asset codes that ccxt renames (ccxt ``commonCurrencies`` for Kraken)
KRAKEN_TO_COMMON = {
    "XBT": "BTC",
    "XDG": "DOGE",
    "XETC": "ETC",
    "XETH": "ETH",
    "XLTC": "LTC",
    "XXBT": "BTC",
    "XXDG": "DOGE",
    "XXLM": "XLM",
    "XXMR": "XMR",
    "XXRP": "XRP",
    "XZEC": "ZEC",
    "ZUSD": "USD",
    "ZEUR": "EUR",
    "ZGBP": "GBP",
    "ZCAD": "CAD",
    "ZJPY": "JPY",
    "ZAUD": "AUD",
    "ZCHF": "CHF",
    "REPV1": "REP",
}
COMMON_TO_KRAKEN = {"BTC": "XBT", "DOGE": "XDG"}
#: quote currencies, longest first so XBTUSDC splits as XBT + USDC, not XBTUS + DC
QUOTES = sorted(
    ["USD", "EUR", "GBP", "CAD", "JPY", "AUD", "CHF", "USDT", "USDC", "DAI", "PYUSD", "XBT", "ETH", "DOT", "AED"],
    key=len,
    reverse=True,
)
SYMBOL_PATTERN = re.compile(r"^[A-Z0-9]{1,16}/[A-Z0-9]{1,16}$")
#: Kraken OHLCVT dump file name: <ALTNAME>_<minutes>.csv
DUMP_FILE = re.compile(r"^([A-Z0-9]{4,20})_([0-9]{1,5})\.csv$", re.IGNORECASE)


class PairError(TradecoreError):
    """A pair name that cannot be a ccxt symbol or a Kraken altname."""


def check_symbol(symbol: str) -> str:
    """Return ``symbol`` if it looks like a ccxt spot symbol (also keeps it from forming paths)."""
    if not isinstance(symbol, str) or not SYMBOL_PATTERN.match(symbol):
        raise PairError(f"symbol {symbol!r} is not a ccxt symbol: use BASE/QUOTE in capitals, e.g. BTC/USD")
    return symbol


def common_code(code: str) -> str:
    return KRAKEN_TO_COMMON.get(code, code)


def altname_to_symbol(altname: str) -> str:
    """``XBTUSD -> BTC/USD``, ``XBTUSDC -> BTC/USDC``, ``XDGUSD -> DOGE/USD``, ``XXBTZUSD -> BTC/USD``."""
    name = altname.upper()
    if len(name) == 8 and name[0] in "XZ" and name[4] in "XZ":  # legacy pair ids such as XXBTZUSD
        return f"{common_code(name[:4])}/{common_code(name[4:])}"
    for quote in QUOTES:
        if name.endswith(quote) and len(name) > len(quote):
            return check_symbol(f"{common_code(name[: -len(quote)])}/{common_code(quote)}")
    raise PairError(f"cannot split Kraken pair {altname!r} into base and quote; name the symbol explicitly")


def symbol_to_altname(symbol: str) -> str:
    """``BTC/USD -> XBTUSD`` (the name Kraken's dump files use)."""
    return dump_altname(check_symbol(symbol))


def dump_altname(pair: str) -> str:
    """``BTC/USD -> XBTUSD`` for any stored pair name, unchecked (a ccxt settle suffix ``:USD`` is dropped)."""
    base, _, quote = pair.partition("/")
    quote = quote.split(":")[0]
    return COMMON_TO_KRAKEN.get(base, base) + COMMON_TO_KRAKEN.get(quote, quote)
