"""tradecore-ray: sweeps and independent runs as Ray Tune trials, on a local Ray or an existing cluster."""

__version__ = "0.1.0"
