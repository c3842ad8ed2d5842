"""tradecore-runpod: run tradecore experiments on RunPod GPU pods under budget guards (REST API v2)."""

__version__ = "0.1.0"
