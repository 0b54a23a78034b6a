from pulpcore.plugin import PulpPluginAppConfig


class HuggingFacePluginAppConfig(PulpPluginAppConfig):
    """Entry point for the pulp_hugging_face plugin."""

    name = "pulp_hugging_face.app"
    label = "hugging_face"
    version = "0.1.0.dev0"
    python_package_name = "pulp-hugging-face"
    domain_compatible = True

    def ready(self):
        super().ready()
        from .cache import connect_signals

        connect_signals()
