"""The Gymnasium trading environment. Importing this package stays light (no gymnasium import)."""
