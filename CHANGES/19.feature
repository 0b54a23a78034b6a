huggingface.js (`@huggingface/hub`) and huggingface_hub 0.36 with hf_transfer work through a
distribution as against the Hub: `paths-info` takes JSON bodies as well as forms, `/raw/`
answers git's view of a file (an LFS file's pointer, made from its sha256 and size),
`revision/HEAD` resolves as on the Hub (also from a pinned version), and repo info is kept per
commit and answers every `expand` selection, so a fresh client asking by commit or with its own
fields is answered with the Hub down. The functional suite runs all three clients through the
same scenarios; docs/index.md lists them.
