"""tradecore-talib: every TA-Lib function as a tradecore indicator named ``talib-<function>``."""

__version__ = "0.1.0"
