from django.db import migrations


class Migration(migrations.Migration):
    """`HuggingFaceMetadata` named one of four things called metadata: it holds upstream's
    remembered answers (revisions, metadata API answers, repo info records)."""

    dependencies = [
        ("hugging_face", "0003_refs_commits_and_includes"),
    ]

    operations = [
        migrations.RenameModel("HuggingFaceMetadata", "HuggingFaceRememberedAnswer"),
    ]
