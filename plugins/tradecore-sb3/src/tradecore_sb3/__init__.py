"""tradecore-sb3: the ``sb3`` trainer (Stable-Baselines3 and sb3-contrib algorithms) for tradecore."""

__version__ = "0.1.0"
