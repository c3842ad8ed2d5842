"""Built-in standard indicators: specs only (params: tradecore.features.params, code: tradecore.features.standard)."""

from __future__ import annotations

from tradecore.hookspecs import hookimpl

#: name -> (params model, Indicator class in tradecore.features.standard, output columns, description)
STANDARD = {
    "returns": ("ReturnsParams", "Returns", ("returns",), "Simple return over `period` bars (TA-Lib ROCP)"),
    "log_returns": ("ReturnsParams", "LogReturns", ("log_returns",), "Log return over `period` bars"),
    "sma": ("MovingAverageParams", "SMA", ("sma",), "Simple moving average (TA-Lib SMA)"),
    "ema": ("EmaParams", "EMA", ("ema",), "Exponential moving average seeded with the SMA (TA-Lib EMA)"),
    "wma": ("MovingAverageParams", "WMA", ("wma",), "Linearly weighted moving average (TA-Lib WMA)"),
    "rsi": ("RsiParams", "RSI", ("rsi",), "Relative strength index, Wilder smoothing (TA-Lib RSI)"),
    "macd": ("MacdParams", "MACD", ("macd", "signal", "hist"), "MACD line, signal and histogram (TA-Lib MACD seeding)"),
    "atr": ("AtrParams", "ATR", ("atr",), "Average true range, Wilder smoothing (TA-Lib ATR)"),
    "bbands": (
        "BollingerParams",
        "BollingerBands",
        ("upper", "middle", "lower"),
        "Bollinger Bands: SMA +/- nbdev population std (TA-Lib BBANDS)",
    ),
    "volatility": (
        "VolatilityParams",
        "Volatility",
        ("volatility",),
        "Rolling standard deviation of 1-bar log returns of the close",
    ),
    "zscore": ("ZScoreParams", "ZScore", ("zscore",), "(price - SMA) / population std over the same window"),
    "vwap": ("VwapParams", "VWAP", ("vwap",), "Rolling volume-weighted average of the typical price (H+L+C)/3"),
    "obv": ("ObvParams", "OBV", ("obv",), "On-balance volume (TA-Lib OBV)"),
    "stoch": ("StochParams", "Stochastic", ("k", "d"), "Stochastic oscillator slow %K and %D (TA-Lib STOCH)"),
    "adx": ("AdxParams", "ADX", ("adx",), "Average directional index (TA-Lib ADX)"),
    "time": (
        "TimeFeatureParams",
        "TimeFeatures",
        ("hour_sin", "hour_cos", "dow_sin", "dow_cos"),
        "Hour of day and day of week (UTC) as sin/cos",
    ),
}


#: name -> (class in tradecore.features.cross_asset, description): features across a portfolio's assets
CROSS_ASSET = {
    "basket_return": ("BasketReturn", "Portfolio only: log return of the equal-weight basket over `period` bars"),
    "relative_strength": (
        "RelativeStrength",
        ("Portfolio only: the asset's log return over `period` minus the basket's"),
    ),
    "basket_correlation": (
        "BasketCorrelation",
        "Portfolio only: rolling correlation of the asset's 1-bar log returns with the basket's",
    ),
}


@hookimpl
def tradecore_indicators():
    from tradecore.features import params as models
    from tradecore.specs import IndicatorSpec

    for name, (model, cls, columns, description) in STANDARD.items():
        yield IndicatorSpec(
            name=name,
            description=description,
            params=getattr(models, model),
            factory=f"tradecore.features.standard:{cls}",
            meta={"columns": list(columns)},
        )
    for name, (cls, description) in CROSS_ASSET.items():  # portfolio only (env.type "portfolio")
        yield IndicatorSpec(
            name=name,
            description=description,
            params=models.CrossAssetParams,
            factory=f"tradecore.features.cross_asset:{cls}",
            meta={"columns": ["value"], "cross_asset": True},
        )
