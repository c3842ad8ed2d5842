"""ppo-fast: a native batched PPO trainer for tradecore (the algorithm in :mod:`tradecore_ppo.ppo`)."""

__version__ = "0.1.0"
