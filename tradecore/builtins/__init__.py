"""Built-in plugins, registered through the core's own entry points like any other plugin."""
