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
        from django.db.models.signals import post_delete

        from .cache import connect_signals
        from .models import HuggingFaceDistribution
        from .retention import drop_cache_repository

        connect_signals()
        post_delete.connect(
            drop_cache_repository, sender=HuggingFaceDistribution, dispatch_uid="hf-cache-repo"
        )
