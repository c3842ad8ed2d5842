"""tradecore-example-plugin: a template for third-party tradecore plugins."""

__version__ = "0.1.0"
