"""tradecore-kraken: Kraken (and any ccxt exchange) market data for tradecore's lake."""

__version__ = "0.1.0"
